"""Hosts started before the UI (core/host/early.py): what `take` hands over, what `attach` replays."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from virttui.core.host.connection import ConnState, DomainEvent, HostSnapshot
from virttui.core.host.early import DEMO_LABEL, EarlyHosts, host_label
from virttui.core.host.spec import HostSpec


@dataclass
class FakeHost:
    uri: str
    state: ConnState = ConnState.CONNECTING
    last_error: str | None = None
    stopped: bool = False

    def stop(self, timeout: float = 2.0) -> None:
        self.stopped = True


@dataclass
class Recorder:
    seen: list[tuple[str, str, object]] = field(default_factory=list)

    def host_state_changed(self, host: Any, state: ConnState, error: str | None) -> None:
        self.seen.append(("state", host.uri, state))

    def host_sampled(self, host: Any, snapshot: HostSnapshot) -> None:
        self.seen.append(("sample", host.uri, snapshot.taken_at))

    def host_event(self, host: Any, event: DomainEvent) -> None:
        self.seen.append(("event", host.uri, event.kind))


def fake(uri: str) -> Any:
    """A stand-in for a HostConnection: what EarlyHosts reads of one."""
    return FakeHost(uri)


def snap(uri: str, at: float) -> HostSnapshot:
    return HostSnapshot(uri, at, 4, (), 0.01)


def early_with(*hosts: Any) -> EarlyHosts:
    early = EarlyHosts()
    early._hosts = {h.uri: h for h in hosts}
    return early


def test_spec_labels() -> None:
    assert host_label(HostSpec("qemu:///system")) == "qemu:///system"
    assert host_label(HostSpec("qemu:///system", "lab")) == "lab"
    assert host_label(HostSpec("test:///x", "ignored", demo=True)) == DEMO_LABEL


def test_take_hands_over_state_and_newest_snapshot() -> None:
    a, b = fake("a"), fake("b")
    early = early_with(a, b)
    early.host_state_changed(a, ConnState.CONNECTING, None)
    a.state = ConnState.CONNECTED
    early.host_state_changed(a, ConnState.CONNECTED, None)
    early.host_sampled(a, snap("a", 1.0))
    early.host_sampled(a, snap("a", 2.0))
    early.host_event(a, DomainEvent("a", "u", "n", "reboot", 0, 0))  # nobody to watch it: dropped
    b.state, b.last_error = ConnState.DISCONNECTED, "no daemon"
    assert early.sampled() == {"a"}
    rec = Recorder()
    taken = {t.host.uri: t for t in early.take(rec)}
    assert taken["a"].state is ConnState.CONNECTED and taken["a"].snapshot is not None
    assert taken["a"].snapshot.taken_at == 2.0
    assert taken["b"].state is ConnState.DISCONNECTED and taken["b"].error == "no daemon"
    assert taken["b"].snapshot is None
    assert early.take(Recorder()) == []  # only once
    assert early.sampled() == set()
    # What came before `take` counts as delivered: nothing of it is passed on.
    early.deliver_states()
    assert rec.seen == []


def test_after_take_samples_flow_and_states_wait_for_deliver_states() -> None:
    a, b = fake("a"), fake("b")
    early = early_with(a, b)
    rec = Recorder()
    early.take(rec)
    early.host_sampled(a, snap("a", 1.0))
    early.host_state_changed(b, ConnState.DISCONNECTED, "gone")
    early.host_state_changed(a, ConnState.NOT_RESPONDING, "slow")
    early.host_event(a, DomainEvent("a", "u", "n", "reboot", 0, 0))
    assert rec.seen == [("sample", "a", 1.0), ("event", "a", "reboot")]
    early.deliver_states()
    assert rec.seen[2:] == [
        ("state", "b", ConnState.DISCONNECTED),
        ("state", "a", ConnState.NOT_RESPONDING),
    ]
    early.host_state_changed(b, ConnState.CONNECTING, None)
    early.host_sampled(b, snap("b", 4.0))
    assert rec.seen[4:] == [("state", "b", ConnState.CONNECTING), ("sample", "b", 4.0)]
    early.deliver_states()  # once
    assert len(rec.seen) == 6


def test_take_stops_unwanted_hosts_and_never_reports_them() -> None:
    a, b = fake("a"), fake("b")
    early = early_with(a, b)
    rec = Recorder()
    (taken,) = early.take(rec, lambda h: h.uri == "a")
    assert taken.host is a
    deadline = time.monotonic() + 5
    while not b.stopped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b.stopped and not a.stopped
    assert list(early.hosts) == ["a"]
    early.deliver_states()
    early.host_sampled(b, snap("b", 1.0))
    early.host_state_changed(b, ConnState.STOPPED, None)
    early.host_event(b, DomainEvent("b", "u", "n", "reboot", 0, 0))
    assert rec.seen == []


def test_close_stops_only_hosts_nobody_took() -> None:
    a = fake("a")
    early = early_with(a)
    early.take(Recorder())
    early.close()
    assert not a.stopped  # the app's now
    b = fake("b")
    early = early_with(b)
    early.close()
    assert b.stopped
    assert early.take(Recorder()) == []  # closed: nothing left to take


def test_start_connects_in_the_background_and_keeps_the_first_snapshot() -> None:
    early = EarlyHosts.start(
        [HostSpec("test:///default"), HostSpec("test:///default", "again")],
        readonly=True,
        refresh=30.0,
    )
    try:
        assert list(early.hosts) == ["test:///default"]  # each URI once
        host = early.hosts["test:///default"]
        assert host.readonly and host.refresh == 30.0
        deadline = time.monotonic() + 20
        while not early.sampled() and time.monotonic() < deadline:
            time.sleep(0.02)
        (taken,) = early.take(Recorder())
        assert taken.state is ConnState.CONNECTED
        assert taken.snapshot is not None and {r.name for r in taken.snapshot.rows} == {"test"}
    finally:
        host.stop(2.0)
    assert not any(t.name.startswith("virttui-host test:") for t in threading.enumerate())


def test_demo_setup_runs_on_the_demo_host_only() -> None:
    called: list[str] = []

    def setup(conn: Any) -> None:
        called.append(conn.getURI())

    early = EarlyHosts.start(
        [HostSpec("test:///default", demo=True), HostSpec("test:///default#other")],
        readonly=False,
        refresh=30.0,
        demo_setup=setup,
    )
    try:
        deadline = time.monotonic() + 20
        while len(early.sampled()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert early.sampled() == {"test:///default", "test:///default#other"}
        assert called == ["test:///default"]
        assert early.hosts["test:///default"].label == DEMO_LABEL
    finally:
        for host in early.hosts.values():
            host.stop(2.0)
