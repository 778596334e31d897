"""SVG snapshot of the networks screen at 80x24 on the bundled demo host (copied to
screenshots/ by `make snapshots`): `default` (NAT) and `isolated` with their addresses, DHCP
ranges and users, the highlighted network's details below."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.network.create import NewNetworkScreen
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


def test_new_network_field_errors_80x24(snap_compare: Any) -> None:
    """The create dialog after Preview with a taken name, an overlapping subnet and a DHCP end
    outside it: each error under its field, nothing created."""

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
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewNetworkScreen), 10)
        form = app.screen
        for field in form.query(Input):
            field.cursor_blink = False  # the focused field's cursor: the same in every run
        form.query_one("#net-name", Input).value = "isolated"
        form.query_one("#net-ipv4", Input).value = "10.10.0.0/16"
        # the DHCP range is suggested from the subnet (Input.Changed), then the end is typed
        await wait_until(pilot, lambda: form.query_one("#net-dhcp_start", Input).value != "", 10)
        form.query_one("#net-dhcp_end", Input).value = "10.11.0.9"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
