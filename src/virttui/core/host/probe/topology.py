"""How the host is built: CPU, sockets/cores/threads, NUMA cells, caches, hugepages, KSM, RAM."""

from __future__ import annotations

from dataclasses import dataclass

from virttui.core.host.probe.caches import CacheLevel, caches_from_banks
from virttui.core.host.probe.cpuflags import CpuInfo
from virttui.core.host.probe.domcaps import DomainCapabilities
from virttui.core.host.probe.hugepages import HugepagePool, pools_from_cells
from virttui.core.host.probe.ksm import KsmState, ksm_from_memory_parameters
from virttui.core.host.probe.libvirt_facts import LibvirtFacts
from virttui.core.host.probe.memory import MemorySummary, memory_from_stats
from virttui.core.host.probe.sysfs import format_cpulist


@dataclass(frozen=True)
class NumaCell:
    id: int
    cpus: str  # "0-7"
    threads: int
    memory_kib: int
    free_kib: int | None


@dataclass(frozen=True)
class Topology:
    cpu_model: str
    cpu_vendor: str
    libvirt_cpu_model: str
    host_model: str | None
    threads_total: int
    sockets: int | None
    dies: int | None
    cores_per_socket: int | None
    threads_per_core: int | None
    mhz: int | None
    cells: tuple[NumaCell, ...]
    caches: tuple[CacheLevel, ...]
    hugepages: tuple[HugepagePool, ...]
    ksm: KsmState
    memory: MemorySummary | None


@dataclass(frozen=True)
class LocalFacts:
    """What /proc, /sys and psutil said (None/empty on a remote host)."""

    cpu: CpuInfo | None
    caches: tuple[CacheLevel, ...]
    hugepages: tuple[HugepagePool, ...]
    ksm: KsmState | None
    memory: MemorySummary | None


def build_topology(
    facts: LibvirtFacts, domcaps: DomainCapabilities | None, local: LocalFacts | None
) -> Topology:
    caps = facts.capabilities
    info = facts.info
    cells = []
    for index, cell in enumerate(caps.cells if caps else ()):
        free = facts.cells_free_kib[index] if index < len(facts.cells_free_kib) else None
        cells.append(
            NumaCell(cell.id, format_cpulist(cell.cpus), len(cell.cpus), cell.memory_kib, free)
        )
    if local is not None:
        caches = local.caches or (caches_from_banks(caps.cache_banks) if caps else ())
        hugepages = local.hugepages
        ksm = local.ksm or ksm_from_memory_parameters(facts.memory_parameters)
        memory = local.memory
    else:
        caches = caches_from_banks(caps.cache_banks) if caps else ()
        cell_pages = {c.id: dict(c.pages) for c in caps.cells} if caps else {}
        hugepages = pools_from_cells(cell_pages, facts.free_pages)
        ksm = ksm_from_memory_parameters(facts.memory_parameters)
        memory = memory_from_stats(facts.memory_stats)
    cpu = local.cpu if local is not None else None
    return Topology(
        cpu_model=(cpu.model_name if cpu and cpu.model_name else (caps.cpu_model if caps else "")),
        cpu_vendor=(cpu.vendor if cpu and cpu.vendor else (caps.cpu_vendor if caps else "")),
        libvirt_cpu_model=caps.cpu_model if caps else "",
        host_model=domcaps.host_model if domcaps else None,
        threads_total=info.cpus if info else (cpu.logical_cpus if cpu else 0),
        sockets=caps.sockets if caps and caps.sockets else (info.sockets if info else None),
        dies=caps.dies if caps else None,
        cores_per_socket=caps.cores if caps and caps.cores else (info.cores if info else None),
        threads_per_core=caps.threads
        if caps and caps.threads
        else (info.threads if info else None),
        mhz=info.mhz if info else None,
        cells=tuple(cells),
        caches=caches,
        hugepages=hugepages,
        ksm=ksm,
        memory=memory,
    )
