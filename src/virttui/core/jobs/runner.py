"""A job: a callable `fn(ctx)` run off the UI thread, cancellable, reporting typed messages.

`Job(fn, sink).run()` runs `fn` in the calling thread (a Textual thread worker, a plain thread or
a test) and hands every message to `sink` in order: any number of `JobProgress`, then exactly
one `JobDone` or `JobFailed`. It never raises: every exception becomes a `JobFailed` through
`describe_error`. `cancel()` and `stop()` may be called from any thread.

- cancel: the job is abandoned. `ctx.cancelled` turns true, `ctx.check()` raises JobCancelled,
  the hooks registered with `ctx.on_cancel` run (kill a process group, abort a libvirt job), and
  the job ends with `JobFailed(cancelled=True)` whatever `fn` returns.
- stop: the job is asked to finish early and keep what it has (fio: SIGINT, then its partial
  report). Hooks registered with `ctx.on_stop` run; `fn`'s result is delivered as usual.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from virttui.core.jobs.errors import JobCancelled, JobError, describe_error
from virttui.core.jobs.messages import JobDone, JobFailed, JobMessage, JobProgress, Severity

T = TypeVar("T")
Sink = Callable[[JobMessage], None]
Hook = Callable[[], None]

_ids = itertools.count(1)
_local = threading.local()


class JobContext:
    """What a running job sees: report progress, check for cancel/stop, register hooks."""

    def __init__(self, job_id: int, emit: Sink) -> None:
        self.job_id = job_id
        self._emit = emit
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._stopping = threading.Event()
        self._finished = False
        self._cancel_hooks: list[Hook] = []
        self._stop_hooks: list[Hook] = []
        self.severity = Severity.INFO

    # ------------------------------------------------------------------ inside the job
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def check(self) -> None:
        """Raise JobCancelled when the job was cancelled (call between steps)."""
        if self.cancelled:
            raise JobCancelled()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True at once when cancelled."""
        return self._cancelled.wait(seconds)

    def progress(self, fraction: float | None = None, text: str = "") -> None:
        if fraction is not None:
            fraction = min(1.0, max(0.0, fraction))
        with self._lock:
            if self._finished:
                return
        self._emit(JobProgress(self.job_id, fraction, text))

    def note(self, severity: Severity) -> None:
        """Raise the severity the result is reported with (never lowers it)."""
        self.severity = self.severity.at_least(severity)

    def on_cancel(self, hook: Hook) -> Hook:
        """Run `hook` when the job is cancelled (at once if it already is). Returns an
        unregister function, for hooks that only apply to one step."""
        return self._register(self._cancel_hooks, self._cancelled, hook)

    def on_stop(self, hook: Hook) -> Hook:
        return self._register(self._stop_hooks, self._stopping, hook)

    def _register(self, hooks: list[Hook], flag: threading.Event, hook: Hook) -> Hook:
        with self._lock:
            already = flag.is_set()
            if not already:
                hooks.append(hook)
        if already:
            _run_hook(hook)

        def unregister() -> None:
            with self._lock:
                if hook in hooks:
                    hooks.remove(hook)

        return unregister

    # ------------------------------------------------------------------ from outside
    def _trigger(self, flag: threading.Event, hooks: list[Hook]) -> None:
        with self._lock:
            if flag.is_set() or self._finished:
                flag.set()
                return
            flag.set()
            todo = list(hooks)
        for hook in todo:
            _run_hook(hook)

    def _finish(self) -> None:
        with self._lock:
            self._finished = True


def _run_hook(hook: Hook) -> None:
    try:
        hook()
    except Exception:  # noqa: BLE001, S110 - a hook that fails must not stop the others
        pass


class Job(Generic[T]):
    """One run of `fn(ctx)`; messages go to `sink` (from the job's thread)."""

    def __init__(self, fn: Callable[[JobContext], T], sink: Sink, *, name: str = "") -> None:
        self.id = next(_ids)
        self.name = name
        self.fn = fn
        self.sink = sink
        self.context = JobContext(self.id, sink)

    def cancel(self, *, wait: bool = True) -> None:
        """Cancel now (`cancelled` is true on return); the cancel hooks run in this thread, or in
        a new one with `wait=False` (from the UI thread: a hook may block)."""
        ctx = self.context
        if wait:
            ctx._trigger(ctx._cancelled, ctx._cancel_hooks)
            return
        with ctx._lock:
            first = not ctx._cancelled.is_set() and not ctx._finished
            todo = list(ctx._cancel_hooks) if first else []
            ctx._cancelled.set()
        if todo:

            def run_hooks() -> None:
                for hook in todo:
                    _run_hook(hook)

            threading.Thread(target=run_hooks, name=f"cancel job-{self.id}", daemon=True).start()

    def stop(self) -> None:
        self.context._trigger(self.context._stopping, self.context._stop_hooks)

    @property
    def cancelled(self) -> bool:
        return self.context.cancelled

    def run(self) -> None:
        """Blocking: run the job in this thread and deliver its messages. Never raises."""
        ctx = self.context
        outer = getattr(_local, "context", None)
        _local.context = ctx
        try:
            if ctx.cancelled:
                raise JobCancelled()
            result = self.fn(ctx)
        except BaseException as exc:  # noqa: BLE001 - every failure is a message, none a crash
            ctx._finish()
            if ctx.cancelled or isinstance(exc, JobCancelled):
                # Our own errors carry a sentence for the admin (a create's rollback says what it
                # removed): keep it; anything else raised while cancelling just says "cancelled".
                text = describe_error(exc)[0] if isinstance(exc, JobError) else "cancelled"
                self.sink(JobFailed(self.id, text, Severity.INFO, cancelled=True))
            else:
                message, severity = describe_error(exc)
                self.sink(JobFailed(self.id, message, severity))
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt / SystemExit: reported, and passed on
        else:
            ctx._finish()
            if ctx.cancelled:
                self.sink(JobFailed(self.id, "cancelled", Severity.INFO, cancelled=True))
            else:
                self.sink(JobDone(self.id, result, ctx.severity))
        finally:
            _local.context = outer


def current_context() -> JobContext | None:
    """The context of the job running in this thread, if any."""
    return getattr(_local, "context", None)


def note(severity: Severity) -> None:
    """Raise the current job's result severity (no-op outside a job). For core code that knows
    a condition worth a warning (a live change refused, kept in the config) deep in a call."""
    ctx = current_context()
    if ctx is not None:
        ctx.note(severity)


def start(
    job: Job[T], *, daemon: bool = True, target: Callable[[], None] | None = None
) -> threading.Thread:
    """Run `job` in a new thread of its own (`target`: a wrapper that calls `job.run()`)."""
    thread = threading.Thread(
        target=target or job.run, name=f"job-{job.id} {job.name}".rstrip(), daemon=daemon
    )
    thread.start()
    return thread
