"""The serial console inside the app (Pilot) against the tiny guest on qemu:///system."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import libvirt
import pytest

from tests.guestlib import (
    READY_BANNER,
    SHELL_PROMPT,
    SYSTEM_URI,
    SerialConsole,
    dom_serial_log,
    guest_versions,
    open_system_conn,
    running_guest,
)
from tests.pilot_utils import click_on, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.console.serial import SerialSession
from virttui.screens.common import console_registry
from virttui.screens.console.serial import SerialConsoleScreen, open_serial_console
from virttui.screens.domain.domain_list import DomainsScreen


def _screen(app: VirtTUIApp) -> str:
    return "\n".join(app.screen.terminal.display_lines())  # type: ignore[attr-defined]


async def _start(pilot, app: VirtTUIApp, dom: libvirt.virDomain) -> SerialConsoleScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30)
    deadline = time.monotonic() + 120
    while READY_BANNER not in dom_serial_log(dom):
        assert time.monotonic() < deadline, "guest did not boot"
        await pilot.pause(0.2)
    screen = open_serial_console(app, SYSTEM_URI, dom.UUIDString())
    await wait_until(pilot, lambda: screen.state in ("connected", "busy", "failed"), 30)
    return screen


async def _wait_prompt(pilot, screen: SerialConsoleScreen, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while SHELL_PROMPT.strip() not in "\n".join(screen.terminal.display_lines()):
        assert time.monotonic() < deadline, "no shell prompt:\n" + "\n".join(
            screen.terminal.display_lines()
        )
        await pilot.press("enter")
        await pilot.pause(1.0)


def _process_rows(lines: list[str]) -> int:
    """Lines of busybox top's table: a PID first, then more columns."""
    return sum(1 for line in lines if line.split()[:1] and line.split()[0].isdigit())


async def test_shell_fullscreen_leave_and_reopen(tiny_guest: libvirt.virDomain) -> None:
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _start(pilot, app, tiny_guest)
        assert screen.state == "connected", screen.notice_text()
        assert app.screen is screen and app.focused is screen.terminal
        await _wait_prompt(pilot, screen)

        # Typing goes through the keymap to the guest; the echo and output come back.
        await pilot.press(*"uname -a", "enter")
        release = guest_versions()["kernel_release"]
        await wait_until(pilot, lambda: release in screen_text(app), 30)
        assert "Linux virttui-guest" in screen_text(app)
        # busybox asks for the cursor position after each prompt: the widget answered.
        await wait_until(pilot, lambda: any("R" in r for r in screen.terminal.replies), 10)

        # Ctrl+C reaches the guest: it interrupts a sleeping foreground command.
        await pilot.press(*"sleep 600", "enter")
        await pilot.pause(1.0)
        await pilot.press("ctrl+c")
        await pilot.press(*"echo after-int''errupt", "enter")
        await wait_until(pilot, lambda: "after-interrupt" in _screen(app), 20)

        # A full-screen program: busybox top paints its header and table at the top.
        await pilot.press(*"stty cols 100 rows 29; top", "enter")
        await wait_until(
            pilot,
            lambda: (
                screen.terminal.display_lines()[0].startswith("Mem:")
                and "PID" in "\n".join(screen.terminal.display_lines()[:6])
                # the table may land a read after the header
                and _process_rows(screen.terminal.display_lines()) >= 5
            ),
            30,
        )
        lines = screen.terminal.display_lines()
        assert any(line.startswith("CPU:") for line in lines[:3]), lines[:4]
        # The table is drawn: rows of PIDs under the header (which rows depends on the guest's
        # process list and CPU order: "top" itself is not always among the first 20 of ~60).
        assert _process_rows(lines) >= 5, lines
        await pilot.press("q")
        await wait_until(pilot, lambda: _screen(app).rstrip().endswith(SHELL_PROMPT.strip()), 20)

        # Busybox vi: the alternate screen with "~" filler lines, then restored on exit.
        await pilot.press(*"vi /tmp/note", "enter")
        await wait_until(
            pilot,
            lambda: sum(line.startswith("~") for line in screen.terminal.display_lines()) > 10,
            30,
        )
        await pilot.press("i", *"hello from vi", "escape", *":wq", "enter")
        await wait_until(pilot, lambda: not screen.terminal.vt.in_alternate_screen, 20)
        await pilot.press(*"cat /tmp/note", "enter")
        await wait_until(pilot, lambda: _screen(app).count("hello from vi") >= 1, 20)

        # Ctrl+] leaves: back to the domain list, the console stays open in the registry.
        await pilot.press("ctrl+right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), 5)
        assert [e.uuid for e in console_registry.entries(app)] == [tiny_guest.UUIDString()]
        assert screen.handle is not None and screen.handle.is_open

        # Reopening returns to the same screen, still attached and working.
        again = open_serial_console(app, SYSTEM_URI, tiny_guest.UUIDString())
        assert again is screen
        await wait_until(pilot, lambda: app.screen is screen, 5)
        screen.terminal.focus()
        await pilot.press(*"echo re''opened", "enter")
        await wait_until(pilot, lambda: "reopened" in _screen(app), 20)

        # Closing through the registry closes the stream: another client can attach unforced.
        session = screen.handle
        console_registry.close(app, screen.registry_name() or "")
        await wait_until(pilot, lambda: not session.is_open, 10)
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen), 5)
        assert console_registry.entries(app) == []
    deadline = time.monotonic() + 10
    while True:
        try:
            with SerialConsole(tiny_guest, force=False):
                break
        except libvirt.libvirtError:
            assert time.monotonic() < deadline, "console still held after close"
            time.sleep(0.2)


async def test_console_in_use_force_and_guest_destroyed(tiny_guest: libvirt.virDomain) -> None:
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    other = SerialConsole(tiny_guest)  # another client holds the console
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await _start(pilot, app, tiny_guest)
            assert screen.state == "busy"
            assert "in use by another client" in screen.notice_text()
            assert "in use by another client" in screen_text(app)
            force = screen.query_one("#console-force")
            assert force.display and app.focused is force

            await click_on(pilot, "#console-force")
            await wait_until(pilot, lambda: screen.state == "connected", 30)
            assert screen.notice_text() == ""
            with other._cond:  # the other client was disconnected by the forced open
                other._cond.wait_for(lambda: other._eof, 10)
            await _wait_prompt(pilot, screen)

            # The guest goes away under the open console: a notice, a Reconnect button.
            tiny_guest.destroy()
            await wait_until(pilot, lambda: screen.state == "ended", 30)
            assert "no longer running" in screen.notice_text()
            assert "Console ended" in screen_text(app)
            assert screen.query_one("#console-reconnect").display

            # Reconnecting while it is down says why, still without a traceback.
            await click_on(pilot, "#console-reconnect")
            await wait_until(pilot, lambda: screen.state == "failed", 30)
            assert "not running" in screen.notice_text()
            tiny_guest.create()
            await click_on(pilot, "#console-reconnect")
            await wait_until(pilot, lambda: screen.state == "connected", 30)
        assert app.return_code in (None, 0)
    finally:
        other.close()


# ------------------------------------------------------------------ why the console ended
# One guest for the whole module (booting one under TCG takes a while); the test that stops
# it runs last.


@pytest.fixture(scope="module")
def shared_guest() -> Iterator[libvirt.virDomain]:
    conn = open_system_conn()
    try:
        with running_guest(conn, "vt-serend") as dom:
            deadline = time.monotonic() + 180
            while READY_BANNER not in dom_serial_log(dom):
                assert time.monotonic() < deadline, "guest did not boot"
                time.sleep(0.3)
            yield dom
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


def _libvirt_sockets() -> set[int]:
    """This process's file descriptors connected to libvirtd's read-write socket."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            peer = sock.getpeername() if sock.family == socket.AF_UNIX else ""
        except OSError:
            peer = ""
        finally:
            sock.close()
        if isinstance(peer, str) and peer.endswith("libvirt-sock"):
            found.add(fd)
    return found


async def _connected_console(pilot, app: VirtTUIApp, dom: libvirt.virDomain) -> SerialConsoleScreen:  # type: ignore[no-untyped-def]
    screen = await _start(pilot, app, dom)
    if screen.state == "busy":  # a previous test's client may still be letting go
        await click_on(pilot, "#console-force")
    await wait_until(pilot, lambda: screen.state == "connected", 30)
    await _wait_prompt(pilot, screen)
    return screen


def test_session_delivers_a_flood_whole_with_one_recv_per_event(
    shared_guest: libvirt.virDomain,
) -> None:
    """~190 KB of `seq` output arrives whole and in order, in few reads: SerialSession reads
    once per stream event (libvirt's recv hands over every queued packet and calls back while
    more is queued: the reads that found nothing, EAGAIN, are none or a few, not one per event)
    and, while output flows, pauses GATHER_MS between reads (a read then takes hundreds of
    bytes, not the handful of one packet: median 7 bytes)."""
    got = bytearray()
    done = threading.Event()
    counts = {"events": 0, "recv": 0, "eagain": 0, "pauses": 0}

    def on_data(data: bytes) -> None:
        got.extend(data)
        if b"SEQEND" in got[-64:]:
            done.set()

    session = SerialSession(on_data, lambda _reason: None)
    read = session._read_all

    class Counted:
        def __init__(self, stream: libvirt.virStream) -> None:
            self.stream = stream

        def recv(self, nbytes: int) -> object:
            counts["recv"] += 1
            data = self.stream.recv(nbytes)
            counts["eagain"] += data == -2
            return data

    def counted_read(stream: libvirt.virStream, *, to_the_end: bool = False) -> bool:
        counts["events"] += 1
        return read(Counted(stream), to_the_end=to_the_end)  # type: ignore[arg-type]

    session._read_all = counted_read  # type: ignore[method-assign]
    resume = session._resume

    def counted_resume(timer: int, opaque: object) -> None:
        counts["pauses"] += 1
        resume(timer, opaque)

    session._resume = counted_resume  # type: ignore[method-assign]
    session.open(shared_guest, force=True)
    try:
        session.write(b"\x15seq 1 30000; echo SEQ''END\r")
        assert done.wait(120), bytes(got[-300:])
    finally:
        session.close()
    expected = "\r\n".join(map(str, range(1, 30001))).encode() + b"\r\nSEQEND"
    assert expected in got, bytes(got[:200])
    assert counts["events"] > 100, counts  # a flood comes in many events ...
    assert counts["eagain"] <= max(3, counts["events"] // 100), counts  # ... each read once
    assert counts["recv"] <= counts["events"] + 2, counts  # no second read per event
    # While output flows every read is followed by a pause of GATHER_MS (the timer ends most
    # pauses; the read a pause's end lets in counts as flowing too: before, only every second
    # read paused, 1769 pauses in 3561 events), so a read takes what came meanwhile: ~80 bytes
    # a read on a quiet machine (56 when every second read paused, ~25 without the pause);
    # a packet's median is 7 bytes.
    assert counts["pauses"] >= counts["events"] * 3 // 4, counts
    assert len(got) / counts["events"] >= 30, (len(got), counts)


async def test_console_ended_another_client_took_over(shared_guest: libvirt.virDomain) -> None:
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _connected_console(pilot, app, shared_guest)
        # The test's own connection forces the console (VIR_DOMAIN_CONSOLE_FORCE).
        with SerialConsole(shared_guest, force=True):
            await wait_until(pilot, lambda: screen.state == "ended", 30)
            notice = screen.notice_text()
            assert "another client took the console over" in notice, notice
            assert "still running" in notice
            assert screen.query_one("#console-reconnect").display
        # The other client left: Reconnect attaches again.
        await click_on(pilot, "#console-reconnect")
        await wait_until(pilot, lambda: screen.state in ("connected", "busy"), 30)
        if screen.state == "busy":
            await click_on(pilot, "#console-force")
        await wait_until(pilot, lambda: screen.state == "connected", 30)


async def test_console_ended_connection_to_daemon_lost(shared_guest: libvirt.virDomain) -> None:
    """The daemon going away, as the app sees it: its connection's socket is closed from under
    it (the system libvirtd itself is never stopped; only this app's socket is shut down)."""
    before = _libvirt_sockets()
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _connected_console(pilot, app, shared_guest)
        ours = _libvirt_sockets() - before
        assert ours, "the app's connection socket was not found"
        for fd in ours:
            sock = socket.socket(fileno=os.dup(fd))
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        await wait_until(pilot, lambda: screen.state == "ended", 30)
        notice = screen.notice_text()
        assert "connection to libvirtd was lost" in notice, notice
        # The host reconnects by itself (the daemon is fine); Reconnect reattaches.
        host = app.hosts[SYSTEM_URI]
        await wait_until(pilot, lambda: host.connected, 30)
        await click_on(pilot, "#console-reconnect")
        await wait_until(
            pilot,
            lambda: screen.state in ("connected", "busy"),
            30,
            describe=lambda: (screen.state, screen.notice_text(), host.state, host.last_error),
        )


async def test_console_ended_guest_shut_down(shared_guest: libvirt.virDomain) -> None:
    """Last in the module: the guest powers itself off from its own shell."""
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _connected_console(pilot, app, shared_guest)
        await pilot.press(*"poweroff -f", "enter")
        await wait_until(pilot, lambda: screen.state == "ended", 60)
        notice = screen.notice_text()
        assert "no longer running" in notice and "shut down or destroyed" in notice, notice
        assert not shared_guest.isActive()
