"""The graphical console inside the app (Pilot): screenshots of the tiny guest's VGA console
drawn with half blocks, typing through virDomainSendKey."""

from __future__ import annotations

import time

import libvirt
from PIL import ImageChops

from tests.guestlib import SYSTEM_URI, SerialConsole
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.console.graphics import (
    FRAMES_SCREENSHOTS,
    GraphicsConsoleScreen,
    open_graphical_console,
)
from virttui.screens.console.special_keys import SpecialKeysMenu
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.widgets.console.framebuffer_view import FramebufferView


def _lit_cells(view: FramebufferView) -> int:
    """Cells whose top or bottom pixel is not (nearly) black."""
    lit = 0
    for strip in view._strips:
        for seg in strip:
            style = seg.style
            if style is None:
                continue
            for colour in (style.color, style.bgcolor):
                if colour is not None and sum(colour.get_truecolor()) > 90:
                    lit += len(seg.text)
                    break
    return lit


async def _wait_new_frame(pilot, screen: GraphicsConsoleScreen, digest: str | None) -> None:  # type: ignore[no-untyped-def]
    await wait_until(
        pilot, lambda: screen.view.frame is not None and screen.view.frame.digest != digest, 30
    )


async def test_frames_keys_and_special_combos(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    # A clean tty1: cleared screen, prompt at the top.
    guest_console.run(r"printf '\033[2J\033[H' >/dev/tty1")
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30
        )
        # The screenshot path (a local VNC display would take live RFB: test_rfb_live.py).
        screen = open_graphical_console(
            app, SYSTEM_URI, tiny_guest.UUIDString(), frames=FRAMES_SCREENSHOTS
        )
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        assert not screen.live and "screenshots every 0.5 s" in screen.status_extra()
        assert app.focused is screen.view
        await _wait_new_frame(pilot, screen, None)
        assert screen.view.frame is not None
        first = screen.view.frame
        assert first.image.width >= 640 and first.image.height >= 350
        assert screen.view.truecolor == (app.console.color_system == "truecolor")
        assert len(screen.view._strips) > 10

        # Text on tty1: the frame is not blank, and the drawn cells show it.
        guest_console.run(
            "for i in 1 2 3 4 5 6; do echo '################ virttui ################'; "
            "done >/dev/tty1"
        )
        await _wait_new_frame(pilot, screen, first.digest)
        assert _lit_cells(screen.view) > 50

        # Unchanged guest screen (but for the blinking cursor): frames keep coming, no conversion.
        await pilot.pause(1.0)
        redraws, grabs = screen.view.redraws, screen.frames_grabbed
        await pilot.pause(1.6)
        assert screen.frames_grabbed >= grabs + 2  # ~2 fps while visible
        assert screen.view.redraws == redraws

        # Typing through sendKey reaches the tty1 shell: the frame changes and shows MARK.
        before = screen.view.frame
        assert before is not None
        await pilot.press(*"echo MARK", "enter")
        await _wait_new_frame(pilot, screen, before.digest)
        deadline = time.monotonic() + 30
        while True:
            vcs = guest_console.run("cat /dev/vcs1")
            if vcs.count("MARK") >= 2:  # the command line and its output
                break
            assert time.monotonic() < deadline, vcs
            time.sleep(0.5)
        await pilot.pause(1.0)
        after = screen.view.frame
        assert after is not None
        diff = ImageChops.difference(before.image, after.image).getbbox()
        assert diff is not None, "typing did not change the guest screen"

        # The special-keys menu sends Alt+SysRq+H: the kernel prints its SysRq help.
        mark = guest_console.mark()
        await pilot.press("ctrl+backslash")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecialKeysMenu), 5)
        menu = app.screen
        option_list = menu.query_one("#special-keys")
        option_list.highlighted = [o.id for o in option_list.options].index("sysrq-h")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen, 5)
        guest_console.wait_for("sysrq", 30, start=mark)

        # Refresh rate from the same menu.
        await pilot.press("ctrl+backslash")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecialKeysMenu), 5)
        option_list = app.screen.query_one("#special-keys")
        option_list.highlighted = [o.id for o in option_list.options].index("fps:5")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.fps == 5.0, 5)

        # Hidden: no grabs. Ctrl+] leaves; the console is kept and grabbing pauses.
        await pilot.press("ctrl+right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), 5)
        await pilot.pause(0.5)
        grabs = screen.frames_grabbed
        await pilot.pause(1.5)
        assert screen.frames_grabbed <= grabs + 1
        assert open_graphical_console(app, SYSTEM_URI, tiny_guest.UUIDString()) is screen
