"""Upload a local file into a volume, download a volume into a local file (core/storage/streams.py
through the facade): libvirt's volume streams, sparse where the pool allows, progress, Cancel.

The local file is the admin's own, on the machine virttui runs on, also for a `qemu+ssh` host.
A download never replaces an existing file unless "Overwrite" is ticked; a cancelled download
leaves nothing behind.

Entry point: `TransferDialog(uri, "upload" | "download", pool="", volume="")` (for a volume row of
a pool screen: pool and volume name filled in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from virttui.core.facade.host import HostFacade
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobProgress
from virttui.core.storage.streams import TransferResult, VolumeInUse, check_upload_target
from virttui.core.storage.used_by import User
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job, start_job, writable_host
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import show_fraction, show_status
from virttui.screens.storage.pool_choice import offer_active_pools
from virttui.widgets.common.plain import append_plain

Direction = Literal["upload", "download"]


class TransferDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, uri: str, direction: Direction, pool: str = "", volume: str = "") -> None:
        super().__init__()
        self.uri = uri
        self.direction: Direction = direction
        self.pool = pool
        self.volume = volume
        self.job: Job[TransferResult] | None = None

    def compose(self) -> ComposeResult:
        upload = self.direction == "upload"
        title = "Upload a local file into a volume" if upload else "Download a volume"
        with Vertical(classes="dialog", id="transfer-dialog"):
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield Label("Pool")
            yield Select[str]([], id="transfer-pool", prompt="reading pools…", compact=True)
            yield Label("Volume name")
            yield Input(self.volume, id="transfer-volume", compact=True)
            yield Label("Local file (on this machine)" + (" to send" if upload else " to write"))
            yield Input(id="transfer-local", compact=True)
            if not upload:
                yield Checkbox(
                    "Overwrite an existing local file", id="transfer-overwrite", compact=True
                )
            yield ProgressBar(total=100, id="transfer-progress", show_eta=True)
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary", compact=True)
                yield Button(
                    "Cancel transfer", id="abort", variant="error", disabled=True, compact=True
                )
                yield Button(
                    "Upload" if upload else "Download", id="start", variant="warning", compact=True
                )

    def on_mount(self) -> None:
        self.query_one("#transfer-local", Input).focus()
        offer_active_pools(
            self,
            self.uri,
            "#transfer-pool",
            self.pool,
            failed=lambda message: self.status(message, error=True),
        )

    def status(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        show_status(self.query_one(".live-status", Static), text, error=error, ok=ok)

    @property
    def running(self) -> bool:
        return self.job is not None

    def _start(self) -> None:
        pool = self.query_one("#transfer-pool", Select).value
        volume = self.query_one("#transfer-volume", Input).value.strip()
        local = self.query_one("#transfer-local", Input).value.strip()
        if not isinstance(pool, str):
            self.status("Choose a pool", error=True)
            return
        if not volume or not local:
            self.status("Name the volume and the local file", error=True)
            return
        host = writable_host(self.app, self.uri)
        if host is None:
            return
        if self.direction == "upload":
            self._check_users(host, pool, volume, local)
            return
        overwrite = self.query_one("#transfer-overwrite", Checkbox).value

        def body(ctx: JobContext) -> TransferResult:
            return host.download_volume(ctx, pool, volume, local, overwrite=overwrite)

        self._run(body)

    def _others(self) -> list[Any]:
        """The other open hosts: a volume on shared storage may be used there too."""
        return [h for u, h in services(self).hosts.items() if u != self.uri]

    def _check_users(self, host: HostFacade, pool: str, volume: str, local: str) -> None:
        """An upload writes the volume: who uses it is asked first (the one used_by check).
        A running user refuses (the job would refuse too); other users need a confirmation."""
        others = self._others()

        def body(confirmed: bool) -> Callable[[JobContext], TransferResult]:
            return lambda ctx: host.upload_volume(
                ctx, pool, volume, local, others=others, confirmed=confirmed
            )

        def answered(users: tuple[User, ...]) -> None:
            if not self.is_mounted:
                return
            try:
                check_upload_target(users, volume, confirmed=False)
            except VolumeInUse as exc:
                if any(u.kind == "domain" and u.running for u in users):
                    self.status(str(exc), error=True)
                    return
                question = Text("Upload into ", style="bold")
                append_plain(question, volume, "bold")
                question.append("?\n\n")
                append_plain(question, str(exc), multiline=True)
                self.app.push_screen(
                    ConfirmScreen(question, confirm_label="Upload"),
                    lambda ok: self._run(body(True)) if ok else None,
                )
                return
            self._run(body(False))

        self.status("Checking who uses the volume…")
        host_job(
            self.app,
            self.uri,
            "Check the volume",
            lambda f: f.volume_users(pool, volume, others),
            answered,
            failed=lambda message: self.status(message, error=True),
            mutating=False,
        )

    def _run(self, body: Callable[[JobContext], TransferResult]) -> None:
        self.query_one("#start", Button).disabled = True
        self.query_one("#abort", Button).disabled = False
        self.status("Starting…")
        self.job = start_job(
            self.app,
            body,
            title="Upload" if self.direction == "upload" else "Download",
            on_progress=self._progress,
            on_done=self._done,
            on_failed=self._failed,
        )

    def _progress(self, progress: JobProgress) -> None:
        if not self.is_mounted:
            return
        show_fraction(self.query_one("#transfer-progress", ProgressBar), progress.fraction)
        self.status(progress.text)

    def _ended(self) -> bool:
        self.job = None
        if not self.is_mounted:
            return False
        self.query_one("#abort", Button).disabled = True
        self.query_one("#start", Button).disabled = False
        return True

    def _done(self, done: JobDone) -> None:
        result = done.result
        text = result.describe() if isinstance(result, TransferResult) else str(result)
        if self._ended():
            self.query_one("#transfer-progress", ProgressBar).update(total=100, progress=100)
            self.status(text, ok=True)
        self.app.notify(text, title=self.direction.capitalize() + " done", markup=False)

    def _failed(self, failed: JobFailed) -> None:
        if self._ended():
            self.query_one("#transfer-progress", ProgressBar).update(total=100, progress=0)
            if failed.cancelled:
                done = "no partial file left" if self.direction == "download" else "stopped"
                self.status(f"Cancelled ({done})")
            else:
                self.status(failed.message, error=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self._start()
        elif event.button.id == "abort":
            if self.job is not None:
                self.job.cancel(wait=False)
        else:
            self.action_close()

    def action_close(self) -> None:
        if self.running:
            self.notify(
                "The transfer is still running: cancel it first, or wait", severity="warning"
            )
            return
        self.dismiss(None)


__all__ = ["TransferDialog"]
