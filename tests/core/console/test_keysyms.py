"""Textual key names -> X keysyms for RFB KeyEvents."""

from __future__ import annotations

import pytest

from virttui.core.console.keysyms import (
    XK_ALT_L,
    XK_CONTROL_L,
    XK_F1,
    XK_SHIFT_L,
    char_keysym,
    key_keysyms,
    text_keysyms,
)


@pytest.mark.parametrize(
    ("key", "character", "expected"),
    [
        ("a", "a", [ord("a")]),
        ("A", "A", [XK_SHIFT_L, ord("A")]),
        ("shift+a", "A", [XK_SHIFT_L, ord("A")]),
        ("1", "1", [ord("1")]),
        ("exclamation_mark", "!", [XK_SHIFT_L, ord("!")]),
        ("space", " ", [0x20]),
        ("enter", "\r", [0xFF0D]),
        ("tab", "\t", [0xFF09]),
        ("shift+tab", None, [XK_SHIFT_L, 0xFF09]),
        ("escape", "\x1b", [0xFF1B]),
        ("backspace", "\x7f", [0xFF08]),
        ("delete", None, [0xFFFF]),
        ("up", None, [0xFF52]),
        ("pagedown", None, [0xFF56]),
        ("f1", None, [XK_F1]),
        ("f12", None, [XK_F1 + 11]),
        ("ctrl+c", "\x03", [XK_CONTROL_L, ord("c")]),
        ("ctrl+alt+delete", None, [XK_CONTROL_L, XK_ALT_L, 0xFFFF]),
        ("alt+f2", None, [XK_ALT_L, XK_F1 + 1]),
        ("ctrl+backslash", "\x1c", [XK_CONTROL_L, ord("\\")]),
        ("e_acute", "é", [0xE9]),  # Latin-1: the code point itself
        ("ü", "ü", [0xFC]),
        ("€", "€", [0x01000000 + 0x20AC]),  # beyond Latin-1: 0x01000000 + code point
        ("ж", "ж", [0x01000000 + 0x0436]),
        ("ctrl+unknownkey", None, None),
        ("hyper+a", None, None),
    ],
)
def test_key_keysyms(key: str, character: str | None, expected: list[int] | None) -> None:
    assert key_keysyms(key, character) == expected


def test_char_keysym_control_characters() -> None:
    assert char_keysym("\x00") is None
    assert char_keysym("\x7f") is None
    assert char_keysym("\x85") is None
    assert char_keysym("ab") is None
    assert char_keysym("~") == 0x7E


def test_text_keysyms() -> None:
    assert text_keysyms("aB\n\t€") == [
        [ord("a")],
        [XK_SHIFT_L, ord("B")],
        [0xFF0D],
        [0xFF09],
        [0x01000000 + 0x20AC],
    ]
