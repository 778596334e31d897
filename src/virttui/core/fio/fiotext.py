"""fio's own text formatting (fio 3.33 `stat.c`, `lib/num2str.c`), for figures read from its JSON.

An admin reads fio's normal output at a glance: `read: IOPS=18.6k, BW=72.6MiB/s (76.2MB/s)
(145MiB/2001msec)`, `clat (usec): min=12, max=3456, avg=45.67, stdev=12.34`, the percentile
table `|  1.00th=[  780],  5.00th=[  964], ...` in the unit fio picks for that table. These
functions rebuild those lines from the report model (`core/fio/report.py`) with fio's own rules:

- `num2str` is fio's "cheesy number->string conversion" (k/M/G or Ki/Mi/Gi, `maxlen` digits);
- `lat_line` is `display_lat`: nsec, or usec when min > 2000 ns and max > 99999 ns and
  stdev > 1000 ns, or msec (same rule one step up); min / max truncated, avg / stdev "%5.02f";
- `percentile_lines` is `show_clat_percentiles`: the unit from the smallest and largest
  percentile value, values rounded *up* ((v + 999) / 1000 per step), `time_width` and
  `per_line` as fio computes them (a line fits in 80 columns); `unit="nsec"` forces the exact
  table in nanoseconds with the same layout;
- `status_line` is the first line of `show_ddir_status` (IOPS and BW from `total_ios`,
  `io_bytes` and `runtime` with fio's integer arithmetic);
- `latency_lines` is `show_lat`: the non-zero buckets, five per line.

fio's text rounds; these lines are what fio prints. The exact JSON figures are shown next to
them by the report view (tests/core/fio/test_fiotext.py compares these lines with fio's own
normal output of the same run). No Textual.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from virttui.core.fio.report import DirReport, LatStats

Number = int | float

_SI = ("", "k", "M", "G", "T", "P", "E")
_IEC = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
SIG_FIGS = 4  # fio's default `significant_figures`
PERCENTILE_PRECISION = 2  # fio's default list has two decimals (99.95, 99.99)


def num2str(num: int, maxlen: int, *, pow2: bool = False, unit: str = "") -> str:
    """fio's `num2str(num, maxlen, 1, pow2, unit)`: at most `maxlen` digits (the dot counts)."""
    thousand = 1024 if pow2 else 1000
    prefixes = _IEC if pow2 else _SI
    num = max(0, int(num))
    modulo = -1
    carry = False
    post = 0
    while post < len(prefixes):
        if len(str(num)) <= maxlen:
            break
        modulo = num % thousand
        num //= thousand
        carry = modulo >= thousand // 2
        post += 1
    if post >= len(prefixes):
        post = 0
    if modulo == -1:
        return f"{num}{prefixes[post]}{unit}"
    room = maxlen - len(str(num))
    if room <= 1:
        if carry:
            num += 1
        return f"{num}{prefixes[post]}{unit}"
    fraction = f"{modulo / thousand:.{room - 1}f}"
    if fraction[0] == "1":
        num += 1
    return f"{num}.{fraction[2:]}{prefixes[post]}{unit}"


def lat_unit(stats: LatStats) -> tuple[str, int]:
    """The unit fio's `display_lat` picks for these stats, and its divisor in ns."""
    lo, hi, dev = int(stats.min or 0), int(stats.max or 0), float(stats.stddev or 0)
    if lo > 2_000_000 and hi > 99_999_999 and dev > 1_000_000.0:
        return "msec", 1_000_000
    if lo > 2000 and hi > 99_999 and dev > 1000.0:
        return "usec", 1000
    return "nsec", 1


def lat_line(name: str, stats: LatStats | None) -> str | None:
    """`    clat (usec): min=12, max=3456, avg=45.67, stdev=12.34`; None without samples."""
    if stats is None or stats.samples <= 0:
        return None
    unit, div = lat_unit(stats)
    lo = int(stats.min or 0) // div
    hi = int(stats.max or 0) // div
    mean = float(stats.mean or 0) / div
    dev = float(stats.stddev or 0) / div
    return (
        f"    {name} ({unit}): min={num2str(lo, 6)}, max={num2str(hi, 6)}, "
        f"avg={mean:5.2f}, stdev={dev:5.2f}"
    )


def percentile_precision(
    percentiles: Sequence[tuple[float, int]], options: Mapping[str, str] | None = None
) -> int:
    """fio's `percentile_precision`: the most decimals written in `percentile_list` (default 2)."""
    listed = (options or {}).get("percentile_list")
    if listed:
        return max((len(p.split(".", 1)[1]) for p in listed.split(":") if "." in p), default=0)
    if not percentiles:
        return PERCENTILE_PRECISION
    # not in the job options: the fewest decimals that write every percentile (at least 2, as
    # fio's default list)
    need = 0
    for p, _ in percentiles:
        while need < 6 and not math.isclose(round(p, need), p, abs_tol=1e-9):
            need += 1
    return max(need, PERCENTILE_PRECISION)


def percentile_unit(percentiles: Sequence[tuple[float, int]]) -> tuple[str, int]:
    """The unit fio's `show_clat_percentiles` picks for this table, and its scale steps."""
    values = [v for _, v in percentiles]
    lo, hi = min(values), max(values)
    if lo > 2_000_000 and hi > 99_999_999:
        return "msec", 2
    if lo > 2000 and hi > 99_999:
        return "usec", 1
    return "nsec", 0


def percentile_lines(
    percentiles: Sequence[tuple[float, int]],
    *,
    precision: int = PERCENTILE_PRECISION,
    pre: str = "clat",
    unit: str | None = None,
) -> list[str]:
    """fio's percentile table (`show_clat_percentiles`): a header line and the `|` lines.

    `unit=None` picks the unit as fio does (values rounded up to it); `unit="nsec"` gives the
    exact values in ns with fio's layout."""
    if not percentiles:
        return []
    if unit is None:
        unit, steps = percentile_unit(percentiles)
    else:
        steps = {"nsec": 0, "usec": 1, "msec": 2}[unit]
    divisor = 1000**steps
    maxv = max(v for _, v in percentiles)
    scaled = maxv // divisor
    time_width = max(5, int(math.log10(scaled) + 1)) if scaled > 0 else 5
    per_line = max(1, (80 - 7) // (precision + 10 + time_width))
    lines = [f"    {pre} percentiles ({unit}):"]
    current = "     |"
    last = len(percentiles) - 1
    for j, (p, value) in enumerate(percentiles):
        if j != 0 and j % per_line == 0:
            current = "     |"
        for _ in range(steps):
            value = (value + 999) // 1000
        end = "" if j == last else ","
        current += f" {p:{precision + 3}.{precision}f}th=[{value:{time_width}d}]{end}"
        if j == last or j % per_line == per_line - 1:
            lines.append(current)
    return lines


def status_line(d: DirReport, *, kb_base: int = 1024) -> str:
    """`  read: IOPS=18.6k, BW=72.6MiB/s (76.2MB/s)(145MiB/2001msec)` (fio's integer maths)."""
    pow2 = kb_base == 1024
    runt = d.runtime_ms
    bw = (1000 * d.io_bytes) // runt if runt else 0
    iops = (1000 * d.total_ios) // runt if runt else 0
    return (
        f"  {d.name}: IOPS={num2str(iops, SIG_FIGS)}, "
        f"BW={num2str(bw, SIG_FIGS, pow2=pow2, unit='B/s')} "
        f"({num2str(bw, SIG_FIGS, pow2=not pow2, unit='B/s')})"
        f"({num2str(d.io_bytes, SIG_FIGS, pow2=pow2, unit='B')}/{runt}msec)"
    )


_LAT_UNITS = {"ns": "nsec", "us": "usec", "ms": "msec"}


def latency_lines(latency: Mapping[str, Sequence[tuple[str, Number]]]) -> list[str]:
    """fio's `lat (usec)   : 250=24.66%, 500=1.07%` lines: non-zero buckets, five per line."""
    lines: list[str] = []
    for key in ("ns", "us", "ms"):
        shown = [(b, v) for b, v in latency.get(key, ()) if v > 0]
        for start in range(0, len(shown), 5):
            chunk = shown[start : start + 5]
            body = ", ".join(f"{b}={v:3.2f}%" for b, v in chunk)
            lines.append(f"  lat ({_LAT_UNITS[key]})   : {body}")
    return lines
