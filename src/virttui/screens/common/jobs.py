"""The Textual side of the job mechanism (`core/jobs`): start a job from the app or a screen,
get its messages on the UI thread.

`start_job(owner, fn, ...)` runs `fn(ctx)` off the UI thread (an async Textual worker owned by
`owner` that waits for the job in the default thread pool) and calls `on_progress`, `on_done`,
`on_failed` on the UI thread, in the job's order. A failure is also notified ("<title> failed",
libvirt's message, the failure's severity) when a `title` is given; a cancelled job is not.
With `cancel_on_close`, the job is cancelled when `owner` (a screen) is removed: Textual cancels
the owner's workers then, and the worker cancels the job; nothing is delivered afterwards. The
returned `Job` has `cancel()` and `stop()`.

`host_job(app, uri, title, job, done, ...)` is the common case: one blocking call `job(conn)` on
a host's connection (refusing read-only hosts for a mutating job), then a refresh of the list.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App
from textual.dom import DOMNode
from textual.worker import Worker

from virttui.core.facade.host import HostFacade
from virttui.core.jobs import (
    Job,
    JobContext,
    JobDone,
    JobFailed,
    JobMessage,
    JobProgress,
    start,
)
from virttui.screens.common.services import services

T = TypeVar("T")
WORKER_GROUP = "jobs"


def _app_of(owner: DOMNode) -> App[Any]:
    return owner if isinstance(owner, App) else owner.app


def start_job(
    owner: DOMNode,
    fn: Callable[[JobContext], T],
    *,
    title: str = "",
    on_progress: Callable[[JobProgress], object] | None = None,
    on_done: Callable[[JobDone], object] | None = None,
    on_failed: Callable[[JobFailed], object] | None = None,
    cancel_on_close: bool = False,
    group: str = WORKER_GROUP,
) -> Job[T]:
    """Run `fn(ctx)` off the UI thread; deliver its messages on the UI thread (see module doc).
    Without `cancel_on_close` the job belongs to the app and outlives the screen that started it."""
    app = _app_of(owner)
    node: DOMNode = owner if cancel_on_close else app
    loop = asyncio.get_running_loop()  # the UI thread's loop: start_job runs on the UI thread
    context = contextvars.copy_context()  # Textual's active app: callbacks run inside it
    closed = False

    def deliver(message: JobMessage) -> None:
        if closed:
            return  # the owner is gone: nothing left to update
        if isinstance(message, JobProgress):
            if on_progress is not None:
                on_progress(message)
        elif isinstance(message, JobDone):
            if on_done is not None:
                on_done(message)
        else:
            if title and not message.cancelled:
                app.notify(
                    message.message,
                    title=f"{title} failed",
                    severity=message.severity.value,
                    markup=False,
                    timeout=10,
                )
            if on_failed is not None:
                on_failed(message)

    def deliver_safely(message: JobMessage) -> None:
        # A callback that fails (say, its widget went away) must not reach asyncio's handler,
        # which prints over the screen; as with the thread workers before, it is only logged.
        try:
            deliver(message)
        except Exception as exc:  # noqa: BLE001
            app.log.error(f"job {message.job_id} ({title or 'untitled'}): callback failed: {exc!r}")

    def sink(message: JobMessage) -> None:  # the job's thread
        try:
            loop.call_soon_threadsafe(deliver_safely, message, context=context)
        except RuntimeError:
            pass  # the app has ended: nobody to tell

    job: Job[T] = Job(fn, sink, name=title)

    async def wait_for_job() -> None:
        nonlocal closed
        ended: asyncio.Future[None] = loop.create_future()

        def run() -> None:  # a thread of its own: a long job never starves the worker pool
            try:
                job.run()
            finally:
                try:
                    loop.call_soon_threadsafe(_resolve, ended)
                except RuntimeError:
                    pass  # the app has ended

        try:
            start(job, target=run)
            await ended
        except asyncio.CancelledError:
            # The owner was removed (or the app is closing): cancel without blocking the UI
            # thread (a cancel hook may be a libvirt call or an ssh round trip).
            closed = True
            job.cancel(wait=False)
            raise

    # Annotated: mypy cannot infer run_worker's result type from an async def on its own.
    _worker: Worker[None] = node.run_worker(
        wait_for_job, name=title or "job", group=group, exit_on_error=False
    )
    return job


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# ---------------------------------------------------------------------------------- host jobs
def writable_host(app: App[Any], uri: str) -> HostFacade | None:
    """The host's facade, unless it is gone or read-only (then say so and return None)."""
    host = services(app).facade(uri)
    if host is None:
        app.notify(f"{uri}: no such connection", severity="error", markup=False)
        return None
    if host.readonly:
        app.notify("Read-only connection: actions are disabled", severity="warning", markup=False)
        return None
    return host


def host_job(
    app: App[Any],
    uri: str,
    title: str,
    job: Callable[[HostFacade], T],
    done: Callable[[T], None] | None = None,
    *,
    failed: Callable[[str], None] | None = None,
    mutating: bool = True,
    done_message: Callable[[JobDone], None] | None = None,
) -> Job[T] | None:
    """Run `job(facade)` (the host's `HostFacade`, the only door to libvirt) as a job. On success
    `done(result)` (or `done_message(JobDone)`, which also carries the result's severity) runs on
    the UI thread; on failure an error notification titled "<title> failed", then
    `failed(message)`. A mutating job refreshes the list when it ends, and is refused on a
    read-only host."""
    host = writable_host(app, uri) if mutating else services(app).facade(uri)
    if host is None:
        return None

    def run(_ctx: JobContext) -> T:
        try:
            return job(host)
        finally:
            if mutating:
                host.refresh_now()

    def on_done(message: JobDone) -> None:
        if done_message is not None:
            done_message(message)
        if done is not None:
            done(message.result)

    return start_job(
        app,
        run,
        title=title,
        on_done=on_done,
        on_failed=None if failed is None else (lambda m: failed(m.message)),
    )
