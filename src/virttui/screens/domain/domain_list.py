"""The domain list: every configured host and its domains, live."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from virttui.core.common.units import human_age
from virttui.core.domain.action_table import LIFECYCLE, by_id, write_actions
from virttui.core.domain.lifecycle import action_allowed
from virttui.core.domain.states import state_name
from virttui.core.domain.store import SORT_KEYS, ListItem
from virttui.screens.common.readonly import READ_ONLY_MESSAGE, action_name, read_only_fallbacks
from virttui.screens.common.services import services
from virttui.screens.domain.action_keys import domain_bindings
from virttui.widgets.common.plain import plain
from virttui.widgets.domain.table import DomainTable

REFRESH_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0)
ACTIONS = by_id()
SORTABLE = [
    c
    for c in ("name", "state", "cpu", "vcpus", "mem", "rd", "wr", "rx", "tx", "auto")
    if c in SORT_KEYS
]
# What a read-only connection refuses (libvirt denies consoles and screenshots read-only too).
WRITE_ACTIONS = write_actions("list")
# The domain keys come from the action table; the footer shows them, then Host, then the rest.
_DOMAIN_KEYS = domain_bindings("list")
_AFTER_EDIT = next(i for i, b in enumerate(_DOMAIN_KEYS) if b.id == "domain.edit") + 1


class DomainsScreen(Screen[None]):
    BINDINGS = [
        *_DOMAIN_KEYS[:_AFTER_EDIT],
        Binding(
            "H", "host_screen", "Host", id="host.open", tooltip="Host capabilities and overcommit"
        ),
        Binding(
            "S",
            "storage",
            "Storage",
            show=False,
            id="list.storage",
            tooltip="Pools and volumes of the host",
        ),
        Binding(
            "N",
            "networks",
            "Networks",
            show=False,
            id="list.networks",
            tooltip="Virtual networks of the host",
        ),
        Binding(
            "B",
            "fio",
            "fio",
            show=False,
            id="list.fio",
            tooltip="Disk benchmark (fio) on the host",
        ),
        Binding(
            "C",
            "connections",
            "Hosts",
            show=False,
            id="host.connections",
            tooltip="Connection manager",
        ),
        *_DOMAIN_KEYS[_AFTER_EDIT:],
        Binding("W", "console_switcher", "Consoles", show=False, id="console.switch"),
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("o", "sort_next", "Sort", id="list.sort"),
        Binding("O", "sort_reverse", "Reverse", show=False, id="list.sort_reverse"),
        Binding("c", "cpu_mode", "CPU% mode", show=False, id="list.cpu_mode"),
        Binding("plus,equals_sign", "refresh_step(-1)", "Faster", show=False, id="list.faster"),
        Binding("minus", "refresh_step(1)", "Slower", show=False, id="list.slower"),
        Binding("space", "toggle_select", "Select", show=False, id="list.select"),
        Binding("shift+down", "select_move(1)", "Select down", show=False, id="list.select_down"),
        Binding("shift+up", "select_move(-1)", "Select up", show=False, id="list.select_up"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
        Binding(
            "n",
            "create_domain",
            "New domain",
            show=False,
            id="list.create",
            tooltip="Create a new domain on the highlighted host (wizard)",
        ),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)

    def compose(self) -> ComposeResult:
        yield Static(id="banner")
        yield DomainTable(services(self).store, glyphs=services(self).glyphs, id="domains")
        yield Input(placeholder="filter by name or state; Enter keeps it, Esc clears", id="filter")
        yield Static(id="empty-hint")
        yield Static(id="status")
        yield Footer()

    _status_text = ""
    _hint_text: str | None = None
    _pending_select: tuple[str, str] | None = None
    _binding_signature: tuple[object, ...] = ()
    _bindings_timer: Timer | None = None

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#banner", Static).display = False
        self.table.focus()
        self.refresh_view(force=True)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """Stale rows show their age: keep it counting while no sample arrives."""
        if self.is_current and self.ready:
            self.table.tick()
            self.update_status()

    @property
    def ready(self) -> bool:
        """Composed and not torn down: samples can arrive before the first and after the last."""
        return self.is_mounted and bool(self.query(DomainTable))

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    # ------------------------------------------------------------------ view
    def on_screen_resume(self) -> None:
        self.refresh_view(force=True)

    def refresh_view(self, force: bool = False) -> None:
        if not self.is_current and not force:
            return  # hidden: the next resume catches up
        self.table.sync(force=force)
        self._apply_pending_select()
        self.update_status()
        self.update_empty_hint()

    # ---- createwizard
    def create_key(self) -> str:
        """The key of `list.create` as the footer would show it (remapped keys included)."""
        for key, bindings in self.app.active_bindings.items():
            if bindings.binding.id == "list.create":
                return key
        return "n"

    def empty_hint(self) -> str:
        """'No domains on HOST: press n to create one' for each connected host without domains
        (a read-only one says why it cannot)."""
        app = services(self)
        lines: list[str] = []
        for uri, entry in app.store.hosts.items():
            host = app.hosts.get(uri)
            if entry.state != "connected" or entry.rows or host is None:
                continue
            if host.readonly:
                lines.append(f"No domains on {host.label} (read-only connection: cannot create)")
            else:
                lines.append(f"No domains on {host.label}: press {self.create_key()} to create one")
        return "\n".join(lines)

    def update_empty_hint(self) -> None:
        text = self.empty_hint()
        if text == self._hint_text:
            return
        self._hint_text = text
        hint = self.query_one("#empty-hint", Static)
        hint.update(plain(text, multiline=True))
        hint.display = bool(text)

    def select_domain(self, uri: str, uuid: str) -> None:
        """Put the cursor on the domain now, or as soon as a poll lists it."""
        self._pending_select = (uri, uuid)
        if self.ready:
            self._apply_pending_select()

    def _apply_pending_select(self) -> None:
        pending = self._pending_select
        if pending is None:
            return
        for index, item in enumerate(self.table.items):
            if (item.uri, item.uuid) == pending:
                self._pending_select = None
                self.table.action_cursor_to(index)
                return

    def action_create_domain(self) -> None:
        services(self).open_create_wizard(self.current_uri())

    def set_banner(self, text: Text | None) -> None:
        banner = self.query_one("#banner", Static)
        banner.display = text is not None
        if text is not None:
            banner.update(text)

    def update_status(self) -> None:
        store = services(self).store
        hosts = store.hosts.values()
        cpus = ", ".join(str(h.host_cpus) for h in hosts if h.state == "connected") or "?"
        mode = f"CPU% of host ({cpus} CPUs)" if store.cpu_mode == "host" else "CPU% of own vCPUs"
        parts = [
            mode,
            f"every {services(self).refresh_seconds:g}s",
            f"{store.domain_count()} domains",
        ]
        if store.filter_text:
            parts.append(f"filter: {store.filter_text}")
        if self.table.selected:
            hidden = len(self.table.hidden_selected())
            parts.append(
                f"{len(self.table.selected)} selected" + (f" ({hidden} hidden)" if hidden else "")
            )
        item = self.table.current
        row = store.row(item.uri, item.uuid) if item is not None and item.uuid else None
        if row is not None and row.title:
            parts.insert(0, f"{row.name}: {row.title}")
        entry = store.hosts.get(item.uri) if row is not None and item is not None else None
        age = None if entry is None else entry.stale_age()
        if row is not None and entry is not None and age is not None:
            parts.insert(
                0,
                f"{row.name}: {state_name(row.state)} {human_age(age)} ago; "
                f"{entry.label} {entry.state}",
            )
        text = " · ".join(parts)
        if text != self._status_text:  # an unchanged status line costs no repaint
            self._status_text = text
            # One fixed-height line: no layout pass (it made every cursor move relayout the screen).
            self.query_one("#status", Static).update(plain(text), layout=False)

    # ------------------------------------------------------------------ actions
    def current_item(self) -> ListItem | None:
        return self.table.current

    def read_only_here(self) -> bool:
        """Do the write keys target a read-only host (the selection, else the cursor's host)?"""
        app = services(self)
        uris = {u for u, _ in app.action_targets()}
        item = self.table.current
        if not uris and item is not None:
            uris = {item.uri}
        if not uris:
            return bool(app.readonly)
        hosts = [app.hosts.get(u) for u in uris]
        return any(h is not None and h.readonly for h in hosts)

    def refuse_read_only(self) -> bool:
        """Say so and return True when the write keys target a read-only host."""
        if self.read_only_here():
            self.app.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)
            return True
        return False

    def action_read_only(self) -> None:
        self.refuse_read_only()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "read_only":
            return self.read_only_here()
        if action_name(action) in WRITE_ACTIONS and self.read_only_here():
            return False  # not in the footer; the key falls through to `read_only`
        if action == "lifecycle":
            # Enabled when the action applies to at least one target; the others are skipped.
            targets = services(self).action_targets()
            lifecycle = LIFECYCLE[str(parameters[0])]
            for uri, uuid in targets:
                host = services(self).hosts.get(uri)
                row = services(self).store.row(uri, uuid)
                if (
                    host is not None
                    and not host.readonly
                    and row is not None
                    and action_allowed(lifecycle, row.state)
                ):
                    return True
            return None
        if action in ("serial_console", "graphical_console"):
            target = self._current_domain()
            row = services(self).store.row(*target) if target else None
            return True if row is not None and row.active else None
        if action in ("actions_menu", "edit_menu", "domain_action"):
            item = self.table.current
            if item is None or item.uuid is None:
                return None
            host = services(self).hosts.get(item.uri)
            if host is None:
                return None
            if action == "domain_action":
                row = services(self).store.row(item.uri, item.uuid)
                entry = ACTIONS[str(parameters[0])]
                if row is None or not entry.allowed_state(row.state):
                    return None
            return True if not host.readonly else None
        return True

    def action_domain_action(self, action_id: str) -> None:
        """A dialog action of the table bound to a key (its handler checks the details)."""
        from virttui.screens.domain.actions import run_domain_action

        item = self.table.current
        if item is not None and item.uuid is not None and not self.refuse_read_only():
            run_domain_action(self.app, item.uri, item.uuid, action_id)

    def action_actions_menu(self) -> None:
        from virttui.screens.domain.actions import open_actions_menu

        item = self.table.current
        if item is not None and item.uuid is not None:
            open_actions_menu(self.app, item.uri, item.uuid)

    def action_edit_menu(self) -> None:
        from virttui.screens.domain.edit import open_edit_menu

        item = self.table.current
        if item is not None and item.uuid is not None:
            open_edit_menu(self.app, item.uri, item.uuid)

    def action_lifecycle(self, action_id: str) -> None:
        services(self).run_lifecycle(action_id)

    def current_uri(self) -> str | None:
        item = self.table.current
        if item is not None:
            return item.uri
        return next(iter(services(self).hosts), None)

    def action_host_screen(self) -> None:
        from virttui.screens.host.host import HostScreen

        uri = self.current_uri()
        host = services(self).facade(uri) if uri else None
        if host is not None:
            self.app.push_screen(HostScreen(host))

    def action_storage(self) -> None:
        uri = self.current_uri()
        if uri is not None:
            services(self).open_storage(uri)

    def action_networks(self) -> None:
        uri = self.current_uri()
        if uri is not None:
            services(self).open_networks(uri)

    def action_fio(self) -> None:
        """The fio job builder on the highlighted row's host (this machine when it is local)."""
        uri = self.current_uri()
        host = services(self).hosts.get(uri) if uri else None
        services(self).open_fio(uri if host is not None and not host.is_local else None)

    def action_connections(self) -> None:
        from virttui.screens.host.connections import ConnectionsScreen

        self.app.push_screen(ConnectionsScreen())

    def action_migrate(self) -> None:
        from virttui.screens.domain.migrate import MigrateScreen

        item = self.table.current
        if item is not None and item.uuid is not None and not self.refuse_read_only():
            self.app.push_screen(MigrateScreen(item.uri, item.uuid))

    def action_snapshots(self) -> None:
        from virttui.screens.domain.snapshots import open_snapshots

        target = self._current_domain()
        if target is not None:
            open_snapshots(self.app, *target)

    def _current_domain(self) -> tuple[str, str] | None:
        item = self.table.current
        if item is None or item.uuid is None or item.uri not in services(self).hosts:
            return None
        return item.uri, item.uuid

    def action_serial_console(self) -> None:
        from virttui.screens.console.serial import open_serial_console

        target = self._current_domain()
        if target is not None and not self.refuse_read_only():
            open_serial_console(self.app, *target)

    def action_graphical_console(self) -> None:
        from virttui.screens.console.graphics import open_graphical_console

        target = self._current_domain()
        if target is not None and not self.refuse_read_only():
            open_graphical_console(self.app, *target)

    def action_console_switcher(self) -> None:
        from virttui.screens.console.switcher import open_console_switcher

        open_console_switcher(self.app)

    def action_toggle_select(self) -> None:
        self.table.toggle_selected()
        self.update_status()
        self.refresh_bindings()

    def action_select_move(self, delta: int) -> None:
        """Shift+arrows: tick the current domain and move on, like extending a selection."""
        table = self.table
        item = table.current
        if item is not None and item.uuid is not None:
            table.selected.add(item.key)
        table.action_cursor(delta)
        item = table.current
        if item is not None and item.uuid is not None:
            table.selected.add(item.key)
        table.refresh()
        self.update_status()
        self.refresh_bindings()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = services(self).store.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        services(self).store.set_filter(event.value)
        self.refresh_view(force=True)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, _event: Input.Submitted) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.focus()

    def _set_sort(self, column: str, reverse: bool) -> None:
        services(self).store.set_sort(column, reverse)
        self.refresh_view(force=True)

    def action_sort_next(self) -> None:
        store = services(self).store
        index = SORTABLE.index(store.sort_column) if store.sort_column in SORTABLE else -1
        column = SORTABLE[(index + 1) % len(SORTABLE)]
        # Numbers are most useful biggest first; names and states alphabetically.
        self._set_sort(column, column not in ("name", "state"))

    def action_sort_reverse(self) -> None:
        store = services(self).store
        self._set_sort(store.sort_column, not store.sort_reverse)

    @on(DomainTable.HeaderClicked)
    def _header_clicked(self, event: DomainTable.HeaderClicked) -> None:
        store = services(self).store
        if event.column not in SORT_KEYS:
            return
        if store.sort_column == event.column:
            self._set_sort(event.column, not store.sort_reverse)
        else:
            self._set_sort(event.column, event.column not in ("name", "state"))

    def action_cpu_mode(self) -> None:
        services(self).store.toggle_cpu_mode()
        self.refresh_view(force=True)

    def action_refresh_step(self, direction: int) -> None:
        current = services(self).refresh_seconds
        steps = list(REFRESH_STEPS)
        index = min(range(len(steps)), key=lambda i: abs(steps[i] - current))
        index = max(0, min(len(steps) - 1, index + direction))
        services(self).set_refresh(steps[index])
        self.update_status()

    @on(DomainTable.Activated)
    def _activated(self, event: DomainTable.Activated) -> None:
        if event.item.uuid is not None:
            services(self).open_details(event.item.uri, event.item.uuid)

    def binding_signature(self) -> tuple[object, ...]:
        """What decides which actions are enabled: rebuild the footer only when it changes
        (a footer rebuild per cursor move made key presses slow with 1000 domains)."""
        app = services(self)
        targets = app.action_targets()
        states = tuple(
            sorted({getattr(app.store.row(u, d), "state", None) for u, d in targets}, key=str)
        )
        readonly = tuple(sorted({app.hosts[u].readonly for u, _ in targets if u in app.hosts}))
        item = self.table.current
        return (states, readonly, item is not None and item.uuid is not None, len(targets) > 1)

    def refresh_bindings_if_changed(self) -> None:
        signature = self.binding_signature()
        if signature != self._binding_signature:
            self._binding_signature = signature
            self.refresh_bindings()

    @on(DomainTable.Highlighted)
    def _highlighted(self, _event: DomainTable.Highlighted) -> None:
        self.update_status()
        # Rebuilding the footer costs tens of ms: do it once the cursor rests, not on every key of
        # a fast scroll. Keys stay correct meanwhile: check_action runs when a key is pressed.
        if self._bindings_timer is not None:
            self._bindings_timer.stop()
        self._bindings_timer = self.set_timer(0.15, self.refresh_bindings_if_changed)
