"""The final fio document as a report model, read the way a seasoned admin reads fio's output.

`build_report(doc)` takes the last json / json+ document of a run and exposes, per job (with
`group_reporting`, fio already gives one entry per group): IOPS, bandwidth, io bytes, runtime;
slat / clat / lat min, max, mean, stdev, samples (ns); the clat percentile table; bw (KiB/s, as
fio gives it) and IOPS min / max / mean / stdev / samples; the latency distribution buckets
(latency_ns / latency_us / latency_ms, percent of IOs); cpu usr / sys / ctx / majf / minf; IO
depth distribution, submit and complete; and disk util per device. Every number is taken as it is
in the JSON (tests compare them for equality). Nothing raises on a malformed document: missing
fields are None / empty.

When a run has several job entries, `group` is an aggregate *computed* here (fio's JSON has no
group entry without group_reporting): io and IOPS summed, runtime the longest, latency min / max
/ mean / stdev pooled from the jobs' samples, percentiles from the summed json+ bins (fio's rule);
`computed=True` marks it, and the fields that do not add up (bw / IOPS sample stats, cpu, depths)
are left empty.

`notes` are short plain-language readings ("p99 is 40× p50: long tail", "disk vda busy 99%:
the device is the limit", "iodepth=32 has no effect with ioengine=psync", ...), each with a level
("info" or "warning").

Done: the model, the notes and their tests (tests/core/fio/test_report.py). The UI session
renders it (every text from the JSON through widgets/common/plain.py: job names and options come
from a job file).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from virttui.core.fio.intervals import DIRECTIONS, doc_bins, percentile_from_bins, sum_bins

Number = int | float
NoteLevel = Literal["info", "warning"]

SYNC_ENGINES = frozenset({"sync", "psync", "vsync", "pvsync", "pvsync2", "mmap", "splice"})
LONG_TAIL_RATIO = 10.0
OUTLIER_RATIO = 100.0
BUSY_UTIL = 95.0
CPU_BOUND = 90.0
NOISY_CV = 0.5
SHORT_RUN_MS = 5000


@dataclass(frozen=True, slots=True)
class LatStats:
    """slat / clat / lat in ns as fio gives them (`N` is `samples`)."""

    min: Number | None
    max: Number | None
    mean: Number | None
    stddev: Number | None
    samples: int


@dataclass(frozen=True, slots=True)
class SampleStats:
    """bw (KiB/s) or IOPS as sampled every `log_avg_msec` by fio."""

    min: Number | None
    max: Number | None
    mean: Number | None
    stddev: Number | None
    samples: int | None


@dataclass(frozen=True, slots=True)
class DirReport:
    name: str  # read, write, trim
    io_bytes: int
    bw_bytes: Number  # bytes per second
    iops: Number
    runtime_ms: int
    total_ios: int
    short_ios: int | None
    drop_ios: int | None
    slat: LatStats | None
    clat: LatStats | None
    lat: LatStats | None
    percentiles: tuple[tuple[float, int], ...]  # clat (p, ns), fio's list, ascending
    bins: dict[int, int] = field(repr=False)  # json+ clat bins (empty with plain json)
    bw: SampleStats | None = None  # KiB/s
    iops_stats: SampleStats | None = None
    bw_agg: Number | None = None  # percent of the group's bandwidth

    @property
    def active(self) -> bool:
        return self.total_ios > 0

    def percentile(self, p: float) -> int | None:
        for q, value in self.percentiles:
            if math.isclose(q, p):
                return value
        return None


@dataclass(frozen=True, slots=True)
class Cpu:
    usr: Number | None
    sys: Number | None
    ctx: int | None
    majf: int | None
    minf: int | None


@dataclass(frozen=True, slots=True)
class JobReport:
    name: str
    index: int  # position in the document's jobs; -1 for the computed group
    groupid: int | None
    error: int
    job_runtime_ms: int | None
    options: dict[str, str]
    directions: dict[str, DirReport]
    cpu: Cpu | None
    iodepth_level: tuple[tuple[str, Number], ...]  # (depth label, % of time)
    iodepth_submit: tuple[tuple[str, Number], ...]
    iodepth_complete: tuple[tuple[str, Number], ...]
    latency: dict[str, tuple[tuple[str, Number], ...]]  # "ns"/"us"/"ms" -> (bucket, % of IOs)
    computed: bool = False

    @property
    def active(self) -> tuple[DirReport, ...]:
        return tuple(d for d in self.directions.values() if d.active)

    @property
    def error_text(self) -> str:
        if not self.error:
            return ""
        try:
            return f"error {self.error} ({os.strerror(self.error)})"
        except (ValueError, OverflowError):
            return f"error {self.error}"


@dataclass(frozen=True, slots=True)
class DiskUtil:
    name: str
    read_ios: int | None
    write_ios: int | None
    read_merges: int | None
    write_merges: int | None
    read_ticks: int | None
    write_ticks: int | None
    in_queue: int | None
    util: Number | None


@dataclass(frozen=True, slots=True)
class Note:
    level: NoteLevel
    text: str


@dataclass(frozen=True, slots=True)
class Report:
    version: str
    time: str
    jobs: tuple[JobReport, ...]
    group: JobReport | None  # computed aggregate when there are several job entries
    disks: tuple[DiskUtil, ...]
    notes: tuple[Note, ...]


# ---------------------------------------------------------------------- reading the JSON
def _num(value: Any) -> Number | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _table(value: Any) -> tuple[tuple[str, Number], ...]:
    out = []
    for key, v in _map(value).items():
        n = _num(v)
        if n is not None:
            out.append((str(key), n))
    return tuple(out)


def _lat(value: Any) -> LatStats | None:
    if not isinstance(value, Mapping):
        return None
    return LatStats(
        _num(value.get("min")),
        _num(value.get("max")),
        _num(value.get("mean")),
        _num(value.get("stddev")),
        _int(value.get("N")) or 0,
    )


def _percentiles(value: Any) -> tuple[tuple[float, int], ...]:
    out = []
    for key, v in _map(_map(value).get("percentile")).items():
        try:
            p = float(key)
        except ValueError:
            continue
        n = _int(v)
        if n is not None:
            out.append((p, n))
    return tuple(sorted(out))


def _direction(name: str, raw: Mapping[str, Any]) -> DirReport:
    return DirReport(
        name=name,
        io_bytes=_int(raw.get("io_bytes")) or 0,
        bw_bytes=_num(raw.get("bw_bytes")) or 0,
        iops=_num(raw.get("iops")) or 0,
        runtime_ms=_int(raw.get("runtime")) or 0,
        total_ios=_int(raw.get("total_ios")) or 0,
        short_ios=_int(raw.get("short_ios")),
        drop_ios=_int(raw.get("drop_ios")),
        slat=_lat(raw.get("slat_ns")),
        clat=_lat(raw.get("clat_ns")),
        lat=_lat(raw.get("lat_ns")),
        percentiles=_percentiles(raw.get("clat_ns")),
        bins=doc_bins(raw),
        bw=SampleStats(
            _num(raw.get("bw_min")),
            _num(raw.get("bw_max")),
            _num(raw.get("bw_mean")),
            _num(raw.get("bw_dev")),
            _int(raw.get("bw_samples")),
        ),
        iops_stats=SampleStats(
            _num(raw.get("iops_min")),
            _num(raw.get("iops_max")),
            _num(raw.get("iops_mean")),
            _num(raw.get("iops_stddev")),
            _int(raw.get("iops_samples")),
        ),
        bw_agg=_num(raw.get("bw_agg")),
    )


def _job(index: int, raw: Mapping[str, Any]) -> JobReport:
    directions = {
        name: _direction(name, raw[name])
        for name in DIRECTIONS
        if isinstance(raw.get(name), Mapping)
    }
    options = {str(k): str(v) for k, v in _map(raw.get("job options")).items()}
    return JobReport(
        name=str(raw.get("jobname", "")),
        index=index,
        groupid=_int(raw.get("groupid")),
        error=_int(raw.get("error")) or 0,
        job_runtime_ms=_int(raw.get("job_runtime")),
        options=options,
        directions=directions,
        cpu=Cpu(
            _num(raw.get("usr_cpu")),
            _num(raw.get("sys_cpu")),
            _int(raw.get("ctx")),
            _int(raw.get("majf")),
            _int(raw.get("minf")),
        ),
        iodepth_level=_table(raw.get("iodepth_level")),
        iodepth_submit=_table(raw.get("iodepth_submit")),
        iodepth_complete=_table(raw.get("iodepth_complete")),
        latency={
            unit: _table(raw.get(f"latency_{unit}"))
            for unit in ("ns", "us", "ms")
            if isinstance(raw.get(f"latency_{unit}"), Mapping)
        },
    )


def _disk(raw: Mapping[str, Any]) -> DiskUtil:
    return DiskUtil(
        name=str(raw.get("name", "")),
        read_ios=_int(raw.get("read_ios")),
        write_ios=_int(raw.get("write_ios")),
        read_merges=_int(raw.get("read_merges")),
        write_merges=_int(raw.get("write_merges")),
        read_ticks=_int(raw.get("read_ticks")),
        write_ticks=_int(raw.get("write_ticks")),
        in_queue=_int(raw.get("in_queue")),
        util=_num(raw.get("util")),
    )


# ---------------------------------------------------------------------- the computed group
def pool_lat(parts: Sequence[LatStats | None]) -> LatStats | None:
    """Latency stats of the union of the jobs' samples (fio's stddev is the sample one, n-1)."""
    stats = [p for p in parts if p is not None and p.samples > 0 and p.mean is not None]
    if not stats:
        return None
    n = sum(p.samples for p in stats)
    mean = sum(p.samples * float(p.mean or 0) for p in stats) / n
    m2 = sum(
        (p.samples - 1) * float(p.stddev or 0) ** 2 + p.samples * (float(p.mean or 0) - mean) ** 2
        for p in stats
    )
    mins = [p.min for p in stats if p.min is not None]
    maxs = [p.max for p in stats if p.max is not None]
    return LatStats(
        min(mins) if mins else None,
        max(maxs) if maxs else None,
        mean,
        math.sqrt(m2 / (n - 1)) if n > 1 else 0.0,
        n,
    )


def _group(jobs: Sequence[JobReport]) -> JobReport:
    directions: dict[str, DirReport] = {}
    for name in DIRECTIONS:
        parts = [j.directions[name] for j in jobs if name in j.directions]
        if not parts:
            continue
        bins = sum_bins(p.bins for p in parts)
        wanted = sorted({p for d in parts for p, _ in d.percentiles})
        table = percentile_from_bins(bins, wanted) if bins else {}
        directions[name] = DirReport(
            name=name,
            io_bytes=sum(p.io_bytes for p in parts),
            bw_bytes=sum(p.bw_bytes for p in parts),
            iops=sum(p.iops for p in parts),
            runtime_ms=max(p.runtime_ms for p in parts),
            total_ios=sum(p.total_ios for p in parts),
            short_ios=sum(p.short_ios or 0 for p in parts),
            drop_ios=sum(p.drop_ios or 0 for p in parts),
            slat=pool_lat([p.slat for p in parts]),
            clat=pool_lat([p.clat for p in parts]),
            lat=pool_lat([p.lat for p in parts]),
            percentiles=tuple(sorted(table.items())),
            bins=bins,
        )
    return JobReport(
        name="all jobs",
        index=-1,
        groupid=None,
        error=next((j.error for j in jobs if j.error), 0),
        job_runtime_ms=max((j.job_runtime_ms or 0 for j in jobs), default=None),
        options={},
        directions=directions,
        cpu=None,
        iodepth_level=(),
        iodepth_submit=(),
        iodepth_complete=(),
        latency={},
        computed=True,
    )


# ---------------------------------------------------------------------- notes
def human_ns(ns: Number) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1_000:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def _ratio(a: Number, b: Number) -> str:
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def job_notes(job: JobReport, *, many: bool) -> list[Note]:
    who = f"{job.name or 'job'} #{job.index + 1}" if many and job.index >= 0 else job.name or "job"
    notes: list[Note] = []
    if job.error:
        notes.append(Note("warning", f"{who}: ended with {job.error_text}"))
    for d in job.active:
        where = f"{who} {d.name}"
        p50, p99, p999 = d.percentile(50.0), d.percentile(99.0), d.percentile(99.9)
        if p50 and p99 and p99 >= LONG_TAIL_RATIO * p50:
            notes.append(Note("warning", f"{where}: p99 is {_ratio(p99, p50)} p50: long tail"))
        elif p99 and p999 and p999 >= LONG_TAIL_RATIO * p99:
            notes.append(Note("info", f"{where}: p99.9 is {_ratio(p999, p99)} p99: rare slow IOs"))
        top = p999 or p99
        if d.clat and d.clat.max and top and d.clat.max >= OUTLIER_RATIO * top:
            notes.append(
                Note(
                    "info",
                    f"{where}: slowest IO took {human_ns(d.clat.max)}, "
                    f"{_ratio(d.clat.max, top)} p{'99.9' if p999 else '99'}: outliers",
                )
            )
        bw = d.bw
        if (
            bw is not None
            and bw.mean
            and bw.stddev is not None
            and (bw.samples or 0) >= 3
            and bw.stddev >= NOISY_CV * bw.mean
        ):
            notes.append(
                Note(
                    "info",
                    f"{where}: bandwidth varied a lot (stdev {100 * bw.stddev / bw.mean:.0f}% "
                    "of the mean)",
                )
            )
    engine = job.options.get("ioengine", "")
    depth = job.options.get("iodepth", "")
    if engine in SYNC_ENGINES and depth.isdigit() and int(depth) > 1:
        notes.append(
            Note(
                "info",
                f"{who}: iodepth={depth} has no effect with ioengine={engine} (synchronous): "
                "use libaio or io_uring for a queue",
            )
        )
    if job.cpu and job.cpu.usr is not None and job.cpu.sys is not None:
        busy = job.cpu.usr + job.cpu.sys
        if busy >= CPU_BOUND:
            notes.append(
                Note("info", f"{who}: used {busy:.0f}% CPU: the CPU may be the limit, not the disk")
            )
    reads = any(d.name == "read" for d in job.active)
    if reads and job.options and job.options.get("direct", "0") in ("0", "false"):
        notes.append(Note("info", f"{who}: buffered reads (direct=0) may come from the page cache"))
    return notes


def report_notes(jobs: Sequence[JobReport], disks: Sequence[DiskUtil]) -> list[Note]:
    notes: list[Note] = []
    many = len(jobs) > 1
    for job in jobs:
        notes.extend(job_notes(job, many=many))
    runtimes = [d.runtime_ms for j in jobs for d in j.active]
    if runtimes and max(runtimes) < SHORT_RUN_MS:
        notes.append(
            Note("info", f"short run ({max(runtimes) / 1000:.1f} s): the figures are noisy")
        )
    if jobs and not any(j.active for j in jobs):
        notes.append(Note("warning", "no IO completed"))
    for disk in disks:
        if disk.util is not None and disk.util >= BUSY_UTIL:
            notes.append(
                Note("info", f"disk {disk.name} busy {disk.util:.0f}%: the device is the limit")
            )
    return notes


def build_report(doc: Mapping[str, Any]) -> Report:
    raw_jobs = doc.get("jobs")
    jobs = tuple(
        _job(i, j)
        for i, j in enumerate(raw_jobs if isinstance(raw_jobs, list) else [])
        if isinstance(j, Mapping)
    )
    raw_disks = doc.get("disk_util")
    disks = tuple(
        _disk(d)
        for d in (raw_disks if isinstance(raw_disks, list) else [])
        if isinstance(d, Mapping)
    )
    group = _group(jobs) if len(jobs) > 1 else None
    return Report(
        version=str(doc.get("fio version", "")),
        time=str(doc.get("time", "")),
        jobs=jobs,
        group=group,
        disks=disks,
        notes=tuple(report_notes(jobs, disks)),
    )
