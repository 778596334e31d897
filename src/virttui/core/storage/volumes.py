"""Volumes of a storage pool through libvirt's storage API: list (with who uses each one),
create, delete, clone, resize.

Who uses a volume is the one check of `core/storage/used_by.py`: a listing scans the open
connections once (`scan_usage`) and asks it per volume; delete and resize scan again right
before they act (a listing may be minutes old). Every function blocks (RPCs, and `qemu-img info`
for local backing chains): call it from a worker, through the facade. libvirt errors are raised
as they are (the facade makes them `HostError`); our refusals raise `StorageError` /
`VolumeInUse`, naming the users.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import libvirt

from virttui.core.common.units import human_bytes
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.storage.pools import StorageError, files_here, lookup_pool
from virttui.core.storage.used_by import Connection, StorageUsage, User, scan_usage, users_text

FORMATS = ("qcow2", "raw")
PREALLOCATIONS = ("off", "metadata", "full")
CLONE_POLL_SECONDS = 0.5
LIVE_RESIZE_HINT = (
    "a running domain's disk is resized live with blockResize (through the domain, not the "
    "pool): libvirt never changes the file behind QEMU's back"
)


class VolumeInUse(StorageError):
    """The volume has users (domains, images built on it); `users` names them."""

    def __init__(self, message: str, users: tuple[User, ...]) -> None:
        super().__init__(message)
        self.users = users


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    pool: str
    name: str
    key: str
    path: str
    type: str  # file, block, dir, network, ...
    format: str  # qcow2, raw, ... ("" when libvirt does not say)
    capacity: int  # bytes (virtual size)
    allocation: int  # bytes on disk
    backing_path: str = ""
    backing_format: str = ""
    used_by: tuple[User, ...] = ()
    usage_unknown: str = ""  # why `used_by` could not be read ("" when it was)

    @property
    def in_use(self) -> bool:
        return bool(self.used_by)

    @property
    def running_users(self) -> tuple[User, ...]:
        return tuple(u for u in self.used_by if u.kind == "domain" and u.running)

    def users_text(self) -> str:
        if self.usage_unknown:
            return f"users unknown: {self.usage_unknown}"
        return users_text(self.used_by) or "not used"


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    """A new volume. `capacity` in bytes (None with a backing volume: the backing's size).
    `preallocation`: off (sparse), metadata (qcow2 only), full (every byte allocated)."""

    name: str
    format: str = "qcow2"
    capacity: int | None = None
    preallocation: str = "off"
    backing_path: str = ""
    backing_format: str = ""


# ------------------------------------------------------------------------------ reading
def _text(root: ET.Element, path: str) -> str:
    el = root.find(path)
    return (el.text or "").strip() if el is not None else ""


def _format(root: ET.Element, path: str) -> str:
    el = root.find(path)
    return el.get("type", "") if el is not None else ""


def _read(pool_name: str, vol: libvirt.virStorageVol) -> VolumeInfo:
    root = ET.fromstring(vol.XMLDesc(0))
    kind, capacity, allocation = vol.info()
    return VolumeInfo(
        pool=pool_name,
        name=str(vol.name()),
        key=str(vol.key()),
        path=str(vol.path()),
        type=root.get("type", "") or str(kind),
        format=_format(root, "target/format"),
        capacity=int(capacity),
        allocation=int(allocation),
        backing_path=_text(root, "backingStore/path"),
        backing_format=_format(root, "backingStore/format"),
    )


def _usage(conn: libvirt.virConnect, others: Iterable[Connection]) -> StorageUsage | str:
    """One scan of every domain and pool volume on `conn` and `others`; why not, when it fails."""
    try:
        return scan_usage([conn, *others], refresh_pools=False)
    except libvirt.libvirtError as exc:
        return error_message(exc)
    except (OSError, ET.ParseError) as exc:
        return str(exc)


def _with_users(info: VolumeInfo, usage: StorageUsage | str, local: bool) -> VolumeInfo:
    if isinstance(usage, str):
        return replace(info, usage_unknown=usage)
    return replace(info, used_by=usage.users_of(info.path, local=local))


def list_volumes(
    conn: libvirt.virConnect, pool_name: str, *, others: Iterable[Connection] = ()
) -> list[VolumeInfo]:
    """The pool's volumes, sorted by name, each with its users on `conn` and `others` (the
    other open connections): the pool is refreshed first (files made outside libvirt appear),
    then the connections are scanned once for the whole listing."""
    pool = lookup_pool(conn, pool_name)
    if not pool.isActive():
        return []
    try:
        pool.refresh(0)
    except libvirt.libvirtError:
        pass  # busy (a volume is being built): list what libvirt knows
    infos: list[VolumeInfo] = []
    for vol in pool.listAllVolumes(0):
        try:
            infos.append(_read(pool_name, vol))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                raise
    usage = _usage(conn, others)
    local = files_here(conn)
    return sorted((_with_users(i, usage, local) for i in infos), key=lambda v: v.name)


def lookup_volume(
    conn: libvirt.virConnect, pool_name: str, name: str
) -> tuple[libvirt.virStoragePool, libvirt.virStorageVol]:
    pool = lookup_pool(conn, pool_name)
    if not pool.isActive():
        raise StorageError(f"pool {pool_name!r} is not running: start it first")
    try:
        return pool, pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise StorageError(f"no volume named {name!r} in pool {pool_name!r}") from exc
        raise


def volume_info(
    conn: libvirt.virConnect, pool_name: str, name: str, *, others: Iterable[Connection] = ()
) -> VolumeInfo:
    """One volume with its users (a fresh scan, pools refreshed: the check before a write)."""
    _pool, vol = lookup_volume(conn, pool_name, name)
    info = _read(pool_name, vol)
    try:
        usage: StorageUsage | str = scan_usage([conn, *others], refresh_pools=True)
    except libvirt.libvirtError as exc:
        usage = error_message(exc)
    except (OSError, ET.ParseError) as exc:
        usage = str(exc)
    return _with_users(info, usage, files_here(conn))


# ------------------------------------------------------------------------------ create
def check_volume_name(name: str) -> str:
    """Spaces and non-ASCII are fine; a path separator, '.', '..' or a control character not."""
    if not name or not name.strip():
        raise StorageError("the volume needs a name")
    if "/" in name or name in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise StorageError(
            f"{name!r} cannot be a volume name (no '/', no control characters, not '.' or '..')"
        )
    return name


def _exists(pool: libvirt.virStoragePool, name: str) -> bool:
    try:
        pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return False
        raise
    return True


def volume_xml(
    name: str,
    fmt: str,
    capacity: int,
    allocation: int,
    backing_path: str = "",
    backing_format: str = "",
) -> str:
    """The <volume> XML (ElementTree escapes every value: names with '<', '&', quotes work)."""
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity)
    ET.SubElement(root, "allocation", unit="bytes").text = str(allocation)
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=fmt)
    if backing_path:
        backing = ET.SubElement(root, "backingStore")
        ET.SubElement(backing, "path").text = backing_path
        ET.SubElement(backing, "format", type=backing_format)
    return ET.tostring(root, encoding="unicode")


def _backing(conn: libvirt.virConnect, spec: VolumeSpec) -> tuple[str, str, int]:
    """(path, format, capacity) of the backing volume, which must be a volume libvirt knows."""
    try:
        vol = conn.storageVolLookupByPath(spec.backing_path)
    except libvirt.libvirtError as exc:
        raise StorageError(
            f"backing {spec.backing_path!r} is not a volume of any pool on this host "
            f"({error_message(exc)})"
        ) from exc
    root = ET.fromstring(vol.XMLDesc(0))
    actual = _format(root, "target/format")
    fmt = spec.backing_format or actual
    if not fmt:
        raise StorageError("the backing volume's format is unknown: choose it")
    if spec.backing_format and actual and spec.backing_format != actual:
        raise StorageError(
            f"the backing volume is {actual}, not {spec.backing_format}: a wrong backing "
            "format makes the guest read garbage"
        )
    return str(vol.path()), fmt, int(vol.info()[1])


def create_volume(conn: libvirt.virConnect, pool_name: str, spec: VolumeSpec) -> VolumeInfo:
    """Create a volume in the pool; nothing is created when a value is refused."""
    name = check_volume_name(spec.name)
    if spec.format not in FORMATS:
        raise StorageError(f"format {spec.format!r}: choose one of {', '.join(FORMATS)}")
    if spec.preallocation not in PREALLOCATIONS:
        raise StorageError(f"preallocation {spec.preallocation!r}: one of off, metadata, full")
    if spec.preallocation == "metadata" and spec.format != "qcow2":
        raise StorageError("metadata preallocation exists for qcow2 only")
    pool = lookup_pool(conn, pool_name)
    if not pool.isActive():
        raise StorageError(f"pool {pool_name!r} is not running: start it first")
    if _exists(pool, name):
        raise StorageError(f"pool {pool_name!r} already has a volume named {name!r}")
    backing_path, backing_format, capacity = "", "", spec.capacity
    if spec.backing_path:
        if spec.format != "qcow2":
            raise StorageError("only a qcow2 volume can have a backing volume")
        if spec.preallocation == "full":
            raise StorageError("an overlay on a backing volume cannot be fully preallocated")
        backing_path, backing_format, backing_size = _backing(conn, spec)
        if capacity is None:
            capacity = backing_size
        elif capacity < backing_size:
            raise StorageError(
                f"the overlay ({human_bytes(capacity)}) cannot be smaller than its backing "
                f"volume ({human_bytes(backing_size)})"
            )
    if capacity is None or capacity <= 0:
        raise StorageError("the volume needs a capacity above zero")
    allocation = capacity if spec.preallocation == "full" else 0
    flags = 0
    if spec.preallocation == "metadata":
        flags |= libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA
    xml = volume_xml(name, spec.format, capacity, allocation, backing_path, backing_format)
    vol = pool.createXML(xml, flags)
    return _read(pool_name, vol)


# ------------------------------------------------------------------------------ delete
def _refuse_users(what: str, name: str, users: tuple[User, ...], unknown: str) -> None:
    if unknown:
        raise StorageError(f"cannot {what} {name!r}: cannot tell who uses it ({unknown})")
    if users:
        names = "; ".join(u.describe() for u in users)
        raise VolumeInUse(f"cannot {what} {name!r}: used by {names}", users)


def delete_volume(
    conn: libvirt.virConnect, pool_name: str, name: str, *, others: Iterable[Connection] = ()
) -> None:
    """Delete the volume, unless a domain (running or not, on `conn` or any of `others`)
    uses it or an image is built on it: then VolumeInUse names them and nothing is deleted."""
    _pool, vol = lookup_volume(conn, pool_name, name)
    info = volume_info(conn, pool_name, name, others=others)
    _refuse_users("delete", name, info.used_by, info.usage_unknown)
    vol.delete(0)


# ------------------------------------------------------------------------------ clone
def clone_volume(
    conn: libvirt.virConnect,
    pool_name: str,
    name: str,
    new_name: str,
    *,
    progress: Callable[[float | None, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> VolumeInfo:
    """A full, standalone copy of the volume in the same pool (`createXMLFrom`: same format,
    same capacity; a qcow2 overlay is copied with its data flattened by libvirt's qemu-img).

    `progress(fraction, text)` is called from a second thread every CLONE_POLL_SECONDS with the
    new volume's allocation against the source's. libvirt cannot interrupt a copy: when
    `cancelled()` is true once it returns, the new volume is deleted and StorageError raised."""
    new = check_volume_name(new_name)
    pool, src = lookup_volume(conn, pool_name, name)
    if _exists(pool, new):
        raise StorageError(f"pool {pool_name!r} already has a volume named {new!r}")
    source = _read(pool_name, src)
    xml = volume_xml(new, source.format or "raw", source.capacity, 0)
    done = threading.Event()

    def watch() -> None:
        total = max(source.allocation, 1)
        while not done.wait(CLONE_POLL_SECONDS):
            try:
                _kind, _cap, alloc = pool.storageVolLookupByName(new).info()
            except libvirt.libvirtError:
                continue  # not created yet
            if progress is not None and not done.is_set():
                fraction = min(1.0, alloc / total)
                progress(fraction, f"{human_bytes(alloc)} of {human_bytes(total)} copied")

    watcher = threading.Thread(target=watch, name=f"clone-volume {name}", daemon=True)
    if progress is not None:
        progress(None, f"copying {name} to {new}...")
        watcher.start()
    try:
        vol = pool.createXMLFrom(xml, src, 0)
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join(timeout=10.0)  # its last report must not follow ours
    if cancelled is not None and cancelled():
        try:
            vol.delete(0)
        except libvirt.libvirtError as exc:
            raise StorageError(
                f"cancelled, but the copy {new!r} could not be removed: {error_message(exc)}"
            ) from exc
        raise StorageError(f"cancelled: the copy {new!r} was removed")
    if progress is not None:
        progress(1.0, "copied")
    return _read(pool_name, vol)


# ------------------------------------------------------------------------------ resize
def resize_volume(
    conn: libvirt.virConnect,
    pool_name: str,
    name: str,
    capacity: int,
    *,
    shrink: bool = False,
    others: Iterable[Connection] = (),
) -> VolumeInfo:
    """Set the volume's capacity. Growing is refused while a running domain uses it (the live
    route is blockResize); shrinking needs `shrink` and is refused while any domain uses it or an
    image is built on it (the data past the new end is lost)."""
    if capacity <= 0:
        raise StorageError("the new size must be above zero")
    _pool, vol = lookup_volume(conn, pool_name, name)
    info = volume_info(conn, pool_name, name, others=others)
    if capacity == info.capacity:
        raise StorageError(f"{name!r} is already {human_bytes(capacity)} ({capacity} bytes)")
    smaller = capacity < info.capacity
    if smaller and not shrink:
        raise StorageError(
            f"{human_bytes(capacity)} is smaller than {name!r} ({human_bytes(info.capacity)}): "
            "shrinking loses the data past the new end; ask for it explicitly"
        )
    if info.usage_unknown:
        raise StorageError(
            f"cannot resize {name!r}: cannot tell who uses it ({info.usage_unknown})"
        )
    running = info.running_users
    if running:
        raise VolumeInUse(
            f"cannot resize {name!r}: {'; '.join(u.describe() for u in running)} uses it. "
            f"{LIVE_RESIZE_HINT[0].upper()}{LIVE_RESIZE_HINT[1:]}.",
            running,
        )
    if smaller:
        _refuse_users("shrink", name, info.used_by, "")
    flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if smaller else 0
    vol.resize(capacity, flags)
    return _read(pool_name, vol)
