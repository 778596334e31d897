"""libvirt secrets of a host (core/storage/secrets.py through the facade): list them (never their
values), create a volume passphrase secret, delete one; create a LUKS-encrypted volume in a pool
with a new or an existing volume secret.

Passphrases are typed into password inputs, handed to the job that calls libvirt, and the inputs
are cleared at once: nothing here keeps, shows or logs them.

Entry points: `SecretsScreen(uri)`; `EncryptedVolumeDialog(uri, pool="")` (for a pool screen's
"new encrypted volume").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from virttui.core.common.units import human_bytes
from virttui.core.domain.blockjobs import parse_new_size
from virttui.core.facade.host import HostFacade
from virttui.core.storage.secrets import LUKS_FORMATS, SecretError, SecretInfo, check_passphrase
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job
from virttui.screens.common.ui_jobs import show_status
from virttui.screens.storage.pool_choice import offer_active_pools
from virttui.widgets.common.mounting import after_mount
from virttui.widgets.common.plain import append_plain, plain

NEW_SECRET = "__new__"


def _label(app: Any, uri: str) -> str:
    from virttui.screens.common.services import services

    facade = services(app).facade(uri)
    return facade.label if facade is not None else uri


def _status(screen: ModalScreen[Any], text: str, *, error: bool = False) -> None:
    show_status(screen.query_one(".live-status", Static), text, error=error)


def _passphrase(screen: ModalScreen[Any]) -> str:
    """The passphrase typed twice (ValueError when they differ or it is unusable); both inputs
    are cleared either way."""
    first = screen.query_one("#secret-pass", Input)
    second = screen.query_one("#secret-pass2", Input)
    typed, again = first.value, second.value
    first.value = second.value = ""
    if typed != again:
        raise ValueError("The two passphrases differ: type them again")
    try:
        check_passphrase(typed)
    except SecretError as exc:
        raise ValueError(str(exc)) from None
    return typed


def _passphrase_fields() -> ComposeResult:
    yield Label("Passphrase (never stored by virttui, never shown)")
    yield Input(id="secret-pass", password=True, compact=True)
    yield Label("Passphrase again")
    yield Input(id="secret-pass2", password=True, compact=True)


# ---------------------------------------------------------------------------------- list
class SecretsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("n", "new_secret", "New secret", id="secrets.new"),
        Binding("e", "new_volume", "Encrypted volume", id="secrets.encrypted_volume"),
        Binding("delete,d", "delete", "Delete", id="secrets.delete"),
        Binding("r", "reload", "Reload", id="secrets.reload"),
    ]

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri
        self.rows: list[SecretInfo] = []

    def compose(self) -> ComposeResult:
        title = Text("libvirt secrets on ", style="bold")
        append_plain(title, _label(self.app, self.uri))
        with Vertical(classes="dialog", id="secrets-dialog"):
            yield Static(title, classes="dialog-title")
            yield DataTable(id="secrets-table", cursor_type="row", zebra_stripes=True)
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary", compact=True)
                yield Button("Delete", id="delete", variant="error", compact=True)
                yield Button("Encrypted volume", id="volume", compact=True)
                yield Button("New secret", id="new", compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Usage", "For", "Description", "UUID")
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        host_job(
            self.app,
            self.uri,
            "List secrets",
            lambda f: f.secrets(),
            self.show,
            failed=lambda message: _status(self, message, error=True),
            mutating=False,
        )

    @after_mount
    def show(self, secrets: list[SecretInfo]) -> None:
        self.rows = secrets
        table = self.query_one(DataTable)
        table.clear()
        for s in secrets:
            table.add_row(
                plain(s.usage_type),
                plain(s.usage_id),
                plain(s.description),
                plain(s.uuid),
                key=s.uuid,
            )
        _status(self, f"{len(secrets)} secret(s); values are never read")

    def current(self) -> SecretInfo | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_new_secret(self) -> None:
        self.app.push_screen(NewSecretDialog(self.uri), lambda _: self.action_reload())

    def action_new_volume(self) -> None:
        self.app.push_screen(EncryptedVolumeDialog(self.uri), lambda _: self.action_reload())

    def action_delete(self) -> None:
        secret = self.current()
        if secret is None:
            _status(self, "No secret selected", error=True)
            return
        uuid = secret.uuid
        host_job(
            self.app,
            self.uri,
            "Find the secret's users",
            lambda f: f.secret_users(uuid),
            lambda users: self._confirm_delete(secret, users),
            failed=lambda message: _status(self, message, error=True),
            mutating=False,
        )

    def _confirm_delete(self, secret: SecretInfo, users: list[str]) -> None:
        question = Text("Delete the secret ", style="bold")
        append_plain(question, secret.uuid)
        question.append("?\n\n")
        append_plain(question, f"{secret.usage_type} {secret.usage_id}".strip(), multiline=True)
        if users:
            question.append("\n\nIt is used by:\n", style="bold")
            for user in users:
                append_plain(question, f"  {user}\n")
            question.append(
                "\nlibvirt can no longer open them: their data stays, locked, until a secret "
                "with the same passphrase is defined again."
            )
        else:
            question.append("\n\nNo domain or volume on this host refers to it.")
        uuid = secret.uuid

        def answered(ok: bool | None) -> None:
            if ok:
                host_job(
                    self.app,
                    self.uri,
                    "Delete secret",
                    lambda f: f.delete_secret(uuid),
                    lambda _none: self.action_reload(),
                    failed=lambda message: _status(self, message, error=True),
                )

        self.app.push_screen(ConfirmScreen(question, confirm_label="Delete"), answered)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "new": self.action_new_secret,
            "volume": self.action_new_volume,
            "delete": self.action_delete,
        }
        actions.get(event.button.id or "", self.action_close)()

    def action_close(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- create
class _CreateDialog(ModalScreen[str | None]):
    """Shared by the new secret and new LUKS volume dialogs: Cancel / Create, and the creation
    as a job (Create disabled meanwhile; a failure shown, Create again; done: notified, then
    the dialog dismisses with what `_create_job`'s call returned)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri

    def _create(self) -> None:
        raise NotImplementedError

    def _create_job(
        self,
        title: str,
        call: Callable[[HostFacade], str],
        done_title: str,
        notice: Callable[[str], str],
    ) -> None:
        """Run `call` on the host (job `title`); done: notification `done_title` saying
        `notice(result)`."""
        self.query_one("#create", Button).disabled = True

        def failed(message: str) -> None:
            if self.is_mounted:
                self.query_one("#create", Button).disabled = False
                _status(self, message, error=True)

        def done(result: str) -> None:
            self.app.notify(notice(result), title=done_title, markup=False)
            if self.is_mounted:
                self.dismiss(result)

        host_job(self.app, self.uri, title, call, done, failed=failed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self._create()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- new secret
class NewSecretDialog(_CreateDialog):
    """A volume passphrase secret for a volume path; dismisses with the new UUID."""

    def __init__(self, uri: str, volume_path: str = "") -> None:
        super().__init__(uri)
        self.volume_path = volume_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="new-secret-dialog"):
            yield Static(Text("New volume secret", style="bold"), classes="dialog-title")
            yield Label("Volume path on the host (the secret's usage)")
            yield Input(self.volume_path, id="secret-volume", compact=True)
            yield Label("Description (optional)")
            yield Input(id="secret-description", compact=True)
            yield from _passphrase_fields()
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button("Create", id="create", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#secret-volume", Input).focus()

    def _create(self) -> None:
        path = self.query_one("#secret-volume", Input).value.strip()
        description = self.query_one("#secret-description", Input).value
        try:
            if not path.startswith("/"):
                raise ValueError("The volume path must be absolute")
            passphrase = _passphrase(self)
        except ValueError as exc:
            _status(self, str(exc), error=True)
            return
        self._create_job(
            "Create secret",
            lambda f: f.create_volume_secret(path, passphrase, description),
            "Secret created",
            lambda uuid: f"Secret {uuid} for {path}",
        )


# ---------------------------------------------------------------------------------- LUKS volume
class EncryptedVolumeDialog(_CreateDialog):
    """A LUKS volume (qcow2 or raw) in an active pool, with a new passphrase secret or an
    existing volume secret; dismisses with the volume's path."""

    def __init__(self, uri: str, pool: str = "") -> None:
        super().__init__(uri)
        self.pool = pool

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="luks-dialog"):
            yield Static(Text("New encrypted (LUKS) volume", style="bold"), classes="dialog-title")
            yield Label("Pool")
            yield Select[str]([], id="luks-pool", prompt="reading pools…", compact=True)
            yield Label("Name (letters, digits, - . _; starting with a letter)")
            yield Input(id="luks-name", placeholder="secret-disk.qcow2", compact=True)
            with Horizontal(classes="live-row"):
                yield Input(id="luks-size", placeholder="size, e.g. 10G", compact=True)
                yield Select[str](
                    [(f, f) for f in LUKS_FORMATS],
                    value="qcow2",
                    allow_blank=False,
                    compact=True,
                    id="luks-format",
                )
            yield Label("Secret")
            yield Select[str](
                [("a new secret with this passphrase", NEW_SECRET)],
                value=NEW_SECRET,
                allow_blank=False,
                compact=True,
                id="luks-secret",
            )
            yield from _passphrase_fields()
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button("Create", id="create", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#luks-name", Input).focus()

        def failed(message: str) -> None:
            _status(self, message, error=True)

        offer_active_pools(self, self.uri, "#luks-pool", self.pool, failed)
        host_job(
            self.app,
            self.uri,
            "List secrets",
            lambda f: f.secrets(),
            self._secrets,
            failed=failed,
            mutating=False,
        )

    @after_mount
    def _secrets(self, secrets: list[SecretInfo]) -> None:
        options: list[tuple[Text | str, str]] = [("a new secret with this passphrase", NEW_SECRET)]
        for s in secrets:
            if s.usage_type == "volume":
                options.append((plain(f"existing: {s.usage_id}"), s.uuid))
        select = self.query_one("#luks-secret", Select)
        select.set_options(options)
        select.value = NEW_SECRET

    @on(Select.Changed, "#luks-secret")
    def _secret_changed(self, event: Select.Changed) -> None:
        new = event.value == NEW_SECRET
        for selector in ("#secret-pass", "#secret-pass2"):
            self.query_one(selector, Input).disabled = not new

    def _create(self) -> None:
        pool = self.query_one("#luks-pool", Select).value
        name = self.query_one("#luks-name", Input).value.strip()
        fmt = self.query_one("#luks-format", Select).value
        secret = self.query_one("#luks-secret", Select).value
        try:
            if not isinstance(pool, str):
                raise ValueError("Choose a pool")
            if not name:
                raise ValueError("Name the volume")
            size = parse_new_size(self.query_one("#luks-size", Input).value, 0)
            fmt_text = fmt if isinstance(fmt, str) else "qcow2"
            secret_uuid = secret if isinstance(secret, str) else NEW_SECRET
            passphrase = _passphrase(self) if secret_uuid == NEW_SECRET else ""
        except ValueError as exc:
            _status(self, str(exc), error=True)
            return
        _status(self, f"Creating {name} ({human_bytes(size)}, {fmt_text}, LUKS)…")

        def create(f: HostFacade) -> str:
            if secret_uuid == NEW_SECRET:
                return f.create_encrypted_volume_with_secret(
                    pool, name, size, passphrase, fmt=fmt_text
                )[0]
            return f.create_encrypted_volume(pool, name, size, secret_uuid, fmt=fmt_text)

        self._create_job(
            "Create encrypted volume",
            create,
            "Volume created",
            lambda path: f"{path} (LUKS, {fmt_text})",
        )


__all__ = ["EncryptedVolumeDialog", "NewSecretDialog", "SecretsScreen"]
