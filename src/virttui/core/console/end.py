"""Why a console stream ended, in words the admin can act on.

Three different situations end a serial console stream, and libvirt reports them all as a
stream error or end of file:
- the guest stopped (shut down, destroyed, crashed): QEMU closed the pty. libvirt may still
  report the domain active for a moment after the stream ended, so an active domain is asked
  again for up to STOP_GRACE seconds before concluding anything else;
- another client took the console over (`virsh console --force`, virt-manager, another
  virttui opening with VIR_DOMAIN_CONSOLE_FORCE): the daemon aborts our stream while the
  domain keeps running on a healthy connection;
- the daemon went away (stopped, restarted, keepalive timeout, network): the connection the
  console was opened on is dead, even if the host has reconnected since.

`explain_end` makes blocking RPCs: call it from a worker thread, never the UI or the libvirt
event loop thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libvirt

from virttui.core.host.libvirt_runtime import error_message

STOP_GRACE = 3.0  # seconds an active domain gets to show up as stopped
_POLL = 0.2

GUEST_STOPPED = "guest-stopped"
DOMAIN_GONE = "domain-gone"
TAKEN_OVER = "taken-over"
DAEMON_GONE = "daemon-gone"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ConsoleEnd:
    kind: str
    text: str


def connection_alive(conn: libvirt.virConnect | None) -> bool:
    """True when `conn` is still open (a local check, no round trip)."""
    if conn is None:
        return False
    try:
        alive: int = conn.isAlive()
        return alive == 1
    except libvirt.libvirtError:
        return False  # closed underneath us (the host dropped it after the daemon went away)


def explain_end(
    call: Callable[[Callable[[libvirt.virConnect], Any]], Any],
    uuid: str,
    reason: str,
    conn: libvirt.virConnect | None = None,
    *,
    grace: float = STOP_GRACE,
) -> ConsoleEnd:
    """Classify the end of a console opened on `conn` for domain `uuid`.

    `call(fn)` runs `fn` on the host's current connection (HostConnection.call): it may be a
    new connection when the host reconnected, or raise when the host is disconnected.
    `reason` is what the stream itself said (kept in the text for the unclear cases). Without
    `conn` (not a console stream) a running guest gives UNKNOWN, not TAKEN_OVER.
    """
    deadline = time.monotonic() + grace
    while True:
        if conn is not None and not connection_alive(conn):
            return _daemon_gone(reason)
        try:
            state = call(lambda c: (c is conn, c.lookupByUUIDString(uuid).isActive()))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return ConsoleEnd(DOMAIN_GONE, "the domain no longer exists (undefined)")
            if conn is not None and not connection_alive(conn):
                return _daemon_gone(reason)
            return ConsoleEnd(UNKNOWN, f"{reason} ({error_message(exc)})")
        except Exception:  # noqa: BLE001 - NotConnected and friends: the host is down
            return _daemon_gone(reason)
        same_conn, active = state
        if conn is not None and not same_conn:
            return _daemon_gone(reason)  # the host reconnected: ours died in between
        if not active:
            return ConsoleEnd(
                GUEST_STOPPED, "the guest is no longer running (it was shut down or destroyed)"
            )
        if time.monotonic() >= deadline:
            if conn is None:  # not a console stream (the graphical console's screenshots)
                return ConsoleEnd(UNKNOWN, f"{reason} (the guest is still running)")
            return ConsoleEnd(
                TAKEN_OVER,
                "another client took the console over (virsh console --force, virt-manager or"
                " another virttui); the guest is still running",
            )
        time.sleep(_POLL)


def _daemon_gone(reason: str) -> ConsoleEnd:
    return ConsoleEnd(
        DAEMON_GONE,
        "the connection to libvirtd was lost (the daemon stopped or restarted, or the network"
        f" failed): {reason}",
    )
