"""DHCP leases, reservations and guest addresses against the real libvirtd and the tiny guest.

One booted guest per module, on an isolated test network (198.18.x.0/24, no <forward>): its init
runs busybox `udhcpc -i eth0`, so it gets a lease from libvirt's dnsmasq.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import libvirt
import pytest

from tests.guestlib import SerialConsole, isolated_network, running_guest, wait_for_shell
from virttui.core.facade.host import HostFacade
from virttui.core.network.leases import ReservationError

URI = "qemu:///system"
MAC = "52:54:00:18:aa:01"


class _Host:
    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.uri = URI
        self.is_local = True

    def call(self, fn: Callable[[libvirt.virConnect], Any]) -> Any:
        return fn(self.conn)


@dataclass
class Booted:
    conn: libvirt.virConnect
    net: libvirt.virNetwork
    base: str  # "198.18.x"
    dom: libvirt.virDomain
    facade: HostFacade
    console: SerialConsole


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def booted(conn: libvirt.virConnect) -> Iterator[Booted]:
    with (
        isolated_network(conn) as (net, base),
        running_guest(conn, "vt-lease", network=net.name(), mac=MAC) as dom,
        SerialConsole(dom) as console,
    ):
        wait_for_shell(console, 120)
        facade = HostFacade(_Host(conn))
        # udhcpc runs in the background: the lease comes within a few seconds of the banner.
        _wait(lambda: facade.dhcp_leases(net.name()), 120, "the guest's DHCP lease")
        yield Booted(conn, net, base, dom, facade, console)


def test_lease_appears_with_its_domain(booted: Booted) -> None:
    leases = booted.facade.dhcp_leases(booted.net.name())
    assert len(leases) == 1
    lease = leases[0]
    assert lease.mac == MAC
    assert lease.ip.startswith(booted.base + ".")
    assert 100 <= int(lease.ip.rsplit(".", 1)[1]) <= 199
    assert lease.prefix == 24
    assert lease.domain == booted.dom.name()
    assert lease.expiry > time.time()
    assert lease.ip_type == "ipv4"


def test_guest_addresses_lease_source_and_agent_absence(booted: Booted) -> None:
    lease = booted.facade.dhcp_leases(booted.net.name())[0]
    report = booted.facade.guest_addresses(booted.dom.UUIDString())
    assert len(report.nics) == 1
    nic = report.nics[0]
    assert nic.mac == MAC and nic.type == "network" and nic.source == booted.net.name()
    assert nic.model == "virtio" and nic.target.startswith("vnet")
    assert [a.address for a in nic.addresses] == [lease.ip]
    assert "lease" in nic.addresses[0].sources and nic.addresses[0].prefix == 24
    assert report.primary_ip == lease.ip
    # No agent channel in the tiny guest: said, not raised.
    assert report.unavailable.get("agent") == "no guest agent channel"
    everything = booted.facade.all_guest_addresses()
    assert everything[booted.dom.UUIDString()].primary_ip == lease.ip


def test_arp_source_after_the_guest_pings_the_bridge(booted: Booted) -> None:
    lease = booted.facade.dhcp_leases(booted.net.name())[0]
    out = booted.console.run(f"ping -c 3 -W 2 {booted.base}.1", timeout=40)
    assert "3 packets transmitted" in out

    def arp_has_it() -> bool:
        report = booted.facade.guest_addresses(booted.dom.UUIDString())
        return any(a.address == lease.ip and "arp" in a.sources for a in report.nics[0].addresses)

    _wait(arp_has_it, 30, "the ARP source")
    report = booted.facade.guest_addresses(booted.dom.UUIDString())
    # libvirt 9.0's own ARP source may fail ("wrong nlmsg len"): then the note says so.
    assert "arp" not in report.unavailable


def _reserved(net: libvirt.virNetwork, flags: int) -> list[tuple[str, str, str]]:
    root = ET.fromstring(net.XMLDesc(flags))
    return [
        (h.get("mac", ""), h.get("ip", ""), h.get("name", ""))
        for h in root.iterfind("./ip/dhcp/host")
    ]


def test_reservation_live_and_persistent_then_removed(booted: Booted) -> None:
    name, facade = booted.net.name(), booted.facade
    mac, ip = "52:54:00:18:aa:99", f"{booted.base}.50"
    res = facade.add_dhcp_reservation(name, mac.upper(), ip, "vt-resv")
    assert (res.mac, res.ip, res.name) == (mac, ip, "vt-resv")
    live = _reserved(booted.net, 0)
    config = _reserved(booted.net, libvirt.VIR_NETWORK_XML_INACTIVE)
    assert (mac, ip, "vt-resv") in live and (mac, ip, "vt-resv") in config
    assert [(r.mac, r.ip, r.name) for r in facade.dhcp_reservations(name)] == [(mac, ip, "vt-resv")]
    # Refusals: nothing changes.
    for bad_mac, bad_ip, bad_name, field in [
        (mac, f"{booted.base}.51", "", "mac"),  # duplicate MAC
        ("52:54:00:18:aa:98", ip, "", "ip"),  # duplicate IP
        ("52:54:00:18:aa:98", "192.0.2.7", "", "ip"),  # outside the subnet
        ("52:54:00:18:aa", f"{booted.base}.52", "", "mac"),  # malformed MAC
        ("52:54:00:18:aa:98", f"{booted.base}.52", "vt-resv", "name"),  # duplicate name
    ]:
        with pytest.raises(ReservationError) as info:
            facade.add_dhcp_reservation(name, bad_mac, bad_ip, bad_name)
        assert info.value.field == field
    assert len(_reserved(booted.net, 0)) == 1
    facade.remove_dhcp_reservation(name, mac)
    assert _reserved(booted.net, 0) == []
    assert _reserved(booted.net, libvirt.VIR_NETWORK_XML_INACTIVE) == []
    with pytest.raises(ReservationError):
        facade.remove_dhcp_reservation(name, mac)


def test_reservation_on_an_inactive_network_is_persistent_only(conn: libvirt.virConnect) -> None:
    facade = HostFacade(_Host(conn))
    with isolated_network(conn, start=False) as (net, base):
        facade.add_dhcp_reservation(net.name(), "52:54:00:18:bb:01", f"{base}.60", "")
        assert _reserved(net, libvirt.VIR_NETWORK_XML_INACTIVE) == [
            ("52:54:00:18:bb:01", f"{base}.60", "")
        ]
        facade.remove_dhcp_reservation(net.name(), "52:54:00:18:bb:01")
        assert _reserved(net, libvirt.VIR_NETWORK_XML_INACTIVE) == []


async def test_leases_screen_ip_column_and_details_with_the_real_guest(booted: Booted) -> None:
    from tests.pilot_utils import hosts_settled, wait_until
    from tests.textshot import screen_text
    from virttui.app import HostSpec, VirtTUIApp
    from virttui.screens.network.leases import LeasesScreen, open_leases

    lease = booted.facade.dhcp_leases(booted.net.name())[0]
    uuid = booted.dom.UUIDString()
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 30)
        await wait_until(pilot, lambda: app.store.row(URI, uuid) is not None, 30)
        app.refresh_addresses(URI)
        await wait_until(pilot, lambda: app.addresses.primary_ip(URI, uuid) == lease.ip, 30)
        await pilot.pause(0.3)
        row_line = next(line for line in screen_text(app).splitlines() if booted.dom.name() in line)
        assert lease.ip in row_line  # the IP column (wide terminal)
        # The leases screen of the test network: the lease, its domain.
        open_leases(app, URI, booted.net.name())
        await wait_until(pilot, lambda: isinstance(app.screen, LeasesScreen), 10)
        screen = app.screen
        assert isinstance(screen, LeasesScreen)
        await wait_until(pilot, lambda: bool(screen.leases), 30)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert lease.ip in text and MAC in text and booted.dom.name() in text
        await pilot.press("escape")
        # The details overview: the NIC with its network, model, MAC and the lease address.
        app.open_details(URI, uuid)
        await wait_until(pilot, lambda: f"{lease.ip}/24" in screen_text(app), 30)
        text = screen_text(app)
        assert "NIC 0" in text and MAC in text and booted.net.name() in text
        assert "virtio" in text and "lease" in text
        assert "agent: no guest agent channel" in text
