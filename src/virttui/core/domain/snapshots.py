"""libvirt snapshots of one domain: the tree, and create / revert / delete / XML with what this
libvirt can do decided *before* asking it, so a refusal explains itself and names the route that
works.

What libvirt can do depends on its version (`Capabilities`, from the daemon's version):

- an external snapshot can be reverted by libvirt only from 9.9 (`<externalSnapshot/>` in the
  domain capabilities); Debian 12 ships 9.0. There, a shut-off domain can be reverted by hand
  (`plan_manual_revert` / `manual_revert`): each disk gets a *new* overlay on the image the
  snapshot froze (its recorded source), the domain is pointed at it, and the overlays written
  since are kept and listed (never deleted here: they may be the only copy of that data);
- deleting an external snapshot on 9.0 works only for a leaf whose overlay the domain still runs
  on (libvirt then commits the overlay into the image below and removes the overlay); the
  CHILDREN flags are refused for external snapshots; a snapshot with several children cannot be
  deleted alone. Where libvirt cannot delete, "record only" (METADATA_ONLY) keeps every file;
- internal snapshots of UEFI (pflash) domains need libvirt 10.10; internal snapshots need qcow2
  on every writable disk; external snapshots only for file-backed disks;
- quiesce needs a running domain with a connected guest agent, and a disk-only snapshot.

Deleting or reverting never writes into or removes an image that another domain, image or
snapshot still uses (`core/storage/used_by.py`, plus this domain's own snapshot records): the
failure modes of virt-manager #811 (delete after revert removed the base image) and #810.

Blocking libvirt calls (and qemu-img): run them off the UI thread, through the facade.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libvirt

from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobError, Severity
from virttui.core.storage.used_by import (
    Connection,
    User,
    path_forms,
    qemu_img_backing_chain,
    scan_usage,
    users_text,
)

EXTERNAL_REVERT_VERSION = 9_009_000  # <externalSnapshot/>: libvirt reverts external snapshots
PFLASH_INTERNAL_VERSION = 10_010_000  # internal snapshots of UEFI (pflash) domains
AGENT_CHANNEL = "org.qemu.guest_agent.0"
# File names made from a snapshot name: anything else becomes "_" (the snapshot keeps its name).
_FILE_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Kind = Literal["internal", "external"]
DiskKind = Literal["internal", "external", "no", "manual", ""]


def version_text(version: int) -> str:
    major, rest = divmod(version, 1_000_000)
    minor, micro = divmod(rest, 1_000)
    return f"{major}.{minor}.{micro}"


class SnapshotRefused(JobError):
    """What was asked cannot be done safely (or at all) with this libvirt; `reason` says why
    and `route` what works instead."""

    severity = Severity.WARNING

    def __init__(self, reason: str, route: str = "") -> None:
        self.reason = reason
        self.route = route
        super().__init__(f"{reason}\n{route}" if route else reason)


@dataclass(frozen=True)
class Refusal:
    reason: str
    route: str = ""

    def text(self) -> str:
        return f"{self.reason}\n{self.route}" if self.route else self.reason

    def error(self) -> SnapshotRefused:
        return SnapshotRefused(self.reason, self.route)


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True)
class DomainDisk:
    """A disk of the domain as it is defined now (inactive XML for a persistent domain)."""

    target: str
    device: str  # disk, cdrom, floppy, lun
    type: str  # file, block, network, volume, dir
    source: str  # the path (file/dev), "" for network or empty drives
    format: str  # qcow2, raw, ...
    readonly: bool

    @property
    def writable_disk(self) -> bool:
        return self.device in ("disk", "lun") and not self.readonly

    @property
    def file_backed(self) -> bool:
        return self.type == "file" and bool(self.source)


@dataclass(frozen=True)
class SnapshotDisk:
    """One disk of a snapshot."""

    target: str
    kind: DiskKind
    overlay: str = ""  # external: the file the snapshot created (written after the snapshot)
    base: str = ""  # the disk's source when the snapshot was taken: the frozen image
    base_format: str = ""


@dataclass(frozen=True)
class Snapshot:
    name: str
    parent: str | None
    children: tuple[str, ...]
    created: int  # seconds since the epoch
    state: str  # the domain's state then: running, shutoff, disk-snapshot, paused...
    current: bool
    description: str
    memory: str  # internal, external, no
    disks: tuple[SnapshotDisk, ...]
    depth: int = 0  # in the tree: 0 for a root

    @property
    def external(self) -> bool:
        return self.memory == "external" or any(d.kind == "external" for d in self.disks)

    @property
    def internal(self) -> bool:
        return self.memory == "internal" or any(d.kind == "internal" for d in self.disks)

    @property
    def kind(self) -> str:
        if self.external and self.internal:
            return "mixed"
        return "external" if self.external else "internal"

    @property
    def has_memory(self) -> bool:
        return self.memory in ("internal", "external")

    def kinds_text(self) -> str:
        """ "vda internal, vdb external" (which disk is what)."""
        return ", ".join(f"{d.target} {d.kind or '?'}" for d in self.disks) or "no disks"

    def created_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created))


@dataclass(frozen=True)
class Agent:
    """Can a snapshot be quiesced: does a guest agent answer?"""

    answers: bool
    reason: str = ""  # why not


@dataclass(frozen=True)
class Capabilities:
    """What this libvirt can do with this domain's snapshots."""

    version: int
    pflash: bool = False  # UEFI firmware in flash (the domain's <loader type='pflash'>)

    @property
    def external_revert(self) -> bool:
        return self.version >= EXTERNAL_REVERT_VERSION

    @property
    def internal_allowed(self) -> bool:
        return not self.pflash or self.version >= PFLASH_INTERNAL_VERSION

    def describe(self) -> list[str]:
        v = version_text(self.version)
        lines = [f"libvirt {v}"]
        if self.external_revert:
            lines.append("external snapshots: create, revert, delete")
        else:
            lines.append(
                "external snapshots: create and delete; revert by libvirt needs "
                f"{version_text(EXTERNAL_REVERT_VERSION)} (manual revert of a shut-off domain here)"
            )
        if self.pflash:
            lines.append(
                "internal snapshots of this UEFI (pflash) domain: "
                + ("yes" if self.internal_allowed else "need libvirt 10.10; use external")
            )
        return lines


@dataclass(frozen=True)
class SnapshotTree:
    domain: str  # the domain's name
    uuid: str
    active: bool
    persistent: bool
    caps: Capabilities
    agent: Agent
    disks: tuple[DomainDisk, ...]
    snapshots: tuple[Snapshot, ...]  # the tree in pre-order (parents before children)

    def get(self, name: str) -> Snapshot:
        for snap in self.snapshots:
            if snap.name == name:
                return snap
        raise SnapshotRefused(f"{self.domain} has no snapshot {name!r} (any more)")

    @property
    def current(self) -> Snapshot | None:
        return next((s for s in self.snapshots if s.current), None)

    def disk(self, target: str) -> DomainDisk | None:
        return next((d for d in self.disks if d.target == target), None)

    def descendants(self, name: str) -> list[Snapshot]:
        out: list[Snapshot] = []
        todo = list(self.get(name).children)
        while todo:
            snap = self.get(todo.pop(0))
            out.append(snap)
            todo.extend(snap.children)
        return out


# ------------------------------------------------------------------------------------ parsing
def _text(el: ET.Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    return (found.text or "").strip() if found is not None else ""


def _source(disk: ET.Element) -> str:
    src = disk.find("source")
    if src is None:
        return ""
    for attr in ("file", "dev", "dir", "volume", "name"):
        if src.get(attr):
            return src.get(attr, "")
    return ""


def parse_domain_disks(domain: ET.Element | None) -> tuple[DomainDisk, ...]:
    if domain is None:
        return ()
    out = []
    for disk in domain.findall("devices/disk"):
        target = disk.find("target")
        driver = disk.find("driver")
        out.append(
            DomainDisk(
                target=target.get("dev", "") if target is not None else "",
                device=disk.get("device", "disk"),
                type=disk.get("type", "file"),
                source=_source(disk),
                format=driver.get("type", "") if driver is not None else "",
                readonly=disk.find("readonly") is not None,
            )
        )
    return tuple(out)


def parse_snapshot_xml(xml: str, *, current: bool = False) -> Snapshot:
    """One snapshot from its XML (children and depth are filled in by `build_tree`)."""
    root = ET.fromstring(xml)
    recorded = {d.target: d for d in parse_domain_disks(root.find("domain"))}
    disks = []
    for disk in root.findall("disks/disk"):
        target = disk.get("name", "")
        rec = recorded.get(target)
        kind = disk.get("snapshot", "")
        overlay = _source(disk) if kind == "external" else ""
        disks.append(
            SnapshotDisk(
                target=target,
                kind=kind if kind in ("internal", "external", "no", "manual") else "",  # type: ignore[arg-type]  # checked against the Literal's values
                overlay=overlay,
                base=rec.source if rec is not None else "",
                base_format=rec.format if rec is not None else "",
            )
        )
    memory = root.find("memory")
    created = _text(root, "creationTime")
    return Snapshot(
        name=_text(root, "name"),
        parent=_text(root, "parent/name") or None,
        children=(),
        created=int(created) if created.isdigit() else 0,
        state=_text(root, "state"),
        current=current,
        description=_text(root, "description"),
        memory=memory.get("snapshot", "no") if memory is not None else "no",
        disks=tuple(disks),
    )


def build_tree(flat: Iterable[Snapshot]) -> tuple[Snapshot, ...]:
    """Parents before children (roots and siblings by creation time), with children and depth."""
    snaps = {s.name: s for s in flat}
    kids: dict[str | None, list[Snapshot]] = {}
    for s in snaps.values():
        parent = s.parent if s.parent in snaps else None
        kids.setdefault(parent, []).append(s)
    for group in kids.values():
        group.sort(key=lambda s: (s.created, s.name))
    out: list[Snapshot] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in kids.get(parent, []):
            children = tuple(c.name for c in kids.get(s.name, []))
            out.append(_replace(s, children=children, depth=depth))
            if depth < 500:
                walk(s.name, depth + 1)

    walk(None, 0)
    return tuple(out)


def _replace(s: Snapshot, **kw: object) -> Snapshot:
    from dataclasses import replace

    return replace(s, **kw)  # type: ignore[arg-type]  # dataclasses.replace's kwargs are untyped here


def _pflash(domain: ET.Element) -> bool:
    loader = domain.find("os/loader")
    if loader is not None and loader.get("type") == "pflash":
        return True
    os_el = domain.find("os")
    return os_el is not None and os_el.get("firmware") == "efi" and loader is None


def agent_state(domain: ET.Element, active: bool) -> Agent:
    """From the live XML: libvirt marks the agent channel `state='connected'` while the guest
    agent has it open."""
    for channel in domain.findall("devices/channel"):
        target = channel.find("target")
        if target is None or target.get("name") != AGENT_CHANNEL:
            continue
        if not active:
            return Agent(False, "the domain is not running (quiesce asks the guest agent)")
        if target.get("state") == "connected":
            return Agent(True)
        return Agent(False, "the guest agent does not answer (channel disconnected)")
    return Agent(False, "no guest agent channel in the domain")


def _domain_xml(dom: libvirt.virDomain) -> str:
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if dom.isPersistent() else 0
    return str(dom.XMLDesc(flags))


def read_tree(dom: libvirt.virDomain) -> SnapshotTree:
    """Every snapshot of the domain, the domain's disks and what this libvirt can do."""
    active = bool(dom.isActive())
    live = ET.fromstring(dom.XMLDesc(0))
    defined = ET.fromstring(_domain_xml(dom))
    flat = []
    for snap in dom.listAllSnapshots(0):
        try:
            xml = snap.getXMLDesc(0)
            current = bool(snap.isCurrent(0))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                continue  # deleted meanwhile
            raise
        flat.append(parse_snapshot_xml(xml, current=current))
    caps = Capabilities(int(dom.connect().getLibVersion()), _pflash(defined))
    return SnapshotTree(
        domain=str(dom.name()),
        uuid=str(dom.UUIDString()),
        active=active,
        persistent=bool(dom.isPersistent()),
        caps=caps,
        agent=agent_state(live, active),
        disks=parse_domain_disks(defined),
        snapshots=build_tree(flat),
    )


def snapshot_xml(dom: libvirt.virDomain, name: str) -> str:
    return str(dom.snapshotLookupByName(name, 0).getXMLDesc(0))


# ------------------------------------------------------------------------------------ create
@dataclass(frozen=True)
class CreateRequest:
    name: str
    description: str = ""
    kind: Kind = "internal"
    memory: bool = True  # internal on a running domain: with its memory (a full system state)
    quiesce: bool = False
    overlays: dict[str, str] = field(default_factory=dict)  # target -> path ("" or absent: auto)


def snapshot_disks(tree: SnapshotTree) -> list[DomainDisk]:
    """The disks a snapshot covers: writable disks with a source (CD-ROMs and read-only disks
    are left out)."""
    return [d for d in tree.disks if d.writable_disk and d.source]


def overlay_name(disk: DomainDisk, snapshot: str, taken: Iterable[str] = ()) -> str:
    """An overlay next to the disk: <dir>/<disk stem>.<snapshot>.qcow2, numbered when taken."""
    folder, base = os.path.split(disk.source)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    safe = _FILE_SAFE.sub("_", snapshot).strip("._") or "snapshot"
    used = set(taken)
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        candidate = os.path.join(folder, f"{stem}.{safe}{suffix}.qcow2")
        if candidate not in used and candidate != disk.source:
            return candidate
    raise SnapshotRefused(f"no free overlay name next to {disk.source}")


def internal_refusal(tree: SnapshotTree) -> Refusal | None:
    if not tree.caps.internal_allowed:
        return Refusal(
            f"internal snapshots of a UEFI (pflash) domain need libvirt "
            f"{version_text(PFLASH_INTERNAL_VERSION)}; this host has "
            f"{version_text(tree.caps.version)}",
            "Take an external (disk-only) snapshot instead.",
        )
    for d in snapshot_disks(tree):
        if d.format and d.format != "qcow2":
            return Refusal(
                f"internal snapshots are stored inside qcow2 images; disk {d.target} is {d.format}",
                "Take an external snapshot (a qcow2 overlay on top of the disk).",
            )
    return None


def external_refusal(tree: SnapshotTree) -> Refusal | None:
    disks = snapshot_disks(tree)
    if not disks:
        return Refusal("the domain has no writable disk to snapshot")
    for d in disks:
        if not d.file_backed:
            return Refusal(
                f"external snapshots here cover file-backed disks only; disk {d.target} is "
                f"a {d.type} disk",
                "Take an internal snapshot if its format allows, or snapshot the storage itself.",
            )
    return None


def create_refusal(tree: SnapshotTree, request: CreateRequest) -> Refusal | None:
    """Why `request` cannot be done on this domain with this libvirt (None: it can)."""
    if not request.name.strip():
        return Refusal("a snapshot needs a name")
    if "/" in request.name:
        return Refusal("a snapshot name cannot contain '/'")
    if _CONTROL.search(request.name) or _CONTROL.search(request.description.replace("\n", "")):
        return Refusal("names and descriptions cannot hold control characters (XML has none)")
    if any(s.name == request.name for s in tree.snapshots):
        return Refusal(f"{tree.domain} already has a snapshot named {request.name!r}")
    if request.kind == "internal":
        refusal = internal_refusal(tree)
        if refusal is not None:
            return refusal
        if tree.active and not request.memory:
            return Refusal(
                "libvirt takes internal snapshots of a running domain with its memory",
                "Keep 'memory' on, or take an external (disk-only) snapshot.",
            )
        if request.quiesce:
            return Refusal(
                "quiesce applies to disk-only snapshots", "Choose external, or leave quiesce off."
            )
        return None
    refusal = external_refusal(tree)
    if refusal is not None:
        return refusal
    if request.quiesce and not tree.agent.answers:
        return Refusal(f"quiesce needs the guest agent: {tree.agent.reason}", "Leave quiesce off.")
    return None


def create_xml(tree: SnapshotTree, request: CreateRequest, *, exists: Callable[[str], bool]) -> str:
    """The <domainsnapshot> of `request` (names and paths as data, never spliced into text)."""
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = request.name
    if request.description:
        ET.SubElement(root, "description").text = request.description
    if request.kind == "external":
        ET.SubElement(root, "memory", snapshot="no")
        disks = ET.SubElement(root, "disks")
        chosen: list[str] = []
        for d in tree.disks:
            if not d.target:
                continue
            if d not in snapshot_disks(tree):
                ET.SubElement(disks, "disk", name=d.target, snapshot="no")
                continue
            path = request.overlays.get(d.target, "").strip()
            if not path:
                taken = [*chosen, *(p for p in _all_overlays(tree))]
                path = overlay_name(d, request.name, taken)
                while exists(path):
                    taken.append(path)
                    path = overlay_name(d, request.name, taken)
            elif not path.startswith("/"):
                raise SnapshotRefused(f"overlay for {d.target}: not an absolute path: {path!r}")
            elif exists(path):
                raise SnapshotRefused(
                    f"overlay for {d.target}: {path} exists already; it is never overwritten",
                    "Choose another file name, or leave it empty for a free one.",
                )
            if path in chosen:
                raise SnapshotRefused(f"two disks would share the overlay {path}")
            chosen.append(path)
            el = ET.SubElement(disks, "disk", name=d.target, snapshot="external", type="file")
            ET.SubElement(el, "driver", type="qcow2")
            ET.SubElement(el, "source", file=path)
    elif not (request.memory and tree.active):
        ET.SubElement(root, "memory", snapshot="no")
    return ET.tostring(root, encoding="unicode")


def _all_overlays(tree: SnapshotTree) -> list[str]:
    return [d.overlay for s in tree.snapshots for d in s.disks if d.overlay]


def create_flags(tree: SnapshotTree, request: CreateRequest) -> int:
    flags = 0
    if request.kind == "external":
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
        if tree.active:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
        if request.quiesce:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE
    elif tree.active and not request.memory:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
    return flags


def _local_exists(path: str) -> bool:
    return os.path.lexists(path)


def path_exists(conn: libvirt.virConnect, path: str) -> bool:
    """Does `path` exist on the host: the file on this machine, else a pool volume there."""
    if is_local_uri(str(conn.getURI())):
        return _local_exists(path)
    try:
        conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return False
    return True


def create(dom: libvirt.virDomain, request: CreateRequest) -> Snapshot:
    """Take the snapshot (refused first where this libvirt or this domain cannot)."""
    tree = read_tree(dom)
    refusal = create_refusal(tree, request)
    if refusal is not None:
        raise refusal.error()
    conn = dom.connect()
    xml = create_xml(tree, request, exists=lambda p: path_exists(conn, p))
    snap = dom.snapshotCreateXML(xml, create_flags(tree, request))
    return parse_snapshot_xml(snap.getXMLDesc(0), current=True)


# ------------------------------------------------------------------------------------ revert
def revert_refusal(tree: SnapshotTree, name: str) -> Refusal | None:
    snap = tree.get(name)
    if snap.external and not tree.caps.external_revert:
        route = (
            "Manual revert (m): new overlays on the snapshot's images, the newer ones kept."
            if not tree.active and tree.persistent
            else "Shut the domain off, then use the manual revert: new overlays on the "
            "snapshot's images, the newer ones kept."
        )
        return Refusal(
            f"libvirt {version_text(tree.caps.version)} cannot revert an external snapshot "
            f"(that needs {version_text(EXTERNAL_REVERT_VERSION)}, <externalSnapshot/>)",
            route,
        )
    if snap.internal and not tree.caps.internal_allowed:
        return internal_refusal(tree)
    return None


def revert(dom: libvirt.virDomain, name: str, *, others: Sequence[Connection] = ()) -> None:
    """libvirt's revert, after `revert_refusal`; an internal revert rewrites the disks' images
    in place, so it is refused while another domain or image still needs one of them."""
    tree = read_tree(dom)
    refusal = revert_refusal(tree, name)
    if refusal is not None:
        raise refusal.error()
    snap = tree.get(name)
    for disk in snapshot_disks(tree):
        if not any(d.target == disk.target and d.kind == "internal" for d in snap.disks):
            continue
        use = image_use(dom, tree, disk.source, others=others)
        if use.used:
            raise SnapshotRefused(
                f"reverting rewrites {disk.source} ({disk.target}), which is still needed: "
                f"{use.text()}",
                "Stop using it there first (or copy the image and revert the copy).",
            )
    dom.revertToSnapshot(dom.snapshotLookupByName(name, 0), 0)


# ------------------------------------------------------------------------------------ users
@dataclass(frozen=True)
class ImageUse:
    """Who else needs an image: users found on the open connections and this domain's other
    snapshot records (`detail` names them)."""

    users: tuple[User, ...] = ()
    records: tuple[str, ...] = ()  # "overlay X of snapshot S" and the like

    @property
    def used(self) -> bool:
        return bool(self.users or self.records)

    def text(self, own_host: str = "") -> str:
        parts = [users_text(self.users, own_host)] if self.users else []
        parts += self.records
        return "; ".join(p for p in parts if p)


def _chain(conn: libvirt.virConnect, path: str) -> list[str]:
    """The backing files below `path` (this machine: qemu-img; a remote host: the pool's XML)."""
    if is_local_uri(str(conn.getURI())):
        return qemu_img_backing_chain(path)
    out: list[str] = []
    current = path
    while len(out) < 64:
        try:
            xml = conn.storageVolLookupByPath(current).XMLDesc(0)
            below = _text(ET.fromstring(xml), "backingStore/path")
        except (libvirt.libvirtError, ET.ParseError):
            break
        if not below or below in out:
            break
        out.append(below)
        current = below
    return out


def image_use(
    dom: libvirt.virDomain,
    tree: SnapshotTree,
    path: str,
    *,
    allowed: Iterable[str] = (),
    others: Sequence[Connection] = (),
) -> ImageUse:
    """Who needs `path` besides this domain's current disks: other domains and images on the
    open connections (`used_by`), and files of this domain's snapshot records (overlays and
    frozen images) built on it, other than the files in `allowed`."""
    conn = dom.connect()
    local = is_local_uri(str(conn.getURI()))
    usage = scan_usage([conn, *others], exclude_domain=dom)
    skip: set[str] = set()
    for p in allowed:
        skip |= path_forms(p, local)
    users = tuple(
        u for u in usage.users_of(path, local=local) if not (u.kind == "image" and u.name in skip)
    )
    wanted = path_forms(path, local)
    records: list[str] = []
    current_files = {d.source for d in tree.disks}
    seen: set[str] = set()
    for snap in tree.snapshots:
        for d in snap.disks:
            for candidate in (d.overlay, d.base):
                if not candidate or candidate in seen or candidate in current_files:
                    continue
                seen.add(candidate)
                if path_forms(candidate, local) & (wanted | skip):
                    continue
                if local and not os.path.exists(candidate):
                    continue
                if any(path_forms(p, local) & wanted for p in _chain(conn, candidate)):
                    records.append(f"{candidate} (of snapshot {snap.name}) is built on it")
    return ImageUse(users, tuple(records))


# ------------------------------------------------------------------------------------ delete
@dataclass(frozen=True)
class DeletePlan:
    """How a delete will go: `metadata_only` keeps every file; `writes` names the images libvirt
    will write into (commit) and `removes` the files it will remove."""

    name: str
    children: bool
    metadata_only: bool
    writes: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    refusal: Refusal | None = None

    def describe(self) -> list[str]:
        if self.refusal is not None:
            return [self.refusal.reason, self.refusal.route]
        if self.metadata_only:
            return ["Only the snapshot record goes; every image file stays as it is."]
        lines = []
        if self.writes:
            lines.append("Merged into: " + ", ".join(self.writes))
        if self.removes:
            lines.append("Removed by libvirt: " + ", ".join(self.removes))
        if not lines:
            lines.append("The snapshot's data inside the images is discarded.")
        return lines


def _top_of(tree: SnapshotTree, target: str) -> str:
    disk = tree.disk(target)
    return disk.source if disk is not None else ""


def plan_delete(
    tree: SnapshotTree,
    name: str,
    *,
    children: bool = False,
    metadata_only: bool = False,
    use_of: Callable[[str, Iterable[str]], ImageUse] | None = None,
) -> DeletePlan:
    """Decide whether libvirt can delete `name` here without harm; the refusal explains and
    names the route (record only, or children first). `use_of(path, allowed)` tells who else
    needs an image (see `image_use`)."""
    snap = tree.get(name)

    def refuse(reason: str, route: str) -> DeletePlan:
        return DeletePlan(name, children, metadata_only, refusal=Refusal(reason, route))

    if metadata_only:
        return DeletePlan(name, children, True)
    family = [snap, *tree.descendants(name)] if children else [snap]
    if not any(s.external for s in family):
        return DeletePlan(name, children, False)
    record_only = "Delete the record only: every image file stays (delete files separately)."
    if children and snap.children:
        return refuse(
            f"libvirt {version_text(tree.caps.version)} cannot delete external snapshots "
            "together with their children",
            "Delete the children first, newest first, then this one; or "
            + record_only[0].lower()
            + record_only[1:],
        )
    if len(snap.children) > 1:
        return refuse(
            f"{name} has {len(snap.children)} children: a snapshot with several children "
            "cannot be deleted alone",
            "Delete the children first, or " + record_only[0].lower() + record_only[1:],
        )
    if snap.children and not tree.caps.external_revert:
        return refuse(
            f"libvirt {version_text(tree.caps.version)} deletes an external snapshot only when "
            "it has no children",
            "Delete its child first, or " + record_only[0].lower() + record_only[1:],
        )
    if snap.memory == "external":
        return refuse(
            "this snapshot saved the memory to a file; libvirt does not merge that back",
            record_only,
        )
    writes: list[str] = []
    removes: list[str] = []
    for d in snap.disks:
        if d.kind != "external":
            continue
        top = _top_of(tree, d.target)
        if d.overlay != top:
            return refuse(
                f"disk {d.target} no longer runs on this snapshot's overlay {d.overlay} "
                f"(it is on {top or 'nothing'}, e.g. after a revert): libvirt cannot merge it",
                record_only,
            )
        if not d.base:
            return refuse(f"the snapshot does not record the image below {d.overlay}", record_only)
        if use_of is not None:
            use = use_of(d.base, [d.overlay])
            if use.used:
                return refuse(
                    f"deleting merges {d.overlay} into {d.base}, which is still needed: "
                    f"{use.text()}",
                    record_only,
                )
            use = use_of(d.overlay, [])
            if use.used:
                return refuse(
                    f"deleting removes {d.overlay}, which is still needed: {use.text()}",
                    record_only,
                )
        writes.append(d.base)
        removes.append(d.overlay)
    return DeletePlan(name, children, False, tuple(writes), tuple(removes))


def delete_flags(plan: DeletePlan) -> int:
    flags = 0
    if plan.children:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN
    if plan.metadata_only:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY
    return flags


def delete(
    dom: libvirt.virDomain,
    name: str,
    *,
    children: bool = False,
    metadata_only: bool = False,
    others: Sequence[Connection] = (),
) -> DeletePlan:
    """Delete after `plan_delete` says it is safe; returns the plan that ran."""
    tree = read_tree(dom)
    plan = plan_delete(
        tree,
        name,
        children=children,
        metadata_only=metadata_only,
        use_of=lambda p, allowed: image_use(dom, tree, p, allowed=allowed, others=others),
    )
    if plan.refusal is not None:
        raise plan.refusal.error()
    dom.snapshotLookupByName(name, 0).delete(delete_flags(plan))
    return plan


# ------------------------------------------------------------------------------------ manual revert
@dataclass(frozen=True)
class RevertDisk:
    target: str
    now: str  # the disk's image now: kept, untouched
    base: str  # the image the snapshot froze (read-only from now on: the new overlay's backing)
    base_format: str
    overlay: str  # the new overlay the disk will run on


@dataclass(frozen=True)
class ManualRevertPlan:
    name: str
    domain: str
    disks: tuple[RevertDisk, ...]
    kept: tuple[str, ...]  # overlays written after the snapshot: kept, never deleted here
    refusal: Refusal | None = None

    def describe(self) -> list[str]:
        if self.refusal is not None:
            return [self.refusal.reason, self.refusal.route]
        lines = [
            f"{d.target}: new overlay {d.overlay} on {d.base} (now on {d.now})" for d in self.disks
        ]
        if self.kept:
            lines.append("Kept (not deleted): " + ", ".join(self.kept))
        return lines


def plan_manual_revert(
    tree: SnapshotTree,
    name: str,
    *,
    overlays: dict[str, str] | None = None,
    exists: Callable[[str], bool] = _local_exists,
    stamp: str = "",
) -> ManualRevertPlan:
    """Revert a shut-off domain to an external snapshot by hand: every disk the snapshot made an
    overlay for gets a new overlay on the image the snapshot froze (its recorded source), the
    domain runs on those, and the overlays written since stay where they are."""
    snap = tree.get(name)

    def refuse(reason: str, route: str = "") -> ManualRevertPlan:
        return ManualRevertPlan(name, tree.domain, (), (), Refusal(reason, route))

    if not snap.external:
        return refuse(f"{name} is an internal snapshot", "Revert it with libvirt (r).")
    if tree.active:
        return refuse(
            f"{tree.domain} is running: its disks are in use",
            "Shut the domain off, then revert by hand.",
        )
    if not tree.persistent:
        return refuse(f"{tree.domain} is transient: there is no definition to point elsewhere")
    if snap.memory == "external":
        return refuse(
            "the snapshot holds a memory state; a manual revert only restores disks",
            "Revert on a host with libvirt 9.9 or newer.",
        )
    if any(d.kind == "internal" for d in snap.disks):
        return refuse("the snapshot mixes internal and external disks: not reverted by hand")
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    chosen = overlays or {}
    disks: list[RevertDisk] = []
    kept: list[str] = []
    for d in snap.disks:
        if d.kind != "external":
            continue
        now = _top_of(tree, d.target)
        if not now:
            return refuse(f"the domain has no disk {d.target} any more")
        if not d.base:
            return refuse(f"the snapshot does not record the image of {d.target}")
        if not exists(d.base):
            return refuse(f"{d.base} (the image {name} froze for {d.target}) is missing")
        path = chosen.get(d.target, "").strip()
        if not path:
            disk = DomainDisk(d.target, "disk", "file", d.base, d.base_format, False)
            path = overlay_name(disk, f"{name}-revert-{stamp}", [now])
        if not path.startswith("/"):
            return refuse(f"overlay for {d.target}: not an absolute path: {path!r}")
        if exists(path):
            return refuse(
                f"{path} exists already; it is never overwritten", "Choose another file name."
            )
        disks.append(RevertDisk(d.target, now, d.base, d.base_format or "qcow2", path))
        # Written after the snapshot: its own overlay, its descendants', the image now in use.
        later = [d.overlay]
        for desc in tree.descendants(name):
            later += [x.overlay for x in desc.disks if x.target == d.target and x.overlay]
        for image in [*later, now]:
            if image and image != d.base and image not in kept:
                kept.append(image)
    if not disks:
        return refuse(f"{name} has no external disk to revert")
    return ManualRevertPlan(name, tree.domain, tuple(disks), tuple(kept))


def overlay_argv(disk: RevertDisk) -> list[str]:
    """qemu-img creates the new overlay (never touching its backing file)."""
    return [
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        disk.base,
        "-F",
        disk.base_format,
        disk.overlay,
    ]


def repoint_xml(xml: str, disks: Iterable[RevertDisk]) -> str:
    """The domain XML with each disk's source replaced by its new overlay (qcow2)."""
    root = ET.fromstring(xml)
    by_target = {d.target: d for d in disks}
    for disk in root.findall("devices/disk"):
        target = disk.find("target")
        name = target.get("dev", "") if target is not None else ""
        if name not in by_target:
            continue
        new = by_target.pop(name)
        disk.set("type", "file")
        source = disk.find("source")
        if source is None:
            source = ET.SubElement(disk, "source")
        for attr in list(source.attrib):
            source.attrib.pop(attr)
        source.set("file", new.overlay)
        driver = disk.find("driver")
        if driver is None:
            driver = ET.SubElement(disk, "driver", name="qemu")
        driver.set("type", "qcow2")
        for backing in disk.findall("backingStore"):
            disk.remove(backing)
    if by_target:
        raise SnapshotRefused("the domain has no disk " + ", ".join(sorted(by_target)))
    return ET.tostring(root, encoding="unicode")


def apply_manual_revert(dom: libvirt.virDomain, plan: ManualRevertPlan) -> None:
    """Point the (shut-off) domain at the new overlays (made already) and mark the snapshot
    current, so the next snapshot is its child."""
    if dom.isActive():
        raise SnapshotRefused(f"{plan.domain} was started meanwhile: nothing changed")
    xml = repoint_xml(
        dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE), plan.disks
    )
    conn = dom.connect()
    conn.defineXML(xml)
    snap = dom.snapshotLookupByName(plan.name, 0)
    with contextlib.suppress(libvirt.libvirtError):  # the disks are reverted; "current" is a mark
        dom.snapshotCreateXML(
            snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE),
            libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
            | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT,
        )
