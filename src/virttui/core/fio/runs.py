"""Saved fio runs: the store under the XDG data dir, comparing two runs, exporting one.

`RunStore(root)` (default `$XDG_DATA_HOME/virttui/fio-runs`, `~/.local/share/...` without it)
keeps one directory per run, named by an id made here (`20261130T012345123Z-a1b2c3`: the start
time, sortable, and a short random part; never derived from a label or a job name):

- `jobfile.fio`   the job file that ran (`JobFile.text()`);
- `output.json`   fio's json+ stream as it wrote it (every status document), copied;
- `final.json`    the final document;
- `intervals.json` / `intervals.csv`  the per-interval series (`Interval`s without their bins:
  time, per direction IOPS, bandwidth, clat p50/p95/p99/p99.9/max, for the group and each job);
- `meta.json`     uri, label, started/ended, stopped, failure, fio_args, fio version, targets,
  job names and the headline figures the list shows (read/write IOPS, bandwidth, p99).

A run is written into a hidden temp directory (`.tmp-…`) and renamed into place (a reader never
sees half a run; temp directories left by a crash are swept after a day); directories are 0700,
files 0600. A label is user text kept as data in meta.json (never
a path). `list()` never raises: a damaged or foreign entry is listed with its `error`. `delete`
and `load` refuse ids that are not a plain entry of the store (`..`, a slash, a symbolic link
leading out of it).

`compare(a, b)` gives rows per direction (IOPS, bandwidth, clat p50/p95/p99/p99.9, lat mean) and
cpu usr/sys, with b/a and a word that knows which way is better ("1.8× faster", "2.1× higher
latency"), and the options that differ between the two job files (ioengine, direct, bs, iodepth,
filename/directory first). `export_json` / `export_csv` / `export_comparison_csv` write a file
atomically and refuse to overwrite one unless told to (the screen asks first).

No Textual. Used by screens/fio/runs.py (list, compare, export) and, after the merge, by the
live screen's `on_finished` (`RunStore().save(run)`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virttui.core.common.atomic import write_atomically
from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.intervals import (
    DEFAULT_PERCENTILES,
    DIRECTIONS,
    DirInterval,
    Interval,
    JobInterval,
)
from virttui.core.fio.job import JobFile, JobFileError, parse_jobfile
from virttui.core.fio.report import DirReport, JobReport, build_report

__all__ = [
    "CompareRow",
    "Comparison",
    "FinishedRun",
    "Headline",
    "LoadedRun",
    "OptionDiff",
    "RunStore",
    "RunStoreError",
    "SavedRun",
    "compare",
    "default_root",
    "export_comparison_csv",
    "export_csv",
    "export_json",
    "read_export",
    "series_rows",
]

FORMAT = 1
EXPORT_FORMAT = "virttui-fio-run"
ID_RE = re.compile(r"^\d{8}T\d{9}Z-[0-9a-f]{6}$")
LABEL_MAX = 200
STALE_TMP_SECONDS = 86400.0  # a save's temp directory older than a day is debris
SAME_WITHIN = 0.05  # ratios within 5% of 1 read "about the same"
FILES = ("jobfile.fio", "output.json", "final.json", "intervals.json", "intervals.csv")
# the options an admin compares first (two filesystems, io_uring vs libaio, direct vs buffered)
KEY_OPTIONS = (
    "ioengine",
    "direct",
    "bs",
    "iodepth",
    "rw",
    "filename",
    "directory",
    "numjobs",
    "size",
    "runtime",
)
UNSET = "(default)"


class RunStoreError(Exception):
    """A run that cannot be read or written, or an id that is not an entry of the store."""


def default_root() -> Path:
    """$XDG_DATA_HOME/virttui/fio-runs (an absolute XDG_DATA_HOME only, as the spec says),
    else ~/.local/share/virttui/fio-runs."""
    base = os.environ.get("XDG_DATA_HOME", "")
    data = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return data / "virttui" / "fio-runs"


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True, slots=True)
class Headline:
    """The group's figures of one direction in the final document."""

    iops: float
    bw_bytes: float  # bytes per second
    p99_ns: int | None


@dataclass(frozen=True, slots=True)
class SavedRun:
    """One entry of the store as `list()` shows it. `error` set: damaged or foreign (then only
    `run_id` and `path` are to be trusted)."""

    run_id: str
    path: Path
    label: str = ""
    uri: str | None = None
    started: float | None = None
    ended: float | None = None
    stopped: bool = False
    failure: str | None = None
    fio_args: tuple[str, ...] = ()
    fio_version: str = ""
    targets: tuple[str, ...] = ()
    job_names: tuple[str, ...] = ()
    headline: dict[str, Headline] = field(default_factory=dict)
    error: str | None = None

    @property
    def host(self) -> str:
        """'this machine' or the host of the URI (user@host:port as written)."""
        if not self.uri:
            return "this machine"
        rest = self.uri.split("://", 1)[-1]
        host = rest.split("/", 1)[0]
        return host or self.uri

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.started)


@dataclass(frozen=True, slots=True)
class LoadedRun:
    saved: SavedRun
    jobfile_text: str
    final: dict[str, Any]
    series: tuple[Interval, ...]  # per-interval rows (without bins)

    @property
    def jobfile(self) -> JobFile | None:
        """The parsed job file, None when it does not parse (a hand-edited store)."""
        try:
            return parse_jobfile(self.jobfile_text)
        except JobFileError:
            return None


# ------------------------------------------------------------------------------------ helpers
def _group_report(final: Mapping[str, Any]) -> JobReport | None:
    report = build_report(final)
    if report.group is not None:
        return report.group
    return report.jobs[0] if report.jobs else None


def headline_of(final: Mapping[str, Any]) -> dict[str, Headline]:
    """Read / write / trim figures of the group (directions with IO only)."""
    group = _group_report(final)
    if group is None:
        return {}
    return {
        d.name: Headline(float(d.iops), float(d.bw_bytes), d.percentile(99.0)) for d in group.active
    }


def new_id(started: float) -> str:
    """Sortable: UTC start time to the millisecond, then 6 random hex digits."""
    if not math.isfinite(started) or started < 0:
        started = time.time()
    whole = int(started)
    ms = int(round((started - whole) * 1000))
    if ms >= 1000:
        whole, ms = whole + 1, 0
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole))
    return f"{stamp}{ms:03d}Z-{secrets.token_hex(3)}"


def _dir_to_json(d: DirInterval) -> dict[str, Any]:
    return {
        "runtime_ms": d.runtime_ms,
        "ios": d.ios,
        "io_bytes": d.io_bytes,
        "iops": d.iops,
        "bw_bytes": d.bw_bytes,
        "percentiles": {repr(float(p)): v for p, v in d.percentiles.items()},
        "min_ns": d.min_ns,
        "max_ns": d.max_ns,
        "samples": d.samples,
    }


def _job_to_json(j: JobInterval) -> dict[str, Any]:
    return {
        "name": j.name,
        "index": j.index,
        "reset": j.reset,
        "directions": {name: _dir_to_json(d) for name, d in j.directions.items()},
    }


def interval_to_json(iv: Interval) -> dict[str, Any]:
    return {
        "index": iv.index,
        "time_s": iv.time_s,
        "length_s": iv.length_s,
        "group": _job_to_json(iv.group),
        "jobs": [_job_to_json(j) for j in iv.jobs],
    }


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _dir_from_json(raw: Mapping[str, Any]) -> DirInterval:
    return DirInterval(
        runtime_ms=int(raw["runtime_ms"]),
        ios=int(raw["ios"]),
        io_bytes=int(raw["io_bytes"]),
        iops=float(raw["iops"]),
        bw_bytes=float(raw["bw_bytes"]),
        bins={},
        percentiles={float(p): int(v) for p, v in dict(raw.get("percentiles", {})).items()},
        min_ns=_opt_int(raw.get("min_ns")),
        max_ns=_opt_int(raw.get("max_ns")),
        samples=int(raw.get("samples", 0)),
    )


def _job_from_json(raw: Mapping[str, Any]) -> JobInterval:
    dirs = {str(k): _dir_from_json(v) for k, v in dict(raw.get("directions", {})).items()}
    return JobInterval(str(raw.get("name", "")), int(raw["index"]), dirs, bool(raw.get("reset")))


def interval_from_json(raw: Mapping[str, Any]) -> Interval:
    return Interval(
        index=int(raw["index"]),
        time_s=float(raw["time_s"]),
        length_s=float(raw["length_s"]),
        jobs=tuple(_job_from_json(j) for j in raw.get("jobs", [])),
        group=_job_from_json(raw["group"]),
    )


def _series_from_json(data: Any) -> tuple[Interval, ...]:
    if not isinstance(data, list):
        raise ValueError("the interval series is not a list")
    return tuple(interval_from_json(item) for item in data)


def _without_bins(iv: Interval) -> Interval:
    """The same interval as stored (bins dropped: a few numbers per second, not a histogram)."""
    return interval_from_json(interval_to_json(iv))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_bytes(value: Any) -> bytes:
    # allow_nan: a NaN that fio's stream parsed (json.loads takes it) must not lose the run;
    # Python reads it back the same way
    return (json.dumps(value, indent=1, ensure_ascii=False) + "\n").encode()


def _clean_label(label: str) -> str:
    return label.strip()[:LABEL_MAX]


# ------------------------------------------------------------------------------------ CSV
PERCENT_COLUMNS = tuple((f"p{p:g}_ns", p) for p in DEFAULT_PERCENTILES)
DIR_COLUMNS = ("iops", "bw_bytes", *(name for name, _ in PERCENT_COLUMNS), "max_ns")


def _series_directions(series: Sequence[Interval]) -> list[str]:
    return [
        name
        for name in DIRECTIONS
        if any((d := iv.group.directions.get(name)) is not None and d.ios for iv in series)
    ]


def series_rows(series: Sequence[Interval]) -> tuple[list[str], list[list[str]]]:
    """The CSV header and one row per interval: time, then for the group ("all") and each job
    (`job1`, `job2`, …: by position; the names are in the JSON) and each direction with IO:
    iops, bw_bytes, p50/p95/p99/p99.9 and max clat in ns. Empty cells where there is no value."""
    dirs = _series_directions(series)
    njobs = max((len(iv.jobs) for iv in series), default=0)
    scopes = ["all", *(f"job{i + 1}" for i in range(njobs))]
    header = ["interval", "time_s", "length_s"]
    header += [f"{scope}.{d}.{col}" for scope in scopes for d in dirs for col in DIR_COLUMNS]
    rows: list[list[str]] = []
    for iv in series:
        row = [str(iv.index), repr(iv.time_s), repr(iv.length_s)]
        parts: list[JobInterval | None] = [iv.group]
        parts += [iv.jobs[i] if i < len(iv.jobs) else None for i in range(njobs)]
        for part in parts:
            for d in dirs:
                di = part.directions.get(d) if part is not None else None
                row += _dir_cells(di)
        rows.append(row)
    return header, rows


def _dir_cells(d: DirInterval | None) -> list[str]:
    if d is None:
        return [""] * len(DIR_COLUMNS)
    cells = [repr(d.iops), repr(d.bw_bytes)]
    for _, p in PERCENT_COLUMNS:
        value = d.percentiles.get(p)
        cells.append("" if value is None else str(value))
    cells.append("" if d.max_ns is None else str(d.max_ns))
    return cells


def _csv_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (labels and names are untrusted)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# ------------------------------------------------------------------------------------ store
class RunStore:
    """Saved runs under `root` (see the module docstring)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    # ------------------------------------------------------------------ paths
    def _ensure_root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.root.is_symlink() or not self.root.is_dir():
            raise RunStoreError(f"{self.root} is not a directory")
        return self.root

    def entry(self, run_id: str) -> Path:
        """The path of entry `run_id`, refusing anything that is not a plain entry inside the
        store: an empty id, `.`/`..`, a slash or NUL, or a symbolic link (wherever it leads)."""
        if (
            not run_id
            or run_id in (".", "..")
            or "/" in run_id
            or "\x00" in run_id
            or run_id != os.path.basename(run_id)
        ):
            raise RunStoreError(f"{run_id!r} is not an entry of the run store")
        root = self.root.resolve()
        path = self.root / run_id
        if path.is_symlink():
            raise RunStoreError(f"{run_id!r} is a symbolic link, not a saved run: refused")
        if path.resolve().parent != root:
            raise RunStoreError(f"{run_id!r} resolves outside the run store: refused")
        return path

    # ------------------------------------------------------------------ save
    def sweep(self, *, older_than: float = STALE_TMP_SECONDS) -> int:
        """Remove the hidden temp directories of saves that never finished (a crash, a kill)
        and are older than `older_than` seconds; returns how many went."""
        removed = 0
        now = time.time()
        try:
            names = os.listdir(self.root)
        except OSError:
            return 0
        for name in names:
            path = self.root / name
            if not name.startswith(".tmp-") or path.is_symlink() or not path.is_dir():
                continue
            try:
                if now - path.stat().st_mtime < older_than:
                    continue
                shutil.rmtree(path)
                removed += 1
            except OSError:
                continue
        return removed

    def save(self, run: FinishedRun, *, label: str = "") -> SavedRun:
        root = self._ensure_root()
        self.sweep()
        meta = self._meta(run, label)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        try:
            os.chmod(tmp, 0o700)
            _write_private(tmp / "jobfile.fio", run.jobfile.text().encode())
            self._copy_stream(run.output_path, tmp / "output.json")
            _write_private(tmp / "final.json", _json_bytes(dict(run.final)))
            series = [interval_to_json(iv) for iv in run.intervals]
            _write_private(tmp / "intervals.json", _json_bytes(series))
            header, rows = series_rows(run.intervals)
            _write_private(tmp / "intervals.csv", _csv_text(header, rows).encode())
            for _attempt in range(5):
                run_id = new_id(run.started)
                meta["id"] = run_id
                (tmp / "meta.json").unlink(missing_ok=True)
                _write_private(tmp / "meta.json", _json_bytes(meta))
                target = root / run_id
                if target.exists() or target.is_symlink():
                    continue
                os.rename(tmp, target)
                break
            else:
                raise RunStoreError("could not find a free id for the run")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._read_meta(target, run_id)

    @staticmethod
    def _copy_stream(src: Path, dst: Path) -> None:
        fd = os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            try:
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
            except FileNotFoundError:
                pass  # the stream file is gone: the run keeps its final document and series
            out.flush()
            os.fsync(out.fileno())

    @staticmethod
    def _meta(run: FinishedRun, label: str) -> dict[str, Any]:
        targets: list[str] = []
        for job in run.jobfile.effective_jobs():
            targets.extend(job.targets)
        heads = headline_of(run.final)
        return {
            "format": FORMAT,
            "id": "",
            "label": _clean_label(label),
            "uri": run.uri,
            "started": run.started,
            "ended": run.ended,
            "stopped": run.stopped,
            "failure": run.failure,
            "fio_args": list(run.fio_args),
            "fio_version": str(run.final.get("fio version", "")),
            "targets": list(dict.fromkeys(targets)),
            "jobs": [job.name for job in run.jobfile.jobs],
            "headline": {
                name: {"iops": h.iops, "bw_bytes": h.bw_bytes, "p99_ns": h.p99_ns}
                for name, h in heads.items()
            },
        }

    # ------------------------------------------------------------------ read
    def _read_meta(self, path: Path, run_id: str) -> SavedRun:
        """The entry's SavedRun; raises RunStoreError when it is not a readable run."""
        if path.is_symlink():
            raise RunStoreError("a symbolic link, not a saved run")
        if not path.is_dir():
            raise RunStoreError("not a directory: not a saved run")
        if not ID_RE.match(run_id):
            raise RunStoreError("not a saved run (a foreign name)")
        try:
            raw = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunStoreError("damaged: meta.json is missing") from None
        except (OSError, ValueError) as exc:
            raise RunStoreError(f"damaged: meta.json: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise RunStoreError("damaged: meta.json is not a virttui run description")
        try:
            heads = {
                str(name): Headline(
                    float(h["iops"]), float(h["bw_bytes"]), _opt_int(h.get("p99_ns"))
                )
                for name, h in dict(raw.get("headline") or {}).items()
            }
            started, ended = raw.get("started"), raw.get("ended")
            return SavedRun(
                run_id=run_id,
                path=path,
                label=str(raw.get("label") or ""),
                uri=None if raw.get("uri") is None else str(raw["uri"]),
                started=None if started is None else float(started),
                ended=None if ended is None else float(ended),
                stopped=bool(raw.get("stopped")),
                failure=None if raw.get("failure") is None else str(raw["failure"]),
                fio_args=tuple(str(a) for a in raw.get("fio_args") or ()),
                fio_version=str(raw.get("fio_version") or ""),
                targets=tuple(str(t) for t in raw.get("targets") or ()),
                job_names=tuple(str(n) for n in raw.get("jobs") or ()),
                headline=heads,
            )
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RunStoreError(f"damaged: meta.json: {exc!r}") from None

    def list(self) -> list[SavedRun]:
        """Every entry, newest first; a damaged or foreign one is listed with its `error`.
        Hidden names (a save in progress: `.tmp-…`) are skipped. Never raises."""
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        except OSError as exc:
            return [SavedRun(run_id="", path=self.root, error=f"cannot read the store: {exc}")]
        good: list[SavedRun] = []
        bad: list[SavedRun] = []
        for name in names:
            if name.startswith("."):
                continue
            path = self.root / name
            try:
                good.append(self._read_meta(path, name))
            except RunStoreError as exc:
                bad.append(SavedRun(run_id=name, path=path, error=str(exc)))
            except Exception as exc:  # noqa: BLE001 - list() never raises
                bad.append(SavedRun(run_id=name, path=path, error=f"unreadable: {exc!r}"))
        good.sort(key=lambda r: (r.started or 0.0, r.run_id), reverse=True)
        return good + bad

    def get(self, run_id: str) -> SavedRun:
        return self._read_meta(self.entry(run_id), run_id)

    def load(self, run_id: str) -> LoadedRun:
        path = self.entry(run_id)
        saved = self._read_meta(path, run_id)
        try:
            jobfile_text = (path / "jobfile.fio").read_text(encoding="utf-8", errors="replace")
            final = json.loads((path / "final.json").read_text(encoding="utf-8"))
            if not isinstance(final, dict):
                raise ValueError("final.json is not a JSON object")
            series = _series_from_json(
                json.loads((path / "intervals.json").read_text(encoding="utf-8"))
            )
        except FileNotFoundError as exc:
            raise RunStoreError(f"damaged: {Path(exc.filename or '').name} is missing") from None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise RunStoreError(f"damaged: {exc!r}") from None
        return LoadedRun(saved, jobfile_text, final, series)

    def relabel(self, run_id: str, label: str) -> SavedRun:
        """Set the entry's label (meta.json rewritten atomically)."""
        path = self.entry(run_id)
        self._read_meta(path, run_id)
        meta_path = path / "meta.json"
        try:
            raw = json.loads(meta_path.read_text(encoding="utf-8"))
            raw["label"] = _clean_label(label)
            write_atomically(meta_path, _json_bytes(raw))
        except (OSError, ValueError, TypeError) as exc:
            raise RunStoreError(f"could not change the label: {exc}") from None
        return self._read_meta(path, run_id)

    def delete(self, run_id: str) -> None:
        """Remove entry `run_id` (a damaged one too); refuses anything outside the store."""
        path = self.entry(run_id)
        if not path.exists():
            raise RunStoreError(f"{run_id!r}: no such run")
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


# ------------------------------------------------------------------------------------ compare
@dataclass(frozen=True, slots=True)
class CompareRow:
    section: str  # "read", "write", "trim" or "cpu"
    metric: str  # "IOPS", "bandwidth", "clat p99", "lat mean", "usr", ...
    unit: str  # "IOPS", "B/s", "ns", "%"
    a: float | None
    b: float | None
    ratio: float | None  # b / a
    higher_is_better: bool
    verdict: str  # "1.8× faster", "2.1× higher latency", "about the same", ""


@dataclass(frozen=True, slots=True)
class OptionDiff:
    section: str  # the job ("job 1: name"), "global" or "run"
    option: str
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class Comparison:
    a: SavedRun
    b: SavedRun
    rows: tuple[CompareRow, ...]
    options: tuple[OptionDiff, ...]


def _times(r: float) -> str:
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def verdict(ratio: float | None, kind: str) -> str:
    """The word for b against a. kind: "speed" (higher is better), "latency", "cpu"."""
    if ratio is None or not math.isfinite(ratio):
        return ""
    if abs(ratio - 1.0) < SAME_WITHIN:
        return "about the same"
    if ratio <= 0:
        return "none in B" if kind == "speed" else ""
    up = ratio > 1.0
    r = ratio if up else 1.0 / ratio
    if kind == "speed":
        return f"{_times(r)} {'faster' if up else 'slower'}"
    if kind == "latency":
        return f"{_times(r)} {'higher' if up else 'lower'} latency"
    return f"{_times(r)} {'more' if up else 'less'} CPU"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return b / a


def _row(section: str, metric: str, unit: str, a: Any, b: Any, kind: str) -> CompareRow:
    fa = None if a is None else float(a)
    fb = None if b is None else float(b)
    r = _ratio(fa, fb)
    return CompareRow(section, metric, unit, fa, fb, r, kind == "speed", verdict(r, kind))


def _cpu(final: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """usr and sys CPU % summed over the job entries (several jobs: in units of one CPU)."""
    report = build_report(final)
    usr = [j.cpu.usr for j in report.jobs if j.cpu is not None and j.cpu.usr is not None]
    sys_ = [j.cpu.sys for j in report.jobs if j.cpu is not None and j.cpu.sys is not None]
    return (float(sum(usr)) if usr else None, float(sum(sys_)) if sys_ else None)


def _lat_mean(d: DirReport | None) -> float | None:
    if d is None or d.lat is None or d.lat.mean is None:
        return None
    return float(d.lat.mean)


def compare(a: LoadedRun, b: LoadedRun) -> Comparison:
    ga, gb = _group_report(a.final), _group_report(b.final)
    rows: list[CompareRow] = []
    for name in DIRECTIONS:
        da = ga.directions.get(name) if ga is not None else None
        db = gb.directions.get(name) if gb is not None else None
        if not ((da is not None and da.active) or (db is not None and db.active)):
            continue
        rows.append(_row(name, "IOPS", "IOPS", da and da.iops, db and db.iops, "speed"))
        rows.append(_row(name, "bandwidth", "B/s", da and da.bw_bytes, db and db.bw_bytes, "speed"))
        for p in DEFAULT_PERCENTILES:
            rows.append(
                _row(
                    name,
                    f"clat p{p:g}",
                    "ns",
                    da.percentile(p) if da else None,
                    db.percentile(p) if db else None,
                    "latency",
                )
            )
        rows.append(_row(name, "lat mean", "ns", _lat_mean(da), _lat_mean(db), "latency"))
    cpu_a, cpu_b = _cpu(a.final), _cpu(b.final)
    rows.append(_row("cpu", "usr", "%", cpu_a[0], cpu_b[0], "cpu"))
    rows.append(_row("cpu", "sys", "%", cpu_a[1], cpu_b[1], "cpu"))
    return Comparison(a.saved, b.saved, tuple(rows), tuple(option_differences(a, b)))


def _section_options(jobfile: JobFile | None, final: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each job's effective options (key → value, "" for a bare flag), from the job file; from
    the final document's "job options" when the job file does not parse."""
    out: list[dict[str, str]] = []
    if jobfile is not None and jobfile.jobs:
        for job in jobfile.effective_jobs():
            opts = {"name": job.name}
            for key, value in job.options():
                opts[key] = "" if value is None else value
            out.append(opts)
        return out
    jobs = final.get("jobs")
    for job in jobs if isinstance(jobs, list) else []:
        if isinstance(job, Mapping) and isinstance(job.get("job options"), Mapping):
            out.append({str(k): str(v) for k, v in job["job options"].items()})
    return out


def _ordered_keys(keys: Iterable[str]) -> list[str]:
    found = set(keys)
    first = [k for k in KEY_OPTIONS if k in found]
    return first + sorted(found - set(first) - {"name"})


def option_differences(a: LoadedRun, b: LoadedRun) -> list[OptionDiff]:
    """The options that differ, job by job (matched by position), the key options first; and
    the run's own differences (host, fio version, extra fio arguments)."""
    diffs: list[OptionDiff] = []
    sa, sb = a.saved, b.saved
    for option, va, vb in (
        ("host", sa.host, sb.host),
        ("fio version", sa.fio_version, sb.fio_version),
        ("fio arguments", " ".join(sa.fio_args), " ".join(sb.fio_args)),
    ):
        if va != vb:
            diffs.append(OptionDiff("run", option, va or UNSET, vb or UNSET))
    ja = _section_options(a.jobfile, a.final)
    jb = _section_options(b.jobfile, b.final)
    for i in range(max(len(ja), len(jb))):
        oa = ja[i] if i < len(ja) else None
        ob = jb[i] if i < len(jb) else None
        name = (oa or ob or {}).get("name", "")
        section = f"job {i + 1}" + (f": {name}" if name else "")
        if oa is None or ob is None:
            diffs.append(
                OptionDiff(
                    section,
                    "job",
                    "(none)" if oa is None else oa.get("name", "present"),
                    "(none)" if ob is None else ob.get("name", "present"),
                )
            )
            continue
        if oa.get("name", "") != ob.get("name", ""):
            diffs.append(OptionDiff(section, "name", oa.get("name", ""), ob.get("name", "")))
        for key in _ordered_keys([*oa, *ob]):
            va_opt, vb_opt = oa.get(key), ob.get(key)
            if va_opt != vb_opt:
                diffs.append(
                    OptionDiff(
                        section,
                        key,
                        UNSET if va_opt is None else va_opt or "(set)",
                        UNSET if vb_opt is None else vb_opt or "(set)",
                    )
                )
    return diffs


# ------------------------------------------------------------------------------------ export
def _write_export(path: Path, data: bytes, overwrite: bool) -> None:
    """Write `data` to `path` atomically; FileExistsError when it exists and `overwrite` is
    False; IsADirectoryError for a directory."""
    write_atomically(Path(path), data, overwrite=overwrite, fsync=False)


def meta_of(saved: SavedRun) -> dict[str, Any]:
    return {
        "id": saved.run_id,
        "label": saved.label,
        "uri": saved.uri,
        "started": saved.started,
        "ended": saved.ended,
        "stopped": saved.stopped,
        "failure": saved.failure,
        "fio_args": list(saved.fio_args),
        "fio_version": saved.fio_version,
        "targets": list(saved.targets),
        "jobs": list(saved.job_names),
        "headline": {
            name: {"iops": h.iops, "bw_bytes": h.bw_bytes, "p99_ns": h.p99_ns}
            for name, h in saved.headline.items()
        },
    }


def export_json(run: LoadedRun, path: Path, *, overwrite: bool = False) -> None:
    """One JSON object: format, meta, the job file text, the final document, the series."""
    doc = {
        "format": EXPORT_FORMAT,
        "version": FORMAT,
        "meta": meta_of(run.saved),
        "jobfile": run.jobfile_text,
        "final": run.final,
        "series": [interval_to_json(iv) for iv in run.series],
    }
    _write_export(Path(path), _json_bytes(doc), overwrite)


def read_export(path: Path) -> LoadedRun:
    """A run exported by `export_json` (RunStoreError when the file is not one)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
            raise ValueError("not a virttui fio run export")
        meta = doc["meta"]
        heads = {
            str(k): Headline(float(h["iops"]), float(h["bw_bytes"]), _opt_int(h.get("p99_ns")))
            for k, h in dict(meta.get("headline") or {}).items()
        }
        saved = SavedRun(
            run_id=str(meta["id"]),
            path=Path(path),
            label=str(meta.get("label") or ""),
            uri=meta.get("uri"),
            started=meta.get("started"),
            ended=meta.get("ended"),
            stopped=bool(meta.get("stopped")),
            failure=meta.get("failure"),
            fio_args=tuple(meta.get("fio_args") or ()),
            fio_version=str(meta.get("fio_version") or ""),
            targets=tuple(meta.get("targets") or ()),
            job_names=tuple(meta.get("jobs") or ()),
            headline=heads,
        )
        final = doc["final"]
        if not isinstance(final, dict):
            raise ValueError("final is not an object")
        return LoadedRun(saved, str(doc["jobfile"]), final, _series_from_json(doc["series"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise RunStoreError(f"{path}: {exc}") from None


def export_csv(run: LoadedRun, path: Path, *, overwrite: bool = False) -> None:
    """The interval series, one row per interval, with a header (see `series_rows`)."""
    header, rows = series_rows(run.series)
    _write_export(Path(path), _csv_text(header, rows).encode(), overwrite)


def _num_cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def export_comparison_csv(comp: Comparison, path: Path, *, overwrite: bool = False) -> None:
    """The comparison: one row per metric (section, metric, unit, a, b, b/a, verdict), then one
    row per differing option (section "option: <job>", the option, its values)."""
    header = ["section", "metric", "unit", "a", "b", "ratio_b_over_a", "verdict"]
    rows: list[list[str]] = [
        [r.section, r.metric, r.unit, _num_cell(r.a), _num_cell(r.b), _num_cell(r.ratio), r.verdict]
        for r in comp.rows
    ]
    for d in comp.options:
        rows.append(
            [
                _csv_cell(f"option: {d.section}"),
                _csv_cell(d.option),
                "",
                _csv_cell(d.a),
                _csv_cell(d.b),
                "",
                "",
            ]
        )
    _write_export(Path(path), _csv_text(header, rows).encode(), overwrite)
