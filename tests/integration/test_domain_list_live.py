"""The domain list against the real libvirtd (qemu:///system) and the tiny guest."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import libvirt

from tests.guestlib import running_guest
from tests.pilot_utils import click_on, domain_row, select_domain, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common.confirm import ConfirmScreen

URI = "qemu:///system"


async def test_start_shows_running_through_events_and_cpu_is_live(
    system_conn: libvirt.virConnect,
) -> None:
    # A 30 s refresh: only the lifecycle event can make the row change within 2 s.
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    with running_guest(system_conn, start=False) as dom:
        uuid = dom.UUIDString()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 10)
            assert domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_SHUTOFF
            started = time.monotonic()
            dom.create()
            await wait_until(
                pilot, lambda: domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_RUNNING, 2.0
            )
            event_latency = time.monotonic() - started
            assert event_latency < 2.0
            # While it boots under TCG the guest burns CPU: CPU% must be live and positive.
            app.set_refresh(0.5)
            await wait_until(pilot, lambda: (domain_row(app, URI, uuid).cpu_host_pct or 0) > 0, 10)
            row = domain_row(app, URI, uuid)
            assert row.vcpus == 1 and row.mem_kib and row.mem_kib > 0
            assert dom.name() in screen_text(app)


async def test_pause_resume_force_off_from_the_list(system_conn: libvirt.virConnect) -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    with running_guest(system_conn) as dom:
        uuid = dom.UUIDString()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 10)
            select_domain(app, uuid)
            await pilot.press("p")
            await wait_until(
                pilot, lambda: domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_PAUSED, 5
            )
            assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
            await pilot.press("p")
            await wait_until(
                pilot, lambda: domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_RUNNING, 5
            )
            await pilot.press("F")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await click_on(pilot, "#confirm")
            await wait_until(
                pilot, lambda: domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_SHUTOFF, 5
            )
            assert not dom.isActive()


async def test_read_only_system_connection_is_refused_by_libvirtd(
    system_conn: libvirt.virConnect,
) -> None:
    with running_guest(system_conn) as dom:
        ro = libvirt.openReadOnly(URI)
        try:
            try:
                ro.lookupByUUIDString(dom.UUIDString()).suspend()
            except libvirt.libvirtError as exc:
                assert exc.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
            else:
                raise AssertionError("libvirtd accepted a mutating call on a read-only connection")
            assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        finally:
            ro.close()


def _libvirtd_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "libvirtd"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _start_libvirtd() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "ensure-libvirtd.sh"
    subprocess.run(["bash", str(script)], check=False, timeout=60)


async def test_survives_libvirtd_restart_and_guest_keeps_running(
    system_conn: libvirt.virConnect,
) -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=1.0)
    with running_guest(system_conn) as dom:
        uuid = dom.UUIDString()
        name = dom.name()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 10)
            pids = _libvirtd_pids()
            assert pids, "libvirtd is not running"
            try:
                subprocess.run(["kill", "-TERM", *map(str, pids)], check=True)
                lost = time.monotonic()
                await wait_until(pilot, lambda: app.store.hosts[URI].state == "disconnected", 2.0)
                assert time.monotonic() - lost < 2.0
                assert "disconnected" in screen_text(app)
                # Reconnecting is retried with backoff for as long as the host is configured.
                await pilot.pause(1.5)
                assert app.store.hosts[URI].state in ("disconnected", "connecting")
            finally:
                for _ in range(300):  # a daemon with guests can take a while to stop
                    if not any(_pid_alive(p) for p in pids):
                        break
                    time.sleep(0.1)
                _start_libvirtd()
            await wait_until(pilot, lambda: app.store.hosts[URI].state == "connected", 15)
            await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 5)
            assert domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_RUNNING
            assert name in screen_text(app)
    # The session connection died with the daemon; the guest cleanup above used a fresh one.


def _pid_alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it (which pgrep still lists)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def test_shutdown_key_presses_the_acpi_button(system_conn: libvirt.virConnect) -> None:
    """The tiny guest runs acpid: `h` powers it off cleanly (reason: shut down, not destroyed)."""
    from tests.guestlib import READY_BANNER, dom_serial_log

    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    with running_guest(system_conn) as dom:
        uuid = dom.UUIDString()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 10)
            deadline = time.monotonic() + 120
            while READY_BANNER not in dom_serial_log(dom):
                assert time.monotonic() < deadline, "guest did not boot"
                await pilot.pause(0.2)
            select_domain(app, uuid)
            await pilot.press("h")
            # A TCG guest's clean power-off took more than 60 s once on a loaded CI machine.
            await wait_until(
                pilot, lambda: domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_SHUTOFF, 180
            )
            assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
