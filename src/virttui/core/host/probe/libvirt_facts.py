"""Everything the host screen asks libvirt, each call guarded: one failure is one error line.

These calls work the same on local and remote connections; they are the only source of facts
for a remote host.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import libvirt

from virttui.core.host.libvirt_runtime import error_message
from virttui.core.host.probe.capabilities import HostCapabilities, parse_capabilities
from virttui.core.host.probe.domcaps import DomainCapabilities, parse_domain_capabilities

T = TypeVar("T")


@dataclass(frozen=True)
class NodeInfo:
    """`virConnect.getInfo()`: memory in MiB, `sockets` is per NUMA node (libvirt's quirk)."""

    model: str
    memory_mib: int
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int


@dataclass(frozen=True)
class LibvirtFacts:
    uri: str
    hostname: str
    driver: str
    libvirt_version: str  # the daemon's (the host's) libvirt
    client_version: str  # the libvirt this process links
    hypervisor_version: str | None
    info: NodeInfo | None
    capabilities: HostCapabilities | None
    cells_free_kib: tuple[int, ...]
    free_pages: dict[int, dict[int, int]]  # cell -> page size KiB -> free pages
    memory_stats: dict[str, int]
    memory_parameters: dict[str, int]
    sysinfo: tuple[tuple[str, str], ...]
    errors: tuple[str, ...]


def version_string(packed: int) -> str:
    """libvirt's packed version (major * 1e6 + minor * 1e3 + micro) as "9.0.0"."""
    return f"{packed // 1_000_000}.{packed // 1000 % 1000}.{packed % 1000}"


class _Guard:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, what: str, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except libvirt.libvirtError as exc:
            self.errors.append(f"{what}: {error_message(exc)}")
            return default


def parse_sysinfo(xml: str) -> tuple[tuple[str, str], ...]:
    """SMBIOS sections flattened to ("system.manufacturer", "...") pairs, in document order."""
    root = ET.fromstring(xml)
    pairs = []
    for section in root:
        for entry in section.iter("entry"):
            name = entry.get("name")
            if name and entry.text and entry.text.strip():
                pairs.append((f"{section.tag}.{name}", entry.text.strip()))
    return tuple(pairs)


def collect_libvirt_facts(conn: libvirt.virConnect, *, local: bool) -> LibvirtFacts:
    """`local` skips the node memory calls whose facts come from /proc and /sys instead."""
    guard = _Guard()
    raw_info = guard("getInfo", conn.getInfo, None)
    info = NodeInfo(*raw_info[:8]) if raw_info else None
    caps_xml = guard("getCapabilities", conn.getCapabilities, "")
    caps = parse_capabilities(caps_xml) if caps_xml else None
    ncells = len(caps.cells) if caps and caps.cells else (info.nodes if info else 1)
    cells_free: list[int] = guard(
        "getCellsFreeMemory", lambda: conn.getCellsFreeMemory(0, ncells), []
    )
    sizes = sorted(
        {size for cell in (caps.cells if caps else ()) for size, _ in cell.pages if size > 8}
    )
    free_pages: dict[int, dict[int, int]] = {}
    if sizes:
        raw: dict[int, dict[int, int]] = (
            guard("getFreePages", lambda: conn.getFreePages(sizes, 0, ncells), {}) or {}
        )
        free_pages = {int(c): {int(s): int(n) for s, n in v.items()} for c, v in raw.items()}
    hv = guard("getVersion", conn.getVersion, 0)
    sysinfo_xml = guard("getSysinfo", conn.getSysinfo, "")
    return LibvirtFacts(
        uri=guard("getURI", conn.getURI, ""),
        hostname=guard("getHostname", conn.getHostname, ""),
        driver=guard("getType", conn.getType, ""),
        libvirt_version=version_string(guard("getLibVersion", conn.getLibVersion, 0)),
        client_version=version_string(libvirt.getVersion()),
        hypervisor_version=version_string(hv) if hv else None,
        info=info,
        capabilities=caps,
        cells_free_kib=tuple(int(v) // 1024 for v in cells_free),
        free_pages=free_pages,
        memory_stats={} if local else _ints(guard("getMemoryStats", _memory_stats(conn), {})),
        memory_parameters=(
            {} if local else _ints(guard("getMemoryParameters", conn.getMemoryParameters, {}))
        ),
        sysinfo=parse_sysinfo(sysinfo_xml) if sysinfo_xml else (),
        errors=tuple(guard.errors),
    )


def _memory_stats(conn: libvirt.virConnect) -> Callable[[], dict[str, int]]:
    return lambda: conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)


def _ints(raw: Mapping[str, object]) -> dict[str, int]:
    return {k: int(v) for k, v in raw.items() if isinstance(v, int | float)}


def collect_domain_capabilities(
    conn: libvirt.virConnect, virt_type: str, arch: str | None
) -> tuple[DomainCapabilities | None, str | None]:
    """Domain capabilities for one domain type, or (None, error line)."""
    try:
        xml = conn.getDomainCapabilities(None, arch, None, virt_type, 0)
    except libvirt.libvirtError as exc:
        return None, f"getDomainCapabilities({virt_type}): {error_message(exc)}"
    return parse_domain_capabilities(xml), None
