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
