"""fio as a job: `run_fio(ctx, argv_or_jobfile, output_path, on_interval)`.

fio runs through `core/jobs.run_process` (an argv list, its own process group) with
`--output-format=json+ --status-interval=1 --output=<output_path>`. The output file is created
here first, private (mode 0600, never an existing file), and tailed while fio runs: every chunk
goes to the stream parser (`stream.FioStream`), every completed document to the interval
tracker (`intervals.IntervalTracker`), and each new interval to `on_interval` (called in the
job's thread) and to `ctx.progress` (fraction of the `runtime` option when there is one).

- Stop (`Job.stop()`): SIGINT to fio, which writes a final document for the part it ran; that
  document is the result (`FioRun.stopped`).
- Cancel (`Job.cancel()`): the process group is killed and the output file is removed; the job
  ends cancelled. fio's job processes call setsid() (their own process group: a signal to fio's
  group misses them), so a cancel also kills every fio process of this run: locally, every
  process whose argv holds our unique `--output=<path>` (`kill_fio_processes`); on a `qemu+ssh`
  host, where fio writes to stdout, every process carrying this run's unique tag in its
  environment (fio runs as `env VIRTTUI_JOB_TAG=fio-<uuid> fio ...`, which changes neither its
  options nor its output; `core/jobs.kill_tagged` over ssh, in the job's thread, before the job
  reports cancelled).
- fio failing (non-zero exit) with documents already written still gives a `FioRun` (its
  `failure` says why, and the job's severity is raised to a warning); without any document it
  raises a `ProcessFailed` with fio's messages (its stderr tail and the lines it wrote to the
  output) and removes the output file.
- On a `qemu+ssh` URI, fio runs on that host and the stream comes back on its stdout (no remote
  file to tail; fio's error lines then go to stderr); it is written to `output_path` here so the
  saved run is the same file either way.

Done: the runner and its tests (tests/core/fio/test_run.py: a real 3 s job gives ≥ 2 intervals
and a final report; a stop after ~1.5 s gives a partial final report; cancel removes the file
and leaves no fio process; tests/integration/test_fio_over_ssh.py: the same run, stop and
cancel over ssh). The UI session: start it with
`start_job(self, lambda ctx: run_fio(ctx, ...), title="fio", ...)`, post `on_interval`'s
intervals to the plots (they arrive in the job's thread), `job.stop()` on Stop.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from virttui.core.fio.intervals import DEFAULT_PERCENTILES, Interval, IntervalTracker
from virttui.core.fio.report import Report, build_report
from virttui.core.fio.stream import Document, FioStream
from virttui.core.jobs import (
    JobCancelled,
    JobContext,
    ProcessFailed,
    ProcessResult,
    Severity,
    build_argv,
    kill_tagged,
    run_process,
    tagged,
)

POLL_SECONDS = 0.25
READ_CHUNK = 1 << 20
# options run_fio sets itself: a job file or argv may not set them
OWN_OPTIONS = ("--output", "--output-format", "--status-interval")

OnInterval = Callable[[Interval], None]


class FioOptionError(ValueError):
    """The argv sets an option that run_fio owns."""


@dataclass(frozen=True, slots=True)
class FioRun:
    output_path: Path
    intervals: tuple[Interval, ...] = ()
    final: Document | None = None
    report: Report | None = None
    stopped: bool = False
    returncode: int | None = None
    failure: str | None = None  # fio ended with an error after writing documents
    stream_error: str | None = None  # the parser's summary of truncated / invalid documents
    noise: tuple[str, ...] = ()  # foreign lines in the stream (fio's error messages)
    stderr_tail: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """fio ended on its own and wrote its final document."""
        return self.final is not None and not self.stopped and self.failure is None


def fio_argv(
    argv_or_jobfile: Sequence[str] | str | os.PathLike[str], output: str | None
) -> list[str]:
    """The full argv: `fio JOBFILE` or the given argv (program first), plus the stream options
    (`--output` only when `output` is given)."""
    if isinstance(argv_or_jobfile, str | os.PathLike):
        argv = ["fio", os.fspath(argv_or_jobfile)]
    else:
        argv = list(argv_or_jobfile)
        if not argv:
            raise FioOptionError("empty fio command")
        for arg in argv[1:]:
            name = arg.split("=", 1)[0]
            if name in OWN_OPTIONS:
                raise FioOptionError(f"{name} is set by the fio panel")
    argv += ["--output-format=json+", "--status-interval=1"]
    if output is not None:
        argv.append(f"--output={output}")
    return argv


_RUNTIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}


def runtime_ms(text: str) -> float | None:
    """fio's `runtime` option in ms (a bare number is seconds); None when not understood."""
    m = _RUNTIME.match(text)
    if not m:
        return None
    return float(m.group(1)) * _UNIT_MS[(m.group(2) or "s").lower()]


def progress_of(doc: Document) -> float | None:
    """How far the run is (0..1) from the jobs' `job_runtime` and `runtime` options."""
    fractions = []
    jobs = doc.get("jobs")
    # a [global] runtime is in the document's "global options", not in each job's options
    global_options = doc.get("global options")
    global_runtime = (
        str(global_options.get("runtime", "")) if isinstance(global_options, dict) else ""
    )
    for job in jobs if isinstance(jobs, list) else []:
        if not isinstance(job, dict):
            continue
        options = job.get("job options")
        text = options.get("runtime", global_runtime) if isinstance(options, dict) else ""
        planned = runtime_ms(str(text or global_runtime))
        done = job.get("job_runtime")
        if planned and isinstance(done, int | float):
            fractions.append(min(1.0, done / planned))
    return min(fractions) if fractions else None


def _create_private(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    os.close(fd)


def kill_fio_processes(output: Path) -> int:
    """SIGKILL every local process whose argv holds `--output=<output>` (a private, unique path):
    fio's job processes call setsid(), so a signal to fio's process group misses them, and they
    would run to their end after a cancel. Returns how many were signalled."""
    marker = f"--output={output}".encode()
    killed = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if marker in args and int(entry) != os.getpid():
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def run_fio(
    ctx: JobContext,
    argv_or_jobfile: Sequence[str] | str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    on_interval: OnInterval | None = None,
    *,
    uri: str | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    poll_seconds: float = POLL_SECONDS,
) -> FioRun:
    """Run fio to its end (or stop / cancel), watching its stream. See the module docstring."""
    output = Path(output_path)
    remote = build_argv(["fio"], uri)[1] is not None
    argv = fio_argv(argv_or_jobfile, None if remote else str(output.absolute()))
    _create_private(output)
    intervals: list[Interval] = []
    final: list[Document] = []  # the last document parsed
    stream = FioStream()
    tracker = IntervalTracker(percentiles, keep_bins=False)
    lock = threading.Lock()
    callback_error: list[BaseException] = []

    def take(docs: list[Document]) -> None:
        for doc in docs:
            final[:] = [doc]
            interval = tracker.update(doc)
            intervals.append(interval)
            if ctx.cancelled:
                continue
            fraction = progress_of(doc)
            ctx.progress(fraction, _summary(interval))
            if on_interval is not None and not callback_error:
                try:
                    on_interval(interval)
                except Exception as exc:  # noqa: BLE001 - reported after fio ends
                    callback_error.append(exc)

    outcome: dict[str, Any] = {}

    if remote:
        sink = open(output, "ab")  # noqa: SIM115 - closed in finally below
        tag = f"fio-{uuid.uuid4().hex}"

        def on_line(line: str) -> None:
            data = (line + "\n").encode()
            sink.write(data)
            with lock:
                take(stream.feed(data))

        def cancelled() -> None:
            _remove(output)
            kill_tagged(uri, tag)  # fio's job processes, out of the remote group (setsid)

        try:
            outcome["result"] = run_process(
                ctx, tagged(argv, tag), uri=uri, on_line=on_line, cleanup=cancelled
            )
        except ProcessFailed as exc:  # named after fio, not the `env` that started it
            outcome["failed"] = ProcessFailed(argv, exc.returncode, exc.stderr_tail)
        except JobCancelled:
            _remove(output)  # also when cancelled before fio started
            raise
        except BaseException:
            kill_tagged(uri, tag)  # never leave fio running behind a failed watcher
            raise
        finally:
            sink.close()
        if ctx.cancelled:
            _remove(output)
    else:

        def kill_jobs() -> None:
            kill_fio_processes(output.absolute())

        drop = ctx.on_cancel(kill_jobs)

        def runner() -> None:
            try:
                outcome["result"] = run_process(ctx, argv, uri=uri, cleanup=lambda: _remove(output))
            except ProcessFailed as exc:
                outcome["failed"] = exc
            except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread
                outcome["error"] = exc

        thread = threading.Thread(target=runner, name="fio", daemon=True)
        with open(output, "rb") as src:
            thread.start()
            try:
                while True:
                    alive = thread.is_alive()
                    while chunk := src.read(READ_CHUNK):
                        take(stream.feed(chunk))
                    if not alive:
                        break
                    thread.join(poll_seconds)
            except BaseException:
                kill_jobs()  # never leave fio running behind a failed watcher
                raise
            finally:
                thread.join()
        drop()
        if "error" in outcome:
            raise outcome["error"]
    take(stream.finish())
    proc: ProcessResult | None = outcome.get("result")
    failed: ProcessFailed | None = outcome.get("failed")
    failure: str | None = None
    returncode = proc.returncode if proc is not None else None
    stderr_tail = proc.stderr_tail if proc is not None else ()
    if failed is not None:
        if stream.count == 0:
            # nothing to keep: fio's messages in the output go into the error, the file goes
            _remove(output)
            raise ProcessFailed(
                failed.argv, failed.returncode, [*failed.stderr_tail, *stream.noise]
            )
        failure = str(failed)
        returncode, stderr_tail = failed.returncode, tuple(failed.stderr_tail)
        ctx.note(Severity.WARNING)
    last = final[0] if final else None
    result = FioRun(
        output_path=output,
        intervals=tuple(intervals),
        final=last,
        report=build_report(last) if last is not None else None,
        stopped=bool(proc is not None and proc.stopped),
        returncode=returncode,
        failure=failure,
        stream_error=stream.error,
        noise=tuple(stream.noise),
        stderr_tail=stderr_tail,
    )
    if stream.error:
        ctx.note(Severity.WARNING)
    if callback_error:
        raise callback_error[0]
    return result


def _summary(interval: Interval) -> str:
    parts = []
    for name, d in interval.group.directions.items():
        if d.ios:
            parts.append(f"{name} {d.iops:.0f} IOPS")
    return f"{interval.time_s:.0f} s: " + (", ".join(parts) if parts else "no IO")
