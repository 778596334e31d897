"""DHCP leases and static reservations of one libvirt network (core/network/leases.py through
the facade): the current leases with the domain owning each MAC, the reservations (MAC -> IP,
name), adding one (from scratch or from the highlighted lease) and removing one, live and
persistent. Read-only connections see everything and change nothing.

Entry points: `open_leases(app, uri, network)` (network None: choose one first) and
`LeasesScreen(uri, network)`.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from virttui.core.network.leases import Lease, Reservation
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.host_screen import HostObjectsScreen, host_is_open
from virttui.screens.common.jobs import host_job
from virttui.screens.common.readonly import read_only_fallbacks
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import show_status
from virttui.widgets.common.mounting import after_mount
from virttui.widgets.common.plain import append_plain, plain

if TYPE_CHECKING:
    from virttui.core.facade.host import HostFacade

HOSTNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")
WRITE_ACTIONS = frozenset({"add", "reserve_lease", "remove"})

__all__ = ["LeasesScreen", "NetworkChooser", "ReservationDialog", "expiry_text", "open_leases"]


def expiry_text(expiry: int, now: float | None = None) -> str:
    """ "01:02 UTC (59 min)" within a day, "2026-12-03 01:02 UTC" later; "-" when libvirt
    gives none."""
    if expiry <= 0:
        return "-"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expiry))
    if now is None:
        return stamp
    left = int(expiry - now)
    if left <= 0:
        return f"{stamp} (expired)"
    if left >= 86400:
        return stamp
    short = time.strftime("%H:%M UTC", time.gmtime(expiry))
    if left < 3600:
        return f"{short} ({max(1, left // 60)} min)"
    return f"{short} ({left // 3600} h {left % 3600 // 60} min)"


def open_leases(app: App[Any], uri: str, network: str | None = None) -> None:
    """The leases screen of `network` on host `uri`; without a network, choose one first."""
    if not host_is_open(app, uri):
        return
    if network is not None:
        app.push_screen(LeasesScreen(uri, network))
        return

    def chosen(name: str | None) -> None:
        if name:
            app.push_screen(LeasesScreen(uri, name))

    def listed(networks: dict[str, bool]) -> None:
        if not networks:
            app.notify("This host has no network", severity="warning", markup=False)
            return
        app.push_screen(NetworkChooser(networks), chosen)

    host_job(app, uri, "List networks", lambda f: f.networks(), listed, mutating=False)


class NetworkChooser(ModalScreen[str | None]):
    """Pick a network by name (active ones first)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, networks: dict[str, bool]) -> None:
        super().__init__()
        self.networks = networks

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="leases-chooser"):
            yield Static(Text("DHCP leases of which network?", style="bold"))
            options = []
            for name, active in sorted(self.networks.items(), key=lambda i: (not i[1], i[0])):
                label = plain(name)
                label.append("  active" if active else "  inactive", style="dim")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="leases-networks")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LeasesScreen(HostObjectsScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="leases.back"),
        Binding("r", "reload", "Reload", id="leases.reload"),
        Binding("a", "add", "Reserve", id="leases.add", tooltip="New static reservation"),
        Binding(
            "R",
            "reserve_lease",
            "Reserve lease",
            id="leases.reserve_lease",
            tooltip="Reserve the highlighted lease's IP for its MAC",
        ),
        Binding(
            "d,delete",
            "remove",
            "Remove",
            id="leases.remove",
            tooltip="Remove the highlighted reservation",
        ),
        Binding("tab", "switch", "Switch table", show=False, id="leases.switch"),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)
    write_actions = WRITE_ACTIONS

    def __init__(self, uri: str, network: str) -> None:
        super().__init__(uri)
        self.network = network
        self.leases: list[Lease] = []
        self.reservations: list[Reservation] = []
        self.now: float | None = None  # fixed by tests (snapshots); else the clock

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="leases-title")
        yield Static(Text("Leases", style="bold"), classes="leases-heading")
        yield DataTable(id="leases-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text("Static reservations", style="bold"), classes="leases-heading")
        yield DataTable(id="leases-reservations", cursor_type="row", zebra_stripes=True)
        yield Static(id="leases-status")
        yield Footer()

    def _title(self) -> Text:
        text = Text("DHCP leases of ", style="bold")
        append_plain(text, self.network)
        text.append(" on ")
        facade = services(self).facade(self.uri)
        append_plain(text, facade.label if facade is not None else self.uri)
        if self.read_only:
            text.append("  (read-only)", style="yellow")
        return text

    def on_mount(self) -> None:
        leases = self.query_one("#leases-table", DataTable)
        leases.add_columns("IP", "MAC", "Domain", "Hostname", "Expires", "Client id")
        reservations = self.query_one("#leases-reservations", DataTable)
        reservations.add_columns("IP", "MAC", "Name", "Domain")
        leases.focus()
        self.status("reading leases…")
        self.action_reload()

    def status(self, text: str, *, error: bool = False) -> None:
        show_status(self.query_one("#leases-status", Static), text, error=error)

    # ------------------------------------------------------------------ data
    def action_reload(self) -> None:
        network = self.network

        def read(f: HostFacade) -> tuple[list[Lease], list[Reservation]]:
            return f.dhcp_leases(network), f.dhcp_reservations(network)

        host_job(
            self.app,
            self.uri,
            "Read DHCP leases",
            read,
            self.show,
            failed=lambda message: self.status(message, error=True),
            mutating=False,
        )

    @after_mount
    def show(self, data: tuple[list[Lease], list[Reservation]]) -> None:
        self.leases, self.reservations = data
        now = self.now if self.now is not None else time.time()
        table = self.query_one("#leases-table", DataTable)
        row = table.cursor_row
        table.clear()
        for lease in self.leases:
            table.add_row(
                plain(lease.ip + (f"/{lease.prefix}" if lease.prefix else "")),
                plain(lease.mac),
                plain(lease.domain or "-"),
                plain(lease.hostname or "-"),
                plain(expiry_text(lease.expiry, now)),
                plain(lease.client_id or "-"),
            )
        if self.leases:
            table.move_cursor(row=min(row, len(self.leases) - 1))
        res_table = self.query_one("#leases-reservations", DataTable)
        res_row = res_table.cursor_row
        res_table.clear()
        for res in self.reservations:
            res_table.add_row(
                plain(res.ip), plain(res.mac), plain(res.name or "-"), plain(res.domain or "-")
            )
        if self.reservations:
            res_table.move_cursor(row=min(res_row, len(self.reservations) - 1))
        self.status(
            f"{len(self.leases)} lease(s), {len(self.reservations)} reservation(s)"
            + ("" if self.read_only else "  ·  a: reserve  R: reserve this lease  d: remove")
        )
        self.refresh_bindings()

    def current_lease(self) -> Lease | None:
        table = self.query_one("#leases-table", DataTable)
        if not self.leases or not 0 <= table.cursor_row < len(self.leases):
            return None
        return self.leases[table.cursor_row]

    def current_reservation(self) -> Reservation | None:
        table = self.query_one("#leases-reservations", DataTable)
        if not self.reservations or not 0 <= table.cursor_row < len(self.reservations):
            return None
        return self.reservations[table.cursor_row]

    # ------------------------------------------------------------------ actions
    def action_switch(self) -> None:
        leases = self.query_one("#leases-table", DataTable)
        other = self.query_one("#leases-reservations", DataTable)
        (other if leases.has_focus else leases).focus()

    def action_add(self, mac: str = "", ip: str = "", name: str = "") -> None:
        self.app.push_screen(
            ReservationDialog(self.uri, self.network, mac, ip, name), self._after_change
        )

    def action_reserve_lease(self) -> None:
        lease = self.current_lease()
        if lease is None:
            self.status("No lease highlighted", error=True)
            return
        # The guest chose its hostname: offered only when it is a plain host name.
        name = lease.hostname if HOSTNAME_RE.fullmatch(lease.hostname) else ""
        self.action_add(lease.mac, lease.ip, name)

    def action_remove(self) -> None:
        res = self.current_reservation()
        if res is None:
            self.status("No reservation highlighted (tab: the reservations table)", error=True)
            return
        question = Text("Remove the reservation ", style="bold")
        append_plain(question, f"{res.mac} → {res.ip}")
        question.append(" from ")
        append_plain(question, self.network)
        question.append("?\n\nLive (while the network runs) and from its definition.")
        mac = res.mac
        network = self.network

        def answered(ok: bool | None) -> None:
            if ok:
                host_job(
                    self.app,
                    self.uri,
                    "Remove DHCP reservation",
                    lambda f: f.remove_dhcp_reservation(network, mac),
                    self._after_change,
                    failed=lambda message: self.status(message, error=True),
                )

        self.app.push_screen(ConfirmScreen(question, confirm_label="Remove"), answered)

    def _after_change(self, _result: object) -> None:
        if self.is_mounted:
            self.action_reload()


class ReservationDialog(ModalScreen[Reservation | None]):
    """MAC, IP and an optional name; the core checks them (the error goes next to the field)
    and adds the reservation live and persistently. Dismisses with the reservation."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, uri: str, network: str, mac: str = "", ip: str = "", name: str = "") -> None:
        super().__init__()
        self.uri = uri
        self.network = network
        self.initial = (mac, ip, name)

    def compose(self) -> ComposeResult:
        mac, ip, name = self.initial
        title = Text("New DHCP reservation on ", style="bold")
        append_plain(title, self.network)
        with Vertical(classes="dialog", id="leases-reserve-dialog"):
            yield Static(title, classes="dialog-title")
            yield Label("MAC address")
            yield Input(mac, id="reserve-mac", placeholder="52:54:00:12:34:56", compact=True)
            yield Static(id="reserve-mac-error", classes="field-error")
            yield Label("IPv4 address (inside the network's DHCP subnet)")
            yield Input(ip, id="reserve-ip", compact=True)
            yield Static(id="reserve-ip-error", classes="field-error")
            yield Label("Host name (optional)")
            yield Input(name, id="reserve-name", compact=True)
            yield Static(id="reserve-name-error", classes="field-error")
            yield Static(classes="live-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button("Reserve", id="reserve", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reserve-mac", Input).focus()

    def _errors(self, field: str = "", message: str = "") -> None:
        for name in ("mac", "ip", "name"):
            text = plain(message) if name == field else Text()
            text.stylize("bold red")
            self.query_one(f"#reserve-{name}-error", Static).update(text)
        status = self.query_one(".live-status", Static)
        status.update(Text(message, style="bold red") if message and not field else Text())

    def _reserve(self) -> None:
        from virttui.core.network.leases import ReservationError

        mac = self.query_one("#reserve-mac", Input).value
        ip = self.query_one("#reserve-ip", Input).value
        name = self.query_one("#reserve-name", Input).value
        network = self.network
        self._errors()
        button = self.query_one("#reserve", Button)
        button.disabled = True

        def failed(message: str) -> None:
            if self.is_mounted:
                button.disabled = False
                self._errors("", message)

        def done(res: Reservation) -> None:
            self.app.notify(
                f"{res.mac} → {res.ip} on {network}", title="Reservation added", markup=False
            )
            if self.is_mounted:
                self.dismiss(res)

        def job(f: HostFacade) -> Reservation | ReservationError:
            try:
                return f.add_dhcp_reservation(network, mac, ip, name)
            except ReservationError as exc:
                return exc  # shown next to its field, not as a failed job

        def answered(result: Reservation | ReservationError) -> None:
            if isinstance(result, ReservationError):
                if self.is_mounted:
                    button.disabled = False
                    self._errors(result.field, result.message)
                return
            done(result)

        host_job(self.app, self.uri, "Add DHCP reservation", job, answered, failed=failed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "reserve":
            self._reserve()
        else:
            self.action_cancel()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._reserve()

    def action_cancel(self) -> None:
        self.dismiss(None)
