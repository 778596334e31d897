"""CPU cache sizes: sysfs cache index directories locally, capabilities <cache> banks otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.sysfs import parse_size_kib, read_text, under


@dataclass(frozen=True)
class CacheLevel:
    """One cache kind ("L1d", "L1i", "L2", "L3"); `instances` distinct copies on the host."""

    name: str
    size_kib: int
    instances: int
    shared_cpus: str


def _label(level: str, kind: str) -> str:
    suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
    return f"L{level}{suffix}"


def _order(name: str) -> tuple[int, str]:
    return (int(name[1]), name)


def probe_caches(root: Path = Path("/")) -> tuple[CacheLevel, ...]:
    cpu_dir = under(root, "/sys/devices/system/cpu")
    sizes: dict[str, int] = {}
    shares: dict[str, set[str]] = {}
    first_share: dict[str, str] = {}
    try:
        cpus = sorted(
            (p for p in cpu_dir.iterdir() if re.fullmatch(r"cpu\d+", p.name)),
            key=lambda p: int(p.name[3:]),
        )
    except OSError:
        return ()
    for cpu in cpus:
        for index in sorted(cpu.glob("cache/index*")):
            rel = "/" + str(index.relative_to(root))
            level = read_text(root, f"{rel}/level")
            kind = read_text(root, f"{rel}/type")
            size = parse_size_kib(read_text(root, f"{rel}/size") or "")
            if level is None or kind is None or size is None:
                continue
            label = _label(level, kind)
            shared = read_text(root, f"{rel}/shared_cpu_list") or cpu.name[3:]
            sizes.setdefault(label, size)
            first_share.setdefault(label, shared)
            shares.setdefault(label, set()).add(shared)
    return tuple(
        CacheLevel(name, sizes[name], len(shares[name]), first_share[name])
        for name in sorted(sizes, key=_order)
    )


@dataclass(frozen=True)
class CacheBank:
    """A <cache><bank> element of the capabilities XML."""

    id: int
    level: int
    type: str
    size_kib: int
    cpus: str


def caches_from_banks(banks: tuple[CacheBank, ...]) -> tuple[CacheLevel, ...]:
    grouped: dict[str, list[CacheBank]] = {}
    for bank in banks:
        suffix = {"data": "d", "code": "i", "instruction": "i"}.get(bank.type, "")
        grouped.setdefault(f"L{bank.level}{suffix}", []).append(bank)
    return tuple(
        CacheLevel(name, group[0].size_kib, len(group), group[0].cpus)
        for name, group in sorted(grouped.items(), key=lambda kv: _order(kv[0]))
    )
