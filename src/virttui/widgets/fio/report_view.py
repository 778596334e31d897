"""The fio report, drawn from the report model (`core/fio/report.py`) the way fio prints it.

Each section is a function from the model to a Rich `Text`, so tests read back exactly what is
shown: `summary_text`, `latency_text`, `distribution_text`, `cpu_depth_text`, `disks_text`,
`notes_text`, `jobfile_view`. fio's own text lines (`core/fio/fiotext.py`: IOPS=18.6k,
`clat (usec): ...`, the percentile table in the unit fio picks) sit next to the exact figures of
the JSON, written by `exact()` (the shortest decimal that reads back as the same number: never
rounded). Job names, options, disk names, error texts and the job file go through
`widgets/common/plain.py` (literal, control characters visible).

`FioReportView` holds the sections as tabs (Summary / Latency / Distribution / CPU & depth /
Disks / Job file) and shows one job (or the group) at a time: `show(job)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from virttui.core.fio import fiotext
from virttui.core.fio.report import DirReport, DiskUtil, JobReport, Note, Report, SampleStats
from virttui.widgets.common.glyphs import pick_glyphs
from virttui.widgets.common.plain import append_plain, plain

Number = int | float

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("latency", "Latency"),
    ("distribution", "Distribution"),
    ("cpu", "CPU & depth"),
    ("disks", "Disks"),
    ("jobfile", "Job file"),
)
HEADING = "bold"
DIM = "dim"
WARN = "bold"
BAR_WIDTH = 30


def exact(value: Number | None) -> str:
    """The number as the JSON holds it: ints as they are, floats as the shortest decimal that
    reads back to the same float (no exponent, never rounded); None is "-"."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


# ---------------------------------------------------------------------- job choice
def grouped_jobs(report: Report, job: JobReport) -> int:
    """How many jobs fio summed into this entry: `numjobs` when the document has one entry of
    that name (fio's group_reporting gives one entry per group), else 1."""
    numjobs = job.options.get("numjobs", "")
    if job.computed or not numjobs.isdigit() or int(numjobs) < 2:
        return 1
    same_name = sum(1 for j in report.jobs if j.name == job.name)
    return int(numjobs) if same_name == 1 else 1


def job_label(report: Report, job: JobReport) -> str:
    if job.computed:
        return f"all jobs (computed from {len(report.jobs)})"
    name = job.name or "job"
    members = grouped_jobs(report, job)
    if members > 1:
        name = f"{name} (fio's group of {members} jobs)"
    if len(report.jobs) == 1:
        return name
    return f"#{job.index + 1} {name}"


def report_jobs(report: Report) -> list[JobReport]:
    """What the job selector offers: the computed group first (when there are several job
    entries), then each job entry of the document."""
    return ([report.group] if report.group is not None else []) + list(report.jobs)


# ---------------------------------------------------------------------- notes
def notes_text(notes: Sequence[Note], *, problem: str | None = None) -> Text:
    """One line per note: `! warning: ...` or `i note: ...` (told apart without colour)."""
    out = Text()
    lines: list[tuple[str, str]] = []
    if problem:
        lines.append(("warning", problem))
    lines += [(n.level, n.text) for n in notes]
    for i, (level, text) in enumerate(lines):
        if i:
            out.append("\n")
        if level == "warning":
            out.append("! warning: ", WARN)
        else:
            out.append("i note: ", DIM)
        append_plain(out, text)
    return out


# ---------------------------------------------------------------------- summary
def _header(out: Text, report: Report, job: JobReport) -> None:
    if job.computed:
        out.append(job_label(report, job), HEADING)
        out.append(
            "\n  computed here (fio has no group entry without group_reporting): io and\n"
            "  IOPS summed, runtime the longest, latency pooled, percentiles from the\n"
            "  summed bins\n",
            DIM,
        )
    else:
        append_plain(out, job.name or "job", HEADING)
        members = grouped_jobs(report, job)
        out.append(f": (groupid={exact(job.groupid)}, jobs={members}): err={job.error:2d}", HEADING)
        if job.job_runtime_ms is not None:
            out.append(f", job_runtime={job.job_runtime_ms} msec")
        out.append("\n")
        if job.options:
            out.append("  options: ", DIM)
            for i, (key, value) in enumerate(job.options.items()):
                if i:
                    out.append(" ")
                append_plain(out, f"{key}={value}", DIM)
            out.append("\n")
    if job.error:
        out.append("  ! error: ", WARN)
        append_plain(out, job.error_text)
        out.append("\n")


def _sample_line(out: Text, label: str, stats: SampleStats | None, *, per: Number | None) -> None:
    if stats is None or not stats.samples:
        return
    out.append(
        f"   {label}: min={exact(stats.min)}, max={exact(stats.max)}, "
        f"avg={exact(stats.mean)}, stdev={exact(stats.stddev)}, samples={exact(stats.samples)}"
    )
    out.append("\n")
    if per is not None:
        out.append(f"{'':{len(label) + 5}}per={exact(per)}% of the group's bandwidth\n", DIM)


def _direction_summary(out: Text, d: DirReport) -> None:
    out.append(fiotext.status_line(d) + "\n", HEADING)
    kib = int(d.bw_bytes) // 1024
    out.append(f"        IOPS={exact(d.iops)}, bw={kib} KiB/s ({exact(d.bw_bytes)} B/s)\n")
    out.append(
        f"        io={exact(d.io_bytes)} B, runtime={exact(d.runtime_ms)} msec, "
        f"ios={exact(d.total_ios)}, short={exact(d.short_ios)}, dropped={exact(d.drop_ios)}\n"
    )
    for name, stats in (("slat", d.slat), ("clat", d.clat), (" lat", d.lat)):
        line = fiotext.lat_line(name, stats)
        if line is not None:
            out.append(line + "\n")
    _sample_line(out, "bw (KiB/s)", d.bw, per=d.bw_agg)
    _sample_line(out, "iops      ", d.iops_stats, per=None)


def summary_text(report: Report, job: JobReport) -> Text:
    """fio's block for one job: header, then per direction IOPS / BW / io / runtime (fio's
    line and the exact figures), slat / clat / lat, bw and IOPS sample statistics."""
    out = Text()
    _header(out, report, job)
    active = job.active
    if not active:
        out.append("  no IO completed\n", WARN)
    for d in active:
        _direction_summary(out, d)
    if job.computed:
        out.append("   bw / IOPS samples, cpu and IO depths: per job only (not summed)\n", DIM)
    out.rstrip()
    return out


# ---------------------------------------------------------------------- latency
def latency_text(job: JobReport) -> Text:
    """Per direction: slat / clat / lat exactly in ns, fio's clat percentile table (its unit,
    its rounding) and the same table exactly in ns."""
    out = Text()
    active = job.active
    if not active:
        out.append("no IO completed", WARN)
        return out
    for i, d in enumerate(active):
        if i:
            out.append("\n")
        out.append(f"{d.name}\n", HEADING)
        out.append("  latency (nsec, exact):\n", DIM)
        for name, stats in (("slat", d.slat), ("clat", d.clat), (" lat", d.lat)):
            if stats is None:
                continue
            out.append(
                f"    {name}: min={exact(stats.min)} max={exact(stats.max)} "
                f"avg={exact(stats.mean)} stdev={exact(stats.stddev)} "
                f"N={exact(stats.samples)}\n"
            )
        if not d.percentiles:
            out.append("    no clat percentiles in this document\n", DIM)
            continue
        precision = fiotext.percentile_precision(d.percentiles, job.options)
        unit, _steps = fiotext.percentile_unit(d.percentiles)
        for line in fiotext.percentile_lines(d.percentiles, precision=precision):
            out.append(line + "\n")
        if unit != "nsec":
            lines = fiotext.percentile_lines(d.percentiles, precision=precision, unit="nsec")
            out.append(lines[0].replace("(nsec)", "(nsec, exact)") + "\n", DIM)
            for line in lines[1:]:
                out.append(line + "\n")
        else:
            out.append("    (fio's table is in nsec: the values are exact)\n", DIM)
    out.rstrip()
    return out


# ---------------------------------------------------------------------- distribution
_UNITS = {"ns": "nsec", "us": "usec", "ms": "msec"}


def distribution_text(job: JobReport) -> Text:
    """The latency buckets with IOs (fio's `lat (usec): 250=24.66%`), exact, one per line with
    a bar; fio's own rounded lines follow."""
    out = Text()
    if job.computed:
        out.append("per job only: pick a job to see its latency distribution", DIM)
        return out
    rows = [
        (_UNITS[unit], bucket, value)
        for unit in ("ns", "us", "ms")
        for bucket, value in job.latency.get(unit, ())
        if value > 0
    ]
    if not rows:
        out.append("no latency buckets in this document", DIM)
        return out
    block = pick_glyphs().spark[-1]
    out.append("latency distribution (% of IOs, bucket = up to that latency):\n", DIM)
    for unit, bucket, value in rows:
        bar = block * max(1, round(float(value) / 100 * BAR_WIDTH))
        out.append(f"  lat ({unit}) {bucket + '=':>7}{exact(value):>11}%  ")
        out.append(bar + "\n")
    out.append("\nfio's lines:\n", DIM)
    for line in fiotext.latency_lines(job.latency):
        out.append(line + "\n")
    out.rstrip()
    return out


# ---------------------------------------------------------------------- cpu & depth
def _dist(values: Sequence[tuple[str, Number]]) -> str:
    return ", ".join(f"{key}={exact(value)}%" for key, value in values) or "-"


def cpu_depth_text(job: JobReport) -> Text:
    """fio's cpu line, IO depths, submit, complete and issued rwts, exact."""
    out = Text()
    if job.computed:
        out.append("per job only: pick a job to see its cpu and IO depths", DIM)
        return out
    cpu = job.cpu
    if cpu is not None:
        out.append(
            f"  cpu          : usr={exact(cpu.usr)}%, sys={exact(cpu.sys)}%, "
            f"ctx={exact(cpu.ctx)}, majf={exact(cpu.majf)}, minf={exact(cpu.minf)}\n"
        )
    out.append(f"  IO depths    : {_dist(job.iodepth_level)}\n")
    out.append(f"     submit    : {_dist(job.iodepth_submit)}\n")
    out.append(f"     complete  : {_dist(job.iodepth_complete)}\n")
    dirs = [job.directions.get(name) for name in ("read", "write", "trim")]
    total = ",".join(exact(d.total_ios) if d else "0" for d in dirs)
    short = ",".join(exact(d.short_ios or 0) if d else "0" for d in dirs)
    dropped = ",".join(exact(d.drop_ios or 0) if d else "0" for d in dirs)
    out.append(f"     issued rwts: total={total},0 short={short},0 dropped={dropped},0")
    return out


# ---------------------------------------------------------------------- disks
def disks_text(disks: Sequence[DiskUtil]) -> Text:
    """fio's `Disk stats (read/write)`, exact."""
    out = Text()
    if not disks:
        out.append("no disk stats in this document (files on tmpfs, or not Linux)", DIM)
        return out
    out.append("Disk stats (read/write):\n", HEADING)
    for i, disk in enumerate(disks):
        if i:
            out.append("\n")
        out.append("  ")
        append_plain(out, disk.name, HEADING)
        out.append(
            f": ios={exact(disk.read_ios)}/{exact(disk.write_ios)}, "
            f"merge={exact(disk.read_merges)}/{exact(disk.write_merges)}, "
            f"ticks={exact(disk.read_ticks)}/{exact(disk.write_ticks)}, "
            f"in_queue={exact(disk.in_queue)}, util={exact(disk.util)}%"
        )
    return out


def jobfile_view(text: str) -> Text:
    return plain(text, multiline=True)


# ---------------------------------------------------------------------- the widget
class FioReportView(Vertical):
    """The sections of one job as tabs; `show(job)` redraws them."""

    def __init__(
        self, report: Report, *, jobfile_text: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.report = report
        self.jobfile_text = jobfile_text
        self.job: JobReport | None = None

    def sections(self) -> list[tuple[str, str]]:
        return [(key, title) for key, title in SECTIONS if key != "jobfile" or self.jobfile_text]

    def compose(self) -> ComposeResult:
        with TabbedContent(id="fio-report-tabs"):
            for key, title in self.sections():
                with (
                    TabPane(title, id=f"fio-report-tab-{key}"),
                    VerticalScroll(id=f"fio-report-scroll-{key}", classes="fio-report-scroll"),
                ):
                    yield Static(id=f"fio-report-{key}", classes="fio-report-section")

    def on_mount(self) -> None:
        self.query_one("#fio-report-disks", Static).update(disks_text(self.report.disks))
        if self.jobfile_text:
            self.query_one("#fio-report-jobfile", Static).update(jobfile_view(self.jobfile_text))
        if self.job is not None:
            self.show(self.job)

    def show(self, job: JobReport) -> None:
        self.job = job
        if not self.is_mounted:
            return
        for key, text in (
            ("summary", summary_text(self.report, job)),
            ("latency", latency_text(job)),
            ("distribution", distribution_text(job)),
            ("cpu", cpu_depth_text(job)),
        ):
            self.query_one(f"#fio-report-{key}", Static).update(text)

    def section_text(self, key: str) -> Text:
        """What a section shows now (tests read the numbers back from it)."""
        content = self.query_one(f"#fio-report-{key}", Static).content
        return content if isinstance(content, Text) else Text(str(content))

    @property
    def active_section(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("fio-report-tab-")

    def show_section(self, key: str) -> None:
        if key in dict(self.sections()):
            self.query_one(TabbedContent).active = f"fio-report-tab-{key}"
            self.query_one(f"#fio-report-scroll-{key}", VerticalScroll).focus()
