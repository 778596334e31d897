"""SVG snapshots of the domain list on the bundled demo host (also copied to screenshots/)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.pilot_utils import hosts_settled, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


async def _loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    await pilot.pause(0.2)


def test_domain_list_80x24(snap_compare: Any) -> None:
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_loaded)


def test_domain_list_120x30(snap_compare: Any) -> None:
    assert snap_compare(demo_app(), terminal_size=(120, 30), run_before=_loaded)


def test_domain_list_force_off_confirmation(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded(pilot)
        await pilot.press("down", "down", "down", "F")  # db-primary (running)
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_domain_list_filtered(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded(pilot)
        await pilot.press("slash", *"web")
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
