"""FramebufferView's RFB hooks: `key_hook` sees every key first; terminal mouse events become
guest pixel coordinates and RFB button masks through `send_pointer`."""

from __future__ import annotations

from PIL import Image
from textual import events
from textual.app import App, ComposeResult

from virttui.core.console.screenshot import Frame
from virttui.widgets.console.framebuffer_view import FramebufferView


class HookApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.hooked: list[str] = []
        self.codes: list[list[int]] = []
        self.pointer: list[tuple[int, int, int]] = []
        self.view = FramebufferView(
            send_keys=self.codes.append,
            send_pointer=lambda x, y, b: self.pointer.append((x, y, b)),
            key_hook=self._hook,
        )

    def _hook(self, event: events.Key) -> bool:
        self.hooked.append(event.key)
        return event.key != "f5"  # f5 falls through to the keycode path

    def compose(self) -> ComposeResult:
        yield self.view


async def test_key_hook_and_pointer() -> None:
    app = HookApp()
    async with app.run_test(size=(80, 24)) as pilot:
        # 800x400 guest in an 80x24 view: 80 columns x 20 rows (two pixels per cell).
        app.view.set_frame(Frame(Image.new("RGB", (800, 400)), "d", "image/x-rfb"))
        app.view.focus()
        await pilot.press("a", "f5")
        assert app.hooked == ["a", "f5"]
        assert app.codes == [[63]]  # F5 as a Linux keycode: not handled by the hook

        assert app.view.guest_point(0, 0) == (5, 10)
        assert app.view.guest_point(79, 19) == (795, 390)
        assert app.view.guest_point(40, 22) is None  # below the drawn frame
        await pilot.click(FramebufferView, offset=(40, 10))
        assert app.pointer[-2:] == [(405, 210, 1), (405, 210, 0)]  # left down, up
        await pilot.click(FramebufferView, offset=(10, 5), button=3)
        assert (105, 110, 4) in app.pointer
        app.pointer.clear()
        await pilot.mouse_down(FramebufferView, offset=(1, 1))
        await pilot.hover(FramebufferView, offset=(2, 1))
        assert app.pointer[-1] == (25, 30, 1)  # dragging with the left button held


class PasteApp(App[None]):
    def __init__(self, handled: bool) -> None:
        super().__init__()
        self.handled = handled
        self.pasted: list[str] = []
        self.codes: list[list[int]] = []
        self.view = FramebufferView(send_keys=self.codes.append, paste_hook=self._paste)

    def _paste(self, text: str) -> bool:
        self.pasted.append(text)
        return self.handled

    def compose(self) -> ComposeResult:
        yield self.view


async def test_paste_hook_first_else_keycodes() -> None:
    for handled in (True, False):
        app = PasteApp(handled)
        async with app.run_test(size=(80, 24)) as pilot:
            app.view.post_message(events.Paste("aB"))
            await pilot.pause()
            assert app.pasted == ["aB"]
            # Not handled: the screenshot path's US keycodes (a; Shift+b).
            assert app.codes == ([] if handled else [[30], [42, 48]])


async def test_sgr_pixel_mouse_gives_exact_guest_pixels() -> None:
    """SGR-pixel mouse reports (mode 1016) decoded by Textual's parser into fractional cells:
    the view sends the exact guest pixel, not the cell centre."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    parser.mouse_pixels = True  # as after the terminal answered mode 2048 (in-band resize)
    parser.terminal_size = (80, 24)
    parser.terminal_pixel_size = (800, 480)  # 10x20 pixels per cell

    def decode(seq: str) -> events.MouseEvent:
        (event,) = [e for e in parser.feed(seq) if isinstance(e, events.MouseEvent)]
        return event

    app = HookApp()
    async with app.run_test(size=(80, 24)) as pilot:
        # 800x400 guest in the 80x24 view: one cell is 10x20 guest pixels.
        app.view.set_frame(Frame(Image.new("RGB", (800, 400)), "d", "image/x-rfb"))
        await pilot.pause()
        down = decode("\x1b[<0;405;213M")  # left button down at terminal pixel (404, 212)
        assert (down.pointer_x, down.pointer_y) == (40.4, 10.6)
        app.post_message(down)
        await pilot.pause()
        assert app.pointer[-1] == (404, 212, 1)  # the cell centre would be (405, 210)
        assert app.view.pixel_mouse
        app.post_message(decode("\x1b[<32;1;1M"))  # drag to pixel (0, 0): integral, still exact
        await pilot.pause()
        assert app.pointer[-1] == (0, 0, 1)
        app.post_message(decode("\x1b[<0;1;1m"))  # release
        await pilot.pause()
        assert app.pointer[-1] == (0, 0, 0)
