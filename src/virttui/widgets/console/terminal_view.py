"""A terminal emulator widget: guest bytes in (any thread), keys out, pyte screen drawn in cells.

Data path: `feed()` (called on the libvirt event loop thread) appends to a bounded buffer (past
MAX_PENDING bytes the oldest are dropped and counted: memory stays bounded whatever the guest
sends); a feeder thread runs the emulator (VtStream -> VtScreen) over it in small slices under
a lock, so a flood never stalls the UI thread (a slice is halved while a step takes longer
than SLICE_BUDGET: output that costs more per byte does not hold the lock longer), and no
input can kill it (a failing slice is counted in `feed_errors` and skipped). A timer redraws the rows pyte marked dirty at most 30
times a second: it copies those rows out under the lock and renders them after releasing it.
Everything the user types goes to the guest through `send` (bytes), except:
- Ctrl+] posts `TerminalView.Leave` (the escape key, like virsh console);
- Shift+PgUp / Shift+PgDn scroll through the capped scrollback (any other key snaps back).
The pyte screen follows the widget's size. A serial line carries no window size (no SIGWINCH):
run `stty cols N rows M` in the guest; `stty_command()` builds that line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from pyte.screens import Char
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from virttui.core.console.keycodes import serial_bytes
from virttui.core.console.vt_screen import DEFAULT_SCROLLBACK, VtScreen, VtStream

log = logging.getLogger(__name__)

LEAVE_KEY = "ctrl+right_square_bracket"
SCROLL_KEYS = {"shift+pageup": 1, "shift+pagedown": -1}
REFRESH_HZ = 30
FEED_SLICE = 2048  # bytes per emulator step at most: the lock is never held long
MIN_FEED_SLICE = 128  # ... and at least
SLICE_BUDGET = 0.001  # seconds one step should take: costly output is fed in smaller steps
MAX_PENDING = 1 << 20  # bytes waiting for the emulator; beyond that the oldest are dropped

_COLOURS = {
    "black": "black", "red": "red", "green": "green", "brown": "yellow", "blue": "blue",
    "magenta": "magenta", "cyan": "cyan", "white": "white",
    "brightblack": "bright_black", "brightred": "bright_red", "brightgreen": "bright_green",
    "brightbrown": "bright_yellow", "brightblue": "bright_blue",
    "brightmagenta": "bright_magenta", "bfightmagenta": "bright_magenta",  # pyte's typo
    "brightcyan": "bright_cyan", "brightwhite": "bright_white",
}  # fmt: skip


def _colour(name: str) -> str | None:
    if name == "default":
        return None
    if name in _COLOURS:
        return _COLOURS[name]
    if len(name) == 6:
        return "#" + name
    return None


def stty_command(columns: int, rows: int) -> str:
    return f"stty cols {columns} rows {rows}"


class TerminalView(Widget, can_focus=True):
    DEFAULT_CSS = """
    TerminalView { width: 1fr; height: 1fr; }
    """

    class Leave(Message):
        """The user pressed the escape key (Ctrl+])."""

    class Scrolled(Message):
        def __init__(self, offset: int) -> None:
            self.offset = offset
            super().__init__()

    class Resized(Message):
        def __init__(self, columns: int, rows: int) -> None:
            self.columns, self.rows = columns, rows
            super().__init__()

    def __init__(
        self,
        send: Callable[[bytes], None] | None = None,
        *,
        scrollback: int = DEFAULT_SCROLLBACK,
        columns: int = 80,
        rows: int = 24,
        threaded: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._send = send
        self._lock = threading.Lock()
        self.vt = VtScreen(columns, rows, scrollback=scrollback, reply=self._reply)
        self._stream = VtStream(self.vt)
        self._pending = bytearray()
        self._pending_lock = threading.Condition()
        self._threaded = threaded
        self._stop = False
        self._feeder: threading.Thread | None = None
        self._changed = True
        self._strips: list[Strip] = []
        self._styles: dict[tuple[object, ...], Style] = {}
        self.history_offset = 0
        self.bytes_fed = 0
        self.bytes_consumed = 0  # taken off the pending buffer: emulated or dropped
        self.bytes_dropped = 0
        self.feed_errors = 0
        self.feed_slice = FEED_SLICE  # bytes in the next emulator step
        self.replies: list[str] = []

    # ------------------------------------------------------------------ wiring
    def set_sender(self, send: Callable[[bytes], None] | None) -> None:
        self._send = send

    def send(self, data: bytes) -> None:
        if data and self._send is not None:
            self._send(data)

    def _reply(self, text: str) -> None:
        # Emulator answers (cursor position for ESC[6n...), produced on the feeder thread.
        self.replies.append(text)
        if len(self.replies) > 16:
            del self.replies[:8]
        self.send(text.encode())

    # ------------------------------------------------------------------ data in (any thread)
    def feed(self, data: bytes) -> None:
        if not data:
            return
        with self._pending_lock:
            self._pending += data
            self.bytes_fed += len(data)
            excess = len(self._pending) - MAX_PENDING
            if excess > 0:
                del self._pending[:excess]
                self.bytes_dropped += excess
                self.bytes_consumed += excess
            self._pending_lock.notify()
        if not self._threaded:
            self._drain()

    def _drain(self) -> None:
        while True:
            with self._pending_lock:
                if not self._pending or self._stop:
                    return
                size = self.feed_slice
                chunk = bytes(self._pending[:size])
                del self._pending[:size]
            with self._lock:
                started = time.perf_counter()
                try:
                    self._stream.feed(chunk)
                except Exception:  # noqa: BLE001 - VtStream drops bad sequences; this is the net
                    self.feed_errors += 1
                    log.debug("terminal feed failed", exc_info=True)
                    self._stream = VtStream(self.vt)
                self._changed = True
                took = time.perf_counter() - started
            if took > SLICE_BUDGET:
                self.feed_slice = max(MIN_FEED_SLICE, size // 2)
            elif took < SLICE_BUDGET / 2 and len(chunk) == size:
                self.feed_slice = min(FEED_SLICE, size * 2)
            with self._pending_lock:
                self.bytes_consumed += len(chunk)

    def _feed_loop(self) -> None:
        while True:
            with self._pending_lock:
                while not self._pending and not self._stop:
                    self._pending_lock.wait()
                if self._stop:
                    return
            self._drain()

    @property
    def feeder_alive(self) -> bool:
        return self._feeder is not None and self._feeder.is_alive()

    @property
    def dropped_sequences(self) -> int:
        """Escape sequences the emulator could not handle and skipped."""
        return self._stream.dropped_sequences

    @property
    def backlog(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        if self._threaded:
            self._feeder = threading.Thread(target=self._feed_loop, name="vt-feeder", daemon=True)
            self._feeder.start()
        self.set_interval(1 / REFRESH_HZ, self._tick, name="terminal-refresh")

    def on_unmount(self) -> None:
        with self._pending_lock:
            self._stop = True
            self._pending_lock.notify_all()
        if self._feeder is not None:
            self._feeder.join(timeout=1)

    def on_resize(self, event: events.Resize) -> None:
        cols, rows = max(2, event.size.width), max(2, event.size.height)
        with self._lock:
            if (cols, rows) == (self.vt.columns, self.vt.lines):
                return
            self.vt.resize(lines=rows, columns=cols)
            self.vt.dirty.update(range(rows))
            self._changed = True
        self.post_message(self.Resized(cols, rows))
        self._tick()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.vt.columns

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.vt.lines

    # ------------------------------------------------------------------ drawing
    def _tick(self) -> None:
        if not self._changed:
            return
        # Under the lock only copy the dirty rows out (a few dicts); render after releasing it,
        # so the feeder thread never waits for the drawing and the drawing never for pyte.
        with self._lock:
            self._changed = False
            vt = self.vt
            rows, columns, default = vt.lines, vt.columns, vt.default_char
            offset = min(self.history_offset, len(vt.scrollback))
            resized = len(self._strips) != rows
            dirty = range(rows) if resized or offset else sorted(vt.dirty)
            vt.dirty.clear()
            history = vt.scrollback
            show_cursor = not vt.cursor.hidden and offset == 0
            cursor_x, cursor_y = vt.cursor.x, vt.cursor.y
            copied: list[tuple[int, dict[int, Char], int | None]] = []
            for y in dirty:
                if y >= rows:
                    continue
                src = y - offset
                if src < 0:
                    line: Mapping[int, Char] = history[len(history) + src]
                else:
                    line = vt.buffer.get(src) or {}
                copied.append(
                    (y, dict(line), cursor_x if show_cursor and src == cursor_y else None)
                )
        if resized:
            self._strips = [Strip.blank(columns)] * rows
        for y, row, row_cursor in copied:
            self._strips[y] = self._render_row(row, row_cursor, default, columns)
        self.refresh()

    def _style(self, char: Char, cursor: bool) -> Style:
        key = (*char[1:], cursor)
        style = self._styles.get(key)
        if style is None:
            _d, fg, bg, bold, italics, underscore, strike, reverse, _blink = char
            style = Style(
                color=_colour(fg),
                bgcolor=_colour(bg),
                bold=bold or None,
                italic=italics or None,
                underline=underscore or None,
                strike=strike or None,
                reverse=(reverse != cursor) or None,
            )
            if len(self._styles) > 4096:
                self._styles.clear()
            self._styles[key] = style
        return style

    def _render_row(
        self, line: Mapping[int, Char], cursor_x: int | None, default: Char, columns: int
    ) -> Strip:
        segments: list[Segment] = []
        run: list[str] = []
        run_attrs: tuple[object, ...] | None = None
        run_char = default
        for x in range(columns):
            char = line.get(x, default)
            if x == cursor_x:
                if run:
                    segments.append(Segment("".join(run), self._style(run_char, False)))
                    run = []
                segments.append(Segment(char.data or " ", self._style(char, True)))
                run_attrs = None
                continue
            attrs = char[1:]
            if attrs != run_attrs:
                if run:
                    segments.append(Segment("".join(run), self._style(run_char, False)))
                run, run_attrs, run_char = [], attrs, char
            run.append(char.data)
        if run:
            segments.append(Segment("".join(run), self._style(run_char, False)))
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y < len(self._strips):
            strip = self._strips[y]
        else:
            strip = Strip.blank(width)
        return strip.apply_style(base).adjust_cell_length(width, base)

    # ------------------------------------------------------------------ scrollback
    def scroll_history(self, direction: int) -> None:
        with self._lock:
            limit = len(self.vt.scrollback)
            page = max(1, self.vt.lines - 1)
            new = max(0, min(limit, self.history_offset + direction * page))
            if new == self.history_offset:
                return
            self.history_offset = new
            self._changed = True
        self.post_message(self.Scrolled(new))
        self._tick()

    def _snap_to_bottom(self) -> None:
        if self.history_offset:
            self.history_offset = 0
            with self._lock:
                self.vt.dirty.update(range(self.vt.lines))
                self._changed = True
            self.post_message(self.Scrolled(0))

    # ------------------------------------------------------------------ keys and paste
    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == LEAVE_KEY:
            self.post_message(self.Leave())
            return
        if event.key in SCROLL_KEYS:
            self.scroll_history(SCROLL_KEYS[event.key])
            return
        data = serial_bytes(event.key, event.character, app_cursor=self.vt.app_cursor_keys)
        if data:
            self._snap_to_bottom()
            self.send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if event.text:
            self._snap_to_bottom()
            self.send(event.text.replace("\r\n", "\r").replace("\n", "\r").encode("utf-8"))

    # ------------------------------------------------------------------ reading (tests, tools)
    def display_lines(self) -> list[str]:
        with self._lock:
            return list(self.vt.display)

    def cursor_position(self) -> tuple[int, int]:
        with self._lock:
            return (self.vt.cursor.x, self.vt.cursor.y)
