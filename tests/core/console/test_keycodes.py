"""Every key the console keymaps claim, checked against xterm and linux/input-event-codes.h."""

from __future__ import annotations

import string

import pytest

from virttui.core.console import keycodes as keymap
from virttui.core.console.keycodes import (
    COMBOS_BY_ID,
    CURSOR_KEYS,
    NAMED_KEYCODES,
    SERIAL_KEYS,
    SHIFTED_CHARS,
    char_keycodes,
    linux_keycodes,
    serial_bytes,
    text_keycodes,
)

# xterm (ctlseqs, "PC-Style Function Keys"), written out independently of the module.
XTERM = {
    "enter": b"\r", "tab": b"\t", "shift+tab": b"\x1b[Z", "backspace": b"\x7f",
    "ctrl+h": b"\x08", "escape": b"\x1b", "space": b" ", "ctrl+@": b"\x00",
    "ctrl+space": b"\x00", "ctrl+backslash": b"\x1c", "ctrl+right_square_bracket": b"\x1d",
    "ctrl+circumflex_accent": b"\x1e", "ctrl+underscore": b"\x1f",
    "insert": b"\x1b[2~", "delete": b"\x1b[3~", "pageup": b"\x1b[5~", "pagedown": b"\x1b[6~",
    "f1": b"\x1bOP", "f2": b"\x1bOQ", "f3": b"\x1bOR", "f4": b"\x1bOS",
    "f5": b"\x1b[15~", "f6": b"\x1b[17~", "f7": b"\x1b[18~", "f8": b"\x1b[19~",
    "f9": b"\x1b[20~", "f10": b"\x1b[21~", "f11": b"\x1b[23~", "f12": b"\x1b[24~",
}  # fmt: skip
CTRL_LETTERS = {f"ctrl+{c}": bytes([ord(c) - ord("a") + 1]) for c in string.ascii_lowercase}
CURSOR_NORMAL = {
    "up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D",
    "home": b"\x1b[H", "end": b"\x1b[F",
}  # fmt: skip
CURSOR_APP = {k: v.replace(b"[", b"O") for k, v in CURSOR_NORMAL.items()}


def test_serial_table_is_fully_covered() -> None:
    expected = {**CTRL_LETTERS, **XTERM}
    assert set(SERIAL_KEYS) == set(expected)
    assert set(CURSOR_KEYS) == set(CURSOR_NORMAL)


@pytest.mark.parametrize("key", sorted({**CTRL_LETTERS, **XTERM}))
def test_serial_key(key: str) -> None:
    expected = {**CTRL_LETTERS, **XTERM}[key]
    # ctrl+h is Backspace's old code; the table keeps it distinct from "backspace".
    assert serial_bytes(key) == expected
    assert serial_bytes(key, app_cursor=True) == expected


@pytest.mark.parametrize("key", sorted(CURSOR_NORMAL))
def test_cursor_keys_follow_decckm(key: str) -> None:
    assert serial_bytes(key) == CURSOR_NORMAL[key]
    assert serial_bytes(key, app_cursor=True) == CURSOR_APP[key]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("shift+up", b"\x1b[1;2A"),
        ("alt+down", b"\x1b[1;3B"),
        ("ctrl+right", b"\x1b[1;5C"),
        ("ctrl+shift+left", b"\x1b[1;6D"),
        ("shift+home", b"\x1b[1;2H"),
        ("ctrl+end", b"\x1b[1;5F"),
    ],
)
def test_modified_cursor_keys(key: str, expected: bytes) -> None:
    assert serial_bytes(key) == expected


def test_printable_characters_and_unknown_keys() -> None:
    assert serial_bytes("a", "a") == b"a"
    assert serial_bytes("A", "A") == b"A"
    assert serial_bytes("exclamation_mark", "!") == b"!"
    assert serial_bytes("eacute", "é") == "é".encode()
    assert serial_bytes("f13") == b""
    assert serial_bytes("ctrl+f1") == b""


# linux/input-event-codes.h, written out.
LINUX = {
    "escape": 1, "backspace": 14, "tab": 15, "enter": 28, "space": 57,
    "f1": 59, "f2": 60, "f3": 61, "f4": 62, "f5": 63, "f6": 64, "f7": 65, "f8": 66,
    "f9": 67, "f10": 68, "f11": 87, "f12": 88,
    "home": 102, "up": 103, "pageup": 104, "left": 105, "right": 106, "end": 107,
    "down": 108, "pagedown": 109, "insert": 110, "delete": 111,
}  # fmt: skip
US_ROWS = {
    "1234567890-=": 2, "qwertyuiop[]": 16, "asdfghjkl;'`": 30, "zxcvbnm,./": 44,
}  # fmt: skip
LINUX_CHARS = {c: start + i for row, start in US_ROWS.items() for i, c in enumerate(row)}
LINUX_CHARS.update({"\\": 43, " ": 57})


def test_keycode_tables_are_fully_covered() -> None:
    assert NAMED_KEYCODES == LINUX
    assert set(keymap._CHAR_CODES) == set(LINUX_CHARS)


@pytest.mark.parametrize("key", sorted(LINUX))
def test_named_keycode(key: str) -> None:
    assert linux_keycodes(key) == [LINUX[key]]
    assert linux_keycodes(f"ctrl+{key}") == [29, LINUX[key]]
    assert linux_keycodes(f"ctrl+alt+{key}") == [29, 56, LINUX[key]]


@pytest.mark.parametrize("ch", sorted(LINUX_CHARS))
def test_char_keycode(ch: str) -> None:
    assert char_keycodes(ch) == [LINUX_CHARS[ch]]


@pytest.mark.parametrize("ch", sorted(SHIFTED_CHARS))
def test_shifted_char_keycode(ch: str) -> None:
    assert char_keycodes(ch) == [42, LINUX_CHARS[SHIFTED_CHARS[ch]]]


@pytest.mark.parametrize("ch", string.ascii_uppercase)
def test_uppercase_letters_use_shift(ch: str) -> None:
    assert char_keycodes(ch) == [42, LINUX_CHARS[ch.lower()]]
    assert linux_keycodes(ch, ch) == [42, LINUX_CHARS[ch.lower()]]


def test_textual_keys_to_keycodes() -> None:
    assert linux_keycodes("a", "a") == [30]
    assert linux_keycodes("exclamation_mark", "!") == [42, 2]
    assert linux_keycodes("ctrl+c") == [29, 46]
    assert linux_keycodes("ctrl+alt+t") == [29, 56, 20]
    assert linux_keycodes("shift+tab") == [42, 15]
    assert linux_keycodes("ctrl+left_square_bracket") == [29, 26]
    assert linux_keycodes("ctrl+right_square_bracket") == [29, 27]
    assert linux_keycodes("super+a") is None
    assert linux_keycodes("eacute", "é") is None
    assert char_keycodes("\n") == [28] and char_keycodes("\t") == [15]
    assert text_keycodes("echo MARK\n") == [
        [18],
        [46],
        [35],
        [24],
        [57],
        [42, 50],
        [42, 30],
        [42, 19],
        [42, 37],
        [28],
    ]
    with pytest.raises(ValueError):
        text_keycodes("é")


SPECIAL = {
    "ctrl-alt-del": (29, 56, 111),
    "ctrl-alt-backspace": (29, 56, 14),
    **{f"ctrl-alt-f{i}": (29, 56, 58 + i) for i in range(1, 7)},
    "sysrq": (99,),
    **{f"sysrq-{c}": (56, 99, LINUX_CHARS[c]) for c in "hsubeitmw"},
}


def test_special_combos_are_fully_covered() -> None:
    assert set(COMBOS_BY_ID) == set(SPECIAL)


@pytest.mark.parametrize("combo_id", sorted(SPECIAL))
def test_special_combo(combo_id: str) -> None:
    combo = COMBOS_BY_ID[combo_id]
    assert combo.keycodes == SPECIAL[combo_id]
    assert combo.title


# X keysyms (X11 keysymdef.h), written out independently of the module: Control_L 0xffe3,
# Alt_L 0xffe9, Delete 0xffff, BackSpace 0xff08, F1 0xffbe, Print 0xff61, Sys_Req 0xff15.
SPECIAL_KEYSYMS = {
    "ctrl-alt-del": (0xFFE3, 0xFFE9, 0xFFFF),
    "ctrl-alt-backspace": (0xFFE3, 0xFFE9, 0xFF08),
    **{f"ctrl-alt-f{i}": (0xFFE3, 0xFFE9, 0xFFBE + i - 1) for i in range(1, 7)},
    "sysrq": (0xFF61,),
    **{f"sysrq-{c}": (0xFFE9, 0xFF15, ord(c)) for c in "hsubeitmw"},
}


@pytest.mark.parametrize("combo_id", sorted(SPECIAL_KEYSYMS))
def test_special_combo_keysyms(combo_id: str) -> None:
    """The RFB path's combos: the same keys as the keycodes, entry by entry, as keysyms."""
    combo = COMBOS_BY_ID[combo_id]
    assert combo.keysyms == SPECIAL_KEYSYMS[combo_id]
    assert len(combo.keysyms) == len(combo.keycodes)


def test_special_combo_keysyms_cover_every_combo() -> None:
    assert set(SPECIAL_KEYSYMS) == set(COMBOS_BY_ID)
