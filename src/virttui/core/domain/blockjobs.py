"""The live routes libvirt offers for a disk of a RUNNING domain, instead of writing the image
behind QEMU's back: grow it (`blockResize`), merge overlays (`blockCommit`, `blockPull`), copy it
to a new file (`blockCopy`), each followed to its end with progress from `blockJobInfo` and
aborted on cancel (`blockJobAbort`).

- resize: grow only. A shrink is refused here (QEMU would cut the guest's filesystem under it);
  the offline route (qemu-img resize --shrink) belongs to a shut-off domain.
- commit: the data of `top` (default: the active layer) goes down into `base` (default: the
  image right under `top`). Committing the active layer is a two-phase job: when it is ready the
  disk is pivoted onto `base`. An intermediate commit ends on its own.
- pull: the data of the backing chain (down to `base`, default: all of it) is pulled into the
  active layer, which then stands alone (or on `base`). Ends on its own.
- copy: the disk is mirrored into a NEW file (never an existing one); when ready, either pivot
  (the domain continues on the copy) or finish (the copy is kept, the domain stays on its disk).

Files are never deleted by these routes, except the partial copy of a cancelled blockCopy. An
overlay left unused by a commit is named in the result, for the admin to remove (through the
used-by check of the volume screens).

Every function blocks: run them in a job (`HostFacade`'s `# ---- live` methods).
"""

from __future__ import annotations

import contextlib
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import libvirt

from virttui.core.common.units import MAX_DISK_BYTES, human_bytes, parse_bytes
from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobCancelled, JobContext, JobError
from virttui.core.storage.used_by import Connection, used_by, users_text

POLL_SECONDS = 0.5
ABORT_WAIT_SECONDS = 60.0  # how long a cancelled job may take to go away before we give up
READY_RETRIES = 20  # a pivot refused as "not ready yet" is retried this many polls

Route = Literal["resize", "commit", "pull", "copy"]
ROUTES: tuple[Route, ...] = ("resize", "commit", "pull", "copy")
ROUTE_TITLES: dict[Route, str] = {
    "resize": "Grow the disk (live)",
    "commit": "Commit an overlay (live)",
    "pull": "Pull the backing chain (live)",
    "copy": "Copy the disk to a new file (live)",
}

_JOB_TYPES = {
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_PULL: "pull",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY: "copy",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT: "commit",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT: "active commit",
    libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_BACKUP: "backup",
}


class BlockJobError(JobError):
    """A live route refused or ended without doing its work, in words the admin can act on."""


# ---------------------------------------------------------------------------------- sizes


def parse_new_size(text: str, current: int) -> int:
    """A new disk size in bytes: "20G", "20GiB", "1.5T", "512M", "1073741824" (bytes), or
    "+5G" (grow by). Binary units (as qemu-img), parsed by the one size parser
    (`core/common/units.parse_bytes`). ValueError with a sentence for anything else: empty,
    negative ("-1G"), an unknown unit ("10Q"), zero, absurd."""
    raw = text.strip()
    if not raw:
        raise ValueError("New size: give a size such as 20G or +5G")
    if raw.startswith("-"):
        raise ValueError(f"New size: {raw!r} is negative (a live resize only grows the disk)")
    if raw.startswith("+"):
        size = current + parse_bytes(raw[1:], "Grow by", default_unit="B")
    else:
        size = parse_bytes(raw, "New size", default_unit="B")
    if size > MAX_DISK_BYTES:
        raise ValueError(
            f"New size: {raw} is absurdly large (at most {human_bytes(MAX_DISK_BYTES)})"
        )
    return size


# ---------------------------------------------------------------------------------- the disk
@dataclass(frozen=True, slots=True)
class LiveDisk:
    """A disk of a running domain as its live XML describes it."""

    target: str
    source: str  # file path, or "" for a non-file disk
    fmt: str
    device: str
    chain: tuple[str, ...] = field(default=())  # backing images, top first (source excluded)

    @property
    def images(self) -> tuple[str, ...]:
        """The whole chain, the active layer first."""
        return (self.source, *self.chain) if self.source else self.chain


def _disk_source(el: ET.Element) -> str:
    src = el.find("source")
    if src is None:
        return ""
    return src.get("file") or src.get("dev") or src.get("name") or ""


def parse_disk(xml: str, target: str) -> LiveDisk | None:
    root = ET.fromstring(xml)
    for disk in root.findall("devices/disk"):
        tgt = disk.find("target")
        if tgt is None or tgt.get("dev") != target:
            continue
        driver = disk.find("driver")
        chain: list[str] = []
        node = disk.find("backingStore")
        while node is not None and len(chain) < 64:
            path = _disk_source(node)
            if not path:
                break
            chain.append(path)
            node = node.find("backingStore")
        return LiveDisk(
            target=target,
            source=_disk_source(disk),
            fmt=driver.get("type", "") if driver is not None else "",
            device=disk.get("device", "disk"),
            chain=tuple(chain),
        )
    return None


def _name(dom: libvirt.virDomain) -> str:
    try:
        return str(dom.name())
    except libvirt.libvirtError:
        return str(dom.UUIDString())


def live_disk(dom: libvirt.virDomain, target: str) -> LiveDisk:
    """The disk `target` of the running domain; BlockJobError when it is not running or has no
    such disk."""
    if not dom.isActive():
        raise BlockJobError(
            f"{_name(dom)} is not running: live routes are for a running domain "
            "(a shut-off domain's image can be changed with qemu-img)"
        )
    disk = parse_disk(dom.XMLDesc(0), target)
    if disk is None:
        raise BlockJobError(f"{_name(dom)} has no disk {target}")
    if disk.device != "disk":
        raise BlockJobError(f"{target} of {_name(dom)} is a {disk.device}, not a disk")
    return disk


# ---------------------------------------------------------------------------------- which disk
@dataclass(frozen=True, slots=True)
class DiskRef:
    """Where a running domain uses an image: disk `target`, at `depth` in its chain (0: the
    active layer QEMU writes, 1: its backing image, ...)."""

    uuid: str
    name: str
    target: str
    depth: int


def _same_path(a: str, b: str, local: bool) -> bool:
    if os.path.normpath(a) == os.path.normpath(b):
        return True
    return local and os.path.realpath(a) == os.path.realpath(b)


def find_disk_using(conn: libvirt.virConnect, domain: str, path: str) -> DiskRef:
    """The disk of the running domain `domain` (name or UUID) whose chain holds `path`."""
    try:
        dom = conn.lookupByUUIDString(domain)
    except libvirt.libvirtError:
        dom = conn.lookupByName(domain)
    if not dom.isActive():
        raise BlockJobError(f"{_name(dom)} is not running: there is no live route to take")
    local = is_local_uri(conn.getURI())
    xml = dom.XMLDesc(0)
    for el in ET.fromstring(xml).findall("devices/disk"):
        tgt = el.find("target")
        if tgt is None or el.get("device", "disk") != "disk":
            continue
        disk = parse_disk(xml, tgt.get("dev", ""))
        if disk is None:
            continue
        for depth, image in enumerate(disk.images):
            if _same_path(image, path, local):
                return DiskRef(str(dom.UUIDString()), _name(dom), disk.target, depth)
    raise BlockJobError(f"{_name(dom)} has no disk using {path}")


# What a refused offline action on an in-use image can do live instead (None: nothing; refuse
# and name the domain). `action` takes the guard's names (core/storage/guard.py: "grow",
# "commit", "rebase", "convert-source", ...) and short ones ("resize", "pull", "copy");
# `depth` is where the image sits in the disk's chain (DiskRef.depth).
def suggest_route(action: str, depth: int) -> Route | None:
    """grow / resize → blockResize of the active layer; commit (an overlay into its backing
    file) → blockCommit; rebase / pull (merge the backing data into the image) → blockPull into
    the active layer; convert-source / convert / copy (a copy of the disk) → blockCopy of the
    active layer. Anything else (shrink, repair, writing over the image, internal snapshots:
    those are the domain snapshot screen's) has no block-job route."""
    if action in ("grow", "resize"):
        return "resize" if depth == 0 else None
    if action == "commit":
        return "commit"
    if action in ("rebase", "pull"):
        return "pull" if depth == 0 else None
    if action in ("convert-source", "convert", "copy"):
        return "copy" if depth == 0 else None
    return None


# ---------------------------------------------------------------------------------- resize
@dataclass(frozen=True, slots=True)
class Resized:
    target: str
    old_bytes: int
    new_bytes: int

    def describe(self) -> str:
        return (
            f"{self.target} grown from {human_bytes(self.old_bytes)} to "
            f"{human_bytes(self.new_bytes)} (the guest still has to grow its partition and "
            "filesystem)"
        )


def capacity(dom: libvirt.virDomain, target: str) -> int:
    """The disk's current size as the guest sees it (bytes)."""
    return int(dom.blockInfo(target, 0)[0])


def block_resize(dom: libvirt.virDomain, target: str, new_size: str | int) -> Resized:
    """Grow the disk `target` of the running domain to `new_size` (bytes, or text for
    `parse_new_size`). Shrinking and same-size are refused, nothing changes."""
    live_disk(dom, target)
    old = capacity(dom, target)
    size = parse_new_size(new_size, old) if isinstance(new_size, str) else int(new_size)
    if size < old:
        raise BlockJobError(
            f"{target} is {human_bytes(old)}; {human_bytes(size)} would shrink it. A running "
            "domain's disk is only grown: shrinking cuts off the guest's data (shrink a shut-off "
            "domain's image with qemu-img resize --shrink, after shrinking its filesystem)"
        )
    if size == old:
        raise BlockJobError(f"{target} is already {human_bytes(old)} ({old} bytes)")
    dom.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    return Resized(target, old, capacity(dom, target))


# ---------------------------------------------------------------------------------- block jobs
@dataclass(frozen=True, slots=True)
class BlockJobInfo:
    kind: str
    cur: int
    end: int
    bandwidth: int  # bytes/s, 0 = unlimited

    @property
    def fraction(self) -> float | None:
        return self.cur / self.end if self.end > 0 else None

    @property
    def ready(self) -> bool:
        """A two-phase job (copy, active commit) is ready to pivot. libvirt reports cur == end
        only once QEMU says ready (it keeps them apart before)."""
        return self.end > 0 and self.cur == self.end

    def describe(self) -> str:
        text = f"{self.kind}: {human_bytes(self.cur)} of {human_bytes(self.end)}"
        if self.bandwidth:
            text += f" (limit {human_bytes(self.bandwidth, suffix='/s')})"
        return text


def block_job_info(dom: libvirt.virDomain, target: str) -> BlockJobInfo | None:
    """The block job running on disk `target`, or None."""
    info = dom.blockJobInfo(target, libvirt.VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES)
    if not info:
        return None
    return BlockJobInfo(
        kind=_JOB_TYPES.get(int(info.get("type", 0)), "block job"),
        cur=int(info.get("cur", 0)),
        end=int(info.get("end", 0)),
        bandwidth=int(info.get("bandwidth", 0)),
    )


def abort_block_job(dom: libvirt.virDomain, target: str) -> None:
    """Abort the block job of disk `target` (a copy or active commit not pivoted leaves the
    domain on its original disk)."""
    dom.blockJobAbort(target, 0)


@dataclass(frozen=True, slots=True)
class BlockJobResult:
    route: Route
    target: str
    text: str
    chain: tuple[str, ...]  # the disk's images afterwards, active layer first
    unused: tuple[str, ...] = ()  # images the route left unused (never deleted here)
    config_note: str = ""

    def describe(self) -> str:
        lines = [self.text, "now: " + " → ".join(self.chain)]
        if self.unused:
            lines.append("no longer used by this disk (kept): " + ", ".join(self.unused))
        if self.config_note:
            lines.append(self.config_note)
        return "\n".join(lines)


def _refuse_busy(dom: libvirt.virDomain, target: str) -> None:
    busy = block_job_info(dom, target)
    if busy is not None:
        raise BlockJobError(
            f"{target} of {_name(dom)} already has a {busy.kind} job running "
            f"({busy.describe()}): abort it or let it finish first"
        )


def _wait_gone(dom: libvirt.virDomain, target: str) -> None:
    """After an abort: wait (bounded) until the job is gone, so that clean-up runs after QEMU
    has let go of the files."""
    deadline = time.monotonic() + ABORT_WAIT_SECONDS
    while block_job_info(dom, target) is not None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def _follow(
    ctx: JobContext,
    dom: libvirt.virDomain,
    target: str,
    *,
    on_ready: Literal["pivot", "finish"] | None,
    on_cancel: Callable[[], None] | None = None,
) -> bool:
    """Report the block job of `target` until it is gone. Two-phase jobs are completed when ready
    (`on_ready`: pivot onto the new image, or finish keeping the copy). Cancel aborts the job,
    waits for it to go, runs `on_cancel` and raises JobCancelled. Returns whether a job was
    seen at all."""
    seen = False
    refused = 0
    while True:
        if ctx.cancelled:
            with contextlib.suppress(libvirt.libvirtError):
                abort_block_job(dom, target)
            _wait_gone(dom, target)
            if on_cancel is not None:
                on_cancel()
            raise JobCancelled()
        info = block_job_info(dom, target)
        if info is None:
            return seen
        seen = True
        ctx.progress(info.fraction, info.describe() + (" — ready" if info.ready else ""))
        if on_ready is not None and info.ready:
            flags = libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT if on_ready == "pivot" else 0
            try:
                dom.blockJobAbort(target, flags)
            except libvirt.libvirtError as exc:
                refused += 1
                if refused > READY_RETRIES:
                    raise
                if exc.get_error_code() not in (
                    libvirt.VIR_ERR_BLOCK_COPY_ACTIVE,
                    libvirt.VIR_ERR_OPERATION_INVALID,
                ):
                    raise
        ctx.wait(POLL_SECONDS)


def _chain_now(dom: libvirt.virDomain, target: str) -> LiveDisk:
    disk = parse_disk(dom.XMLDesc(0), target)
    if disk is None:
        raise BlockJobError(f"{target} is gone from {_name(dom)}")
    return disk


def _resolve(path: str, disk: LiveDisk, what: str) -> str:
    if path and path not in disk.images:
        raise BlockJobError(f"{what}: {path} is not in the backing chain of {disk.target}")
    return path


def refuse_shared(
    dom: libvirt.virDomain, disk: LiveDisk, image: str, others: Iterable[Connection] = ()
) -> None:
    """A commit writes into `image` (its base), a pull into the active layer: refused when any
    other domain (here or on `others`, the other open hosts) or an image outside this disk's own
    chain uses it, naming them: what they see would change under them."""
    conn = dom.connect()
    users = used_by(image, [conn, *others], exclude_domain=dom, local=is_local_uri(conn.getURI()))
    own = set(disk.images)
    foreign = tuple(u for u in users if u.kind == "domain" or u.name not in own)
    if foreign:
        raise BlockJobError(
            f"{image} is also {users_text(foreign)}: writing into it would change what they "
            "read. Nothing was started"
        )


def block_commit(
    ctx: JobContext,
    dom: libvirt.virDomain,
    target: str,
    *,
    top: str = "",
    base: str = "",
    bandwidth: int = 0,
    others: Iterable[Connection] = (),
) -> BlockJobResult:
    """Commit `top` (default: the active layer) into `base` (default: the image under `top`);
    an active commit is pivoted onto `base` when ready. Refused when `base` is shared
    (`refuse_shared`)."""
    disk = live_disk(dom, target)
    if not disk.chain:
        raise BlockJobError(f"{target} has no backing image: there is nothing to commit into")
    top = _resolve(top, disk, "Top")
    base = _resolve(base, disk, "Base")
    images = disk.images
    top_index = images.index(top) if top else 0
    if top_index >= len(images) - 1:
        raise BlockJobError(f"{top} has no backing image to commit into")
    if not base:
        base = images[top_index + 1]
    if images.index(base) <= top_index:
        raise BlockJobError(f"The base {base} must be below the top {top or disk.source}")
    active = top_index == 0
    _refuse_busy(dom, target)
    refuse_shared(dom, disk, base, others)
    flags = libvirt.VIR_DOMAIN_BLOCK_COMMIT_BANDWIDTH_BYTES
    if active:
        flags |= libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE
    ctx.check()
    dom.blockCommit(target, base, None if active else top, bandwidth, flags)
    _follow(ctx, dom, target, on_ready="pivot" if active else None)
    after = _chain_now(dom, target)
    merged = images[top_index : images.index(base)]
    left = tuple(p for p in merged if p not in after.images)
    if len(left) != len(merged):
        raise BlockJobError(
            f"The commit of {target} ended but {', '.join(merged)} is still in its chain: it "
            "failed or was aborted (libvirt's log for the domain says why)"
        )
    what = "active layer" if active else "overlay"
    return BlockJobResult(
        "commit",
        target,
        f"Committed the {what} of {target} into {base}",
        after.images,
        unused=left,
        config_note=_config_note(dom, target, after.source),
    )


def block_pull(
    ctx: JobContext,
    dom: libvirt.virDomain,
    target: str,
    *,
    base: str = "",
    bandwidth: int = 0,
    others: Iterable[Connection] = (),
) -> BlockJobResult:
    """Pull the backing chain's data (above `base`; default: all) into the active layer.
    Refused when the active layer is shared (`refuse_shared`)."""
    disk = live_disk(dom, target)
    if not disk.chain:
        raise BlockJobError(f"{target} has no backing image: there is nothing to pull")
    base = _resolve(base, disk, "Base")
    if base == disk.source:
        raise BlockJobError("The base must be a backing image, not the active layer")
    _refuse_busy(dom, target)
    refuse_shared(dom, disk, disk.source, others)
    ctx.check()
    if base:
        dom.blockRebase(target, base, bandwidth, libvirt.VIR_DOMAIN_BLOCK_REBASE_BANDWIDTH_BYTES)
    else:
        dom.blockPull(target, bandwidth, libvirt.VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES)
    _follow(ctx, dom, target, on_ready=None)
    after = _chain_now(dom, target)
    expected = disk.chain[disk.chain.index(base) :] if base else ()
    if after.chain != expected:
        raise BlockJobError(
            f"The pull into {target} ended but its chain is still {' → '.join(after.images)}: it "
            "failed or was aborted (libvirt's log for the domain says why)"
        )
    pulled = disk.chain[: disk.chain.index(base)] if base else disk.chain
    return BlockJobResult(
        "pull",
        target,
        f"Pulled {len(pulled)} backing image(s) into {disk.source}",
        after.images,
        unused=tuple(pulled),
        config_note=_config_note(dom, target, after.source),
    )


def destination_exists(conn: libvirt.virConnect, path: str) -> bool | None:
    """Whether `path` exists on the libvirt host: True/False, or None when it cannot be told (a
    remote host and not a volume of its pools)."""
    if is_local_uri(conn.getURI()):
        return os.path.lexists(path)
    try:
        conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return None
    return True


def copy_xml(dest: str, fmt: str) -> str:
    disk = ET.Element("disk", type="file")
    ET.SubElement(disk, "source", file=dest)
    ET.SubElement(disk, "driver", type=fmt)
    return ET.tostring(disk, encoding="unicode")


def block_copy(
    ctx: JobContext,
    dom: libvirt.virDomain,
    target: str,
    dest: str,
    *,
    fmt: str = "qcow2",
    finish: Literal["pivot", "finish"] = "pivot",
    shallow: bool = False,
    bandwidth: int = 0,
    unchecked_ok: bool = False,
) -> BlockJobResult:
    """Mirror disk `target` into the new file `dest` (format `fmt`), then pivot onto it or finish
    keeping it. An existing `dest` is refused; on a remote host where that cannot be checked,
    only with `unchecked_ok`. A cancelled copy removes the partial file where it can."""
    disk = live_disk(dom, target)
    if not dest.startswith("/"):
        raise BlockJobError(f"The copy's path must be absolute: {dest!r}")
    if fmt not in ("qcow2", "raw"):
        raise BlockJobError(f"Copy format: qcow2 or raw, not {fmt!r}")
    if dest in disk.images:
        raise BlockJobError(f"{dest} is an image of {target} itself")
    conn = dom.connect()
    exists = destination_exists(conn, dest)
    if exists:
        raise BlockJobError(f"{dest} already exists: a copy goes to a new file")
    if exists is None and not unchecked_ok:
        raise BlockJobError(
            f"Cannot check whether {dest} exists on the remote host (it is not a volume of its "
            "pools); confirm to copy there anyway"
        )
    _refuse_busy(dom, target)
    params = {libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH: bandwidth} if bandwidth else {}
    flags = libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB
    if shallow:
        flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_SHALLOW
    ctx.check()
    dom.blockCopy(target, copy_xml(dest, fmt), params, flags)

    def remove_partial() -> None:
        # A cancel that crossed the pivot must not delete the disk the domain now runs on.
        if dest not in _chain_now(dom, target).images:
            _remove_copy(conn, dest)

    _follow(ctx, dom, target, on_ready=finish, on_cancel=remove_partial)
    after = _chain_now(dom, target)
    if finish == "pivot":
        if after.source != dest:
            raise BlockJobError(
                f"The copy of {target} ended but the disk is still on {after.source}: it failed "
                "or was aborted (libvirt's log for the domain says why)"
            )
        return BlockJobResult(
            "copy",
            target,
            f"{target} now runs on the copy {dest}",
            after.images,
            unused=(disk.source,),
            config_note=_config_note(dom, target, dest),
        )
    if destination_exists(conn, dest) is False:
        raise BlockJobError(f"The copy of {target} ended without {dest}: it failed or was aborted")
    return BlockJobResult(
        "copy", target, f"Copied {target} to {dest} (the domain stays on its disk)", after.images
    )


def _remove_copy(conn: libvirt.virConnect, dest: str) -> None:
    """Remove a cancelled copy's partial file: through its pool when it is a volume, else
    directly on this machine. Anything else is left (the job's message does not claim it)."""
    with contextlib.suppress(libvirt.libvirtError):
        for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            directory = ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or ""
            if directory and os.path.dirname(dest) == directory.rstrip("/"):
                pool.refresh(0)
                conn.storageVolLookupByPath(dest).delete(0)
                return
    if is_local_uri(conn.getURI()):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dest)


def _config_note(dom: libvirt.virDomain, target: str, live_source: str) -> str:
    """A sentence when the domain's saved definition names another image for the disk than the
    one it now runs on (it would use that one at the next start)."""
    try:
        if not dom.isPersistent():
            return ""
        saved = parse_disk(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), target)
    except libvirt.libvirtError:
        return ""
    if saved is None or saved.source == live_source:
        return ""
    return (
        f"The saved definition still names {saved.source} for {target}: the domain uses it again "
        "at its next start unless the disk is edited"
    )


__all__ = [
    "ROUTES",
    "ROUTE_TITLES",
    "BlockJobError",
    "BlockJobInfo",
    "BlockJobResult",
    "DiskRef",
    "LiveDisk",
    "Resized",
    "Route",
    "abort_block_job",
    "block_commit",
    "block_copy",
    "block_job_info",
    "block_pull",
    "block_resize",
    "capacity",
    "copy_xml",
    "destination_exists",
    "find_disk_using",
    "live_disk",
    "parse_disk",
    "parse_new_size",
    "refuse_shared",
    "suggest_route",
]
