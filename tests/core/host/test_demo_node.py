"""The bundled demo host and the node XML generator, against libvirt's real test driver."""

from __future__ import annotations

import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virttui.core.host.nodexml import (
    NODEXML_NS,
    TEST_POOL_CAPACITY,
    apply_autostart_marks,
    generate_node_xml,
    node_uri,
    write_node_xml,
)
from virttui.demo import apply_demo_extras, demo_node_path, demo_uri

ALL_STATES = {
    libvirt.VIR_DOMAIN_RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF,
    libvirt.VIR_DOMAIN_CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED,
}


def _quiet() -> None:
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


@pytest.fixture
def demo_conn() -> Iterator[libvirt.virConnect]:
    _quiet()
    conn = libvirt.open(demo_uri())
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def big_node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_node_xml(tmp_path_factory.mktemp("node") / "node-1000.xml", 1000)


def _disk_paths(dom: libvirt.virDomain) -> list[str]:
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return [
        src.get("file", "")
        for src in root.findall("./devices/disk[@type='file']/source")
        if src.get("file")
    ]


# --- demo host -------------------------------------------------------------------------------


def test_demo_paths() -> None:
    path = demo_node_path()
    assert path.is_absolute() and path.is_file() and path.name == "demo-node.xml"
    assert path.parent.name == "demo"
    assert demo_uri() == f"test://{path.as_posix()}"
    assert demo_uri(daemon=True) == f"test+unix://{path.as_posix()}"


def test_demo_node_info(demo_conn: libvirt.virConnect) -> None:
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = demo_conn.getInfo()
    assert (cpus, nodes, sockets, cores, threads) == (64, 2, 1, 16, 2)
    assert memory_mib == 256 * 1024
    assert mhz == 2900 and model == "x86_64"
    assert demo_conn.getType() == "TEST"


def test_demo_has_every_state(demo_conn: libvirt.virConnect) -> None:
    doms = demo_conn.listAllDomains()
    assert len(doms) >= 12
    states = Counter(dom.state()[0] for dom in doms)
    assert set(states) == ALL_STATES
    assert states[libvirt.VIR_DOMAIN_RUNNING] >= 3
    assert states[libvirt.VIR_DOMAIN_SHUTOFF] >= 3
    for dom in doms:
        active = dom.state()[0] != libvirt.VIR_DOMAIN_SHUTOFF
        assert bool(dom.isActive()) == active
        assert (dom.ID() > 0) == active


def test_demo_names_titles_and_special_domains(demo_conn: libvirt.virConnect) -> None:
    by_name = {dom.name(): dom for dom in demo_conn.listAllDomains()}
    for name in ("web-01", "db-primary", "build-runner", "win2022-ad", "k8s-node-1", "k8s-node-3"):
        assert name in by_name
    assert "数据库-测试" in by_name
    assert "staging-🚀" in by_name
    assert by_name["数据库-测试"].state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert (
        by_name["数据库-测试"]
        .metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None)
        .startswith("测试数据库")
    )
    titled = [
        dom for dom in by_name.values() if "<title>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    ]
    assert len(titled) >= 3
    assert by_name["db-primary"].metadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None)
    # One transient (running) guest, one shut-off guest with a managed-save image.
    transient = [n for n, d in by_name.items() if not d.isPersistent()]
    assert transient == ["ci-ephemeral-7f3a"]
    saved = [n for n, d in by_name.items() if d.hasManagedSaveImage()]
    assert saved == ["staging-🚀"]
    # Varied sizes.
    assert len({dom.info()[3] for dom in by_name.values()}) >= 4
    assert len({dom.info()[1] for dom in by_name.values()}) >= 4


def test_demo_disks_are_pool_volumes(demo_conn: libvirt.virConnect) -> None:
    pools = {pool.name(): pool for pool in demo_conn.listAllStoragePools()}
    assert set(pools) == {"default", "iso"}
    volume_paths = {vol.path() for pool in pools.values() for vol in pool.listAllVolumes()}
    assert len(pools["default"].listAllVolumes()) >= 15
    assert len(pools["iso"].listAllVolumes()) >= 3
    for pool in pools.values():
        _state, capacity, allocation, available = pool.info()
        assert pool.isActive()
        assert capacity == TEST_POOL_CAPACITY
        assert allocation + available == capacity
    for dom in demo_conn.listAllDomains():
        paths = _disk_paths(dom)
        assert paths, dom.name()
        for path in paths:
            assert path.startswith("/var/lib/libvirt/")
            assert path in volume_paths, (dom.name(), path)


def test_demo_nics_networks_interfaces(demo_conn: libvirt.virConnect) -> None:
    nets = {net.name(): net for net in demo_conn.listAllNetworks()}
    assert set(nets) == {"default", "isolated"}
    assert all(net.isActive() for net in nets.values())
    assert nets["default"].bridgeName() == "virbr0"
    assert "<forward mode='nat'" in nets["default"].XMLDesc()
    assert "<forward" not in nets["isolated"].XMLDesc()
    assert {iface.name() for iface in demo_conn.listAllInterfaces()} >= {"br0"}
    kinds: Counter[str] = Counter()
    for dom in demo_conn.listAllDomains():
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        for nic in root.findall("./devices/interface"):
            kinds[nic.get("type", "")] += 1
            source = nic.find("source")
            assert source is not None
            if nic.get("type") == "network":
                assert source.get("network") in nets
    assert kinds["network"] >= 5 and kinds["bridge"] >= 3


def test_demo_autostart_mix(demo_conn: libvirt.virConnect) -> None:
    doms = demo_conn.listAllDomains()
    # Node XML cannot carry autostart: nothing autostarts until the extras are applied.
    assert not any(dom.autostart() for dom in doms)
    names = apply_demo_extras(demo_conn)
    autostart = {dom.name() for dom in doms if dom.autostart()}
    assert autostart == set(names)
    assert {"web-01", "db-primary", "win2022-ad", "backup-vault"} <= autostart
    assert {"build-runner", "数据库-测试", "legacy-centos7", "ci-ephemeral-7f3a"}.isdisjoint(
        autostart
    )
    # Both kinds among running and shut-off domains.
    running = {d.name() for d in doms if d.state()[0] == libvirt.VIR_DOMAIN_RUNNING}
    shutoff = {d.name() for d in doms if d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF}
    assert running & autostart and running - autostart
    assert shutoff & autostart and shutoff - autostart
    listed = demo_conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
    assert {d.name() for d in listed} == autostart
    assert demo_conn.networkLookupByName("default").autostart() == 1
    assert demo_conn.networkLookupByName("isolated").autostart() == 0
    assert all(pool.autostart() for pool in demo_conn.listAllStoragePools())
    # Idempotent.
    assert sorted(apply_demo_extras(demo_conn)) == sorted(names)


def test_demo_autostart_is_per_connection() -> None:
    _quiet()
    first = libvirt.open(demo_uri())
    second = libvirt.open(demo_uri())
    try:
        apply_demo_extras(first)
        assert first.lookupByName("web-01").autostart() == 1
        assert second.lookupByName("web-01").autostart() == 0
    finally:
        first.close()
        second.close()


def test_demo_all_domain_stats(demo_conn: libvirt.virConnect) -> None:
    doms = demo_conn.listAllDomains()
    records = demo_conn.getAllDomainStats()
    assert {dom.UUIDString() for dom, _ in records} == {d.UUIDString() for d in doms}
    for dom, stats in records:
        assert stats["state.state"] == dom.state()[0]
    # libvirt 9.0's test driver only implements the "state" group; asking for more is harmless.
    wanted = (
        libvirt.VIR_DOMAIN_STATS_STATE
        | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
        | libvirt.VIR_DOMAIN_STATS_BALLOON
        | libvirt.VIR_DOMAIN_STATS_VCPU
        | libvirt.VIR_DOMAIN_STATS_INTERFACE
        | libvirt.VIR_DOMAIN_STATS_BLOCK
    )
    assert len(demo_conn.getAllDomainStats(wanted)) == len(doms)


def test_demo_running_domain_per_call_stats(demo_conn: libvirt.virConnect) -> None:
    """What the test driver does offer for a running guest, and refuses for a shut-off one."""
    web = demo_conn.lookupByName("web-01")
    before = web.info()[4]
    time.sleep(0.02)
    assert web.info()[4] > before  # cpuTime is wall-clock nanoseconds: it always advances
    assert len(web.blockStats("vda")) == 5
    assert len(web.interfaceStats("testnet0")) == 8
    assert "rss" in web.memoryStats()
    off = demo_conn.lookupByName("legacy-centos7")
    with pytest.raises(libvirt.libvirtError):
        off.blockStats("sda")


def test_demo_through_daemon() -> None:
    _quiet()
    try:
        conn = libvirt.open(demo_uri(daemon=True))
    except libvirt.libvirtError as exc:
        pytest.skip(f"libvirtd not reachable: {exc.get_error_message()}")
    try:
        doms = conn.listAllDomains()
        assert {d.state()[0] for d in doms} == ALL_STATES
        assert len(apply_demo_extras(conn)) >= 5
        assert len(conn.getAllDomainStats()) == len(doms)
    finally:
        conn.close()


# --- generator -------------------------------------------------------------------------------


def test_generator_1000_domains_load(big_node: Path) -> None:
    _quiet()
    conn = libvirt.open(node_uri(big_node))
    try:
        doms = conn.listAllDomains()
        assert len(doms) == 1000
        names = [d.name() for d in doms]
        assert len(set(names)) == 1000
        assert len({d.UUIDString() for d in doms}) == 1000
        assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
        assert any("🚀" in n for n in names)
        states = Counter(d.state()[0] for d in doms)
        assert set(states) == ALL_STATES
        assert states[libvirt.VIR_DOMAIN_RUNNING] == 700
        assert states[libvirt.VIR_DOMAIN_SHUTOFF] > states[libvirt.VIR_DOMAIN_PAUSED]
        records = conn.getAllDomainStats()
        assert len(records) == 1000
        assert all("state.state" in stats for _dom, stats in records)
        for pool in conn.listAllStoragePools():
            _state, capacity, allocation, available = pool.info()
            assert allocation < capacity and allocation + available == capacity
        macs = []
        for dom in doms[:200]:
            root = ET.fromstring(dom.XMLDesc(0))
            assert 1 <= len(root.findall("./devices/disk")) <= 2
            nics = root.findall("./devices/interface/mac")
            assert 1 <= len(nics) <= 2
            macs += [m.get("address") for m in nics]
        assert len(set(macs)) == len(macs)
        marked = apply_autostart_marks(conn)
        assert 300 < len(marked) < 700
        assert {d.name() for d in doms if d.autostart()} == set(marked)
    finally:
        conn.close()


def test_generator_1000_domains_through_daemon(big_node: Path) -> None:
    _quiet()
    try:
        conn = libvirt.open(node_uri(big_node, daemon=True))
    except libvirt.libvirtError as exc:
        pytest.skip(f"libvirtd not reachable: {exc.get_error_message()}")
    try:
        assert len(conn.getAllDomainStats()) == 1000
    finally:
        conn.close()


def test_generator_deterministic_and_validates() -> None:
    assert generate_node_xml(50, seed=3) == generate_node_xml(50, seed=3)
    assert generate_node_xml(50, seed=3) != generate_node_xml(50, seed=4)
    with pytest.raises(ValueError):
        generate_node_xml(-1)
    with pytest.raises(ValueError):
        generate_node_xml(5, running_fraction=1.5)
    root = ET.fromstring(generate_node_xml(40))
    for marker in root.iter(f"{{{NODEXML_NS}}}nodexml"):
        assert marker.get("autostart") == "yes"


def test_generator_light_has_one_disk_and_one_nic_per_domain(tmp_path: Path) -> None:
    """The start-up benchmark's light host: the same domains, one disk and one NIC each."""
    _quiet()
    heavy = ET.fromstring(generate_node_xml(60))
    light = ET.fromstring(generate_node_xml(60, light=True))
    heavy_doms, light_doms = heavy.findall("domain"), light.findall("domain")
    assert [d.findtext("name") for d in light_doms] == [d.findtext("name") for d in heavy_doms]
    assert [d.findtext("uuid") for d in light_doms] == [d.findtext("uuid") for d in heavy_doms]
    assert any(len(d.findall("devices/disk")) == 2 for d in heavy_doms)
    assert any(len(d.findall("devices/interface")) == 2 for d in heavy_doms)
    for dom in light_doms:
        assert len(dom.findall("devices/disk")) == 1
        assert len(dom.findall("devices/interface")) == 1
    conn = libvirt.open(node_uri(write_node_xml(tmp_path / "light.xml", 60, light=True)))
    try:
        assert len(conn.listAllDomains()) == 60
    finally:
        conn.close()


def test_node_uri_encodes_awkward_paths(tmp_path: Path) -> None:
    _quiet()
    odd_dir = tmp_path / "a dir" / "ü"
    odd_dir.mkdir(parents=True)
    odd = write_node_xml(odd_dir / "node #1.xml", 2)
    assert " " not in node_uri(odd)
    conn = libvirt.open(node_uri(odd))
    try:
        assert len(conn.listAllDomains()) == 2
    finally:
        conn.close()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=40),
    running_fraction=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_generated_xml_always_loads(n: int, running_fraction: float, seed: int) -> None:
    _quiet()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_node_xml(
            Path(tmp) / "node.xml", n, running_fraction=running_fraction, seed=seed
        )
        conn = libvirt.open(node_uri(path))
        try:
            doms = conn.listAllDomains()
            assert len(doms) == n
            assert len({d.name() for d in doms}) == n
            assert all(uuid.UUID(d.UUIDString()) for d in doms)
            running = sum(d.state()[0] == libvirt.VIR_DOMAIN_RUNNING for d in doms)
            assert running == round(n * running_fraction)
            assert len(conn.getAllDomainStats()) == n
            apply_autostart_marks(conn, networks=["default"], pools=["default"])
        finally:
            conn.close()
