"""The image screen in the real app on qemu:///system: growing the running tiny guest's disk is
refused in the UI, naming the guest and libvirt's live route (through the host facade's guard),
which it then offers (the blockResize dialog on the guest's disk); the file is not touched."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import libvirt
from textual.widgets import Input

from tests.guestlib import SYSTEM_URI, running_guest
from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.storage.image import ImageScreen, open_image
from virttui.screens.storage.image_forms import ImageFormScreen
from virttui.screens.storage.live import LiveResizeDialog


def _disk(dom: libvirt.virDomain) -> str:
    source = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/source")
    assert source is not None
    return source.get("file", "")


async def test_growing_a_running_guest_disk_is_refused_in_the_ui(
    system_conn: libvirt.virConnect,
) -> None:
    with running_guest(system_conn, "vt-imgui") as dom:
        disk = _disk(dom)
        before = hashlib.sha256(Path(disk).read_bytes()).hexdigest()
        app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=2.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.store.row(SYSTEM_URI, dom.UUIDString()), 30)
            open_image(app, SYSTEM_URI, disk)
            await wait_until(pilot, lambda: isinstance(app.screen, ImageScreen), 10)
            screen = app.screen
            assert isinstance(screen, ImageScreen)
            await wait_until(pilot, lambda: screen.info is not None, 60)
            assert screen.info is not None and screen.info.shared  # read with -U
            await pilot.pause()
            assert "stale" in screen_text(app)
            await pilot.press("z")
            await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen), 10)
            await pilot.pause()
            app.screen.query_one("#field-size", Input).value = "+16M"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: screen.last_verdict is not None, 60)
            await pilot.pause()
            text = screen_text(app)
            assert "Refused" in text and dom.name() in text and "blockResize" in text
            verdict: Any = screen.last_verdict
            assert verdict.decision == "refuse"
            # The refusal offers libvirt's live route on the guest's disk: blockResize.
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
            await pilot.pause()
            assert "live route" in screen_text(app) and dom.name() in screen_text(app)
            await pilot.press("y")
            await wait_until(pilot, lambda: isinstance(app.screen, LiveResizeDialog), 30)
            dialog = app.screen
            assert isinstance(dialog, LiveResizeDialog)
            assert (dialog.uuid, dialog.target) == (dom.UUIDString(), "vda")
            await pilot.press("escape")
            await pilot.pause()
        assert hashlib.sha256(Path(disk).read_bytes()).hexdigest() == before
