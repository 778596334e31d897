"""The guest's screen: a sharp image through Kitty graphics or Sixel where the terminal draws
them (see core/console/graphics_mode.py for the choice), else half blocks (two pixels per cell,
true colour or 256 colours).

The view holds the last Frame; `set_frame()` skips all work when the frame digest, the view size
and the pan offset did not change. Half blocks reuse the cells of the last few frames (a blinking
cursor); Kitty/Sixel keep one encoded image, re-encoded only on change, and written as control
segments of the view's last line (Textual's own output; no cell is written under a Sixel image;
under a Kitty image, placed below text and cell backgrounds, the cells are spaces with the
default background).

Overlays (a toast, a tooltip): after every layout refresh of the screen the view notes which of
its regions are covered by widgets drawn in front of it. Sixel pixels are erased by the cells
written over them, and Textual repaints only the uncovered region when an overlay goes, so the
view repaints itself then (the cached sequence is written again, nothing is re-encoded); when
the image goes out while something covers it, those regions are repainted after it, so the
overlay stays on top. A Kitty image sits below text and cell backgrounds and needs neither.

The frame is fitted to the view keeping its aspect ratio (terminal cell size in pixels when the
terminal reports it, else 10x20); Ctrl+^ (`console.one_to_one`) toggles 1:1 pixels, panned with
Shift+arrows (`console.pan_*`, only active in 1:1 mode; otherwise they reach the guest).

Keys: `key_hook` is called first for every key the view gets (True: handled, e.g. sent over
RFB); otherwise they become Linux keycodes handed to `send_keys` (the screen sends them with
virDomainSendKey). Ctrl+] posts Leave and Ctrl+\\ posts MenuRequested (special keys) before the
hook. Paste: `paste_hook(text)` first (True: handled, e.g. typed as keysyms over RFB), else
each character as US-layout Linux keycodes through `send_keys`. Mouse: `send_pointer(x, y,
buttons)` gets guest pixels (cell centres mapped through the current scale / pan) and the RFB
button mask. Where the terminal reports the mouse in pixels (SGR-pixel, mode 1016, which Textual
turns on when the terminal supports it) the exact guest pixel under the pointer is used instead
of the cell centre.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from rich.color import Color
from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from virttui.core.console.graphics_mode import PENDING, GraphicsChoice
from virttui.core.console.keycodes import char_keycodes, linux_keycodes
from virttui.core.console.screenshot import RGB, Frame, fit_cells, half_block_rows, quantize_rows
from virttui.widgets.console.graphics_protocols import (
    DEFAULT_CELL_PIXELS,
    Layout,
    kitty_delete,
    kitty_sequence,
    layout,
    pad_to_cells,
    render_image,
    sixel_sequence,
    tmux_placed,
)

UPPER_HALF = "\u2580"
LEAVE_KEY = "ctrl+right_square_bracket"
MENU_KEY = "ctrl+backslash"
RECENT_FRAMES = 4
PAN_STEP = 0.25  # of the view per Shift+arrow in 1:1 mode
# A zero-width control: Textual emits the text as it is and counts no cells for it.
_RAW = ((ControlType.CURSOR_FORWARD, 0),)
WHEEL_UP, WHEEL_DOWN = 8, 16
_DEFAULT_BG = Style(bgcolor=Color.default())


class FramebufferView(Widget, can_focus=True):
    DEFAULT_CSS = """
    FramebufferView { width: 1fr; height: 1fr; }
    """
    BINDINGS = [
        Binding(
            "ctrl+circumflex_accent",
            "one_to_one",
            "1:1 pixels",
            show=False,
            priority=True,
            id="console.one_to_one",
        ),
        Binding(
            "shift+left", "pan(-1, 0)", "Pan left", show=False, priority=True, id="console.pan_left"
        ),
        Binding(
            "shift+right",
            "pan(1, 0)",
            "Pan right",
            show=False,
            priority=True,
            id="console.pan_right",
        ),
        Binding("shift+up", "pan(0, -1)", "Pan up", show=False, priority=True, id="console.pan_up"),
        Binding(
            "shift+down", "pan(0, 1)", "Pan down", show=False, priority=True, id="console.pan_down"
        ),
    ]

    class Leave(Message):
        pass

    class MenuRequested(Message):
        pass

    class ModeChanged(Message):
        """1:1 toggled or the drawing mode changed: the screen may update its status line."""

    def __init__(
        self,
        send_keys: Callable[[list[int]], None] | None = None,
        *,
        send_pointer: Callable[[int, int, int], None] | None = None,
        key_hook: Callable[[events.Key], bool] | None = None,
        paste_hook: Callable[[str], bool] | None = None,
        colors: str | None = None,
        graphics: GraphicsChoice | None = None,
        cell_pixels: tuple[int, int] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`graphics` / `cell_pixels`: None takes the app's (`app.graphics_choice`,
        `app.cell_pixels`, set at start-up), else half blocks / 10x20."""
        super().__init__(id=id, classes=classes)
        self._send_keys = send_keys
        self._send_pointer = send_pointer
        self._key_hook = key_hook
        self._paste_hook = paste_hook
        self._colors = colors  # "truecolor" / "256"; None: ask the terminal
        self._graphics = graphics
        self._cell_pixels = cell_pixels
        self.frame: Frame | None = None
        self.one_to_one = False
        self.pan = (0, 0)
        self.frame_layout: Layout | None = None
        self._drawn: tuple[object, ...] | None = None
        self._strips: list[Strip] = []
        # Recent frames' strips: a blinking text cursor alternates between two frames.
        self._recent: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()
        self._styles: dict[tuple[object, object], Style] = {}
        self._image_sequence = ""  # Kitty/Sixel: the encoded current image
        self._kitty_shown = False
        self._covered: frozenset[Region] = frozenset()  # view regions under overlays
        self._overlay_echo = False  # the next paint is the overlays' own repaint
        self._buttons = 0
        self._pixel_mouse = False  # SGR-pixel mouse reports seen (see `pixel_mouse`)
        self.redraws = 0  # frames converted (half blocks) or encoded (Kitty/Sixel)
        self.image_writes = 0  # times the encoded image went into Textual's output

    # ------------------------------------------------------------------ mode
    @property
    def graphics(self) -> GraphicsChoice:
        choice = self._graphics
        if choice is None:
            choice = getattr(self.app, "graphics_choice", PENDING) if self.is_attached else PENDING
        return choice.resolved()

    @property
    def mode(self) -> str:
        return self.graphics.mode

    @property
    def cell_pixels(self) -> tuple[int, int]:
        if self.mode == "halfblocks":
            return (1, 2)
        cell = self._cell_pixels
        if cell is None and self.is_attached:
            cell = getattr(self.app, "cell_pixels", None)
        return cell or DEFAULT_CELL_PIXELS

    def set_graphics(self, choice: GraphicsChoice) -> None:
        """Switch the drawing mode (e.g. from a menu); the next render uses it."""
        self._hide_kitty()
        self._graphics = choice
        self._drawn = None
        self._rebuild()
        self.post_message(self.ModeChanged())

    def describe(self) -> str:
        """For the status line: mode and why, and the zoom."""
        zoom = "1:1 (Shift+arrows pan)" if self.one_to_one else "fit"
        return f"{self.graphics.label} · {zoom}"

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
        mode = self.mode
        lay = layout(
            (frame.image.width, frame.image.height),
            (width, height),
            self.cell_pixels,
            one_to_one=self.one_to_one,
            pan=self.pan,
        )
        if lay is None:
            return False
        self.pan = lay.pan
        key: tuple[object, ...] = (
            frame.digest,
            width,
            height,
            mode,
            lay,
            mode == "halfblocks" and self.truecolor,
        )
        if key == self._drawn:
            return False
        self._drawn = key
        self.frame_layout = lay
        if mode != "halfblocks":
            image = render_image(frame.image, lay)
            if mode == "kitty":
                self._image_sequence = kitty_sequence(image, tmux=self.graphics.tmux)
            else:
                self._image_sequence = sixel_sequence(
                    pad_to_cells(image, lay.cell), tmux=self.graphics.tmux
                )
            self._strips = []
            self.redraws += 1
            self.refresh()
            return True
        cached = self._recent.get(key)
        if cached is not None:
            self._recent.move_to_end(key)
            self._strips = cached
            self.refresh()
            return True
        if self.one_to_one:
            cols, rows = lay.cells
            cells = half_block_rows(render_image(frame.image, lay), cols, rows)
        else:
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

    # ------------------------------------------------------------------ image output
    def render_lines(self, crop: Region) -> list[Strip]:
        if self.mode == "halfblocks":
            return super().render_lines(crop)
        return self.image_lines(crop)

    def image_lines(self, crop: Region) -> list[Strip]:
        """Kitty / Sixel: the lines above are left empty with Sixel (nothing is written over the
        image's pixels) and spaces with the default background with Kitty (the image is below
        cell backgrounds); the last line carries the image sequence, at the view's top-left, as a zero-width
        control claiming the line's width, so it is written after the cells under the image."""
        kitty = self.mode == "kitty"
        # The last line's own cells, written before the image (nothing else writes them). Kitty:
        # every line, with the default background (the image is below cell backgrounds).
        cells = Segment(" " * crop.width, _DEFAULT_BG if kitty else self.rich_style)
        if kitty:
            blank = [Strip([cells], crop.width) for _ in range(crop.height)]
        else:
            blank = [Strip([]) for _ in range(crop.height)]
        if not blank:
            return blank
        try:
            active = self.screen.is_active
            region = self.screen.find_widget(self).region
        except Exception:  # not on a screen (yet / any more)
            return blank
        if not active or not self._image_sequence:
            blank[-1] = Strip([cells], crop.width)
            if self._kitty_shown and self.mode == "kitty":
                self._kitty_shown = False
                delete = Segment(kitty_delete(tmux=self.graphics.tmux), None, _RAW)
                blank[-1] = Strip([cells, delete], crop.width)
            return blank
        if self.mode == "kitty":
            self._kitty_shown = True
        if crop.height == self.size.height:  # a paint (style look-ups ask for one line)
            self.image_writes += 1
            if self._covered and not kitty:
                # The image may have gone out over the overlays (a full update or the view's own
                # repaint): they are repainted after it; that repaint asks for none again.
                if self._overlay_echo:
                    self._overlay_echo = False
                else:
                    self._overlay_echo = True
                    self.call_later(self._repaint_overlays)
        segments = [
            cells,
            Segment(Control.move_to(region.x, region.y).segment.text, None, _RAW),
            Segment(
                tmux_placed(self._image_sequence, region.x, region.y, self.graphics.tmux),
                None,
                _RAW,
            ),
            Segment(Control.move_to(region.x, region.bottom - 1).segment.text, None, _RAW),
        ]
        blank[-1] = Strip(segments, cell_length=crop.width)
        return blank

    def _hide_kitty(self) -> None:
        """Take a shown Kitty image off the terminal (the view leaves, or the mode changes)."""
        if not self._kitty_shown:
            return
        self._kitty_shown = False
        driver = getattr(self.app, "_driver", None)
        if driver is not None:
            driver.write(kitty_delete(tmux=self.graphics.tmux))

    def on_mount(self) -> None:
        # Another screen on top (switcher, details, a modal): a Kitty image would stay above it.
        self.app.screen_change_signal.subscribe(self, self._screen_changed)
        self.screen.screen_layout_refresh_signal.subscribe(self, self._layout_refreshed)

    def overlay_regions(self) -> frozenset[Region]:
        """The parts of the view (screen coordinates) under widgets drawn in front of it."""
        try:
            widgets = self.screen._compositor.visible_widgets  # front to back
        except Exception:  # not on a screen (yet / any more)
            return frozenset()
        if self not in widgets:
            return frozenset()
        mine = widgets[self][0]
        covered: set[Region] = set()
        for widget, (region, clip) in widgets.items():
            if widget is self:
                break
            area = region.intersection(clip).intersection(mine)
            if area:
                covered.add(area)
        return frozenset(covered)

    def _layout_refreshed(self, screen: object) -> None:
        """An overlay came, moved or went (a toast expired): Textual repainted only the
        uncovered cells, which erased those Sixel pixels; the image goes out again."""
        before, self._covered = self._covered, self.overlay_regions()
        if self.mode != "sixel" or not self._image_sequence:
            return
        uncovered = any(
            not any(now.contains_region(old) for now in self._covered) for old in before
        )
        if uncovered:
            # Through the screen: a widget's own refresh() asked for from here can be dropped
            # (the screen's repaint after this layout clears its dirty widgets but its own).
            self.screen.refresh(self.region)

    def _repaint_overlays(self) -> None:
        """The Sixel image went out over the overlays: they are drawn again on top of it."""
        if self._covered and self.is_attached:
            self.screen.refresh(*self._covered)

    def _screen_changed(self, screen: object) -> None:
        if screen is not self.screen:
            self._hide_kitty()
        else:
            self.refresh()  # back on top: the image goes out again

    def on_hide(self) -> None:
        self._hide_kitty()

    def on_unmount(self) -> None:
        self._hide_kitty()

    # ------------------------------------------------------------------ 1:1 and panning
    def action_one_to_one(self) -> None:
        self.one_to_one = not self.one_to_one
        self._drawn = None
        self._rebuild()
        self.post_message(self.ModeChanged())

    def action_pan(self, dx: int, dy: int) -> None:
        cw, ch = self.cell_pixels
        step_x = max(1, int(self.size.width * cw * PAN_STEP))
        step_y = max(1, int(self.size.height * ch * PAN_STEP))
        self.pan = (self.pan[0] + dx * step_x, self.pan[1] + dy * step_y)
        self._rebuild()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pan":
            return self.one_to_one  # otherwise Shift+arrows go to the guest
        return True

    # ------------------------------------------------------------------ mouse
    def set_pointer_sender(self, send_pointer: Callable[[int, int, int], None] | None) -> None:
        self._send_pointer = send_pointer

    def guest_point(self, x: float, y: float) -> tuple[int, int] | None:
        """The guest pixel under the cell (x, y) of the view (its centre)."""
        lay = self.frame_layout
        return None if lay is None else lay.guest_point(x + 0.5, y + 0.5)

    @property
    def pixel_mouse(self) -> bool:
        """Does the terminal report the mouse in pixels (SGR-pixel, mode 1016)? Textual turns
        it on where the terminal supports it (with in-band resize, mode 2048) and reports
        fractional cell positions; once one has been seen the mode is known to be on."""
        if not self._pixel_mouse:
            driver = getattr(self.app, "_driver", None) if self.is_attached else None
            self._pixel_mouse = bool(getattr(driver, "_mouse_pixels", False))
        return self._pixel_mouse

    def event_guest_point(self, event: events.MouseEvent) -> tuple[int, int] | None:
        """The guest pixel under the mouse: exact with pixel reporting, else the cell centre."""
        px, py = event.pointer_x, event.pointer_y
        if px != int(px) or py != int(py):
            self._pixel_mouse = True
        if self.pixel_mouse:
            lay = self.frame_layout
            return None if lay is None else lay.guest_point(px, py)
        return self.guest_point(event.x, event.y)

    def _pointer(self, event: events.MouseEvent, buttons: int) -> None:
        if self._send_pointer is None:
            return
        event.stop()
        point = self.event_guest_point(event)
        if point is not None:
            self._send_pointer(point[0], point[1], buttons)

    @staticmethod
    def _button_bit(button: int) -> int:
        return {1: 1, 2: 2, 3: 4}.get(button, 0)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._pointer(event, self._buttons)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._buttons |= self._button_bit(event.button)
        self._pointer(event, self._buttons)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._buttons &= ~self._button_bit(event.button)
        self._pointer(event, self._buttons)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._pointer(event, self._buttons | WHEEL_UP)
        self._pointer(event, self._buttons)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._pointer(event, self._buttons | WHEEL_DOWN)
        self._pointer(event, self._buttons)

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
        if event.key == LEAVE_KEY:
            self.post_message(self.Leave())
            return
        if event.key == MENU_KEY:
            self.post_message(self.MenuRequested())
            return
        if self._key_hook is not None and self._key_hook(event):
            return
        codes = linux_keycodes(event.key, event.character)
        if codes and self._send_keys is not None:
            self._send_keys(codes)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self._paste_hook is not None and self._paste_hook(event.text):
            return
        if self._send_keys is None:
            return
        for ch in event.text:
            codes = char_keycodes(ch)
            if codes:
                self._send_keys(codes)
