"""The lifecycle actions the domain list offers, as data: one table feeds keys, palette and checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libvirt

RUNNING_LIKE = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED)
ACTIVE = (
    *RUNNING_LIKE,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN,
    libvirt.VIR_DOMAIN_PMSUSPENDED,
)
STARTABLE = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED, libvirt.VIR_DOMAIN_NOSTATE)


def _pause_or_resume(dom: libvirt.virDomain) -> None:
    state = dom.state()[0]
    if state == libvirt.VIR_DOMAIN_PAUSED:
        dom.resume()
    else:
        dom.suspend()


@dataclass(frozen=True, slots=True)
class LifecycleAction:
    id: str
    title: str
    verb: str  # "started", ... for the result message
    run: Callable[[libvirt.virDomain], object]
    allowed_states: tuple[int, ...]
    destructive: bool = False
    help: str = ""


LIFECYCLE: dict[str, LifecycleAction] = {
    a.id: a
    for a in (
        LifecycleAction(
            "start", "Start", "started", lambda d: d.create(), STARTABLE, help="Boot the domain"
        ),
        LifecycleAction(
            "shutdown",
            "Shut down",
            "asked to shut down",
            lambda d: d.shutdown(),
            ACTIVE,
            help="ACPI power button: the guest OS shuts down cleanly if it listens",
        ),
        LifecycleAction(
            "reboot",
            "Reboot",
            "asked to reboot",
            lambda d: d.reboot(0),
            RUNNING_LIKE,
            help="Ask the guest to reboot",
        ),
        LifecycleAction(
            "destroy",
            "Force off",
            "forced off",
            lambda d: d.destroy(),
            ACTIVE,
            destructive=True,
            help="Pull the plug: unsaved guest data is lost",
        ),
        LifecycleAction(
            "pause",
            "Pause/Resume",
            "paused/resumed",
            _pause_or_resume,
            (*RUNNING_LIKE, libvirt.VIR_DOMAIN_PAUSED),
            help="Freeze or thaw the vCPUs",
        ),
    )
}


def action_allowed(action: LifecycleAction, state: int | None) -> bool:
    return state is not None and state in action.allowed_states
