"""HostConnection against the libvirt test driver: connect, poll, events, read-only, retry."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from typing import Any

import libvirt
import pytest

from virttui.core.host.connection import (
    ConnState,
    HostConnection,
    NotConnected,
    effective_uri,
    is_local_uri,
)
from virttui.core.host.nodexml import node_uri, write_node_xml


class Recorder:
    def __init__(self) -> None:
        self.q: queue.Queue[tuple[str, Any]] = queue.Queue()

    def host_state_changed(self, host: HostConnection, state: ConnState, error: str | None) -> None:
        self.q.put(("state", (state, error)))

    def host_sampled(self, host: HostConnection, snapshot: Any) -> None:
        self.q.put(("snap", snapshot))

    def host_event(self, host: HostConnection, event: Any) -> None:
        self.q.put(("event", event))

    def wait(self, kind: str, pred: Any = lambda _v: True, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                k, v = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if k == kind and pred(v):
                return v
        raise AssertionError(f"no {kind} within {timeout}s")


def test_polls_and_sees_lifecycle_events_immediately() -> None:
    rec = Recorder()
    host = HostConnection("test:///default", listener=rec, refresh=60.0)  # only events can re-poll
    host.start()
    try:
        rec.wait("state", lambda v: v[0] is ConnState.CONNECTED)
        snap = rec.wait("snap")
        assert [r.name for r in snap.rows] == ["test"]
        assert snap.rows[0].state == libvirt.VIR_DOMAIN_RUNNING
        # The test driver's bulk stats lack vCPU/memory: the first poll paints without them and
        # the next one, right after it (not a refresh interval later), fills them from info().
        snap = rec.wait("snap", timeout=1.0)
        assert snap.rows[0].vcpus and snap.rows[0].mem_kib
        host.call(lambda c: c.lookupByName("test").suspend())
        event = rec.wait("event")
        assert (event.name, event.event) == ("test", libvirt.VIR_DOMAIN_EVENT_SUSPENDED)
        snap = rec.wait("snap", lambda s: s.rows[0].state == libvirt.VIR_DOMAIN_PAUSED, timeout=2.0)
    finally:
        host.stop()
    assert host.state is ConnState.STOPPED
    with pytest.raises(NotConnected):
        host.call(lambda c: c.getURI())


def test_read_only_connection_is_refused_by_libvirt() -> None:
    host = HostConnection("test:///default", readonly=True, refresh=60.0, listener=Recorder())
    host.start()
    try:
        deadline = time.monotonic() + 5
        while not host.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(libvirt.libvirtError) as err:
            host.call(lambda c: c.lookupByName("test").destroy())
        assert err.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        host.stop()


def test_unreachable_host_reports_libvirt_message_and_keeps_retrying() -> None:
    rec = Recorder()
    host = HostConnection("qemu+unix:///system?socket=/nonexistent/sock", listener=rec, refresh=0.2)
    attempts = 0
    original = host._open

    def counting_open() -> libvirt.virConnect:
        nonlocal attempts
        attempts += 1
        return original()

    host._open = counting_open  # type: ignore[method-assign]
    host.start()
    try:
        state, error = rec.wait("state", lambda v: v[0] is ConnState.DISCONNECTED)
        assert "/nonexistent/sock" in (error or "")
        time.sleep(2.0)
        assert attempts >= 3  # 0.5 s, 1 s, ... backoff: never gives up
    finally:
        host.stop()


def test_scale_node_1000_domains_one_poll(tmp_path: Any) -> None:
    path = tmp_path / "scale.xml"
    write_node_xml(path, 1000)
    rec = Recorder()
    host = HostConnection(node_uri(path), listener=rec, refresh=60.0)
    host.start()
    try:
        snap = rec.wait("snap", timeout=20)
        assert len(snap.rows) == 1000
        assert len({r.uuid for r in snap.rows}) == 1000
    finally:
        host.stop()


def test_uri_helpers() -> None:
    assert is_local_uri("qemu:///system")
    assert is_local_uri("test:///default")
    assert is_local_uri("qemu+ssh://root@localhost/system")
    assert not is_local_uri("qemu+ssh://admin@kvm01.example/system")
    assert not is_local_uri("qemu+tls://kvm01/system")
    assert effective_uri("qemu+ssh://u@h/system") == "qemu+ssh://u@h/system?no_tty=1"
    assert (
        effective_uri("qemu+ssh://u@h/system?keyfile=/k")
        == "qemu+ssh://u@h/system?keyfile=/k&no_tty=1"
    )
    assert effective_uri("qemu:///system") == "qemu:///system"


def test_no_tty_goes_before_a_fragment() -> None:
    assert effective_uri("qemu+ssh://u@h/system#x") == "qemu+ssh://u@h/system?no_tty=1#x"
    assert (
        effective_uri("qemu+ssh://u@h/system?keyfile=/k#frag")
        == "qemu+ssh://u@h/system?keyfile=/k&no_tty=1#frag"
    )
    assert effective_uri("qemu+ssh://u@h/system?#f") == "qemu+ssh://u@h/system?no_tty=1#f"


def test_core_never_imports_textual() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'textual' or name.startswith('textual.'):\n"
        "            raise ImportError('textual is forbidden in virttui.core')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import virttui.core\n"
        "for m in pkgutil.walk_packages(virttui.core.__path__, 'virttui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_same_name_redefined_with_new_uuid_is_a_new_row(tmp_path: Any) -> None:
    """Idle rows are matched by name between polls; a define/undefine event must stop that."""
    path = tmp_path / "two.xml"
    write_node_xml(path, 4, running_fraction=0.0)
    rec = Recorder()
    host = HostConnection(node_uri(path), listener=rec, refresh=60.0)
    host.start()
    try:
        snap = rec.wait("snap", lambda s: all(r.vcpus for r in s.rows), timeout=10)
        victim = next(r for r in snap.rows if r.state == libvirt.VIR_DOMAIN_SHUTOFF)

        def swap(conn: libvirt.virConnect) -> str:
            dom = conn.lookupByUUIDString(victim.uuid)
            xml = dom.XMLDesc(0)
            dom.undefine()
            new_uuid = "12345678-1234-1234-1234-123456789abc"
            start, end = xml.index("<uuid>") + 6, xml.index("</uuid>")
            conn.defineXML(xml[:start] + new_uuid + xml[end:])
            return new_uuid

        new_uuid = host.call(swap)
        snap = rec.wait("snap", lambda s: any(r.uuid == new_uuid for r in s.rows), timeout=5)
        assert not any(r.uuid == victim.uuid for r in snap.rows)
        assert next(r for r in snap.rows if r.uuid == new_uuid).name == victim.name
    finally:
        host.stop()
