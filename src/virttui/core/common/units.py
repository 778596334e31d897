"""Human-readable sizes and rates, short enough for narrow table columns."""

from __future__ import annotations

import re

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


# Sizes with a unit, as qemu-img and virsh take them: binary multiples, "10G" = 10 GiB.
_SIZE_UNITS = {"": 0, "B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_SIZE_TEXT = re.compile(r"(?P<number>[0-9]*\.?[0-9]*)\s*(?P<unit>[A-Za-z]*)")


def parse_bytes(
    text: str, what: str, *, default_unit: str = "G", maximum_bytes: int = MAX_DISK_BYTES
) -> int:
    """The one size parser: a size with an optional unit ("10G", "512 MiB", "1.5T", "4096B",
    "20" = 20 `default_unit`) as bytes. Units are binary (K = 1024, as qemu-img reads them);
    "KiB"/"KB" mean K too. ValueError with a sentence naming `what` for an empty, negative or
    zero size ("-1G"), an unknown unit ("10Q"), or anything that is not a size ("1e3G", "nan")."""
    raw = text.strip()
    if not raw:
        raise ValueError(f"{what}: empty; enter a size, e.g. 10G or 512M")
    if raw.startswith("-"):
        raise ValueError(f"{what}: {raw!r} is negative; a size must be above zero")
    match = _SIZE_TEXT.fullmatch(raw)
    if match is None or not match["number"].strip("."):
        raise ValueError(f"{what}: {raw!r} is not a size; a number with a unit, e.g. 10G")
    number, unit = match["number"], match["unit"].upper()
    if unit.endswith("IB") and len(unit) == 3:
        unit = unit[0]
    elif unit.endswith("B") and len(unit) == 2:
        unit = unit[0]
    if unit not in _SIZE_UNITS:
        raise ValueError(
            f"{what}: unknown unit {match['unit']!r} in {raw!r}, not a size "
            "(use B, K, M, G, T or P; binary multiples)"
        )
    scale = 1024 ** (_SIZE_UNITS[unit] if unit else _SIZE_UNITS[default_unit.upper()])
    return parse_size(number, what, unit_bytes=scale, maximum_bytes=maximum_bytes)
