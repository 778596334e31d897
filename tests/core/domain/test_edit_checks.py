"""Unit tests of the host checks of edits (core.edit_checks) and of size parsing (core.units),
on facts recorded from this project's TCG-only Debian 12 host (`virsh domcapabilities
--virttype qemu --arch x86_64 --machine pc`, libvirt 9.0 / QEMU 7.2)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests import paths
from virttui.core.common.units import MAX_DISK_BYTES, MAX_MEMORY_MIB, parse_count, parse_size
from virttui.core.domain import edit_checks as E
from virttui.core.host.probe.domcaps import parse_domain_capabilities

DATA = paths.CORE_DATA
TCG_DOMCAPS = (DATA / "domcaps-qemu-tcg-x86_64.xml").read_text()
GIB = 1024**3


@pytest.fixture
def tcg_caps():
    return parse_domain_capabilities(TCG_DOMCAPS)


# ---------------------------------------------------------------------------------- domcaps
def test_recorded_domcaps_cpu_modes_and_custom_models(tcg_caps) -> None:
    modes = {m.name: m.supported for m in tcg_caps.cpu_modes}
    assert modes == {
        "host-passthrough": False,
        "maximum": True,
        "host-model": True,
        "custom": True,
    }
    names = dict(tcg_caps.custom_models)
    assert names["qemu64"] == "yes"
    assert len(names) > 20


def test_host_passthrough_is_refused_on_tcg(tcg_caps) -> None:
    [f] = E.cpu_mode_findings("host-passthrough", "", tcg_caps)
    assert f.field == E.CPU_MODE and f.blocking
    assert "host-passthrough is not offered" in f.message and "needs KVM" in f.message
    assert "maximum" in f.message  # what is offered instead


@pytest.mark.parametrize("mode", ["maximum", "host-model"])
def test_offered_modes_pass(tcg_caps, mode: str) -> None:
    assert E.cpu_mode_findings(mode, "", tcg_caps) == []


def test_custom_model_must_be_known(tcg_caps) -> None:
    assert E.cpu_mode_findings("custom", "qemu64", tcg_caps) == []
    assert E.cpu_mode_findings("custom", "QEMU64", tcg_caps) == []
    [f] = E.cpu_mode_findings("custom", "Skylake-Typo", tcg_caps)
    assert f.field == E.CPU_MODEL and f.blocking and "Skylake-Typo" in f.message


def test_host_passthrough_passes_where_offered() -> None:
    kvm = TCG_DOMCAPS.replace(
        "<mode name='host-passthrough' supported='no'/>",
        "<mode name='host-passthrough' supported='yes'/>",
    ).replace("<domain>qemu</domain>", "<domain>kvm</domain>")
    assert kvm != TCG_DOMCAPS
    assert E.cpu_mode_findings("host-passthrough", "", parse_domain_capabilities(kvm)) == []


def test_no_domcaps_is_said_not_refused() -> None:
    [f] = E.cpu_mode_findings("host-passthrough", "", None, "the host gives no domain caps")
    assert not f.blocking and f.severity == E.UNVERIFIABLE
    assert "not checked" in f.message and "no domain caps" in f.message


# ---------------------------------------------------------------------------------- memory
def test_memory_above_host_ram_is_refused_on_each_field() -> None:
    host = 2048 * 1024
    out = E.memory_findings(4096 * 1024, 4096 * 1024, host)
    assert [f.field for f in out] == [E.MEMORY, E.MAX_MEMORY]
    assert all(f.blocking and "more than the host's RAM (2048 MiB)" in f.message for f in out)
    assert E.memory_findings(1024 * 1024, 4096 * 1024, host)[0].field == E.MAX_MEMORY
    assert E.memory_findings(2048 * 1024, 2048 * 1024, host) == []
    assert E.memory_findings(None, None, host) == []  # nothing changed: nothing checked


def test_memory_unknown_host_ram_is_said() -> None:
    [f] = E.memory_findings(1024, None, None, "node info unavailable")
    assert f.severity == E.UNVERIFIABLE and "node info unavailable" in f.message


# ---------------------------------------------------------------------------------- disk path
def test_disk_path_states(tmp_path: Path) -> None:
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * 512)
    conn = None  # locally, an existing or missing path needs no libvirt at all
    assert E.disk_path_state(conn, str(image), True)[0] is E.PathState.EXISTS  # type: ignore[arg-type]
    missing = str(tmp_path / "nope.qcow2")
    assert E.disk_path_state(conn, missing, True)[0] is E.PathState.MISSING  # type: ignore[arg-type]
    assert E.disk_path_state(conn, str(tmp_path), True)[0] is E.PathState.NOT_A_DISK  # type: ignore[arg-type]
    through_file = str(image / "x")
    assert E.disk_path_state(conn, through_file, True)[0] is E.PathState.NOT_A_DISK  # type: ignore[arg-type]
    [f] = E.disk_path_findings(missing, E.PathState.MISSING)
    assert f.blocking and f.field == E.DISK_PATH and "does not exist" in f.message
    [u] = E.disk_path_findings(missing, E.PathState.UNKNOWN, "in no storage pool")
    assert not u.blocking and "not checked: in no storage pool" in u.message


# ---------------------------------------------------------------------------------- NIC
def test_network_missing_inactive_and_unlisted() -> None:
    nets = {"default": False, "lan": True}
    assert E.nic_findings(network="lan", networks=nets) == []
    [missing] = E.nic_findings(network="nosuch", networks=nets)
    assert missing.blocking and missing.field == E.NETWORK and not missing.start_network
    [inactive] = E.nic_findings(network="default", networks=nets)
    assert inactive.blocking and inactive.start_network == "default"
    assert "not running" in inactive.message
    [unknown] = E.nic_findings(network="lan", networks=None, networks_why="no network API")
    assert not unknown.blocking and "no network API" in unknown.message


def test_bridges(tmp_path: Path) -> None:
    (tmp_path / "br0" / "bridge").mkdir(parents=True)
    (tmp_path / "eth0").mkdir()
    assert E.local_bridge_state("br0", tmp_path) is E.BridgeState.BRIDGE
    assert E.local_bridge_state("eth0", tmp_path) is E.BridgeState.NOT_A_BRIDGE
    assert E.local_bridge_state("br9", tmp_path) is E.BridgeState.MISSING
    assert E.local_bridge_state("..", tmp_path) is E.BridgeState.MISSING
    assert E.local_bridge_state("../etc", tmp_path) is E.BridgeState.MISSING
    [f] = E.nic_findings(bridge="br9", bridge_state=E.BridgeState.MISSING)
    assert f.blocking and f.field == E.BRIDGE and "no bridge br9" in f.message
    [f] = E.nic_findings(bridge="eth0", bridge_state=E.BridgeState.NOT_A_BRIDGE)
    assert f.blocking and "not a bridge" in f.message
    [f] = E.nic_findings(
        bridge="br0",
        bridge_state=E.BridgeState.UNKNOWN,
        bridge_why="host has no interface API (this function is not supported)",
    )
    assert not f.blocking
    assert f.message.startswith("bridge br0 not checked: host has no interface API")
    [f] = E.nic_findings(bridge="a/b", bridge_state=E.BridgeState.BRIDGE)
    assert f.blocking and "not an interface name" in f.message


def test_macs() -> None:
    used = {"52:54:00:aa:bb:cc": "domain web"}
    [dup] = E.nic_findings(mac="52:54:00:AA:BB:CC", used_macs=used)
    assert dup.blocking and dup.field == E.MAC and "already used by domain web" in dup.message
    assert E.nic_findings(mac="52:54:00:aa:bb:cd", used_macs=used) == []
    [bad] = E.nic_findings(mac="52:54:00:aa:bb", used_macs=used)
    assert bad.blocking and "not a MAC address" in bad.message
    [multicast] = E.nic_findings(mac="01:00:5e:00:00:01", used_macs={})
    assert multicast.blocking and "multicast" in multicast.message


# ---------------------------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("inf", "finite"),
        ("-inf", "finite"),
        ("Infinity", "finite"),
        ("nan", "not a number"),
        ("-1", "above zero"),
        ("0", "above zero"),
        ("1e400", "finite"),  # float() makes this inf
        ("1e30", "absurdly large"),
        ("ten", "a number"),
        ("", "a number"),
        ("1e-12", "below one byte"),
    ],
)
def test_sizes_refused_with_a_sentence(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_size(text, "Size in GiB", unit_bytes=GIB, maximum_bytes=MAX_DISK_BYTES)


def test_sizes_accepted() -> None:
    assert parse_size("10", "Size", unit_bytes=GIB, maximum_bytes=MAX_DISK_BYTES) == 10 * GIB
    assert parse_size(" 0.5 ", "Size", unit_bytes=GIB, maximum_bytes=MAX_DISK_BYTES) == GIB // 2
    assert not math.isinf(MAX_DISK_BYTES)


def test_counts() -> None:
    assert parse_count("128", "Memory", maximum=MAX_MEMORY_MIB) == 128
    for text, words in (
        ("inf", "whole number"),
        ("nan", "whole number"),
        ("1.5", "whole number"),
        ("-4", "above zero"),
        ("99999999999999999999", "absurdly large"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_count(text, "Memory", maximum=MAX_MEMORY_MIB)
