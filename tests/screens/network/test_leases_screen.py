"""The DHCP leases screen with a facade stub (the test driver has no leases): rendering,
reservations added and removed through dialogs, read-only, palette; an 80x24 SVG snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from tests.pilot_utils import click_on, hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.facade.host import HostFacade
from virttui.core.network.leases import Lease, Reservation, ReservationError, check_reservation
from virttui.demo import demo_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.network.leases import (
    LeasesScreen,
    NetworkChooser,
    ReservationDialog,
    expiry_text,
    open_leases,
)

NOW = 1796083200  # 2026-12-01 00:00 UTC
NET_XML = (
    "<network><name>lab</name><ip address='198.18.7.1' prefix='24'>"
    "<dhcp><range start='198.18.7.100' end='198.18.7.199'/></dhcp></ip></network>"
)


class Stub:
    """What the screen asks of the facade, in memory."""

    def __init__(self) -> None:
        self.leases = [
            Lease(
                "52:54:00:aa:00:01",
                "198.18.7.101",
                24,
                "web\x1b[31m",
                NOW + 3000,
                "01:52:54:00:aa:00:01",
                "virbr9",
                "ipv4",
                "web-01",
            ),
            Lease(
                "52:54:00:aa:00:02", "198.18.7.102", 24, "", NOW + 7300, "", "virbr9", "ipv4", ""
            ),
        ]
        self.reservations = [Reservation("52:54:00:aa:00:09", "198.18.7.10", "db", "db-01")]
        self.calls: list[tuple[str, ...]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        stub = self

        def leases(_f: HostFacade, network: str) -> list[Lease]:
            stub.calls.append(("leases", network))
            return list(stub.leases)

        def reservations(_f: HostFacade, network: str) -> list[Reservation]:
            return list(stub.reservations)

        def add(_f: HostFacade, network: str, mac: str, ip: str, name: str = "") -> Reservation:
            xml = NET_XML.replace(
                "</dhcp>",
                "".join(
                    f"<host mac='{r.mac}' ip='{r.ip}' name='{r.name}'/>" for r in stub.reservations
                )
                + "</dhcp>",
            )
            res = check_reservation(xml, mac, ip, name)
            stub.calls.append(("add", network, res.mac, res.ip, res.name))
            stub.reservations.append(res)
            return res

        def remove(_f: HostFacade, network: str, mac: str) -> Reservation:
            stub.calls.append(("remove", network, mac))
            found = [r for r in stub.reservations if r.mac == mac]
            if not found:
                raise ReservationError("none", "mac")
            stub.reservations.remove(found[0])
            return found[0]

        monkeypatch.setattr(HostFacade, "dhcp_leases", leases)
        monkeypatch.setattr(HostFacade, "dhcp_reservations", reservations)
        monkeypatch.setattr(HostFacade, "add_dhcp_reservation", add)
        monkeypatch.setattr(HostFacade, "remove_dhcp_reservation", remove)
        monkeypatch.setattr(HostFacade, "networks", lambda _f: {"lab": True, "off": False})


def demo_app(*, readonly: bool = False) -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0, readonly=readonly)


async def _open(pilot: Pilot[Any], app: VirtTUIApp) -> LeasesScreen:
    await wait_until(pilot, lambda: hosts_settled(app), 20)
    screen = LeasesScreen(demo_uri(), "lab")
    screen.now = NOW
    app.push_screen(screen)
    await wait_until(pilot, lambda: bool(screen.leases) and bool(screen.reservations), 10)
    return screen


def test_expiry_text() -> None:
    assert expiry_text(0) == "-"
    assert expiry_text(NOW + 3000, NOW) == "00:50 UTC (50 min)"
    assert expiry_text(NOW + 7300, NOW) == "02:01 UTC (2 h 1 min)"
    assert expiry_text(NOW + 2 * 86400, NOW) == "2026-12-03 00:00 UTC"
    assert expiry_text(NOW + 60) == "2026-12-01 00:01 UTC"
    assert expiry_text(NOW - 5, NOW).endswith("(expired)")


async def test_leases_and_reservations_render_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    Stub().install(monkeypatch)
    app = demo_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _open(pilot, app)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "DHCP leases of lab" in text
        for needle in (
            "198.18.7.101/24",
            "52:54:00:aa:00:01",
            "web-01",
            "web\\e[31m",
            "00:50 UTC (50 min)",
            "198.18.7.10",
            "db-01",
            "2 lease(s)",
        ):
            assert needle in text, needle
        assert app.screen.query_one("#leases-table", DataTable).row_count == 2


async def test_reserve_the_highlighted_lease_then_remove_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = Stub()
    stub.install(monkeypatch)
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ReservationDialog))
        assert app.screen.query_one("#reserve-mac", Input).value == "52:54:00:aa:00:01"
        assert app.screen.query_one("#reserve-ip", Input).value == "198.18.7.101"
        # The guest's hostname holds an escape: not offered as the reservation's name.
        assert app.screen.query_one("#reserve-name", Input).value == ""
        # A bad name: the error sits next to its field, nothing is added.
        app.screen.query_one("#reserve-name", Input).value = "web 01"
        await click_on(pilot, "#reserve")
        await wait_until(
            pilot,
            lambda: (
                "not a host name"
                in str(app.screen.query_one("#reserve-name-error", Static).render())
            ),
        )
        assert not [c for c in stub.calls if c[0] == "add"]
        app.screen.query_one("#reserve-name", Input).value = "web01"
        await pilot.pause(0.2)
        app.screen.query_one("#reserve", Button).press()
        await wait_until(pilot, lambda: app.screen is screen and len(screen.reservations) == 2)
        assert ("add", "lab", "52:54:00:aa:00:01", "198.18.7.101", "web01") in stub.calls
        # Remove it: focus the reservations table, go to the new row, d, confirm.
        await pilot.press("tab")
        table = app.screen.query_one("#leases-reservations", DataTable)
        assert table.has_focus
        await pilot.press("down", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: len(screen.reservations) == 1)
        assert ("remove", "lab", "52:54:00:aa:00:01") in stub.calls


async def test_duplicate_ip_error_goes_next_to_the_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = Stub()
    stub.install(monkeypatch)
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(pilot, app)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ReservationDialog))
        app.screen.query_one("#reserve-mac", Input).value = "52:54:00:aa:00:07"
        app.screen.query_one("#reserve-ip", Input).value = "198.18.7.10"
        await click_on(pilot, "#reserve")
        await wait_until(
            pilot,
            lambda: (
                "already reserved"
                in str(app.screen.query_one("#reserve-ip-error", Static).render())
            ),
        )
        assert app.screen.query_one("#reserve", Button).disabled is False
        assert len(stub.reservations) == 1


async def test_read_only_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    stub = Stub()
    stub.install(monkeypatch)
    app = demo_app(readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot, app)
        assert "(read-only)" in screen_text(app)
        for key in ("a", "R"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is screen
        await pilot.press("tab", "d")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert [c[0] for c in stub.calls if c[0] != "leases"] == []
        assert not screen.check_action("add", ())


async def test_palette_entry_chooses_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    Stub().install(monkeypatch)
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 20)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Network: DHCP leases of a network on ") for t in titles)
        open_leases(app, demo_uri(), None)
        await wait_until(pilot, lambda: isinstance(app.screen, NetworkChooser))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LeasesScreen))
        assert app.screen.network == "lab"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Leases: new reservation" in titles


def test_leases_snapshot_80x24(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    Stub().install(monkeypatch)

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await _open(pilot, app)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
