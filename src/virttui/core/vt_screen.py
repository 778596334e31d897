"""A pyte screen for serial consoles: bounded scrollback, terminal replies, fast plain text.

Differences from pyte's own screens, each for a reason:
- Scrollback is a `deque(maxlen=...)` of the lines that scrolled off the top, so memory stays
  bounded; pyte's HistoryScreen wraps every attribute access in Python (about 2x slower) and
  pages by rewriting the live buffer.
- Replies the terminal owes the guest (cursor position for `ESC[6n`, which busybox sends after
  each prompt, device attributes) go to a `reply` callback instead of being dropped.
- Runs of printable ASCII (floods, `yes`, logs) are drawn a line at a time with shared `Char`
  objects instead of one Python call per character: identical result, several times faster,
  and a full scrollback line costs one dict, not one tuple per cell.
- The alternate screen (`ESC[?1049h` / `ESC[?47h`), used by `vi` and `top`, is kept apart and
  restored on exit, like xterm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import pyte
from pyte import modes as mo
from pyte.screens import Char, Margins

DEFAULT_SCROLLBACK = 1000
DECCKM = 1 << 5  # private mode 1 (application cursor keys), shifted like pyte's private modes
_ALT_SCREEN_MODES = (1049, 1047, 47)


class _CharCache(dict[str, Char]):
    """One shared Char per (character, attributes)."""

    def __init__(self, attrs: Char) -> None:
        super().__init__()
        self.attrs = attrs

    def __missing__(self, key: str) -> Char:
        char = self.attrs._replace(data=key)
        self[key] = char
        return char


class VtScreen(pyte.Screen):
    def __init__(
        self,
        columns: int,
        lines: int,
        *,
        scrollback: int = DEFAULT_SCROLLBACK,
        reply: Callable[[str], None] | None = None,
    ) -> None:
        self.scrollback: deque[dict[int, Char]] = deque(maxlen=max(0, scrollback))
        self._reply = reply
        self._char_caches: dict[Char, _CharCache] = {}
        self._saved_main: dict[int, dict[int, Char]] | None = None
        super().__init__(columns, lines)

    # ------------------------------------------------------------------ replies
    def write_process_input(self, data: str) -> None:
        if self._reply is not None:
            self._reply(data)

    @property
    def app_cursor_keys(self) -> bool:
        """DECCKM is set: cursor keys send SS3 sequences (vi, less, top)."""
        return DECCKM in self.mode

    # ------------------------------------------------------------------ scrollback
    @property
    def in_alternate_screen(self) -> bool:
        return self._saved_main is not None

    def index(self) -> None:
        # pyte's index, plus scrollback, without materialising blank lines while shifting.
        lines = self.lines
        top, bottom = self.margins or Margins(0, lines - 1)
        if self.cursor.y != bottom:
            self.cursor_down()
            return
        buf = self.buffer
        if top == 0 and bottom == lines - 1 and self._saved_main is None:
            self.scrollback.append(buf.get(top) or {})
        self.dirty.update(range(lines))
        for y in range(top, bottom):
            line = buf.get(y + 1)
            if line is None:
                buf.pop(y, None)
            else:
                buf[y] = line
        buf.pop(bottom, None)

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:
            self.scrollback.clear()

    def reset(self) -> None:
        super().reset()
        self._saved_main = None
        if hasattr(self, "scrollback"):
            self.scrollback.clear()

    # ------------------------------------------------------------------ alternate screen
    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_SCREEN_MODES for m in modes):
            self._enter_alternate()
            modes = tuple(m for m in modes if m not in _ALT_SCREEN_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_SCREEN_MODES for m in modes):
            self._leave_alternate()
            modes = tuple(m for m in modes if m not in _ALT_SCREEN_MODES)
        super().reset_mode(*modes, **kwargs)

    def _enter_alternate(self) -> None:
        if self._saved_main is not None:
            return
        self.save_cursor()
        self._saved_main = dict(self.buffer)
        self.buffer.clear()
        self.dirty.update(range(self.lines))

    def _leave_alternate(self) -> None:
        if self._saved_main is None:
            return
        saved, self._saved_main = self._saved_main, None
        self.buffer.clear()
        for y, line in saved.items():
            if y < self.lines:
                self.buffer[y] = line
        self.restore_cursor()
        self.dirty.update(range(self.lines))

    # ------------------------------------------------------------------ fast drawing
    def draw(self, data: str) -> None:
        data = data.translate(self.g1_charset if self.charset else self.g0_charset)
        if not (data.isascii() and data.isprintable()) or mo.IRM in self.mode:
            super().draw(data)
            return
        if mo.DECAWM not in self.mode:
            super().draw(data)  # rare: overwrite the last column again and again
            return
        cursor = self.cursor
        cache = self._char_cache(cursor.attrs)
        columns = self.columns
        pos, end = 0, len(data)
        while pos < end:
            if cursor.x >= columns:
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            take = min(columns - x, end - pos)
            chunk = data[pos : pos + take]
            cells = zip(range(x, x + take), map(cache.__getitem__, chunk), strict=True)
            self.buffer[cursor.y].update(cells)
            cursor.x = x + take
            pos += take
        self.dirty.add(cursor.y)

    def _char_cache(self, attrs: Char) -> _CharCache:
        cache = self._char_caches.get(attrs)
        if cache is None:
            if len(self._char_caches) > 256:
                self._char_caches.clear()
            cache = self._char_caches[attrs] = _CharCache(attrs)
        return cache
