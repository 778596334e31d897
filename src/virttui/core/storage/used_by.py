"""Who uses a disk image: the one check every "delete this file" path asks first.

`used_by(path, connections)` answers with every user of `path` found on the open connections:

- domains (persistent inactive XML and live XML) whose disk, CD-ROM, floppy or LUN is `path`, or
  whose disk's backing chain contains it: libvirt's `<backingStore>` (live XML), `qemu-img info
  --backing-chain` for files on this machine, the storage pools' volume XML elsewhere;
- images built on it: volumes in the active pools of those connections whose backing store is
  `path`.

Paths are compared canonically: lexically normalised everywhere, and also through `realpath` on a
host that is this machine. A path on another host is compared literally: migration needs the same
path on shared storage, so the same path elsewhere counts as used (the safe side of a delete).

Blocking (libvirt, qemu-img): call it from a worker thread. Connections that are down are skipped;
a libvirt error on a connected host is raised (a user that cannot be read is not "nobody").
Callers with several paths scan once (`scan_usage`) and ask `StorageUsage.users_of` per path.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypeVar

import libvirt

from virttui.core.host.connection import HostConnection, NotConnected, is_local_uri

T = TypeVar("T")
Connection: TypeAlias = libvirt.virConnect | HostConnection
UserKind = Literal["domain", "image"]

QEMU_IMG_TIMEOUT = 60.0  # seconds; qemu-img info only reads headers, even of in-use images
MAX_CHAIN = 64  # a backing chain longer than this is a loop or a mistake

_GONE = (
    libvirt.VIR_ERR_NO_STORAGE_POOL,
    libvirt.VIR_ERR_NO_STORAGE_VOL,
    libvirt.VIR_ERR_OPERATION_INVALID,
)
_DEVICE_WORDS = {"disk": "disk", "cdrom": "CD-ROM", "floppy": "floppy", "lun": "LUN"}


@dataclass(frozen=True, slots=True)
class User:
    """One user of a path.

    kind "domain": `name` is the domain's name; `how` is "disk", "CD-ROM", "floppy", "LUN" or
    "backing chain" (then `via` is the domain's disk built on the path); `running` says whether
    it runs. kind "image": `name` is the path of an image (volume) whose backing file is the path;
    `how` is "backing file". `host` is the label of the connection it was found on.
    """

    kind: UserKind
    name: str
    host: str
    how: str
    running: bool = False
    via: str = ""

    def describe(self) -> str:
        """ "NAME (how, running)" for messages."""
        notes = [self.how if not self.via else f"{self.how} of {self.via}"]
        if self.kind == "domain":
            notes.append("running" if self.running else "shut off")
        return f"{self.name} ({', '.join(notes)})"


@dataclass(frozen=True, slots=True)
class _Use:
    forms: frozenset[str]
    user: User


def path_forms(path: str, local: bool) -> frozenset[str]:
    """The canonical spellings of `path`: normalised, and resolved when it is on this machine."""
    if not path:
        return frozenset()
    forms = {os.path.normpath(path)}
    if local:
        forms.add(os.path.realpath(path))
    return frozenset(forms)


@dataclass(frozen=True, slots=True)
class StorageUsage:
    """Every use of a path found by one scan of the open connections."""

    uses: tuple[_Use, ...]

    def users_of(self, path: str, *, local: bool = True) -> tuple[User, ...]:
        """Who uses `path` (a path on this machine when `local`), each user once."""
        wanted = path_forms(path, local)
        found = (u.user for u in self.uses if u.forms & wanted)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class _Exclude:
    uuid: str
    hostname: str


def _hostname(conn: libvirt.virConnect) -> str:
    try:
        return str(conn.getHostname())
    except libvirt.libvirtError:
        return str(conn.getURI())


def _exclusion(dom: libvirt.virDomain | None) -> _Exclude | None:
    """The domain is skipped on its own host, whichever URI reaches that host; a copy of it with
    the same UUID on another host (after a migration) is a different user of shared storage."""
    if dom is None:
        return None
    return _Exclude(dom.UUIDString(), _hostname(dom.connect()))


# ------------------------------------------------------------------------------------ XML
def _source_path(conn: libvirt.virConnect, el: ET.Element) -> str:
    """The path of a <disk> or <backingStore>: file/dev/dir, or a pool volume resolved."""
    source = el.find("source")
    if source is None:
        return ""
    for attr in ("file", "dev", "dir"):
        if source.get(attr):
            return source.get(attr, "")
    pool, volume = source.get("pool"), source.get("volume")
    if pool and volume:
        try:
            return str(conn.storagePoolLookupByName(pool).storageVolLookupByName(volume).path())
        except libvirt.libvirtError:
            return ""
    return ""


def _xml_backing_chain(conn: libvirt.virConnect, disk: ET.Element) -> list[str]:
    """The paths of the nested <backingStore> elements (filled in by libvirt in live XML)."""
    out: list[str] = []
    node = disk.find("backingStore")
    while node is not None and len(out) < MAX_CHAIN:
        path = _source_path(conn, node)
        if path:
            out.append(path)
        node = node.find("backingStore")
    return out


def _disk_format(disk: ET.Element) -> str:
    driver = disk.find("driver")
    return driver.get("type", "") if driver is not None else ""


# ------------------------------------------------------------------------------------ chains
def _qemu_img_info(path: str, fmt: str, *, chain: bool) -> list[dict[str, object]] | None:
    """`qemu-img info --output=json -U` (with `--backing-chain`) as a list of layers, None when
    it fails."""
    argv = ["qemu-img", "info", "--output=json", "-U"]
    if chain:
        argv.insert(2, "--backing-chain")
    if fmt:
        argv += ["-f", fmt]
    argv.append(path)
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=QEMU_IMG_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    try:
        layers = json.loads(proc.stdout)
    except ValueError:
        return None
    if isinstance(layers, dict):
        layers = [layers]
    if not isinstance(layers, list):
        return None
    return [layer for layer in layers if isinstance(layer, dict)]


def _backing_of(layer: dict[str, object]) -> tuple[str, str]:
    """The absolute backing file of one `qemu-img info` layer and its format ("" if none)."""
    name = layer.get("full-backing-filename")
    if not isinstance(name, str) or not name:
        name = layer.get("backing-filename")
        if not isinstance(name, str) or not name:
            return "", ""
        own = layer.get("filename")
        if not os.path.isabs(name) and isinstance(own, str):
            name = os.path.join(os.path.dirname(own), name)
    fmt = layer.get("backing-filename-format")
    return name, fmt if isinstance(fmt, str) else ""


def qemu_img_backing_chain(path: str, fmt: str = "") -> list[str]:
    """The backing files below `path` (nearest first), read on this machine by `qemu-img info
    --backing-chain --output=json -U`; when a layer cannot be opened (a missing base), the chain
    is followed one layer at a time as far as it goes. [] when it has none or cannot be read. A
    raw image has no backing file and is not probed."""
    if fmt == "raw" or not path or os.path.isdir(path) or not os.path.exists(path):
        return []
    layers = _qemu_img_info(path, fmt, chain=True)
    out: list[str] = []
    if layers is not None:
        for layer in layers[:MAX_CHAIN]:
            below, _fmt = _backing_of(layer)
            if below and below != path and below not in out:
                out.append(below)
        return out
    current, current_fmt = path, fmt
    while len(out) < MAX_CHAIN:
        layers = _qemu_img_info(current, current_fmt, chain=False)
        if not layers:
            break
        below, current_fmt = _backing_of(layers[0])
        if not below or below == path or below in out:
            break
        out.append(below)
        current = below
    return out


def _volume_backing(conn: libvirt.virConnect, path: str) -> str:
    """The backing path in the volume XML of the pool volume at `path`, "" if none."""
    try:
        xml = conn.storageVolLookupByPath(path).XMLDesc(0)
    except libvirt.libvirtError:
        return ""
    try:
        el = ET.fromstring(xml).find("backingStore/path")
    except ET.ParseError:
        return ""
    return (el.text or "").strip() if el is not None else ""


def _volume_backing_chain(conn: libvirt.virConnect, path: str) -> list[str]:
    out: list[str] = []
    current = path
    while len(out) < MAX_CHAIN:
        below = _volume_backing(conn, current)
        if not below or below in out or below == path:
            break
        out.append(below)
        current = below
    return out


# ------------------------------------------------------------------------------------ scanning
class _Scanner:
    def __init__(
        self, conn: libvirt.virConnect, label: str, local: bool, exclude: _Exclude | None
    ) -> None:
        self.conn = conn
        self.label = label
        self.local = local
        self.exclude = exclude
        self.hostname = _hostname(conn) if exclude is not None else ""
        self.uses: list[_Use] = []
        self._chains: dict[tuple[str, str], list[str]] = {}

    def add(self, path: str, user: User) -> None:
        forms = path_forms(path, self.local)
        if forms:
            self.uses.append(_Use(forms, user))

    def chain(self, path: str, fmt: str) -> list[str]:
        key = (path, fmt)
        if key not in self._chains:
            chain = _volume_backing_chain(self.conn, path)
            if self.local:
                chain += [p for p in qemu_img_backing_chain(path, fmt) if p not in chain]
            self._chains[key] = chain
        return self._chains[key]

    def scan(self, *, refresh_pools: bool) -> list[_Use]:
        for dom in self.conn.listAllDomains(0):
            try:
                self._scan_domain(dom)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise  # a domain whose disks cannot be read might use the path
        self._scan_pools(refresh_pools)
        return self.uses

    def _scan_domain(self, dom: libvirt.virDomain) -> None:
        ex = self.exclude
        if ex is not None and dom.UUIDString() == ex.uuid and self.hostname == ex.hostname:
            return
        name = dom.name()
        running = bool(dom.isActive())
        xmls = [dom.XMLDesc(0)]
        if running and dom.isPersistent():
            xmls.append(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        for xml in xmls:
            devices = ET.fromstring(xml).find("devices")
            for disk in devices.findall("disk") if devices is not None else ():
                top = _source_path(self.conn, disk)
                if not top:
                    continue
                device = disk.get("device", "disk")
                how = _DEVICE_WORDS.get(device, device)
                self.add(top, User("domain", name, self.label, how, running))
                below = _xml_backing_chain(self.conn, disk)
                below += [p for p in self.chain(top, _disk_format(disk)) if p not in below]
                for path in below:
                    self.add(path, User("domain", name, self.label, "backing chain", running, top))

    def _scan_pools(self, refresh: bool) -> None:
        try:
            pools = self.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                return  # a driver without storage
            raise
        for pool in pools:
            if refresh:  # files made outside libvirt (qemu-img create) appear only then
                with contextlib.suppress(libvirt.libvirtError):  # busy (a volume is built)
                    pool.refresh(0)
            try:
                volumes = pool.listAllVolumes(0)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in _GONE:
                    continue
                raise
            for vol in volumes:
                try:
                    el = ET.fromstring(vol.XMLDesc(0))
                    vol_path = vol.path()
                except libvirt.libvirtError as exc:
                    if exc.get_error_code() in _GONE:
                        continue
                    raise
                except ET.ParseError:
                    continue
                backing = el.find("backingStore/path")
                backing_path = (backing.text or "").strip() if backing is not None else ""
                if backing_path:
                    user = User("image", vol_path, self.label, "backing file")
                    self.add(backing_path, user)


def _run_on(connection: Connection, fn: Callable[[libvirt.virConnect, str, bool], T]) -> T | None:
    """`fn(conn, label, is_local)` on a raw connection or a HostConnection; None when down."""
    if isinstance(connection, HostConnection):
        host = connection
        try:
            return host.call(lambda c: fn(c, host.label, host.is_local))
        except NotConnected:
            return None
    uri = str(connection.getURI())
    return fn(connection, uri, is_local_uri(uri))


def scan_usage(
    connections: Iterable[Connection],
    *,
    exclude_domain: libvirt.virDomain | None = None,
    refresh_pools: bool = True,
) -> StorageUsage:
    """Read every domain and pool volume of the open connections once (blocking).

    `exclude_domain` is left out on its own host (the domain about to be undefined).
    `refresh_pools` re-reads the active pools first, so images made outside libvirt count too.
    """
    exclude = _exclusion(exclude_domain)
    seen: list[libvirt.virConnect] = []
    uses: list[_Use] = []

    def scan(conn: libvirt.virConnect, label: str, local: bool) -> list[_Use]:
        if any(conn is c for c in seen):  # the same connection passed twice
            return []
        seen.append(conn)
        return _Scanner(conn, label, local, exclude).scan(refresh_pools=refresh_pools)

    for connection in connections:  # a libvirt error on a connected host is raised: unknown
        uses.extend(_run_on(connection, scan) or ())  # users must never read as "no users"
    return StorageUsage(tuple(uses))


def used_by(
    path: str,
    connections: Iterable[Connection],
    *,
    exclude_domain: libvirt.virDomain | None = None,
    local: bool = True,
    refresh_pools: bool = True,
) -> tuple[User, ...]:
    """Who uses `path` (domains and images) on the open connections; () when nobody does.

    `local`: `path` names a file on this machine (resolved with realpath); `exclude_domain`: the
    domain asking, not counted as a user of its own disks on its own host."""
    usage = scan_usage(connections, exclude_domain=exclude_domain, refresh_pools=refresh_pools)
    return usage.users_of(path, local=local)


def users_text(users: Iterable[User], own_host: str = "") -> str:
    """ "used by NAME, NAME2" (each name once; "NAME on HOST" for another host)."""
    names = [
        u.name if u.host == own_host or not own_host else f"{u.name} on {u.host}" for u in users
    ]
    names = list(dict.fromkeys(names))
    return f"used by {', '.join(names)}" if names else ""
