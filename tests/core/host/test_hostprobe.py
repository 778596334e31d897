"""Host probes on fixture trees (tests/fixtures/host/*) and on libvirt's test driver."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import libvirt
import pytest

from tests import paths
from virttui.core.host.probe import Acceleration, Status, collect_host_report
from virttui.core.host.probe.caches import CacheBank, caches_from_banks, probe_caches
from virttui.core.host.probe.capabilities import CapsCell, parse_capabilities
from virttui.core.host.probe.cgroups import check_cgroups, probe_cgroups
from virttui.core.host.probe.checks import Check
from virttui.core.host.probe.cpuflags import (
    TCG_CONSEQUENCE,
    check_ept_npt,
    check_hw_virt,
    parse_cpuinfo,
    probe_cpuinfo,
)
from virttui.core.host.probe.devnodes import check_tun, check_vhost_net
from virttui.core.host.probe.domcaps import parse_domain_capabilities
from virttui.core.host.probe.hugepages import pools_from_cells, probe_hugepages
from virttui.core.host.probe.iommu import check_iommu, probe_iommu
from virttui.core.host.probe.ksm import ksm_from_memory_parameters, probe_ksm
from virttui.core.host.probe.kvmdev import KvmQuery, check_kvm_device, probe_kvm_device
from virttui.core.host.probe.memory import memory_from_stats, probe_memory
from virttui.core.host.probe.modules import (
    check_kvm_modules,
    check_nested,
    probe_modules,
    probe_nested,
)
from virttui.core.host.probe.overcommit import (
    DomainLoad,
    collect_domain_loads,
    compute_overcommit,
    parse_domain_load,
)
from virttui.core.host.probe.present import build_sections
from virttui.core.host.probe.sysfs import format_cpulist, parse_cpulist, parse_size_kib
from virttui.core.host.probe.textreport import render_text
from virttui.core.host.probe.verdict import decide

FIXTURES = paths.FIXTURES / "host"
INTEL = FIXTURES / "intel_kvm"
AMD = FIXTURES / "amd_kvm"
TCG = FIXTURES / "tcg_only"

PINNED_NODE = """<node>
<domain type='test'><name>pinned</name><uuid>11111111-0000-0000-0000-000000000001</uuid>
<memory unit='GiB'>4</memory><vcpu placement='static' cpuset='0-3'>4</vcpu>
<cputune><vcpupin vcpu='3' cpuset='8'/></cputune>
<numatune><memory mode='strict' nodeset='0'/></numatune>
<os><type arch='i686'>hvm</type></os></domain>
<domain type='test'><name>idle</name><uuid>11111111-0000-0000-0000-000000000002</uuid>
<memory unit='GiB'>2</memory><vcpu current='2'>6</vcpu>
<os><type arch='i686'>hvm</type></os></domain>
</node>
"""


def copy_tree(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------- sysfs helpers


def test_cpulist_round_trip() -> None:
    assert parse_cpulist("0-3,8,^2") == {0, 1, 3, 8}
    assert parse_cpulist("") == frozenset()
    assert format_cpulist(frozenset({0, 1, 2, 5, 7, 8})) == "0-2,5,7-8"
    assert parse_size_kib("32K") == 32 and parse_size_kib("2M") == 2048
    assert parse_size_kib("junk") is None


# ---------------------------------------------------------------- CPU flags


def test_cpuinfo_intel_vmx_and_ept_in_vmx_flags() -> None:
    cpu = probe_cpuinfo(INTEL)
    assert cpu is not None and cpu.logical_cpus == 4
    assert cpu.model_name.startswith("Intel(R) Xeon(R)")
    check = check_hw_virt(cpu)
    assert check.status is Status.OK and "VT-x" in check.detail
    slat = check_ept_npt(cpu)
    assert slat.status is Status.OK and "EPT" in slat.detail


def test_cpuinfo_amd_svm_and_npt() -> None:
    cpu = probe_cpuinfo(AMD)
    assert check_hw_virt(cpu).status is Status.OK
    assert "AMD-V" in check_hw_virt(cpu).detail
    assert "NPT" in check_ept_npt(cpu).detail


def test_cpuinfo_without_vmx_or_svm_is_tcg() -> None:
    check = check_hw_virt(probe_cpuinfo(TCG))
    assert check.status is Status.FAIL
    assert check.consequence == TCG_CONSEQUENCE
    assert "hypervisor" in check.detail or "itself a VM" in check.detail
    assert check_ept_npt(probe_cpuinfo(TCG)).status is Status.WARN


def test_vmx_without_ept_warns() -> None:
    cpu = parse_cpuinfo("processor : 0\nflags : fpu vmx\n")
    assert check_ept_npt(cpu).status is Status.WARN
    assert "shadow" in check_ept_npt(cpu).consequence


def test_missing_cpuinfo(tmp_path: Path) -> None:
    assert probe_cpuinfo(tmp_path) is None
    assert check_hw_virt(None).status is Status.FAIL


# ---------------------------------------------------------------- /dev/kvm


def test_kvm_device_missing(tmp_path: Path) -> None:
    dev = probe_kvm_device(tmp_path)
    assert not dev.exists
    assert check_kvm_device(dev).status is Status.FAIL


def test_kvm_device_regular_file_is_not_usable() -> None:
    check = check_kvm_device(probe_kvm_device(TCG))
    assert check.status is Status.FAIL and "character device" in check.detail


def test_kvm_device_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The device path with the ioctls replaced: version 12 and a created VM are OK."""
    from virttui.core.host.probe import kvmdev

    monkeypatch.setattr(kvmdev.stat, "S_ISCHR", lambda mode: True)
    monkeypatch.setattr(kvmdev, "query_kvm", lambda path: KvmQuery(12, True, ""))
    dev = probe_kvm_device(INTEL)
    assert check_kvm_device(dev).status is Status.OK
    assert check_kvm_device(dev, hw_virt=False).status is Status.WARN
    monkeypatch.setattr(
        kvmdev, "query_kvm", lambda path: KvmQuery(12, False, "KVM_CREATE_VM: busy")
    )
    assert check_kvm_device(probe_kvm_device(INTEL)).status is Status.FAIL
    monkeypatch.setattr(kvmdev, "query_kvm", lambda path: KvmQuery(11, None, ""))
    assert "version 11" in check_kvm_device(probe_kvm_device(INTEL)).detail


@pytest.mark.skipif(not os.path.exists("/dev/kvm"), reason="no /dev/kvm on this machine")
def test_real_dev_kvm_ioctls() -> None:
    dev = probe_kvm_device(Path("/"))
    assert dev.exists and dev.char_device
    if not dev.permission_denied:
        assert dev.api_version == 12
        assert stat.S_ISCHR(os.stat("/dev/kvm").st_mode)


# ---------------------------------------------------------------- modules, nested


def test_modules_from_proc_modules() -> None:
    mods = probe_modules(INTEL)
    assert mods.source == "/proc/modules" and {"kvm", "kvm_intel"} <= mods.names
    assert check_kvm_modules(mods).status is Status.OK
    assert check_kvm_modules(probe_modules(AMD)).detail.startswith("kvm, kvm_amd")


def test_modules_fallback_to_sys_module_without_vendor_module() -> None:
    mods = probe_modules(TCG)
    assert mods.source == "/sys/module"
    check = check_kvm_modules(mods)
    assert check.status is Status.FAIL and "kvm_pvm" in check.detail


def test_no_kvm_module(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/modules").write_text("ext4 1 0 - Live 0x0\n")
    check = check_kvm_modules(probe_modules(tmp_path))
    assert check.status is Status.FAIL and "kvm not loaded" in check.detail
    assert check_kvm_modules(probe_modules(tmp_path / "nowhere")).status is Status.WARN


@pytest.mark.parametrize(
    ("value", "enabled"), [("Y", True), ("1", True), ("N", False), ("0", False)]
)
def test_nested_values(tmp_path: Path, value: str, enabled: bool) -> None:
    param = tmp_path / "sys/module/kvm_intel/parameters/nested"
    param.parent.mkdir(parents=True)
    param.write_text(value + "\n")
    nested = probe_nested(tmp_path)
    assert nested.module == "kvm_intel" and nested.enabled is enabled
    check = check_nested(nested)
    assert check.status is Status.OK
    assert check.detail.startswith("enabled" if enabled else "disabled")


def test_nested_not_applicable() -> None:
    assert probe_nested(TCG).module is None  # kvm_pvm's nested is not VT-x/AMD-V nesting
    assert check_nested(probe_nested(TCG)).status is Status.WARN


# ---------------------------------------------------------------- IOMMU, cgroups, devices


def test_iommu_groups_present() -> None:
    state = probe_iommu(INTEL)
    assert state.groups == 3 and "dmar0" in state.units
    assert "intel_iommu=on" in state.cmdline_options
    check = check_iommu(state)
    assert check.status is Status.OK and "VT-d" in check.detail


def test_iommu_hardware_but_disabled() -> None:
    check = check_iommu(probe_iommu(AMD))
    assert check.status is Status.WARN and "AMD-Vi" in check.detail
    assert "amd_iommu=on" in check.consequence


def test_no_iommu() -> None:
    check = check_iommu(probe_iommu(TCG))
    assert check.status is Status.WARN and "not possible" in check.consequence


def test_cgroups_v2_and_v1() -> None:
    v2 = probe_cgroups(INTEL)
    assert v2.version == 2 and check_cgroups(v2).status is Status.OK
    v1 = probe_cgroups(AMD)  # blkio has hierarchy 0: not mounted
    assert v1.version == 1 and "blkio" not in v1.controllers
    check = check_cgroups(v1)
    assert check.status is Status.WARN and "missing blkio" in check.detail
    assert check_cgroups(probe_cgroups(TCG)).status is Status.OK


def test_device_nodes() -> None:
    assert check_tun(INTEL).status is Status.OK
    assert check_vhost_net(INTEL).status is Status.OK
    assert check_vhost_net(AMD).status is Status.WARN


# ---------------------------------------------------------------- caches, hugepages, KSM, RAM


def test_caches_from_sysfs() -> None:
    caches = {c.name: c for c in probe_caches(INTEL)}
    assert list(caches) == ["L1d", "L1i", "L2", "L3"]
    assert caches["L1d"].size_kib == 48 and caches["L1d"].instances == 4
    assert caches["L3"].size_kib == 49152 and caches["L3"].instances == 2
    assert caches["L3"].shared_cpus == "0-1"


def test_caches_from_capabilities_banks() -> None:
    banks = (CacheBank(0, 3, "both", 32768, "0-7"), CacheBank(1, 3, "both", 32768, "8-15"))
    (l3,) = caches_from_banks(banks)
    assert (l3.name, l3.size_kib, l3.instances) == ("L3", 32768, 2)


def test_hugepages_per_size_and_node() -> None:
    pools = probe_hugepages(INTEL)
    system = [p for p in pools if p.node is None]
    assert [(p.size_kib, p.total, p.free) for p in system] == [(2048, 512, 500), (1048576, 2, 1)]
    per_node = [(p.size_kib, p.node, p.total) for p in pools if p.node is not None]
    assert (2048, 0, 256) in per_node and (1048576, 1, 1) in per_node
    assert probe_hugepages(TCG) == ()


def test_hugepages_from_libvirt_cells() -> None:
    pools = pools_from_cells({0: {4: 100, 2048: 10}, 1: {4: 100, 2048: 6}}, {0: {2048: 3}})
    system = next(p for p in pools if p.node is None)
    assert (system.size_kib, system.total, system.free) == (2048, 16, None)
    assert [p.free for p in pools if p.node is not None] == [3, None]


def test_ksm() -> None:
    ksm = probe_ksm(INTEL)
    assert ksm.run_label == "running" and ksm.pages_shared == 1234 and ksm.pages_sharing == 5678
    assert probe_ksm(AMD).run_label == "stopped"
    assert probe_ksm(TCG).run_label == "not available"
    remote = ksm_from_memory_parameters({"shm_pages_shared": 7, "shm_pages_sharing": 9})
    assert remote.pages_shared == 7 and remote.run is None and remote.run_label == "unknown"


def test_memory_from_fixture_procfs_and_stats() -> None:
    mem = probe_memory(INTEL)
    assert mem is not None and mem.total_kib == 16384000 and mem.swap_total_kib == 4194304
    import psutil

    assert psutil.PROCFS_PATH == "/proc"  # restored
    remote = memory_from_stats({"total": 1000, "free": 100, "buffers": 10, "cached": 20})
    assert remote is not None and remote.available_kib == 130 and remote.swap_total_kib is None


# ---------------------------------------------------------------- libvirt XML parsing


def test_capabilities_of_test_driver() -> None:
    conn = libvirt.open("test:///default")
    try:
        caps = parse_capabilities(conn.getCapabilities())
    finally:
        conn.close()
    assert [c.id for c in caps.cells] == [0, 1]
    assert caps.cells[1].cpus == tuple(range(8, 16))
    assert caps.cells[0].memory_kib == 2097152
    assert caps.iommu_support is False and caps.domain_types == ("test",)


DOMCAPS = """<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain>
<machine>pc-q35-7.2</machine><arch>x86_64</arch><vcpu max='255'/>
<os supported='yes'><enum name='firmware'><value>efi</value></enum>
<loader supported='yes'><value>/usr/share/OVMF/OVMF_CODE_4M.fd</value></loader></os>
<cpu><mode name='host-passthrough' supported='yes'/>
<mode name='host-model' supported='yes'><model fallback='forbid'>EPYC-Milan</model></mode>
<mode name='custom' supported='yes'><model usable='yes'>qemu64</model></mode></cpu>
<devices><disk supported='yes'><enum name='bus'><value>virtio</value><value>sata</value></enum></disk>
<graphics supported='yes'><enum name='type'><value>vnc</value><value>spice</value></enum></graphics>
<video supported='no'/></devices>
<features><sev supported='no'/><vmcoreinfo supported='yes'/></features></domainCapabilities>"""


def test_domain_capabilities_parse() -> None:
    d = parse_domain_capabilities(DOMCAPS)
    assert d.virt_type == "kvm" and d.max_vcpus == 255 and d.machine == "pc-q35-7.2"
    assert d.host_model == "EPYC-Milan"
    assert [m.name for m in d.cpu_modes] == ["host-passthrough", "host-model", "custom"]
    assert d.disk_buses == ("virtio", "sata") and d.graphics_types == ("vnc", "spice")
    assert d.video_models == () and d.features == ("vmcoreinfo",)
    assert d.firmware == ("efi",)


# ---------------------------------------------------------------- overcommit


def test_domain_xml_pinning() -> None:
    xml = PINNED_NODE.split("<domain", 2)[1]
    load = parse_domain_load("<domain" + xml.split("</domain>")[0] + "</domain>")
    assert load.vcpus == 4 and load.memory_kib == 4 * 1024 * 1024
    assert load.vcpu_pins == (frozenset(range(4)),) * 3 + (frozenset({8}),)
    assert load.memory_nodes == {0} and load.active is False


def test_overcommit_math() -> None:
    cells = (CapsCell(0, 1000, (0, 1), ()), CapsCell(1, 1000, (2, 3), ()))
    loads = (
        DomainLoad("a", "1", True, 3, 1500, (frozenset({0, 1}),) * 3, frozenset({0})),
        DomainLoad("b", "2", True, 2, 400, (frozenset({1, 2}),) * 2, frozenset({0, 1})),
        DomainLoad("c", "3", False, 8, 4000, (frozenset(),) * 8, frozenset()),
    )
    o = compute_overcommit(loads, host_threads=4, host_memory_kib=2000, cells=cells)
    assert (o.running_vcpus, o.defined_vcpus) == (5, 13)
    assert (o.running_vcpu_ratio, o.defined_vcpu_ratio) == (1.25, 3.25)
    assert (o.running_memory_kib, o.defined_memory_kib) == (1900, 5900)
    assert o.running_memory_ratio == 0.95 and o.defined_memory_ratio == 2.95
    c0, c1 = o.cells
    assert c0.running_vcpus == 4.0 and c1.running_vcpus == 1.0  # b's vCPUs split 1/2 each
    assert c0.running_vcpu_ratio == 2.0
    assert c0.running_memory_kib == 1700 and c1.running_memory_kib == 200
    assert c0.running_memory_ratio == 1.7


def test_overcommit_on_test_driver_default() -> None:
    conn = libvirt.open("test:///default")
    try:
        report = collect_host_report(conn, local=False)
    finally:
        conn.close()
    o = report.overcommit
    assert (o.running_domains, o.defined_domains) == (1, 1)
    assert o.running_vcpus == 2 and o.host_threads == 16
    assert o.running_memory_kib == 8388608 and o.host_memory_kib == 3072 * 1024
    assert o.running_memory_ratio == pytest.approx(8388608 / 3145728, abs=1e-3)
    text = render_text(build_sections(report))
    assert "overcommitted" in text


def test_overcommit_pinned_guests_on_test_driver() -> None:
    """test:///default has two NUMA cells (CPUs 0-7, 2 GiB; 8-15, 4 GiB) and domain 'test'."""
    conn = libvirt.open("test:///default")
    try:
        pinned_xml, idle_xml = (
            "<domain" + part.split("</domain>")[0] + "</domain>"
            for part in PINNED_NODE.split("<domain")[1:]
        )
        conn.createXML(pinned_xml, 0)
        conn.defineXML(idle_xml)
        loads, errors = collect_domain_loads(conn)
        report = collect_host_report(conn, local=False)
    finally:
        conn.close()
    assert errors == ()
    assert [(d.name, d.active, d.vcpus) for d in loads] == [
        ("idle", False, 2),
        ("pinned", True, 4),
        ("test", True, 2),
    ]
    o = report.overcommit
    assert (o.running_vcpus, o.defined_vcpus) == (6, 8)
    assert o.running_memory_kib == (4 + 8) * 1024 * 1024
    c0, c1 = o.cells
    assert (c0.running_vcpus, c1.running_vcpus) == (3.0, 1.0)
    assert c0.running_memory_kib == 4 * 1024 * 1024 and c0.running_memory_ratio == 2.0
    assert c1.running_memory_kib == 0
    rows = {r.label: r for s in build_sections(report) if s.id == "overcommit" for r in s.rows}
    assert rows["Cell 0 RAM"].alarm and not rows["Cell 1 vCPU"].alarm


# ---------------------------------------------------------------- verdict


def _check(cid: str, status: Status) -> Check:
    return Check(cid, cid, status, "", "")


def test_verdict_kvm_tcg_and_broken_kvm() -> None:
    ok = [_check(c, Status.OK) for c in ("cpu.hw_virt", "kvm.device", "kvm.modules")]
    v = decide(ok + [_check("iommu", Status.WARN)])
    assert v.acceleration is Acceleration.KVM and v.exit_code == 0 and v.domain_type == "kvm"
    v = decide(ok + [_check("dev.tun", Status.FAIL)])
    assert v.acceleration is Acceleration.KVM and v.exit_code == 1 and v.failed == ("dev.tun",)
    v = decide([_check("cpu.hw_virt", Status.FAIL), _check("kvm.device", Status.OK)])
    assert v.acceleration is Acceleration.TCG and v.summary == TCG_CONSEQUENCE and v.exit_code == 1
    v = decide([_check("cpu.hw_virt", Status.OK), _check("kvm.device", Status.FAIL)])
    assert v.acceleration is Acceleration.TCG and "KVM is not usable" in v.summary
    assert v.domain_type == "qemu"
    v = decide([_check("cpu.hw_virt", Status.UNKNOWN_REMOTE)])
    assert v.acceleration is Acceleration.UNKNOWN and v.exit_code == 1


def test_local_report_on_tcg_fixture_says_tcg() -> None:
    conn = libvirt.open("test:///default")
    try:
        report = collect_host_report(conn, local=True, root=TCG)
    finally:
        conn.close()
    assert report.verdict.acceleration is Acceleration.TCG
    assert report.verdict.summary == TCG_CONSEQUENCE
    assert report.software.kernel == "6.18.0-fixture"
    assert report.topology.cpu_model == "AMD EPYC"
    assert report.not_checked_remotely == ()


def test_remote_report_marks_unchecked_lines() -> None:
    conn = libvirt.open("test:///default")
    try:
        report = collect_host_report(conn, local=False)
    finally:
        conn.close()
    statuses = {c.id: c.status for c in report.checks}
    assert statuses["kvm.modules"] is Status.UNKNOWN_REMOTE
    assert statuses["cgroups"] is Status.UNKNOWN_REMOTE
    assert statuses["kvm.device"] is Status.FAIL  # the test driver offers no 'kvm' domain type
    assert "KVM kernel modules" in report.not_checked_remotely
    assert "kernel version" in report.not_checked_remotely
    assert report.software.kernel is None


# ---------------------------------------------------------------- JSON schema

TOP_KEYS = {
    "schema_version",
    "uri",
    "hostname",
    "local",
    "verdict",
    "checks",
    "topology",
    "software",
    "domain_capabilities",
    "overcommit",
    "not_checked_remotely",
    "errors",
}
CHECK_IDS = [
    "cpu.hw_virt",
    "kvm.device",
    "kvm.modules",
    "kvm.nested",
    "cpu.slat",
    "iommu",
    "cgroups",
    "dev.tun",
    "dev.vhost_net",
]


def test_json_schema_is_stable() -> None:
    conn = libvirt.open("test:///default")
    try:
        data = collect_host_report(conn, local=True, root=INTEL).to_json_dict()
    finally:
        conn.close()
    json.dumps(data)  # serialisable
    assert data["schema_version"] == 1
    assert set(data) == TOP_KEYS
    assert [c["id"] for c in data["checks"]] == CHECK_IDS
    assert set(data["checks"][0]) == {"id", "name", "status", "detail", "consequence"}
    assert set(data["verdict"]) == {"acceleration", "domain_type", "summary", "failed", "exit_code"}
    assert set(data["topology"]) == {
        "cpu_model",
        "cpu_vendor",
        "libvirt_cpu_model",
        "host_model",
        "threads_total",
        "sockets",
        "dies",
        "cores_per_socket",
        "threads_per_core",
        "mhz",
        "cells",
        "caches",
        "hugepages",
        "ksm",
        "memory",
    }
    assert set(data["topology"]["cells"][0]) == {"id", "cpus", "threads", "memory_kib", "free_kib"}
    assert set(data["topology"]["ksm"]) == {
        "available",
        "run",
        "run_label",
        "pages_shared",
        "pages_sharing",
        "source",
    }
    assert set(data["overcommit"]) == {
        "host_threads",
        "host_memory_kib",
        "running_domains",
        "defined_domains",
        "running_vcpus",
        "defined_vcpus",
        "running_memory_kib",
        "defined_memory_kib",
        "running_vcpu_ratio",
        "defined_vcpu_ratio",
        "running_memory_ratio",
        "defined_memory_ratio",
        "cells",
        "errors",
    }
    assert set(data["software"]) == {
        "uri",
        "hostname",
        "driver",
        "libvirt_version",
        "client_version",
        "hypervisor_version",
        "kernel",
        "emulator",
        "domain_types",
        "machine_types",
        "sysinfo",
    }
    assert {c["status"] for c in data["checks"]} <= {"ok", "warn", "fail", "unknown-remote"}


def test_text_report_fits_80_columns() -> None:
    conn = libvirt.open("test:///default")
    try:
        text = render_text(build_sections(collect_host_report(conn, local=True, root=TCG)))
    finally:
        conn.close()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "[FAIL]" in text and TCG_CONSEQUENCE.split(":")[0] in text


def test_core_never_imports_textual(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['textual'] = None\n"
        "import virttui.core.host.probe, virttui.core.host.probe.present, virttui.check\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
