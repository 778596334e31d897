"""Finding the NICs a network restart left unplugged, and the per-NIC results of a re-plug, on a
private test-driver node (domain "test", running, NIC aa:bb:cc:dd:ee:ff on network "default").
The re-plug itself is measured on the real libvirtd: tests/integration/test_nic_replug_live.py."""

from __future__ import annotations

import os
from pathlib import Path

import libvirt
import pytest

from virttui.core.domain.replug import (
    NetworkNic,
    ReplugError,
    network_bridge,
    network_nics,
    replug_network,
    tap_master,
    unplugged,
)

UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


def sysfs(root: Path, taps: dict[str, str]) -> Path:
    """A fake /sys/class/net: each tap, enslaved to its bridge ("" none)."""
    net = root / "net"
    for tap, bridge in taps.items():
        (net / tap).mkdir(parents=True)
        if bridge:
            (net / bridge).mkdir(exist_ok=True)
            os.symlink(f"../{bridge}", net / tap / "master")
    return net


def test_tap_master_reads_the_master_link(tmp_path: Path) -> None:
    net = sysfs(tmp_path, {"vnet0": "virbr0", "vnet1": ""})
    assert tap_master("vnet0", net) == "virbr0"
    assert tap_master("vnet1", net) == ""
    assert tap_master("vnet9", net) is None
    assert tap_master("../etc", net) is None and tap_master("", net) is None


def test_nics_of_running_domains_on_the_network(conn: libvirt.virConnect, tmp_path: Path) -> None:
    [remote] = network_nics(conn, "default", local=False)
    assert (remote.uuid, remote.domain, remote.mac) == (UUID, "test", "aa:bb:cc:dd:ee:ff")
    assert remote.bridge == "virbr0" and remote.attached is None
    assert unplugged([remote]) == [remote]  # cannot tell remotely: offered
    net = sysfs(tmp_path, {"vnet0": "virbr0"})
    [local] = network_nics(conn, "default", local=True, sys_class_net=net)
    assert local.attached is False  # the test driver's NIC has no tap here
    plugged = NetworkNic(UUID, "test", "aa:bb:cc:dd:ee:ff", "vnet0", "virbr0", True)
    assert unplugged([plugged]) == []


def test_an_inactive_network_or_one_without_a_bridge_cannot_be_replugged(
    conn: libvirt.virConnect,
) -> None:
    conn.networkDefineXML(
        "<network><name>off</name><ip address='198.18.3.1' netmask='255.255.255.0'/></network>"
    )
    with pytest.raises(ReplugError, match="network off is not running"):
        network_bridge(conn, "off")
    conn.networkCreateXML(
        "<network><name>macvtap</name><forward mode='bridge'><interface dev='eth0'/></forward>"
        "</network>"
    )
    with pytest.raises(ReplugError, match="no tap on a bridge"):
        network_bridge(conn, "macvtap")
    with pytest.raises(ReplugError, match="nowhere"):
        network_bridge(conn, "nowhere")


def test_each_nic_gets_its_own_result(conn: libvirt.virConnect) -> None:
    """The test driver has no updateDeviceFlags: the failure is reported per NIC, not raised."""
    [result] = replug_network(conn, "default")
    assert (result.uuid, result.domain, result.mac, result.ok) == (
        UUID,
        "test",
        "aa:bb:cc:dd:ee:ff",
        False,
    )
    assert "not supported" in result.message
    assert replug_network(conn, "default", uuids=["someone-else"]) == []
    assert replug_network(conn, "default", macs=["52:54:00:00:00:01"]) == []
