"""Plots of one domain's history series (textual-plotext), one widget per graph.

Each widget draws with its own `self.plt` (never the global plotext module): clear, plot, refresh.
The data comes from `core.history.DomainHistory`, filled by the bulk poller; drawing costs no RPC.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual_plotext import PlotextPlot

from virttui.core.domain.history import DomainHistory


@dataclass(frozen=True, slots=True)
class GraphSpec:
    id: str
    title: str
    kind: str  # "pct", "kib", "bps", "iops"
    lines: tuple[tuple[str, str], ...]  # (series name, legend label)


GRAPHS: tuple[GraphSpec, ...] = (
    GraphSpec("graph-cpu", "CPU % of its vCPUs", "pct", (("cpu", "cpu"),)),
    GraphSpec("graph-mem", "Memory", "kib", (("mem_kib", "memory"),)),
    GraphSpec("graph-disk", "Disk", "bps", (("rd_bps", "read"), ("wr_bps", "write"))),
    GraphSpec("graph-iops", "Disk IOPS", "iops", (("rd_iops", "read"), ("wr_iops", "write"))),
    GraphSpec("graph-net", "Network", "bps", (("rx_bps", "rx"), ("tx_bps", "tx"))),
)

_SCALES = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"), (1, "B"))


def scale_for(kind: str, peak: float) -> tuple[float, str]:
    """Divisor and unit label that keep the y axis readable."""
    if kind == "pct":
        return 1.0, "%"
    if kind == "iops":
        return 1.0, "IO/s"
    peak_bytes = peak * 1024 if kind == "kib" else peak
    multiplier = 1024.0 if kind == "kib" else 1.0
    for size, unit in _SCALES:
        if peak_bytes >= size:
            return size / multiplier, unit + ("/s" if kind == "bps" else "")
    return 1.0 / multiplier, "B" + ("/s" if kind == "bps" else "")


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


class HistoryPlot(PlotextPlot):
    """One graph of the details screen."""

    def __init__(self, spec: GraphSpec) -> None:
        super().__init__(id=spec.id, classes="history-plot")
        self.spec = spec
        self.points = 0  # samples drawn last time (tests and the empty-state title)

    def show(self, history: DomainHistory | None, now: float, seconds: float) -> None:
        spec = self.spec
        series = [
            (label, *history.window(name, seconds, now)) if history is not None else (label, [], [])
            for name, label in spec.lines
        ]
        peak = max((max(ys) for _l, _x, ys in series if ys), default=0.0)
        divisor, unit = scale_for(spec.kind, peak)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.points = max((len(ys) for _l, _x, ys in series), default=0)
        latest = [f"{label} {_fmt(ys[-1] / divisor)}" for label, _x, ys in series if ys]
        title = f"{spec.title} ({unit})"
        plt.title(f"{title}: {', '.join(latest)}" if latest else f"{title}: no data yet")
        for label, xs, ys in series:
            if xs:
                plt.plot(
                    xs,
                    [y / divisor for y in ys],
                    label=label if len(series) > 1 else None,
                    marker="braille",
                )
        plt.xlim(-seconds, 0)
        top = peak / divisor
        plt.ylim(0, 100.0 if spec.kind == "pct" and top <= 100 else max(1.0, top * 1.15))
        plt.xlabel("seconds ago")
        self.refresh()
