"""Migrate a domain to another open connection: live or offline, with or without copying storage,
a speed limit, progress from the job statistics, and cancel (abort the job)."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from virttui.core.common.units import human_rate
from virttui.core.domain.migrate import JobProgress, MigrateError, MigrateOptions
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.host.stats import DomainRow
from virttui.screens.common.services import services
from virttui.widgets.common.plain import append_plain, plain

POLL_SECONDS = 0.5
MIB = 1024 * 1024


def describe(progress: JobProgress) -> Text:
    text = Text()
    text.append(f"job {progress.kind}", style="bold")
    if progress.elapsed_ms:
        text.append(f"  {progress.elapsed_ms / 1000:.1f}s")
    if progress.data_total:
        text.append(f"  {progress.data_processed / MIB:.0f} of {progress.data_total / MIB:.0f} MiB")
    speed = progress.memory_bps + progress.disk_bps
    if speed:
        text.append(f"  {human_rate(speed)}")
    if progress.remaining_ms:
        text.append(f"  ~{progress.remaining_ms / 1000:.0f}s left")
    return text


class MigrateScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, uri: str, uuid: str) -> None:
        super().__init__()
        self.uri = uri
        self.uuid = uuid
        self.running = False

    @property
    def source(self) -> HostConnection:
        return services(self).hosts[self.uri]

    def _facade(self, uri: str) -> HostFacade:
        facade = services(self).facade(uri)
        if facade is None:
            raise LookupError(f"{uri}: no such connection")
        return facade

    def _row(self) -> DomainRow | None:
        return services(self).store.row(self.uri, self.uuid)

    def destinations(self) -> list[tuple[str, str]]:
        """(label, uri) of every other connected host."""
        hosts = services(self).hosts
        return [(h.label, u) for u, h in hosts.items() if u != self.uri and h.connected]

    def compose(self) -> ComposeResult:
        row = self._row()
        name = row.name if row is not None else self.uuid
        active = bool(row is not None and row.active)
        title = Text("Migrate ", style="bold")
        append_plain(title, name)
        append_plain(title, f"  from {self.source.label}", style="dim")
        dests = self.destinations()
        with Vertical(id="migrate-dialog"):
            yield Static(title, id="migrate-title")
            yield Label("Destination (another open connection)")
            yield Select(
                [(plain(label), uri) for label, uri in dests],
                prompt="no other connected host" if not dests else "choose a host",
                value=dests[0][1] if len(dests) == 1 else Select.NULL,
                id="migrate-dest",
            )
            with Horizontal(id="migrate-flags"):
                yield Checkbox("Live", active, disabled=not active, id="live")
                yield Checkbox("Copy storage", False, disabled=not active, id="copy")
                yield Checkbox("Undefine on source", False, id="undefine")
            yield Label("Speed limit MiB/s (empty: unlimited)")
            yield Input(id="migrate-speed", type="integer", placeholder="unlimited")
            yield ProgressBar(total=100, id="migrate-progress", show_eta=False)
            yield Static(id="migrate-status")
            with Horizontal(id="migrate-buttons"):
                yield Button("Close", id="close", variant="primary")
                yield Button("Abort job", id="abort", variant="error", disabled=True)
                yield Button("Migrate", id="start", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()
        self._load_speed()

    # ------------------------------------------------------------------ options
    @on(Checkbox.Changed, "#live")
    def _live_changed(self, event: Checkbox.Changed) -> None:
        copy = self.query_one("#copy", Checkbox)
        copy.disabled = not event.value  # libvirt copies storage only in a live migration
        if not event.value:
            copy.value = False

    def options(self) -> MigrateOptions:
        speed = self.query_one("#migrate-speed", Input).value.strip()
        return MigrateOptions(
            live=self.query_one("#live", Checkbox).value,
            copy_storage=self.query_one("#copy", Checkbox).value,
            undefine_source=self.query_one("#undefine", Checkbox).value,
            max_speed_mibs=int(speed) if speed else None,
        )

    def status(self, text: Text | str, error: bool = False) -> None:
        body = text if isinstance(text, Text) else plain(text, multiline=True)
        if error:
            body.stylize("bold red")
        self.query_one("#migrate-status", Static).update(body)

    # ------------------------------------------------------------------ workers
    @work(thread=True, exit_on_error=False, group="migrate-speed")
    def _load_speed(self) -> None:
        uuid = self.uuid
        try:
            limit = self._facade(self.uri).migration_max_speed(uuid)
        except Exception as exc:  # noqa: BLE001 - an unsupported driver just leaves it empty
            self.app.call_from_thread(self.status, f"speed limit: {error_message(exc)}")
            return
        if limit is not None:
            self.app.call_from_thread(self._set_speed, limit)

    def _set_speed(self, limit: int) -> None:
        self.query_one("#migrate-speed", Input).value = str(limit)

    def _start(self) -> None:
        dest_uri = self.query_one("#migrate-dest", Select).value
        if not isinstance(dest_uri, str):
            self.status("Choose a destination host", error=True)
            return
        try:
            options = self.options()
            row = self._row()
            if row is not None:
                options.check(active=row.active, persistent=True)
        except (MigrateError, ValueError) as exc:
            self.status(str(exc), error=True)
            return
        self.running = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#abort", Button).disabled = False
        self.status(f"Migrating to {services(self).hosts[dest_uri].label}…")
        self._migrate(dest_uri, options)
        self._watch_progress()

    @work(thread=True, exit_on_error=False, group="migrate", exclusive=True)
    def _migrate(self, dest_uri: str, options: MigrateOptions) -> str:
        dest = self._facade(dest_uri)
        source = self._facade(self.uri)
        name = source.migrate(self.uuid, dest, options)
        dest.refresh_now(autostart=True)
        source.refresh_now(autostart=True)
        return f"{name} is now on {dest.label}"

    @work(thread=True, exit_on_error=False, group="migrate-progress", exclusive=True)
    def _watch_progress(self) -> None:
        worker = get_current_worker()
        uuid = self.uuid
        while not worker.is_cancelled and self.running:
            try:
                progress = self._facade(self.uri).job_progress(uuid)
            except Exception:  # noqa: BLE001 - the domain may be gone from the source already
                return
            if progress.active:
                self.app.call_from_thread(self._show_progress, progress)
            time.sleep(POLL_SECONDS)

    def _show_progress(self, progress: JobProgress) -> None:
        if not self.running:
            return
        bar = self.query_one("#migrate-progress", ProgressBar)
        fraction = progress.fraction
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=round(fraction * 100))
        self.status(describe(progress))

    @work(thread=True, exit_on_error=False, group="migrate-abort")
    def _abort(self) -> None:
        self._facade(self.uri).abort_job(self.uuid)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.group == "migrate" and state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.running = False
            self.query_one("#abort", Button).disabled = True
            self.query_one("#start", Button).disabled = False
            bar = self.query_one("#migrate-progress", ProgressBar)
            if state is WorkerState.SUCCESS:
                bar.update(total=100, progress=100)
                self.status(plain(str(worker.result), style="bold green", multiline=True))
                self.notify(str(worker.result), title="Migrated", markup=False)
            else:
                bar.update(total=100, progress=0)
                message = error_message(worker.error) if worker.error else "failed"
                self.status(f"Migration failed: {message}", error=True)
                self.notify(message, title="Migration failed", severity="error", markup=False)
        elif worker.group == "migrate-abort" and state is WorkerState.ERROR:
            message = error_message(worker.error) if worker.error else "failed"
            self.notify(message, title="Abort failed", severity="error", markup=False)

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
                "The migration is still running: abort it first, or wait",
                severity="warning",
            )
            return
        self.dismiss(None)
