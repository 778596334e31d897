"""Domain details: the pure XML parse plus the few cheap libvirt calls the details screen needs.

`parse_domain_xml` never touches libvirt; `collect_domain_details` and `collect_disk_usage` do, and
must run in a worker thread. A call that fails does not abort the snapshot: its value becomes None
and libvirt's message lands in `DomainDetails.problems`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import libvirt

from virttui.core.domain.model import DiskDef, DiskUsage, DomainDefinition, DomainDetails
from virttui.core.domain.states import ACTIVE_STATES, reason_name, state_name
from virttui.core.domain.xml_parse import DomainXmlError, parse_domain_xml
from virttui.core.host.libvirt_runtime import error_message

__all__ = [
    "DomainXmlError",
    "collect_disk_usage",
    "collect_domain_details",
    "collect_edit_details",
    "parse_domain_xml",
]

T = TypeVar("T")


def _try(problems: list[str], what: str, call: Callable[[], T]) -> T | None:
    try:
        return call()
    except libvirt.libvirtError as exc:
        problems.append(f"{what}: {error_message(exc)}")
        return None


def _volume_info(conn: libvirt.virConnect, disk: DiskDef) -> list[int]:
    """[type, capacity, allocation] of the disk's volume, in bytes."""
    info: list[int]
    if disk.source_pool and disk.source_volume:
        pool = conn.storagePoolLookupByName(disk.source_pool)
        info = pool.storageVolLookupByName(disk.source_volume).info()
    else:
        info = conn.storageVolLookupByPath(disk.source_path).info()
    return info


def _disk_usage(
    dom: libvirt.virDomain, disk: DiskDef, active: bool, problems: list[str]
) -> DiskUsage | None:
    if active:
        try:
            cap, alloc, phys = dom.blockInfo(disk.target, 0)
            return DiskUsage(disk.target, cap, alloc, phys, via="blockInfo")
        except libvirt.libvirtError as exc:
            problems.append(f"{disk.target} size: {error_message(exc)}")
            return None
    if disk.source_path or disk.source_volume:
        try:
            _type, cap, alloc = _volume_info(dom.connect(), disk)
            return DiskUsage(disk.target, cap, alloc, None, via="storage volume")
        except libvirt.libvirtError:
            pass  # not in any pool: ask the domain instead
    try:
        cap, alloc, phys = dom.blockInfo(disk.target, 0)
        return DiskUsage(disk.target, cap, alloc, phys, via="blockInfo")
    except libvirt.libvirtError as exc:
        problems.append(f"{disk.target} size: {error_message(exc)}")
        return None


def collect_disk_usage(
    dom: libvirt.virDomain, disks: Sequence[DiskDef], active: bool
) -> tuple[tuple[DiskUsage, ...], tuple[str, ...]]:
    """Capacity/allocation of each disk with a source: blockInfo while running, else the
    storage volume (or blockInfo where the driver reads files of inactive domains).
    Empty CD-ROM drives are skipped. Returns (usages, problems)."""
    problems: list[str] = []
    usages: list[DiskUsage] = []
    for disk in disks:
        if not disk.source_label or not disk.target:
            continue
        usage = _disk_usage(dom, disk, active, problems)
        if usage is not None:
            usages.append(usage)
    return tuple(usages), tuple(problems)


def collect_domain_details(
    dom: libvirt.virDomain, *, with_disk_usage: bool = True
) -> DomainDetails:
    """Read the XML and the cheap runtime facts of one domain (blocking; run in a worker).

    Raises libvirt.libvirtError only when the domain XML itself cannot be read (gone, no
    connection); every other failed call is recorded in `problems`.
    """
    definition: DomainDefinition = parse_domain_xml(dom.XMLDesc(0))
    problems: list[str] = []
    state_reason = _try(problems, "state", lambda: dom.state(0))
    state, reason = (state_reason[0], state_reason[1]) if state_reason else (0, 0)
    active = state in ACTIVE_STATES
    persistent = bool(_try(problems, "persistent", dom.isPersistent))
    autostart = _try(problems, "autostart", dom.autostart)
    managed = _try(problems, "managed save", lambda: dom.hasManagedSaveImage(0))
    snapshots = _try(problems, "snapshots", lambda: dom.snapshotNum(0))
    usage: tuple[DiskUsage, ...] = ()
    if with_disk_usage:
        usage, disk_problems = collect_disk_usage(dom, definition.disks, active)
        problems.extend(disk_problems)
    return DomainDetails(
        definition=definition,
        state=state,
        reason=reason,
        state_text=state_name(state),
        reason_text=reason_name(state, reason),
        active=active,
        persistent=persistent,
        autostart=bool(autostart) if autostart is not None else None,
        has_managed_save=bool(managed) if managed is not None else None,
        snapshot_count=snapshots,
        disk_usage=usage,
        problems=tuple(problems),
    )


def collect_edit_details(dom: libvirt.virDomain) -> DomainDetails:
    """Details (no disk sizes) whose device lists also hold the config-only devices of a running
    persistent domain (added for the next boot), so the Edit menu can remove or change those."""
    from virttui.core.domain.menu import merge_devices

    details = collect_domain_details(dom, with_disk_usage=False)
    if details.active and details.persistent:
        config = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        details = replace(details, definition=merge_devices(details.definition, config))
    return details
