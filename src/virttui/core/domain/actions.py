"""Lifecycle actions on one domain, and the body of a bulk job over several.

Every function blocks (run it in a worker thread) and raises DomainActionError carrying libvirt's
own message. Preconditions libvirt would report obscurely (rename while running) are checked here
with a plain sentence instead.
"""

from __future__ import annotations

import enum
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import libvirt

from virttui.core.domain.action_result import (
    DomainActionError,
    domain_name,
    libvirt_errors,
)
from virttui.core.domain.states import describe_state
from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobContext, describe_error

X = TypeVar("X")


class PowerMethod(enum.IntEnum):
    """How shutdown/reboot reach the guest (virDomainShutdownFlagValues)."""

    DEFAULT = 0  # the hypervisor picks (QEMU: guest agent if any, else ACPI)
    ACPI = libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
    GUEST_AGENT = libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT


def start(dom: libvirt.virDomain, *, paused: bool = False) -> None:
    """Boot the domain (or resume it from its managed save image, which libvirt then removes)."""
    with libvirt_errors("start", domain_name(dom)):
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)


def shutdown(dom: libvirt.virDomain, method: PowerMethod = PowerMethod.ACPI) -> None:
    """Ask the guest to power off. Returns once the request is delivered, not when it is off."""
    with libvirt_errors("shut down", domain_name(dom)):
        dom.shutdownFlags(int(method))


def reboot(dom: libvirt.virDomain, method: PowerMethod = PowerMethod.ACPI) -> None:
    """Ask the guest to reboot (same delivery as shutdown; the guest decides)."""
    with libvirt_errors("reboot", domain_name(dom)):
        dom.reboot(int(method))


def reset(dom: libvirt.virDomain) -> None:
    """Press the reset button: immediate, no guest cooperation."""
    with libvirt_errors("reset", domain_name(dom)):
        dom.reset(0)


def force_off(dom: libvirt.virDomain, *, graceful: bool = False) -> None:
    """Pull the plug (virDomainDestroy). `graceful` sends SIGTERM only, never SIGKILL."""
    with libvirt_errors("force off", domain_name(dom)):
        dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL if graceful else 0)


def pause(dom: libvirt.virDomain) -> None:
    with libvirt_errors("pause", domain_name(dom)):
        dom.suspend()


def resume(dom: libvirt.virDomain) -> None:
    with libvirt_errors("resume", domain_name(dom)):
        dom.resume()


def save_target_exists(conn: libvirt.virConnect, path: str) -> bool | None:
    """Whether `path` exists on the libvirt host: True/False, or None when it cannot be told
    (a remote host, and the path is not a volume of one of its storage pools).
    libvirt's save writes through the daemon (as root) and silently replaces an existing file."""
    with libvirt_errors("save", path):
        local = is_local_uri(conn.getURI())
    if local:
        return os.path.lexists(path)
    try:
        conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return None
    return True


def save_to_file(dom: libvirt.virDomain, path: str, *, overwrite: bool = False) -> None:
    """Save the running domain's memory to `path` (on the libvirt host) and stop it.

    An existing file is only replaced with `overwrite`; so is a path whose existence cannot be
    checked (remote host): ask the user first, then pass overwrite=True."""
    name = domain_name(dom)
    if not overwrite:
        exists = save_target_exists(dom.connect(), path)
        if exists is None:
            raise DomainActionError(
                "save", name, f"cannot check whether {path} exists on the remote host"
            )
        if exists:
            raise DomainActionError("save", name, f"{path} already exists")
    with libvirt_errors("save", name):
        dom.save(path)


def restore_from_file(conn: libvirt.virConnect, path: str) -> libvirt.virDomain:
    """Restore a domain saved with save_to_file; returns the running domain."""
    with libvirt_errors("restore", path):
        name = ET.fromstring(conn.saveImageGetXMLDesc(path, 0)).findtext("name") or ""
        conn.restore(path)
    with libvirt_errors("restore", name or path):
        return conn.lookupByName(name)


def managed_save(dom: libvirt.virDomain) -> None:
    """Save to libvirt's managed image; the next start resumes from it."""
    with libvirt_errors("managed save", domain_name(dom)):
        dom.managedSave(0)


def remove_managed_save(dom: libvirt.virDomain) -> None:
    """Discard the managed save image: the next start boots afresh."""
    with libvirt_errors("remove managed save", domain_name(dom)):
        dom.managedSaveRemove(0)


def set_autostart(dom: libvirt.virDomain, enabled: bool) -> None:
    with libvirt_errors("autostart", domain_name(dom)):
        dom.setAutostart(1 if enabled else 0)


def rename(dom: libvirt.virDomain, new_name: str) -> libvirt.virDomain:
    """Rename a shut-off persistent domain (libvirt refuses while it runs). Returns a fresh
    handle: the old object keeps answering the old name."""
    old = domain_name(dom)
    new_name = new_name.strip()
    if not new_name:
        raise DomainActionError("rename", old, "the new name is empty")
    with libvirt_errors("rename", old):
        state, reason = dom.state(0)
        active = dom.isActive()
    if active:
        raise DomainActionError(
            "rename", old, f"shut the domain off first (it is {describe_state(state, reason)})"
        )
    with libvirt_errors("rename", old):
        dom.rename(new_name, 0)
        return dom.connect().lookupByName(new_name)


@dataclass(frozen=True)
class BulkResult:
    name: str
    uuid: str
    ok: bool
    message: str = ""  # libvirt's message when not ok


def domain_identity(dom: libvirt.virDomain) -> tuple[str, str]:
    """(name, uuid) of a domain handle, "?" / "" where libvirt cannot say."""
    try:
        uuid = dom.UUIDString()
    except libvirt.libvirtError:
        uuid = ""
    return domain_name(dom), uuid


def bulk(
    ctx: JobContext,
    targets: Sequence[X],
    act: Callable[[X], object],
    identify: Callable[[X], tuple[str, str]],
    *,
    after_each: Callable[[X, BulkResult], None] | None = None,
) -> list[BulkResult]:
    """A job body: run `act` on every target in turn; one result per target, in input order.
    A failure on one target never stops the others (its message comes from the one
    exception->message path); a cancel stops before the next target. `after_each(target,
    result)` runs in the job's thread after each target; progress counts the targets done."""
    results: list[BulkResult] = []
    for index, target in enumerate(targets):
        ctx.check()
        name, uuid = identify(target)
        try:
            act(target)
        except Exception as exc:  # noqa: BLE001 - reported per target, the others still run
            result = BulkResult(name, uuid, False, describe_error(exc)[0])
        else:
            result = BulkResult(name, uuid, True)
        results.append(result)
        if after_each is not None:
            after_each(target, result)
        ctx.progress((index + 1) / len(targets), f"{index + 1} of {len(targets)} done")
    return results
