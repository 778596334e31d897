"""The VNC display's keyboard layout, read from QEMU's keymap files: which modifiers a character
needs as RFB key events; legacy keysyms for characters beyond Latin-1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from virttui.core.console.graphics import vnc_keymap
from virttui.core.console.keyboard_layout import (
    XK_ALT_R,
    XK_ISO_LEVEL3_SHIFT,
    XK_SHIFT_L,
    keysym_tables,
    load_layout,
    parse_keymap,
    unicode_keysym,
)
from virttui.core.console.keysyms import key_keysyms, paste_plan, text_keysyms

ROOT = Path(__file__).parents[3]
QEMU_KEYMAPS = Path("/usr/share/qemu/keymaps")
KEYSYMDEF = Path("/usr/include/X11/keysymdef.h")


def test_unicode_keysyms() -> None:
    assert unicode_keysym(ord("a")) == 0x61
    assert unicode_keysym(0xE9) == 0xE9  # Latin-1: the code point
    assert unicode_keysym(0x20AC) == 0x20AC  # EuroSign
    assert unicode_keysym(0x0436) == 0x06D6  # Cyrillic_zhe
    assert unicode_keysym(0x03B1) == 0x07E1  # Greek_alpha
    assert unicode_keysym(0x0531) == 0x01000531  # Armenian: only the Unicode keysym
    assert unicode_keysym(0x1F600) == 0x0101F600
    by_name, _legacy = keysym_tables()
    assert by_name["exclam"] == 0x21 and by_name["adiaeresis"] == 0xE4
    assert by_name["Cyrillic_zhe"] == 0x06D6


def test_parse_keymap_modifiers_include_and_odd_lines() -> None:
    included = {"common": "Escape 0x01\nslash 0x35\n"}
    text = """
# a comment
include common
map 0x407
exclam 0x02 shift
exclam 0x4f numlock
slash 0x08 shift
at 0x10 altgr
at 0x03 shift altgr
bar 0x56 shift altgr
a 0x1e addupper
KP_1 0x4f numlock
nosuchkeysym 0x10
ISO_Level3_Shift 0xb8
"""
    layout = parse_keymap("test", text, included.get)
    assert layout.modifiers(0x21) == (XK_SHIFT_L,)  # the numlock entry is skipped
    assert layout.modifiers(ord("/")) == ()  # the included "slash 0x35" needs none
    assert layout.modifiers(ord("@")) == (XK_ISO_LEVEL3_SHIFT,)  # the fewest modifiers
    assert layout.modifiers(ord("|")) == (XK_SHIFT_L, XK_ISO_LEVEL3_SHIFT)
    assert layout.modifiers(ord("a")) == () and layout.modifiers(ord("A")) == (XK_SHIFT_L,)
    assert layout.modifiers(0xFF1B) is None  # Escape has no Unicode mapping: not listed
    assert layout.modifiers(ord("q")) is None
    # Without ISO_Level3_Shift in the file, AltGr is the right Alt key.
    assert parse_keymap("t2", "at 0x10 altgr\n").modifiers(ord("@")) == (XK_ALT_R,)


def test_load_layout_names_and_fallback(tmp_path: Path) -> None:
    (tmp_path / "xx").write_text("slash 0x08 shift\n")
    layout = load_layout("xx", (tmp_path,))
    assert layout is not None and layout.modifiers(ord("/")) == (XK_SHIFT_L,)
    assert load_layout("nope", (tmp_path,)) is None
    assert load_layout("../xx", (tmp_path / "sub",)) is None  # names only, never paths
    (tmp_path / "en-us").write_text("exclam 0x02 shift\n")
    default = load_layout(None, (tmp_path,))  # QEMU's default: en-us
    assert default is not None and default.name == "en-us"


def test_vnc_keymap_from_domain_xml() -> None:
    xml = (
        "<domain><devices><graphics type='spice'/>"
        "<graphics type='vnc' keymap='de'/></devices></domain>"
    )
    assert vnc_keymap(xml) == "de"
    assert vnc_keymap("<domain><devices><graphics type='vnc'/></devices></domain>") is None


@pytest.mark.skipif(not (QEMU_KEYMAPS / "de").is_file(), reason="QEMU's keymaps not installed")
def test_german_layout_from_qemus_file() -> None:
    de = load_layout("de")
    assert de is not None
    # '/' is Shift+7, '@' AltGr+Q, '+' its own key, '=' Shift+0 on a German keyboard.
    assert text_keysyms("/@+=Zz", de) == [
        [XK_SHIFT_L, ord("/")],
        [XK_ISO_LEVEL3_SHIFT, ord("@")],
        [ord("+")],
        [XK_SHIFT_L, ord("=")],
        [XK_SHIFT_L, ord("Z")],
        [ord("z")],
    ]
    assert key_keysyms("slash", "/", de) == [XK_SHIFT_L, ord("/")]
    assert key_keysyms("ctrl+c", "\x03", de) == [0xFFE3, ord("c")]  # combos: unchanged
    assert paste_plan("ä€", layout=de).groups == ((0xE4,), (XK_ISO_LEVEL3_SHIFT, 0x20AC))
    us = load_layout(None)
    assert us is not None and us.name == "en-us"
    assert text_keysyms("/@+=", us) == [
        [ord("/")],
        [XK_SHIFT_L, ord("@")],
        [XK_SHIFT_L, ord("+")],
        [ord("=")],
    ]
    # A character the layout lacks: the US rules (QEMU will find no key for it).
    assert text_keysyms("Ω", us) == [[0x07D9]]


@pytest.mark.skipif(not KEYSYMDEF.is_file(), reason="x11proto-dev's keysymdef.h not installed")
def test_keysym_table_is_generated_from_keysymdef() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_keysym_table.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "src" / "virttui" / "core" / "console" / "keysym_table.py").read_text()
    assert gen.module(KEYSYMDEF.read_text(encoding="utf-8", errors="replace")) == committed
