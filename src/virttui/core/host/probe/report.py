"""The host report: checks, verdict, topology, software, domain capabilities, overcommit.

JSON schema (`HostReport.to_json_dict()`, `schema_version` 1). Keys are only ever added within
a schema version; a removal or change of meaning bumps it. Sizes are KiB, ratios are floats
(used / capacity, 0.0 when the capacity is unknown), absent facts are null.

    schema_version: int                      1
    uri, hostname: str
    local: bool                              facts from /proc and /sys (true) or libvirt only
    verdict: {acceleration: "kvm"|"tcg"|"unknown", domain_type: "kvm"|"qemu",
              summary: str, failed: [check id], exit_code: 0|1}
    checks: [{id, name, status: "ok"|"warn"|"fail"|"unknown-remote", detail, consequence}]
        ids: cpu.hw_virt, kvm.device, kvm.modules, kvm.nested, cpu.slat, iommu, cgroups,
             dev.tun, dev.vhost_net
    topology: {cpu_model, cpu_vendor, libvirt_cpu_model, host_model, threads_total, sockets,
               dies, cores_per_socket, threads_per_core, mhz,
               cells: [{id, cpus, threads, memory_kib, free_kib}],
               caches: [{name, size_kib, instances, shared_cpus}],
               hugepages: [{size_kib, node (null = system-wide), total, free}],
               ksm: {available, run, run_label, pages_shared, pages_sharing, source},
               memory: {total_kib, available_kib, swap_total_kib, swap_free_kib, source} | null}
    software: {uri, hostname, driver, libvirt_version, client_version, hypervisor_version,
               kernel, emulator, domain_types: [str],
               machine_types: [{name, canonical, max_cpus, deprecated}],
               sysinfo: [[key, value]]}
    domain_capabilities: {virt_type, emulator, arch, machine, max_vcpus, firmware, loaders,
               cpu_modes: [{name, supported, model}], host_model, disk_buses, graphics_types,
               video_models, hostdev_types, features} | null
    overcommit: {host_threads, host_memory_kib, running_domains, defined_domains,
               running_vcpus, defined_vcpus, running_memory_kib, defined_memory_kib,
               running_vcpu_ratio, defined_vcpu_ratio, running_memory_ratio,
               defined_memory_ratio,
               cells: [{cell, threads, memory_kib, running_vcpus, defined_vcpus,
                        running_memory_kib, defined_memory_kib, running_vcpu_ratio,
                        running_memory_ratio}], errors: [str]}
    not_checked_remotely: [str]              lines a remote connection cannot verify
    errors: [str]                            libvirt calls that failed ("call: message")
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import libvirt

from virttui.core.host.probe.caches import probe_caches
from virttui.core.host.probe.cgroups import check_cgroups, probe_cgroups
from virttui.core.host.probe.checks import Check, Status, remote_unknown
from virttui.core.host.probe.cpuflags import (
    check_ept_npt,
    check_hw_virt,
    hw_virt_flag,
    probe_cpuinfo,
)
from virttui.core.host.probe.devnodes import check_tun, check_vhost_net
from virttui.core.host.probe.domcaps import DomainCapabilities
from virttui.core.host.probe.hugepages import probe_hugepages
from virttui.core.host.probe.iommu import check_iommu, probe_iommu
from virttui.core.host.probe.ksm import probe_ksm
from virttui.core.host.probe.kvmdev import check_kvm_device, probe_kvm_device
from virttui.core.host.probe.libvirt_facts import (
    LibvirtFacts,
    collect_domain_capabilities,
    collect_libvirt_facts,
)
from virttui.core.host.probe.memory import probe_memory
from virttui.core.host.probe.modules import (
    check_kvm_modules,
    check_nested,
    probe_modules,
    probe_nested,
)
from virttui.core.host.probe.overcommit import Overcommit, collect_domain_loads, compute_overcommit
from virttui.core.host.probe.remote_checks import (
    check_hw_virt_remote,
    check_iommu_remote,
    check_kvm_offered,
)
from virttui.core.host.probe.software import Software, build_software, probe_kernel
from virttui.core.host.probe.topology import LocalFacts, Topology, build_topology
from virttui.core.host.probe.verdict import Acceleration, Verdict, decide

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HostReport:
    uri: str
    hostname: str
    local: bool
    checks: tuple[Check, ...]
    verdict: Verdict
    topology: Topology
    software: Software
    domain_capabilities: DomainCapabilities | None
    overcommit: Overcommit
    not_checked_remotely: tuple[str, ...]
    errors: tuple[str, ...]
    schema_version: int = SCHEMA_VERSION

    def to_json_dict(self) -> dict[str, Any]:
        data = _jsonable(self)
        assert isinstance(data, dict)
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("host_model", "run_label"):  # documented derived properties
            if hasattr(type(value), extra) and isinstance(getattr(type(value), extra), property):
                out[extra] = getattr(value, extra)
        return out
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def local_checks(root: Path) -> tuple[list[Check], LocalFacts]:
    cpu = probe_cpuinfo(root)
    has_hw = cpu is not None and hw_virt_flag(cpu.flags) is not None
    checks = [
        check_hw_virt(cpu),
        check_kvm_device(probe_kvm_device(root), hw_virt=has_hw),
        check_kvm_modules(probe_modules(root)),
        check_nested(probe_nested(root)),
        check_ept_npt(cpu),
        check_iommu(probe_iommu(root)),
        check_cgroups(probe_cgroups(root)),
        check_tun(root),
        check_vhost_net(root),
    ]
    facts = LocalFacts(
        cpu=cpu,
        caches=probe_caches(root),
        hugepages=probe_hugepages(root),
        ksm=probe_ksm(root),
        memory=probe_memory(root),
    )
    return checks, facts


def remote_checks(facts: LibvirtFacts) -> list[Check]:
    caps = facts.capabilities
    return [
        check_hw_virt_remote(caps),
        check_kvm_offered(caps),
        remote_unknown("kvm.modules", "KVM kernel modules", "/proc/modules"),
        remote_unknown("kvm.nested", "Nested virtualization", "/sys/module/kvm_*/parameters"),
        remote_unknown("cpu.slat", "Second-level address translation (EPT/NPT)", "/proc/cpuinfo"),
        check_iommu_remote(caps),
        remote_unknown("cgroups", "cgroup controllers", "/sys/fs/cgroup"),
        remote_unknown("dev.tun", "/dev/net/tun", "/dev"),
        remote_unknown("dev.vhost_net", "/dev/vhost-net", "/dev"),
    ]


def _domcaps_type(verdict: Verdict, facts: LibvirtFacts) -> str:
    if verdict.acceleration is Acceleration.UNKNOWN:
        caps = facts.capabilities
        return "kvm" if caps and "kvm" in caps.domain_types else "qemu"
    return verdict.domain_type


def collect_host_report(
    conn: libvirt.virConnect, *, local: bool, root: Path = Path("/")
) -> HostReport:
    """Everything for the host screen and `virttui check`; blocking, run it in a worker."""
    facts = collect_libvirt_facts(conn, local=local)
    errors = list(facts.errors)
    local_facts: LocalFacts | None = None
    if local:
        checks, local_facts = local_checks(root)
    else:
        checks = remote_checks(facts)
    verdict = decide(checks)
    arch = facts.capabilities.arch if facts.capabilities else None
    domcaps, domcaps_error = collect_domain_capabilities(conn, _domcaps_type(verdict, facts), arch)
    if domcaps_error:
        errors.append(domcaps_error)
    loads, load_errors = collect_domain_loads(conn)
    info = facts.info
    overcommit = compute_overcommit(
        loads,
        host_threads=info.cpus if info else 0,
        host_memory_kib=info.memory_mib * 1024 if info else 0,
        cells=facts.capabilities.cells if facts.capabilities else (),
        errors=load_errors,
    )
    topology = build_topology(facts, domcaps, local_facts)
    software = build_software(facts, probe_kernel(root) if local else None)
    unchecked: list[str] = []
    if not local:
        unchecked = [c.name for c in checks if c.status is Status.UNKNOWN_REMOTE]
        unchecked += ["kernel version", "swap", "KSM run state"]
        if not topology.caches:
            unchecked.append("CPU caches")
    return HostReport(
        uri=facts.uri,
        hostname=facts.hostname,
        local=local,
        checks=tuple(checks),
        verdict=verdict,
        topology=topology,
        software=software,
        domain_capabilities=domcaps,
        overcommit=overcommit,
        not_checked_remotely=tuple(unchecked),
        errors=tuple(errors),
    )
