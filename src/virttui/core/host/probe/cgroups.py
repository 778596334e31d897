"""cgroup controllers libvirt's QEMU driver uses for resource limits (v1, hybrid or v2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import read_text

V1_REQUIRED = ("cpu", "cpuacct", "cpuset", "memory", "devices", "blkio")
V2_REQUIRED = ("cpu", "cpuset", "memory", "io")
USED_FOR = {
    "cpu": "<cputune> shares/quota",
    "cpuacct": "per-guest CPU accounting",
    "cpuset": "CPU and NUMA pinning",
    "memory": "<memtune> limits",
    "devices": "device access control",
    "blkio": "<blkiotune> and disk I/O limits",
    "io": "<blkiotune> and disk I/O limits",
}


@dataclass(frozen=True)
class CgroupState:
    """`version` is 2 for a pure cgroup v2 host, 1 for v1 or hybrid, 0 when unknown."""

    version: int
    controllers: frozenset[str]


def probe_cgroups(root: Path = Path("/")) -> CgroupState:
    v2 = read_text(root, "/sys/fs/cgroup/cgroup.controllers")
    if v2 is not None:
        return CgroupState(2, frozenset(v2.split()))
    table = read_text(root, "/proc/cgroups")
    if table is None:
        return CgroupState(0, frozenset())
    enabled = set()
    for line in table.splitlines():
        if line.startswith("#"):
            continue
        parts = line.split()
        # subsys_name hierarchy num_cgroups enabled: mounted when hierarchy != 0
        if len(parts) == 4 and parts[3] == "1" and parts[1] != "0":
            enabled.add(parts[0])
    return CgroupState(1, frozenset(enabled))


def check_cgroups(state: CgroupState) -> Check:
    name = "cgroup controllers"
    if state.version == 0:
        return Check(
            "cgroups",
            name,
            Status.WARN,
            "neither cgroup v2 nor /proc/cgroups found",
            "libvirt cannot apply CPU, memory or I/O limits to guests",
        )
    required = V2_REQUIRED if state.version == 2 else V1_REQUIRED
    missing = [c for c in required if c not in state.controllers]
    if not missing:
        return Check(
            "cgroups",
            name,
            Status.OK,
            f"cgroup v{state.version}: {', '.join(required)}",
            "libvirt can pin, limit and account guests",
        )
    uses = "; ".join(f"{c}: {USED_FOR[c]}" for c in missing)
    return Check(
        "cgroups",
        name,
        Status.WARN,
        f"cgroup v{state.version}: missing {', '.join(missing)}",
        f"those limits cannot be enforced ({uses})",
    )
