"""Virtual networks on the real qemu:///system: an isolated and a NAT network with unique names
and random /24 subnets from 198.18.0.0/15 are defined, started, stopped, set to autostart and
undefined through the facade; refusals (overlap, active, in use by a defined domain) create or
remove nothing. No guest runs on them; the host's `default` network is never touched."""

from __future__ import annotations

import contextlib
import ipaddress
import random
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import create_qcow2, defined_guest, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.facade.host import HostFacade
from virttui.core.network.create import NetworkSpec
from virttui.core.network.networks import NetworkError


class _Host:
    uri = "qemu:///system"
    is_local = True

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn

    def call(self, fn):  # type: ignore[no-untyped-def]
        return fn(self.conn)


def _free_subnet(conn: libvirt.virConnect) -> ipaddress.IPv4Network:
    """A random /24 of 198.18.0.0/15 that no network or host route uses yet."""
    from virttui.core.network.create import creation_context

    context = creation_context(conn, local=True)
    taken = [ip.subnet for n in context.networks for ip in n.ipv4] + list(context.host_routes or ())
    for _ in range(200):
        net = ipaddress.IPv4Network(f"198.18.{random.randrange(0, 256)}.0/24")
        if random.random() < 0.5:
            net = ipaddress.IPv4Network(f"198.19.{random.randrange(0, 256)}.0/24")
        if not any(net.overlaps(t) for t in taken):
            return net
    pytest.skip("no free /24 in 198.18.0.0/15")


@pytest.fixture
def net_names(system_conn: libvirt.virConnect) -> Iterator[list[str]]:
    """Names the test creates; each is stopped and undefined afterwards."""
    names: list[str] = []
    try:
        yield names
    finally:
        for name in names:
            assert name != "default"
            with contextlib.suppress(libvirt.libvirtError):
                net = system_conn.networkLookupByName(name)
                with contextlib.suppress(libvirt.libvirtError):
                    net.destroy()
                with contextlib.suppress(libvirt.libvirtError):
                    net.undefine()


@pytest.mark.parametrize("mode", ["isolated", "nat"])
def test_network_lifecycle(
    system_conn: libvirt.virConnect, net_names: list[str], mode: str
) -> None:
    facade = HostFacade(_Host(system_conn))
    subnet = _free_subnet(system_conn)
    hosts = list(subnet.hosts())
    name = unique_name(f"vt-net-{mode}")
    net_names.append(name)
    spec = NetworkSpec(
        name=name,
        mode=mode,
        ipv4=str(subnet),
        dhcp_start=str(hosts[9]),
        dhcp_end=str(hosts[99]),
        domain="vt.test",
    )
    info = facade.network_define(spec, start=False)
    assert not info.active and info.persistent and not info.autostart
    assert info.forward_mode == mode
    assert info.ipv4[0].cidr == f"{hosts[0]}/24"
    assert info.ipv4[0].dhcp_ranges == ((str(hosts[9]), str(hosts[99])),)

    # "start and autostart" on an inactive network the test made
    info = facade.network_start_and_autostart(name)
    assert info.active and info.autostart
    assert info.bridge  # libvirt picked a virbrN
    assert any(n.name == name and n.active for n in facade.network_list())

    # a second network on the same subnet is refused, nothing defined
    other = unique_name("vt-net-dup")
    with pytest.raises(NetworkError, match=f"overlaps network {name}"):
        facade.network_define(
            NetworkSpec(name=other, mode="isolated", ipv4=str(subnet)), start=False
        )
    assert other not in {n.name for n in facade.network_list()}

    with pytest.raises(NetworkError, match="active"):
        facade.network_undefine(name)
    assert facade.network_stop(name) == ()  # nobody lost connectivity
    assert not facade.network_set_autostart(name, False).autostart
    facade.network_undefine(name)
    assert name not in {n.name for n in facade.network_list()}


def test_undefine_refused_while_a_defined_domain_uses_it(
    system_conn: libvirt.virConnect, net_names: list[str], tmp_path: Path
) -> None:
    facade = HostFacade(_Host(system_conn))
    name = unique_name("vt-net-used")
    net_names.append(name)
    facade.network_define(NetworkSpec(name=name, mode="isolated"), start=False)
    nic = f"<interface type='network'><source network='{name}'/><model type='virtio'/></interface>"
    disk = create_qcow2(tmp_path / "disk.qcow2")
    with defined_guest(system_conn, str(disk), extra_devices=nic) as dom:
        user = facade.network_info(name).used_by
        assert [u.name for u in user] == [dom.name()] and not user[0].running
        with pytest.raises(NetworkError, match=f"used by {dom.name()}"):
            facade.network_undefine(name)
    facade.network_undefine(name)


def test_remote_host_checks_its_networks_and_says_what_it_could_not(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    net_names: list[str],
) -> None:
    """Over qemu+ssh (to this machine's sshd): the host's routes cannot be read through libvirt,
    so only its networks are checked and the context says so; bridges come from libvirt's
    interface API where the host offers it, else the context says they are unknown. An
    isolated network is defined, started, stopped and undefined over the remote connection."""
    remote = libvirt.open(local_sshd.uri())
    try:
        host = _Host(remote)
        host.uri = local_sshd.uri()
        host.is_local = False
        facade = HostFacade(host)
        context = facade.network_create_context()
        assert context.host_routes is None
        assert any("routes are not checked" in note for note in context.notes)
        if context.bridges is None:
            assert any("bridges are unknown" in note for note in context.notes)
        subnet = _free_subnet(system_conn)
        name = unique_name("vt-net-ssh")
        net_names.append(name)
        info = facade.network_define(NetworkSpec(name=name, mode="isolated", ipv4=str(subnet)))
        assert info.active and info.ipv4[0].subnet == subnet
        with pytest.raises(NetworkError, match=f"overlaps network {name}"):
            facade.network_define(
                NetworkSpec(name=unique_name("vt-net-dup"), mode="isolated", ipv4=str(subnet))
            )
        facade.network_stop(name)
        facade.network_undefine(name)
        assert name not in {n.name for n in facade.network_list()}
    finally:
        remote.close()
