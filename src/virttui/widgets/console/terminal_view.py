"""A terminal emulator widget: guest bytes in (any thread), keys out, pyte screen drawn in cells.

Data path: `feed_inline()` (called on the libvirt event loop thread, which reads the stream)
appends to a bounded buffer (past MAX_PENDING bytes the oldest are dropped and counted: memory
stays bounded whatever the guest sends) and, when nothing is queued, runs the emulator over the
read right there for at most INLINE_BUDGET (an echo needs no hand-off to another thread); a
backlog goes to a feeder thread (`feed()` queues for it directly), which runs the emulator
(VtStream -> VtScreen) in small slices under a lock, one thread at a time, so a flood never
stalls the UI thread (a slice is halved while a step takes longer
than SLICE_BUDGET: output that costs more per byte does not hold the lock longer; a trickle of
small reads is gathered for up to GATHER_S after the previous step into one step), and no
input can kill it (a failing slice is counted in `feed_errors` and skipped). A timer redraws the rows pyte marked dirty at most 30
times a second (JUMP_HZ while the output scrolls a quarter screen or more between frames: jump
scroll, as xterm's): it copies those rows out under the lock and renders them after releasing it.
Drawing stays cheap whatever the guest prints: a row whose line is unchanged (pyte marks every
row dirty when the screen scrolls, but the lines only move) keeps its rendered strip, only the
rows whose strip changed are repainted, the widget's base style is folded into the row styles
(no restyling pass per frame), and each strip carries its cell width, measured per character
at C speed with Rich's own widths cached per code point (random non-ASCII text otherwise costs
Rich a Python step per character, every frame).
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
from itertools import groupby, repeat
from operator import itemgetter

from pyte.screens import Char
from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from virttui.core.common import gc_pacer, gil_switch
from virttui.core.console.keycodes import serial_bytes
from virttui.core.console.vt_screen import DEFAULT_SCROLLBACK, VtScreen, VtStream
from virttui.widgets.common import strip_cycles

log = logging.getLogger(__name__)

LEAVE_KEY = "ctrl+right_square_bracket"
SCROLL_KEYS = {"shift+pageup": 1, "shift+pagedown": -1}
REFRESH_HZ = 30
JUMP_HZ = 10  # frames per second while the output scrolls fast ...
JUMP_FRACTION = 4  # ... i.e. by 1/JUMP_FRACTION of the screen's rows or more between frames
_now = time.monotonic  # the jump scroll's clock (tests replace it)
FEED_SLICE = 2048  # bytes per emulator step at most: the lock is never held long
MIN_FEED_SLICE = 128  # ... and at least
SLICE_BUDGET = 0.001  # seconds one step should take: costly output is fed in smaller steps
MAX_PENDING = 1 << 20  # bytes waiting for the emulator; beyond that the oldest are dropped
# A serial console delivers a flood as thousands of reads a second of a few bytes each (7,500/s,
# median 7 bytes, from the tiny guest under TCG): the feeder gathers a trickle for at most this
# long after its previous step instead of waking for each read (every wake-up is a GIL hand-off
# and a whole emulator step for a handful of bytes). An echo after a quiet spell is not delayed.
GATHER_S = 0.002
_sleep = time.sleep  # the gathering wait (tests watch it)
# The thread that reads the guest's output (libvirt's event loop) emulates a read itself when the
# feeder has nothing queued, for at most this long (the rest goes to the feeder): an echo is on
# the screen model without waking another thread and waiting for it to get the GIL (the console
# bench: arrival -> emulated p99 13-14 ms -> 4-6 ms, plain lines and random bytes alike).
INLINE_BUDGET = 0.002

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


class _CellUnits(dict[int, str]):
    """Code point -> one "x" per terminal cell it takes, as Rich counts it (`str.translate`
    table: a text's cell width is the length of its translation). Bounded."""

    def __missing__(self, code: int) -> str:
        units = "x" * get_character_cell_size(chr(code))
        if len(self) >= 1 << 16:
            self.clear()
        self[code] = units
        return units


_CELL_UNITS = _CellUnits()
_JOINERS = ("\u200d", "\ufe0f")  # Rich measures text with these as a whole


def cell_width(text: str) -> int:
    """Rich's `cell_len(text)`, without a Python step per character for non-ASCII text."""
    if text.isascii() and text.isprintable():
        return len(text)
    if _JOINERS[0] in text or _JOINERS[1] in text:
        return cell_len(text)
    return len(text.translate(_CELL_UNITS))


_ATTRS = itemgetter(1, 2, 3, 4, 5, 6, 7, 8)  # a Char's attributes: all but its data
_DATA = itemgetter(0)
_NO_LINE: dict[int, Char] = {}  # a row pyte never wrote (shared, never written to)


class _Row:
    """One rendered row: the line it was drawn from (pyte's own dict, which moves from row to
    row as the screen scrolls), a copy of its cells when drawn, the cursor column on it and
    the default cell, and the strip."""

    __slots__ = ("line", "cells", "cursor", "default", "strip")

    def __init__(
        self,
        line: Mapping[int, Char],
        cells: dict[int, Char],
        cursor: int | None,
        default: Char,
        strip: Strip | None = None,
    ) -> None:
        self.line, self.cells, self.cursor, self.default = line, cells, cursor, default
        self.strip = strip


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
        strip_cycles.install()  # its rows' strips freed when replaced (also outside the app)
        self._send = send
        self._lock = threading.Lock()
        self.vt = VtScreen(columns, rows, scrollback=scrollback, reply=self._reply)
        self._stream = VtStream(self.vt)
        self._pending = bytearray()
        self._pending_lock = threading.Condition()
        self._threaded = threaded
        self._stop = False
        self._draining = False  # a thread is emulating (one at a time: the bytes stay in order)
        self._scrolled_drawn = 0  # vt.scrolled at the last frame drawn
        self._next_jump_frame = 0.0
        self._feeder: threading.Thread | None = None
        self._holds_gil_switch = False
        self._changed = True
        self._strips: list[Strip] = []
        self._rows: list[_Row | None] = []  # what each strip was drawn from
        self._styles: dict[tuple[object, ...], Style] = {}
        self._base: Style | None = None  # the widget's style, folded into self._styles
        self._columns = columns  # of the strips
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
        """Queue guest output for the feeder thread (any thread)."""
        if not data:
            return
        with self._pending_lock:
            self._queue_locked(data)
            self._pending_lock.notify()
        if not self._threaded:
            self._drain()

    def feed_inline(self, data: bytes) -> None:
        """feed() for the thread that reads the guest's output: when the feeder is idle, emulate
        here at once, for at most INLINE_BUDGET; what is left (a backlog) goes to the feeder."""
        if not data or not self._threaded:
            self.feed(data)
            return
        with self._pending_lock:
            self._queue_locked(data)
            if self._draining or self._stop:
                self._pending_lock.notify()  # the thread emulating now takes it
                return
            self._draining = True
        try:
            self._drain(time.perf_counter() + INLINE_BUDGET)
        finally:
            with self._pending_lock:
                self._draining = False
                if self._pending:
                    self._pending_lock.notify()  # the rest: the feeder's

    def _queue_locked(self, data: bytes) -> None:
        self._pending += data
        self.bytes_fed += len(data)
        excess = len(self._pending) - MAX_PENDING
        if excess > 0:
            del self._pending[:excess]
            self.bytes_dropped += excess
            self.bytes_consumed += excess

    def _drain(self, deadline: float | None = None) -> None:
        """Emulate what is pending, a slice per step; with a deadline, stop after the step that
        passes it. The caller is the only thread emulating (`_draining`, or unthreaded)."""
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
            if deadline is not None and time.perf_counter() >= deadline:
                return

    def _feed_loop(self) -> None:
        last = 0.0  # when the previous step ended
        while True:
            with self._pending_lock:
                while (not self._pending or self._draining) and not self._stop:
                    self._pending_lock.wait()
                if self._stop:
                    return
                self._draining = True
                trickle = len(self._pending) < self.feed_slice
            try:
                if trickle:
                    wait = last + GATHER_S - time.perf_counter()
                    if wait > 0:
                        _sleep(wait)
                self._drain()
            finally:
                with self._pending_lock:
                    self._draining = False
            last = time.perf_counter()

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
            gil_switch.hold()  # the feeder is CPU-bound in a flood: keys and echoes wait less
            self._holds_gil_switch = True
            self._feeder = threading.Thread(target=self._feed_loop, name="vt-feeder", daemon=True)
            self._feeder.start()
        self.set_interval(1 / REFRESH_HZ, self._tick, name="terminal-refresh")

    def on_unmount(self) -> None:
        with self._pending_lock:
            self._stop = True
            self._pending_lock.notify_all()
        if self._feeder is not None:
            self._feeder.join(timeout=1)
        if self._holds_gil_switch:
            self._holds_gil_switch = False
            gil_switch.release()

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
        gc_pacer.PACER.busy()  # output is coming: the next full GC collection waits for a lull
        # Jump scroll (as xterm's): output that scrolls a quarter of the screen or more between
        # two frames (hundreds of lines a second) cannot be read, and each such frame repaints
        # every row: draw those frames at JUMP_HZ instead of REFRESH_HZ, which leaves the UI
        # thread free for the keys. The emulator is still fed at full speed; the last frame of
        # a flood comes at most 1/JUMP_HZ late.
        now = _now()
        scrolled = self.vt.scrolled - self._scrolled_drawn  # an int read: no lock needed
        if scrolled >= max(1, self.vt.lines // JUMP_FRACTION) and self.history_offset == 0:
            if now < self._next_jump_frame:
                return
            self._next_jump_frame = now + 1 / JUMP_HZ
        self._scrolled_drawn += scrolled
        self._set_base(self.rich_style)
        # Under the lock only look at the dirty rows: a line that did not change since it was
        # drawn (it only moved: pyte marks every row dirty on a scroll) keeps its strip, the
        # others are copied out (a few dicts) and rendered after releasing the lock, so the
        # feeder thread never waits for the drawing and the drawing never for pyte.
        with self._lock:
            self._changed = False
            vt = self.vt
            rows, columns, default = vt.lines, vt.columns, vt.default_char
            offset = min(self.history_offset, len(vt.scrollback))
            resized = (rows, columns) != (len(self._strips), self._columns)
            dirty = range(rows) if resized or offset else sorted(vt.dirty)
            vt.dirty.clear()
            history = vt.scrollback
            show_cursor = not vt.cursor.hidden and offset == 0
            cursor_x, cursor_y = vt.cursor.x, vt.cursor.y
            drawn = {} if resized else {id(r.line): r for r in self._rows if r is not None}
            todo: list[tuple[int, _Row]] = []
            for y in dirty:
                if y >= rows:
                    continue
                src = y - offset
                if src < 0:
                    line: Mapping[int, Char] = history[len(history) + src]
                else:
                    line = vt.buffer.get(src) or _NO_LINE
                row_cursor = cursor_x if show_cursor and src == cursor_y else None
                old = drawn.get(id(line))
                if (
                    old is not None
                    and old.line is line
                    and old.cursor == row_cursor
                    and old.default == default
                    and old.cells == line
                ):
                    todo.append((y, old))
                else:
                    todo.append((y, _Row(line, dict(line), row_cursor, default)))
        if resized:
            self._strips = [Strip.blank(columns, self._base)] * rows
            self._rows = [None] * rows
            self._columns = columns
        changed: list[int] = []
        for y, row in todo:
            if row.strip is None:
                row.strip = self._render_row(row.cells, row.cursor, row.default, columns)
            if row.strip is not self._strips[y]:
                self._strips[y] = row.strip
                changed.append(y)
            self._rows[y] = row
        if resized or len(changed) == rows:
            self.refresh()
        elif changed:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _set_base(self, base: Style) -> bool:
        """The widget's own style (colours from CSS) changed: row styles include it, so every
        row is drawn again. True if it changed."""
        if base == self._base:
            return False
        self._base = base
        self._styles.clear()
        columns = self._columns
        for y, row in enumerate(self._rows):
            if row is None:
                self._strips[y] = Strip.blank(columns, base)
            else:
                row.strip = self._render_row(row.cells, row.cursor, row.default, columns)
                self._strips[y] = row.strip
        return True

    def _style(self, attrs: tuple[object, ...], cursor: bool) -> Style:
        """The style of cells with these attributes (a Char but its data), on the cursor or not."""
        key = (*attrs, cursor)
        style = self._styles.get(key)
        if style is None:
            fg, bg, bold, italics, underscore, strike, reverse, _blink = attrs
            style = Style(
                color=_colour(fg),  # type: ignore[arg-type]  # pyte's colour names and hex, which Rich parses
                bgcolor=_colour(bg),  # type: ignore[arg-type]  # as above
                bold=bool(bold) or None,
                italic=bool(italics) or None,
                underline=bool(underscore) or None,
                strike=bool(strike) or None,
                reverse=(reverse != cursor) or None,
            )
            if self._base is not None:
                style = self._base + style  # what Strip.apply_style(base) would make of it
            if len(self._styles) > 4096:
                self._styles.clear()
            self._styles[key] = style
        return style

    def _render_row(
        self, line: Mapping[int, Char], cursor_x: int | None, default: Char, columns: int
    ) -> Strip:
        """One segment per run of cells with the same attributes, the cursor cell apart. The
        cells are looked up, grouped and joined by C code (map / groupby / join): a row costs
        a few Python steps per run, not per cell."""
        cells = list(map(line.get, range(columns), repeat(default, columns)))
        segments: list[Segment] = []
        width = 0
        parts: tuple[list[Char], ...]
        if cursor_x is not None and 0 <= cursor_x < columns:
            parts = (cells[:cursor_x], cells[cursor_x + 1 :])
        else:
            parts, cursor_x = (cells,), None
        for i, part in enumerate(parts):
            if i and cursor_x is not None:  # the cursor, between the two parts
                char = cells[cursor_x]
                text = char.data or " "
                width += cell_width(text)
                segments.append(Segment(text, self._style(_ATTRS(char), True)))
            for attrs, run in groupby(part, _ATTRS):
                text = "".join(map(_DATA, run))
                width += cell_width(text)
                segments.append(Segment(text, self._style(attrs, False)))
        return Strip(segments, width)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self.is_mounted and self._set_base(self.rich_style):
            self.refresh()  # a style change repaints every row: make sure Textual knows
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base if self._base is not None else self.rich_style
        if y >= len(self._strips):
            return Strip.blank(width, base)
        strip = self._strips[y]
        if strip.cell_length == width:
            return strip
        return strip.adjust_cell_length(width, base)

    # ------------------------------------------------------------------ scrollback
    def scroll_history(self, direction: int) -> None:
        with self._lock:
            limit = len(self.vt.scrollback)
            page = max(1, self.vt.lines - 1)
            new = max(0, min(limit, self.history_offset + direction * page))
            if new == self.history_offset:
                return
            self.history_offset = new
            self.vt.dirty.update(range(self.vt.lines))  # back at 0 too: the live rows again
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
