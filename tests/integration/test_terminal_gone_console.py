"""The terminal goes away while virttui holds a guest's serial console on qemu:///system: the
app leaves in order (status 129, not killed by the SIGHUP) and the console is free afterwards."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import libvirt
import pytest

from tests.guestlib import READY_BANNER, SYSTEM_URI, dom_serial_log, running_guest
from tests.test_terminal_gone import VIRTTUI, PtyControl, needs_entry_point, run_then_close_terminal
from virttui.core.common.terminal_watch import EXIT_TERMINAL_GONE


@pytest.fixture(scope="module")
def booted_guest(_system_conn_cache: object) -> Iterator[libvirt.virDomain]:
    conn = _system_conn_cache.get()  # type: ignore[attr-defined]
    with running_guest(conn) as dom:
        deadline = time.monotonic() + 180
        while READY_BANNER not in dom_serial_log(dom):
            assert time.monotonic() < deadline, "guest did not boot"
            time.sleep(0.5)
        yield dom


def console_is_free(dom: libvirt.virDomain) -> bool:
    """Open the serial console without VIR_DOMAIN_CONSOLE_FORCE: refused while another client
    (virttui) holds it."""
    conn = dom.connect()
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    try:
        dom.openConsole(None, stream, 0)
    except libvirt.libvirtError:
        return False
    with contextlib.suppress(libvirt.libvirtError):
        stream.abort()
    return True


@needs_entry_point
def test_terminal_closed_with_a_serial_console_open(booted_guest: libvirt.virDomain) -> None:
    name = booted_guest.name()
    held: list[bool] = []

    def open_console(term: PtyControl) -> None:
        # Filter the list down to our guest, one step at a time: keys typed before the filter box
        # has the focus would reach the list (and other domains on this host).
        term.send(b"/")
        term.wait_for(lambda text: "filter by name" in text, "the filter box")
        term.send(name.encode())
        term.wait_for(lambda text: f"filter: {name}" in text, "the filter applied")
        term.send(b"\r")
        # The box's placeholder ("filter by name") is gone as soon as text is typed, so it
        # cannot tell that Enter closed the box: count the name instead — in the row and the
        # status line once the box is closed, and a third time while it is open (a `v` typed
        # then went into the filter: "filter: NAMEv", no row; CI8 and CI9).
        term.wait_for(
            lambda text: (
                text.count(name) == 2
                and [line.split()[0] for line in text.splitlines() if line.startswith("vt-")]
                == [name]
            ),
            "only our guest listed, filter box closed",
        )
        term.send(b"v")
        # At 80 columns the status line keeps the stty command and drops "Ctrl+] leaves".
        term.wait_for(
            lambda text: "Serial console" in text and "· connected ·" in text,
            "the connected serial console",
        )
        time.sleep(1.0)
        held.append(not console_is_free(booted_guest))

    outcome = run_then_close_terminal(
        [str(VIRTTUI), "--connect", SYSTEM_URI],
        ready=lambda text: name in text and "palette" in text,
        interact=open_console,
        label="serial console open on qemu:///system",
    )
    assert held == [True], "virttui did not hold the console before the terminal closed"
    assert outcome.exit_seconds is not None, f"left behind: {outcome.leftovers}"
    assert outcome.returncode == EXIT_TERMINAL_GONE
    deadline = time.monotonic() + 20
    while not console_is_free(booted_guest):
        assert time.monotonic() < deadline, "the console stayed taken after virttui ended"
        time.sleep(0.5)
    assert booted_guest.isActive()  # leaving never touches the guest
