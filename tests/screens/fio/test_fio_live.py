"""FioLiveScreen with Pilot at 80x24 on REAL fio runs (psync, 8 MiB temp files, a few seconds):
live interval updates in the plots and the summary line, the end handed on as a FinishedRun,
the job selector, Stop keeping a partial result, Cancel discarding it, fio's own error text;
and one SVG snapshot fed with a recorded stream (the job not started: deterministic)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Static

from tests.core.fio.conftest import needs_fio
from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.intervals import IntervalTracker
from virttui.core.fio.job import JobFile, parse_jobfile
from virttui.core.fio.stream import parse_stream
from virttui.resources import stylesheets
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.fio.live import FioLiveScreen, jobfile_argv, run_title
from virttui.widgets.fio.plots import GROUP, FioPlots, LatencyPlot, RatePlot

DATA = Path(__file__).resolve().parents[2] / "core" / "fio" / "data"
SIZE = (80, 24)


class LiveApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, make: Callable[[], FioLiveScreen]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


def job_text(tmp_path: Path, seconds: int, *sections: str, extra: str = "") -> JobFile:
    body = "\n".join(sections) if sections else "[live]\nrw=randread\n"
    return parse_jobfile(
        f"[global]\nfilename={tmp_path / 'data.bin'}\nsize=8m\nbs=4k\nioengine=psync\n"
        f"time_based\nruntime={seconds}\n{extra}\n{body}"
    )


def live(app: LiveApp) -> FioLiveScreen:
    screen = app.screen
    assert isinstance(screen, FioLiveScreen), screen
    return screen


def fio_processes(output: Path) -> list[int]:
    """pids whose argv holds our unique --output path (fio and its job processes)."""
    marker = f"--output={output}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


@needs_fio
async def test_randread_runs_live_and_hands_on_a_finished_run(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("virttui.screens.fio.live.OUTPUT_GRACE_S", 0.5)
    jobfile = job_text(tmp_path, 4)
    (tmp_path / "data.bin").write_bytes(os.urandom(8 << 20))  # --readonly: fio may not lay out
    finished: list[FinishedRun] = []
    seen_output: list[bool] = []

    def on_finished(run: FinishedRun) -> None:
        seen_output.append(run.output_path.is_file())  # kept until on_finished returned
        finished.append(run)

    app = LiveApp(lambda: FioLiveScreen(None, jobfile, ("--readonly",), on_finished=on_finished))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.jobfile_path is not None, 10)
        assert screen.jobfile_path is not None and screen.workdir is not None
        mode = stat.S_IMODE(screen.jobfile_path.stat().st_mode)
        assert mode == 0o600 and stat.S_IMODE(screen.workdir.stat().st_mode) == 0o700
        assert screen.jobfile_path.read_text() == jobfile.text()
        text = screen_text(app)
        assert "fio live · this machine · " + str(tmp_path)[:30] in text
        # two interval updates reach the plots' data while fio runs
        iops = screen.query_one("#fio-iops", RatePlot)
        await wait_until(pilot, lambda: len(iops.series.get("read", ([], []))[1]) >= 2, 60)
        assert screen.running
        lat = screen.query_one("#fio-lat-read", LatencyPlot)
        assert len(lat.series["p99"][0]) >= 2 and all(v > 0 for v in lat.series["p99"][1])
        assert "write" not in iops.series  # randread: no write line
        summary = str(screen.query_one("#fio-summary", Static).render())
        assert "read " in summary and " IOPS " in summary and "p99 " in summary
        assert "ETA " in screen_text(app)  # runtime known: a fraction, an ETA
        await wait_until(pilot, lambda: bool(finished), 60)
        run = finished[0]
        assert seen_output == [True]
        assert run.uri is None and run.jobfile == jobfile and run.fio_args == ("--readonly",)
        assert not run.stopped and run.failure is None and run.ended >= run.started
        assert [j["jobname"] for j in run.final["jobs"]] == ["live"]
        assert len(run.intervals) >= 2
        docs, stream = parse_stream(run.output_path.read_bytes())
        assert stream.problems == [] and docs[-1] == run.final
        assert screen.jobfile_path is not None and not screen.jobfile_path.exists()
        await pilot.pause()
        assert "done in" in screen_text(app)
        workdir = screen.workdir
        assert workdir is not None
        await pilot.press("escape")  # after the end: escape closes, no question
        await wait_until(pilot, lambda: not isinstance(app.screen, FioLiveScreen), 10)
        # handed on: the output stays a little while (a save may be copying it), then goes
        assert run.output_path.is_file()
        await wait_until(pilot, lambda: not workdir.exists(), 10)


@needs_fio
async def test_without_on_finished_the_final_summary_shows(tmp_path: Path) -> None:
    app = LiveApp(lambda: FioLiveScreen(None, job_text(tmp_path, 2)))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state == "done", 60)
        await pilot.pause()
        text = screen_text(app)
        assert "Final: read " in text and " IOPS " in text
        assert screen.finished is not None and screen.finished.final["jobs"]


@needs_fio
async def test_two_jobs_the_selector_switches_the_plotted_series(tmp_path: Path) -> None:
    jobfile = job_text(
        tmp_path,
        3,
        "[mostly-read]\nrw=randrw\nrwmixread=90\n",
        "[mostly-write]\nrw=randrw\nrwmixread=10\n",
    )
    finished: list[FinishedRun] = []
    app = LiveApp(lambda: FioLiveScreen(None, jobfile, on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        plots = screen.query_one(FioPlots)
        iops = screen.query_one("#fio-iops", RatePlot)
        await wait_until(pilot, lambda: plots.received >= 2, 60)
        assert plots.job_names == ("mostly-read", "mostly-write")
        assert plots.selection == GROUP and "all jobs" in screen_text(app)

        def expected(selection: int, direction: str) -> list[float]:
            out = []
            for interval in plots.history:
                job = interval.group if selection == GROUP else interval.jobs[selection]
                out.append(job.directions[direction].iops)
            return out

        await pilot.press("j")  # while running
        assert plots.selection == 0
        assert iops.series["read"][1] == expected(0, "read")
        assert "mostly-read" in screen_text(app)
        await wait_until(pilot, lambda: bool(finished), 60)
        await pilot.pause()
        group_reads = expected(GROUP, "read")
        first_reads = expected(0, "read")
        second_reads = expected(1, "read")
        assert group_reads != first_reads != second_reads
        assert iops.series["read"][1] == first_reads
        await pilot.press("j")
        assert plots.selection == 1 and iops.series["read"][1] == second_reads
        assert iops.series["write"][1] == expected(1, "write")
        assert "mostly-write" in screen_text(app)
        await pilot.press("j")
        assert plots.selection == GROUP and iops.series["read"][1] == group_reads
        run = finished[0]
        assert [j["jobname"] for j in run.final["jobs"]] == ["mostly-read", "mostly-write"]
        assert all(len(i.jobs) == 2 for i in run.intervals) and len(run.intervals) >= 2


@needs_fio
async def test_stop_keeps_a_partial_result(tmp_path: Path) -> None:
    finished: list[FinishedRun] = []
    app = LiveApp(lambda: FioLiveScreen(None, job_text(tmp_path, 60), on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        plots = screen.query_one(FioPlots)
        await wait_until(pilot, lambda: plots.received >= 1, 60)  # ~1 s in
        await pilot.pause(0.5)
        await pilot.press("s")
        await wait_until(pilot, lambda: bool(finished), 60)
        run = finished[0]
        assert run.stopped and run.failure is None
        assert run.final["jobs"][0]["jobname"] == "live"
        assert run.final["jobs"][0]["read"]["total_ios"] > 0
        assert run.final["jobs"][0]["job_runtime"] < 30_000  # well before its 60 s
        assert screen.output_path is not None and not fio_processes(screen.output_path)
        await pilot.pause()
        assert "partial result" in screen_text(app)


@needs_fio
async def test_cancel_asks_then_discards_the_output(tmp_path: Path) -> None:
    finished: list[FinishedRun] = []
    app = LiveApp(lambda: FioLiveScreen(None, job_text(tmp_path, 60), on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        plots = screen.query_one(FioPlots)
        await wait_until(pilot, lambda: plots.received >= 1, 60)
        output = screen.output_path
        workdir = screen.workdir
        assert output is not None and output.exists() and workdir is not None
        assert fio_processes(output)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
        assert "discard" in screen_text(app)
        await pilot.press("escape")  # the default answer: keep running
        await wait_until(pilot, lambda: app.screen is screen, 10)
        assert screen.running
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
        await pilot.press("y")
        await wait_until(pilot, lambda: not isinstance(app.screen, FioLiveScreen), 10)
        await wait_until(pilot, lambda: not output.exists() and not fio_processes(output), 30)
        assert not workdir.exists()
        await pilot.pause(1.0)
        assert finished == []


@needs_fio
async def test_fio_failing_before_any_document_shows_its_message(tmp_path: Path) -> None:
    jobfile = job_text(tmp_path, 3, extra="ioengine=no-such-engine\n")
    finished: list[FinishedRun] = []
    app = LiveApp(lambda: FioLiveScreen(None, jobfile, on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.state == "failed", 60)
        await pilot.pause()
        message = str(screen.query_one("#fio-live-message", Static).render())
        assert "no-such-engine" in message  # fio's own words
        assert screen.error is not None and "no-such-engine" in screen.error
        assert "no-such-engine" in screen_text(app)
        assert finished == []
        assert screen.output_path is not None and not screen.output_path.exists()
        await pilot.press("escape")  # ended: closes
        await wait_until(pilot, lambda: not isinstance(app.screen, FioLiveScreen), 10)


# ------------------------------------------------------------------------------ no fio needed
def test_untrusted_names_are_literal_in_the_title() -> None:
    jobfile = parse_jobfile("[x[red]y\x1b[2Jz]\nfilename=/tmp/[bold]f\x1bg\n")
    text = run_title("qemu+ssh://h/system", jobfile)
    assert "\x1b" not in text.plain
    assert "x[red]y\\e[2Jz" in text.plain and "/tmp/[bold]f\\eg" in text.plain
    assert "qemu+ssh://h/system" in text.plain


def test_jobfile_argv_is_the_job_file_as_options() -> None:
    jobfile = parse_jobfile(
        "[global]\nioengine=psync\ntime_based\nruntime=3\n[a]\nrw=randread\n"
        "filename=/tmp/x y\n[b]\nrw=write\nverify=crc32c\n"
    )
    argv = jobfile_argv(jobfile, ("--readonly",))
    assert argv[:2] == ["fio", "--readonly"]
    assert argv.index("--name=a") < argv.index("--filename=/tmp/x y") < argv.index("--name=b")
    assert argv.index("--ioengine=psync") < argv.index("--name=a")
    assert "--time_based" in argv and "--verify=crc32c" in argv and "--name=global" not in argv


class Replay(FioLiveScreen):
    """The view alone: no fio; a recorded stream fed into the plots, a fixed status."""

    def start_run(self) -> None:
        tracker = IntervalTracker(keep_bins=False)
        docs, _stream = parse_stream((DATA / "randrw-2s.json").read_bytes())
        self.plots.feed(tracker.update(doc) for doc in docs)
        self.state, self.started, self.ended, self.progressed = "done", 1000.0, 1002.0, True
        self._show_status()


def replay_jobfile() -> JobFile:
    return parse_jobfile(
        "[rec]\nfilename=/var/tmp/virttui-fio.test\nsize=4M\nrw=randrw\nbs=64k\n"
        "runtime=2\ntime_based\nioengine=psync\n"
    )


async def test_replayed_stream_draws_every_interval_at_80x24() -> None:
    app = LiveApp(lambda: Replay(None, replay_jobfile()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = live(app)
        iops = screen.query_one("#fio-iops", RatePlot)
        assert set(iops.series) == {"read", "write"} and len(iops.series["read"][0]) == 3
        assert screen.query_one("#fio-lat-write", LatencyPlot).display
        text = screen_text(app)
        title = "fio rec · this machine · /var/tmp/virttui-fio.test"
        for words in (title, "done in 0:02", "IOPS", "clat"):
            assert words in text, words
        footer = text.splitlines()[-1]
        assert "esc Close" in footer and "Stop" not in footer and "Next job" not in footer


def test_fio_live_snapshot_80x24(snap_compare: Any) -> None:
    assert snap_compare(LiveApp(lambda: Replay(None, replay_jobfile())), terminal_size=SIZE)


@needs_fio
async def test_the_app_palette_offers_a_quick_test_removed_with_the_screen() -> None:
    from virttui.app import HostSpec, VirtTUIApp

    app = VirtTUIApp([HostSpec("test:///default")], refresh=60.0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["fio: quick live test"].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, FioLiveScreen), 10)
        screen = live(app)  # type: ignore[arg-type]
        quick_dir = screen.remove_on_close[0]
        await wait_until(pilot, lambda: "quick-randread" in screen_text(app), 10)
        assert quick_dir.is_dir()
        await wait_until(pilot, lambda: screen.plots.received >= 1, 60)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"fio: stop", "fio: cancel and discard"} <= titles
        assert "fio: quick live test" not in titles
        await pilot.press("s")  # stop: a partial result, then close
        await wait_until(pilot, lambda: screen.state == "stopped", 60)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FioLiveScreen), 10)
        assert not quick_dir.exists()


async def test_fio_failing_after_documents_warns_and_keeps_the_partial_plots(
    tmp_path: Path,
) -> None:
    from virttui.core.fio.run import FioRun
    from virttui.core.jobs import JobDone

    docs, _stream = parse_stream((DATA / "randrw-2s.json").read_bytes())
    tracker = IntervalTracker(keep_bins=False)
    intervals = tuple(tracker.update(doc) for doc in docs[:2])
    output = tmp_path / "out.json"
    output.write_bytes(b"")
    failure = "fio: exit status 1\nfio: io_u error on file /x\x1b[2J: Input/output error"
    run = FioRun(output_path=output, intervals=intervals, final=docs[1], failure=failure)
    finished: list[FinishedRun] = []

    class Failing(FioLiveScreen):
        def start_run(self) -> None:
            self.state, self.started = "running", time.time()
            for interval in intervals:
                self.plots.add(interval)
            self._take_done(JobDone(0, run))

    app = LiveApp(lambda: Failing(None, replay_jobfile(), on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = live(app)
        message = screen.query_one("#fio-live-message", Static)
        assert message.display and message.has_class("warning")
        shown = str(message.render())
        assert "fio failed after writing results" in shown and "\x1b" not in shown
        assert "io_u error" in shown and "\\e[2J" in shown  # fio's words, escape made visible
        assert len(screen.query_one("#fio-iops", RatePlot).series["read"][0]) == 2
        assert finished and finished[0].failure == failure and not finished[0].stopped


async def test_no_temp_dir_is_said_not_a_crash(monkeypatch: Any) -> None:
    from virttui.screens.fio import live as live_module

    def full(*_args: object, **_kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live_module.tempfile, "mkdtemp", full)
    app = LiveApp(lambda: FioLiveScreen(None, replay_jobfile()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = live(app)
        assert screen.state == "failed" and screen.job is None
        assert "No space left on device" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FioLiveScreen), 10)


@needs_fio
async def test_a_size_bound_job_says_so_and_shows_elapsed(tmp_path: Path) -> None:
    # no runtime: 16 MiB of 4k reads at 2000 IOPS, about 2 s
    jobfile = parse_jobfile(
        f"[sized]\nfilename={tmp_path / 'data.bin'}\nsize=16m\nbs=4k\nrw=randread\n"
        "ioengine=psync\nrate_iops=2000\n"
    )
    finished: list[FinishedRun] = []
    app = LiveApp(lambda: FioLiveScreen(None, jobfile, on_finished=finished.append))
    async with app.run_test(size=SIZE) as pilot:
        screen = live(app)
        await wait_until(pilot, lambda: screen.progressed or bool(finished), 60)
        if not finished:  # fio's first status came before the end
            assert "no runtime: size-bound · elapsed 0:" in screen_text(app)
            assert not screen.query_one("#fio-live-bar").display
        await wait_until(pilot, lambda: bool(finished), 60)
        assert finished[0].final["jobs"][0]["read"]["io_bytes"] == 16 << 20


def test_temp_dirs_left_at_exit_are_removed(tmp_path: Path) -> None:
    from virttui.screens.fio import live as live_module

    left = tmp_path / "virttui-fio-left"
    left.mkdir()
    (left / "output.json").write_text("{}")
    live_module._LIVE_DIRS.add(left)  # a grace timer not run yet, or the app quit
    live_module._remove_all_at_exit()  # what atexit runs
    assert not left.exists() and left not in live_module._LIVE_DIRS
