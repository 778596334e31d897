"""widgets/fio/plots.py without fio: units, series from a recorded stream, the bounded history,
the redraw throttle, the one-line summary."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from virttui.core.fio.intervals import Interval, IntervalTracker
from virttui.core.fio.stream import parse_stream
from virttui.widgets.fio.plots import (
    GROUP,
    HISTORY,
    FioPlots,
    LatencyPlot,
    RatePlot,
    bw_scale,
    fmt_bw,
    fmt_iops,
    fmt_latency,
    iops_scale,
    latency_series,
    latency_ticks,
    rate_series,
    summary_text,
    thin,
)

DATA = Path(__file__).resolve().parents[2] / "core" / "fio" / "data"


def recorded(name: str = "randrw-2s.json") -> list[Interval]:
    docs, stream = parse_stream((DATA / name).read_bytes())
    assert stream.problems == []
    tracker = IntervalTracker(keep_bins=False)
    return [tracker.update(doc) for doc in docs]


def test_units() -> None:
    assert iops_scale(999) == (1.0, "IOPS") and iops_scale(12_000) == (1e3, "K IOPS")
    assert iops_scale(2e6) == (1e6, "M IOPS")
    assert bw_scale(100) == (1.0, "B/s") and bw_scale(48 << 20) == (float(1 << 20), "MiB/s")
    assert fmt_iops(850) == "850" and fmt_iops(12_345) == "12.3k" and fmt_iops(1.2e6) == "1.20M"
    assert fmt_bw(48 << 20) == "48.0 MiB/s" and fmt_bw(3 << 30) == "3.00 GiB/s"
    assert fmt_latency(850) == "850 ns" and fmt_latency(1_200_000) == "1.20 ms"
    assert fmt_latency(12_300) == "12.3 µs"
    values, labels = latency_ticks(20.0, 3000.0)  # 20 µs .. 3 ms
    assert values == [10.0, 100.0, 1000.0, 10000.0]
    assert labels == ["10µs", "100µs", "1ms", "10ms"]


def test_series_from_a_recorded_stream() -> None:
    intervals = recorded()
    rates = rate_series(intervals, GROUP, "iops")
    assert set(rates) == {"read", "write"}
    assert rates["read"][1] == [i.group.directions["read"].iops for i in intervals]
    assert rates["read"][0] == [i.time_s for i in intervals]
    bw = rate_series(intervals, 0, "bw")
    assert bw["write"][1] == [i.jobs[0].directions["write"].bw_bytes for i in intervals]
    lat = latency_series(intervals, GROUP, "read")
    assert set(lat) == {"p50", "p95", "p99", "p99.9"}
    p99 = [i.group.directions["read"].percentiles[99.0] / 1000 for i in intervals]
    assert lat["p99"][1] == p99
    assert all(a <= b for a, b in zip(lat["p50"][1], lat["p99.9"][1], strict=True))
    assert rate_series(intervals, 5, "iops") == {}  # no such job


def test_summary_line() -> None:
    last = recorded()[-1]
    text = summary_text(last)
    read, write = text.split(" · ")
    assert read.startswith("read ") and " IOPS " in read and " MiB/s" in read and "p99 " in read
    assert write.startswith("write ")
    assert summary_text(None).startswith("waiting")


class PlotsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FioPlots()


async def test_history_is_bounded_and_redraws_are_throttled() -> None:
    base = recorded()
    app = PlotsApp()
    async with app.run_test(size=(80, 20)) as pilot:
        plots = app.query_one(FioPlots)
        await pilot.pause()
        draws = plots.draws
        for n in range(HISTORY + 100):
            plots.add(base[n % len(base)])
        # 700 intervals at once: one redraw now, at most one more from the throttle's timer
        assert plots.draws - draws <= 1
        assert len(plots.history) == HISTORY and plots.received == HISTORY + 100
        await pilot.pause(1.2)
        assert plots.draws - draws <= 2
        assert len(app.query_one("#fio-iops", RatePlot).series["read"][1]) == HISTORY
        assert app.query_one("#fio-lat-read", LatencyPlot).series


async def test_selector_cycles_only_with_several_jobs() -> None:
    app = PlotsApp()
    async with app.run_test(size=(80, 20)) as pilot:
        plots = app.query_one(FioPlots)
        plots.feed(recorded())
        await pilot.pause()
        plots.select_next()
        assert plots.selection == GROUP  # one job: nothing to select
        docs, _ = parse_stream((DATA / "randread-2jobs-final.json").read_bytes())
        two = IntervalTracker().update(docs[-1])
        plots.feed([two])
        assert len(plots.job_names) == 2
        plots.select_next()
        assert plots.selection == 0
        plots.select_next()
        assert plots.selection == 1
        plots.select_next()
        assert plots.selection == GROUP


def test_thin_keeps_the_shape_with_fewer_points() -> None:
    xs = [float(i) for i in range(600)]
    ys = [1.0] * 600
    ys[301] = 50.0  # one spike
    tx, ty = thin(xs, ys, 80)
    assert len(tx) <= 80 and tx[-1] == 599.0 and tx == sorted(tx)
    assert max(ty) < 50.0  # a mean smooths it
    px, py = thin(xs, ys, 80, peak=True)
    assert max(py) == 50.0  # the max keeps a latency spike
    assert thin(xs[:10], ys[:10], 80) == (xs[:10], ys[:10])


async def test_no_drawing_while_another_screen_covers_the_plots() -> None:
    from textual.screen import Screen

    base = recorded()
    app = PlotsApp()
    async with app.run_test(size=(80, 20)) as pilot:
        plots = app.query_one(FioPlots)
        await pilot.pause()
        await app.push_screen(Screen())
        draws = plots.draws
        plots.add(base[0])
        await pilot.pause(1.2)
        assert plots.draws == draws and plots.dirty and plots.received == 1
        app.pop_screen()
        await pilot.pause()
        plots.redraw()  # what FioLiveScreen.on_screen_resume does
        assert not plots.dirty and plots.draws == draws + 1
