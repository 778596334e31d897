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
