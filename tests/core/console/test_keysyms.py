"""Textual key names -> X keysyms for RFB KeyEvents."""

from __future__ import annotations

import pytest

from virttui.core.console.keysyms import (
    PASTE_MAX_CHARS,
    XK_ALT_L,
    XK_CONTROL_L,
    XK_F1,
    XK_SHIFT_L,
    char_keysym,
    key_keysyms,
    paste_plan,
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
        ("€", "€", [0x20AC]),  # beyond Latin-1 with a legacy keysym: EuroSign
        ("ж", "ж", [0x06D6]),  # Cyrillic_zhe (QEMU looks keysyms up by their low 16 bits)
        ("Ա", "Ա", [0x01000000 + 0x0531]),  # no legacy keysym: 0x01000000 + code point
        ("😀", "😀", [0x01000000 + 0x1F600]),
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
    assert text_keysyms("aB\n\t€Ա") == [
        [ord("a")],
        [XK_SHIFT_L, ord("B")],
        [0xFF0D],
        [0xFF09],
        [0x20AC],
        [0x01000531],
    ]


def test_text_keysyms_crlf_is_one_return_and_controls_are_skipped() -> None:
    assert text_keysyms("a\r\nb\rc\x07") == [
        [ord("a")],
        [0xFF0D],
        [ord("b")],
        [0xFF0D],
        [ord("c")],
    ]


def test_paste_plan_unicode_shift_and_order() -> None:
    plan = paste_plan("Hé,\tж!\n")
    assert plan.groups == (
        (XK_SHIFT_L, ord("H")),
        (0xE9,),  # Latin-1: the code point
        (ord(","),),
        (0xFF09,),  # Tab
        (0x06D6,),  # the legacy keysym Cyrillic_zhe
        (XK_SHIFT_L, ord("!")),  # QEMU adds no Shift: the client sends it
        (0xFF0D,),  # Return
    )
    assert (plan.typed, plan.total, plan.skipped) == (7, 7, 0)
    assert plan.complete and not plan.truncated
    assert plan.summary(7) == "Pasted 7 characters"


def test_paste_plan_caps_the_length_and_says_how_much() -> None:
    text = "x" * (PASTE_MAX_CHARS + 100)
    plan = paste_plan(text)
    assert PASTE_MAX_CHARS == 4096
    assert len(plan.groups) == plan.typed == 4096 and plan.total == 4196
    assert plan.truncated and not plan.complete
    assert (
        plan.starting()
        == "Typing the first 4096 of 4196 pasted characters (at most 4096 per paste)"
    )
    assert plan.summary(4096) == (
        "Pasted the first 4096 of 4196 characters (at most 4096 per paste; the rest was not typed)"
    )
    assert plan.summary(40) == "Paste stopped: typed 40 of 4096 characters"
    small = paste_plan("abcdef", limit=4)
    assert small.groups == ((97,), (98,), (99,), (100,)) and small.total == 6


def test_paste_plan_counts_skipped_control_characters() -> None:
    plan = paste_plan("a\x00b\x1b\r\n")
    assert plan.groups == ((97,), (98,), (0xFF0D,))
    assert plan.total == 5 and plan.skipped == 2  # CR LF counts as one character
    assert plan.summary(3) == "Pasted 3 characters; 2 control characters skipped"
