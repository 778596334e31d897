"""Parsing libvirt's capabilities XML (`virConnect.getCapabilities`): host CPU, NUMA, guests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from virttui.core.host.probe.caches import CacheBank

_UNIT_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "kib": 1, "k": 1, "mib": 1024, "m": 1024,
             "gib": 1024**2, "g": 1024**2, "tib": 1024**3}  # fmt: skip


def to_kib(value: str, unit: str | None) -> int:
    return int(int(value) * _UNIT_KIB.get((unit or "KiB").lower(), 1))


@dataclass(frozen=True)
class CapsCell:
    id: int
    memory_kib: int
    cpus: tuple[int, ...]
    pages: tuple[tuple[int, int], ...]  # (page size KiB, count)


@dataclass(frozen=True)
class MachineType:
    name: str
    canonical: str | None
    max_cpus: int | None
    deprecated: bool


@dataclass(frozen=True)
class HostCapabilities:
    arch: str
    cpu_model: str
    cpu_vendor: str
    cpu_features: frozenset[str]
    sockets: int | None
    dies: int | None
    cores: int | None
    threads: int | None
    cells: tuple[CapsCell, ...]
    cache_banks: tuple[CacheBank, ...]
    iommu_support: bool | None
    domain_types: tuple[str, ...]  # for hvm guests of the host arch
    emulator: str
    machines: tuple[MachineType, ...]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_capabilities(xml: str) -> HostCapabilities:
    root = ET.fromstring(xml)
    host_cpu = root.find("host/cpu")
    arch = host_cpu.findtext("arch", "") if host_cpu is not None else ""
    features: set[str] = set()
    topo = None
    if host_cpu is not None:
        features.update(f.get("name", "") for f in host_cpu.findall("feature"))
        features.update(child.tag for child in host_cpu.findall("features/*"))
        topo = host_cpu.find("topology")
    cells = []
    for cell in root.findall("host/topology/cells/cell"):
        mem = cell.find("memory")
        cells.append(
            CapsCell(
                id=int(cell.get("id", "0")),
                memory_kib=to_kib(mem.text or "0", mem.get("unit")) if mem is not None else 0,
                cpus=tuple(int(c.get("id", "0")) for c in cell.findall("cpus/cpu")),
                pages=tuple(
                    (to_kib(p.get("size", "0"), p.get("unit")), int(p.text or "0"))
                    for p in cell.findall("pages")
                ),
            )
        )
    banks = tuple(
        CacheBank(
            id=int(b.get("id", "0")),
            level=int(b.get("level", "0")),
            type=b.get("type", ""),
            size_kib=to_kib(b.get("size", "0"), b.get("unit")),
            cpus=b.get("cpus", ""),
        )
        for b in root.findall("host/cache/bank")
    )
    iommu = root.find("host/iommu")
    guest_arch = _guest_arch(root, arch)
    machines: tuple[MachineType, ...] = ()
    domain_types: tuple[str, ...] = ()
    emulator = ""
    if guest_arch is not None:
        emulator = guest_arch.findtext("emulator", "")
        domain_types = tuple(d.get("type", "") for d in guest_arch.findall("domain"))
        machines = tuple(
            MachineType(
                name=m.text or "",
                canonical=m.get("canonical"),
                max_cpus=_int(m.get("maxCpus")),
                deprecated=m.get("deprecated") == "yes",
            )
            for m in guest_arch.findall("machine")
        )
    return HostCapabilities(
        arch=arch,
        cpu_model=host_cpu.findtext("model", "") if host_cpu is not None else "",
        cpu_vendor=host_cpu.findtext("vendor", "") if host_cpu is not None else "",
        cpu_features=frozenset(features - {""}),
        sockets=_int(topo.get("sockets")) if topo is not None else None,
        dies=_int(topo.get("dies")) if topo is not None else None,
        cores=_int(topo.get("cores")) if topo is not None else None,
        threads=_int(topo.get("threads")) if topo is not None else None,
        cells=tuple(cells),
        cache_banks=banks,
        iommu_support=None if iommu is None else iommu.get("support") == "yes",
        domain_types=domain_types,
        emulator=emulator,
        machines=machines,
    )


def _guest_arch(root: ET.Element, host_arch: str) -> ET.Element | None:
    """The hvm guest <arch> matching the host arch, else the first hvm guest."""
    fallback = None
    for guest in root.findall("guest"):
        if guest.findtext("os_type") != "hvm":
            continue
        arch = guest.find("arch")
        if arch is None:
            continue
        if arch.get("name") == host_arch:
            return arch
        fallback = fallback if fallback is not None else arch
    return fallback
