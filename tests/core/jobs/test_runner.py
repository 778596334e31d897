"""The job runner: message order, exception -> (message, severity), cancel, stop, hooks."""

from __future__ import annotations

import threading

import libvirt
import pytest

from virttui.core.domain.action_result import DomainActionError
from virttui.core.host.connection import NotConnected, NotResponding
from virttui.core.jobs import (
    Job,
    JobCancelled,
    JobContext,
    JobDone,
    JobError,
    JobFailed,
    JobMessage,
    JobProgress,
    ProcessFailed,
    Severity,
    describe_error,
    note,
    start,
)


def run(fn, name: str = "") -> list[JobMessage]:
    messages: list[JobMessage] = []
    Job(fn, messages.append, name=name).run()
    return messages


def test_progress_then_done_in_order() -> None:
    def fn(ctx: JobContext) -> str:
        ctx.progress(0.25, "a")
        ctx.progress(None, "b")
        ctx.progress(7, "clamped")
        return "result"

    messages = run(fn)
    ids = {m.job_id for m in messages}
    assert len(ids) == 1
    (job_id,) = ids
    assert messages == [
        JobProgress(job_id, 0.25, "a"),
        JobProgress(job_id, None, "b"),
        JobProgress(job_id, 1.0, "clamped"),
        JobDone(job_id, "result", Severity.INFO),
    ]


def test_failure_is_last_and_never_raises() -> None:
    def fn(ctx: JobContext) -> None:
        ctx.progress(0.5, "half")
        raise DomainActionError("start", "web", "domain is already running")

    messages = run(fn)
    assert isinstance(messages[0], JobProgress)
    assert messages[1:] == [
        JobFailed(messages[0].job_id, "domain is already running", Severity.ERROR)
    ]


def test_job_ids_are_unique() -> None:
    a = Job(lambda ctx: None, lambda m: None)
    b = Job(lambda ctx: None, lambda m: None)
    assert a.id != b.id


def test_note_raises_the_done_severity() -> None:
    def fn(ctx: JobContext) -> int:
        note(Severity.WARNING)  # from deep in core code: the current job's context
        note(Severity.INFO)  # never lowers it
        return 1

    messages = run(fn)
    assert messages == [JobDone(messages[0].job_id, 1, Severity.WARNING)]
    note(Severity.ERROR)  # outside a job: nothing happens


class Quiet(Exception):
    severity = Severity.WARNING


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (DomainActionError("start", "web", "libvirt says no"), ("libvirt says no", Severity.ERROR)),
        (NotConnected("host: not connected"), ("host: not connected", Severity.ERROR)),
        (NotResponding("host is not responding"), ("host is not responding", Severity.ERROR)),
        (ValueError("bad"), ("ValueError: bad", Severity.ERROR)),
        (RuntimeError(), ("RuntimeError", Severity.ERROR)),
        (
            FileNotFoundError(2, "No such file", "/x"),
            ("[Errno 2] No such file: '/x'", Severity.ERROR),
        ),
        (Quiet("soft"), ("Quiet: soft", Severity.WARNING)),
        (JobCancelled(), ("cancelled", Severity.INFO)),
        (
            ProcessFailed(["qemu-img", "info"], 1, ["line 1", "boom"]),
            ("qemu-img: exit status 1\nline 1\nboom", Severity.ERROR),
        ),
        (ProcessFailed(["fio"], -9, []), ("fio: killed by signal 9", Severity.ERROR)),
    ],
)
def test_describe_error(exc: BaseException, expected: tuple[str, Severity]) -> None:
    assert describe_error(exc) == expected


def test_describe_libvirt_error() -> None:
    conn = libvirt.open("test:///default")
    try:
        with pytest.raises(libvirt.libvirtError) as info:
            conn.lookupByName("no-such-domain")
    finally:
        conn.close()
    message, severity = describe_error(info.value)
    assert message == info.value.get_error_message()
    assert message and severity is Severity.ERROR


def test_cancel_a_python_job() -> None:
    """cancel() wakes a waiting job, runs the cancel hooks and ends it as cancelled."""
    started = threading.Event()
    hooks: list[str] = []
    steps: list[int] = []

    def fn(ctx: JobContext) -> str:
        ctx.on_cancel(lambda: hooks.append("cancel"))
        drop = ctx.on_cancel(lambda: hooks.append("dropped"))
        drop()
        for i in range(1000):
            ctx.check()
            steps.append(i)
            if i == 2:
                started.set()
                ctx.wait(30)  # returns as soon as cancelled
        return "never"

    messages: list[JobMessage] = []
    job = Job(fn, messages.append)
    thread = start(job)
    assert started.wait(30)
    job.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert steps == [0, 1, 2]
    assert hooks == ["cancel"]
    assert messages == [JobFailed(job.id, "cancelled", Severity.INFO, cancelled=True)]
    job.cancel()  # twice: harmless, hooks not run again
    assert hooks == ["cancel"]


def test_cancelled_job_that_ignores_it_still_ends_cancelled() -> None:
    holder: list[Job[str]] = []

    def fn(ctx: JobContext) -> str:
        holder[0].cancel()
        ctx.progress(0.5, "after cancel")  # still delivered: the job has not finished
        return "ignored"

    messages: list[JobMessage] = []
    job = Job(fn, messages.append)
    holder.append(job)
    job.run()
    assert isinstance(messages[-1], JobFailed) and messages[-1].cancelled


def test_cancel_before_start_never_runs() -> None:
    ran: list[bool] = []
    messages: list[JobMessage] = []
    job = Job(lambda ctx: ran.append(True), messages.append)
    job.cancel()
    job.run()
    assert ran == [] and isinstance(messages[0], JobFailed) and messages[0].cancelled


def test_stop_keeps_the_result() -> None:
    stopped: list[bool] = []

    def fn(ctx: JobContext) -> str:
        ctx.on_stop(lambda: stopped.append(True))
        holder[0].stop()
        return "partial" if ctx.stopping else "full"

    holder: list[Job[str]] = []
    messages: list[JobMessage] = []
    job = Job(fn, messages.append)
    holder.append(job)
    job.run()
    assert stopped == [True]
    assert messages == [JobDone(job.id, "partial")]


def test_no_progress_after_the_end() -> None:
    saved: list[JobContext] = []
    messages: list[JobMessage] = []
    Job(lambda ctx: saved.append(ctx), messages.append).run()
    saved[0].progress(0.9, "late")
    assert len(messages) == 1 and isinstance(messages[0], JobDone)


def test_a_failing_hook_does_not_stop_the_others() -> None:
    calls: list[str] = []

    def bad() -> None:
        raise RuntimeError("hook")

    def fn(ctx: JobContext) -> None:
        ctx.on_cancel(bad)
        ctx.on_cancel(lambda: calls.append("second"))
        holder[0].cancel()

    holder: list[Job[None]] = []
    job = Job(fn, lambda m: None)
    holder.append(job)
    job.run()
    assert calls == ["second"]


def test_cancelled_job_keeps_the_sentence_of_our_own_error() -> None:
    """A create cancelled mid-way rolls back and raises with what it removed: that sentence is
    the cancelled job's message; a foreign exception while cancelling just says "cancelled"."""
    for raised, expected in (
        (JobError("cancelled; removed: volume a.qcow2"), "cancelled; removed: volume a.qcow2"),
        (RuntimeError("socket closed"), "cancelled"),
    ):
        holder: list[Job[str]] = []

        def fn(
            ctx: JobContext, raised: BaseException = raised, holder: list[Job[str]] = holder
        ) -> str:
            holder[0].cancel()
            raise raised

        messages: list[JobMessage] = []
        job = Job(fn, messages.append)
        holder.append(job)
        job.run()
        assert messages[-1] == JobFailed(job.id, expected, Severity.INFO, cancelled=True)
