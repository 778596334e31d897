"""Textual key names -> X keysyms for RFB KeyEvents (free of Textual).

`key_keysyms(key, character)` gives the keysyms to press in order (modifiers first) and release
in reverse. Printable characters use their keysym: Latin-1 (U+0020..U+007E, U+00A0..U+00FF) is
the code point itself, any other character 0x01000000 + code point, so the guest's keymap (set
on the domain's VNC display) decides which keys make it: non-US layouts work. Characters a US
keyboard types with Shift get Shift_L around them (QEMU maps a keysym to a key, not to a key
plus Shift).
"""

from __future__ import annotations

XK_BACKSPACE = 0xFF08
XK_TAB = 0xFF09
XK_RETURN = 0xFF0D
XK_ESCAPE = 0xFF1B
XK_DELETE = 0xFFFF
XK_HOME = 0xFF50
XK_LEFT = 0xFF51
XK_UP = 0xFF52
XK_RIGHT = 0xFF53
XK_DOWN = 0xFF54
XK_PAGE_UP = 0xFF55
XK_PAGE_DOWN = 0xFF56
XK_END = 0xFF57
XK_INSERT = 0xFF63
XK_PRINT = 0xFF61
XK_F1 = 0xFFBE
XK_SHIFT_L = 0xFFE1
XK_CONTROL_L = 0xFFE3
XK_ALT_L = 0xFFE9
XK_SUPER_L = 0xFFEB
XK_ISO_LEFT_TAB = 0xFE20

SPECIAL_KEYSYMS: dict[str, int] = {
    "enter": XK_RETURN,
    "tab": XK_TAB,
    "backspace": XK_BACKSPACE,
    "escape": XK_ESCAPE,
    "delete": XK_DELETE,
    "insert": XK_INSERT,
    "home": XK_HOME,
    "end": XK_END,
    "pageup": XK_PAGE_UP,
    "pagedown": XK_PAGE_DOWN,
    "up": XK_UP,
    "down": XK_DOWN,
    "left": XK_LEFT,
    "right": XK_RIGHT,
    "space": 0x20,
    **{f"f{i}": XK_F1 + i - 1 for i in range(1, 25)},
}

MODIFIER_KEYSYMS: dict[str, int] = {
    "ctrl": XK_CONTROL_L,
    "shift": XK_SHIFT_L,
    "alt": XK_ALT_L,
    "meta": XK_ALT_L,
    "super": XK_SUPER_L,
}

# Textual's names for punctuation keys (used with modifiers, e.g. "ctrl+backslash").
_KEY_NAME_CHARS: dict[str, str] = {
    "backslash": "\\",
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "circumflex_accent": "^",
    "underscore": "_",
    "minus": "-",
    "plus": "+",
    "equals_sign": "=",
    "full_stop": ".",
    "comma": ",",
    "slash": "/",
    "semicolon": ";",
    "colon": ":",
    "apostrophe": "'",
    "quotation_mark": '"',
    "grave_accent": "`",
    "tilde": "~",
    "at": "@",
    "number_sign": "#",
    "dollar_sign": "$",
    "percent_sign": "%",
    "ampersand": "&",
    "asterisk": "*",
    "left_parenthesis": "(",
    "right_parenthesis": ")",
    "exclamation_mark": "!",
    "question_mark": "?",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "vertical_line": "|",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
}

US_SHIFTED = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZ~!@#$%^&*()_+{}|:"<>?')


def char_keysym(ch: str) -> int | None:
    """The keysym of one character (None for control characters)."""
    if len(ch) != 1:
        return None
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        return None
    if cp <= 0xFF:
        return cp
    return 0x01000000 + cp


def key_keysyms(key: str, character: str | None = None) -> list[int] | None:
    """Keysyms to press together for a Textual key (modifiers first), or None if unknown."""
    parts = key.split("+")
    base = parts[-1]
    mods = parts[:-1]
    if key == "+" or key.endswith("++"):  # the plus key itself
        base, mods = "+", [m for m in key[:-2].split("+") if m] if key != "+" else []
    prefix: list[int] = []
    for mod in mods:
        sym = MODIFIER_KEYSYMS.get(mod)
        if sym is None:
            return None
        if sym not in prefix:
            prefix.append(sym)
    if base == "tab" and XK_SHIFT_L in prefix:
        return prefix + [XK_TAB]
    special = SPECIAL_KEYSYMS.get(base)
    if special is not None and not (base == "space" and character not in (None, " ")):
        return prefix + [special]
    # A printable character with no modifier but Shift: its own keysym.
    if not prefix or prefix == [XK_SHIFT_L]:
        if character is not None and (sym := char_keysym(character)) is not None:
            shift = [XK_SHIFT_L] if character in US_SHIFTED else []
            return shift + [sym]
    ch = _KEY_NAME_CHARS.get(base, base)
    if len(ch) == 1 and (sym := char_keysym(ch)) is not None:
        if ch.isalpha() and XK_CONTROL_L in prefix:
            sym = char_keysym(ch.lower()) or sym
        return prefix + [sym]
    return None


def text_keysyms(text: str) -> list[list[int]]:
    """One keysym group per character of pasted text (newline = Return, tab = Tab)."""
    out: list[list[int]] = []
    for ch in text:
        if ch in "\r\n":
            out.append([XK_RETURN])
        elif ch == "\t":
            out.append([XK_TAB])
        elif (sym := char_keysym(ch)) is not None:
            out.append(([XK_SHIFT_L] if ch in US_SHIFTED else []) + [sym])
    return out
