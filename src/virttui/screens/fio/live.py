"""The live run of a fio job (issue 13 "Live run"): `FioLiveScreen(uri, jobfile, fio_args)`.

On mount the job file is written to a private temp dir (0700; the file 0600) and fio runs
through `core.fio.run.run_fio` as a job (`start_job(..., cancel_on_close=True)`): its json+
stream goes to a private output file in the same dir, every interval is posted to the UI thread
and drawn by `widgets/fio/plots.FioPlots` (at most about once a second), and `ctx.progress`
drives the progress bar (the fraction of the `runtime` option; a size-bound job shows its
elapsed time). On a `qemu+ssh` host the job file does not exist there: its sections are given
to fio as command-line options instead (`jobfile_argv`, fio's own equivalent of a job file).

- Stop (`s`): SIGINT, fio writes its final document for the part it ran: a partial result
  (`FinishedRun.stopped`).
- Escape while running asks "cancel and discard?": the job is cancelled (fio killed, its output
  removed) and the screen closes. After the end escape just closes.
- The end: a `FinishedRun` (core/fio/finished.py) goes to `on_finished` (the caller saves it
  and opens the report); without `on_finished` the screen shows the final summary line. fio
  failing before any document: its messages in plain text; failing after documents: a warning
  and the partial plots.

The temp dir (job file and output) is removed when the screen closes; when the run was handed
on to `on_finished`, `OUTPUT_GRACE_S` later (a save running as a job, `runs.save_run`, may still
be copying the output). Job names, paths, the host and fio's messages are
untrusted: rendered with `plain()`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, ProgressBar, Static

from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.intervals import Interval
from virttui.core.fio.job import PRESET_FILE, JobFile, parse_jobfile
from virttui.core.fio.run import FioRun, run_fio
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobProgress, build_argv
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import start_job
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.fio.plots import FioPlots, fmt_bw, fmt_iops, fmt_latency, summary_text

JOBFILE_NAME = "job.fio"
# after the screen closes, a run handed on to on_finished keeps its output this long (a save
# running as a job may still be copying it); then the temp dir goes
OUTPUT_GRACE_S = 60.0
OUTPUT_NAME = "output.json"
TARGETS_SHOWN = 2


# every temp dir of a live screen until it is removed: whatever is left when the program ends
# (the app quit with a screen open, a grace timer not run yet) goes then
_LIVE_DIRS: set[Path] = set()


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    _LIVE_DIRS.discard(path)


def _remove_all_at_exit() -> None:
    for path in list(_LIVE_DIRS):
        _remove_tree(path)


atexit.register(_remove_all_at_exit)


def is_remote(uri: str | None) -> bool:
    """Does fio run on another host (over ssh) for this URI? (run_fio's own test.)"""
    return build_argv(["fio"], uri)[1] is not None


def jobfile_argv(jobfile: JobFile, fio_args: tuple[str, ...] = ()) -> list[str]:
    """`fio [global options] --name=job1 [its options] --name=job2 …`: the job file as fio's
    command line (for a host where the job file is not: fio reads both the same way)."""
    argv = ["fio", *fio_args]
    sections = ([jobfile.global_job] if jobfile.global_job is not None else []) + list(jobfile.jobs)
    for job in sections:
        if job.name != "global":
            argv.append(f"--name={job.name}")
        for key, value in job.options():
            argv.append(f"--{key}" if value is None else f"--{key}={value}")
    return argv


def _clock(seconds: float) -> str:
    s = max(0, int(seconds + 0.5))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def run_title(uri: str | None, jobfile: JobFile) -> Text:
    """'fio randread · this machine · /tmp/x/file': names, host, then the targets (the part
    an ellipsis may cut at 80 columns); everything literal."""
    text = Text("fio ", style="bold")
    names = [job.name for job in jobfile.jobs]
    append_plain(text, ", ".join(names[:TARGETS_SHOWN]) or "(no job)")
    if len(names) > TARGETS_SHOWN:
        text.append(f" +{len(names) - TARGETS_SHOWN}")
    text.append(" · ")
    append_plain(text, uri or "this machine", "bold")
    targets: list[str] = []
    for job in jobfile.effective_jobs():
        targets.extend(t for t in job.targets if t not in targets)
    text.append(" · ")
    append_plain(text, ", ".join(targets[:TARGETS_SHOWN]) or "fio's default file")
    if len(targets) > TARGETS_SHOWN:
        text.append(f" +{len(targets) - TARGETS_SHOWN}")
    return text


def final_summary(run: FioRun) -> str:
    """'Final (all jobs): read 12.3k IOPS 48.0 MiB/s p99 1.20 ms · write …' from fio's final
    document (its own totals, not the last interval)."""
    report = run.report
    if report is None or not report.jobs:
        return "Final: " + summary_text(run.intervals[-1] if run.intervals else None)
    whole = report.group if report.group is not None else report.jobs[0]
    parts = []
    for d in whole.active:
        line = f"{d.name} {fmt_iops(float(d.iops))} IOPS {fmt_bw(float(d.bw_bytes))}"
        p99 = d.percentile(99.0)
        if p99 is not None:
            line += f" p99 {fmt_latency(p99)}"
        parts.append(line)
    label = "Final (all jobs)" if report.group is not None else "Final"
    stopped = " (stopped: partial)" if run.stopped else ""
    return f"{label}{stopped}: " + (" · ".join(parts) or "no IO completed")


class FioLiveScreen(Screen[None]):
    """Runs one job file and shows it live; see the module docstring."""

    BINDINGS = [
        Binding("s", "stop", "Stop (keep partial)", id="fio.stop"),
        Binding("escape", "cancel_run", "Cancel", id="fio.live_cancel"),
        Binding("escape", "close", "Close", id="fio.live_close"),
        Binding("j", "next_job", "Next job", id="fio.next_job"),
    ]

    def __init__(
        self,
        uri: str | None,
        jobfile: JobFile,
        fio_args: tuple[str, ...] = (),
        *,
        on_finished: Callable[[FinishedRun], None] | None = None,
    ) -> None:
        super().__init__()
        self.uri = uri
        self.jobfile = jobfile
        self.fio_args = tuple(fio_args)
        self.on_finished = on_finished
        self.job: Job[FioRun] | None = None
        self.workdir: Path | None = None
        self.jobfile_path: Path | None = None
        self.output_path: Path | None = None
        self.state = "starting"  # starting, running, stopping, done, stopped, failed, cancelled
        self.fraction: float | None = None
        self.progressed = False  # a progress message arrived (fraction known or not)
        self.started = 0.0  # time.time() at start
        self.ended = 0.0
        self._ticker: Timer | None = None
        self.remove_on_close: list[Path] = []  # more temp dirs to remove with the screen
        self.result: FioRun | None = None
        self.finished: FinishedRun | None = None
        self.error: str | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(run_title(self.uri, self.jobfile), id="fio-live-title")
        with Horizontal(id="fio-live-progress"):
            yield ProgressBar(total=100, show_eta=False, id="fio-live-bar")
            yield Static(id="fio-live-status")
        yield Static(id="fio-live-message")
        yield FioPlots(id="fio-live-plots")
        yield Footer()

    @property
    def plots(self) -> FioPlots:
        return self.query_one(FioPlots)

    def on_mount(self) -> None:
        self.query_one("#fio-live-message", Static).display = False
        self._show_status()
        self.start_run()

    def on_screen_resume(self) -> None:
        if self.plots.dirty:
            self.plots.redraw()  # intervals that came while a dialog or the report covered it

    def on_unmount(self) -> None:
        if self.job is not None and self.state in ("starting", "running", "stopping"):
            self.job.cancel(wait=False)  # belt and braces: cancel_on_close does it too
        self._remove_workdir()

    # ------------------------------------------------------------------ the run
    def start_run(self) -> None:
        """Write the job file, start fio as a job (tests of the view alone override this)."""
        try:
            target = self._prepare()
        except OSError as exc:  # no temp dir (full, read-only): said, not a crash
            self.state = "failed"
            self.error = f"cannot write the job file: {exc}"
            self._show_message(self.error, "error")
            self._show_status()
            self.refresh_bindings()
            return
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        output, uri = self.output_path, self.uri
        assert output is not None

        def on_interval(interval: Interval) -> None:  # the job's thread
            try:
                loop.call_soon_threadsafe(self._take_interval, interval, context=context)
            except RuntimeError:
                pass  # the app has ended

        def run(ctx: JobContext) -> FioRun:
            return run_fio(ctx, target, output, on_interval, uri=uri)

        self.started = time.time()
        self.state = "running"
        self.job = start_job(
            self,
            run,
            on_progress=self._take_progress,
            on_done=self._take_done,
            on_failed=self._take_failed,
            cancel_on_close=True,
        )
        self._ticker = self.set_interval(1.0, self._tick)
        self.refresh_bindings()

    def _prepare(self) -> list[str]:
        """The private temp dir (0700), the job file in it (0600, local runs) and fio's argv."""
        self.workdir = Path(tempfile.mkdtemp(prefix="virttui-fio-"))
        _LIVE_DIRS.add(self.workdir)
        self.output_path = self.workdir / OUTPUT_NAME
        if is_remote(self.uri):
            return jobfile_argv(self.jobfile, self.fio_args)
        self.jobfile_path = self.workdir / JOBFILE_NAME
        fd = os.open(self.jobfile_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.jobfile.text())
        return ["fio", str(self.jobfile_path), *self.fio_args]

    def _take_interval(self, interval: Interval) -> None:
        if self.is_attached:
            jobs = len(self.plots.job_names)
            self.plots.add(interval)
            if len(self.plots.job_names) != jobs:
                self.refresh_bindings()  # "j: next job" only with several jobs

    def _take_progress(self, message: JobProgress) -> None:
        self.progressed = True
        self.fraction = message.fraction
        self._show_status()

    def _tick(self) -> None:
        if self.state in ("running", "stopping"):
            self._show_status()
        elif self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _take_done(self, message: JobDone) -> None:
        run = message.result
        assert isinstance(run, FioRun)
        self.ended = time.time()
        self.result = run
        self._remove_jobfile()
        self.state = "stopped" if run.stopped else "done"
        self.plots.redraw()  # the last interval at once, not at the throttle's time
        notes: list[str] = []
        if run.failure:
            notes.append(f"fio failed after writing results (partial plots): {run.failure}")
        if run.stream_error:
            notes.append(run.stream_error)
        if run.final is None:
            self.state = "failed"
            notes.append("fio ended without writing any result")
            noise = [*run.noise, *run.stderr_tail]
            notes.extend(noise[-10:])
        if run.final is not None and self.on_finished is None:
            notes.insert(0, final_summary(run))  # nobody opens the report: the run in a line
        if notes:
            troubled = run.failure or run.stream_error
            kind = "error" if run.final is None else "warning" if troubled else "info"
            self._show_message("\n".join(notes), kind)
        self._show_status()
        self.refresh_bindings()
        if run.final is None:
            return
        self.finished = FinishedRun(
            uri=self.uri,
            jobfile=self.jobfile,
            fio_args=self.fio_args,
            output_path=run.output_path,
            final=run.final,
            intervals=run.intervals,
            stopped=run.stopped,
            failure=run.failure,
            started=self.started,
            ended=self.ended,
        )
        if self.on_finished is not None:
            self.on_finished(self.finished)

    def _take_failed(self, message: JobFailed) -> None:
        self.ended = time.time()
        self._remove_jobfile()
        if message.cancelled:
            self.state = "cancelled"
        else:
            self.state = "failed"
            self.error = message.message
            self._show_message(message.message, "error")
        self._show_status()
        self.refresh_bindings()

    # ------------------------------------------------------------------ display
    def _show_message(self, text: str, kind: str) -> None:
        widget = self.query_one("#fio-live-message", Static)
        widget.update(plain(text, multiline=True))
        widget.set_classes(kind)
        widget.display = True

    def status_text(self) -> str:
        elapsed = (
            (self.ended if self.ended else time.time()) - self.started if self.started else 0.0
        )
        since = f"elapsed {_clock(elapsed)}"
        if self.state == "starting":
            return "not started"
        if self.state == "running":
            if not self.progressed:
                return f"starting fio… {since}"
            if self.fraction is None:
                return f"no runtime: size-bound · {since}"
            if self.fraction <= 0:
                return f"{since}"
            eta = elapsed * (1 - self.fraction) / self.fraction
            return f"ETA {_clock(eta)} · {since}"
        if self.state == "stopping":
            return f"stopping: fio writes its partial result… {since}"
        if self.state == "stopped":
            return f"stopped after {_clock(elapsed)}: partial result"
        if self.state == "done":
            return f"done in {_clock(elapsed)}"
        if self.state == "cancelled":
            return "cancelled: discarded"
        return "failed"

    def _show_status(self) -> None:
        bar = self.query_one("#fio-live-bar", ProgressBar)
        if self.state == "done":
            bar.update(total=100, progress=100)
        elif self.state in ("running", "stopping", "stopped") and self.fraction is not None:
            bar.update(total=100, progress=round(self.fraction * 100, 1))
        # size-bound (no fraction): the bar goes, the text says so (an indeterminate bar would
        # animate at 15 frames a second for the whole run)
        bar.display = not (self.progressed and self.fraction is None and self.state != "done")
        self.query_one("#fio-live-status", Static).update(Text(self.status_text()))

    # ------------------------------------------------------------------ actions
    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.state == "running"
        if action == "cancel_run":
            return self.running
        if action == "close":
            return not self.running
        if action == "next_job":
            return len(self.plots.job_names) > 1
        return True

    def action_stop(self) -> None:
        if self.job is None or self.state != "running":
            return
        self.state = "stopping"
        self.job.stop()
        self._show_status()
        self.refresh_bindings()

    def action_cancel_run(self) -> None:
        if not self.running:
            self.action_close()
            return

        def answered(yes: bool | None) -> None:
            if yes and self.running:
                self.cancel_run()

        self.app.push_screen(
            ConfirmScreen(
                "Cancel the fio run and discard its results?\n\n"
                "fio is stopped at once and its output removed. "
                "(Stop, key s, keeps a partial result instead.)",
                confirm_label="Cancel and discard",
            ),
            answered,
        )

    def cancel_run(self) -> None:
        """Cancel now (fio killed, output removed) and close the screen."""
        if self.job is not None:
            self.job.cancel(wait=False)
        self.state = "cancelled"
        self.dismiss(None)

    def action_close(self) -> None:
        if self.running:
            self.action_cancel_run()
            return
        self.dismiss(None)

    def action_next_job(self) -> None:
        self.plots.select_next()

    # ------------------------------------------------------------------ files
    def _remove_jobfile(self) -> None:
        if self.jobfile_path is not None:
            try:
                self.jobfile_path.unlink()
            except FileNotFoundError:
                pass

    def _remove_workdir(self) -> None:
        workdir, self.workdir = self.workdir, None
        if workdir is not None:
            if self.finished is not None and self.on_finished is not None and OUTPUT_GRACE_S > 0:
                # handed on: a save may still be copying the output in a job (save_run)
                timer = threading.Timer(OUTPUT_GRACE_S, _remove_tree, args=(workdir,))
                timer.daemon = True
                timer.start()
            else:
                _remove_tree(workdir)
        for path in self.remove_on_close:
            _remove_tree(path)
        self.remove_on_close = []


def open_live(
    app: App[Any],
    uri: str | None,
    jobfile: JobFile,
    fio_args: tuple[str, ...] = (),
    on_finished: Callable[[FinishedRun], None] | None = None,
) -> FioLiveScreen:
    """Push the live screen for a job the guard allowed (the form's Run ends here)."""
    screen = FioLiveScreen(uri, jobfile, fio_args, on_finished=on_finished)
    app.push_screen(screen)
    return screen


QUICK_SECONDS = 10
QUICK_SIZE = "64m"


def quick_test_jobfile(directory: str) -> JobFile:
    """A 4k random read of a new 64 MiB file in `directory` (fio lays it out), 10 s, psync
    (buffered: works on tmpfs too)."""
    path = os.path.join(directory, PRESET_FILE)
    return parse_jobfile(
        f"[quick-randread]\nfilename={path}\nsize={QUICK_SIZE}\nrw=randread\nbs=4k\n"
        f"ioengine=psync\ntime_based\nruntime={QUICK_SECONDS}\n"
    )


def open_quick_test(app: App[Any]) -> FioLiveScreen:
    """The palette's "fio: quick live test": a read-only job on a file of our own in a new
    private temp dir (nothing else can be written, so no guard is needed), removed with the
    screen."""
    directory = tempfile.mkdtemp(prefix="virttui-fio-quick-")
    screen = FioLiveScreen(None, quick_test_jobfile(directory))
    screen.remove_on_close.append(Path(directory))
    _LIVE_DIRS.add(Path(directory))
    app.push_screen(screen)
    return screen
