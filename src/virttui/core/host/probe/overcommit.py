"""vCPU and memory overcommit: what defined and running guests claim against the host.

Sources: one bulk `getAllDomainStats(STATE | VCPU | BALLOON)` for state, vCPU and balloon
maxima, plus each domain's XML for pinning (`<vcpu cpuset>`, `<cputune><vcpupin>`,
`<numatune><memory nodeset>`) and for drivers whose bulk stats lack the numbers.

Per NUMA cell only pinned guests count: a vCPU allowed on several cells is split over them in
proportion to its allowed host CPUs in each; pinned memory is split evenly over its nodeset.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import libvirt

from virttui.core.host.libvirt_runtime import error_message
from virttui.core.host.probe.capabilities import CapsCell, to_kib
from virttui.core.host.probe.sysfs import parse_cpulist

STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_BALLOON
)


@dataclass(frozen=True)
class DomainLoad:
    """`vcpu_pins[i]` are the host CPUs vCPU i may use (empty: unpinned)."""

    name: str
    uuid: str
    active: bool
    vcpus: int
    memory_kib: int
    vcpu_pins: tuple[frozenset[int], ...]
    memory_nodes: frozenset[int]


@dataclass(frozen=True)
class CellLoad:
    cell: int
    threads: int
    memory_kib: int
    running_vcpus: float
    defined_vcpus: float
    running_memory_kib: int
    defined_memory_kib: int
    running_vcpu_ratio: float
    running_memory_ratio: float


@dataclass(frozen=True)
class Overcommit:
    host_threads: int
    host_memory_kib: int
    running_domains: int
    defined_domains: int
    running_vcpus: int
    defined_vcpus: int
    running_memory_kib: int
    defined_memory_kib: int
    running_vcpu_ratio: float
    defined_vcpu_ratio: float
    running_memory_ratio: float
    defined_memory_ratio: float
    cells: tuple[CellLoad, ...]
    errors: tuple[str, ...]


def parse_domain_load(xml: str, *, active: bool | None = None) -> DomainLoad:
    """A domain's claim from its XML; `active` None reads it from the id attribute."""
    root = ET.fromstring(xml)
    vcpu_el = root.find("vcpu")
    max_vcpus = int(vcpu_el.text or "1") if vcpu_el is not None else 1
    current = int(vcpu_el.get("current", max_vcpus)) if vcpu_el is not None else max_vcpus
    default_pin: frozenset[int] = frozenset()
    if vcpu_el is not None and vcpu_el.get("cpuset") and vcpu_el.get("placement") != "auto":
        default_pin = parse_cpulist(vcpu_el.get("cpuset", ""))
    pins = [default_pin] * current
    for pin in root.findall("cputune/vcpupin"):
        index = int(pin.get("vcpu", "-1"))
        if 0 <= index < current and pin.get("cpuset"):
            pins[index] = parse_cpulist(pin.get("cpuset", ""))
    mem_el = root.find("memory")
    memory = to_kib(mem_el.text or "0", mem_el.get("unit")) if mem_el is not None else 0
    numa_mem = root.find("numatune/memory")
    nodes: frozenset[int] = frozenset()
    if numa_mem is not None and numa_mem.get("nodeset") and numa_mem.get("placement") != "auto":
        nodes = parse_cpulist(numa_mem.get("nodeset", ""))
    if active is None:
        active = root.get("id", "-1") not in ("-1", "")
    return DomainLoad(
        name=root.findtext("name", ""),
        uuid=root.findtext("uuid", ""),
        active=active,
        vcpus=current,
        memory_kib=memory,
        vcpu_pins=tuple(pins),
        memory_nodes=nodes,
    )


def apply_stats(load: DomainLoad, stats: Mapping[str, int]) -> DomainLoad:
    """Prefer the live bulk numbers (current vCPUs, balloon maximum) when the driver has them."""
    running = stats.get("state.state") in (
        libvirt.VIR_DOMAIN_RUNNING,
        libvirt.VIR_DOMAIN_PAUSED,
        libvirt.VIR_DOMAIN_BLOCKED,
        libvirt.VIR_DOMAIN_PMSUSPENDED,
    )
    active = running if "state.state" in stats else load.active
    vcpus = int(stats.get("vcpu.current", load.vcpus))
    pins = load.vcpu_pins[:vcpus] + (frozenset(),) * max(0, vcpus - len(load.vcpu_pins))
    return DomainLoad(
        name=load.name,
        uuid=load.uuid,
        active=active,
        vcpus=vcpus,
        memory_kib=int(stats.get("balloon.maximum", load.memory_kib)),
        vcpu_pins=pins,
        memory_nodes=load.memory_nodes,
    )


def _ratio(used: float, capacity: float) -> float:
    return round(used / capacity, 3) if capacity > 0 else 0.0


def _cell_share(
    loads: Iterable[DomainLoad], cells: tuple[CapsCell, ...]
) -> tuple[dict[int, float], dict[int, float]]:
    cell_of = {cpu: cell.id for cell in cells for cpu in cell.cpus}
    vcpus = {cell.id: 0.0 for cell in cells}
    memory = {cell.id: 0.0 for cell in cells}
    for load in loads:
        for pin in load.vcpu_pins:
            hits = [cell_of[c] for c in pin if c in cell_of]
            for cell_id in hits:
                vcpus[cell_id] += 1 / len(hits)
        nodes = [n for n in load.memory_nodes if n in memory]
        for node in nodes:
            memory[node] += load.memory_kib / len(nodes)
    return vcpus, memory


def compute_overcommit(
    loads: tuple[DomainLoad, ...],
    *,
    host_threads: int,
    host_memory_kib: int,
    cells: tuple[CapsCell, ...],
    errors: tuple[str, ...] = (),
) -> Overcommit:
    running = [load for load in loads if load.active]
    run_vcpus = sum(load.vcpus for load in running)
    all_vcpus = sum(load.vcpus for load in loads)
    run_mem = sum(load.memory_kib for load in running)
    all_mem = sum(load.memory_kib for load in loads)
    run_cell_vcpus, run_cell_mem = _cell_share(running, cells)
    all_cell_vcpus, all_cell_mem = _cell_share(loads, cells)
    cell_loads = tuple(
        CellLoad(
            cell=cell.id,
            threads=len(cell.cpus),
            memory_kib=cell.memory_kib,
            running_vcpus=round(run_cell_vcpus[cell.id], 3),
            defined_vcpus=round(all_cell_vcpus[cell.id], 3),
            running_memory_kib=int(run_cell_mem[cell.id]),
            defined_memory_kib=int(all_cell_mem[cell.id]),
            running_vcpu_ratio=_ratio(run_cell_vcpus[cell.id], len(cell.cpus)),
            running_memory_ratio=_ratio(run_cell_mem[cell.id], cell.memory_kib),
        )
        for cell in cells
    )
    return Overcommit(
        host_threads=host_threads,
        host_memory_kib=host_memory_kib,
        running_domains=len(running),
        defined_domains=len(loads),
        running_vcpus=run_vcpus,
        defined_vcpus=all_vcpus,
        running_memory_kib=run_mem,
        defined_memory_kib=all_mem,
        running_vcpu_ratio=_ratio(run_vcpus, host_threads),
        defined_vcpu_ratio=_ratio(all_vcpus, host_threads),
        running_memory_ratio=_ratio(run_mem, host_memory_kib),
        defined_memory_ratio=_ratio(all_mem, host_memory_kib),
        cells=cell_loads,
        errors=errors,
    )


def collect_domain_loads(
    conn: libvirt.virConnect,
) -> tuple[tuple[DomainLoad, ...], tuple[str, ...]]:
    """One bulk stats call plus one XMLDesc per domain (pinning is only in the XML)."""
    errors: list[str] = []
    try:
        records = conn.getAllDomainStats(STATS, 0)
    except libvirt.libvirtError as exc:
        errors.append(f"getAllDomainStats: {error_message(exc)}")
        try:
            records = [(dom, {}) for dom in conn.listAllDomains(0)]
        except libvirt.libvirtError as exc2:
            errors.append(f"listAllDomains: {error_message(exc2)}")
            return (), tuple(errors)
    loads = []
    for dom, stats in records:
        try:
            xml = dom.XMLDesc(0)
        except libvirt.libvirtError as exc:  # undefined between the two calls
            errors.append(f"XMLDesc: {error_message(exc)}")
            continue
        loads.append(apply_stats(parse_domain_load(xml), stats))
    return tuple(sorted(loads, key=lambda d: d.name)), tuple(errors)
