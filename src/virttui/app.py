"""The virttui application: owns the hosts, the domain model and the screens."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from virttui.core.common import gc_pacer
from virttui.core.common.safe_text import visible
from virttui.core.common.terminal_watch import EXIT_TERMINAL_GONE
from virttui.core.console.graphics_mode import PENDING, GraphicsChoice
from virttui.core.domain.action_table import LIFECYCLE
from virttui.core.domain.address_cache import ADDRESS_REFRESH_SECONDS, AddressCache
from virttui.core.domain.lifecycle import action_allowed
from virttui.core.domain.shutdown_watch import DEFAULT_GRACE
from virttui.core.domain.store import DomainStore
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import (
    ConnState,
    DomainEvent,
    HostConnection,
    HostSnapshot,
    NotConnected,
)
from virttui.core.host.early import DEMO_LABEL, EarlyHosts, host_label, open_host
from virttui.core.host.spec import HostSpec
from virttui.core.settings.config import DEFAULT_REFRESH
from virttui.resources import stylesheets
from virttui.screens.common.console_entries import ConsoleRegistry
from virttui.screens.common.services import AppServices, HostSubscriber
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.widgets.common import strip_cycles
from virttui.widgets.common.glyphs import pick_glyphs
from virttui.widgets.common.plain import append_plain

if TYPE_CHECKING:
    from virttui.core.domain.addresses import AddressReport
    from virttui.core.jobs import JobDone

__all__ = ["DEMO_LABEL", "HostSpec", "VirtTUIApp"]

# A lifecycle job's target: (host, uri, uuid, domain name read on the UI thread).
_Target = tuple[HostFacade | None, str, str, str]

__all__ = ["DEMO_LABEL", "HostSpec", "VirtTUIApp"]


class HostStateChanged(Message):
    def __init__(
        self, uri: str, state: ConnState, error: str | None, host: HostConnection | None = None
    ) -> None:
        self.uri, self.state, self.error, self.host = uri, state, error, host
        super().__init__()


class HostSampled(Message):
    def __init__(self, uri: str, snapshot: HostSnapshot) -> None:
        self.uri, self.snapshot = uri, snapshot
        super().__init__()


class HostDomainEvent(Message):
    def __init__(self, event: DomainEvent) -> None:
        self.event = event
        super().__init__()


class _Listener:
    """Called on libvirt/poller threads; hands everything to the UI thread as messages."""

    def __init__(self, app: App[None]) -> None:
        self.app = app

    def host_state_changed(self, host: HostConnection, state: ConnState, error: str | None) -> None:
        self.app.post_message(HostStateChanged(host.uri, state, error, host))

    def host_sampled(self, host: HostConnection, snapshot: HostSnapshot) -> None:
        self.app.post_message(HostSampled(host.uri, snapshot))

    def host_event(self, host: HostConnection, event: DomainEvent) -> None:
        self.app.post_message(HostDomainEvent(event))


class VirtTUIApp(App[None]):
    TITLE = "virttui"
    CSS_PATH = stylesheets()  # type: ignore[assignment]  # Textual accepts a list of Paths; its ClassVar says str | PurePath
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("D", "open_demo", "Demo host", show=False, id="app.demo"),
    ]

    def __init__(
        self,
        hosts: Iterable[HostSpec],
        *,
        readonly: bool = False,
        refresh: float = DEFAULT_REFRESH,
        demo_fallback: bool = False,
        ascii_glyphs: bool | None = None,
        config_problems: Iterable[str] = (),
        shutdown_grace: float = DEFAULT_GRACE,
        cpu_mode: str = "host",
        keymap: Mapping[str, str] | None = None,
        early: EarlyHosts | None = None,
    ) -> None:
        """`early`: connections the entry point started before importing the UI (the same
        hosts); the app takes them over instead of opening its own."""
        super().__init__()
        strip_cycles.install()  # drawn lines freed when replaced, not by the cyclic GC
        self.config_problems = list(config_problems)
        self.host_specs = list(hosts)
        self.readonly = readonly
        self.refresh_seconds = refresh
        self.demo_fallback = demo_fallback
        self.glyphs = pick_glyphs(ascii_glyphs)
        self.store = DomainStore()
        self.store.shutdowns.grace = shutdown_grace
        self.store.cpu_mode = cpu_mode
        self.user_keymap = dict(keymap or {})
        # ---- gfxproto: how the graphical console draws (set by cli.build_app / cli.main before
        # the app runs) and the terminal's cell size in pixels when it reports one.
        self.graphics_choice: GraphicsChoice = PENDING
        self.cell_pixels: tuple[int, int] | None = None
        self.hosts: dict[str, HostConnection] = {}
        # One facade per open connection: the screens' only door to libvirt.
        self._domains: DomainsScreen | None = None  # the base screen, pushed on mount
        self.consoles = (
            ConsoleRegistry()
        )  # open console screens (screens/common/console_registry.py)
        self._subscribers: list[HostSubscriber] = []  # screens following samples and events
        # ---- leases: guests' addresses, refreshed slowly and after lifecycle events (never by
        # the stats poll), by host + UUID.
        self.addresses = AddressCache()
        self._address_jobs: set[str] = set()
        self._listener = _Listener(self)
        self._fallback_done = False
        self._early = early
        self._early_states: list[HostStateChanged] = []
        self._gc_frozen = False
        self.terminal_gone: str | None = None  # why the terminal went away, once it has
        self.theme = "textual-dark"

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from virttui.terminal_driver import TerminalGuardDriver

            return TerminalGuardDriver
        return driver

    # ------------------------------------------------------------------ start-up
    def on_mount(self) -> None:
        for spec in self.host_specs:
            self.store.add_host(spec.uri, host_label(spec), readonly=self.readonly)
        self._take_early_hosts()
        self._domains = DomainsScreen()
        self.push_screen(self._domains)
        for problem in self.config_problems + self._apply_user_keymap():
            self.notify(problem, title="Config file problem", severity="error", markup=False)
        # Paint first, then connect: the first stats round trip never delays the first frame.
        self.call_after_refresh(self._start_hosts)
        self.set_interval(ADDRESS_REFRESH_SECONDS, self.refresh_addresses)
        self.set_timer(2.0, self.refresh_addresses)
        # Full GC collections at quiet moments, not between a console key and its echo.
        self._paces_gc = gc_pacer.enabled()
        if self._paces_gc:
            gc_pacer.PACER.install()
            self.set_interval(gc_pacer.TICK_S, gc_pacer.PACER.tick, name="gc-pacer")

    def _apply_user_keymap(self) -> list[str]:
        """[keys] from config.toml: unknown ids are reported and skipped, the rest applies.
        Only a config with [keys] pays for importing every screen (to know every binding id)."""
        if not self.user_keymap:
            return []
        from virttui.core.settings.config import config_path
        from virttui.screens.common.keymap import (
            check_keymap,
            collect_bindings,
            user_ids,
            with_read_only_fallbacks,
        )

        known = user_ids(collect_bindings(extra=[type(self)]))
        good, problems = check_keymap(self.user_keymap, known)
        self.set_keymap(with_read_only_fallbacks(good))
        return [f"{config_path()}: {p}" for p in problems]

    def _take_early_hosts(self) -> None:
        """Connections started before the UI: their first rows are in the store before the list
        is composed, so the first frame shows them; later snapshots come as messages at once.
        Their state is told to the handlers (the demo fallback, the not-responding warning) once
        the list is there, in `_start_hosts`."""
        if self._early is None:
            return
        wanted = {spec.uri for spec in self.host_specs}
        for taken in self._early.take(
            self._listener, lambda h: h.uri in wanted and h.readonly == self.readonly
        ):
            host = taken.host
            self.hosts[host.uri] = host
            if host.refresh != self.refresh_seconds:
                host.set_refresh(self.refresh_seconds)
            if taken.state in (ConnState.CONNECTING, ConnState.CONNECTED):
                self.store.set_host_state(host.uri, taken.state.value, taken.error)
            self._early_states.append(HostStateChanged(host.uri, taken.state, taken.error, host))
            if taken.snapshot is not None:
                self.on_host_sampled(HostSampled(host.uri, taken.snapshot))

    def _start_hosts(self) -> None:
        states, self._early_states = self._early_states, []
        for message in states:
            self.on_host_state_changed(message)
        if self._early is not None:
            self._early.deliver_states()  # what came since `take` first, then live
        for spec in self.host_specs:
            self.start_host(spec)

    def start_host(self, spec: HostSpec) -> HostConnection:
        existing = self.hosts.get(spec.uri)
        if existing is not None:
            return existing
        self.store.add_host(spec.uri, host_label(spec), readonly=self.readonly)
        host = open_host(
            spec,
            readonly=self.readonly,
            refresh=self.refresh_seconds,
            listener=self._listener,
            demo_setup=_demo_extras,
        )
        self.hosts[spec.uri] = host
        host.start()
        return host

    def stop_host(self, uri: str) -> None:
        """Forget a host: its poller stops in a thread (never blocks the UI), its rows go."""
        host = self.hosts.pop(uri, None)
        self.store.remove_host(uri)
        self.addresses.forget_host(uri)
        if host is not None:
            from virttui.screens.common.jobs import start_job

            start_job(self, lambda _ctx: host.stop(2.0), group="host-stop")
        self.refresh_domains(force=True)

    def facade(self, uri: str) -> HostFacade | None:
        """The facade of an open connection (None when `uri` is not open)."""
        host = self.hosts.get(uri)
        # A facade holds nothing but its connection: made on demand, never out of step with hosts.
        return None if host is None else HostFacade(host)

    def services(self) -> AppServices:
        """This app as the screens see it (mypy checks that it implements AppServices)."""
        return self

    def subscribe(self, subscriber: HostSubscriber) -> None:
        """`subscriber` is told of every host sample and domain event until it unsubscribes."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: HostSubscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def open_demo(self) -> None:
        from virttui.demo import demo_uri

        self.start_host(HostSpec(demo_uri(), demo=True))
        self.refresh_domains(force=True)

    def set_refresh(self, seconds: float) -> None:
        self.refresh_seconds = seconds
        for host in self.hosts.values():
            host.set_refresh(seconds)

    async def action_quit(self) -> None:
        """Quit; asks first when a screen holds answers not saved (a form's `unsaved_text()`)."""
        asks = (getattr(screen, "unsaved_text", None) for screen in self.screen_stack)
        unsaved = [text for ask in asks if callable(ask) and (text := str(ask()))]
        if not unsaved:
            self.exit()
            return
        from virttui.screens.common.confirm import ConfirmScreen

        def answered(ok: bool | None) -> None:
            if ok:
                self.exit()

        question = "Quit virttui? " + "; ".join(unsaved) + "."
        self.push_screen(ConfirmScreen(question, confirm_label="Quit"), answered)

    def terminal_lost(self, reason: str) -> None:
        """The terminal went away (hang-up, EOF/EIO): nobody can see this app or press q. Leave
        the way q does, so consoles and connections are closed; the driver's watchdog ends the
        process if that stalls."""
        if self.terminal_gone is None:
            self.terminal_gone = reason
            self.exit(return_code=EXIT_TERMINAL_GONE)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification, whoever raises it: control characters in the message and the title
        are shown as escapes, never sent to the terminal. Callers pass libvirt's text with
        `markup=False` (only Textual's own fixed messages use markup)."""
        super().notify(
            visible(message, multiline=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            gc_pacer.PACER.busy()  # someone is typing or pointing: no full collection now
        await super().on_event(event)

    def on_unmount(self) -> None:
        for host in self.hosts.values():
            host.stop(timeout=0.5)
        if getattr(self, "_paces_gc", False):  # only what this app installed
            gc_pacer.PACER.uninstall()

    # ------------------------------------------------------------------ model updates
    def refresh_addresses(self, uri: str | None = None) -> None:
        """Read the running guests' addresses of one host (or every connected one) in a quiet
        job (a failure only leaves the cache as it was); the list and subscribers repaint.

        Only what is shown is read: every running domain while the list shows its IP column
        (a wide terminal), else only the domains of open details screens; nothing otherwise."""
        screen = self.domains_screen()
        all_shown = screen is not None and screen.ready and screen.table.shows_ip()
        for host_uri in [uri] if uri is not None else list(self.hosts):
            facade = self.facade(host_uri)
            entry = self.store.hosts.get(host_uri)
            if facade is None or entry is None or entry.state != "connected":
                continue
            if host_uri in self._address_jobs:
                continue
            only: set[str] | None = None
            if not all_shown:
                only = {
                    target[1]
                    for sub in self._subscribers
                    if isinstance(target := getattr(sub, "target", None), tuple)
                    and len(target) == 2
                    and target[0] == host_uri
                }
                if not only:
                    continue
            self._address_jobs.add(host_uri)
            self._start_address_job(host_uri, facade, only)

    def _start_address_job(self, uri: str, facade: HostFacade, only: set[str] | None) -> None:
        from virttui.screens.common.jobs import start_job

        def read(_ctx: object) -> dict[str, AddressReport]:
            return facade.all_guest_addresses(only)

        def done(message: JobDone) -> None:
            self._address_jobs.discard(uri)
            if self.addresses.update_host(uri, message.result, only):
                self._addresses_changed(uri)

        def failed(_message: object) -> None:
            self._address_jobs.discard(uri)

        start_job(self, read, on_done=done, on_failed=failed, group="addresses")

    def _addresses_changed(self, uri: str) -> None:
        screen = self.domains_screen()
        if screen is not None and screen.ready:
            screen.table.addresses = self.addresses
            screen.table.addresses_changed()
        for subscriber in list(self._subscribers):
            changed = getattr(subscriber, "addresses_changed", None)
            if changed is not None:
                changed(uri)

    def domains_screen(self) -> DomainsScreen | None:
        """The domain list (the app's base screen, kept from on_mount), while it is mounted."""
        screen = self._domains
        return screen if screen is not None and screen.is_attached else None

    def refresh_domains(self, force: bool = False) -> None:
        screen = self.domains_screen()
        if screen is not None and screen.ready:
            screen.refresh_view(force=force)

    def on_host_state_changed(self, message: HostStateChanged) -> None:
        if message.host is not None and self.hosts.get(message.uri) is not message.host:
            return  # a late word from a poller that was removed (the URI may be re-added already)
        entry = self.store.hosts.get(message.uri)
        was = None if entry is None else entry.state
        self.store.set_host_state(message.uri, message.state.value, message.error)
        if message.state is ConnState.NOT_RESPONDING and was != message.state.value:
            label = entry.label if entry is not None else message.uri
            self.notify(
                f"{label} is not responding: its figures are stale and actions on it fail "
                "until it answers again",
                severity="warning",
                markup=False,
            )
        if message.state is ConnState.STOPPED and entry is not None:
            self.store.apply_rows(message.uri, (), entry.host_cpus)  # disconnected by the user
        if message.state is ConnState.DISCONNECTED:
            self._maybe_fall_back(message.uri, message.error)
        self.refresh_domains()
        screen = self.domains_screen()
        if screen is not None and screen.ready:
            screen.refresh_bindings_if_changed()

    def _maybe_fall_back(self, uri: str, error: str | None) -> None:
        """No daemon reachable at start: open the demo host and say so (never silently)."""
        if self._fallback_done or not self.host_specs or uri != self.host_specs[0].uri:
            return
        self._fallback_done = True
        text = Text()
        text.append("Cannot reach ", style="bold")
        append_plain(text, uri, "bold")
        text.append(": ", style="bold")
        append_plain(text, error or "no libvirt daemon")
        if self.demo_fallback:
            self.open_demo()
            text.append(
                ". Showing the bundled DEMO host (libvirt test driver); the real host keeps being retried."
            )
        else:
            text.append(". Press D for the bundled demo host; this host keeps being retried.")
        screen = self.domains_screen()
        if screen is not None and screen.ready:
            screen.set_banner(text)

    def on_host_sampled(self, message: HostSampled) -> None:
        snap = message.snapshot
        host = self.hosts.get(message.uri)
        if host is None or host.state is ConnState.STOPPED:
            return  # a late sample from a host just disconnected or removed
        self.store.apply_rows(message.uri, snap.rows, snap.host_cpus, taken_at=snap.taken_at)
        self._watch_shutdowns(message.uri)
        entry = self.store.hosts.get(message.uri)
        if entry is not None:
            # No sample for this long while connected: a stats call hangs; show the rows stale.
            entry.stale_after = host.refresh + host.stall_after
        self.refresh_domains()
        for subscriber in list(self._subscribers):
            subscriber.store_updated(message.uri)
        if not self._gc_frozen:
            self._gc_frozen = True
            # Everything loaded so far (Textual, libvirt, the first rows) lives for the whole
            # session: keep it out of the cyclic GC's full collections, which otherwise pause the
            # UI for tens of ms while scrolling a 1000-domain list.
            self.call_after_refresh(gc.freeze)

    def _watch_shutdowns(self, uri: str) -> None:
        """Shutdown/reboot requests still not carried out after the grace period: the list says
        so (its State word) and the admin is asked, once, whether to force off or reset."""
        watch = self.store.shutdowns
        entry = self.store.hosts.get(uri)
        if entry is not None:
            watch.observe(uri, entry.rows)
        offers = watch.due_offers(time.monotonic())
        if offers:
            from virttui.screens.domain.actions import offer_after_ignored_request

            for offer_uri, uuid, kind in offers:
                offer_after_ignored_request(self, offer_uri, uuid, kind)

    def open_details(self, uri: str, uuid: str) -> None:
        host = self.facade(uri)
        if host is not None and self.store.row(uri, uuid) is not None:
            from virttui.screens.domain.details import DetailsScreen

            self.push_screen(DetailsScreen(host, uri, uuid))

    def open_storage(self, uri: str) -> None:
        from virttui.screens.storage.storage import open_storage

        open_storage(self, uri)

    # ---- netscreen
    def open_networks(self, uri: str) -> None:
        from virttui.screens.network.networks import open_networks

        open_networks(self, uri)

    # ---- fioform
    def open_fio(self, uri: str | None = None) -> None:
        from virttui.screens.fio.form import open_fio

        open_fio(self, uri)

    # ---- createwizard
    def select_domain(self, uri: str, uuid: str) -> None:
        screen = self.domains_screen()
        if screen is not None:
            screen.select_domain(uri, uuid)

    def open_create_wizard(self, uri: str | None = None) -> None:
        from virttui.screens.create.wizard import open_create_wizard

        open_create_wizard(self, uri)

    def on_host_domain_event(self, message: HostDomainEvent) -> None:
        if message.event.kind in ("lifecycle", "reboot", "device-added", "device-removed"):
            # A started guest asks for its lease within seconds; a stopped one loses its row.
            uri = message.event.uri
            self.set_timer(1.0, partial(self.refresh_addresses, uri))
            self.set_timer(8.0, partial(self.refresh_addresses, uri))
        if message.event.kind == "reboot":
            self.store.shutdowns.rebooted(message.event.uri, message.event.uuid)
        # The poller re-polls right after an event; nothing to do here but keep the key bindings fresh.
        screen = self.domains_screen()
        if screen is not None and screen.ready:
            screen.refresh_bindings_if_changed()
        for subscriber in list(self._subscribers):
            subscriber.domain_event(message.event)

    # ------------------------------------------------------------------ actions
    def action_targets(self) -> list[tuple[str, str]]:
        """Selected domains, else the one under the cursor, as (uri, uuid)."""
        screen = self.domains_screen()
        if screen is None or not screen.ready:
            return []
        table = screen.table
        if table.selected:
            keys = [k.split("\x00", 1) for k in sorted(table.selected)]
            return [(u, d) for u, d in keys if self.store.row(u, d) is not None]
        item = table.current
        if item is None or item.uuid is None:
            return []
        return [(item.uri, item.uuid)]

    def hidden_targets(self) -> set[tuple[str, str]]:
        """Selected domains the list's filter hides now: never acted on without saying so."""
        screen = self.domains_screen()
        if screen is None or not screen.ready:
            return set()
        return {(u, d) for u, d in (k.split("\x00", 1) for k in screen.table.hidden_selected())}

    def run_lifecycle(self, action_id: str, targets: list[tuple[str, str]] | None = None) -> None:
        """Run a lifecycle action on `targets` (uri, uuid), else on the list's selection.
        A selection partly hidden by the filter always asks first, counting the hidden ones."""
        action = LIFECYCLE[action_id]
        from_selection = targets is None
        candidates = self.action_targets() if targets is None else targets
        if any(u in self.hosts and self.hosts[u].readonly for u, _ in candidates):
            # Before the state filter: a read-only host says so whatever its domains' states.
            from virttui.screens.common.readonly import READ_ONLY_MESSAGE

            self.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)
            return
        targets = [t for t in candidates if action_allowed(action, self._domain_state(t))]
        if not targets:
            return

        hidden_set = self.hidden_targets() if from_selection else set()
        hidden = [t for t in targets if t in hidden_set]
        if hidden:
            from virttui.screens.common.ui_jobs import confirm

            shown = [t for t in targets if t not in hidden_set]
            names = ", ".join(self._domain_name(t) for t in shown) or "none shown"
            confirm(
                self,
                action.title,
                f"{len(targets)} selected ({len(hidden)} hidden): {names}",
                f"{action.help}\n\nHidden by the filter, also affected: "
                + ", ".join(self._domain_name(t) for t in hidden),
                lambda: self.run_lifecycle_now(action_id, targets),
                button=action.title,
            )
            return
        stuck = {self.hosts[u].label for u, _ in targets if self._not_responding(u)}
        if stuck and all(self._not_responding(u) for u, _ in targets):
            # Say it at once (no confirmation first); a call would only hang behind the stuck one.
            for label in sorted(stuck):
                self.notify(
                    f"{label} is not responding",
                    title=f"{action.title} failed",
                    severity="error",
                    markup=False,
                )
            return
        if action.destructive:
            from virttui.screens.common.ui_jobs import confirm

            names = ", ".join(self._domain_name(t) for t in targets)
            confirm(
                self,
                action.title,
                names,
                action.help,
                lambda: self.run_lifecycle_now(action_id, targets),
            )
        else:
            self.run_lifecycle_now(action_id, targets)

    def _not_responding(self, uri: str) -> bool:
        host = self.hosts.get(uri)
        return host is not None and host.state is ConnState.NOT_RESPONDING

    def _domain_state(self, target: tuple[str, str]) -> int | None:
        row = self.store.row(*target)
        return None if row is None else row.state

    def _domain_name(self, target: tuple[str, str]) -> str:
        row = self.store.row(*target)
        return target[1] if row is None else row.name

    def run_lifecycle_now(self, action_id: str, targets: list[tuple[str, str]]) -> None:
        """Run a lifecycle action the admin has already confirmed on `targets` (uri, uuid) as one
        job, no questions asked; one notification when it ends (per-domain outcome, libvirt's message for failures)."""
        from virttui.core.domain.actions import BulkResult, bulk
        from virttui.screens.common.jobs import start_job

        action = LIFECYCLE[action_id]
        # Read on the UI thread: the job only uses these.
        # A host removed since the targets were chosen fails its domains, not the whole job.
        named: list[_Target] = [
            (self.facade(u), u, d, self._domain_name((u, d))) for u, d in targets
        ]

        def act(target: _Target) -> None:
            host, uri, uuid, _name = target
            if host is None:
                raise NotConnected(f"{uri}: no such connection")
            host.lifecycle(uuid, action_id)

        def after(target: _Target, result: BulkResult) -> None:
            if result.ok and action_id in ("shutdown", "reboot"):
                # The guest may ignore it: watched, and offered force off/reset after a while.
                self.call_from_thread(self._request_sent, target[1], target[2], action_id)
            if target[0] is not None:
                target[0].refresh_now()

        start_job(
            self,
            lambda ctx: bulk(ctx, named, act, lambda t: (t[3], t[2]), after_each=after),
            on_done=lambda done: self._report_results(
                action.title,
                action.verb,
                [(r.name, None if r.ok else r.message) for r in done.result],
            ),
            group="actions",
        )

    def _request_sent(self, uri: str, uuid: str, kind: str) -> None:
        row = self.store.row(uri, uuid)
        if row is not None and row.active:
            self.store.shutdowns.asked(uri, uuid, kind, row.dom_id, time.monotonic())

    def _report_results(self, title: str, verb: str, results: list[tuple[str, str | None]]) -> None:
        """One notification per action: the per-domain outcome, libvirt's message for failures."""
        failed = [(n, e) for n, e in results if e is not None]
        lines = [
            f"{visible(name)}: {visible(error, multiline=True)}"
            if error
            else f"{visible(name)}: {verb}"
            for name, error in results
        ]
        if failed:
            heading = (
                f"{title} failed"
                if len(results) == 1
                else f"{title}: {len(failed)} of {len(results)} failed"
            )
            self.notify("\n".join(lines), title=heading, severity="error", markup=False, timeout=10)
        else:
            self.notify("\n".join(lines), title=title, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In a connected console, Ctrl+P (shell history) and Ctrl+Q belong to the guest; Textual
        # binds them app-wide with priority, so step aside while the console has focus.
        if action in ("command_palette", "quit"):
            keeps = getattr(self.screen, "keeps_app_keys", None)  # a console screen says so
            if keeps is not None and keeps():
                return False
        return super().check_action(action, parameters)

    def action_open_demo(self) -> None:
        self.open_demo()

    # ------------------------------------------------------------------ palette
    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from virttui.screens.domain.action_keys import palette_commands
        from virttui.screens.domain.details import DetailsScreen
        from virttui.screens.domain.edit import edit_commands

        yield from super().get_system_commands(screen)
        if isinstance(screen, DomainsScreen):
            item = screen.table.current
            target = (item.uri, item.uuid) if item is not None and item.uuid is not None else None
            # The domain actions (keys, Actions menu) come from the one table.
            yield from palette_commands(self, screen, "list", target, selection=True)
            yield SystemCommand(
                "List: filter", "Filter domains by name or state", screen.action_filter
            )
            yield SystemCommand(
                "List: next sort column", "Cycle the sort column", screen.action_sort_next
            )
            yield SystemCommand(
                "List: reverse sort", "Reverse the sort order", screen.action_sort_reverse
            )
            yield SystemCommand(
                "List: CPU% per host / per vCPU", "Toggle the CPU% basis", screen.action_cpu_mode
            )
            yield SystemCommand(
                "Open the demo host", "Bundled libvirt test-driver host", self.open_demo
            )
            yield SystemCommand(
                "Consoles: switch", "Open consoles (W)", screen.action_console_switcher
            )
            yield SystemCommand(
                "Connections: manage hosts",
                "Add, remove, connect, disconnect, autoconnect (C)",
                screen.action_connections,
            )
            if target is not None:
                yield from edit_commands(self, *target)
                yield SystemCommand(
                    "Domain: details",
                    "Overview, devices, graphs and XML of the domain under the cursor",
                    partial(self.open_details, *target),
                )
        if isinstance(screen, DetailsScreen):
            yield from palette_commands(self, screen, "details", screen.target)
            yield from edit_commands(self, *screen.target)
            for tab, title in (
                ("tab-overview", "Overview"),
                ("tab-devices", "Devices"),
                ("tab-graphs", "Graphs"),
                ("tab-xml", "XML"),
            ):
                yield SystemCommand(
                    f"Details: {title}", f"Show the {title} tab", partial(screen.action_tab, tab)
                )
            yield SystemCommand("Details: search the XML", "Find text", screen.action_search)
            yield SystemCommand("Details: reload", "Read the domain again", screen.action_reload)
        # ---- createwizard
        if isinstance(screen, DomainsScreen) or type(screen).__name__ == "HostScreen":
            for uri, host in self.hosts.items():
                label = host.label or uri
                if host.readonly:
                    continue  # a read-only connection cannot define domains
                yield SystemCommand(
                    f"Domain: create a new domain on {label}…",
                    "The new-domain wizard (n on the list and on the host screen)",
                    partial(self.open_create_wizard, uri),
                )
        from virttui.screens.create.fields import STEPS
        from virttui.screens.create.wizard import CreateWizardScreen

        if isinstance(screen, CreateWizardScreen):
            for index, step_name in enumerate(STEPS):
                yield SystemCommand(
                    f"New domain: step {index + 1}, {step_name}",
                    "Go to this step of the wizard",
                    partial(screen.go, index),
                )
            for title, help_text, method in (
                (
                    "New domain: save preset",
                    "Save the answers as TOML (ctrl+s)",
                    screen.action_save_preset,
                ),
                (
                    "New domain: load preset",
                    "Fill every step from a TOML preset (ctrl+o)",
                    screen.action_load_preset,
                ),
                (
                    "New domain: copy virt-install line",
                    "To the clipboard (ctrl+y)",
                    screen.action_copy_line,
                ),
                (
                    "New domain: check against the host",
                    "Domain capabilities, schema, names (ctrl+t)",
                    screen.action_check,
                ),
                ("New domain: create", "Check, then create (ctrl+r)", screen.action_create),
                ("New domain: add a disk", "Disks step", screen.action_add_disk),
                (
                    "New domain: add a CD-ROM",
                    "Disks step: e.g. a driver ISO",
                    screen.action_add_cdrom,
                ),
            ):
                yield SystemCommand(title, help_text, method)
        # ---- snapshots
        # "Domain: snapshots" on the list and the details screen comes from the action table
        # (key T); the snapshots screen's own keys are offered here.
        from virttui.screens.domain.snapshots import SnapshotsScreen

        if isinstance(screen, SnapshotsScreen):
            for title, help_text, method in (
                (
                    "Snapshots: create",
                    "New internal or external snapshot (c)",
                    screen.action_create,
                ),
                ("Snapshots: revert", "Revert to the selected snapshot (r)", screen.action_revert),
                (
                    "Snapshots: manual revert",
                    "External snapshot, shut-off domain: new overlays, newer ones kept (m)",
                    screen.action_manual_revert,
                ),
                (
                    "Snapshots: delete",
                    "This one, with children, or the record only (d)",
                    screen.action_delete,
                ),
                ("Snapshots: show XML", "The selected snapshot's XML (x)", screen.action_xml),
                ("Snapshots: reload", "Read the snapshots again (R)", screen.action_reload),
            ):
                yield SystemCommand(title, help_text, method)
        # ---- qemuimg
        from virttui.screens.storage.image import prompt_open_image

        yield SystemCommand(
            "Image: open a path…",
            "qemu-img info, check, create, convert, resize, snapshots, commit, rebase of a file",
            partial(prompt_open_image, self),
        )
        # ---- browser
        yield from self._browser_commands(screen)
        # ---- live
        yield from self._live_commands(screen)
        # ---- pools
        yield from self._storage_commands(screen)
        # ---- nicedit
        for uri, host in self.hosts.items():
            label = host.label if host.label != uri else uri
            yield SystemCommand(
                f"Networks: re-plug NICs after a network restart on {visible(label)}",
                "Reconnect running guests' NICs that a network stop/start left unplugged",
                partial(self._pick_network_to_replug, uri),
            )
        # ---- netscreen
        yield from self._network_commands(screen)

        # ---- leases
        yield from self._leases_commands(screen)

        # ---- fio
        yield from self._fio_commands(screen)
        # ---- gfxproto
        yield from self._graphics_commands(screen)
        # XML of networks and pools (X on their screens)
        # "Domain: edit XML" and "Domain: switch disks and NICs to virtio" come from the action
        # table; the Networks and Storage screens' XML keys (X) are offered here.
        from virttui.screens.network.networks import NetworksScreen
        from virttui.screens.storage.storage import StorageScreen

        if isinstance(screen, NetworksScreen):
            yield from _screen_commands(
                screen,
                (("net_edit_xml", "Networks: edit XML", "The highlighted network's XML (X)"),),
            )
        if isinstance(screen, StorageScreen):
            yield from _screen_commands(
                screen,
                (
                    (
                        "edit_xml",
                        "Storage: edit pool XML / show volume XML",
                        "The highlighted pool's XML, or the volume's (read-only) from the "
                        "volume table (X)",
                    ),
                ),
            )

    def _pick_network_to_replug(self, uri: str) -> None:
        """Palette entry of `offer_replug`: pick one of the host's running networks."""
        from virttui.core.network.choices import NetworkChoice
        from virttui.screens.common.jobs import host_job
        from virttui.screens.common.ui_jobs import dialog_title
        from virttui.screens.domain.action_dialogs import PickScreen
        from virttui.screens.network.replug import offer_replug

        def pick(networks: list[NetworkChoice]) -> None:
            items = [(n.name, n.name) for n in networks if n.active]
            if not items:
                self.notify("No running network on this host.", title="Re-plug NICs")
                return

            def chosen(name: str | None) -> None:
                if name is not None:
                    offer_replug(self, uri, name)

            title = dialog_title("Re-plug NICs on network", uri)
            self.push_screen(PickScreen(title, items), chosen)

        host_job(self, uri, "List networks", lambda f: f.nic_networks(), pick, mutating=False)

    def _network_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Networks screen of each open host; the networks screen's own actions while it shows."""
        from virttui.screens.network.networks import NetworksScreen

        if isinstance(screen, NetworksScreen):
            yield from _screen_commands(
                screen,
                (
                    ("net_start", "Networks: start", "Start the highlighted network (s)"),
                    (
                        "net_stop",
                        "Networks: stop",
                        "Asks first, naming the guests that lose it (x)",
                    ),
                    ("net_autostart", "Networks: toggle autostart", "Start it at boot (a)"),
                    ("net_start_autostart", "Networks: start and autostart", "One key (A)"),
                    ("net_undefine", "Networks: undefine", "Refused while active or used (d)"),
                    ("net_new", "Networks: new network", "NAT, routed, isolated, open, bridge (n)"),
                    ("leases", "Networks: DHCP leases", "Leases of the highlighted network (l)"),
                    ("reload", "Networks: reload", "Read the networks again (r)"),
                ),
            )
            return
        for uri, host in self.hosts.items():
            label = host.label if host.label != uri else uri
            yield SystemCommand(
                f"Networks of {visible(label)}",
                "Virtual networks: start, stop, autostart, create, who uses them",
                partial(self.open_networks, uri),
            )

    def _graphics_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """gfxproto: the graphical console's drawing mode and 1:1 zoom."""
        from virttui.core.console.graphics_mode import GraphicsChoice, in_tmux
        from virttui.screens.console.graphics import GraphicsConsoleScreen

        if not isinstance(screen, GraphicsConsoleScreen):
            return
        view = screen.view
        yield SystemCommand(
            "Console: 1:1 pixels / fit",
            "Toggle 1:1 guest pixels (Shift+arrows pan) and fitting the view (Ctrl+^)",
            view.action_one_to_one,
        )
        for mode, title in (
            ("kitty", "Kitty graphics"),
            ("sixel", "Sixel"),
            ("halfblocks", "half blocks"),
        ):
            yield SystemCommand(
                f"Console: draw with {title}",
                "For this session (console.graphics in config.toml or --graphics to keep it)",
                partial(
                    view.set_graphics, GraphicsChoice(mode, "chosen in the palette", in_tmux())
                ),
            )

    def _fio_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The fio panel: the job builder (this machine and each remote host), saved runs, a
        report file, a quick live test; the fio screens' own actions while they show."""
        from virttui.screens.fio.form import FioScreen
        from virttui.screens.fio.live import FioLiveScreen, open_quick_test
        from virttui.screens.fio.report import FioReportScreen, prompt_open_report
        from virttui.screens.fio.runs import FioRunsScreen, open_fio_runs
        from virttui.widgets.fio.report_view import SECTIONS as FIO_REPORT_SECTIONS

        yield SystemCommand(
            "fio: disk benchmark",
            "Build a fio job file (presets, load/save .fio), guard it, run it on this machine",
            self.open_fio,
        )
        for uri, host in self.hosts.items():
            if not host.is_local:
                yield SystemCommand(
                    f"fio: disk benchmark on {visible(host.label)}",
                    "Build a fio job file and run it on that host",
                    partial(self.open_fio, uri),
                )
        yield SystemCommand(
            "fio: saved runs",
            "Past fio runs: report, compare two side by side, export JSON/CSV",
            partial(open_fio_runs, self),
        )
        yield SystemCommand(
            "fio: open a report (JSON file)…",
            "The report of a saved fio --output-format=json or json+ file on this machine",
            partial(prompt_open_report, self),
        )
        if isinstance(screen, FioScreen):
            yield from screen.palette_commands()  # from the job builder's action table
        if isinstance(screen, FioLiveScreen):
            yield from _screen_commands(
                screen,
                (
                    ("stop", "fio: stop", "SIGINT: fio writes its partial result (s)"),
                    ("cancel_run", "fio: cancel and discard", "Kill fio, remove its output (esc)"),
                    ("next_job", "fio: plot the next job", "All jobs → each job → all jobs (j)"),
                ),
            )
        else:
            yield SystemCommand(
                "fio: quick live test",
                "4k random read of a new 64 MiB temp file for 10 s, live plots",
                partial(open_quick_test, self),
            )
        if isinstance(screen, FioReportScreen):
            for n, (key, title) in enumerate(FIO_REPORT_SECTIONS, start=1):
                if key in dict(screen.view.sections()):
                    yield SystemCommand(
                        f"fio report: {title}",
                        f"Show the {title} section ({n})",
                        partial(screen.action_section, key),
                    )
            if len(screen.choices) > 1:
                yield SystemCommand(
                    "fio report: next job", "The next job or the group (])", screen.action_next_job
                )
                yield SystemCommand(
                    "fio report: previous job", "The previous job ([)", screen.action_prev_job
                )
        if isinstance(screen, FioRunsScreen):
            yield from screen.palette_commands()

    def _leases_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """DHCP leases and reservations of a network of each open host; the leases screen's
        own actions while it shows."""
        from virttui.screens.network.leases import LeasesScreen, open_leases

        if isinstance(screen, LeasesScreen):
            yield from _screen_commands(
                screen,
                (
                    ("add", "Leases: new reservation", "Static MAC -> IP (a)"),
                    ("reserve_lease", "Leases: reserve this lease", "Keep its IP for its MAC (R)"),
                    ("remove", "Leases: remove reservation", "Live and persistent (d)"),
                    ("reload", "Leases: reload", "Read the leases again (r)"),
                ),
            )
        for uri, host in self.hosts.items():
            label = host.label if host.label != uri else uri
            yield SystemCommand(
                f"Network: DHCP leases of a network on {visible(label)}",
                "Leases with their domains, static reservations",
                partial(open_leases, self, uri, None),
            )

    def _storage_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Storage screen of each open host; the storage screen's own actions while it shows."""
        from virttui.screens.storage.storage import StorageScreen

        if isinstance(screen, StorageScreen):
            yield from _screen_commands(
                screen,
                (
                    ("pool_start", "Storage: start pool", "Start the highlighted pool"),
                    ("pool_stop", "Storage: stop pool", "Stop the highlighted pool"),
                    ("pool_refresh", "Storage: refresh pool", "Re-read the pool's volumes"),
                    ("pool_autostart", "Storage: toggle pool autostart", "Start the pool at boot"),
                    ("pool_new_dir", "Storage: new dir pool", "Make a directory a pool"),
                    ("pool_define_xml", "Storage: define pool from XML", "Any pool type"),
                    ("pool_remove", "Storage: remove pool", "Stop and undefine (asks first)"),
                    ("volume_new", "Storage: new volume", "Create a volume in the pool"),
                    ("volume_delete", "Storage: delete volume", "Refused while used"),
                    ("volume_clone", "Storage: clone volume", "Copy the volume"),
                    ("volume_resize", "Storage: resize volume", "Grow or shrink"),
                    ("image", "Storage: image actions", "qemu-img info, check, convert... (i)"),
                    (
                        "browse",
                        "Storage: browse the pool's directory",
                        "Images in pools or not (f)",
                    ),
                    ("volume_upload", "Storage: upload into the volume", "A local file (u)"),
                    ("volume_download", "Storage: download the volume", "Into a local file (D)"),
                    ("volume_new_encrypted", "Storage: new LUKS volume", "With a secret (e)"),
                    ("secrets", "Storage: secrets", "libvirt secrets (k)"),
                ),
            )
            return
        for uri, host in self.hosts.items():
            label = host.label if host.label != uri else uri
            yield SystemCommand(
                f"Storage: pools and volumes of {visible(label)}",
                "Pools, volumes, who uses them",
                partial(self.open_storage, uri),
            )

    def _browser_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from virttui.screens.domain.details import DetailsScreen
        from virttui.screens.storage.files import FileBrowserScreen, open_file_browser

        uri: str | None = None
        if isinstance(screen, DomainsScreen) and screen.table.current is not None:
            uri = screen.table.current.uri
        elif isinstance(screen, DetailsScreen):
            uri = screen.target[0]
        elif isinstance(screen, FileBrowserScreen):
            uri = screen.uri
        if uri is None or uri not in self.hosts:
            uri = next(iter(self.hosts), None)
        if uri is not None:
            yield SystemCommand(
                "Storage: browse files",
                "Directories and disk images of the host, in pools or not (qemu-img info)",
                partial(open_file_browser, self, uri),
            )
        if isinstance(screen, FileBrowserScreen):
            yield SystemCommand("Files: go to path", "Type a directory", screen.action_goto)
            yield SystemCommand("Files: parent directory", "Up one level", screen.action_parent)
            yield SystemCommand(
                "Files: next sort column", "Cycle the sort", screen.action_sort_next
            )
            yield SystemCommand("Files: reverse sort", "Reverse", screen.action_sort_reverse)
            yield SystemCommand("Files: reload", "List the directory again", screen.action_reload)

    def _live_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Secrets, LUKS volumes, volume upload/download (screens/storage); the live disk routes
        of the domain under the cursor are the Edit menu's "Live disk routes..."."""
        from virttui.screens.domain.details import DetailsScreen
        from virttui.screens.storage.secrets import EncryptedVolumeDialog, SecretsScreen
        from virttui.screens.storage.transfer import TransferDialog

        uri = None
        if isinstance(screen, DomainsScreen) and screen.table.current is not None:
            uri = screen.table.current.uri
        elif isinstance(screen, DetailsScreen):
            uri = screen.target[0]
        if uri is None:
            uri = next((u for u, h in self.hosts.items() if h.connected), None)
        if uri is None:
            return
        where = self.hosts[uri].label if uri in self.hosts else uri
        yield SystemCommand(
            "Storage: libvirt secrets (LUKS)",
            f"List, create and delete volume secrets on {where}",
            lambda: self.push_screen(SecretsScreen(uri)),
        )
        yield SystemCommand(
            "Storage: new encrypted (LUKS) volume",
            f"A LUKS volume in a pool of {where}, with a passphrase secret",
            lambda: self.push_screen(EncryptedVolumeDialog(uri)),
        )
        yield SystemCommand(
            "Storage: upload a local file into a volume",
            f"libvirt volume stream to {where}, holes kept",
            lambda: self.push_screen(TransferDialog(uri, "upload")),
        )
        yield SystemCommand(
            "Storage: download a volume into a local file",
            f"libvirt volume stream from {where}, holes kept",
            lambda: self.push_screen(TransferDialog(uri, "download")),
        )


def _screen_commands(
    screen: Screen[Any], entries: Iterable[tuple[str, str, str]]
) -> Iterable[SystemCommand]:
    """Palette commands for a screen's own actions: (action, title, help) entries, each offered
    while the screen's `check_action` allows it."""
    for action, title, help_text in entries:
        if screen.check_action(action, ()):
            yield SystemCommand(title, help_text, getattr(screen, f"action_{action}"))


def _demo_extras(conn: object) -> None:
    from virttui.demo import apply_demo_extras

    apply_demo_extras(conn)
