"""Both consoles through qemu+ssh (a local sshd on 127.0.0.1): no extra ports, no tunnels."""

from __future__ import annotations

import time

import libvirt

from tests.guestlib import READY_BANNER, SHELL_PROMPT, dom_serial_log, guest_versions, running_guest
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.console.graphics import open_graphical_console
from virttui.screens.console.serial import open_serial_console


async def test_serial_and_graphical_console_over_qemu_ssh(
    local_sshd: LocalSshd,  # noqa: F811 - pytest fixture
    system_conn: libvirt.virConnect,
) -> None:
    uri = local_sshd.uri()
    with running_guest(system_conn, "vt-sshcon") as dom:
        uuid = dom.UUIDString()
        app = VirtTUIApp([HostSpec(uri)], refresh=30.0)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.store.row(uri, uuid) is not None, 30)
            deadline = time.monotonic() + 120
            while READY_BANNER not in dom_serial_log(dom):
                assert time.monotonic() < deadline, "guest did not boot"
                await pilot.pause(0.2)
            screen = open_serial_console(app, uri, uuid)
            await wait_until(pilot, lambda: screen.state == "connected", 30)

            def text() -> str:
                return "\n".join(screen.terminal.display_lines())

            deadline = time.monotonic() + 60
            while SHELL_PROMPT.strip() not in text():
                assert time.monotonic() < deadline, text()
                await pilot.press("enter")
                await pilot.pause(1.0)
            await pilot.press(*"uname -r", "enter")
            release = guest_versions()["kernel_release"]
            await wait_until(pilot, lambda: text().count(release) >= 1, 30)
            await pilot.press("ctrl+right_square_bracket")
            graphics = open_graphical_console(app, uri, uuid)
            try:
                await wait_until(
                    pilot,
                    lambda: graphics.frames_grabbed > 0 and graphics.view.frame is not None,
                    30,
                )
            except AssertionError:
                raise AssertionError(
                    f"{graphics.state} {graphics.notice_text()!r} {graphics.status_extra()!r}"
                ) from None
            assert graphics.view.frame.image.getbbox() is not None  # not a blank frame
            # Remote: screenshots at an adaptive rate, never RFB.
            assert not graphics.live and graphics.adaptive
            assert "adaptive" in graphics.status_extra()
