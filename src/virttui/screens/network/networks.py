"""The networks of one host: the list on top (columns dropped to fit the width), everything
about the highlighted network below.

Keys: start, stop (asks first, naming the running domains that lose connectivity), autostart
on/off, `A` start + autostart (the one-key fix for an inactive `default`), undefine (asks first;
refused while active or used by a defined domain, libvirt untouched), new (the create dialog and
its XML preview), reload. Everything goes through the host's facade in jobs (`host_job`).
A read-only connection shows everything and changes nothing: the write keys are hidden and say
why (`screens/common/readonly.py`).

Entry point: `open_networks(app, uri)`. Hooks left for the lead's wiring:
- `NetworksScreen.after_restart(uri, network, domains)`: called when the network runs again,
  with the domains whose NICs are on it: offers to re-plug the running ones (replug.py);
- `NetworksScreen.open_leases` (key `l`, id `networks.leases`): the leases screen
  (`screens/network/leases.py`) of the highlighted network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from virttui.core.facade.host import HostFacade
from virttui.core.network.create import CreateContext
from virttui.core.network.networks import NetUser, NetworkInfo, names_text
from virttui.screens.common.host_screen import HostObjectsScreen, host_is_open
from virttui.screens.common.jobs import host_job
from virttui.screens.common.readonly import read_only_fallbacks
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import confirm, host_screen_title
from virttui.screens.network.create import NewNetworkRequest, NewNetworkScreen
from virttui.widgets.common.plain import plain
from virttui.widgets.network.network_table import NetworkTable, network_details

WRITE_ACTIONS = frozenset(
    {
        "net_start",
        "net_stop",
        "net_autostart",
        "net_start_autostart",
        "net_undefine",
        "net_new",
        "net_edit_xml",
    }
)
_NEEDS_NETWORK = frozenset(
    {
        "net_start",
        "net_stop",
        "net_autostart",
        "net_start_autostart",
        "net_undefine",
        "leases",
        "net_edit_xml",
    }
)

LeasesOpener = Callable[[App[Any], str, str], None]


def open_networks(app: App[Any], uri: str) -> None:
    """Open the networks screen of host `uri` (the entry point for keys, palette, other screens)."""
    if host_is_open(app, uri):
        app.push_screen(NetworksScreen(uri))


def _open_leases(app: App[Any], uri: str, network: str) -> None:
    from virttui.screens.network.leases import open_leases

    open_leases(app, uri, network)


class NetworksScreen(HostObjectsScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", show=False, id="networks.back"),
        Binding("s", "net_start", "Start", id="networks.start", tooltip="Start the network"),
        Binding(
            "x",
            "net_stop",
            "Stop",
            id="networks.stop",
            tooltip="Stop the network (asks first, naming the guests that lose it)",
        ),
        Binding(
            "a",
            "net_autostart",
            "Autostart",
            id="networks.autostart",
            tooltip="Start the network at boot: on/off",
        ),
        Binding(
            "A",
            "net_start_autostart",
            "Start+auto",
            id="networks.start_autostart",
            tooltip="Start the network and start it at boot",
        ),
        Binding(
            "d,delete",
            "net_undefine",
            "Undefine",
            id="networks.undefine",
            tooltip="Forget the network (asks first; refused while active or used)",
        ),
        Binding("n", "net_new", "New", id="networks.new", tooltip="Create a network"),
        Binding(
            "l",
            "leases",
            "Leases",
            id="networks.leases",
            tooltip="DHCP leases and reservations of the network",
        ),
        Binding("r", "reload", "Reload", id="networks.reload", tooltip="Read the networks again"),
        # ---- xmlvirtio
        Binding(
            "X",
            "net_edit_xml",
            "XML",
            show=False,
            id="networks.edit_xml",
            tooltip="Edit the network's XML (a running network keeps its old config until restarted)",
        ),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)
    write_actions = WRITE_ACTIONS

    # `l`: the leases screen of the highlighted network (a class attribute so that tests and
    # embedders can replace it; None hides the key).
    open_leases: ClassVar[LeasesOpener | None] = staticmethod(_open_leases)

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.loaded = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="networks-title")
        yield NetworkTable(glyphs=services(self).glyphs, id="networks-table")
        yield Static(id="networks-detail")
        yield Footer()

    def _title(self) -> Text:
        return host_screen_title(self, "Networks", self.uri, read_only=self.read_only)

    def on_mount(self) -> None:
        self.table.focus()
        self.detail.update(Text("reading networks...", "dim"))
        self.reload()

    @property
    def table(self) -> NetworkTable:
        return self.query_one(NetworkTable)

    @property
    def detail(self) -> Static:
        return self.query_one("#networks-detail", Static)

    def current_network(self) -> NetworkInfo | None:
        # None before compose (Textual may check the footer's bindings first, under load).
        table = next(iter(self.query(NetworkTable)), None)
        return table.current if table is not None else None

    # ------------------------------------------------------------------ loading
    def reload(self, select: str | None = None) -> None:
        host_job(
            self.app,
            self.uri,
            "List networks",
            HostFacade.network_list,
            lambda nets: self.show(nets, select=select),
            failed=lambda message: self.detail.update(plain(message, "red", multiline=True)),
            mutating=False,
        )

    def show(self, networks: list[NetworkInfo], *, select: str | None = None) -> None:
        if not self.is_attached:
            return
        self.loaded = True
        self.table.show(networks, select=select)
        if not networks:
            self.detail.update(Text("no networks on this host", "dim"))
        else:
            self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        net = self.current_network()
        self.detail.update(network_details(net) if net is not None else Text())

    def on_data_table_row_highlighted(self, _event: object) -> None:
        self._show_detail()
        self.refresh_bindings()

    # ------------------------------------------------------------------ keys
    def allows(self, name: str) -> bool | None:
        if name == "leases" and type(self).open_leases is None:
            return False
        if name in _NEEDS_NETWORK:
            net = self.current_network()
            if net is None:
                return False
            if name == "net_start" and net.active:
                return None
            if name == "net_stop" and not net.active:
                return None
            if name == "net_start_autostart" and net.active and net.autostart:
                return None
        return True

    def action_reload(self) -> None:
        self.reload()

    def _run(
        self, title: str, job: Callable[[HostFacade], Any], done: Callable[[Any], None]
    ) -> None:
        def failed(_message: str) -> None:
            self.reload()

        host_job(self.app, self.uri, title, job, done, failed=failed)

    def action_net_start(self) -> None:
        net = self.current_network()
        if net is None or net.active:
            return
        name = net.name

        def done(info: NetworkInfo) -> None:
            self.notify(f"{name} started", title="Network", markup=False)
            self.after_restart(self.uri, name, info.running_users)
            self.reload(select=name)

        self._run(f"Start network {name}", lambda f: f.network_start(name), done)

    def action_net_start_autostart(self) -> None:
        net = self.current_network()
        if net is None:
            return
        name, was_active = net.name, net.active

        def done(info: NetworkInfo) -> None:
            self.notify(f"{name} started and set to start at boot", title="Network", markup=False)
            if not was_active:
                self.after_restart(self.uri, name, info.running_users)
            self.reload(select=name)

        self._run(f"Start network {name}", lambda f: f.network_start_and_autostart(name), done)

    def action_net_stop(self) -> None:
        net = self.current_network()
        if net is None or not net.active:
            return
        name = net.name
        running = net.running_users
        if running:
            explanation = (
                f"These running domains lose connectivity: {names_text(running)}. "
                "libvirt does not re-plug their NICs when the network starts again."
            )
        else:
            explanation = "No running domain has a NIC on it."

        def stop() -> None:
            def done(lost: tuple[NetUser, ...]) -> None:
                text = f"{name} stopped"
                if lost:
                    text += f"; without network now: {names_text(lost)}"
                self.notify(text, title="Network", markup=False, timeout=10)
                self.reload(select=name)

            self._run(f"Stop network {name}", lambda f: f.network_stop(name), done)

        confirm(self.app, "Stop network", name, explanation, stop, button="Stop")

    def action_net_autostart(self) -> None:
        net = self.current_network()
        if net is None:
            return
        name, enable = net.name, not net.autostart

        def done(info: NetworkInfo) -> None:
            state = "on" if info.autostart else "off"
            self.notify(f"{name}: autostart {state}", title="Network", markup=False)
            self.reload(select=name)

        self._run(
            f"Autostart network {name}", lambda f: f.network_set_autostart(name, enable), done
        )

    def action_net_undefine(self) -> None:
        net = self.current_network()
        if net is None:
            return
        name = net.name
        # Refusals the list already knows are said at once; the core checks again anyway.
        if net.active:
            self.notify(
                f"{name} is active: stop it before undefining it",
                title="Undefine refused",
                severity="warning",
                markup=False,
            )
            return
        if net.used_by:
            self.notify(
                f"{name} is used by {names_text(net.used_by)}: remove their NICs first",
                title="Undefine refused",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return

        def undefine() -> None:
            def done(_result: None) -> None:
                self.notify(f"{name} undefined", title="Network", markup=False)
                self.reload()

            self._run(f"Undefine network {name}", lambda f: f.network_undefine(name), done)

        confirm(
            self.app,
            "Undefine network",
            name,
            "Its definition is removed; no domain uses it.",
            undefine,
            button="Undefine",
        )

    def action_net_new(self) -> None:
        host = services(self).hosts.get(self.uri)
        label = getattr(host, "label", "") or self.uri

        def opened(context: CreateContext) -> None:
            self.app.push_screen(NewNetworkScreen(context, label), self._create)

        host_job(
            self.app,
            self.uri,
            "Read the host's networks",
            HostFacade.network_create_context,
            opened,
            mutating=False,
        )

    def _create(self, request: NewNetworkRequest | None) -> None:
        if request is None:
            return
        name = request.spec.name.strip()

        def done(info: NetworkInfo) -> None:
            state = "active" if info.active else "defined"
            self.notify(f"{name} {state}", title="Network created", markup=False)
            self.reload(select=name)

        self._run(
            f"Create network {name}",
            lambda f: f.network_define(
                request.spec, start=request.start, autostart=request.autostart
            ),
            done,
        )

    def action_net_edit_xml(self) -> None:
        """The XML editor on the highlighted network; the list is read again after a save."""
        from virttui.screens.common.xml_editor import open_xml_editor

        net = self.current_network()
        if net is not None:
            open_xml_editor(self.app, self.uri, "network", net.name, on_saved=self.reload)

    def action_leases(self) -> None:
        """Leases of the highlighted network: the leases helper's screen, once wired."""
        net = self.current_network()
        opener = type(self).open_leases
        if net is not None and opener is not None:
            opener(self.app, self.uri, net.name)

    # ------------------------------------------------------------------ hooks
    def after_restart(self, uri: str, network: str, domains: tuple[NetUser, ...]) -> None:
        """Called on the UI thread when network `network` of host `uri` runs again (start, or
        start + autostart of an inactive one), with the domains whose NICs are on it: libvirt
        does not re-plug the NICs of running guests, so offer it (`screens/network/replug.py`
        lists the NICs really off the bridge and asks, or says none is)."""
        from virttui.screens.network.replug import offer_replug

        running = [d.uuid for d in domains if d.running]
        if running:
            offer_replug(self.app, uri, network, running)
