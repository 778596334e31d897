"""Hugepage pools per page size, system-wide and per NUMA node."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.sysfs import read_int, under


@dataclass(frozen=True)
class HugepagePool:
    """`node` None is the system-wide pool; `free` None when the source does not say."""

    size_kib: int
    node: int | None
    total: int
    free: int | None


def _pools(base: Path, root: Path, node: int | None) -> list[HugepagePool]:
    pools = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = re.fullmatch(r"hugepages-(\d+)kB", entry.name)
        if not match:
            continue
        rel = "/" + str(entry.relative_to(root))
        total = read_int(root, f"{rel}/nr_hugepages")
        if total is None:
            continue
        pools.append(
            HugepagePool(int(match[1]), node, total, read_int(root, f"{rel}/free_hugepages"))
        )
    return pools


def probe_hugepages(root: Path = Path("/")) -> tuple[HugepagePool, ...]:
    pools = _pools(under(root, "/sys/kernel/mm/hugepages"), root, None)
    node_dir = under(root, "/sys/devices/system/node")
    try:
        nodes = [p for p in node_dir.iterdir() if re.fullmatch(r"node\d+", p.name)]
    except OSError:
        nodes = []
    for node in nodes:
        pools += _pools(node / "hugepages", root, int(node.name[4:]))
    return tuple(sorted(pools, key=lambda p: (p.size_kib, -1 if p.node is None else p.node)))


def pools_from_cells(
    cell_pages: dict[int, dict[int, int]], free_pages: dict[int, dict[int, int]]
) -> tuple[HugepagePool, ...]:
    """Pools from the capabilities <cell><pages> counts and `getFreePages` (remote hosts)."""
    pools = []
    totals: dict[int, int] = {}
    frees: dict[int, int | None] = {}
    for cell, pages in sorted(cell_pages.items()):
        for size, count in sorted(pages.items()):
            if size <= 4 or size == 8:  # base pages, not hugepages
                continue
            free = free_pages.get(cell, {}).get(size)
            pools.append(HugepagePool(size, cell, count, free))
            totals[size] = totals.get(size, 0) + count
            previous = frees.get(size, 0)
            frees[size] = None if free is None or previous is None else previous + free
    system = [HugepagePool(size, None, totals[size], frees[size]) for size in sorted(totals)]
    return tuple(
        sorted(system + pools, key=lambda p: (p.size_kib, -1 if p.node is None else p.node))
    )
