"""SVG snapshots at 80x24 on the bundled demo host: the XML editor of web-01 (running: "changes
apply at next boot") and the "switch to virtio" dialog of win2022-ad (a SATA disk, two e1000e
NICs, a virtio-win CD-ROM left alone: changes, warnings, then the diff)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.common.xml_editor import DiffScreen, XmlEditorScreen, open_xml_editor
from virttui.screens.domain.actions import run_domain_action

WEB_01 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d01"
WIN2022 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d06"


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


async def _connected(pilot: Pilot[Any]) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(
        pilot,
        lambda: (
            bool(app.store.hosts) and all(h.state == "connected" for h in app.store.hosts.values())
        ),
        20,
    )
    return app


def test_xml_editor_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await _connected(pilot)
        open_xml_editor(app, demo_uri(), "domain", WEB_01)
        await wait_until(pilot, lambda: isinstance(app.screen, XmlEditorScreen), 20)
        app.screen.query_one(TextArea).cursor_blink = False
        await pilot.pause(0.1)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_virtio_diff_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await _connected(pilot)
        run_domain_action(app, demo_uri(), WIN2022, "virtio")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), 20)
        await pilot.pause(0.1)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
