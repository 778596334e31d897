"""Dialogs for the live routes of a running domain's disk (core/domain/blockjobs.py through the
facade): grow it, commit or pull an overlay, copy it to a new file, with progress from the block
job and Abort.

Entry point for other screens: `open_live_route(app, uri, uuid, target, route)` with `route` one
of "resize", "commit", "pull", "copy" (e.g. from an image screen whose write was refused because
a running domain uses the image: the refusal names the route).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from virttui.core.common.units import human_bytes
from virttui.core.domain.blockjobs import (
    ROUTE_TITLES,
    ROUTES,
    BlockJobResult,
    DiskRef,
    LiveDisk,
    Resized,
    Route,
    parse_new_size,
    suggest_route,
)
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobProgress
from virttui.screens.common.jobs import host_job, start_job, writable_host
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import show_fraction, show_status
from virttui.widgets.common.mounting import after_mount
from virttui.widgets.common.plain import append_plain, plain

MIB = 1 << 20


def open_live_route(
    app: App[Any], uri: str, uuid: str, target: str, route: str, *, image: str = ""
) -> None:
    """Open the dialog of one live route for disk `target` of the running domain `uuid`.
    `image`: for a commit, the overlay to commit (preselected as its top)."""
    if route == "resize":
        app.push_screen(LiveResizeDialog(uri, uuid, target))
    elif route in ROUTES:
        app.push_screen(BlockJobDialog(uri, uuid, target, route, top=image))
    else:
        app.notify(f"No live route {route!r}", severity="error", markup=False)


def open_live_route_for_path(app: App[Any], uri: str, domain: str, path: str, action: str) -> None:
    """For a guard that refused an offline `action` ("resize", "commit", "rebase", "convert")
    on `path` because the running domain `domain` (name or UUID) uses it: find the disk and
    open the live route that does it instead, or say there is none (naming the domain)."""

    def found(ref: DiskRef) -> None:
        route = suggest_route(action, ref.depth)
        if route is None:
            where = "its active layer" if ref.depth == 0 else f"backing image {ref.depth}"
            app.notify(
                f"{ref.name} runs on {path} ({ref.target}, {where}): there is no live route "
                f"for {action}; shut the domain off first",
                title="No live route",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        open_live_route(app, uri, ref.uuid, ref.target, route, image=path)

    host_job(
        app,
        uri,
        "Find the disk",
        lambda f: f.find_disk_using(domain, path),
        found,
        mutating=False,
    )


def _title(action: str, target: str, name: str) -> Text:
    text = Text()
    append_plain(text, f"{action}: ", "bold")
    append_plain(text, f"{target} of {name}")
    return text


def parse_bandwidth(text: str) -> int:
    """A speed limit in MiB/s typed in a form ("" = unlimited) as bytes/s."""
    raw = text.strip()
    if not raw:
        return 0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"Speed limit: a number of MiB/s, e.g. 50 (not {raw!r})") from None
    if not value > 0 or value > 1 << 30:
        raise ValueError(f"Speed limit: above zero, in MiB/s (not {raw!r})")
    return max(1, int(value * MIB))


class _LiveDialog(ModalScreen[None]):
    """Shared: title, status line, the domain's name looked up in the store."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CLASSES = "live-dialog"

    def __init__(self, uri: str, uuid: str, target: str) -> None:
        super().__init__()
        self.uri = uri
        self.uuid = uuid
        self.target = target

    @property
    def domain_name(self) -> str:
        row = services(self).store.row(self.uri, self.uuid)
        return row.name if row is not None else self.uuid

    def status(self, text: str | Text, *, error: bool = False, ok: bool = False) -> None:
        show_status(self.query_one(".live-status", Static), text, error=error, ok=ok)

    def action_close(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- resize
class LiveResizeDialog(_LiveDialog):
    """Grow a running domain's disk (blockResize); a shrink is refused with the reason."""

    def __init__(self, uri: str, uuid: str, target: str) -> None:
        super().__init__(uri, uuid, target)
        self.current: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="live-resize-dialog"):
            yield Static(
                _title("Grow disk (live)", self.target, self.domain_name), classes="dialog-title"
            )
            yield Static("Current size: …", id="live-current")
            yield Label("New size (e.g. 20G, 1.5T, or +5G to grow by)")
            yield Input(id="live-size", placeholder="+1G", compact=True)
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button("Grow", id="grow", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#live-size", Input).focus()
        uuid, target = self.uuid, self.target
        host_job(
            self.app,
            self.uri,
            "Read the disk",
            lambda f: f.disk_capacity(uuid, target),
            self._show_current,
            failed=lambda message: self.status(message, error=True),
            mutating=False,
        )

    @after_mount
    def _show_current(self, size: int) -> None:
        self.current = size
        self.query_one("#live-current", Static).update(
            plain(f"Current size: {human_bytes(size)} ({size} bytes)")
        )

    def new_size(self) -> int:
        """The size typed, checked against the current size (ValueError with a sentence)."""
        if self.current is None:
            raise ValueError("The disk's current size is not known yet")
        size = parse_new_size(self.query_one("#live-size", Input).value, self.current)
        if size < self.current:
            raise ValueError(
                f"{human_bytes(size)} is smaller than the disk ({human_bytes(self.current)}): a "
                "running domain's disk is only grown"
            )
        if size == self.current:
            raise ValueError(f"The disk is already {human_bytes(size)}")
        return size

    def _grow(self) -> None:
        try:
            size = self.new_size()
        except ValueError as exc:
            self.status(str(exc), error=True)
            return
        uuid, target = self.uuid, self.target
        self.query_one("#grow", Button).disabled = True
        self.status(f"Growing {target} to {human_bytes(size)}…")

        def failed(message: str) -> None:
            if self.is_mounted:
                self.query_one("#grow", Button).disabled = False
                self.status(message, error=True)

        host_job(
            self.app,
            self.uri,
            "Grow disk",
            lambda f: f.live_resize(uuid, target, size),
            self._grown,
            failed=failed,
        )

    def _grown(self, resized: Resized) -> None:
        self.app.notify(resized.describe(), title="Disk grown", markup=False)
        if self.is_mounted:
            self.dismiss(None)

    @on(Input.Submitted, "#live-size")
    def _submitted(self) -> None:
        self._grow()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "grow":
            self._grow()
        else:
            self.action_close()


# ---------------------------------------------------------------------------------- block jobs
ALL = "__all__"
ACTIVE = "__active__"


class BlockJobDialog(_LiveDialog):
    """Commit, pull or copy a running domain's disk, as a job with progress and Abort."""

    def __init__(self, uri: str, uuid: str, target: str, route: Route, *, top: str = "") -> None:
        super().__init__(uri, uuid, target)
        self.preset_top = top  # a commit's top chosen by the caller (else the active layer)
        if route not in ("commit", "pull", "copy"):
            raise ValueError(f"not a block job route: {route}")
        self.route: Route = route
        self.disk: LiveDisk | None = None
        self.job: Job[BlockJobResult] | None = None

    @property
    def running(self) -> bool:
        return self.job is not None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="live-job-dialog"):
            yield Static(
                _title(ROUTE_TITLES[self.route], self.target, self.domain_name),
                classes="dialog-title",
            )
            yield Static("Backing chain: …", id="live-chain")
            if self.route == "commit":
                yield Label("Commit (top)")
                yield Select[str](
                    [], id="live-top", allow_blank=True, prompt="active layer", compact=True
                )
                yield Label("Into (base)")
                yield Select[str](
                    [], id="live-base", allow_blank=True, prompt="the image below", compact=True
                )
            elif self.route == "pull":
                yield Label("Pull down to (base: kept as backing)")
                yield Select[str](
                    [], id="live-base", allow_blank=True, prompt="all of the chain", compact=True
                )
            else:
                yield Label("New file on the host (must not exist)")
                yield Input(
                    id="live-dest", placeholder="/var/lib/libvirt/images/copy.qcow2", compact=True
                )
                with Horizontal(classes="live-row"):
                    yield Select[str](
                        [("qcow2", "qcow2"), ("raw", "raw")],
                        value="qcow2",
                        allow_blank=False,
                        compact=True,
                        id="live-format",
                    )
                    yield Select[str](
                        [
                            ("then switch to the copy (pivot)", "pivot"),
                            ("then keep the copy, stay on the disk", "finish"),
                        ],
                        value="pivot",
                        allow_blank=False,
                        compact=True,
                        id="live-finish",
                    )
                yield Checkbox(
                    "Shallow (top image only, same backing chain)", id="live-shallow", compact=True
                )
                yield Checkbox(
                    "Remote host: I checked the file does not exist",
                    id="live-unchecked",
                    compact=True,
                )
            yield Label("Speed limit MiB/s (empty: unlimited)")
            yield Input(id="live-speed", placeholder="unlimited", compact=True)
            yield ProgressBar(total=100, id="live-progress", show_eta=False)
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary", compact=True)
                yield Button("Abort job", id="abort", variant="error", disabled=True, compact=True)
                yield Button("Start", id="start", variant="warning", disabled=True, compact=True)

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()
        facade = services(self).facade(self.uri)
        for box in self.query("#live-unchecked"):
            box.display = facade is not None and not facade.is_local  # only a remote host asks
        uuid, target = self.uuid, self.target
        host_job(
            self.app,
            self.uri,
            "Read the disk",
            lambda f: f.live_disk(uuid, target),
            self._show_disk,
            failed=lambda message: self.status(message, error=True),
            mutating=False,
        )

    @after_mount
    def _show_disk(self, disk: LiveDisk) -> None:
        self.disk = disk
        chain = plain("Backing chain: ", style="bold")
        append_plain(chain, " → ".join(disk.images) or "(no file)")
        self.query_one("#live-chain", Static).update(chain)
        options = [(plain(p), p) for p in disk.chain]
        if self.route == "commit":
            tops = disk.chain[:-1]
            select = self.query_one("#live-top", Select)
            select.set_options([(plain(p), p) for p in tops])
            if self.preset_top in tops:
                select.value = self.preset_top
            self.query_one("#live-base", Select).set_options(options)
        elif self.route == "pull":
            self.query_one("#live-base", Select).set_options(options)
        if self.route in ("commit", "pull") and not disk.chain:
            self.status(f"{disk.target} has no backing image: nothing to {self.route}", error=True)
            return
        self.query_one("#start", Button).disabled = False

    # ------------------------------------------------------------------ the job
    def _value(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else ""

    def job_body(self) -> Callable[[JobContext], BlockJobResult]:
        """The job for the form's values: fn(ctx) calling the facade (ValueError if invalid)."""
        bandwidth = parse_bandwidth(self.query_one("#live-speed", Input).value)
        uuid, target = self.uuid, self.target
        facade = writable_host(self.app, self.uri)
        if facade is None:
            raise ValueError("This connection cannot run the job")
        host: HostFacade = facade
        # The other open hosts: a shared base image may be used there too.
        others = [h for u, h in services(self).hosts.items() if u != self.uri]
        if self.route == "commit":
            top, base = self._value("#live-top"), self._value("#live-base")
            return lambda ctx: host.block_commit_job(
                ctx, uuid, target, top=top, base=base, bandwidth=bandwidth, others=others
            )
        if self.route == "pull":
            base = self._value("#live-base")
            return lambda ctx: host.block_pull_job(
                ctx, uuid, target, base=base, bandwidth=bandwidth, others=others
            )
        dest = self.query_one("#live-dest", Input).value.strip()
        if not dest:
            raise ValueError("Name the new file")
        fmt = self._value("#live-format") or "qcow2"
        finish: Literal["pivot", "finish"] = (
            "finish" if self._value("#live-finish") == "finish" else "pivot"
        )
        shallow = self.query_one("#live-shallow", Checkbox).value
        unchecked = self.query_one("#live-unchecked", Checkbox).value

        def copy(ctx: JobContext) -> BlockJobResult:
            return host.block_copy_job(
                ctx,
                uuid,
                target,
                dest,
                fmt=fmt,
                finish=finish,
                shallow=shallow,
                bandwidth=bandwidth,
                unchecked_ok=unchecked,
            )

        return copy

    def _start(self) -> None:
        try:
            body = self.job_body()
        except ValueError as exc:
            self.status(str(exc), error=True)
            return
        self.query_one("#start", Button).disabled = True
        self.query_one("#abort", Button).disabled = False
        self.status(f"Starting the {self.route}…")
        host = writable_host(self.app, self.uri)

        def done(message: JobDone) -> None:
            if host is not None:
                host.refresh_now()
            self._finished(message)

        # The app owns the job: closing the dialog never abandons a block job half-way.
        self.job = start_job(
            self.app,
            body,
            title=ROUTE_TITLES[self.route],
            on_progress=self._progress,
            on_done=done,
            on_failed=self._failed,
        )

    def _progress(self, progress: JobProgress) -> None:
        if not self.is_mounted:
            return
        show_fraction(self.query_one("#live-progress", ProgressBar), progress.fraction)
        self.status(progress.text)

    def _ended(self) -> bool:
        self.job = None
        if not self.is_mounted:
            return False
        self.query_one("#abort", Button).disabled = True
        self.query_one("#start", Button).disabled = False
        return True

    def _finished(self, done: JobDone) -> None:
        result = done.result
        text = result.describe() if isinstance(result, BlockJobResult) else str(result)
        if self._ended():
            self.query_one("#live-progress", ProgressBar).update(total=100, progress=100)
            self.status(text, ok=True)
        self.app.notify(text, title=ROUTE_TITLES[self.route], markup=False, timeout=10)

    def _failed(self, failed: JobFailed) -> None:
        if self._ended():
            self.query_one("#live-progress", ProgressBar).update(total=100, progress=0)
            if failed.cancelled:
                self.status("Aborted; reading the disk again…")
                self._show_after_abort()
            else:
                self.status(failed.message, error=True)

    def _show_after_abort(self) -> None:
        """What the disk runs on after an abort (an abort that crossed a pivot leaves the disk
        on the new image: said as it is, never assumed)."""
        uuid, target, before = self.uuid, self.target, self.disk

        def show(disk: LiveDisk) -> None:
            if not self.is_mounted:
                return
            same = before is not None and disk.images == before.images
            head = "Aborted: the disk is as it was" if same else "Aborted after it took effect"
            self._show_disk(disk)
            self.status(f"{head}; it runs on: " + " → ".join(disk.images))

        host_job(
            self.app,
            self.uri,
            "Read the disk",
            lambda f: f.live_disk(uuid, target),
            show,
            failed=lambda message: self.status(f"Aborted; {message}", error=True),
            mutating=False,
        )

    def _abort(self) -> None:
        if self.job is not None:
            self.status("Aborting…")
            self.job.cancel(wait=False)

    # ------------------------------------------------------------------ buttons
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self._start()
        elif event.button.id == "abort":
            self._abort()
        else:
            self.action_close()

    def action_close(self) -> None:
        if self.running:
            self.notify(
                "The block job is still running: abort it first, or wait",
                severity="warning",
            )
            return
        self.dismiss(None)


__all__ = [
    "BlockJobDialog",
    "LiveResizeDialog",
    "open_live_route",
    "open_live_route_for_path",
    "parse_bandwidth",
]
