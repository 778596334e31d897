"""explain_end on libvirt's test driver: the three ways a console ends are told apart."""

from __future__ import annotations

import time

import libvirt

from virttui.core.console.end import (
    DAEMON_GONE,
    DOMAIN_GONE,
    GUEST_STOPPED,
    TAKEN_OVER,
    UNKNOWN,
    explain_end,
)


def _call(conn: libvirt.virConnect):  # type: ignore[no-untyped-def]
    return lambda fn: fn(conn)


def test_stopped_guest() -> None:
    conn = libvirt.open("test:///default")
    dom = conn.lookupByName("test")
    dom.destroy()
    end = explain_end(_call(conn), dom.UUIDString(), "end of file", conn, grace=0)
    assert end.kind == GUEST_STOPPED
    assert "no longer running" in end.text


def test_guest_that_stops_within_the_grace_period() -> None:
    """libvirt can end the stream before it reports the domain inactive: wait for it."""
    conn = libvirt.open("test:///default")
    dom = conn.lookupByName("test")
    calls = {"n": 0}

    def call(fn):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            dom.destroy()  # the daemon finishes stopping the domain a moment later
        return fn(conn)

    end = explain_end(call, dom.UUIDString(), "end of file", conn, grace=10)
    assert end.kind == GUEST_STOPPED


def test_running_guest_means_taken_over() -> None:
    conn = libvirt.open("test:///default")
    dom = conn.lookupByName("test")
    t0 = time.monotonic()
    end = explain_end(_call(conn), dom.UUIDString(), "stream had I/O failure", conn, grace=0.5)
    assert end.kind == TAKEN_OVER
    assert "another client took the console over" in end.text
    assert time.monotonic() - t0 >= 0.5


def test_without_the_stream_connection_a_running_guest_is_not_called_taken_over() -> None:
    conn = libvirt.open("test:///default")
    dom = conn.lookupByName("test")
    end = explain_end(_call(conn), dom.UUIDString(), "screenshot failed", None, grace=0)
    assert end.kind == UNKNOWN and "screenshot failed" in end.text


def test_dead_connection_means_daemon_gone_even_after_a_reconnect() -> None:
    old = libvirt.open("test:///default")
    uuid = old.lookupByName("test").UUIDString()
    old.close()
    new = libvirt.open("test:///default")  # the host reconnected already
    end = explain_end(_call(new), uuid, "stream had I/O failure", old, grace=0)
    assert end.kind == DAEMON_GONE
    assert "connection to libvirtd was lost" in end.text


def test_host_not_connected_means_daemon_gone() -> None:
    def call(fn):  # type: ignore[no-untyped-def]
        raise RuntimeError("qemu:///system: not connected")

    assert explain_end(call, "0" * 32, "x", None, grace=0).kind == DAEMON_GONE


def test_undefined_domain() -> None:
    conn = libvirt.open("test:///default")
    end = explain_end(
        _call(conn), "00000000-0000-0000-0000-00000000abcd", "end of file", conn, grace=0
    )
    assert end.kind == DOMAIN_GONE
