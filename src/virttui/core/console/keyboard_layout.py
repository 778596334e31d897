"""Which modifiers a character needs on the VNC display's keyboard layout (free of Textual).

QEMU maps each RFB key event's keysym to a scancode through the display's keymap
(`<graphics keymap=...>`, QEMU's `-k`; en-us when none is set) and never adds a modifier
itself: a client must hold Shift (or AltGr) around a character that needs it *on that layout*
(on a German layout '/' is Shift+7 and '@' AltGr+Q). `load_layout()` reads the same keymap file
QEMU reads (/usr/share/qemu/keymaps/<name>; the RFB path is local only, so QEMU's files are on
this machine) and `KeyLayout.modifiers(keysym)` gives the keysyms to hold: the entry with the
fewest modifiers, as QEMU picks the entry matching the modifiers held.

Keysym names in those files are X11's (keysymdef.h; `keysym_table.py`), which also gives the
legacy keysym of a character beyond Latin-1 (Cyrillic, Greek, the euro sign...): QEMU looks keysyms
up by their low 16 bits only, so 0x01000000 + code point works only for characters without one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from virttui.core.console.keysym_table import KEYSYM_TABLE

KEYMAP_DIRS = (Path("/usr/share/qemu/keymaps"), Path("/usr/local/share/qemu/keymaps"))
DEFAULT_KEYMAP = "en-us"  # QEMU's choice when the display sets none
XK_SHIFT_L = 0xFFE1
XK_ALT_R = 0xFFEA
XK_ISO_LEVEL3_SHIFT = 0xFE03
_NAME = re.compile(r"^[A-Za-z0-9_+-]{1,32}$")


@functools.cache
def keysym_tables() -> tuple[dict[str, int], dict[int, int]]:
    """(keysym by name, legacy keysym by code point beyond Latin-1)."""
    by_name: dict[str, int] = {}
    legacy: dict[int, int] = {}
    for line in KEYSYM_TABLE.splitlines():
        name, sym_hex, cp_hex = line.split()
        sym, cp = int(sym_hex, 16), int(cp_hex, 16)
        by_name.setdefault(name, sym)
        if cp > 0xFF and sym < 0x01000000:
            legacy.setdefault(cp, sym)
    return by_name, legacy


def unicode_keysym(cp: int) -> int:
    """The keysym of a printable code point: Latin-1 itself, else the legacy keysym when X11
    has one, else 0x01000000 + code point."""
    if cp <= 0xFF:
        return cp
    return keysym_tables()[1].get(cp, 0x01000000 + cp)


@dataclass(frozen=True)
class KeyLayout:
    """A QEMU keymap: for each keysym it types, the modifier keysyms to hold around it."""

    name: str
    mods: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def modifiers(self, keysym: int) -> tuple[int, ...] | None:
        """Modifier keysyms to press first (Shift_L, AltGr), or None: not on this layout."""
        return self.mods.get(keysym)


def parse_keymap(name: str, text: str, read: object = None) -> KeyLayout:
    """A KeyLayout from a QEMU keymap file's text. Lines are `keysym-name scancode [shift]
    [altgr] [numlock] [addupper] ...`; `include other` lines are read through `read(name)`
    (a callable returning the text, or None)."""
    by_name = keysym_tables()[0]
    entries: dict[int, tuple[int, bool, bool]] = {}  # keysym -> (rank, shift, altgr)
    has_level3 = False

    def add(sym: int, shift: bool, altgr: bool) -> None:
        rank = int(shift) + 2 * int(altgr)
        old = entries.get(sym)
        if old is None or rank < old[0]:
            entries[sym] = (rank, shift, altgr)

    def parse(body: str, depth: int) -> None:
        nonlocal has_level3
        for raw in body.splitlines():
            tokens = raw.split("#", 1)[0].split()
            if len(tokens) < 2:
                continue
            if tokens[0] == "include":
                if depth < 4 and callable(read) and _NAME.match(tokens[1]):
                    sub = read(tokens[1])
                    if isinstance(sub, str):
                        parse(sub, depth + 1)
                continue
            if tokens[0] == "map":
                continue
            key, flags = tokens[0], set(tokens[2:])
            if "numlock" in flags or "inhibit" in flags:
                continue
            if key == "ISO_Level3_Shift":
                has_level3 = True
            sym = by_name.get(key)
            if sym is None and len(key) == 1:
                sym = ord(key)
            if sym is None:
                continue
            shift, altgr = "shift" in flags, "altgr" in flags
            add(sym, shift, altgr)
            if "addupper" in flags and len(key) == 1 and key.isalpha():
                add(ord(key.upper()), True, altgr)

    parse(text, 0)
    altgr_sym = XK_ISO_LEVEL3_SHIFT if has_level3 else XK_ALT_R
    mods = {
        sym: ((XK_SHIFT_L,) if shift else ()) + ((altgr_sym,) if altgr else ())
        for sym, (_rank, shift, altgr) in entries.items()
    }
    return KeyLayout(name, mods)


def keymap_path(name: str, dirs: tuple[Path, ...] = KEYMAP_DIRS) -> Path | None:
    if not _NAME.match(name):
        return None
    for directory in dirs:
        path = directory / name
        if path.is_file():
            return path
    return None


def load_layout(keymap: str | None, dirs: tuple[Path, ...] = KEYMAP_DIRS) -> KeyLayout | None:
    """Blocking (reads a file): the layout QEMU uses for a display with `keymap` (None: QEMU's
    default, en-us); None when the keymap file is not found (the US rules apply then)."""
    name = keymap or DEFAULT_KEYMAP

    def read(other: str) -> str | None:
        path = keymap_path(other, dirs)
        try:
            return None if path is None else path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    text = read(name)
    if text is None:
        return None
    return parse_keymap(name, text, read)
