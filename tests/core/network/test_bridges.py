"""The host's bridges: a fake sysfs root locally, libvirt's interface API remotely, and the
fallback (unknown, with the reason) when a remote host's libvirt has none."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from virttui.core.network.bridges import (
    INTERFACE_API,
    SYSFS,
    HostBridges,
    host_bridges,
    local_bridges,
    remote_bridges,
)
from virttui.core.network.choices import NetworkChoice, network_choices


def fake_sysfs(root: Path) -> Path:
    net = root / "sys" / "class" / "net"
    for name in ("br0", "virbr1"):
        (net / name / "bridge").mkdir(parents=True)
    (net / "eth0").mkdir(parents=True)  # a plain NIC
    (net / "lo").mkdir()
    (net / "odd").mkdir()
    (net / "odd" / "bridge").write_text("a file, not a directory")
    return net


def test_local_bridges_are_the_sysfs_entries_with_a_bridge_directory(tmp_path: Path) -> None:
    bridges = local_bridges(fake_sysfs(tmp_path))
    assert bridges == HostBridges(("br0", "virbr1"), known=True, source=SYSFS)
    assert bridges.has("br0") and not bridges.has("eth0")


def test_an_unreadable_sysfs_is_unknown_with_the_reason(tmp_path: Path) -> None:
    bridges = local_bridges(tmp_path / "nowhere")
    assert not bridges.known and bridges.names == ()
    assert "nowhere" in bridges.why


BRIDGE_XML = (
    "<interface type='bridge' name='br9'><start mode='onboot'/>"
    "<bridge><interface type='ethernet' name='eth9'/></bridge></interface>"
)
ETH_XML = "<interface type='ethernet' name='eth1'><start mode='onboot'/></interface>"


def test_remote_bridges_come_from_the_interface_api(conn: libvirt.virConnect) -> None:
    conn.interfaceDefineXML(ETH_XML, 0)
    assert remote_bridges(conn) == HostBridges((), known=True, source=INTERFACE_API)
    conn.interfaceDefineXML(BRIDGE_XML, 0)
    assert remote_bridges(conn) == HostBridges(("br9",), known=True, source=INTERFACE_API)


class NoInterfaceApi:
    def listAllInterfaces(self, flags: int) -> list[object]:  # noqa: N802 (libvirt's name)
        raise libvirt.libvirtError("this function is not supported by the connection driver")


class EmptyInterfaceApi:
    def listAllInterfaces(self, flags: int) -> list[object]:  # noqa: N802 (libvirt's name)
        return []


def test_a_remote_host_without_an_interface_api_is_unknown_with_the_reason() -> None:
    bridges = remote_bridges(NoInterfaceApi())  # type: ignore[arg-type]
    assert not bridges.known and bridges.names == ()
    assert "no interface API" in bridges.why
    empty = remote_bridges(EmptyInterfaceApi())  # type: ignore[arg-type]
    assert not empty.known and "lists no interfaces" in empty.why


def test_host_bridges_asks_sysfs_locally_and_libvirt_remotely(
    conn: libvirt.virConnect, tmp_path: Path
) -> None:
    conn.interfaceDefineXML(BRIDGE_XML, 0)
    net = fake_sysfs(tmp_path)
    assert host_bridges(conn, local=True, sys_class_net=net).names == ("br0", "virbr1")
    assert host_bridges(conn, local=False, sys_class_net=net).names == ("br9",)


def test_network_choices_have_state_and_autostart(conn: libvirt.virConnect) -> None:
    net = conn.networkDefineXML(
        "<network><name>vt-off</name><ip address='198.18.9.1' netmask='255.255.255.0'/></network>"
    )
    net.setAutostart(1)
    choices = network_choices(conn)
    assert choices == [
        NetworkChoice("default", active=True, autostart=False),
        NetworkChoice("vt-off", active=False, autostart=True),
    ]
    assert [c.state for c in choices] == ["active", "inactive, autostart"]


@pytest.fixture(autouse=True)
def _quiet() -> None:
    from virttui.core.host.libvirt_runtime import silence_errors

    silence_errors()
