"""Hosts opened before the UI exists: start-up overlaps connecting with importing Textual.

`virttui` spends a few hundred ms importing Textual and composing its screen before the first
frame; the daemon spends about as long (on a big host, longer) opening the connection and
answering the first stats call. The entry point therefore starts the hosts' connections first
(`EarlyHosts.start`, core only: libvirt and threads, no Textual), then imports and builds the app,
which takes them over in two steps:

1. `take(listener)` while it mounts, before the list is composed: the connections with their state
   and newest snapshot if one has come, so the first frame shows the rows. From then on snapshots
   and domain events go to `listener` as they come;
2. `deliver_states()` once the list is painted: the state changes that came since `take` go to
   the listener in order, and every later one as it comes (the handlers of a disconnected or stuck
   host, such as the demo fallback's banner, need the list on screen).

Before `take`, the pollers' reports are kept here (every state change, the newest snapshot of each
host); domain events are dropped (the app has no shutdown request to watch yet, and every event
causes a re-poll whose snapshot is kept). Thread-safe: pollers report from their own threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import libvirt

from virttui.core.host.connection import (
    ConnState,
    DomainEvent,
    HostConnection,
    HostListener,
    HostSnapshot,
)
from virttui.core.host.spec import HostSpec

DEMO_LABEL = "demo host (libvirt test driver)"


def host_label(spec: HostSpec) -> str:
    """The label the list shows for `spec`."""
    return DEMO_LABEL if spec.demo else (spec.label or spec.uri)


# What a demo host runs once connected (virttui.demo's extras; core does not import the demo).
DemoSetup = Callable[[libvirt.virConnect], object]


def open_host(
    spec: HostSpec,
    *,
    readonly: bool,
    refresh: float,
    listener: HostListener | None,
    demo_setup: DemoSetup | None = None,
) -> HostConnection:
    """The (not yet started) connection of `spec`, as the app and the early start make it."""
    return HostConnection(
        spec.uri,
        readonly=readonly,
        refresh=refresh,
        listener=listener,
        label=host_label(spec),
        on_connect=demo_setup if spec.demo else None,
    )


@dataclass(frozen=True, slots=True)
class TakenHost:
    """A started connection as `take()` hands it over: its state then and its newest snapshot."""

    host: HostConnection
    state: ConnState
    error: str | None
    snapshot: HostSnapshot | None


class EarlyHosts:
    """Connections started before the app; the `HostListener` they report to, which keeps or
    passes on their reports (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, HostConnection] = {}
        # Reports kept in the order they came: (host, (state, error)) or (host, snapshot); only
        # the newest snapshot of a host is kept.
        self._kept: list[tuple[HostConnection, tuple[ConnState, str | None] | HostSnapshot]] = []
        self._target: HostListener | None = None  # set by take()
        self._states_open = False  # deliver_states() was called
        self._taken = False

    @classmethod
    def start(
        cls,
        specs: Iterable[HostSpec],
        *,
        readonly: bool,
        refresh: float,
        demo_setup: DemoSetup | None = None,
    ) -> EarlyHosts:
        """Start connecting to every host of `specs` (each URI once) in the background."""
        early = cls()
        for spec in specs:
            if spec.uri in early._hosts:
                continue
            host = open_host(
                spec, readonly=readonly, refresh=refresh, listener=early, demo_setup=demo_setup
            )
            early._hosts[spec.uri] = host
            host.start()
        return early

    @property
    def hosts(self) -> dict[str, HostConnection]:
        return dict(self._hosts)

    def sampled(self) -> set[str]:
        """URIs whose snapshot is kept for `take()` (none once taken)."""
        with self._lock:
            return {h.uri for h, r in self._kept if isinstance(r, HostSnapshot)}

    # ------------------------------------------------------------------ HostListener
    def host_state_changed(self, host: HostConnection, state: ConnState, error: str | None) -> None:
        with self._lock:
            if self._hosts.get(host.uri) is not host:
                return  # not taken: stopped
            if self._target is not None and self._states_open:
                self._target.host_state_changed(host, state, error)
            else:
                self._kept.append((host, (state, error)))

    def host_sampled(self, host: HostConnection, snapshot: HostSnapshot) -> None:
        with self._lock:
            if self._hosts.get(host.uri) is not host:
                return  # not taken: stopped
            if self._target is not None:
                self._target.host_sampled(host, snapshot)
            else:
                self._kept = [
                    (h, r) for h, r in self._kept if h is not host or isinstance(r, tuple)
                ]
                self._kept.append((host, snapshot))

    def host_event(self, host: HostConnection, event: DomainEvent) -> None:
        with self._lock:
            target = self._target
            if target is not None and self._hosts.get(host.uri) is host:
                target.host_event(host, event)

    # ------------------------------------------------------------------ hand-over
    def take(
        self, listener: HostListener, wanted: Callable[[HostConnection], bool] = lambda h: True
    ) -> list[TakenHost]:
        """The `wanted` connections, each with its current state and newest snapshot (None if
        none has come yet); what was reported up to now counts as delivered. From now on their
        snapshots and events go to `listener` at once; state changes wait for `deliver_states`.
        The others are stopped (in the background) and never reported. Only once: the
        connections belong to the caller from now on."""
        with self._lock:
            if self._taken:
                return []
            self._taken = True
            unwanted = [h for h in self._hosts.values() if not wanted(h)]
            for host in unwanted:
                del self._hosts[host.uri]
            self._target = listener
            snapshots = {h.uri: r for h, r in self._kept if isinstance(r, HostSnapshot)}
            self._kept.clear()
            taken = [
                TakenHost(host, host.state, host.last_error, snapshots.get(uri))
                for uri, host in self._hosts.items()
            ]
        for host in unwanted:
            threading.Thread(
                target=host.stop, name=f"virttui-close {host.uri}", daemon=True
            ).start()
        return taken

    def deliver_states(self) -> None:
        """The state changes kept since `take` go to its listener, in the order they came, and
        every later one as it comes."""
        with self._lock:
            target = self._target
            if target is None or self._states_open:
                return
            for host, report in self._kept:
                if isinstance(report, tuple):
                    target.host_state_changed(host, *report)
            self._kept.clear()
            self._states_open = True

    def close(self, timeout: float = 0.5) -> None:
        """Stop the connections nobody took (the app never started); taken ones are the app's."""
        with self._lock:
            if self._taken:
                return
            self._taken = True
            hosts = list(self._hosts.values())
        for host in hosts:
            host.stop(timeout)
