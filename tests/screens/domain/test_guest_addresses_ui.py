"""The IP column (wide terminals only) and the NICs of the details overview, with the facade's
address read stubbed (the test driver's addresses are made up); the real guest is in
tests/integration/test_leases_live.py."""

from __future__ import annotations

import pytest

from tests.pilot_utils import hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain.addresses import AddressReport, GuestAddress, NicAddresses
from virttui.core.facade.host import HostFacade
from virttui.widgets.domain.table import layout_columns

URI = "test:///default"


def test_ip_column_only_on_wide_terminals() -> None:
    assert "ip" not in [c.id for c, _ in layout_columns(80)]
    assert "ip" not in [c.id for c, _ in layout_columns(120)]
    wide = [c.id for c, _ in layout_columns(140)]
    assert wide[-1] == "ip" and "title" in wide


def stub(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    def all_addresses(f: HostFacade, only: set[str] | None = None) -> dict[str, AddressReport]:
        calls.append("all" if only is None else ",".join(sorted(only)))
        out = {}
        for uuid in f.host.call(lambda c: [d.UUIDString() for d in c.listAllDomains(1)]):
            if only is not None and uuid not in only:
                continue
            mac = f.host.call(lambda c, u=uuid: c.lookupByUUIDString(u).XMLDesc(0)).split(
                "mac address='", 1
            )
            mac_text = mac[1].split("'", 1)[0] if len(mac) > 1 else ""
            addr = GuestAddress("198.18.3.77", 24, "ipv4", ("lease", "arp"))
            out[uuid] = AddressReport(
                (NicAddresses(mac_text, "network", "default", "virtio", "vnet0", (addr,)),),
                {"agent": "no guest agent channel"},
            )
        return out

    monkeypatch.setattr(HostFacade, "all_guest_addresses", all_addresses)


async def test_ip_column_and_details_nics(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    stub(monkeypatch, calls)
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(150, 30)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 20)
        await wait_until(pilot, lambda: bool(app.store.hosts[URI].rows), 10)
        app.refresh_addresses()
        await wait_until(pilot, lambda: "198.18.3.77" in screen_text(app), 10)
        assert " IP " in screen_text(app).splitlines()[0] + " "
        # Six polls at 0.5 s do not read addresses: only this call and the start-up read did
        # (the slow timer's 12 s are not up yet).
        await pilot.pause(3.0)
        assert len(calls) <= 2
        uuid = next(iter(app.store.hosts[URI].rows))
        app.open_details(URI, uuid)
        await wait_until(pilot, lambda: "NIC 0" in screen_text(app), 10)
        text = screen_text(app)
        assert "198.18.3.77/24 (lease, arp)" in text
        assert "agent: no guest agent channel" in text


async def test_at_80_columns_only_an_open_details_screen_reads_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    stub(monkeypatch, calls)
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 20)
        await wait_until(pilot, lambda: bool(app.store.hosts[URI].rows), 10)
        app.refresh_addresses()
        await pilot.pause(0.3)
        assert calls == []  # no IP column, no details screen: nothing to read
        assert "198.18.3.77" not in screen_text(app)
        uuid = next(iter(app.store.hosts[URI].rows))
        app.open_details(URI, uuid)
        await wait_until(pilot, lambda: app.addresses.version > 0, 10)
        assert calls == [uuid]
