"""The graphical console on the live RFB path: a paste is typed as keysyms (paced, in order,
capped with a message, stopped when the console closes) and the special-keys menu sends its
combos as keysyms; nothing goes to virDomainSendKey (no US keycode table)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import events
from textual.app import App
from textual.widgets import OptionList

from tests.pilot_utils import wait_until
from virttui.core.console.graphics import MODE_RFB, GraphicsSession
from virttui.core.console.keysyms import XK_ALT_L, XK_CONTROL_L, XK_DELETE, text_keysyms
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.screens.console.graphics import GraphicsConsoleScreen
from virttui.screens.console.special_keys import SpecialKeysMenu


class FakeRfb:
    def __init__(self) -> None:
        self.groups: list[tuple[int, ...]] = []
        self.alive = True

    def keys(self, keysyms: Sequence[int]) -> None:
        self.groups.append(tuple(keysyms))

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def close(self) -> None:
        self.alive = False


class FakeSession(GraphicsSession):
    def __init__(self) -> None:
        super().__init__(object(), lambda _m: None)  # type: ignore[arg-type]
        self.fake = FakeRfb()
        self.rfb = self.fake  # type: ignore[assignment]
        self.mode = MODE_RFB
        self.keycodes: list[list[int]] = []

    def send_keys(self, codes: list[int]) -> None:
        self.keycodes.append(codes)


class LiveGraphics(GraphicsConsoleScreen):
    def open_console(self, force: bool, token: int) -> Any:
        return FakeSession()

    def console_ready(self, handle: Any) -> None:
        pass


class LiveApp(App[None]):
    def on_mount(self) -> None:
        host = HostFacade(HostConnection("qemu:///system"))  # never started
        self.gc = LiveGraphics(host, "00000000-0000-0000-0000-000000000001", "vm")
        self.push_screen(self.gc)


async def connected(pilot: Any, app: LiveApp) -> FakeSession:
    await wait_until(pilot, lambda: app.gc.state == "connected", 10)
    assert app.gc.live
    handle = app.gc.handle
    assert isinstance(handle, FakeSession)
    return handle


async def test_paste_is_typed_as_keysyms_in_order() -> None:
    app = LiveApp()
    async with app.run_test(size=(80, 24)) as pilot:
        handle = await connected(pilot, app)
        text = "echo Hello, World! 1+1=2\n"
        app.gc.view.post_message(events.Paste(text))
        expected = [tuple(g) for g in text_keysyms(text)]
        await wait_until(pilot, lambda: len(handle.fake.groups) >= len(expected), 10)
        await wait_until(pilot, lambda: app.gc.pasting is None, 10)
        assert handle.fake.groups == expected
        assert handle.keycodes == []  # nothing through virDomainSendKey
        assert app.gc.pasted == len(expected)


async def test_paste_over_the_cap_says_how_much_and_a_second_paste_waits() -> None:
    app = LiveApp()
    async with app.run_test(size=(80, 24)) as pilot:
        handle = await connected(pilot, app)
        app.gc.paste_event_seconds = 0.0002
        app.gc.paste_chunk = 64
        app.gc.view.post_message(events.Paste("a" * 5000))
        await wait_until(pilot, lambda: len(handle.fake.groups) >= 64, 10)
        assert app.gc.pasting is not None
        app.gc.view.post_message(events.Paste("bbb"))  # while the first is typed
        await pilot.pause()
        await wait_until(pilot, lambda: app.gc.pasting is None, 60)
        await pilot.pause(0.2)
        assert len(handle.fake.groups) == 4096
        assert set(handle.fake.groups) == {(ord("a"),)}  # the second paste was refused
        messages = [str(n.message) for n in app._notifications]
        assert any("Typing the first 4096 of 5000 pasted characters" in m for m in messages)
        assert any("Still typing the previous paste" in m for m in messages), messages
        assert any("Pasted the first 4096 of 5000 characters" in m for m in messages)


async def test_paste_stops_when_the_console_closes() -> None:
    app = LiveApp()
    async with app.run_test(size=(80, 24)) as pilot:
        handle = await connected(pilot, app)
        app.gc.paste_event_seconds = 0.005
        app.gc.paste_chunk = 4
        app.gc.view.post_message(events.Paste("c" * 400))
        await wait_until(pilot, lambda: len(handle.fake.groups) >= 8, 10)
        handle.close()  # the console ends (guest gone, Reconnect...)
        await wait_until(pilot, lambda: app.gc.pasting is None, 10)
        typed = len(handle.fake.groups)
        assert 8 <= typed < 400
        await pilot.pause(0.3)
        assert len(handle.fake.groups) == typed  # nothing after the close
        messages = [str(n.message) for n in app._notifications]
        assert any(f"Paste stopped: typed {typed} of 400 characters" in m for m in messages)


async def test_special_keys_menu_sends_keysyms_on_the_live_path() -> None:
    app = LiveApp()
    async with app.run_test(size=(80, 24)) as pilot:
        handle = await connected(pilot, app)
        app.gc.view.focus()
        await pilot.press("ctrl+backslash")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecialKeysMenu), 10)
        menu = app.screen.query_one(OptionList)
        menu.highlighted = 0  # Ctrl+Alt+Del
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(handle.fake.groups), 10)
        assert handle.fake.groups == [(XK_CONTROL_L, XK_ALT_L, XK_DELETE)]
        assert handle.keycodes == []  # no Linux keycodes, no sendKey
