"""Edits that cannot work on this host are refused before they are saved: qemu:///system (TCG only,
libvirt 9.0) with one defined, shut-off tiny guest and one isolated test network that is defined
but never started (198.18.0.0/15, no forward; undefined afterwards).

Each refusal leaves the persistent XML as it was; "save anyway" (config only) saves it.
"""

from __future__ import annotations

import contextlib
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import libvirt
import pytest
from textual.widgets import Button

from tests.guestlib import SYSTEM_URI, running_guest, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - a fixture
from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import choose, finding_for, on_screen, submit_form
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain import devices as D
from virttui.core.domain import edit_checks as E
from virttui.core.domain import tuning as T
from virttui.core.host.connection import is_local_uri
from virttui.screens.domain import edit
from virttui.screens.domain.edit_dialogs import FormScreen

INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
SLOW = (
    120  # generous: a define or caps lookup is quick since the /dev/kvm probe fix, even under load
)


@pytest.fixture(scope="module")
def guest(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    """Shut off is enough: every check here is about the persistent definition."""
    with running_guest(conn, "vt-chk", start=False) as dom:
        yield dom


@pytest.fixture(scope="module")
def idle_network(conn: libvirt.virConnect) -> Iterator[str]:
    """An isolated network (no <forward>) on a free /24 of 198.18.0.0/15; never started."""
    name = unique_name("vt-chknet")
    used = set()
    for net in conn.listAllNetworks(0):
        with contextlib.suppress(libvirt.libvirtError, ET.ParseError):
            for ip in ET.fromstring(net.XMLDesc(0)).iterfind("ip"):
                used.add(ip.get("address", ""))
    third = next(
        n for n in (secrets.randbelow(250) + 2 for _ in range(100)) if f"198.18.{n}.1" not in used
    )
    xml = (
        f"<network><name>{name}</name>"
        f"<ip address='198.18.{third}.1' netmask='255.255.255.0'/></network>"
    )
    net = conn.networkDefineXML(xml)
    try:
        assert not net.isActive()
        yield name
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            if net.isActive():
                net.destroy()
        with contextlib.suppress(libvirt.libvirtError):
            net.undefine()


def persistent_xml(dom: libvirt.virDomain) -> str:
    return dom.XMLDesc(INACTIVE)


def host_ram_mib(conn: libvirt.virConnect) -> int:
    """Physical RAM as getMemoryStats says (on this host getInfo()[1] says far less)."""
    total_kib = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)["total"]
    assert E.host_memory_kib(conn)[0] == total_kib
    return int(total_kib) // 1024


# Cheap checks first; the ones that make libvirtd look up QEMU capabilities (domcaps, device
# parsing, define) last: under load each may wait minutes for libvirtd's capabilities cache.
def test_memory_above_host_ram_refused_then_saved_anyway(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    too_much = (host_ram_mib(conn) + 1024) * 1024
    before = persistent_xml(guest)
    findings = E.check_memory(conn, too_much, too_much)
    assert [f.field for f in findings] == [E.MEMORY, E.MAX_MEMORY]
    assert all(f.blocking and "more than the host's RAM" in f.message for f in findings)
    assert persistent_xml(guest) == before
    applied = T.set_memory(guest, too_much, too_much, config_only=True)
    assert applied.config and not applied.live and "saved anyway" in applied.note
    assert int(ET.fromstring(persistent_xml(guest)).findtext("memory") or 0) == too_much
    T.set_memory(guest, 128 * 1024, 128 * 1024, config_only=True)  # back to bootable


def test_missing_disk_path_refused_locally_unverifiable_remotely(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    missing = f"/var/lib/libvirt/images/{unique_name('vt-nodisk')}.qcow2"
    [f] = E.check_disk_path(conn, missing, local=True)
    assert f.blocking and f.field == E.DISK_PATH and "does not exist" in f.message
    # What a qemu+ssh host can tell: libvirt looks paths up only among pool volumes.
    [r] = E.check_disk_path(conn, missing, local=False)
    assert not r.blocking and "not checked" in r.message and "storage pool" in r.message
    own_disk = ET.fromstring(persistent_xml(guest)).find("devices/disk/source").get("file")
    assert E.check_disk_path(conn, own_disk, local=True) == []


def test_nic_missing_network_and_bridge_inactive_network_duplicate_mac(
    conn: libvirt.virConnect, guest: libvirt.virDomain, idle_network: str
) -> None:
    before = persistent_xml(guest)
    nosuch = unique_name("vt-nonet")
    [f] = E.check_nic(conn, guest, network=nosuch, local=True)
    assert f.blocking and f.field == E.NETWORK and f"no network {nosuch}" in f.message
    [f] = E.check_nic(conn, guest, bridge="vtnobr0", local=True)
    assert f.blocking and f.field == E.BRIDGE and "no bridge vtnobr0" in f.message
    [f] = E.check_nic(conn, guest, bridge="vtnobr0", local=False)  # via listAllInterfaces
    assert f.field == E.BRIDGE and ("no bridge vtnobr0" in f.message or not f.blocking)
    [f] = E.check_nic(conn, guest, network=idle_network, local=True)
    assert f.blocking and f.start_network == idle_network and "not running" in f.message
    mac = ET.fromstring(before).find("devices/interface/mac").get("address")
    [f] = E.check_nic(conn, guest, network=idle_network, mac=mac.upper(), local=True)[1:]
    assert f.blocking and f.field == E.MAC and "another NIC of this domain" in f.message
    assert persistent_xml(guest) == before
    assert not conn.networkLookupByName(idle_network).isActive()


async def test_dialog_refuses_memory_above_host_ram_then_saves_anyway(
    conn: libvirt.virConnect, guest: libvirt.virDomain, idle_network: str
) -> None:
    uuid = guest.UUIDString()
    too_much_mib = host_ram_mib(conn) + 2048
    before = persistent_xml(guest)
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.store.row(SYSTEM_URI, uuid) is not None, SLOW)
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "m")
        form: FormScreen[Any] = await submit_form(
            pilot, {"#res-memory": str(too_much_mib), "#res-max-memory": str(too_much_mib)}
        )
        await wait_until(pilot, lambda: bool(finding_for(form, "res-max-memory")), SLOW, 0.2)
        assert "more than the host's RAM" in finding_for(form, "res-max-memory")
        assert "more than the host's RAM" in finding_for(form, "res-memory")
        assert form.query_one("#force", Button).display
        assert app.screen is form
        assert persistent_xml(guest) == before
        await click_on(pilot, "#force")
        await wait_until(
            pilot,
            lambda: (
                int(ET.fromstring(persistent_xml(guest)).findtext("memory") or 0)
                == too_much_mib * 1024
            ),
            SLOW,
            0.2,
        )
        # A NIC on the inactive test network: refused, with "Start network" offered (not
        # pressed: the network is never started).
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "n")
        nic_form = await on_screen(pilot, FormScreen)
        await submit_form(pilot, {"#nic-network-name": idle_network})
        await wait_until(pilot, lambda: bool(finding_for(nic_form, "nic-network-name")), SLOW)
        assert "is not running" in finding_for(nic_form, "nic-network-name")
        assert nic_form.query_one("#start-network", Button).display
        await pilot.press("escape")
        # A CD-ROM drive with an image that is not there: refused next to the path.
        missing = f"/var/lib/libvirt/images/{unique_name('vt-noiso')}.iso"
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "o")
        cd_form = await on_screen(pilot, FormScreen)
        await submit_form(pilot, {"#cdrom-path": missing})
        await wait_until(pilot, lambda: bool(finding_for(cd_form, "cdrom-path")), SLOW)
        assert "does not exist" in finding_for(cd_form, "cdrom-path")
        await pilot.press("escape")
    T.set_memory(guest, 128 * 1024, 128 * 1024, config_only=True)
    assert not conn.networkLookupByName(idle_network).isActive()
    root = ET.fromstring(persistent_xml(guest))
    assert len(root.findall("devices/interface")) == 1
    assert root.find("devices/disk[@device='cdrom']") is None


async def test_qemu_ssh_host_says_what_it_could_not_check(
    local_sshd: LocalSshd,  # noqa: F811 - the fixture imported above
    guest: libvirt.virDomain,
) -> None:
    """The same libvirtd over qemu+ssh, named so virttui takes it for another machine ("127.1"
    is 127.0.0.1 to ssh, not a name virttui knows as local): no local stat or /sys, only what
    libvirt can tell."""
    uri = local_sshd.uri(host="127.1")
    assert not is_local_uri(uri)
    uuid = guest.UUIDString()
    missing = f"/var/lib/libvirt/images/{unique_name('vt-nodisk')}.qcow2"
    app = VirtTUIApp([HostSpec(uri)], refresh=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.store.row(uri, uuid) is not None, SLOW)
        host = app.hosts[uri]
        assert not host.is_local

        def remote_path_check(c: libvirt.virConnect) -> list[E.Finding]:
            return E.check_disk_path(c, missing, E.checks_host_directly(c, host.is_local))

        [f] = host.call(remote_path_check)
        assert not f.blocking and "not checked" in f.message
        await choose(pilot, lambda: edit.open_edit_menu(app, uri, uuid), "n")
        form = await on_screen(pilot, FormScreen)
        note = str(form.query_one("#form-host-note").render())
        assert note.startswith("Remote host:") and "interface API" in note
        await click_on(pilot, "#nic-bridge")
        await submit_form(pilot, {"#nic-bridge-name": "vtnobr0"})
        await wait_until(pilot, lambda: bool(finding_for(form, "nic-bridge-name")), SLOW, 0.2)
        # This libvirt has an interface API (udev): a missing bridge is known even remotely.
        assert "vtnobr0" in finding_for(form, "nic-bridge-name")
        await pilot.press("escape")


def test_this_host_does_not_offer_host_passthrough(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    """Verified first (like `virsh domcapabilities --virttype qemu`): TCG has no passthrough."""
    caps, why = E.domain_capabilities(conn, guest)
    assert caps is not None, why
    assert caps.virt_type == "qemu"
    mode = caps.cpu_mode("host-passthrough")
    assert mode is not None and not mode.supported
    before = persistent_xml(guest)
    [f] = E.check_cpu_mode(conn, guest, "host-passthrough", "")
    assert f.blocking and f.field == E.CPU_MODE and "not offered" in f.message
    assert E.check_cpu_mode(conn, guest, "custom", "qemu64") == []
    assert persistent_xml(guest) == before


def test_save_anyway_attaches_config_only(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    """What "save anyway" does for a disk: into the persistent config (libvirt accepts it; the
    next start would fail), then removed again."""
    missing = f"/var/lib/libvirt/images/{unique_name('vt-nodisk')}.qcow2"
    applied, target = D.add_disk_path(guest, missing, config_only=True)
    try:
        assert applied.config and not applied.live and "saved anyway" in applied.note
        sources = [
            s.get("file")
            for s in ET.fromstring(persistent_xml(guest)).iterfind("devices/disk/source")
        ]
        assert missing in sources
    finally:
        D.remove_disk(guest, target)


def test_duplicate_mac_of_another_domain(
    conn: libvirt.virConnect, guest: libvirt.virDomain, idle_network: str
) -> None:
    with running_guest(conn, "vt-chk2", start=False) as other:
        mac = ET.fromstring(persistent_xml(other)).find("devices/interface/mac").get("address")
        findings = E.check_nic(conn, guest, network=idle_network, mac=mac, local=True)
        [f] = [f for f in findings if f.field == E.MAC]
        assert f.blocking and f"domain {other.name()}" in f.message
