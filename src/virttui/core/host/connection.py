"""One object per libvirt URI: connects, polls bulk stats, listens for events, reconnects.

Threads: the libvirt event loop thread (shared, see libvirt_runtime) delivers domain events and
the close callback; one poller thread per host owns connecting and the stats round trip; one
watchdog thread per host notices when that round trip hangs (a stopped daemon, a network black
hole: libvirt calls then block until keepalive gives up, or forever while reconnecting) and marks
the host NOT_RESPONDING, so callers fail at once instead of queueing behind it. Callers (UI
workers) run blocking libvirt calls through `call()`. The listener is called from those background
threads and must hand results to its own thread (Textual: post_message).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import libvirt

from virttui.core.host import libvirt_runtime
from virttui.core.host.stats import STATS_FLAGS, DomainRow, RateTracker

T = TypeVar("T")

BACKOFF_START = 0.5
BACKOFF_MAX = 5.0
AUTOSTART_EVERY = 30.0  # seconds between autostart re-reads when no event asked for one
EVENT_COALESCE = 0.05  # a burst of events causes one re-poll, not one per event
# A libvirt call of the poller (stats round trip or connecting) still running after this many
# refresh intervals, and never sooner than STALL_MIN seconds, makes the host NOT_RESPONDING.
STALL_REFRESHES = 3
STALL_MIN = 5.0
# Before saying so, the watchdog asks the daemon something trivial on the same connection
# (getLibVersion: a high-priority RPC, served even while its normal workers are busy). A daemon
# that answers is slow, not stuck (a domain job or a hung QEMU delays the stats of one host; other
# calls still work), and stays CONNECTED; its figures only show as stale.
PROBE_TIMEOUT = 3.0
CLOSE_WAIT = 60.0  # longest wait for a probe to return before its connection is closed
# Keepalive: a ping after KEEPALIVE_INTERVAL s of silence; after KEEPALIVE_COUNT unanswered ones
# libvirt closes the connection (about 20 s for a stopped daemon) and the poller reconnects.
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3


def stall_after(refresh: float) -> float:
    """Seconds a poller call may run before its host counts as not responding."""
    return max(STALL_MIN, STALL_REFRESHES * refresh)


class NotConnected(RuntimeError):
    """The host is down or reconnecting; the message says why."""

    plain_message = True  # shown as it is (core/jobs/errors.describe_error)


class NotResponding(NotConnected):
    """The host's daemon stopped answering: a call now would block, so none is made."""


class ConnState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NOT_RESPONDING = "not responding"  # a call has hung for STALL_REFRESHES refreshes
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    uri: str
    taken_at: float
    host_cpus: int
    rows: tuple[DomainRow, ...]
    poll_seconds: float  # how long the bulk RPC took


@dataclass(frozen=True, slots=True)
class DomainEvent:
    uri: str
    uuid: str
    name: str
    kind: str  # "lifecycle", "reboot", "device-added", "device-removed", "metadata"
    event: int
    detail: int


class HostListener(Protocol):
    def host_state_changed(
        self, host: HostConnection, state: ConnState, error: str | None
    ) -> None: ...

    def host_sampled(self, host: HostConnection, snapshot: HostSnapshot) -> None: ...

    def host_event(self, host: HostConnection, event: DomainEvent) -> None: ...


_REMOTE_TRANSPORTS = ("ssh", "libssh", "libssh2", "tcp", "tls")


def is_local_uri(uri: str) -> bool:
    """True when the hypervisor runs on this machine (its /proc and /sys describe it)."""
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    if transport in _REMOTE_TRANSPORTS:
        return parts.hostname in (None, "", "localhost", "127.0.0.1", "::1")
    return not parts.hostname or parts.hostname in ("localhost", "127.0.0.1", "::1")


def effective_uri(uri: str) -> str:
    """ssh must never prompt on our terminal (it would corrupt the screen): ask libvirt for no_tty."""
    parts = urlsplit(uri)
    if parts.scheme.endswith("+ssh") and "no_tty" not in parts.query:
        # Into the query, before any "#fragment" (appended after it, libvirt would never see it).
        base, hash_mark, fragment = uri.partition("#")
        sep = "&" if parts.query else ("" if base.endswith("?") else "?")
        return f"{base}{sep}no_tty=1{hash_mark}{fragment}"
    return uri


class HostConnection:
    """A configured host: keeps trying to be connected for as long as it exists."""

    def __init__(
        self,
        uri: str,
        *,
        readonly: bool = False,
        refresh: float = 1.0,
        listener: HostListener | None = None,
        label: str | None = None,
        on_connect: Callable[[libvirt.virConnect], object] | None = None,
    ) -> None:
        self.uri = uri
        self._on_connect = on_connect
        self.label = label or uri
        self.readonly = readonly
        self.is_local = is_local_uri(uri)
        self._refresh = max(0.1, refresh)
        self._listener = listener
        self._conn: libvirt.virConnect | None = None
        self._conn_lock = threading.Lock()
        # Guards state transitions made by the poller, the watchdog and the close callback.
        self._state_lock = threading.RLock()
        self._busy_since: float | None = None  # when the poller's current libvirt call began
        self._alive_at = 0.0  # when the daemon last answered a probe during a slow call
        self._probing = False  # a probe is under way (or hangs)
        self._probe_thread: tuple[threading.Thread, libvirt.virConnect] | None = None
        self._watchdog: threading.Thread | None = None
        self._callback_ids: list[int] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lost = threading.Event()
        self._autostart_due = True
        self._autostart: frozenset[str] | None = None
        self._autostart_at = 0.0
        self._rates = RateTracker()
        self._static_info: dict[str, tuple[int, int, int]] = {}
        self._static_failed: set[str] = set()
        self._titles: dict[str, str] = {}
        # Shut-off domains: has a managed save image? Read once per domain when it is seen shut
        # off, again after a lifecycle event of that domain (never every poll).
        self._saved: dict[str, bool] = {}
        self._identity_changed = False
        # UUIDs with a lifecycle event since the last poll (written by the event loop thread):
        # no rate is computed across a pause, resume, restart or save.
        self._events_lock = threading.Lock()
        self._state_events: set[str] = set()
        self._first_poll = True
        self._thread: threading.Thread | None = None
        self.host_cpus = 1
        self.state = ConnState.STOPPED
        self.last_error: str | None = None

    # ----------------------------------------------------------------- control
    def start(self) -> None:
        if self._thread is not None:
            return
        libvirt_runtime.ensure_event_loop()
        # A fresh event per run: a poller of an earlier run may still hang in a call; when that
        # returns it sees its own event set and quits instead of polling next to this run's.
        stop = self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(stop,), name=f"virttui-host {self.uri}", daemon=True
        )
        self._thread.start()
        self._watchdog = threading.Thread(
            target=self._watch, args=(stop,), name=f"virttui-watchdog {self.uri}", daemon=True
        )
        self._watchdog.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        watchdog, self._watchdog = self._watchdog, None
        if thread is not None:
            thread.join(timeout)
        if watchdog is not None:
            watchdog.join(timeout)
        conn, ids = self._take_connection()
        if conn is not None and thread is not None and thread.is_alive():
            # The poller is stuck in a call to a daemon that does not answer: closing would be one
            # more call that blocks, and closing under a call crashes libvirt. So the connection
            # is closed in the background once that call has returned (never hangs the caller).
            def close_later(poller: threading.Thread = thread) -> None:
                poller.join(CLOSE_WAIT)
                if not poller.is_alive():
                    self._close(conn, ids)

            threading.Thread(
                target=close_later, name=f"virttui-close {self.uri}", daemon=True
            ).start()
        elif conn is not None:
            self._close(conn, ids)
        with self._state_lock:
            self._busy_since = None
            self._set_state(ConnState.STOPPED, None)

    @property
    def refresh(self) -> float:
        return self._refresh

    def set_refresh(self, seconds: float) -> None:
        self._refresh = max(0.1, seconds)
        self._wake.set()

    def refresh_now(self, *, autostart: bool = False) -> None:
        if autostart:
            self._autostart_due = True
        self._wake.set()

    @property
    def connected(self) -> bool:
        return self.state is ConnState.CONNECTED

    @property
    def stall_after(self) -> float:
        return stall_after(self._refresh)

    def stalled_for(self, now: float | None = None) -> float:
        """How long the poller's current libvirt call has been running (0 when idle)."""
        since = self._busy_since
        if since is None:
            return 0.0
        return max(0.0, (time.monotonic() if now is None else now) - since)

    def call(self, fn: Callable[[libvirt.virConnect], T]) -> T:
        """Run `fn(conn)` on the live connection. Blocks: only from worker threads.

        Raises NotResponding at once when the daemon has stopped answering: the call would only
        queue behind the poller's hung one."""
        if self.state is ConnState.NOT_RESPONDING:
            raise NotResponding(f"{self.label} is not responding" + self._stall_note())
        conn = self._conn
        if conn is None or self.state is not ConnState.CONNECTED:
            raise NotConnected(
                f"{self.label}: not connected"
                + (f" ({self.last_error})" if self.last_error else "")
            )
        return fn(conn)

    # ----------------------------------------------------------------- internals
    def _set_state(self, state: ConnState, error: str | None) -> None:
        with self._state_lock:
            changed = state is not self.state or error != self.last_error
            self.state = state
            self.last_error = error
            if changed and self._listener is not None:
                self._listener.host_state_changed(self, state, error)

    def _stall_note(self) -> str:
        waited = self.stalled_for()
        return f" (no answer for {waited:.0f}s)" if waited >= 1 else ""

    def _check_stall(self, now: float | None = None) -> bool:
        """Mark the host NOT_RESPONDING when the poller's call has run too long. Thread-safe."""
        with self._state_lock:
            if self._busy_since is None or self.state in (
                ConnState.NOT_RESPONDING,
                ConnState.STOPPED,
            ):
                return False
            waited = self.stalled_for(now)
            if waited < self.stall_after:
                return False
            previous = self.last_error if self.state is ConnState.DISCONNECTED else None
            message = f"libvirtd gave no answer within {self.stall_after:g}s" + (
                f" (before: {previous})" if previous else ""
            )
            self._set_state(ConnState.NOT_RESPONDING, message)
            return True

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(min(1.0, self.stall_after / 5)):
            self._watch_once(stop)

    def _watch_once(self, stop: threading.Event) -> None:
        if self.stalled_for() < self.stall_after or self.state in (
            ConnState.NOT_RESPONDING,
            ConnState.STOPPED,
        ):
            return
        conn = self._conn
        if conn is not None and self.state is ConnState.CONNECTED:
            if time.monotonic() - self._alive_at < self.stall_after:
                return  # answered a probe lately: slow, not stuck
            if self._probe(conn):
                self._alive_at = time.monotonic()
                return
        if not stop.is_set():
            self._check_stall()

    def _probe(self, conn: libvirt.virConnect) -> bool:
        """Does the daemon answer a trivial call within PROBE_TIMEOUT? Only one probe at a time:
        one that still hangs means no."""
        if self._probing:
            return False
        answered = threading.Event()

        def run() -> None:
            try:
                conn.getLibVersion()
            except libvirt.libvirtError:
                pass  # the connection died: not an answer
            else:
                answered.set()
            finally:
                self._probing = False

        self._probing = True
        probe = threading.Thread(target=run, name=f"virttui-probe {self.uri}", daemon=True)
        self._probe_thread = (probe, conn)
        probe.start()
        probe.join(PROBE_TIMEOUT)
        return answered.is_set()

    def _begin_call(self) -> None:
        self._busy_since = time.monotonic()

    def _end_call(self, *, answered: bool) -> None:
        """The poller's call returned. `answered`: the daemon replied (success or an error
        reply), so a NOT_RESPONDING host is connected again."""
        with self._state_lock:
            self._busy_since = None
            if answered and self.state is ConnState.NOT_RESPONDING and not self._stop.is_set():
                self._set_state(ConnState.CONNECTED, None)

    def _lose(self, message: str) -> None:
        """The connection is gone. A host that was not responding stays so (with the reason)
        until its daemon answers again: the reconnect that follows hangs as well."""
        with self._state_lock:
            if self.state is ConnState.NOT_RESPONDING:
                self._set_state(ConnState.NOT_RESPONDING, f"{message}; reconnecting")
            else:
                self._set_state(ConnState.DISCONNECTED, message)

    def _open(self) -> libvirt.virConnect:
        uri = effective_uri(self.uri)
        return libvirt.openReadOnly(uri) if self.readonly else libvirt.open(uri)

    def _connect(self, stop: threading.Event) -> None:
        conn = self._open()
        try:
            # Keepalive makes a hung remote host show as disconnected instead of freezing calls.
            conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
        except libvirt.libvirtError:
            pass  # local drivers have no keepalive
        try:
            conn.registerCloseCallback(self._on_close, None)
        except libvirt.libvirtError:
            pass  # in-process drivers (test:///) never close underneath us
        ids: list[int] = []
        for event_id, cb in (
            (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle),
            (libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._on_reboot),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, self._on_device_added),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, self._on_device_removed),
            (libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, self._on_metadata),
        ):
            try:
                ids.append(conn.domainEventRegisterAny(None, event_id, cb, None))
            except libvirt.libvirtError:
                pass  # a driver without this event still gets polled
        try:
            self.host_cpus = int(conn.getInfo()[2]) or 1
        except libvirt.libvirtError:
            self.host_cpus = 1
        if self._on_connect is not None:
            try:
                self._on_connect(conn)
            except libvirt.libvirtError:
                pass  # optional set-up (demo extras) must not block connecting
        with self._conn_lock:
            stale = stop.is_set()
            if not stale:
                self._conn = conn
                self._callback_ids = ids
        if stale:
            self._close(conn, ids)  # stopped while connecting: not this run's connection now
            return
        self._lost.clear()
        self._rates.reset()  # no rate across a reconnect
        self._take_state_events()
        self._static_info.clear()
        self._static_failed.clear()
        self._titles.clear()
        self._saved.clear()
        self._first_poll = True
        self._autostart_due = True

    def _take_connection(self) -> tuple[libvirt.virConnect | None, list[int]]:
        with self._conn_lock:
            conn, self._conn = self._conn, None
            ids, self._callback_ids = self._callback_ids, []
        return conn, ids

    def _drop_connection(self) -> None:
        conn, ids = self._take_connection()
        if conn is not None:
            self._close(conn, ids)

    def _close(self, conn: libvirt.virConnect, ids: list[int]) -> None:
        probe = self._probe_thread
        if probe is not None and probe[1] is conn:
            # Closing a connection another thread is still calling on crashes libvirt. A probe
            # returns once keepalive has closed the connection (or the daemon answers).
            probe[0].join(CLOSE_WAIT)
            if probe[0].is_alive():
                return  # leak it rather than crash
        for cb_id in ids:
            try:
                conn.domainEventDeregisterAny(cb_id)
            except libvirt.libvirtError:
                pass
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    def _on_close(self, conn: libvirt.virConnect, reason: int, _opaque: Any) -> None:
        # Runs on the event loop thread: never call libvirt here, just tell the poller and the UI.
        reasons = {
            libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "connection error",
            libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "libvirtd closed the connection",
            libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "keepalive timeout",
            libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "closed",
        }
        if self._stop.is_set() or conn is not self._conn:
            return  # closed by stop(), or an earlier run's connection closing late
        self._lost.set()
        self._lose(reasons.get(reason, "connection lost"))
        self._wake.set()

    def _emit(self, dom: libvirt.virDomain, kind: str, event: int, detail: int) -> None:
        if self._listener is not None:
            self._listener.host_event(
                self, DomainEvent(self.uri, dom.UUIDString(), dom.name(), kind, event, detail)
            )
        if kind in ("lifecycle", "reboot"):
            with self._events_lock:
                self._state_events.add(dom.UUIDString())
        if kind == "lifecycle":
            self._saved.pop(dom.UUIDString(), None)
        if kind in ("lifecycle", "metadata"):
            self._titles.pop(dom.UUIDString(), None)
        if kind == "lifecycle" and event in (
            libvirt.VIR_DOMAIN_EVENT_DEFINED,
            libvirt.VIR_DOMAIN_EVENT_UNDEFINED,
        ):
            self._identity_changed = True  # names may now belong to other domains
        if kind in ("lifecycle", "device-added", "device-removed"):
            self._static_info.pop(dom.UUIDString(), None)
            self._static_failed.discard(dom.UUIDString())
        if kind in ("lifecycle", "metadata"):
            # DEFINED/UNDEFINED may change the autostart set too.
            self._autostart_due = self._autostart_due or event in (
                libvirt.VIR_DOMAIN_EVENT_DEFINED,
                libvirt.VIR_DOMAIN_EVENT_UNDEFINED,
            )
        self._wake.set()

    def _on_lifecycle(
        self, _c: Any, dom: libvirt.virDomain, event: int, detail: int, _o: Any
    ) -> None:
        self._emit(dom, "lifecycle", event, detail)

    def _on_reboot(self, _c: Any, dom: libvirt.virDomain, _o: Any) -> None:
        self._emit(dom, "reboot", 0, 0)

    def _on_device_added(self, _c: Any, dom: libvirt.virDomain, _dev: str, _o: Any) -> None:
        self._emit(dom, "device-added", 0, 0)

    def _on_device_removed(self, _c: Any, dom: libvirt.virDomain, _dev: str, _o: Any) -> None:
        self._emit(dom, "device-removed", 0, 0)

    def _on_metadata(
        self, _c: Any, dom: libvirt.virDomain, mtype: int, _nsuri: Any, _o: Any
    ) -> None:
        self._emit(dom, "metadata", mtype, 0)

    def _poll(self, conn: libvirt.virConnect) -> HostSnapshot:
        now = time.monotonic()
        if self._autostart_due or now - self._autostart_at > AUTOSTART_EVERY:
            doms = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)
            self._autostart = frozenset(d.UUIDString() for d in doms)
            self._autostart_due = False
            self._autostart_at = now
        before = self._take_state_events()
        started = time.monotonic()
        records = conn.getAllDomainStats(STATS_FLAGS, 0)
        taken = time.monotonic()
        # An event that came in during the RPC may or may not be in these records: no rate
        # across it now, nor at the next poll.
        during = self._take_state_events()
        if during:
            with self._events_lock:
                self._state_events |= during
        changed = before | during
        # The samples were taken somewhere within the RPC: its middle is the best estimate
        # (the end would shift every interval by the difference of two RPC durations).
        sampled = (started + taken) / 2
        static = self._static_info
        titles = self._titles
        reuse = not self._identity_changed
        self._identity_changed = False

        def update(again: bool = False) -> tuple[list[DomainRow], list[int]]:
            # Read at each call: the second one sees what _learn_* found in between.
            return self._rates.update_records(
                records,
                sampled,
                self.host_cpus,
                self._autostart,
                static,
                titles=titles,
                again=again,
                reuse=reuse,
                changed=changed,
                saved=self._saved,
                spread=(taken - started) / 2,
            )

        rows, missing = update()
        untitled = [i for i, r in enumerate(rows) if r.uuid not in titles]
        unknown_save = [i for i, r in enumerate(rows) if not r.active and r.uuid not in self._saved]
        if missing or untitled or unknown_save:
            if self._first_poll:
                # Paint the rows now; what needs one call per domain (vCPU/memory on drivers
                # without them in bulk stats, titles) follows on the next poll, right after this.
                self._wake.set()
            else:
                learnt = self._learn_static([records[i][0] for i in missing])
                learnt = self._learn_titles([records[i][0] for i in untitled]) or learnt
                learnt = self._learn_saved([records[i][0] for i in unknown_save]) or learnt
                if learnt:
                    rows, _missing = update(again=True)
        self._first_poll = False
        return HostSnapshot(self.uri, taken, self.host_cpus, tuple(rows), taken - started)

    def _take_state_events(self) -> set[str]:
        with self._events_lock:
            events, self._state_events = self._state_events, set()
        return events

    def forget_managed_save(self, uuid: str) -> None:
        """Re-read whether `uuid` has a managed save image at the next poll (libvirt sends no
        event when the image is removed)."""
        self._saved.pop(uuid, None)
        self._wake.set()

    def _learn_saved(self, doms: list[libvirt.virDomain]) -> bool:
        """hasManagedSaveImage of each shut-off domain not known yet (one call per domain)."""
        for dom in doms:
            try:
                self._saved[dom.UUIDString()] = bool(dom.hasManagedSaveImage(0))
            except libvirt.libvirtError:
                self._saved[dom.UUIDString()] = False
        return bool(doms)

    def _learn_titles(self, doms: list[libvirt.virDomain]) -> bool:
        """Read each new domain's <title> once (one call per domain, never per poll); metadata
        and define events drop the cached one so an edited note shows up."""
        for dom in doms:
            try:
                title = dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) or ""
            except libvirt.libvirtError:
                title = ""  # no title set (VIR_ERR_NO_DOMAIN_METADATA) or not readable
            self._titles[dom.UUIDString()] = title
        return bool(doms)

    def _learn_static(self, doms: list[libvirt.virDomain]) -> bool:
        """Drivers whose bulk stats lack vCPU/memory (the test driver): ask `info()` once per
        domain. Cached per UUID (failures too) and dropped on lifecycle/device events, so steady
        polls stay one RPC. Returns whether anything new was learnt."""
        learnt = False
        for dom in doms:
            uuid = dom.UUIDString()
            if uuid in self._static_failed:
                continue
            try:
                _state, max_kib, cur_kib, vcpus, _cpu = dom.info()
            except libvirt.libvirtError:
                self._static_failed.add(uuid)
                continue
            self._static_info[uuid] = (vcpus, max_kib, cur_kib)
            learnt = True
        return learnt

    def _connection_is_dead(self, conn: libvirt.virConnect) -> bool:
        if self._lost.is_set():
            return True
        try:
            alive: int = conn.isAlive()
            return alive != 1
        except libvirt.libvirtError:
            return True

    def _run(self, stop: threading.Event) -> None:
        """The poller. After every call that may block it checks `stop`: a run stopped meanwhile
        (stop() gave up waiting for it) must not touch the host any more."""
        backoff = BACKOFF_START
        while not stop.is_set():
            conn = self._conn
            if conn is None or self._lost.is_set():
                self._begin_call()  # closing the old connection is a call too
                try:
                    self._drop_connection()
                    if self.state not in (ConnState.DISCONNECTED, ConnState.NOT_RESPONDING):
                        self._set_state(ConnState.CONNECTING, self.last_error)
                    self._connect(stop)
                except libvirt.libvirtError as exc:
                    with self._state_lock:
                        if stop.is_set():
                            return
                        self._end_call(answered=False)
                        self._set_state(ConnState.DISCONNECTED, libvirt_runtime.error_message(exc))
                    stop.wait(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                backoff = BACKOFF_START
                with self._state_lock:
                    if stop.is_set():
                        return
                    self._end_call(answered=False)
                    self._set_state(ConnState.CONNECTED, None)
                continue
            self._begin_call()
            try:
                snapshot = self._poll(conn)
            except libvirt.libvirtError as exc:
                if stop.is_set():
                    return
                message = libvirt_runtime.error_message(exc)
                if self._connection_is_dead(conn):
                    self._lost.set()
                    self._end_call(answered=False)
                    self._lose(message)
                    continue
                self._end_call(answered=True)
                self.last_error = message  # transient: keep the connection, try next round
            else:
                if stop.is_set():
                    return
                self._end_call(answered=not self._lost.is_set())
                if self._listener is not None and not self._lost.is_set():
                    self._listener.host_sampled(self, snapshot)
            self._wake.wait(self._refresh)
            if self._wake.is_set():
                self._wake.clear()
                # Let a burst of events settle so it costs one round trip.
                stop.wait(EVENT_COALESCE)
