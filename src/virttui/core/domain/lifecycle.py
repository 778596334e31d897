"""What a lifecycle action is and the core calls behind them (start, ACPI shutdown/reboot,
pause/resume, force off). The actions themselves, with keys and labels, are entries of
`core/domain/action_table.py`; `LIFECYCLE` (id -> LifecycleAction) is derived from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from virttui.core.domain import actions as domain_actions
from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.actions import PowerMethod

RUNNING_LIKE = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED)
ACTIVE = (
    *RUNNING_LIKE,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN,
    libvirt.VIR_DOMAIN_PMSUSPENDED,
)
STARTABLE = (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED, libvirt.VIR_DOMAIN_NOSTATE)


def pause_or_resume(dom: libvirt.virDomain) -> None:
    if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        domain_actions.resume(dom)
    else:
        domain_actions.pause(dom)


_FLAG_REFUSED = (
    libvirt.VIR_ERR_INVALID_ARG,
    libvirt.VIR_ERR_NO_SUPPORT,
    libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
)


def acpi(
    call: Callable[[libvirt.virDomain, PowerMethod], None],
) -> Callable[[libvirt.virDomain], None]:
    """Press the ACPI power button; drivers that refuse the flag (the test driver) get their
    default method instead of an error."""

    def run(dom: libvirt.virDomain) -> None:
        try:
            call(dom, PowerMethod.ACPI)
        except DomainActionError as exc:
            cause = exc.__cause__
            if (
                not isinstance(cause, libvirt.libvirtError)
                or cause.get_error_code() not in _FLAG_REFUSED
            ):
                raise
            call(dom, PowerMethod.DEFAULT)

    return run


@dataclass(frozen=True, slots=True)
class LifecycleAction:
    id: str
    title: str
    verb: str  # "started", ... for the result message
    run: Callable[[libvirt.virDomain], object]
    allowed_states: tuple[int, ...]
    destructive: bool = False
    help: str = ""


def action_allowed(action: LifecycleAction, state: int | None) -> bool:
    return state is not None and state in action.allowed_states
