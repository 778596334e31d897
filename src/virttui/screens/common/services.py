"""The typed interface between the screens and the application's shared state.

Screens and dialogs never import `virttui.app` (that would make a circle: the app imports the
screens). They reach the hosts and their facades, the domain store, the open consoles, the
lifecycle actions and the details screens through `AppServices`, which `VirtTUIApp` implements,
with one accessor: `services(self)` from a widget or screen, `services(app)` from a function
given the app.

Screens that follow a host's samples and events (the details screen) subscribe on mount and
unsubscribe on unmount (`HostSubscriber`); the app posts to its subscribers, it never searches
the screen stack for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from textual.app import App
from textual.dom import DOMNode

if TYPE_CHECKING:
    from virttui.core.domain.address_cache import AddressCache
    from virttui.core.domain.store import DomainStore
    from virttui.core.facade.host import HostFacade
    from virttui.core.host.connection import DomainEvent, HostConnection
    from virttui.core.host.spec import HostSpec
    from virttui.screens.common.console_entries import ConsoleRegistry
    from virttui.widgets.common.glyphs import Glyphs


class HostSubscriber(Protocol):
    """Told about every sample and domain event of every host, on the UI thread."""

    def store_updated(self, uri: str) -> None:
        """A poll of host `uri` landed in the store."""

    def domain_event(self, event: DomainEvent) -> None:
        """A lifecycle, device or metadata event of one domain."""


@runtime_checkable
class AppServices(Protocol):
    """What screens may use of the application besides Textual's own `App` API."""

    hosts: dict[str, HostConnection]  # every open connection by URI (state, label, read-only)
    store: DomainStore  # every host's domains, as the list shows them
    consoles: ConsoleRegistry  # open console screens, by screen name
    readonly: bool
    refresh_seconds: float
    glyphs: Glyphs
    addresses: AddressCache  # guests' addresses by host + UUID (slow refresh, not the poll)

    def facade(self, uri: str) -> HostFacade | None:
        """The only door to libvirt for host `uri` (None when it is not open)."""

    def set_refresh(self, seconds: float) -> None: ...

    def start_host(self, spec: HostSpec) -> HostConnection: ...

    def stop_host(self, uri: str) -> None: ...

    def open_demo(self) -> None: ...

    def refresh_domains(self, force: bool = False) -> None: ...

    def open_details(self, uri: str, uuid: str) -> None: ...

    def open_storage(self, uri: str) -> None:
        """The storage screen (pools and volumes) of host `uri`."""

    def open_networks(self, uri: str) -> None:
        """The networks screen of host `uri`."""

    # ---- fioform
    def open_fio(self, uri: str | None = None) -> None:
        """The fio job builder for host `uri` (None: this machine)."""

    # ---- createwizard
    def select_domain(self, uri: str, uuid: str) -> None:
        """Put the list's cursor on domain `uuid` of host `uri` (now, or once it is listed)."""

    def open_create_wizard(self, uri: str | None = None) -> None:
        """The new-domain wizard for host `uri` (None: the first open host)."""

    def action_targets(self) -> list[tuple[str, str]]:
        """Selected domains, else the one under the cursor, as (uri, uuid)."""

    def run_lifecycle(self, action_id: str, targets: list[tuple[str, str]] | None = None) -> None:
        """Run a lifecycle action, asking first where the action or a hidden selection says so."""

    def run_lifecycle_now(self, action_id: str, targets: list[tuple[str, str]]) -> None:
        """Run a lifecycle action the admin has already confirmed."""

    def refresh_addresses(self, uri: str | None = None) -> None:
        """Read the guests' addresses of host `uri` (every host: None) again, in a quiet job."""

    def subscribe(self, subscriber: HostSubscriber) -> None: ...

    def unsubscribe(self, subscriber: HostSubscriber) -> None: ...


_PROVIDES: dict[type, bool] = {}  # app class -> implements AppServices (checked once)


def services(node: App[Any] | DOMNode) -> AppServices:
    """The application's shared state, typed, from the app or any widget or screen in it."""
    app = node if isinstance(node, App) else node.app
    provides = _PROVIDES.get(type(app))
    if provides is None:
        provides = _PROVIDES[type(app)] = isinstance(app, AppServices)
    if not provides:
        raise TypeError(f"{type(app).__name__} does not provide virttui's AppServices")
    return cast(AppServices, app)  # checked above, once per app class
