"""Storage pools through libvirt's storage API: list, start, stop, refresh, autostart, create a
dir pool in one step, define any other type from XML, delete and undefine.

Every function takes a `virConnect` and blocks (RPCs): call it from a worker, through the
facade. libvirt errors are raised as they are (the facade turns them into `HostError`); our own
refusals raise `StorageError` with a sentence the admin can act on.

Deleting a pool is two separate things in libvirt, and the screen offers them separately:
`virStoragePoolDelete` removes the pool's *storage* (for a dir pool: the directory, and only
when it is empty: libvirt calls rmdir, it never deletes volumes), `virStoragePoolUndefine`
forgets the pool's definition and leaves every file where it is.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt

from virttui.core.host.connection import is_local_uri
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.jobs import JobError

# virStoragePoolState, in the words the screen shows.
POOL_STATES = {
    libvirt.VIR_STORAGE_POOL_INACTIVE: "inactive",
    libvirt.VIR_STORAGE_POOL_BUILDING: "building",
    libvirt.VIR_STORAGE_POOL_RUNNING: "running",
    libvirt.VIR_STORAGE_POOL_DEGRADED: "degraded",
    libvirt.VIR_STORAGE_POOL_INACCESSIBLE: "inaccessible",
}


class StorageError(JobError):
    """A storage action refused or failed for a reason we can name (not libvirt's error); its
    text is shown as it is."""


@dataclass(frozen=True, slots=True)
class PoolInfo:
    name: str
    uuid: str
    type: str  # dir, fs, netfs, logical, iscsi, ...
    state: str  # a word of POOL_STATES
    autostart: bool
    persistent: bool
    target_path: str
    capacity: int  # bytes; 0 while inactive
    allocation: int
    available: int

    @property
    def active(self) -> bool:
        return self.state in ("running", "degraded")

    @property
    def used_fraction(self) -> float | None:
        """allocation / capacity, None when the pool reports no capacity (inactive)."""
        if self.capacity <= 0:
            return None
        return min(1.0, max(0.0, self.allocation / self.capacity))


def files_here(conn: libvirt.virConnect) -> bool:
    """The host's files are this machine's files (not a remote host, not the test driver's
    imaginary ones): existence checks and realpath may look at them directly."""
    uri = str(conn.getURI())
    return is_local_uri(uri) and not uri.startswith("test:")


def _text(root: ET.Element, path: str) -> str:
    el = root.find(path)
    return (el.text or "").strip() if el is not None else ""


def pool_info(pool: libvirt.virStoragePool) -> PoolInfo:
    """One pool's facts (two RPCs: info and XML)."""
    state, capacity, allocation, available = pool.info()
    root = ET.fromstring(pool.XMLDesc(0))
    try:
        autostart = bool(pool.autostart())
    except libvirt.libvirtError:
        autostart = False
    return PoolInfo(
        name=str(pool.name()),
        uuid=str(pool.UUIDString()),
        type=root.get("type", ""),
        state=POOL_STATES.get(state, f"state {state}"),
        autostart=autostart,
        persistent=bool(pool.isPersistent()),
        target_path=_text(root, "target/path"),
        capacity=int(capacity),
        allocation=int(allocation),
        available=int(available),
    )


def list_pools(conn: libvirt.virConnect) -> list[PoolInfo]:
    """Every pool (active or not), sorted by name. A pool that vanishes meanwhile is skipped."""
    out: list[PoolInfo] = []
    for pool in conn.listAllStoragePools(0):
        try:
            out.append(pool_info(pool))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
                raise
    return sorted(out, key=lambda p: p.name)


def lookup_pool(conn: libvirt.virConnect, name: str) -> libvirt.virStoragePool:
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise StorageError(f"no storage pool named {name!r} on this host") from exc
        raise


def start_pool(conn: libvirt.virConnect, name: str) -> PoolInfo:
    pool = lookup_pool(conn, name)
    if not pool.isActive():
        pool.create(0)
    return pool_info(pool)


def stop_pool(conn: libvirt.virConnect, name: str) -> PoolInfo | None:
    """Stop (libvirt: destroy) the pool; its files stay. None when it was transient (gone)."""
    pool = lookup_pool(conn, name)
    persistent = bool(pool.isPersistent())
    if pool.isActive():
        pool.destroy()
    return pool_info(pool) if persistent else None


def refresh_pool(conn: libvirt.virConnect, name: str) -> PoolInfo:
    """Re-read the pool's volumes (files made outside libvirt appear) and sizes."""
    pool = lookup_pool(conn, name)
    if not pool.isActive():
        raise StorageError(f"pool {name!r} is not running: start it to read its volumes")
    pool.refresh(0)
    return pool_info(pool)


def set_pool_autostart(conn: libvirt.virConnect, name: str, enabled: bool) -> PoolInfo:
    pool = lookup_pool(conn, name)
    if not pool.isPersistent():
        raise StorageError(f"pool {name!r} is transient: only a defined pool can autostart")
    pool.setAutostart(1 if enabled else 0)
    return pool_info(pool)


# ------------------------------------------------------------------------------ create
def check_pool_name(name: str) -> str:
    clean = name.strip()
    if not clean:
        raise StorageError("the pool needs a name")
    if "/" in clean or clean in (".", "..") or "\x00" in clean:
        raise StorageError(f"{name!r} cannot be a pool name (no '/', not '.' or '..')")
    return clean


def pool_targets(conn: libvirt.virConnect) -> dict[str, str]:
    """target path (normalised) -> pool name, for every pool with a target path."""
    out: dict[str, str] = {}
    for pool in conn.listAllStoragePools(0):
        try:
            path = _text(ET.fromstring(pool.XMLDesc(0)), "target/path")
            name = str(pool.name())
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                continue
            raise
        if path:
            out[os.path.normpath(path)] = name
    return out


def _same_dir_pool(conn: libvirt.virConnect, directory: str, local: bool) -> str:
    """The name of a pool whose target is `directory` (resolved on this machine), else ""."""
    targets = pool_targets(conn)
    wanted = {os.path.normpath(directory)}
    if local:
        wanted.add(os.path.realpath(directory))
        targets.update({os.path.realpath(p): n for p, n in list(targets.items())})
    for path in wanted:
        if path in targets:
            return targets[path]
    return ""


def dir_pool_xml(name: str, directory: str) -> str:
    root = ET.Element("pool", type="dir")
    ET.SubElement(root, "name").text = name
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "path").text = directory
    return ET.tostring(root, encoding="unicode")


def _exists(conn: libvirt.virConnect, name: str) -> bool:
    try:
        conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return False
        raise
    return True


def create_dir_pool(
    conn: libvirt.virConnect,
    name: str,
    directory: str,
    *,
    create_dir: bool = False,
    autostart: bool = True,
) -> PoolInfo:
    """Make `directory` a running dir pool `name` in one step: define, build (only with
    `create_dir`: libvirt then makes the directory when it is missing; an existing directory's
    owner and mode are left as they are), start, autostart. A directory that is already some
    pool's target is refused, naming that pool. If a step fails, the definition is removed again
    (the directory, if we made it, stays: it may hold something by then)."""
    clean = check_pool_name(name)
    path = directory.strip()
    if not path or not os.path.isabs(path):
        raise StorageError(f"the directory must be an absolute path, not {directory!r}")
    path = os.path.normpath(path)
    local = files_here(conn)
    if local and os.path.exists(path) and not os.path.isdir(path):
        raise StorageError(f"{path} exists and is not a directory")
    if local and not create_dir and not os.path.isdir(path):
        raise StorageError(f"{path} does not exist: tick 'create the directory' to make it")
    if _exists(conn, clean):
        raise StorageError(f"a storage pool named {clean!r} exists already")
    owner = _same_dir_pool(conn, path, local)
    if owner:
        raise StorageError(f"{path} is already the target of pool {owner!r}")
    pool = conn.storagePoolDefineXML(dir_pool_xml(clean, path), 0)
    try:
        if create_dir:
            pool.build(0)
        pool.create(0)
        if autostart:
            pool.setAutostart(1)
    except libvirt.libvirtError:
        try:
            if pool.isActive():
                pool.destroy()
            pool.undefine()
        except libvirt.libvirtError:
            pass  # the first error is the one to report
        raise
    return pool_info(pool)


def define_pool_xml(
    conn: libvirt.virConnect, xml: str, *, build: bool = False, start: bool = True
) -> PoolInfo:
    """Define a pool of any type from the admin's XML; optionally build and start it. A pool
    whose target path is another pool's is refused, naming it. A failed build or start leaves
    the definition (the admin may fix the source and start it) and says so."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise StorageError(f"the pool XML does not parse: {exc}") from exc
    if root.tag != "pool":
        raise StorageError(f"the XML must be a <pool> element, not <{root.tag}>")
    name = check_pool_name(_text(root, "name"))
    if _exists(conn, name):
        raise StorageError(f"a storage pool named {name!r} exists already")
    target = _text(root, "target/path")
    if target and root.get("type") in ("dir", "fs", "netfs"):
        owner = _same_dir_pool(conn, target, files_here(conn))
        if owner:
            raise StorageError(f"{target} is already the target of pool {owner!r}")
    pool = conn.storagePoolDefineXML(xml, 0)
    try:
        if build:
            pool.build(0)
        if start:
            pool.create(0)
    except libvirt.libvirtError as exc:
        raise StorageError(
            f"pool {name!r} is defined but did not {'build' if build else 'start'}: "
            f"{error_message(exc)}"
        ) from exc
    return pool_info(pool)


# ------------------------------------------------------------------------------ remove
def remove_pool(conn: libvirt.virConnect, name: str, *, delete_storage: bool = False) -> str:
    """Stop the pool, optionally delete its storage (a dir pool's directory: only when empty,
    libvirt never deletes the volumes in it), and undefine it. Returns what was done."""
    pool = lookup_pool(conn, name)
    done: list[str] = []
    if pool.isActive():
        volumes = len(pool.listAllVolumes(0)) if delete_storage else 0
        if volumes:
            raise StorageError(
                f"pool {name!r} still holds {volumes} volume(s): libvirt removes a pool's "
                "directory only when it is empty; delete the volumes first, or keep the "
                "directory and only undefine the pool"
            )
        pool.destroy()
        done.append("stopped")
    if delete_storage:
        try:
            pool.delete(0)
        except libvirt.libvirtError as exc:
            raise StorageError(
                f"pool {name!r} is stopped but its storage was not deleted "
                f"(libvirt removes only an empty directory): {error_message(exc)}"
            ) from exc
        done.append("storage deleted")
    if pool.isPersistent():
        pool.undefine()
        done.append("undefined")
    return ", ".join(done) or "nothing to do"
