"""run_fio with real fio runs of a few seconds on temp files: intervals arrive while it runs,
the final report is there; Stop keeps a partial final report; Cancel removes the output."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from tests.core.fio.conftest import needs_fio
from virttui.core.fio.intervals import Interval
from virttui.core.fio.run import (
    FioOptionError,
    FioRun,
    fio_argv,
    kill_fio_processes,
    progress_of,
    run_fio,
    runtime_ms,
)
from virttui.core.jobs import (
    Job,
    JobDone,
    JobFailed,
    JobMessage,
    JobProgress,
    ProcessFailed,
    Severity,
)

pytestmark = needs_fio


def job_argv(tmp_path: Path, seconds: int, *more: str) -> list[str]:
    return [
        "fio",
        "--name=t",
        f"--filename={tmp_path / 'data.bin'}",
        "--size=4M",
        "--bs=4k",
        "--ioengine=psync",
        "--time_based",
        f"--runtime={seconds}",
        *more,
    ]


class Watch:
    """Run a job in a thread, collect its messages and intervals."""

    def __init__(self, fn) -> None:  # type: ignore[no-untyped-def]
        self.messages: list[JobMessage] = []
        self.intervals: list[Interval] = []
        self.first = threading.Event()
        self.job = Job(lambda ctx: fn(ctx, self.on_interval), self.messages.append)
        self.thread = threading.Thread(target=self.job.run, daemon=True)
        self.thread.start()

    def on_interval(self, interval: Interval) -> None:
        self.intervals.append(interval)
        if interval.group.directions.get("read") and interval.group.directions["read"].ios:
            self.first.set()

    def end(self) -> JobMessage:
        self.thread.join(120)
        assert not self.thread.is_alive()
        return self.messages[-1]


def test_run_three_seconds(tmp_path: Path) -> None:
    out = tmp_path / "private" / "run.json"
    out.parent.mkdir()
    argv = job_argv(tmp_path, 3, "--rw=randrw")
    w = Watch(lambda ctx, cb: run_fio(ctx, argv, out, cb))
    done = w.end()
    assert isinstance(done, JobDone), done
    run = done.result
    assert isinstance(run, FioRun)
    assert run.complete and not run.stopped and run.returncode == 0
    assert len(w.intervals) >= 2 and tuple(w.intervals) == run.intervals
    assert run.report is not None and run.final is not None
    assert (
        run.report.jobs[0].directions["read"].total_ios == run.final["jobs"][0]["read"]["total_ios"]
    )
    assert run.final["jobs"][0]["read"]["runtime"] >= 2900
    assert run.stream_error is None
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    progress = [m for m in w.messages if isinstance(m, JobProgress)]
    assert len(progress) == len(run.intervals)
    assert progress[-1].fraction == 1.0 and "read" in progress[-1].text


def test_stop_keeps_a_partial_final_report(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    argv = job_argv(tmp_path, 30, "--rw=randread")
    w = Watch(lambda ctx, cb: run_fio(ctx, argv, out, cb))
    assert w.first.wait(60)  # the first status document (about 1 s in)
    w.job.stop()
    done = w.end()
    assert isinstance(done, JobDone), done
    run = done.result
    assert run.stopped and not run.complete
    assert run.report is not None and run.final is not None
    read = run.report.jobs[0].directions["read"]
    assert 0 < read.runtime_ms < 30_000 and read.total_ios > 0
    assert any("terminating on signal" in line for line in run.noise)
    assert out.exists()


def test_cancel_removes_the_output(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    argv = job_argv(tmp_path, 30, "--rw=randread")
    w = Watch(lambda ctx, cb: run_fio(ctx, argv, out, cb))
    assert w.first.wait(60)
    w.job.cancel()
    done = w.end()
    assert isinstance(done, JobFailed) and done.cancelled
    assert not out.exists()
    # fio's job processes (own session, after setsid) were killed too, not left running
    assert kill_fio_processes(out) == 0


def test_job_file_with_two_jobs(tmp_path: Path) -> None:
    jobfile = tmp_path / "two.fio"
    jobfile.write_text(
        "[global]\n"
        f"filename={tmp_path / 'data.bin'}\nsize=4M\nbs=4k\nioengine=psync\n"
        "time_based\nruntime=2\n\n[reader]\nrw=randread\n\n[writer]\nrw=randwrite\n"
    )
    out = tmp_path / "run.json"
    w = Watch(lambda ctx, cb: run_fio(ctx, jobfile, out, cb))
    done = w.end()
    assert isinstance(done, JobDone), done
    report = done.result.report
    assert [j.name for j in report.jobs] == ["reader", "writer"]
    assert report.group is not None
    assert report.jobs[0].directions["read"].total_ios > 0
    assert report.jobs[1].directions["write"].total_ios > 0
    assert len(done.result.intervals) >= 2


def test_fio_failing_before_any_document(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    argv = ["fio", "--name=bad", "--rw=nonsense", f"--filename={tmp_path / 'x'}", "--size=1M"]
    messages: list[JobMessage] = []
    Job(lambda ctx: run_fio(ctx, argv, out), messages.append).run()
    failed = messages[-1]
    assert isinstance(failed, JobFailed) and not failed.cancelled
    assert failed.message.startswith("fio: exit status")
    assert not out.exists()


def test_fio_failing_after_its_report(tmp_path: Path) -> None:
    """A job that cannot open its file: fio writes its report (job error 2) and exits 1."""
    out = tmp_path / "run.json"
    argv = ["fio", "--name=e", "--filename=/proc/virttui-no-such-file", "--size=1M", "--rw=read"]
    messages: list[JobMessage] = []
    Job(lambda ctx: run_fio(ctx, argv, out), messages.append).run()
    done = messages[-1]
    assert isinstance(done, JobDone), done
    assert done.severity == Severity.WARNING
    run = done.result
    assert run.returncode == 1 and run.failure and not run.complete
    assert run.report is not None and run.report.jobs[0].error == 2
    assert "e: ended with error 2 (No such file or directory)" in [n.text for n in run.report.notes]
    assert any(line.startswith("fio: pid=") for line in run.noise)


def test_refusals() -> None:
    with pytest.raises(FioOptionError, match="--output is set by the fio panel"):
        fio_argv(["fio", "--name=x", "--output=/tmp/elsewhere"], "/tmp/o")
    with pytest.raises(FioOptionError):
        fio_argv(["fio", "--status-interval=5"], "/tmp/o")
    with pytest.raises(FioOptionError):
        fio_argv([], "/tmp/o")
    assert fio_argv("jobs.fio", "/tmp/o") == [
        "fio",
        "jobs.fio",
        "--output-format=json+",
        "--status-interval=1",
        "--output=/tmp/o",
    ]


def test_existing_output_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    out.write_text("precious")
    messages: list[JobMessage] = []
    Job(lambda ctx: run_fio(ctx, job_argv(tmp_path, 1), out), messages.append).run()
    assert isinstance(messages[-1], JobFailed)
    assert out.read_text() == "precious"


def test_runtime_and_progress() -> None:
    assert runtime_ms("3") == 3000 and runtime_ms("1m") == 60_000 and runtime_ms("500ms") == 500
    assert runtime_ms("soon") is None
    doc = {"jobs": [{"job_runtime": 1500, "job options": {"runtime": "3"}}]}
    assert progress_of(doc) == 0.5
    assert progress_of({"jobs": [{"job_runtime": 1500, "job options": {}}]}) is None


def test_process_failed_is_the_error_type() -> None:
    assert issubclass(ProcessFailed, Exception)
