"""The sharp graphical console on the tiny guest (gfxproto): the Kitty PNG payload and the
Sixel data virttui writes decode to the guest's screenshot of the same moment."""

from __future__ import annotations

import libvirt
from PIL import Image, ImageChops

from tests.guestlib import SYSTEM_URI, SerialConsole
from tests.pilot_utils import wait_until
from tests.widgets.console.sixel_decode import kitty_images, mean_abs_error
from tests.widgets.console.test_framebuffer_graphics import sixel_image, terminal_output
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.console.graphics_mode import GraphicsChoice
from virttui.screens.console.graphics import open_graphical_console


def _close_enough(decoded: Image.Image, source: Image.Image) -> None:
    expected = source.convert("RGB").resize(decoded.size, Image.Resampling.BILINEAR)
    error = mean_abs_error(decoded, expected)
    blank = mean_abs_error(Image.new("RGB", decoded.size), expected)
    shifted = mean_abs_error(ImageChops.offset(expected, 2, 0), expected)
    assert error < 0.3 * min(blank, shifted), (error, blank, shifted)


async def test_kitty_and_sixel_output_match_the_guest_screenshot(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    guest_console.run(
        r"printf '\033[2J\033[H' >/dev/tty1; for i in 1 2 3 4 5 6 7 8; do "
        "echo '#### virttui sharp console ####'; done >/dev/tty1"
    )
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    app.graphics_choice = GraphicsChoice("kitty", "test")
    app.cell_pixels = (10, 20)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30
        )
        screen = open_graphical_console(app, SYSTEM_URI, tiny_guest.UUIDString())
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        await wait_until(pilot, lambda: screen.view.frame is not None, 30)
        screen.set_fps(0.1)  # hold this frame while its output is decoded
        await pilot.pause()
        frame = screen.view.frame
        assert frame is not None
        ((keys, image),) = kitty_images(terminal_output(app))
        assert screen.view.frame is frame
        _close_enough(image, frame.image)

        screen.view.set_graphics(GraphicsChoice("sixel", "test"))
        await pilot.pause()
        frame = screen.view.frame
        assert frame is not None
        _close_enough(sixel_image(terminal_output(app), screen.view), frame.image)
