"""A host whose daemon stops answering: not responding, fails fast, recovers by itself.

The daemon is a private, unprivileged libvirtd serving only the test driver (tests/private_libvirtd)
that these tests SIGSTOP and SIGCONT; the system libvirtd is never touched. The second host is the
in-process test driver, which must keep being polled meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.core.host.test_connection import Recorder
from tests.private_libvirtd import PrivateDaemon, missing_reason, private_libvirtd
from virttui.core.host.connection import ConnState, HostConnection, NotConnected, NotResponding

pytestmark = [
    pytest.mark.private_daemon,
    pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason())),
]

REFRESH = 0.5  # the stall threshold is then STALL_MIN (5 s)
DETECT = 30.0  # generous: the machine may be loaded


@pytest.fixture
def daemon() -> Iterator[PrivateDaemon]:
    with private_libvirtd() as d:
        yield d


@pytest.fixture
def hosts(
    daemon: PrivateDaemon,
) -> Iterator[tuple[HostConnection, Recorder, HostConnection, Recorder]]:
    stuck_rec, other_rec = Recorder(), Recorder()
    stuck = HostConnection(daemon.uri, refresh=REFRESH, listener=stuck_rec, label="stuck-host")
    other = HostConnection("test:///default", refresh=REFRESH, listener=other_rec, label="other")
    stuck.start()
    other.start()
    try:
        for rec in (stuck_rec, other_rec):
            rec.wait("state", lambda v: v[0] is ConnState.CONNECTED, timeout=30)
            rec.wait("snap", timeout=30)
        yield stuck, stuck_rec, other, other_rec
    finally:
        daemon.resume()  # let a hung call return before stopping
        stuck.stop(5.0)
        other.stop(5.0)


def call_in_thread(fn: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """Run fn in a thread: (finished within timeout, result or exception). Never hangs the test."""
    out: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        try:
            out.put(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out.put(exc)

    threading.Thread(target=run, daemon=True).start()
    try:
        return True, out.get(timeout=timeout)
    except queue.Empty:
        return False, None


def drain(rec: Recorder) -> list[tuple[str, Any]]:
    items = []
    while True:
        try:
            items.append(rec.q.get_nowait())
        except queue.Empty:
            return items


def assert_not_responding_and_others_alive(
    stuck: HostConnection, stuck_rec: Recorder, other: HostConnection, other_rec: Recorder
) -> None:
    state, error = stuck_rec.wait(
        "state", lambda v: v[0] is ConnState.NOT_RESPONDING, timeout=DETECT
    )
    assert error and "no answer" in error
    assert stuck.state is ConnState.NOT_RESPONDING
    # The other host keeps refreshing and stays connected.
    drain(other_rec)
    for _ in range(3):
        other_rec.wait("snap", timeout=DETECT)
    assert other.state is ConnState.CONNECTED
    done, result = call_in_thread(lambda: other.call(lambda c: len(c.listAllDomains())), 30)
    assert done and result == 1
    # An action on the stuck host fails at once with a clear message instead of blocking.
    started = time.monotonic()
    done, result = call_in_thread(
        lambda: stuck.call(lambda c: c.lookupByName("test").suspend()), timeout=10
    )
    assert done, "an action on the not-responding host blocked"
    assert isinstance(result, NotResponding), result
    assert str(result).startswith("stuck-host is not responding")
    assert time.monotonic() - started < 10


def assert_recovers(stuck: HostConnection, stuck_rec: Recorder, daemon: PrivateDaemon) -> None:
    resumed = time.monotonic()
    daemon.resume()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.CONNECTED, timeout=DETECT)
    snap = stuck_rec.wait("snap", lambda s: s.taken_at > resumed, timeout=DETECT)
    assert [r.name for r in snap.rows] == ["test"]
    assert stuck.state is ConnState.CONNECTED
    done, result = call_in_thread(lambda: stuck.call(lambda c: c.lookupByName("test").name()), 30)
    assert done and result == "test"


def test_stopped_daemon_is_not_responding_and_recovers_when_the_call_returns(
    daemon: PrivateDaemon, hosts: tuple[HostConnection, Recorder, HostConnection, Recorder]
) -> None:
    stuck, stuck_rec, other, other_rec = hosts
    daemon.pause()
    assert_not_responding_and_others_alive(stuck, stuck_rec, other, other_rec)
    assert_recovers(stuck, stuck_rec, daemon)
    assert other.state is ConnState.CONNECTED


def test_keepalive_drop_keeps_it_not_responding_until_reconnect_succeeds(
    daemon: PrivateDaemon, hosts: tuple[HostConnection, Recorder, HostConnection, Recorder]
) -> None:
    stuck, stuck_rec, other, other_rec = hosts
    daemon.pause()
    assert_not_responding_and_others_alive(stuck, stuck_rec, other, other_rec)
    # Keepalive (5 s x 3) closes the connection; reconnecting hangs too: still not responding,
    # now saying why, and actions still fail fast.
    _state, error = stuck_rec.wait(
        "state",
        lambda v: v[0] is ConnState.NOT_RESPONDING and "keepalive" in (v[1] or ""),
        timeout=60,
    )
    assert "reconnecting" in error
    time.sleep(2 * REFRESH)  # the reconnect is under way (and hangs)
    assert stuck.state is ConnState.NOT_RESPONDING
    done, result = call_in_thread(lambda: stuck.call(lambda c: c.getHostname()), timeout=10)
    assert done and isinstance(result, NotResponding)
    assert_recovers(stuck, stuck_rec, daemon)


def test_stopping_a_stuck_host_returns_at_once(
    daemon: PrivateDaemon, hosts: tuple[HostConnection, Recorder, HostConnection, Recorder]
) -> None:
    """Removing a host or quitting the app while its daemon hangs must not hang the caller
    (closing the connection is one more call the daemon would not answer)."""
    stuck, stuck_rec, _other, _other_rec = hosts
    daemon.pause()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.NOT_RESPONDING, timeout=DETECT)
    done, _result = call_in_thread(lambda: stuck.stop(0.5), timeout=10)
    assert done, "stop() blocked on the stuck connection"
    assert stuck.state is ConnState.STOPPED
    with pytest.raises(NotConnected):
        stuck.call(lambda c: c.getHostname())


def pollers(uri: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"virttui-host {uri}" and t.is_alive()]


def test_restarting_a_stuck_host_leaves_one_poller(
    daemon: PrivateDaemon, hosts: tuple[HostConnection, Recorder, HostConnection, Recorder]
) -> None:
    """Disconnect + connect (the connection manager) while the daemon hangs: once it answers,
    the old run's poller quits instead of polling next to the new one."""
    stuck, stuck_rec, _other, _other_rec = hosts
    daemon.pause()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.NOT_RESPONDING, timeout=DETECT)
    done, _result = call_in_thread(lambda: stuck.stop(0.5), timeout=10)
    assert done
    stuck.start()
    resumed = time.monotonic()
    daemon.resume()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.CONNECTED, timeout=DETECT)
    stuck_rec.wait("snap", lambda s: s.taken_at > resumed, timeout=DETECT)
    deadline = time.monotonic() + DETECT
    while len(pollers(daemon.uri)) > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3 * REFRESH)  # an old poller still running would have polled again by now
    assert len(pollers(daemon.uri)) == 1
    assert stuck.state is ConnState.CONNECTED


def test_a_slow_poll_on_a_daemon_that_still_answers_is_not_flagged(
    daemon: PrivateDaemon,
    hosts: tuple[HostConnection, Recorder, HostConnection, Recorder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stats round trip can be slow while the daemon is fine (a domain job, a hung QEMU): the
    watchdog asks the real daemon before it says "not responding", and only then."""
    stuck, stuck_rec, _other, _other_rec = hosts
    real_poll = stuck._poll
    slow = threading.Event()
    slow.set()

    def slow_poll(conn: Any) -> Any:
        if slow.is_set():
            time.sleep(3 * stuck.stall_after)  # the slow part; the daemon itself is untouched
        return real_poll(conn)

    monkeypatch.setattr(stuck, "_poll", slow_poll)
    drain(stuck_rec)
    time.sleep(2 * stuck.stall_after)  # well past the threshold while the poll is still busy
    assert stuck.stalled_for() > stuck.stall_after
    assert stuck.state is ConnState.CONNECTED
    assert [v for k, v in drain(stuck_rec) if k == "state"] == []
    done, result = call_in_thread(lambda: stuck.call(lambda c: c.lookupByName("test").name()), 30)
    assert done and result == "test"
    # The same slow poll with the daemon stopped: the probe gets no answer either.
    daemon.pause()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.NOT_RESPONDING, timeout=DETECT)
    slow.clear()
    daemon.resume()
    stuck_rec.wait("state", lambda v: v[0] is ConnState.CONNECTED, timeout=60)
