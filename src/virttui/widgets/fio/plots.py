"""Live plots of a fio run (textual-plotext), fed one `core.fio.intervals.Interval` per second.

- `RatePlot`: read/write (and trim) IOPS or bandwidth per interval, units picked from the peak
  (IOPS, K IOPS, M IOPS; KiB/s, MiB/s, GiB/s).
- `LatencyPlot`: clat p50/p95/p99/p99.9 of one direction per interval on a log scale, ticks
  labelled in ns/µs/ms/s.
- `FioPlots`: the four plots, the one-line plain-text summary of the latest interval (for a
  screen reader or a 16-colour terminal), the job selector (the group sum or one job) and a
  bounded history (`HISTORY` intervals: a long run never grows memory). Redraws at most once per
  `MIN_REDRAW_S` however fast intervals come (a remote stream may deliver several at once),
  not at all while another screen covers it (the owner calls `redraw` when it shows again), and
  draws at most ~2 points per column (`thin`: plotext's cost grows with the points).

Each plot draws with its own `self.plt` (never the global plotext module). Job names come from
job files (untrusted): they are shown only through `plain()`, never in a plotext title.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static
from textual_plotext import PlotextPlot

from virttui.core.fio.intervals import DirInterval, Interval, JobInterval
from virttui.widgets.common.plain import append_plain

HISTORY = 600  # intervals kept for the plots (10 minutes at fio's 1 s status interval)
MIN_REDRAW_S = 0.9  # never redraw the plots more often than this ("about once a second")
GROUP = -1  # the selection "all jobs" (Interval.group); otherwise a job's index
PERCENTILES: tuple[tuple[float, str], ...] = (
    (50.0, "p50"),
    (95.0, "p95"),
    (99.0, "p99"),
    (99.9, "p99.9"),
)
LATENCY_COLORS = {"p50": "green", "p95": "cyan", "p99": "orange", "p99.9": "red"}
RATE_DIRECTIONS = ("read", "write", "trim")
RateKind = Literal["iops", "bw"]


# ------------------------------------------------------------------------------------ units
def iops_scale(peak: float) -> tuple[float, str]:
    """Divisor and unit for an IOPS axis whose largest value is `peak`."""
    if peak >= 1e6:
        return 1e6, "M IOPS"
    if peak >= 1e3:
        return 1e3, "K IOPS"
    return 1.0, "IOPS"


def bw_scale(peak: float) -> tuple[float, str]:
    """Divisor and unit (binary) for a bandwidth axis in bytes/s."""
    for size, unit in ((1 << 30, "GiB/s"), (1 << 20, "MiB/s"), (1 << 10, "KiB/s")):
        if peak >= size:
            return float(size), unit
    return 1.0, "B/s"


def _num(value: float) -> str:
    """3 significant digits at most: 1.23, 12.3, 123."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_iops(value: float) -> str:
    """12345 -> '12.3k', 850 -> '850', 1.2e6 -> '1.20M'."""
    if value >= 1e6:
        return f"{_num(value / 1e6)}M"
    if value >= 1e3:
        return f"{_num(value / 1e3)}k"
    return f"{value:.0f}"


def fmt_bw(value: float) -> str:
    """Bytes/s with a binary unit: '48.0 MiB/s'."""
    divisor, unit = bw_scale(value)
    if divisor == 1.0:
        return f"{value:.0f} {unit}"
    return f"{_num(value / divisor)} {unit}"


def fmt_latency(ns: float) -> str:
    """'850 ns', '12.3 µs', '1.20 ms', '2.00 s'."""
    for size, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= size:
            return f"{_num(ns / size)} {unit}"
    return f"{ns:.0f} ns"


def _decade_label(exp_ns: int) -> str:
    """10**exp_ns nanoseconds as '100ns', '1µs', '10ms', '1s', '100s'."""
    for base, unit in ((9, "s"), (6, "ms"), (3, "µs")):
        if exp_ns >= base:
            return f"{10 ** (exp_ns - base)}{unit}"
    return f"{10 ** max(exp_ns, 0)}ns"


def latency_ticks(low_us: float, high_us: float) -> tuple[list[float], list[str]]:
    """Decade ticks (in µs) covering [low_us, high_us], labelled 100ns, 1µs, …, 10ms, 1s."""
    low = max(low_us, 1e-3)
    high = max(high_us, low)
    first = math.floor(math.log10(low))
    last = math.ceil(math.log10(high))
    if first == last:
        last += 1
    values: list[float] = []
    labels: list[str] = []
    for exp in range(first, last + 1):
        value = 10.0**exp
        values.append(value)
        labels.append(_decade_label(exp + 3))  # µs -> ns
    return values, labels


def time_ticks(plt: Any, series: Iterable[tuple[list[float], list[float]]]) -> None:
    """Whole seconds on the x axis (fio's run time), at most 5 ticks."""
    xs = [x for s in series for x in s[0]]
    if not xs:
        return
    low, high = math.floor(min(xs)), math.ceil(max(xs))
    step = max(1, math.ceil((high - low) / 4))
    ticks = list(range(low, high + 1, step))
    plt.xticks(ticks, [f"{t}s" for t in ticks])


# ------------------------------------------------------------------------------------ series
def pick(interval: Interval, selection: int) -> JobInterval | None:
    """The group sum (`GROUP`) or job `selection` of one interval (None: no such job)."""
    if selection == GROUP:
        return interval.group
    if 0 <= selection < len(interval.jobs):
        return interval.jobs[selection]
    return None


def rate_series(
    intervals: Iterable[Interval], selection: int, kind: RateKind
) -> dict[str, tuple[list[float], list[float]]]:
    """direction -> (times, values) of IOPS or bytes/s."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for interval in intervals:
        job = pick(interval, selection)
        if job is None:
            continue
        for name in RATE_DIRECTIONS:
            d = job.directions.get(name)
            if d is None:
                continue
            xs, ys = out.setdefault(name, ([], []))
            xs.append(interval.time_s)
            ys.append(d.iops if kind == "iops" else d.bw_bytes)
    # a direction that never did any IO (rw=randread's write side) is not drawn
    return {name: s for name, s in out.items() if any(s[1])}


def latency_series(
    intervals: Iterable[Interval], selection: int, direction: str
) -> dict[str, tuple[list[float], list[float]]]:
    """label (p50…) -> (times, clat in µs); intervals without completed IO are left out."""
    out: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for _p, label in PERCENTILES}
    for interval in intervals:
        job = pick(interval, selection)
        d = job.directions.get(direction) if job is not None else None
        if d is None or not d.percentiles:
            continue
        for p, label in PERCENTILES:
            ns = d.percentiles.get(p)
            if ns is not None and ns > 0:
                xs, ys = out[label]
                xs.append(interval.time_s)
                ys.append(ns / 1000.0)
    return {label: s for label, s in out.items() if s[0]}


def direction_summary(name: str, d: DirInterval) -> str:
    parts = [name, f"{fmt_iops(d.iops)} IOPS", fmt_bw(d.bw_bytes)]
    p99 = d.percentiles.get(99.0)
    if p99 is not None:
        parts.append(f"p99 {fmt_latency(p99)}")
    return " ".join(parts)


def summary_text(interval: Interval | None, selection: int = GROUP) -> str:
    """'read 12.3k IOPS 48.0 MiB/s p99 1.20 ms · write …' for the latest interval."""
    if interval is None:
        return "waiting for fio's first status (once a second)"
    job = pick(interval, selection)
    if job is None:
        return "no such job in this interval"
    parts = [
        direction_summary(name, d)
        for name in RATE_DIRECTIONS
        if (d := job.directions.get(name)) is not None and d.ios > 0
    ]
    return " · ".join(parts) if parts else "no IO completed in this interval"


def thin(
    xs: Sequence[float], ys: Sequence[float], limit: int, *, peak: bool = False
) -> tuple[list[float], list[float]]:
    """At most about `limit` points to draw: consecutive points merged into one (the mean, or
    the max with `peak`: a latency spike stays visible), at the bucket's last time. A braille
    plot shows 2 points per column; drawing 600 costs plotext ~10x more than 80 for the same
    picture."""
    n = len(xs)
    if n <= limit or limit < 1:
        return list(xs), list(ys)
    size = math.ceil(n / limit)
    out_x: list[float] = []
    out_y: list[float] = []
    for start in range(0, n, size):
        bucket = ys[start : start + size]
        out_x.append(xs[min(start + size, n) - 1])
        out_y.append(max(bucket) if peak else sum(bucket) / len(bucket))
    return out_x, out_y


def _limit(width: int) -> int:
    """Points worth drawing in a plot `width` cells wide (2 braille dots per cell)."""
    return max(20, 2 * width) if width > 0 else 160


# ------------------------------------------------------------------------------------ widgets
class RatePlot(PlotextPlot):
    """IOPS or bandwidth of the selected job (or group), read/write lines."""

    def __init__(self, kind: RateKind, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="fio-plot fio-rate-plot")
        self.kind: RateKind = kind
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.unit = ""

    def show(self, intervals: Sequence[Interval], selection: int) -> None:
        self.series = rate_series(intervals, selection, self.kind)
        peak = max((max(ys) for _xs, ys in self.series.values()), default=0.0)
        divisor, unit = iops_scale(peak) if self.kind == "iops" else bw_scale(peak)
        self.unit = unit
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        what = "IOPS" if self.kind == "iops" else "Bandwidth"
        plt.title(f"{what} ({unit})" if self.series else f"{what}: no data yet")
        limit = _limit(self.size.width)
        for name, (xs, ys) in self.series.items():
            txs, tys = thin(xs, ys, limit)
            plt.plot(txs, [y / divisor for y in tys], label=name, marker="braille")
        plt.ylim(0, max(1.0, peak / divisor * 1.15))
        time_ticks(plt, self.series.values())
        self.refresh()


class LatencyPlot(PlotextPlot):
    """clat percentiles of one direction on a log scale."""

    def __init__(self, direction: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="fio-plot fio-latency-plot")
        self.direction = direction
        self.series: dict[str, tuple[list[float], list[float]]] = {}

    def show(self, intervals: Sequence[Interval], selection: int) -> None:
        self.series = latency_series(intervals, selection, self.direction)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not self.series:
            plt.title(f"{self.direction} clat: no data yet")
            self.refresh()
            return
        # no legend (it would take 4 of the ~9 rows at 80x24): the lines never cross, the title
        # names them bottom to top, and each percentile keeps its colour
        shown = [label for _p, label in PERCENTILES if label in self.series]
        plt.title(f"{self.direction} clat {'<'.join(shown)} (log)")
        low = min(min(ys) for _xs, ys in self.series.values())
        high = max(max(ys) for _xs, ys in self.series.values())
        limit = _limit(self.size.width)
        for label, (xs, ys) in self.series.items():
            txs, tys = thin(xs, ys, limit, peak=True)
            plt.plot(txs, tys, marker="braille", color=LATENCY_COLORS[label])
        plt.yscale("log")
        values, labels = latency_ticks(low, high)
        plt.yticks(values, labels)
        plt.ylim(math.log10(values[0]), math.log10(values[-1]))  # plotext: log10 units here
        time_ticks(plt, self.series.values())
        self.refresh()


class FioPlots(Vertical):
    """The live view of a run: selector line, summary line, rate and latency plots."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.history: deque[Interval] = deque(maxlen=HISTORY)
        self.selection = GROUP
        self.job_names: tuple[str, ...] = ()
        self.received = 0  # intervals added in all (the history keeps the last HISTORY)
        self.draws = 0  # redraws done (tests: the throttle)
        self._last_draw = -math.inf
        self._timer: Timer | None = None
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Static(id="fio-selector")
        yield Static(id="fio-summary")
        with Horizontal(id="fio-rate-row"):
            yield RatePlot("iops", id="fio-iops")
            yield RatePlot("bw", id="fio-bw")
        with Horizontal(id="fio-latency-row"):
            yield LatencyPlot("read", id="fio-lat-read")
            yield LatencyPlot("write", id="fio-lat-write")

    def on_mount(self) -> None:
        self.call_after_refresh(self.redraw)  # "no data yet" until the first interval

    # ------------------------------------------------------------------ data in
    def add(self, interval: Interval) -> None:
        """A new interval: kept, drawn now or at the next allowed redraw."""
        self.history.append(interval)
        self.received += 1
        if len(interval.jobs) != len(self.job_names) or any(
            j.name != n for j, n in zip(interval.jobs, self.job_names, strict=False)
        ):
            self.job_names = tuple(j.name for j in interval.jobs)
            if self.selection >= len(self.job_names):
                self.selection = GROUP
        self._schedule()

    def feed(self, intervals: Iterable[Interval]) -> None:
        """Many intervals at once (a recorded stream), then one redraw."""
        for interval in intervals:
            self.add(interval)
        self.redraw()

    @property
    def latest(self) -> Interval | None:
        return self.history[-1] if self.history else None

    # ------------------------------------------------------------------ selection
    def select_next(self) -> None:
        """all jobs → job 0 → job 1 → … → all jobs (only when there are several jobs)."""
        if len(self.job_names) < 2:
            self.selection = GROUP
        elif self.selection + 1 >= len(self.job_names):
            self.selection = GROUP
        else:
            self.selection += 1
        self.redraw()

    def selection_label(self) -> Text:
        text = Text("Plotted: ", style="bold")
        if self.selection == GROUP:
            text.append("all jobs" if len(self.job_names) != 1 else "the job")
        else:
            text.append(f"job {self.selection + 1}/{len(self.job_names)} ")
            append_plain(text, self.job_names[self.selection])
        if len(self.job_names) > 1:
            text.append(f"  (j: next of {len(self.job_names)} jobs + all)", style="dim")
        return text

    # ------------------------------------------------------------------ drawing
    @property
    def dirty(self) -> bool:
        """Intervals arrived that are not drawn yet (the screen was covered)."""
        return self._dirty

    def _visible(self) -> bool:
        """On screen: its screen on top, or under a dialog (a modal lets it show through)."""
        if not self.is_mounted:
            return False
        return self.screen.is_active or (
            self.screen.is_current and isinstance(self.app.screen, ModalScreen)
        )

    def _schedule(self) -> None:
        if not self._visible():
            self._dirty = True  # drawn when the screen shows again (`redraw`)
            return
        wait = self._last_draw + MIN_REDRAW_S - time.monotonic()
        if wait <= 0:
            self.redraw()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._timed_redraw)

    def _timed_redraw(self) -> None:
        self._timer = None
        if self._visible():
            self.redraw()
        else:
            self._dirty = True

    def redraw(self) -> None:
        """Draw everything from the history now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.is_mounted:
            self._dirty = True
            return
        self._dirty = False
        self._last_draw = time.monotonic()
        self.draws += 1
        points = list(self.history)
        self.query_one("#fio-selector", Static).update(self.selection_label())
        summary = Text("Latest: ", style="bold")
        append_plain(summary, summary_text(self.latest, self.selection))
        self.query_one("#fio-summary", Static).update(summary)
        for rate in self.query(RatePlot):
            rate.show(points, self.selection)
        lat_read = self.query_one("#fio-lat-read", LatencyPlot)
        lat_write = self.query_one("#fio-lat-write", LatencyPlot)
        lat_read.show(points, self.selection)
        lat_write.show(points, self.selection)
        # one direction only (randread, randwrite): its plot takes the whole row
        lat_write.display = bool(lat_write.series)
        lat_read.display = bool(lat_read.series) or not lat_write.series
