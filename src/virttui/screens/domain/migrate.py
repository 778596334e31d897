"""Migrate a domain to another open connection: live or offline, with or without copying storage,
a speed limit, progress from the job statistics, and cancel (abort the job)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from virttui.core.domain.migrate import MigrateError, MigrateOptions
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.core.host.stats import DomainRow
from virttui.core.jobs import JobDone, JobFailed, JobProgress
from virttui.screens.common.jobs import host_job, start_job
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import show_fraction
from virttui.widgets.common.plain import append_plain, plain


def describe(text: str) -> Text:
    """A progress line of the migrate job (`core/domain/migrate.describe_progress`): its first
    words ("job <kind>", up to the first double space) in bold."""
    head, sep, rest = text.partition("  ")
    body = plain(head, style="bold")
    if sep:
        append_plain(body, sep + rest)
    return body


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

    # ------------------------------------------------------------------ jobs
    def _load_speed(self) -> None:
        uuid, source = self.uuid, self._facade(self.uri)

        def failed(message: JobFailed) -> None:  # an unsupported driver just leaves it empty
            self.status(f"speed limit: {message.message}")

        start_job(
            self,
            lambda _ctx: source.migration_max_speed(uuid),
            on_done=lambda done: None if done.result is None else self._set_speed(done.result),
            on_failed=failed,
            cancel_on_close=True,
        )

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
        dest = self._facade(dest_uri)
        self.status(f"Migrating to {dest.label}…")
        source, uuid = self._facade(self.uri), self.uuid
        # The app owns the job: the dialog cannot close while it runs (action_close), and a
        # migration is never abandoned by a screen going away.
        start_job(
            self.app,
            lambda ctx: source.migrate_job(ctx, uuid, dest, options),
            on_progress=self._show_progress,
            on_done=self._migrated,
            on_failed=self._migrate_failed,
        )

    def _show_progress(self, progress: JobProgress) -> None:
        if not self.running or not self.is_mounted:
            return
        show_fraction(self.query_one("#migrate-progress", ProgressBar), progress.fraction)
        self.status(describe(progress.text))

    def _ended(self) -> bool:
        self.running = False
        if not self.is_mounted:
            return False
        self.query_one("#abort", Button).disabled = True
        self.query_one("#start", Button).disabled = False
        return True

    def _migrated(self, done: JobDone) -> None:
        text = str(done.result)
        if self._ended():
            self.query_one("#migrate-progress", ProgressBar).update(total=100, progress=100)
            self.status(plain(text, style="bold green", multiline=True))
        self.notify(text, title="Migrated", markup=False)

    def _migrate_failed(self, failed: JobFailed) -> None:
        if self._ended():
            self.query_one("#migrate-progress", ProgressBar).update(total=100, progress=0)
            self.status(f"Migration failed: {failed.message}", error=True)
        self.notify(
            failed.message,
            title="Migration failed",
            severity=failed.severity.value,
            markup=False,
        )

    def _abort(self) -> None:
        uuid = self.uuid
        host_job(
            self.app,
            self.uri,
            "Abort",
            lambda f: f.abort_job(uuid),
            mutating=False,
        )

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
