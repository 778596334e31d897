"""Re-plugging running guests' NICs after their network was stopped and started (real libvirtd).

One tiny guest per module, with a virtio NIC on a test-made isolated network (198.18.x.0/24, no
forward: no traffic leaves the machine). Stopping and starting the network leaves the guest's tap
off the new bridge (`/sys/class/net/<tap>/master`); `HostFacade.replug_nics` puts it back.
"""

from __future__ import annotations

import contextlib
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import libvirt
import pytest

from tests.guestlib import running_guest, unique_name
from virttui.core.domain.replug import tap_master
from virttui.core.facade.host import HostFacade

R = TypeVar("R")


class _Host:
    """The facade's view of a host, on the module's own connection."""

    uri = "qemu:///system"
    is_local = True

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        return fn(self.conn)


@pytest.fixture(scope="module")
def network(conn: libvirt.virConnect) -> Iterator[tuple[str, str]]:
    """(name, bridge) of a running isolated test network, removed afterwards."""
    name = unique_name("vt-replug")
    bridge = "vtrp" + secrets.token_hex(4)
    third = secrets.randbelow(254) + 1
    net = conn.networkDefineXML(
        f"<network><name>{name}</name><bridge name='{bridge}'/>"
        f"<ip address='198.18.{third}.1' netmask='255.255.255.0'/></network>"
    )
    try:
        net.create()
        yield name, bridge
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            net.destroy()
        with contextlib.suppress(libvirt.libvirtError):
            net.undefine()


@pytest.fixture(scope="module")
def guest(conn: libvirt.virConnect, network: tuple[str, str]) -> Iterator[libvirt.virDomain]:
    nic = (
        f"<interface type='network'><source network='{network[0]}'/>"
        "<model type='virtio'/></interface>"
    )
    with running_guest(conn, "vt-replug", vnc=False, extra_devices=nic) as dom:
        yield dom


def _restart(conn: libvirt.virConnect, name: str) -> None:
    net = conn.networkLookupByName(name)
    net.destroy()
    net.create()


def test_restart_unplugs_the_tap_and_replug_puts_it_back(
    conn: libvirt.virConnect, network: tuple[str, str], guest: libvirt.virDomain
) -> None:
    name, bridge = network
    facade = HostFacade(_Host(conn))
    [nic] = facade.network_nics(name)
    assert nic.uuid == guest.UUIDString() and nic.bridge == bridge
    assert nic.attached is True and tap_master(nic.tap) == bridge

    for _cycle in range(2):  # the re-plugged NIC is a port of the network again: works twice
        _restart(conn, name)
        [after] = facade.network_nics(name)
        assert after.tap == nic.tap and after.mac == nic.mac
        assert after.attached is False and tap_master(nic.tap) == ""  # libvirt left it off

        [result] = facade.replug_nics(name, [guest.UUIDString()])
        assert result.ok, result.message
        assert (result.domain, result.mac) == (guest.name(), nic.mac)
        assert tap_master(nic.tap) == bridge
        [back] = facade.network_nics(name)
        assert back.attached is True
        ports = conn.networkLookupByName(name).listAllPorts(0)
        assert len(ports) == 1  # libvirt knows the NIC as a port of the network again

    live: Any = guest.XMLDesc(0)
    assert f"network='{name}'" in live and "type='network'" in live
    # Re-plugging a NIC that is already on its bridge is harmless.
    [again] = facade.replug_nics(name)
    assert again.ok and tap_master(nic.tap) == bridge


def _live_nic_xml(guest: libvirt.virDomain, name: str) -> ET.Element:
    root = ET.fromstring(guest.XMLDesc(0))
    return next(
        i
        for i in root.iterfind("devices/interface")
        if (src := i.find("source")) is not None and src.get("network") == name
    )


def test_what_does_not_reconnect_on_this_libvirt(
    conn: libvirt.virConnect, network: tuple[str, str], guest: libvirt.virDomain
) -> None:
    """The measurement behind core/domain/replug.py: after a restart, updating the NIC with its
    own live XML, or its link down then up, is accepted by libvirt 9.0 and leaves the tap off
    the bridge; the bridge swap of `replug_network` puts it back."""
    name, bridge = network
    facade = HostFacade(_Host(conn))
    _restart(conn, name)
    iface = _live_nic_xml(guest, name)
    tap = iface.find("target").get("dev", "")  # type: ignore[union-attr]
    assert tap_master(tap) == ""
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE
    guest.updateDeviceFlags(ET.tostring(iface, encoding="unicode"), flags)
    assert tap_master(tap) == ""
    for state in ("down", "up"):
        el = _live_nic_xml(guest, name)
        link = el.find("link")
        if link is None:
            link = ET.SubElement(el, "link")
        link.set("state", state)
        guest.updateDeviceFlags(ET.tostring(el, encoding="unicode"), flags)
    assert tap_master(tap) == ""
    assert all(r.ok for r in facade.replug_nics(name))
    assert tap_master(tap) == bridge


def test_other_domains_are_left_alone(
    conn: libvirt.virConnect, network: tuple[str, str], guest: libvirt.virDomain
) -> None:
    facade = HostFacade(_Host(conn))
    assert facade.replug_nics(network[0], ["00000000-0000-0000-0000-000000000000"]) == []


SLOW = 60.0  # a loaded 2-core machine running other helpers' guests


async def test_offer_replug_names_the_guest_and_puts_its_tap_back(
    conn: libvirt.virConnect, network: tuple[str, str], guest: libvirt.virDomain
) -> None:
    from textual.widgets import Static

    from tests.pilot_utils import click_on, wait_until
    from tests.screens.domain.test_actions_ui import on_screen
    from virttui.app import HostSpec, VirtTUIApp
    from virttui.core.domain.replug import ReplugResult
    from virttui.screens.common.confirm import ConfirmScreen
    from virttui.screens.network.replug import offer_replug

    name, bridge = network
    facade = HostFacade(_Host(conn))
    [nic] = facade.network_nics(name)
    _restart(conn, name)
    assert tap_master(nic.tap) == ""
    app = VirtTUIApp([HostSpec("qemu:///system")], refresh=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        uuid = guest.UUIDString()
        await wait_until(pilot, lambda: app.store.row("qemu:///system", uuid) is not None, SLOW)
        results: list[list[ReplugResult]] = []
        offer_replug(app, "qemu:///system", name, [guest.name()], done=results.append)
        dialog = await on_screen(pilot, ConfirmScreen)
        text = str(dialog.query_one("#confirm-question", Static).render())
        assert f"{guest.name()}: NIC {nic.mac} (tap {nic.tap})" in text
        assert "cannot be checked" not in text  # local: the taps were looked at
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: bool(results), SLOW)
        [[result]] = results
        assert result.ok, result.message
        assert tap_master(nic.tap) == bridge
