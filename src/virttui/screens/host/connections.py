"""The connection manager: every configured or open host with its state; add, remove, connect,
disconnect and autoconnect. Host list edits go to the config file at once (atomic write)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from virttui.core.host.connection import ConnState
from virttui.core.host.host_config import (
    EditFn,
    find_host,
    update_config,
    with_autoconnect,
    with_host,
    without_host,
)
from virttui.core.host.spec import HostSpec
from virttui.core.settings.config import (
    ConfigSaveError,
    HostEntry,
    LoadedConfig,
    config_path,
    load_config,
)
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import start_job
from virttui.screens.common.services import AppServices, services
from virttui.screens.host.add_host import AddHostScreen, NewHost
from virttui.widgets.common.plain import append_plain, plain

# (key, title, width); None: whatever is left. The full URI and error of the row under the
# cursor are shown below the table, wrapped.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("auto", "Auto", 4),
    ("host", "Host", 20),
    ("state", "State", 23),
    ("domains", "Doms", 4),
    ("uri", "URI", None),
)
STATE_STYLES = {
    "connected": "bold green",
    "connecting": "yellow",
    "retrying": "bold red",
    "not responding": "bold red",
}


@dataclass(frozen=True, slots=True)
class HostLine:
    uri: str
    label: str
    autoconnect: bool
    saved: bool  # in the config file (else opened from the command line only)
    state: str  # connected / connecting / retrying / disconnected
    domains: int | None
    error: str

    def cells(self) -> tuple[Text, ...]:
        state = "disconnected (retrying)" if self.state == "retrying" else self.state
        return (
            Text("yes" if self.autoconnect else ("no" if self.saved else "-")),
            plain(self.label, overflow="ellipsis", no_wrap=True),
            Text(state, style=STATE_STYLES.get(self.state, "dim")),
            Text("" if self.domains is None else str(self.domains), justify="right"),
            plain(self.uri, overflow="ellipsis", no_wrap=True),
        )

    def detail(self) -> Text:
        text = Text()
        text.append("URI: ", style="bold")
        append_plain(text, self.uri)
        if not self.saved:
            text.append("  (opened from the command line; not in the config file)", style="dim")
        if self.error:
            text.append("\nLast error: ", style="bold red")
            append_plain(text, self.error, multiline=True)
        return text


def host_lines(app: AppServices, loaded: LoadedConfig) -> list[HostLine]:
    """Config hosts in file order, then hosts open only for this session."""
    entries: list[tuple[HostEntry, bool]] = [(h, True) for h in loaded.config.hosts]
    in_config = {h.uri for h in loaded.config.hosts}
    entries += [
        (HostEntry(uri, app.store.hosts[uri].label if uri in app.store.hosts else ""), False)
        for uri in app.hosts
        if uri not in in_config
    ]
    lines = []
    for entry, saved in entries:
        host = app.hosts.get(entry.uri)
        store_entry = app.store.hosts.get(entry.uri)
        state, error, domains = "disconnected", "", None
        if host is not None and store_entry is not None:
            state = store_entry.state
            error = store_entry.error or ""
            if state == ConnState.DISCONNECTED.value:
                state = "retrying"
            elif state == ConnState.STOPPED.value:
                state = "disconnected"
            elif state == ConnState.CONNECTED.value:
                # Blank until the first poll after connecting has listed them (not "0").
                domains = None if store_entry.sampled_at is None else len(store_entry.rows)
                error = ""
        label = entry.label or (store_entry.label if store_entry is not None else "") or entry.uri
        lines.append(HostLine(entry.uri, label, entry.autoconnect, saved, state, domains, error))
    return lines


class ConnectionsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="connections.close"),
        Binding("a", "add", "Add", id="connections.add", tooltip="Add a libvirt URI"),
        Binding("d,delete", "remove", "Remove", id="connections.remove"),
        Binding("c", "toggle_connect", "Connect/Disconnect", id="connections.toggle"),
        Binding("t", "toggle_auto", "Autoconnect", id="connections.autoconnect"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded = load_config()
        self._lines: list[HostLine] = []
        self._seen: tuple[int, tuple[str, ...]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Connections", style="bold"), id="connections-title")
        yield DataTable(id="connections-table", cursor_type="row")
        yield Static(id="connections-detail")
        yield Static(id="connections-note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, title, width in COLUMNS:
            table.add_column(title, key=key, width=width)
        self._report_problems(self.loaded)
        self.refresh_table()
        table.focus()
        self.set_interval(0.25, self._maybe_refresh)

    # ------------------------------------------------------------------ view
    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def current_line(self) -> HostLine | None:
        if not self._lines or self.table.row_count == 0:
            return None
        row = self.table.cursor_row
        return self._lines[row] if 0 <= row < len(self._lines) else None

    def _maybe_refresh(self) -> None:
        app = services(self)
        seen = (app.store.version, tuple(app.hosts))
        if seen != self._seen:
            self.refresh_table()

    def refresh_table(self) -> None:
        app = services(self)
        self._seen = (app.store.version, tuple(app.hosts))
        lines = host_lines(services(self), self.loaded)
        if lines == self._lines:
            return
        table = self.table
        old_keys = [line.uri for line in self._lines]
        keys = [line.uri for line in lines]
        if keys == old_keys:
            for old, new in zip(self._lines, lines, strict=True):
                if old != new:
                    for (column, _title, _w), cell in zip(COLUMNS, new.cells(), strict=True):
                        table.update_cell(new.uri, column, cell)
        else:
            current = self.current_line()
            table.clear()
            for line in lines:
                table.add_row(*line.cells(), key=line.uri)
            if current is not None and current.uri in keys:
                table.move_cursor(row=keys.index(current.uri))
        self._lines = lines
        self._update_detail()
        self._update_note()
        self.refresh_bindings()

    def _update_detail(self) -> None:
        line = self.current_line()
        detail = line.detail() if line is not None else Text("No hosts: press a to add one")
        self.query_one("#connections-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._update_detail()
        self.refresh_bindings()

    def _update_note(self) -> None:
        note = plain(f"Saved in {config_path()}", style="dim")
        if self.loaded.problems:
            note = Text("The config file has problems (see the notification); ", style="bold red")
            note.append("the defaults are shown and saving keeps a copy of it as *.broken")
        self.query_one("#connections-note", Static).update(note)

    def _report_problems(self, loaded: LoadedConfig) -> None:
        for problem in loaded.problems:
            self.notify(str(problem), title="Config file problem", severity="error", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("remove", "toggle_connect", "toggle_auto"):
            return True if self.current_line() is not None else None
        return True

    # ------------------------------------------------------------------ config
    def _save(self, edit: EditFn, done: str) -> bool:
        try:
            result = update_config(edit)
        except ConfigSaveError as exc:
            self.notify(str(exc), title="Not saved", severity="error", markup=False)
            return False
        self.loaded = load_config(result.path)
        message = done
        if result.backup is not None:
            message += f"\nThe broken file was kept as {result.backup}"
        self.notify(message, title="Connections saved", markup=False)
        self.refresh_table()
        return True

    # ------------------------------------------------------------------ actions
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_add(self) -> None:
        existing = frozenset(line.uri for line in self._lines)

        def added(result: NewHost | None) -> None:
            if result is None:
                return
            entry = result.entry
            self._save(lambda c: with_host(c, entry), f"Added {entry.uri}")
            if result.connect_now:
                self._connect(entry.uri, entry.label)
            self._select(entry.uri)

        self.app.push_screen(AddHostScreen(existing), added)

    def action_remove(self) -> None:
        line = self.current_line()
        if line is None:
            return
        question = Text()
        question.append("Remove the connection ", style="bold")
        append_plain(question, line.label)
        if line.label != line.uri:
            append_plain(question, f" ({line.uri})")
        question.append(
            "?\n\nIt is disconnected and removed from the config file. Nothing on the host changes."
        )

        def answered(ok: bool | None) -> None:
            if not ok:
                return
            services(self).stop_host(line.uri)
            if find_host(self.loaded.config, line.uri) is not None:
                self._save(lambda c: without_host(c, line.uri), f"Removed {line.uri}")
            self.refresh_table()

        self.app.push_screen(ConfirmScreen(question, confirm_label="Remove"), answered)

    def action_toggle_connect(self) -> None:
        line = self.current_line()
        if line is None:
            return
        host = services(self).hosts.get(line.uri)
        if host is not None and host.state is not ConnState.STOPPED:
            start_job(self.app, lambda _ctx: host.stop(2.0), group="host-stop")
            self.notify(f"Disconnecting {line.label}", markup=False)
        else:
            self._connect(line.uri, line.label if line.label != line.uri else "")

    def _connect(self, uri: str, label: str) -> None:
        app = services(self)
        host = app.hosts.get(uri)
        if host is None:
            app.start_host(HostSpec(uri, label or None))
        elif host.state is ConnState.STOPPED:
            host.start()
        app.refresh_domains(force=True)
        self.refresh_table()

    def action_toggle_auto(self) -> None:
        line = self.current_line()
        if line is None:
            return
        on = not line.autoconnect
        label = "" if line.label == line.uri else line.label
        word = "will" if on else "will not"
        self._save(
            lambda c: with_autoconnect(c, line.uri, on, label),
            f"{line.label} {word} be connected at start",
        )

    def _select(self, uri: str) -> None:
        keys = [line.uri for line in self._lines]
        if uri in keys:
            self.table.move_cursor(row=keys.index(uri))
