"""Textual key names -> X keysyms for RFB KeyEvents (free of Textual).

`key_keysyms(key, character, layout)` gives the keysyms to press in order (modifiers first) and
release in reverse. Printable characters use their keysym: Latin-1 (U+0020..U+007E,
U+00A0..U+00FF) is the code point itself, a character with a legacy X keysym (Cyrillic, Greek,
the euro sign...) that keysym, any other 0x01000000 + code point, so the keymap set on the
domain's VNC display decides which keys make it: non-US layouts work. QEMU maps a keysym to a
key, never to a key plus Shift, so the modifiers the character needs on the display's layout
(`core/console/keyboard_layout.KeyLayout`, read from QEMU's own keymap file) are held around
it; without a layout, Shift_L around the characters a US keyboard types with Shift.

Paste (`PastePlan`): each character becomes a press/release group (newline Return, tab Tab;
other control characters are skipped), at most `PASTE_MAX_CHARS` characters, typed in chunks of
`PASTE_CHUNK` groups (`GraphicsSession.type_keysyms`), each chunk followed by a pause of
`PASTE_EVENT_SECONDS` per key event it sent. QEMU's VNC server queues every key event with a
10 ms delay (its `key-delay-ms`) in a queue of 1024 entries (three per key event) and drops
what does not fit, so a paste sent faster than 100 key events a second would lose keys; paced
like this the queue stays short, and the paste stops when the console closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from virttui.core.console.keyboard_layout import KeyLayout, unicode_keysym

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
XK_SYS_REQ = 0xFF15
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
    return unicode_keysym(cp)


def char_group(ch: str, sym: int, layout: KeyLayout | None = None) -> list[int]:
    """The keysyms typing character `ch` (keysym `sym`): its modifiers on `layout` first (the
    US rules when there is no layout or the layout lacks it), then the keysym."""
    mods = layout.modifiers(sym) if layout is not None else None
    if mods is None:
        mods = (XK_SHIFT_L,) if ch in US_SHIFTED else ()
    return [*mods, sym]


def key_keysyms(
    key: str, character: str | None = None, layout: KeyLayout | None = None
) -> list[int] | None:
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
            return char_group(character, sym, layout)
    ch = _KEY_NAME_CHARS.get(base, base)
    if len(ch) == 1 and (sym := char_keysym(ch)) is not None:
        if ch.isalpha() and XK_CONTROL_L in prefix:
            sym = char_keysym(ch.lower()) or sym
        return prefix + [sym]
    return None


def text_keysyms(text: str, layout: KeyLayout | None = None) -> list[list[int]]:
    """One keysym group per character of pasted text (newline = Return, tab = Tab; a CR LF
    pair is one Return)."""
    out: list[list[int]] = []
    for ch in text.replace("\r\n", "\n"):
        if ch in "\r\n":
            out.append([XK_RETURN])
        elif ch == "\t":
            out.append([XK_TAB])
        elif (sym := char_keysym(ch)) is not None:
            out.append(char_group(ch, sym, layout))
    return out


PASTE_MAX_CHARS = 4096  # characters typed from one paste at most
PASTE_CHUNK = 8  # key groups (characters) sent together
PASTE_EVENT_SECONDS = 0.012  # pause per key event sent: QEMU types one every 10 ms


@dataclass(frozen=True, slots=True)
class PastePlan:
    """What a paste types: `groups` (one per character), `typed` characters of `total` (the
    rest is beyond the cap) of which `skipped` had no key (control characters)."""

    groups: tuple[tuple[int, ...], ...]
    typed: int
    total: int
    skipped: int

    @property
    def truncated(self) -> bool:
        return self.typed < self.total

    def starting(self, seconds: float | None = None) -> str:
        """A message as the paste starts (when it is cut), with the time typing takes."""
        text = (
            f"Typing the first {self.typed} of {self.total} pasted characters"
            f" (at most {PASTE_MAX_CHARS} per paste)"
        )
        return text if seconds is None else f"{text}, about {seconds:.0f} s"

    def summary(self, sent: int) -> str:
        """A message when `sent` groups were typed: how much arrived and why not all."""
        if sent < len(self.groups):
            text = f"Paste stopped: typed {sent} of {len(self.groups)} characters"
        elif self.truncated:
            text = (
                f"Pasted the first {self.typed} of {self.total} characters"
                f" (at most {PASTE_MAX_CHARS} per paste; the rest was not typed)"
            )
        else:
            text = f"Pasted {len(self.groups)} characters"
        if self.skipped:
            text += f"; {self.skipped} control characters skipped"
        return text

    @property
    def events(self) -> int:
        """Key events the paste sends (a press and a release per keysym)."""
        return sum(2 * len(g) for g in self.groups)

    def seconds(self, event_seconds: float = PASTE_EVENT_SECONDS) -> float:
        """About how long typing takes."""
        return self.events * event_seconds

    @property
    def complete(self) -> bool:
        """Everything pasted is typed (no cut, nothing skipped)."""
        return not self.truncated and not self.skipped


def paste_plan(
    text: str, limit: int = PASTE_MAX_CHARS, layout: KeyLayout | None = None
) -> PastePlan:
    """The key groups typing `text` on `layout` (newlines normalised, at most `limit`
    characters)."""
    text = text.replace("\r\n", "\n")
    head = text[:limit]
    groups = tuple(tuple(g) for g in text_keysyms(head, layout))
    return PastePlan(groups, len(head), len(text), len(head) - len(groups))
