"""Host memory and swap: psutil locally, `getMemoryStats` for a remote host."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import psutil

from virttui.core.host.probe.sysfs import under

_procfs_lock = threading.Lock()


@dataclass(frozen=True)
class MemorySummary:
    """KiB; swap None when the source cannot tell (libvirt does not report swap)."""

    total_kib: int
    available_kib: int
    swap_total_kib: int | None
    swap_free_kib: int | None
    source: str


def probe_memory(root: Path = Path("/")) -> MemorySummary | None:
    """psutil reads `<root>/proc`; a non-default root swaps psutil.PROCFS_PATH under a lock."""
    procfs = str(under(root, "/proc"))
    with _procfs_lock:
        previous = psutil.PROCFS_PATH
        psutil.PROCFS_PATH = procfs
        try:
            vm = psutil.virtual_memory()
            sw = psutil.swap_memory()
        except (OSError, RuntimeError, ValueError):
            return None
        finally:
            psutil.PROCFS_PATH = previous
    return MemorySummary(
        vm.total // 1024, vm.available // 1024, sw.total // 1024, sw.free // 1024, "psutil"
    )


def memory_from_stats(stats: dict[str, int]) -> MemorySummary | None:
    """From `virConnect.getMemoryStats(-1)` (KiB: total, free, buffers, cached)."""
    if "total" not in stats:
        return None
    available = stats.get("free", 0) + stats.get("buffers", 0) + stats.get("cached", 0)
    return MemorySummary(int(stats["total"]), int(available), None, None, "getMemoryStats")
