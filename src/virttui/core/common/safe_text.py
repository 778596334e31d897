"""Make untrusted text safe to put on a terminal: every control character becomes visible.

Names, titles, descriptions, paths, URIs, error messages and config values come from libvirt,
guests' owners or files, and may hold control characters: ESC (``\\x1b[31m`` recolours or moves
the cursor when it reaches a terminal raw), C1 controls (``\\x9b`` is a one-byte CSI on many
terminals), DEL, backspace, tabs and newlines (which break one-line fields and column layouts).
Libvirt accepts them in titles and descriptions, the test driver and XML accept C1 and DEL in
names, TOML accepts ``\\u001b`` in labels.

:func:`visible` maps each such character to a printable escape (``\\e``, ``\\t``, ``\\x9b``,
``\\u202e``), so the text keeps its meaning, takes the cells it seems to take, and cannot act on
the terminal. Pure ``str``: the widgets style the escapes (``virttui.widgets.common.plain``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# C0 (U+0000-U+001F), DEL (U+007F), C1 (U+0080-U+009F); the Unicode line/paragraph separators and
# the bidirectional embedding/override/isolate controls, which reorder or break what follows them.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")

_NAMED = {
    "\x1b": "\\e",
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\x0b": "\\v",
    "\x0c": "\\f",
}


def escape_char(char: str) -> str:
    """The printable form of one unsafe character (ASCII only: readable on the Linux console)."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def is_unsafe(char: str) -> bool:
    return _UNSAFE_RE.fullmatch(char) is not None


def has_unsafe(text: str) -> bool:
    return _UNSAFE_RE.search(text) is not None


def split_visible(text: str, *, multiline: bool = False) -> Iterator[tuple[str, bool]]:
    """(piece, is_escape) pairs whose pieces joined are ``visible(text, multiline=multiline)``.

    Plain pieces are the text's own characters; escape pieces stand for one control character.
    With ``multiline`` a newline stays a newline (descriptions, multi-line error messages).
    """
    start = 0
    for match in _UNSAFE_RE.finditer(text):
        char = match.group()
        if multiline and char == "\n":
            continue
        if match.start() > start:
            yield text[start : match.start()], False
        yield escape_char(char), True
        start = match.end()
    if start < len(text):
        yield text[start:], False


def visible(text: object, *, multiline: bool = False) -> str:
    """`text` (made a string) with every control character shown as a printable escape."""
    value = text if isinstance(text, str) else str(text)
    if not has_unsafe(value):
        return value
    return "".join(piece for piece, _escape in split_visible(value, multiline=multiline))
