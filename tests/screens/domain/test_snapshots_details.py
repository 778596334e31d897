"""SVG snapshots of the details screen on the bundled demo host (also copied to screenshots/)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.screens.domain.test_details_screen import DB_PRIMARY, demo_app, open_details


def test_details_overview_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_details(pilot, DB_PRIMARY)
        await pilot.pause(0.2)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_details_devices_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_details(pilot, DB_PRIMARY)
        await pilot.press("2")
        await pilot.pause(0.2)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_details_devices_100x30(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_details(pilot, DB_PRIMARY)
        await pilot.press("2")
        await pilot.pause(0.2)

    assert snap_compare(demo_app(), terminal_size=(100, 30), run_before=run_before)
