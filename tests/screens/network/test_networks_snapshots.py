"""SVG snapshot of the networks screen at 80x24 on the bundled demo host (copied to
screenshots/ by `make snapshots`): `default` (NAT) and `isolated` with their addresses, DHCP
ranges and users, the highlighted network's details below."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.network.networks import NetworksScreen


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


def test_networks_snapshot_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await wait_until(
            pilot,
            lambda: (
                bool(app.store.hosts)
                and all(h.state == "connected" for h in app.store.hosts.values())
            ),
            20,
        )
        await pilot.press("N")
        await wait_until(
            pilot, lambda: isinstance(app.screen, NetworksScreen) and app.screen.loaded, 10
        )
        await pilot.press("down")
        await pilot.pause(0.1)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
