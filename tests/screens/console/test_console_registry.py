"""Console registry and switcher on the libvirt test driver (which has no console streams:
every console shows the "cannot open" notice, never a traceback)."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common import console_registry
from virttui.screens.console.graphics import open_graphical_console
from virttui.screens.console.serial import SerialConsoleScreen, open_serial_console
from virttui.screens.console.switcher import ConsoleSwitcher, open_console_switcher
from virttui.screens.domain.domain_list import DomainsScreen

URI = "test:///default"


async def test_open_switch_and_close_consoles() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: URI in app.hosts and app.hosts[URI].connected, 10)
        uuid = app.hosts[URI].call(lambda c: c.lookupByName("test").UUIDString())
        # Console titles name the domain from the list: wait until it is listed.
        await wait_until(pilot, lambda: app.store.row(URI, uuid) is not None, 10)

        serial = open_serial_console(app, URI, uuid)
        await wait_until(pilot, lambda: serial.state == "failed", 10)
        assert "Cannot open the console" in screen_text(app)
        assert serial.query_one("#console-reconnect").display

        graphics = open_graphical_console(app, URI, uuid)
        await wait_until(pilot, lambda: graphics.state == "failed", 10)
        assert app.screen is graphics
        assert "no graphics device" in graphics.notice_text()
        # Only one console screen is stacked at a time: the graphics one replaced the serial one.
        assert serial not in app.screen_stack
        assert len(console_registry.entries(app)) == 2

        # Same domain again: the existing screen comes back.
        assert open_serial_console(app, URI, uuid) is serial
        await wait_until(pilot, lambda: app.screen is serial, 5)

        open_console_switcher(app)
        await wait_until(pilot, lambda: bool(app.screen.query(OptionList)), 5)
        prompts = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert prompts == [f"Serial: test  ({URI})", f"Graphics: test  ({URI})"]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is graphics, 5)

        open_console_switcher(app)
        await wait_until(pilot, lambda: bool(app.screen.query(OptionList)), 5)
        assert isinstance(app.screen, ConsoleSwitcher)
        await pilot.press("x")  # closes the highlighted (first: serial) console
        await wait_until(pilot, lambda: len(console_registry.entries(app)) == 1, 5)
        assert not serial.is_mounted or serial not in app.screen_stack

        await pilot.press("escape")  # leave the graphics console (its Leave binding)
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), 5)
        assert isinstance(serial, SerialConsoleScreen)
