"""SVG snapshots of the live-route and transfer dialogs on the bundled demo host (its label, unlike a
test:///<path> URI, does not depend on where the checkout lives)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.pilot_utils import hosts_settled, wait_until
from tests.screens.storage.test_live_dialogs import opened, status
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.storage.live import BlockJobDialog, LiveResizeDialog, open_live_route
from virttui.screens.storage.transfer import TransferDialog

WEB_01 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d01"


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


def test_live_resize_refuses_shrink(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        open_live_route(app, demo_uri(), WEB_01, "vda", "resize")
        dialog = await opened(pilot, LiveResizeDialog)
        await wait_until(pilot, lambda: dialog.current is not None, 10)
        field = dialog.query_one("#live-size", Input)
        field.value = "1G"
        field.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "only grown" in status(dialog))
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(100, 30), run_before=run_before)


def test_block_copy_form(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        open_live_route(app, demo_uri(), WEB_01, "vda", "copy")
        dialog = await opened(pilot, BlockJobDialog)
        await wait_until(pilot, lambda: not dialog.query_one("#start", Button).disabled, 10)
        dialog.query_one("#live-dest", Input).value = "/var/lib/libvirt/images/web-01-copy.qcow2"
        dialog.query_one("#live-speed", Input).value = "50"
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(100, 40), run_before=run_before)


def test_download_form(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        app.push_screen(TransferDialog(demo_uri(), "download", volume="web-01.qcow2"))
        dialog = await opened(pilot, TransferDialog)
        await app.workers.wait_for_complete()
        dialog.query_one("#transfer-local", Input).value = "/home/admin/web-01.qcow2"
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(100, 34), run_before=run_before)
