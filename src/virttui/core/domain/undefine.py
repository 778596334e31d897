"""Undefine a domain with virt-manager's choices, deleting exactly the storage volumes ticked.

The domain is undefined first and the volumes deleted after, so a refused undefine never costs
data; each volume then gets its own result. Only paths that are disks of this domain are
accepted, nothing is deleted while the domain runs, and nothing at all happens when a path to
delete is used by another domain or image on any open connection (`core.used_by`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libvirt

from virttui.core.domain.action_result import DomainActionError, domain_name, libvirt_errors
from virttui.core.domain.model import DiskDef
from virttui.core.domain.xml_parse import parse_domain_xml
from virttui.core.host.connection import is_local_uri
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.storage.used_by import Connection, StorageUsage, User, scan_usage, users_text


@dataclass(frozen=True)
class VolumeDeletion:
    path: str
    ok: bool
    message: str = ""  # libvirt's message when not ok


@dataclass(frozen=True)
class UndefineResult:
    name: str
    volumes: tuple[VolumeDeletion, ...] = ()

    @property
    def all_ok(self) -> bool:
        return all(v.ok for v in self.volumes)


@dataclass(frozen=True)
class StorageChoice:
    """One row of the "also delete" checklist."""

    target: str
    path: str
    device: str
    default_ticked: bool  # writable, unshared, unused disks; never CD-ROMs or shared/read-only
    users: tuple[User, ...] = ()  # other domains and images using it: then it cannot be ticked
    used_text: str = ""  # "used by NAME, NAME2", or why nobody could tell
    unchecked: bool = False  # the check itself failed: not tickable either

    @property
    def tickable(self) -> bool:
        return not self.users and not self.unchecked


def _disk_path(conn: libvirt.virConnect, disk: DiskDef) -> str:
    if disk.source_path:
        return disk.source_path
    if disk.source_pool and disk.source_volume:
        try:
            pool = conn.storagePoolLookupByName(disk.source_pool)
            path: str = pool.storageVolLookupByName(disk.source_volume).path()
            return path
        except libvirt.libvirtError:
            return ""
    return ""


def _usage(dom: libvirt.virDomain, others: Iterable[Connection]) -> StorageUsage | str:
    """Every use of storage by other domains/images on the domain's host and `others` (the other
    open connections); when that cannot be read, why."""
    try:
        return scan_usage([dom.connect(), *others], exclude_domain=dom)
    except libvirt.libvirtError as exc:
        return error_message(exc)
    except (OSError, ET.ParseError) as exc:
        return str(exc)


def storage_choices(
    dom: libvirt.virDomain, others: Iterable[Connection] = ()
) -> list[StorageChoice]:
    """The local disk paths of the domain, for the undefine checklist. A path that another domain
    (on the domain's host or any of `others`) or image uses is not ticked and not tickable."""
    with libvirt_errors("list storage", domain_name(dom)):
        definition = parse_domain_xml(dom.XMLDesc(0))
        conn = dom.connect()
        uri = str(conn.getURI())
    usage = _usage(dom, others)
    rows: list[StorageChoice] = []
    for disk in definition.disks:
        path = _disk_path(conn, disk)
        if not path or any(r.path == path for r in rows):
            continue
        writable = disk.device in ("disk", "lun") and not disk.readonly and not disk.shareable
        if isinstance(usage, str):  # fail closed: unknown users are not "no users"
            note = f"cannot tell who else uses it: {usage}"
            rows.append(StorageChoice(disk.target, path, disk.device, False, (), note, True))
            continue
        users = usage.users_of(path, local=is_local_uri(uri))
        text = users_text(users, uri)
        rows.append(
            StorageChoice(disk.target, path, disk.device, writable and not users, users, text)
        )
    return rows


def _has_checkpoints(dom: libvirt.virDomain) -> bool:
    try:
        return bool(dom.listAllCheckpoints(0))
    except libvirt.libvirtError:
        return False


def _flags(dom: libvirt.virDomain, managed_save: bool, snapshots: bool, nvram: bool) -> int:
    flags = 0
    if managed_save:
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    if snapshots:
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        if _has_checkpoints(dom):  # only then: some drivers reject the flag outright
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    firmware = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).firmware
    if firmware.nvram or firmware.kind == "efi":  # libvirt wants an explicit choice then
        flags |= (
            libvirt.VIR_DOMAIN_UNDEFINE_NVRAM if nvram else libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
        )
    return flags


def _delete_volume(conn: libvirt.virConnect, path: str) -> VolumeDeletion:
    try:
        vol = conn.storageVolLookupByPath(path)
        vol.delete(0)
    except libvirt.libvirtError as exc:
        return VolumeDeletion(path, False, error_message(exc))
    return VolumeDeletion(path, True)


def undefine(
    dom: libvirt.virDomain,
    *,
    managed_save: bool = False,
    snapshots_metadata: bool = False,
    nvram: bool = False,
    delete_volumes: Sequence[str] = (),
    others: Iterable[Connection] = (),
) -> UndefineResult:
    """Remove the persistent definition (a running domain stays, as transient), optionally its
    managed save image, snapshot/checkpoint metadata and NVRAM, then delete the listed volumes.

    `others` are the other open connections: a listed path that a domain or image on them (or on
    the domain's own host) uses is refused, and then nothing happens at all."""
    name = domain_name(dom)
    with libvirt_errors("undefine", name):
        conn = dom.connect()
        active = bool(dom.isActive())
        choices = storage_choices(dom, others) if delete_volumes else []
        allowed = {c.path for c in choices}
        flags = _flags(dom, managed_save, snapshots_metadata, nvram)
    if delete_volumes and active:
        raise DomainActionError("undefine", name, "force the domain off before deleting its disks")
    strangers = [p for p in delete_volumes if p not in allowed]
    if strangers:
        raise DomainActionError(
            "undefine", name, f"not a disk of this domain: {', '.join(strangers)}"
        )
    wanted = set(delete_volumes)
    used = [c for c in choices if c.path in wanted and not c.tickable]
    if used:
        reasons = "; ".join(
            f"{c.path} is used by {', '.join(u.describe() for u in c.users)}"
            if c.users
            else f"{c.path}: {c.used_text}"
            for c in used
        )
        raise DomainActionError("undefine", name, f"{reasons}: nothing was undefined or deleted")
    with libvirt_errors("undefine", name):
        dom.undefineFlags(flags)
    results = tuple(_delete_volume(conn, path) for path in dict.fromkeys(delete_volumes))
    return UndefineResult(name, results)
