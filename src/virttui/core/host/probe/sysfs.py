"""Reading small files below a root directory (the host's "/" or a test fixture tree)."""

from __future__ import annotations

from pathlib import Path


def under(root: Path, path: str) -> Path:
    """`path` (absolute, e.g. "/proc/cpuinfo") re-rooted below `root`."""
    return root / path.lstrip("/")


def read_text(root: Path, path: str) -> str | None:
    """The stripped content of `root`/`path`, or None when it cannot be read."""
    try:
        return under(root, path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def read_int(root: Path, path: str) -> int | None:
    text = read_text(root, path)
    if text is None:
        return None
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return None


def parse_cpulist(text: str) -> frozenset[int]:
    """Parse a kernel/libvirt CPU list such as "0-3,8,^2" into a set of CPU numbers."""
    include: set[int] = set()
    exclude: set[int] = set()
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        target = exclude if raw.startswith("^") else include
        part = raw.lstrip("^")
        if "-" in part:
            low, high = part.split("-", 1)
            target.update(range(int(low), int(high) + 1))
        else:
            target.add(int(part))
    return frozenset(include - exclude)


def format_cpulist(cpus: frozenset[int] | tuple[int, ...]) -> str:
    """The compact form of a CPU set: {0,1,2,5} -> "0-2,5"."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def parse_size_kib(text: str) -> int | None:
    """Sysfs cache sizes ("32K", "1M", "512") in KiB."""
    text = text.strip().upper()
    if not text:
        return None
    factor = {"K": 1, "M": 1024, "G": 1024 * 1024}.get(text[-1])
    try:
        if factor is None:
            return int(text) // 1024
        return int(text[:-1]) * factor
    except ValueError:
        return None
