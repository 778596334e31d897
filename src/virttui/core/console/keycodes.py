"""Keys for the consoles.

Two tables, both keyed by Textual's key names (`"ctrl+c"`, `"f5"`, `"shift+tab"`...), but
free of Textual:
- `serial_bytes()`: what an xterm sends on a serial line for a key;
- `linux_keycodes()`: the Linux input keycodes (`VIR_KEYCODE_SET_LINUX`) to press together for a
  key on the guest's keyboard (`virDomainSendKey`), modifiers first;
plus the special combinations a terminal cannot type (Ctrl+Alt+Del, Ctrl+Alt+Fn, SysRq), each
with its Linux keycodes (virDomainSendKey, the screenshot path) and its X keysyms (RFB key
events on the live path: no US keycode table involved; QEMU maps them through the display's
keymap).
"""

from __future__ import annotations

from dataclasses import dataclass

from virttui.core.console.keysyms import (
    XK_ALT_L,
    XK_BACKSPACE,
    XK_CONTROL_L,
    XK_DELETE,
    XK_F1,
    XK_PRINT,
    XK_SYS_REQ,
)

ESC = "\x1b"
CSI = ESC + "["
SS3 = ESC + "O"

# ----------------------------------------------------------------------------- serial (xterm)
# Keys whose bytes do not depend on the cursor-key mode.
SERIAL_KEYS: dict[str, str] = {
    "enter": "\r",
    "tab": "\t",
    "shift+tab": CSI + "Z",
    "backspace": "\x7f",
    "ctrl+h": "\x08",
    "escape": ESC,
    "space": " ",
    "ctrl+@": "\x00",
    "ctrl+space": "\x00",
    "ctrl+backslash": "\x1c",
    "ctrl+right_square_bracket": "\x1d",
    "ctrl+circumflex_accent": "\x1e",
    "ctrl+underscore": "\x1f",
    "insert": CSI + "2~",
    "delete": CSI + "3~",
    "pageup": CSI + "5~",
    "pagedown": CSI + "6~",
    "f1": SS3 + "P",
    "f2": SS3 + "Q",
    "f3": SS3 + "R",
    "f4": SS3 + "S",
    "f5": CSI + "15~",
    "f6": CSI + "17~",
    "f7": CSI + "18~",
    "f8": CSI + "19~",
    "f9": CSI + "20~",
    "f10": CSI + "21~",
    "f11": CSI + "23~",
    "f12": CSI + "24~",
}
for _i, _letter in enumerate("abcdefghijklmnopqrstuvwxyz", start=1):
    SERIAL_KEYS.setdefault(f"ctrl+{_letter}", chr(_i))

# Cursor keys: CSI form normally, SS3 form in application cursor mode (DECCKM, set by vi/top).
CURSOR_KEYS: dict[str, str] = {
    "up": "A",
    "down": "B",
    "right": "C",
    "left": "D",
    "home": "H",
    "end": "F",
}
# xterm modifier parameter: CSI 1;<m><final>.
_MODIFIER_PARAM = {"shift": 2, "alt": 3, "shift+alt": 4, "ctrl": 5, "ctrl+shift": 6}


def serial_bytes(key: str, character: str | None = None, *, app_cursor: bool = False) -> bytes:
    """Bytes for a key on a serial terminal; b"" when the key has no serial meaning."""
    seq = SERIAL_KEYS.get(key)
    if seq is not None:
        return seq.encode()
    if key in CURSOR_KEYS:
        return ((SS3 if app_cursor else CSI) + CURSOR_KEYS[key]).encode()
    mods, _, base = key.rpartition("+")
    if base in CURSOR_KEYS and mods in _MODIFIER_PARAM:
        return f"{CSI}1;{_MODIFIER_PARAM[mods]}{CURSOR_KEYS[base]}".encode()
    if character is not None and character.isprintable() and character:
        return character.encode("utf-8")
    return b""


# ----------------------------------------------------------------------------- Linux keycodes
# linux/input-event-codes.h
KEY_ESC, KEY_BACKSPACE, KEY_TAB, KEY_ENTER = 1, 14, 15, 28
KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_LEFTALT, KEY_SPACE = 29, 42, 56, 57
KEY_SYSRQ, KEY_DELETE = 99, 111

_CHAR_CODES: dict[str, int] = {
    **{c: 2 + i for i, c in enumerate("123456789")},
    "0": 11,
    "-": 12,
    "=": 13,
    **{c: 16 + i for i, c in enumerate("qwertyuiop")},
    "[": 26,
    "]": 27,
    **{c: 30 + i for i, c in enumerate("asdfghjkl")},
    ";": 39,
    "'": 40,
    "`": 41,
    "\\": 43,
    **{c: 44 + i for i, c in enumerate("zxcvbnm")},
    ",": 51,
    ".": 52,
    "/": 53,
    " ": KEY_SPACE,
}
# US layout: the shifted character -> the unshifted key it is on.
SHIFTED_CHARS: dict[str, str] = {
    "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
    "(": "9", ")": "0", "_": "-", "+": "=", "{": "[", "}": "]", ":": ";", '"': "'",
    "~": "`", "|": "\\", "<": ",", ">": ".", "?": "/",
}  # fmt: skip

NAMED_KEYCODES: dict[str, int] = {
    "escape": KEY_ESC,
    "backspace": KEY_BACKSPACE,
    "tab": KEY_TAB,
    "enter": KEY_ENTER,
    "space": KEY_SPACE,
    **{f"f{i}": 58 + i for i in range(1, 11)},
    "f11": 87,
    "f12": 88,
    "home": 102,
    "up": 103,
    "pageup": 104,
    "left": 105,
    "right": 106,
    "end": 107,
    "down": 108,
    "pagedown": 109,
    "insert": 110,
    "delete": KEY_DELETE,
}
MODIFIER_KEYCODES: dict[str, int] = {
    "ctrl": KEY_LEFTCTRL,
    "shift": KEY_LEFTSHIFT,
    "alt": KEY_LEFTALT,
}
# Textual's names for punctuation keys pressed with a modifier (ctrl+left_square_bracket...).
_KEY_NAME_CHARS: dict[str, str] = {
    "minus": "-",
    "equals_sign": "=",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "semicolon": ";",
    "apostrophe": "'",
    "grave_accent": "`",
    "backslash": "\\",
    "comma": ",",
    "full_stop": ".",
    "slash": "/",
}


def char_keycodes(ch: str) -> list[int] | None:
    """Keycodes typing one character on a US keyboard (Shift first when needed)."""
    if ch == "\n" or ch == "\r":
        return [KEY_ENTER]
    if ch == "\t":
        return [KEY_TAB]
    if ch in SHIFTED_CHARS:
        return [KEY_LEFTSHIFT, _CHAR_CODES[SHIFTED_CHARS[ch]]]
    if ch.isascii() and ch.isupper():
        return [KEY_LEFTSHIFT, _CHAR_CODES[ch.lower()]]
    code = _CHAR_CODES.get(ch)
    return None if code is None else [code]


def linux_keycodes(key: str, character: str | None = None) -> list[int] | None:
    """Keycodes for a Textual key (modifiers first), or None when the guest keyboard has none."""
    parts = key.split("+")
    base, mods = parts[-1], parts[:-1]
    if any(m not in MODIFIER_KEYCODES for m in mods):
        return None
    prefix = [MODIFIER_KEYCODES[m] for m in mods]
    if base in NAMED_KEYCODES:
        return prefix + [NAMED_KEYCODES[base]]
    if not mods and character and len(character) == 1:
        return char_keycodes(character)
    ch = _KEY_NAME_CHARS.get(base, base)
    if len(ch) == 1:
        codes = char_keycodes(ch.lower()) if ch.isalpha() else char_keycodes(ch)
        if codes is not None:
            return prefix + [c for c in codes if c not in prefix]
    return None


def text_keycodes(text: str) -> list[list[int]]:
    """One keycode group per character; raises ValueError for a character with no key."""
    out = []
    for ch in text:
        codes = char_keycodes(ch)
        if codes is None:
            raise ValueError(f"no key for {ch!r} on a US keyboard")
        out.append(codes)
    return out


@dataclass(frozen=True, slots=True)
class Combo:
    """A special key combination: pressed in order, released in reverse, as Linux keycodes
    (`keycodes`) or as X keysyms (`keysyms`, the same keys entry by entry)."""

    id: str
    title: str
    keycodes: tuple[int, ...]
    keysyms: tuple[int, ...]


def _sysrq(letter: str, what: str) -> Combo:
    return Combo(
        f"sysrq-{letter}", f"Alt+SysRq+{letter.upper()} ({what})",
        (KEY_LEFTALT, KEY_SYSRQ, _CHAR_CODES[letter]),
        (XK_ALT_L, XK_SYS_REQ, ord(letter)),
    )  # fmt: skip


_CTRL_ALT = (KEY_LEFTCTRL, KEY_LEFTALT)
_XK_CTRL_ALT = (XK_CONTROL_L, XK_ALT_L)
# One table: each combo's Linux keycodes next to its keysyms.
SPECIAL_COMBOS: tuple[Combo, ...] = (
    Combo("ctrl-alt-del", "Ctrl+Alt+Del", (*_CTRL_ALT, KEY_DELETE), (*_XK_CTRL_ALT, XK_DELETE)),
    Combo(
        "ctrl-alt-backspace",
        "Ctrl+Alt+Backspace",
        (*_CTRL_ALT, KEY_BACKSPACE),
        (*_XK_CTRL_ALT, XK_BACKSPACE),
    ),  # fmt: skip
    *(
        Combo(
            f"ctrl-alt-f{i}",
            f"Ctrl+Alt+F{i}",
            (*_CTRL_ALT, 58 + i),
            (*_XK_CTRL_ALT, XK_F1 + i - 1),
        )  # fmt: skip
        for i in range(1, 7)
    ),
    Combo("sysrq", "SysRq (Print Screen)", (KEY_SYSRQ,), (XK_PRINT,)),
    _sysrq("h", "help"),
    _sysrq("s", "sync"),
    _sysrq("u", "remount read-only"),
    _sysrq("b", "reboot now"),
    _sysrq("e", "terminate all"),
    _sysrq("i", "kill all"),
    _sysrq("t", "show tasks"),
    _sysrq("m", "show memory"),
    _sysrq("w", "show blocked tasks"),
)
COMBOS_BY_ID: dict[str, Combo] = {c.id: c for c in SPECIAL_COMBOS}
