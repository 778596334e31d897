"""Per-interval figures from consecutive fio json+ documents (all counters in them cumulative).

For each job of the document (`jobs[i]`, matched by position) and each direction (read, write,
trim), an interval is the difference between two consecutive documents (the first document is
taken against zero, so the intervals of a run add up to its final document):

- length: the delta of that direction's `runtime` (ms), not wall-clock timestamps;
- IOPS = delta `total_ios` / length, bandwidth = delta `io_bytes` / length (bytes/s);
- clat percentiles from the delta of json+ `clat_ns.bins` (keys are the bin latencies in ns):
  the first bin whose running count reaches p% of the interval's samples, fio's own rule
  (`percentile_from_bins`); `max_ns`/`min_ns` from the highest/lowest bin that changed (fio's
  own `max` is cumulative). With `lat_percentiles=1` fio puts the bins under `lat_ns` instead:
  those are used when `clat_ns` has none.
- group: the sum over jobs (bins added, rates added since the jobs run side by side).

A counter going backwards (fio resets its statistics when `ramp_time` ends) starts a new base:
that interval is taken against zero and says so (`reset`).

Done: the tracker and its tests (tests/core/fio/test_intervals.py: real fio runs, bins summed
over the intervals equal the final bins; percentiles from final bins equal fio's). The UI
session plots `Interval.group` (or a job's) per second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

DIRECTIONS = ("read", "write", "trim")
DEFAULT_PERCENTILES: tuple[float, ...] = (50.0, 95.0, 99.0, 99.9)

Bins = dict[int, int]


def percentile_from_bins(bins: Mapping[int, int], percents: Sequence[float]) -> dict[float, int]:
    """fio's rule (stat.c `calc_clat_percentile`): walking the bins upwards, the value of p is
    the first bin whose running count reaches p/100 of all samples. The threshold is computed
    exactly from the double `p` (fio uses long double), so ties land where fio's do. Empty bins
    give an empty result."""
    total = sum(bins.values())
    if total <= 0:
        return {}
    wanted = sorted(percents)
    # running >= p/100 * total, exactly: p = num/den (the double's exact value), so
    # running * 100 * den >= num * total, in integers
    limits = []
    for p in wanted:
        ratio = Fraction(p)
        limits.append((ratio.numerator * total, 100 * ratio.denominator))
    out: dict[float, int] = {}
    j = 0
    running = 0
    for key in sorted(bins):
        running += bins[key]
        while j < len(wanted) and running * limits[j][1] >= limits[j][0]:
            out[wanted[j]] = key
            j += 1
        if j == len(wanted):
            break
    for p in wanted[j:]:  # p > 100, or rounding: the highest bin
        out[p] = max(bins)
    return out


def doc_bins(direction: Mapping[str, Any]) -> Bins:
    """The json+ latency bins of one direction of a job (clat, or lat with lat_percentiles)."""
    for key in ("clat_ns", "lat_ns"):
        stats = direction.get(key)
        if isinstance(stats, Mapping):
            bins = stats.get("bins")
            if isinstance(bins, Mapping) and bins:
                return _int_bins(bins)
    return {}


def _int_bins(bins: Mapping[Any, Any]) -> Bins:
    out: Bins = {}
    for k, v in bins.items():
        try:
            key, count = int(k), int(v)
        except (TypeError, ValueError):
            continue  # not fio's: skipped, never raised
        if count > 0:
            out[key] = count
    return out


@dataclass(frozen=True, slots=True)
class DirInterval:
    """One direction of one job (or of the group) over one interval."""

    runtime_ms: int
    ios: int
    io_bytes: int
    iops: float
    bw_bytes: float  # bytes per second
    bins: Bins = field(repr=False)  # the bin deltas (empty when the tracker drops them)
    percentiles: dict[float, int]  # p -> ns; empty when no IO completed
    min_ns: int | None
    max_ns: int | None
    samples: int  # latency samples in the interval (the sum of the bin deltas)


@dataclass(frozen=True, slots=True)
class JobInterval:
    name: str
    index: int  # position in the document's `jobs` (-1: the group)
    directions: dict[str, DirInterval]
    reset: bool = False


@dataclass(frozen=True, slots=True)
class Interval:
    index: int  # 0 for the first document
    time_s: float  # the run's time at the end of the interval (max runtime over jobs)
    length_s: float  # the longest direction runtime delta of any job
    jobs: tuple[JobInterval, ...]
    group: JobInterval


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _make(
    runtime: int, ios: int, io_bytes: int, bins: Bins, percents: Sequence[float]
) -> DirInterval:
    seconds = runtime / 1000.0
    iops = ios / seconds if seconds > 0 else 0.0
    bw = io_bytes / seconds if seconds > 0 else 0.0
    changed = [k for k, v in bins.items() if v > 0]
    return DirInterval(
        runtime_ms=runtime,
        ios=ios,
        io_bytes=io_bytes,
        iops=iops,
        bw_bytes=bw,
        bins=bins,
        percentiles=percentile_from_bins(bins, percents),
        min_ns=min(changed) if changed else None,
        max_ns=max(changed) if changed else None,
        samples=sum(bins.values()),
    )


@dataclass(slots=True)
class _DirState:
    runtime: int = 0
    ios: int = 0
    io_bytes: int = 0
    bins: Bins = field(default_factory=dict)


def _state(direction: Mapping[str, Any]) -> _DirState:
    return _DirState(
        runtime=_int(direction.get("runtime")),
        ios=_int(direction.get("total_ios")),
        io_bytes=_int(direction.get("io_bytes")),
        bins=doc_bins(direction),
    )


def _went_back(old: _DirState, new: _DirState) -> bool:
    if new.runtime < old.runtime or new.ios < old.ios or new.io_bytes < old.io_bytes:
        return True
    return any(new.bins.get(k, 0) < v for k, v in old.bins.items())


def _without_bins(job: JobInterval) -> JobInterval:
    dirs = {name: replace(d, bins={}) for name, d in job.directions.items()}
    return replace(job, directions=dirs)


def sum_bins(all_bins: Iterable[Mapping[int, int]]) -> Bins:
    out: Bins = {}
    for bins in all_bins:
        for k, v in bins.items():
            out[k] = out.get(k, 0) + v
    return out


class IntervalTracker:
    """Feed documents in order (`update`), get one `Interval` per document. `keep_bins=False`
    drops the bin deltas from the intervals once their figures are computed (a long run keeps
    a few numbers per second, not a histogram)."""

    def __init__(
        self, percentiles: Sequence[float] = DEFAULT_PERCENTILES, *, keep_bins: bool = True
    ) -> None:
        self.percentiles = tuple(percentiles)
        self.keep_bins = keep_bins
        self._prev: list[dict[str, _DirState]] = []
        self.count = 0

    def update(self, doc: Mapping[str, Any]) -> Interval:
        jobs = doc.get("jobs")
        job_list: list[Mapping[str, Any]] = (
            [j for j in jobs if isinstance(j, Mapping)] if isinstance(jobs, list) else []
        )
        out: list[JobInterval] = []
        states: list[dict[str, _DirState]] = []
        time_ms = 0
        length_ms = 0
        for i, job in enumerate(job_list):
            prev = self._prev[i] if i < len(self._prev) else {}
            now: dict[str, _DirState] = {}
            dirs: dict[str, DirInterval] = {}
            reset = False
            for name in DIRECTIONS:
                raw = job.get(name)
                if not isinstance(raw, Mapping):
                    continue
                new = _state(raw)
                now[name] = new
                old = prev.get(name, _DirState())
                if _went_back(old, new):
                    reset = True
                    old = _DirState()
                delta_bins = {k: v - old.bins.get(k, 0) for k, v in new.bins.items()}
                delta_bins = {k: v for k, v in delta_bins.items() if v}
                runtime = new.runtime - old.runtime
                dirs[name] = _make(
                    runtime,
                    new.ios - old.ios,
                    new.io_bytes - old.io_bytes,
                    delta_bins,
                    self.percentiles,
                )
                time_ms = max(time_ms, new.runtime)
                length_ms = max(length_ms, runtime)
            states.append(now)
            out.append(JobInterval(str(job.get("jobname", "")), i, dirs, reset))
        self._prev = states
        group = self._group(out)
        if not self.keep_bins:
            out = [_without_bins(j) for j in out]
            group = _without_bins(group)
        interval = Interval(self.count, time_ms / 1000.0, length_ms / 1000.0, tuple(out), group)
        self.count += 1
        return interval

    def _group(self, jobs: Sequence[JobInterval]) -> JobInterval:
        dirs: dict[str, DirInterval] = {}
        for name in DIRECTIONS:
            parts = [j.directions[name] for j in jobs if name in j.directions]
            if not parts:
                continue
            bins = sum_bins(p.bins for p in parts)
            changed = [k for k, v in bins.items() if v > 0]
            dirs[name] = DirInterval(
                runtime_ms=max(p.runtime_ms for p in parts),
                ios=sum(p.ios for p in parts),
                io_bytes=sum(p.io_bytes for p in parts),
                iops=sum(p.iops for p in parts),
                bw_bytes=sum(p.bw_bytes for p in parts),
                bins=bins,
                percentiles=percentile_from_bins(bins, self.percentiles),
                min_ns=min(changed) if changed else None,
                max_ns=max(changed) if changed else None,
                samples=sum(bins.values()),
            )
        return JobInterval("all jobs", -1, dirs, any(j.reset for j in jobs))
