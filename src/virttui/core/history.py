"""Per-domain time series for the details graphs, fed from the same bulk poll as the list.

One `DomainHistory` per domain keeps the last `HISTORY_POINTS` samples of every graphed value
next to the time they were taken (monotonic seconds). Missing values (an inactive domain, the
first sample after a start, a driver without the counter) are stored as NaN, never guessed, and
left out of windows. Values sit in fixed `array('d')` rings (8 bytes each, no float objects):
1000 domains x 10 series x 600 points stay near 50 MB. UI thread only; no libvirt, no widgets.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator

from virttui.core.stats import DomainRow

HISTORY_POINTS = 600  # 10 minutes at the default 1 s refresh

# Series name -> how to read it from a row. Memory prefers the guest's own view of used memory,
# then the QEMU process' resident size, then the balloon size.
SERIES: dict[str, Callable[[DomainRow], float | None]] = {
    "cpu": lambda r: r.cpu_vcpu_pct,
    "cpu_host": lambda r: r.cpu_host_pct,
    "mem_kib": lambda r: _first(r.mem_used_kib, r.mem_rss_kib, r.mem_kib if r.active else None),
    "rd_bps": lambda r: r.disk_rd_bps,
    "wr_bps": lambda r: r.disk_wr_bps,
    "rd_iops": lambda r: r.disk_rd_iops,
    "wr_iops": lambda r: r.disk_wr_iops,
    "rx_bps": lambda r: r.net_rx_bps,
    "tx_bps": lambda r: r.net_tx_bps,
}


def _first(*values: int | None) -> float | None:
    for value in values:
        if value is not None:
            return float(value)
    return None


def memory_source(row: DomainRow) -> str:
    """Which memory figure the "mem_kib" series holds for this row, in words."""
    if row.mem_used_kib is not None:
        return "used by the guest (balloon stats)"
    if row.mem_rss_kib is not None:
        return "resident on the host (QEMU RSS)"
    return "assigned (balloon size)"


class Ring:
    """A fixed-size ring of floats; NaN marks "no value"."""

    __slots__ = ("_data", "_next", "_size")

    def __init__(self, size: int) -> None:
        self._data = array("d", [math.nan]) * size
        self._next = 0
        self._size = 0

    def append(self, value: float | None) -> None:
        self._data[self._next] = math.nan if value is None else value
        self._next = (self._next + 1) % len(self._data)
        self._size = min(self._size + 1, len(self._data))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[float]:
        cap = len(self._data)
        first = (self._next - self._size) % cap
        for i in range(self._size):
            yield self._data[(first + i) % cap]

    def last(self) -> float | None:
        if not self._size:
            return None
        value = self._data[(self._next - 1) % len(self._data)]
        return None if math.isnan(value) else value


class DomainHistory:
    __slots__ = ("series", "times")

    def __init__(self, points: int = HISTORY_POINTS) -> None:
        self.times = Ring(points)
        self.series = {name: Ring(points) for name in SERIES}

    def append(self, taken_at: float, row: DomainRow) -> None:
        self.times.append(taken_at)
        for name, read in SERIES.items():
            self.series[name].append(read(row))

    def __len__(self) -> int:
        return len(self.times)

    def window(self, name: str, seconds: float, now: float) -> tuple[list[float], list[float]]:
        """(seconds relative to `now`, values) of one series within the last `seconds`;
        samples without a value are left out."""
        xs: list[float] = []
        ys: list[float] = []
        start = now - seconds
        for t, value in zip(self.times, self.series[name], strict=True):
            if t >= start and not math.isnan(value):
                xs.append(t - now)
                ys.append(value)
        return xs, ys

    def latest(self, name: str) -> float | None:
        return self.series[name].last()


def update_histories(
    histories: dict[str, DomainHistory], rows: dict[str, DomainRow], taken_at: float
) -> None:
    """Append one sample per domain; forget domains that are gone. Inactive domains get a sample
    too (all None but memory), so a graph shows the gap while a domain was off."""
    for uuid in histories.keys() - rows.keys():
        del histories[uuid]
    for uuid, row in rows.items():
        history = histories.get(uuid)
        if history is None:
            history = histories[uuid] = DomainHistory()
        history.append(taken_at, row)
