"""Human-readable sizes and rates, short enough for narrow table columns."""

from __future__ import annotations

_UNITS = ("B", "K", "M", "G", "T", "P")


def human_bytes(value: float | None, *, suffix: str = "") -> str:
    """1536 -> '1.5K'; binary multiples, at most 5 characters before the suffix."""
    if value is None:
        return "-"
    v = float(value)
    for unit in _UNITS:
        if abs(v) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(v)}{unit}{suffix}"
            return f"{v:.1f}{unit}{suffix}" if abs(v) < 10 else f"{v:.0f}{unit}{suffix}"
        v /= 1024
    raise AssertionError("unreachable")


def human_kib(value: int | None) -> str:
    return "-" if value is None else human_bytes(value * 1024)


def human_rate(value: float | None) -> str:
    return "-" if value is None else human_bytes(value, suffix="/s")


# Sizes typed into forms. Python's float() accepts "inf", "nan", "1e400" and "-0"; none of them
# is a size, and int(float("inf")) raises OverflowError deep in a worker instead of a sentence.
MAX_DISK_BYTES = 64 << 50  # 64 PiB: far beyond any real volume, still a 64-bit byte count
MAX_MEMORY_MIB = 1 << 32  # 4 PiB: libvirt's KiB counts are unsigned long long, QEMU's far less


def parse_size(text: str, what: str, *, unit_bytes: int, maximum_bytes: int) -> int:
    """A positive size in `unit_bytes` units ("10", "0.5") as bytes; ValueError with a sentence
    naming `what` for empty, non-numeric, infinite, NaN, zero, negative or absurd input."""
    raw = text.strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{what}: a number, e.g. 10 or 0.5 (not {raw!r})") from None
    if value != value:  # NaN
        raise ValueError(f"{what}: not a number ({raw!r})")
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{what}: must be finite, not {raw!r}")
    if value <= 0:
        raise ValueError(f"{what} must be above zero")
    size = value * unit_bytes
    if size > maximum_bytes:
        raise ValueError(f"{what}: {raw} is absurdly large (at most {human_bytes(maximum_bytes)})")
    as_int = int(size)
    if as_int <= 0:
        raise ValueError(f"{what} is below one byte")
    return as_int


def parse_count(text: str, what: str, *, maximum: int) -> int:
    """A whole number 1..maximum; ValueError with a sentence naming `what` otherwise."""
    raw = text.strip()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{what}: a whole number, please (not {raw!r})") from None
    if value <= 0:
        raise ValueError(f"{what} must be above zero")
    if value > maximum:
        raise ValueError(f"{what}: {value} is absurdly large (at most {maximum})")
    return value


def human_age(seconds: float) -> str:
    """Seconds as the one largest whole unit: '9s', '42s', '5m', '3h', '2d' (at most 3 cells
    below 100 days)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
