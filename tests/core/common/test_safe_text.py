"""core.safe_text and widgets.plain: every control character becomes a printable escape."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from virttui.core.common.safe_text import escape_char, has_unsafe, split_visible, visible
from virttui.core.domain.xml_parse import parse_domain_xml
from virttui.widgets.common.plain import ESCAPE_STYLE, append_plain, plain

CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]


def _printable(text: str) -> bool:
    return all(0x20 <= ord(c) < 0x7F or ord(c) > 0x9F for c in text)


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_c0_c1_and_del_becomes_a_printable_escape(char: str) -> None:
    shown = visible(f"a{char}b")
    assert shown.startswith("a\\") and shown.endswith("b")
    assert _printable(shown)
    # It takes the cells it seems to take: one per character.
    assert cell_len(shown) == len(shown)


def test_named_escapes() -> None:
    assert visible("\x1b[31mred") == "\\e[31mred"
    assert visible("a\tb\nc\rd") == "a\\tb\\nc\\rd"
    assert visible("\x9b2J\x7f\x07\x08\x00") == "\\x9b2J\\x7f\\a\\b\\0"
    assert visible("rtl\u202eevil\u2028x") == "rtl\\u202eevil\\u2028x"


def test_multiline_keeps_newlines_only() -> None:
    assert visible("one\x1b\ntwo\t", multiline=True) == "one\\e\ntwo\\t"


def test_safe_text_is_unchanged() -> None:
    for text in ("", "web-01", "[@click=app.quit]x", "Win10 [x64].iso", "数据库-🚀", "a\\eb"):
        assert visible(text) == text
        assert not has_unsafe(text)


def test_split_visible_marks_escapes() -> None:
    assert list(split_visible("a\x1bb\x9b")) == [
        ("a", False),
        ("\\e", True),
        ("b", False),
        ("\\x9b", True),
    ]
    assert escape_char("\x85") == "\\x85"


def test_plain_text_is_literal_and_styles_escapes() -> None:
    text = plain("[b]x[/b] \x1b[31m", "bold")
    assert text.plain == "[b]x[/b] \\e[31m"
    escaped = [span for span in text.spans if span.style == ESCAPE_STYLE]
    assert [text.plain[s.start : s.end] for s in escaped] == ["\\e"]
    target = plain("name: ")
    append_plain(target, "c1\x9b")
    assert target.plain == "name: c1\\x9b"


def test_domain_xml_with_control_characters_libvirt_keeps_still_parses() -> None:
    """libvirt stores an ESC set through virDomainSetMetadata and writes it into XMLDesc (not
    well-formed XML 1.0): the parser shows it as an escape instead of failing."""
    xml = (
        "<domain type='test'><name>vm</name><uuid>00000000-0000-0000-0000-000000000001</uuid>"
        "<title>esc\x1b[31mred</title><description>d\x1b]0;x</description>"
        "<memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
    )
    definition = parse_domain_xml(xml)
    assert definition.title == "esc\\e[31mred"
    assert definition.description == "d\\e]0;x"
