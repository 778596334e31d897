"""Time series for the details graphs and the list's sparklines, fed by the bulk poll.

Stored column-wise: one frame per poll per host, holding one `array('f')` per graphed value across
all domains of that poll (4 bytes a value, no float objects). Appending a poll is a handful of list
comprehensions, not one call per domain and series, so 1000 domains cost well under a millisecond;
a series with no value for any domain (a driver without that counter) stores nothing. Missing values
are NaN, never guessed, and left out of windows. UI thread only; no libvirt, no widgets.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from virttui.core.host.stats import DomainRow

HISTORY_POINTS = 600  # 10 minutes at the default 1 s refresh
NAN = math.nan


def _first(*values: int | None) -> float | None:
    for value in values:
        if value is not None:
            return float(value)
    return None


def _memory(r: DomainRow) -> float | None:
    # The guest's own view of used memory, then QEMU's resident size, then the balloon size.
    return _first(r.mem_used_kib, r.mem_rss_kib, r.mem_kib if r.active else None)


# Series name -> how to read it from a row (used where one row is read; bulk appends inline them).
SERIES: dict[str, Callable[[DomainRow], float | None]] = {
    "cpu": lambda r: r.cpu_vcpu_pct,
    "cpu_host": lambda r: r.cpu_host_pct,
    "mem_kib": _memory,
    "rd_bps": lambda r: r.disk_rd_bps,
    "wr_bps": lambda r: r.disk_wr_bps,
    "rd_iops": lambda r: r.disk_rd_iops,
    "wr_iops": lambda r: r.disk_wr_iops,
    "rx_bps": lambda r: r.net_rx_bps,
    "tx_bps": lambda r: r.net_tx_bps,
}


def memory_source(row: DomainRow) -> str:
    """Which memory figure the "mem_kib" series holds for this row, in words."""
    if row.mem_used_kib is not None:
        return "used by the guest (balloon stats)"
    if row.mem_rss_kib is not None:
        return "resident on the host (QEMU RSS)"
    return "assigned (balloon size)"


def _column(values: list[float | None]) -> array[float] | None:
    if all(v is None for v in values):
        return None
    return array("f", [NAN if v is None else v for v in values])


@dataclass(frozen=True, slots=True)
class Frame:
    taken_at: float
    index: dict[str, int]  # uuid -> position; shared between frames while the domain set is stable
    columns: dict[str, array[float]]


class HostHistory:
    """Every domain's series of one host: the last `points` polls."""

    def __init__(self, points: int = HISTORY_POINTS) -> None:
        self.frames: deque[Frame] = deque(maxlen=points)
        self._uuids: tuple[str, ...] = ()
        self._index: dict[str, int] = {}
        self._last_rows: Sequence[DomainRow] = ()

    def append(self, taken_at: float, rows: Sequence[DomainRow]) -> None:
        last = self._last_rows
        self._last_rows = rows
        if (
            self.frames
            and len(rows) == len(last)
            and all(a is b for a, b in zip(rows, last, strict=True))
        ):
            # Same row objects as last poll (an idle host): share the columns, store nothing new.
            self.frames.append(Frame(taken_at, self._index, self.frames[-1].columns))
            return
        uuids = tuple(r.uuid for r in rows)
        if uuids != self._uuids:
            self._uuids = uuids
            self._index = {u: i for i, u in enumerate(uuids)}
        raw: dict[str, list[float | None]] = {
            "cpu": [r.cpu_vcpu_pct for r in rows],
            "cpu_host": [r.cpu_host_pct for r in rows],
            "mem_kib": [_memory(r) for r in rows],
            "rd_bps": [r.disk_rd_bps for r in rows],
            "wr_bps": [r.disk_wr_bps for r in rows],
            "rd_iops": [r.disk_rd_iops for r in rows],
            "wr_iops": [r.disk_wr_iops for r in rows],
            "rx_bps": [r.net_rx_bps for r in rows],
            "tx_bps": [r.net_tx_bps for r in rows],
        }
        columns = {}
        for name, values in raw.items():
            column = _column(values)
            if column is not None:
                columns[name] = column
        self.frames.append(Frame(taken_at, self._index, columns))

    def get(self, uuid: str) -> DomainHistory | None:
        return DomainHistory(self, uuid) if uuid in self._index else None

    def __contains__(self, uuid: str) -> bool:
        return uuid in self._index

    def values(self, uuid: str, name: str, last: int | None = None) -> list[float]:
        """The newest `last` values of one series (NaN where missing), oldest first."""
        frames = self.frames
        start = 0 if last is None else max(0, len(frames) - last)
        out: list[float] = []
        for i in range(start, len(frames)):
            frame = frames[i]
            pos = frame.index.get(uuid)
            column = frame.columns.get(name)
            out.append(NAN if pos is None or column is None else column[pos])
        return out


class DomainHistory:
    """One domain's view of its host's history (what the details graphs read)."""

    __slots__ = ("host", "uuid")

    def __init__(self, host: HostHistory, uuid: str) -> None:
        self.host = host
        self.uuid = uuid

    def __len__(self) -> int:
        return sum(1 for f in self.host.frames if self.uuid in f.index)

    def window(self, name: str, seconds: float, now: float) -> tuple[list[float], list[float]]:
        """(seconds relative to `now`, values) of one series within the last `seconds`;
        samples without a value are left out."""
        xs: list[float] = []
        ys: list[float] = []
        start = now - seconds
        uuid = self.uuid
        for frame in self.host.frames:
            if frame.taken_at < start:
                continue
            pos = frame.index.get(uuid)
            column = frame.columns.get(name)
            if pos is None or column is None:
                continue
            value = column[pos]
            if not math.isnan(value):
                xs.append(frame.taken_at - now)
                ys.append(value)
        return xs, ys

    def latest(self, name: str) -> float | None:
        for frame in reversed(self.host.frames):
            pos = frame.index.get(self.uuid)
            if pos is None:
                continue
            column = frame.columns.get(name)
            if column is None:
                return None
            value = column[pos]
            return None if math.isnan(value) else value
        return None
