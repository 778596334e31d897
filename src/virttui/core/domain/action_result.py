"""What every domain action shares: one exception carrying libvirt's message, the "where did the
change land" outcome (live domain and/or persistent config), and the live-else-config fallback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import libvirt

from virttui.core.host.libvirt_runtime import error_message
from virttui.core.jobs import Severity, note

AFFECT_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
AFFECT_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


class DomainActionError(Exception):
    """An action failed. `message` is libvirt's own text (or ours for a refused precondition)."""

    def __init__(self, action: str, domain: str, message: str) -> None:
        super().__init__(f"{action} {domain}: {message}")
        self.action = action
        self.domain = domain
        self.message = message


def domain_name(dom: libvirt.virDomain) -> str:
    try:
        name: str = dom.name()
        return name
    except libvirt.libvirtError:
        return "?"


@contextmanager
def libvirt_errors(action: str, domain: str) -> Iterator[None]:
    """Turn a libvirtError raised inside the block into DomainActionError(action, domain, msg)."""
    try:
        yield
    except libvirt.libvirtError as exc:
        raise DomainActionError(action, domain, error_message(exc)) from exc


@dataclass(frozen=True)
class Applied:
    """Where a change took effect. `note` explains a live attempt that fell back to config."""

    live: bool
    config: bool
    note: str = ""

    def describe(self) -> str:
        if self.live and self.config:
            where = "applied now and saved in the persistent configuration"
        elif self.live:
            where = "applied now only (transient domain: lost when it stops)"
        else:
            where = "saved in the persistent configuration: takes effect at next boot"
        return f"{where} ({self.note})" if self.note else where


def live_flags(dom: libvirt.virDomain) -> int:
    """LIVE|CONFIG for a running persistent domain, LIVE for a transient one, else CONFIG."""
    flags = 0
    if dom.isActive():
        flags |= AFFECT_LIVE
    if dom.isPersistent():
        flags |= AFFECT_CONFIG
    return flags or AFFECT_CONFIG


def apply_live_else_config(
    dom: libvirt.virDomain, action: str, call: Callable[[int], object]
) -> Applied:
    """Run `call(flags)` with LIVE|CONFIG where the domain runs; when the live change is refused,
    retry with CONFIG alone (persistent domains) and say why in `Applied.note`."""
    name = domain_name(dom)
    with libvirt_errors(action, name):
        flags = live_flags(dom)
    if not flags & AFFECT_LIVE or not flags & AFFECT_CONFIG:
        with libvirt_errors(action, name):
            call(flags)
        return Applied(live=bool(flags & AFFECT_LIVE), config=bool(flags & AFFECT_CONFIG))
    try:
        call(flags)
        return Applied(live=True, config=True)
    except libvirt.libvirtError:
        pass
    # Some drivers refuse LIVE|CONFIG together; the guest may refuse the live part.
    with libvirt_errors(action, name):
        call(AFFECT_CONFIG)
    try:
        call(AFFECT_LIVE)
    except libvirt.libvirtError as exc:
        note(Severity.WARNING)  # the job's result is reported as a warning, not as a success
        return Applied(live=False, config=True, note=f"not possible live: {error_message(exc)}")
    return Applied(live=True, config=True)


FORCED_NOTE = "saved anyway: config only, against the host's checks"


def apply_config_only(
    dom: libvirt.virDomain, action: str, call: Callable[[int], object]
) -> Applied:
    """Run `call(AFFECT_CONFIG)`: the admin's explicit "save anyway" of an edit the host checks
    refused. The running domain is left alone; the next start shows whether it works."""
    with libvirt_errors(action, domain_name(dom)):
        call(AFFECT_CONFIG)
    return Applied(live=False, config=True, note=FORCED_NOTE)
