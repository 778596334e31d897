"""The Textual bridge of the job mechanism: messages arrive on the UI thread in the job's order,
a failure is notified with its severity, a job tied to a screen is cancelled when it closes."""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.pilot_utils import wait_until
from virttui.core.jobs import (
    Job,
    JobContext,
    JobDone,
    JobError,
    JobFailed,
    JobProgress,
    Severity,
)
from virttui.screens.common.jobs import start_job


class Soft(JobError):  # a condition only worth a warning
    severity = Severity.WARNING


class Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("job owner")


class BridgeApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[tuple[str, str, str]] = []

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", **kw: Any
    ) -> None:  # type: ignore[override]
        self.notes.append((title, message, severity))
        super().notify(message, title=title, severity=severity, **kw)


async def test_messages_arrive_on_the_ui_thread_in_order() -> None:
    app = BridgeApp()
    seen: list[tuple[str, object, bool]] = []
    ui_thread: list[threading.Thread] = []

    def fn(ctx: JobContext) -> str:
        for i in range(20):
            ctx.progress(i / 20, f"step {i}")
        return "all done"

    def record(kind: str, value: object) -> None:
        seen.append((kind, value, threading.current_thread() is ui_thread[0]))

    async with app.run_test() as pilot:
        ui_thread.append(threading.current_thread())
        job = start_job(
            app,
            fn,
            title="Count",
            on_progress=lambda p: record("progress", p.text),
            on_done=lambda d: record("done", d.result),
            on_failed=lambda f: record("failed", f.message),
        )
        assert isinstance(job, Job)
        await wait_until(pilot, lambda: any(k == "done" for k, _v, _t in seen), 30)
        await app.workers.wait_for_complete()
    assert [v for _k, v, _t in seen] == [f"step {i}" for i in range(20)] + ["all done"]
    assert all(on_ui for _k, _v, on_ui in seen)
    assert app.notes == []


async def test_failure_is_notified_with_its_severity() -> None:
    app = BridgeApp()
    failures: list[JobFailed] = []

    def fail(_ctx: JobContext) -> None:
        raise Soft("only config was changed")

    def crash(_ctx: JobContext) -> None:
        raise ValueError("bad value")

    async with app.run_test() as pilot:
        start_job(app, fail, title="Soft", on_failed=failures.append)
        start_job(app, crash, title="Crash", on_failed=failures.append)
        start_job(app, crash, on_failed=failures.append)  # no title: no notification
        await wait_until(pilot, lambda: len(failures) == 3, 30)
    assert sorted(app.notes) == [
        ("Crash failed", "ValueError: bad value", "error"),
        ("Soft failed", "only config was changed", "warning"),
    ]
    assert {f.severity for f in failures} == {Severity.WARNING, Severity.ERROR}


async def test_cancel_on_close_cancels_the_job_and_delivers_nothing_after() -> None:
    app = BridgeApp()
    started = threading.Event()
    ended = threading.Event()
    seen: list[object] = []
    contexts: list[JobContext] = []

    def fn(ctx: JobContext) -> str:
        contexts.append(ctx)
        started.set()
        ctx.wait(60)  # until cancelled
        ctx.progress(0.5, "after close")
        ended.set()
        return "late"

    async with app.run_test() as pilot:
        screen = Plain()
        await app.push_screen(screen)
        start_job(
            screen,
            fn,
            title="Tied",
            on_progress=seen.append,
            on_done=seen.append,
            on_failed=seen.append,
            cancel_on_close=True,
        )
        await wait_until(pilot, started.is_set, 30)
        app.pop_screen()
        await wait_until(pilot, ended.is_set, 30)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert contexts[0].cancelled
    assert seen == []
    assert app.notes == []


async def test_job_owned_by_the_app_outlives_the_screen() -> None:
    app = BridgeApp()
    gate = threading.Event()
    done: list[JobDone] = []
    progress: list[JobProgress] = []

    def fn(ctx: JobContext) -> int:
        gate.wait(60)
        ctx.progress(1.0, "copied")
        return 42

    async with app.run_test() as pilot:
        screen = Plain()
        await app.push_screen(screen)
        job = start_job(screen, fn, on_progress=progress.append, on_done=done.append)
        app.pop_screen()
        await pilot.pause()
        gate.set()
        await wait_until(pilot, lambda: bool(done), 30)
    assert not job.cancelled
    assert [p.text for p in progress] == ["copied"] and done[0].result == 42


async def test_explicit_cancel_reports_cancelled_without_a_notification() -> None:
    app = BridgeApp()
    failures: list[JobFailed] = []
    started = threading.Event()

    def fn(ctx: JobContext) -> None:
        started.set()
        ctx.wait(60)
        ctx.check()

    async with app.run_test() as pilot:
        job = start_job(app, fn, title="Long", on_failed=failures.append)
        await wait_until(pilot, started.is_set, 30)
        job.cancel()
        await wait_until(pilot, lambda: bool(failures), 30)
    assert failures[0].cancelled and failures[0].severity is Severity.INFO
    assert app.notes == []


async def test_a_failing_callback_does_not_stop_later_messages() -> None:
    app = BridgeApp()
    done: list[JobDone] = []

    def bad(_p: JobProgress) -> None:
        raise RuntimeError("widget gone")

    def fn(ctx: JobContext) -> str:
        ctx.progress(0.5, "half")
        return "still delivered"

    async with app.run_test() as pilot:
        start_job(app, fn, on_progress=bad, on_done=done.append)
        await wait_until(pilot, lambda: bool(done), 30)
    assert done[0].result == "still delivered"
