"""The guest's screen drawn with half blocks: two pixels per cell, true colour or 256 colours.

The view holds the last Frame; `set_frame()` skips all work when the frame digest and the view
size did not change, and reuses the cells of the last few frames (a blinking cursor). Keys become Linux keycodes handed to `send_keys` (the screen sends them
with virDomainSendKey); Ctrl+] posts Leave and Ctrl+\\ posts MenuRequested (special keys).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from virttui.core.console.keycodes import char_keycodes, linux_keycodes
from virttui.core.console.screenshot import RGB, Frame, fit_cells, half_block_rows, quantize_rows

UPPER_HALF = "\u2580"
LEAVE_KEY = "ctrl+right_square_bracket"
MENU_KEY = "ctrl+backslash"
RECENT_FRAMES = 4


class FramebufferView(Widget, can_focus=True):
    DEFAULT_CSS = """
    FramebufferView { width: 1fr; height: 1fr; }
    """

    class Leave(Message):
        pass

    class MenuRequested(Message):
        pass

    def __init__(
        self,
        send_keys: Callable[[list[int]], None] | None = None,
        *,
        send_pointer: Callable[[int, int, int], None] | None = None,
        key_hook: Callable[[events.Key], bool] | None = None,
        colors: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._send_keys = send_keys
        self._send_pointer = send_pointer  # guest x, y, RFB button mask
        self._key_hook = key_hook  # first look at every key; True = handled
        self._buttons = 0
        self._colors = colors  # "truecolor" / "256"; None: ask the terminal
        self.frame: Frame | None = None
        self._drawn: tuple[str, int, int, bool] | None = None
        self._strips: list[Strip] = []
        # Recent frames' strips: a blinking text cursor alternates between two frames.
        self._recent: OrderedDict[tuple[str, int, int, bool], list[Strip]] = OrderedDict()
        self._styles: dict[tuple[object, object], Style] = {}
        self.redraws = 0

    # ------------------------------------------------------------------ frames
    @property
    def truecolor(self) -> bool:
        if self._colors is not None:
            return self._colors == "truecolor"
        return self.app.console.color_system == "truecolor"

    def set_frame(self, frame: Frame) -> bool:
        """Show a frame; False when nothing changed (same digest, same size)."""
        self.frame = frame
        return self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        self._rebuild()

    def _rebuild(self) -> bool:
        frame = self.frame
        width, height = self.size.width, self.size.height
        if frame is None or width <= 0 or height <= 0:
            return False
        key = (frame.digest, width, height, self.truecolor)
        if key == self._drawn:
            return False
        self._drawn = key
        cached = self._recent.get(key)
        if cached is not None:
            self._recent.move_to_end(key)
            self._strips = cached
            self.refresh()
            return True
        cols, rows = fit_cells(frame.image.width, frame.image.height, width, height)
        cells = half_block_rows(frame.image, cols, rows)
        if self.truecolor:
            self._strips = [
                self._strip([(self._rgb(t), self._rgb(b)) for t, b in row]) for row in cells
            ]
        else:
            self._strips = [
                self._strip([(Color.from_ansi(t), Color.from_ansi(b)) for t, b in row])
                for row in quantize_rows(cells)
            ]
        self._recent[key] = self._strips
        while len(self._recent) > RECENT_FRAMES:
            self._recent.popitem(last=False)
        self.redraws += 1
        self.refresh()
        return True

    @staticmethod
    def _rgb(c: RGB) -> Color:
        return Color.from_rgb(*c)

    def _strip(self, cells: list[tuple[Color, Color]]) -> Strip:
        segments: list[Segment] = []
        run = 0
        prev: tuple[Color, Color] | None = None
        for cell in cells:
            if cell != prev and run:
                segments.append(Segment(UPPER_HALF * run, self._style(prev)))  # type: ignore[arg-type]  # prev is set once run > 0
                run = 0
            prev = cell
            run += 1
        if run and prev is not None:
            segments.append(Segment(UPPER_HALF * run, self._style(prev)))
        return Strip(segments)

    def _style(self, cell: tuple[Color, Color]) -> Style:
        style = self._styles.get(cell)
        if style is None:
            if len(self._styles) > 65536:
                self._styles.clear()
            style = self._styles[cell] = Style(color=cell[0], bgcolor=cell[1])
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        strip = self._strips[y] if y < len(self._strips) else Strip.blank(0)
        return strip.adjust_cell_length(width, base)

    # ------------------------------------------------------------------ keys
    def set_sender(self, send_keys: Callable[[list[int]], None] | None) -> None:
        self._send_keys = send_keys

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self._key_hook is not None and self._key_hook(event):
            return
        if event.key == LEAVE_KEY:
            self.post_message(self.Leave())
            return
        if event.key == MENU_KEY:
            self.post_message(self.MenuRequested())
            return
        codes = linux_keycodes(event.key, event.character)
        if codes and self._send_keys is not None:
            self._send_keys(codes)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self._send_keys is None:
            return
        for ch in event.text:
            codes = char_keycodes(ch)
            if codes:
                self._send_keys(codes)

    # ------------------------------------------------------------------ mouse (RFB pointer)
    def guest_point(self, x: int, y: int) -> tuple[int, int] | None:
        """The guest pixel under view cell (x, y) of the drawn frame, None outside it."""
        frame = self.frame
        if frame is None:
            return None
        w, h = frame.image.width, frame.image.height
        cols, rows = fit_cells(w, h, self.size.width, self.size.height)
        if not (0 <= x < cols and 0 <= y < rows):
            return None
        return (min(w - 1, int((x + 0.5) * w / cols)), min(h - 1, int((y + 0.5) * h / rows)))

    def _pointer(self, x: int, y: int, buttons: int) -> bool:
        point = self.guest_point(x, y)
        if self._send_pointer is None or point is None:
            return False
        self._send_pointer(point[0], point[1], buttons)
        return True

    @staticmethod
    def _button_bit(button: int) -> int:
        return {1: 1, 2: 2, 3: 4}.get(button, 0)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._buttons |= self._button_bit(event.button)
        if self._pointer(event.x, event.y, self._buttons):
            event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._buttons &= ~self._button_bit(event.button)
        if self._pointer(event.x, event.y, self._buttons):
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._pointer(event.x, event.y, self._buttons):
            event.stop()

    def _wheel(self, event: events.MouseEvent, bit: int) -> None:
        if self._pointer(event.x, event.y, self._buttons | bit):
            self._pointer(event.x, event.y, self._buttons)
            event.stop()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, 8)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, 16)
