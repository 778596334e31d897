"""The serial console when libvirtd really goes away: a private session libvirtd (run as user
nobody in a temporary directory, with its own socket) hosts the tiny guest, the app opens its
console, and the test kills that daemon. The system libvirtd is never touched.

Measured on libvirt 9.0: when the daemon dies the console stream reports nothing (no event, no
EOF), so the console screen has to notice from the host's connection."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import READY_BANNER, SerialConsole, create_qcow2, tiny_guest_xml, unique_name
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.libvirt_runtime import ensure_event_loop
from virttui.screens.console.serial import open_serial_console

LIBVIRTD = "/usr/sbin/libvirtd"
NOBODY = 65534


def _kill_guest_processes(name: str) -> None:
    """QEMU outlives a killed session daemon: stop the one running this guest (by pid)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"guest={name},".encode() in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


@pytest.fixture(scope="module")
def private_guest() -> Iterator[tuple[str, libvirt.virDomain, Path]]:
    if os.geteuid() != 0 or not shutil.which("runuser") or not Path(LIBVIRTD).exists():
        pytest.skip("needs root, runuser and /usr/sbin/libvirtd to run a private session daemon")
    ensure_event_loop()
    base = Path(tempfile.mkdtemp(prefix="vt-serlv-", dir="/tmp"))
    env = {"HOME": str(base)}
    for var, sub in (
        ("XDG_RUNTIME_DIR", "run"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
    ):
        (base / sub).mkdir(mode=0o700)
        env[var] = str(base / sub)
    for path in [base, *base.iterdir()]:
        os.chown(path, NOBODY, NOBODY)
    run = base / "run" / "libvirt"
    argv = ["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in env.items()), LIBVIRTD]
    daemon = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = unique_name("vt-serlv")
    conn: libvirt.virConnect | None = None
    try:
        deadline = time.monotonic() + 30
        while not (run / "libvirt-sock").exists() or not (run / "libvirtd.pid").exists():
            assert time.monotonic() < deadline, "private libvirtd did not start"
            time.sleep(0.2)
        uri = f"qemu+unix:///session?socket={run / 'libvirt-sock'}"
        conn = libvirt.open(uri)
        disk = create_qcow2(base / "disk.qcow2")
        os.chown(disk, NOBODY, NOBODY)
        dom = conn.defineXML(tiny_guest_xml(name, disk, vnc=False))
        dom.create()
        with SerialConsole(dom) as console:  # opened at once: the boot banner is not missed
            console.wait_for(READY_BANNER, 180)
        yield uri, dom, run / "libvirtd.pid"
    finally:
        if conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((run / "libvirtd.pid").read_text()), signal.SIGKILL)
        with contextlib.suppress(OSError):
            daemon.kill()
        daemon.wait(10)
        _kill_guest_processes(name)
        shutil.rmtree(base, ignore_errors=True)


async def test_console_ended_daemon_killed(
    private_guest: tuple[str, libvirt.virDomain, Path],
) -> None:
    uri, dom, pidfile = private_guest
    app = VirtTUIApp([HostSpec(uri)], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: uri in app.hosts and app.hosts[uri].connected, 30)
        screen = open_serial_console(app, uri, dom.UUIDString())
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        await pilot.press(*"echo still''here", "enter")
        await wait_until(
            pilot, lambda: "stillhere" in "\n".join(screen.terminal.display_lines()), 60
        )
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        await wait_until(pilot, lambda: screen.state == "ended", 30)
        notice = screen.notice_text()
        assert "connection to libvirtd was lost" in notice, notice
        assert screen.query_one("#console-reconnect").display
