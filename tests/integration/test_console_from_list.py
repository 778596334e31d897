"""Consoles opened from the domain list with their keys; Ctrl+P and Ctrl+Q belong to the guest."""

from __future__ import annotations

import time

import libvirt

from tests.guestlib import READY_BANNER, SHELL_PROMPT, SYSTEM_URI, dom_serial_log
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.console.graphics import GraphicsConsoleScreen
from virttui.screens.console.serial import SerialConsoleScreen
from virttui.screens.domain.domain_list import DomainsScreen


def _lines(screen: SerialConsoleScreen) -> str:
    return "\n".join(screen.terminal.display_lines())


async def test_v_and_g_open_consoles_and_ctrl_p_goes_to_the_guest(
    tiny_guest: libvirt.virDomain,
) -> None:
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    uuid = tiny_guest.UUIDString()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.store.row(SYSTEM_URI, uuid) is not None, 30)
        deadline = time.monotonic() + 120
        while READY_BANNER not in dom_serial_log(tiny_guest):
            assert time.monotonic() < deadline, "guest did not boot"
            await pilot.pause(0.2)
        table = app.domains_screen().table  # type: ignore[union-attr]
        table._auto_cursor = False
        table._move(next(i for i, it in enumerate(table.items) if it.uuid == uuid))
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, SerialConsoleScreen), 10)
        screen = app.screen
        assert isinstance(screen, SerialConsoleScreen)
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        deadline = time.monotonic() + 60
        while SHELL_PROMPT.strip() not in _lines(screen):
            assert time.monotonic() < deadline, _lines(screen)
            await pilot.press("enter")
            await pilot.pause(1.0)
        # Ctrl+P is the shell's "previous command": it must reach the guest, not open the palette.
        await pilot.press(*"echo p''alette-free", "enter")
        await wait_until(pilot, lambda: "palette-free" in _lines(screen), 20)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        assert isinstance(app.screen, SerialConsoleScreen)  # no command palette on top
        await pilot.press("enter")
        # The recalled command ran again: its output line appears a second time.
        await wait_until(pilot, lambda: _lines(screen).count("\npalette-free") >= 2, 20)
        await pilot.press("ctrl+right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), 10)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, GraphicsConsoleScreen), 10)
