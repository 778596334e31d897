"""Clone a shut-off domain: copy every writable disk, define the copy.

A disk that is a storage volume is copied through its pool with `pool.createXMLFrom` in a helper
thread while this thread polls the new volume's allocation and reports
`progress(done_bytes, total_bytes)`. A disk that is a plain file in no pool is copied with
`qemu-img convert -p` (same format, the backing chain flattened into the copy) to a new file
next to the original with a name no file there has, through the job mechanism's `run_process`
(here, or over ssh for a `qemu+ssh` host), its progress read from `-p`. The new domain gets a
fresh UUID, fresh MACs (libvirt generates both) and its own NVRAM file. On failure or cancel
every volume and file created so far, and a partial copy, is deleted again.
"""

from __future__ import annotations

import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from virttui.core.common.units import human_bytes
from virttui.core.domain.action_result import DomainActionError, domain_name, libvirt_errors
from virttui.core.domain.redefine import INACTIVE_SECURE
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.jobs import JobCancelled, JobContext, JobError, current_context, run_process
from virttui.core.storage import files as F

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClonedVolume:
    target: str
    source_path: str
    path: str
    pool: str
    name: str


@dataclass(frozen=True)
class CloneResult:
    name: str
    uuid: str
    volumes: tuple[ClonedVolume, ...]


@dataclass
class _DiskPlan:
    element: ET.Element
    target: str
    source: libvirt.virStorageVol | None  # None: a plain file in no pool
    pool: libvirt.virStoragePool | None
    new_name: str
    fmt: str
    capacity: int
    allocation: int
    source_path: str = ""  # a plain file: its path; the copy goes to new_path
    new_path: str = ""


def _source_volume(conn: libvirt.virConnect, disk: ET.Element) -> libvirt.virStorageVol:
    src = disk.find("source")
    if src is None:
        raise libvirt.libvirtError("disk has no source")
    if disk.get("type") == "volume":
        pool = conn.storagePoolLookupByName(src.get("pool", ""))
        return pool.storageVolLookupByName(src.get("volume", ""))
    return conn.storageVolLookupByPath(src.get("file") or src.get("dev") or "")


def _free_name(pool: libvirt.virStoragePool, wanted: str, taken: set[str]) -> str:
    stem, dot, ext = wanted.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = wanted, ""
    candidate, n = wanted, 1
    existing = set(pool.listVolumes())
    while candidate in existing or candidate in taken:
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        n += 1
    return candidate


_PERCENT = re.compile(r"\((\d+(?:\.\d+)?)/100%\)")


def convert_fraction(line: str) -> float | None:
    """The fraction done in one progress line of `qemu-img convert -p` ("(12.50/100%)")."""
    match = _PERCENT.search(line)
    return float(match.group(1)) / 100 if match else None


def _new_file_name(old: str, src_name: str, new_name: str, existing: set[str]) -> str:
    base = old.replace(src_name, new_name, 1) if src_name in old else f"{new_name}-{old}"
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    candidate, n = base, 1
    while candidate in existing:
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        n += 1
    return candidate


def _file_plan(
    ctx: JobContext,
    uri: str,
    disk: ET.Element,
    tdev: str,
    src_name: str,
    new_name: str,
    taken: set[str],
    why: str,
) -> _DiskPlan:
    """A disk that is a plain file in no pool: where its copy goes and how big it is."""
    src = disk.find("source")
    path = src.get("file", "") if src is not None and disk.get("type", "file") == "file" else ""
    if not path:
        raise DomainActionError("clone", src_name, f"disk {tdev} is not a storage volume: {why}")
    try:
        info = F.probe_image(ctx, path, uri=uri)
        directory = os.path.dirname(path) or "/"
        existing = {e.name for e in F.list_directory(ctx, directory, uri=uri)}
    except JobCancelled:
        raise
    except (JobError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DomainActionError(
            "clone",
            src_name,
            f"disk {tdev} is not a storage volume and its file cannot be read: {reason}",
        ) from exc
    driver = disk.find("driver")
    # The format the guest sees (libvirt's default is raw), never a guess from the contents.
    fmt = (driver.get("type", "") if driver is not None else "") or "raw"
    name = _new_file_name(os.path.basename(path), src_name, new_name, existing | taken)
    taken.add(name)
    size = info.disk_size if info.disk_size is not None else (info.virtual_size or 0)
    return _DiskPlan(
        disk,
        tdev,
        None,
        None,
        name,
        fmt,
        info.virtual_size or 0,
        size,
        source_path=path,
        new_path=F.join(directory, name),
    )


def _plan(
    conn: libvirt.virConnect,
    root: ET.Element,
    new_name: str,
    src_name: str,
    ctx: JobContext,
) -> list[_DiskPlan]:
    plans: list[_DiskPlan] = []
    taken: set[str] = set()
    taken_files: set[str] = set()
    for disk in root.iterfind("devices/disk"):
        if disk.get("device", "disk") not in ("disk", "lun") or disk.find("source") is None:
            continue  # CD-ROMs and floppies are shared, as virt-clone does
        if disk.find("readonly") is not None or disk.find("shareable") is not None:
            continue
        target = disk.find("target")
        tdev = target.get("dev", "?") if target is not None else "?"
        try:
            vol = _source_volume(conn, disk)
            pool = vol.storagePoolLookupByVolume()
            _type, capacity, allocation = vol.info()
            fmt_el = ET.fromstring(vol.XMLDesc(0)).find("target/format")
            fmt = fmt_el.get("type", "") if fmt_el is not None else ""
        except libvirt.libvirtError as exc:
            uri = str(conn.getURI())
            why = error_message(exc)
            plans.append(_file_plan(ctx, uri, disk, tdev, src_name, new_name, taken_files, why))
            continue
        old = vol.name()
        base = old.replace(src_name, new_name, 1) if src_name in old else f"{new_name}-{old}"
        vol_name = _free_name(pool, base, taken)
        taken.add(vol_name)
        plans.append(_DiskPlan(disk, tdev, vol, pool, vol_name, fmt, capacity, allocation))
    return plans


def clone_progress_text(done: int, total: int) -> str:
    """What a clone's progress says: bytes copied of the bytes to copy."""
    return f"{human_bytes(done)} of {human_bytes(total)} copied"


def _volume_xml(plan: _DiskPlan) -> str:
    vol = ET.Element("volume")
    ET.SubElement(vol, "name").text = plan.new_name
    ET.SubElement(vol, "capacity", unit="bytes").text = str(plan.capacity)
    ET.SubElement(vol, "allocation", unit="bytes").text = "0"
    if plan.fmt:
        ET.SubElement(ET.SubElement(vol, "target"), "format", type=plan.fmt)
    return ET.tostring(vol, encoding="unicode")


def _copy_file(ctx: JobContext, uri: str, plan: _DiskPlan, report: Callable[[int], None]) -> None:
    """`qemu-img convert -p` to the new file; a cancel or failure removes the partial copy."""
    argv = ["qemu-img", "convert", "-p", "-f", plan.fmt, "-O", plan.fmt]
    argv += [plan.source_path, plan.new_path]

    def on_line(line: str) -> None:
        fraction = convert_fraction(line)
        if fraction is not None:
            report(min(plan.allocation, int(fraction * plan.allocation)))

    try:
        run_process(
            ctx,
            argv,
            uri=uri,
            on_line=on_line,
            cleanup=lambda: F.remove_file_quietly(plan.new_path, uri),
        )
    except BaseException:
        F.remove_file_quietly(plan.new_path, uri)
        raise
    report(plan.allocation)


def _copy(plan: _DiskPlan, report: Callable[[int], None], poll_s: float) -> libvirt.virStorageVol:
    """createXMLFrom in a helper thread; poll the new volume's allocation meanwhile."""
    pool, source = plan.pool, plan.source
    assert pool is not None and source is not None
    created: list[libvirt.virStorageVol] = []
    failed: list[libvirt.libvirtError] = []

    def run() -> None:
        try:
            created.append(pool.createXMLFrom(_volume_xml(plan), source, 0))
        except libvirt.libvirtError as exc:
            failed.append(exc)

    worker = threading.Thread(target=run, name=f"clone-{plan.new_name}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(poll_s)
        try:
            done = pool.storageVolLookupByName(plan.new_name).info()[2]
            report(min(done, plan.allocation))
        except libvirt.libvirtError:
            pass  # not visible yet
    if failed:
        raise failed[0]
    report(plan.allocation)
    return created[0]


def _retarget(plan: _DiskPlan, new_vol: libvirt.virStorageVol | None) -> None:
    src = plan.element.find("source")
    assert src is not None
    if new_vol is None:  # a plain file
        src.set("file", plan.new_path)
    elif plan.element.get("type") == "volume":
        src.set("volume", new_vol.name())
    elif plan.element.get("type") == "block":
        src.set("dev", new_vol.path())
    else:
        src.set("file", new_vol.path())


def _fresh_identity(root: ET.Element, new_name: str) -> None:
    name = root.find("name")
    assert name is not None
    name.text = new_name
    for tag in ("uuid",):
        el = root.find(tag)
        if el is not None:
            root.remove(el)
    for nic in root.iterfind("devices/interface"):
        for mac in nic.findall("mac"):
            nic.remove(mac)
        for target in nic.findall("target"):
            nic.remove(target)
    nvram = root.find("os/nvram")
    if nvram is not None:  # libvirt makes <name>_VARS.fd from the template
        nvram.text = None
    for graphics in root.iterfind("devices/graphics"):
        if graphics.get("autoport") == "no":
            graphics.set("autoport", "yes")
            graphics.attrib.pop("port", None)


def clone_domain(
    dom: libvirt.virDomain,
    new_name: str,
    *,
    progress: Progress | None = None,
    poll_interval: float = 0.25,
    ctx: JobContext | None = None,
) -> CloneResult:
    """Clone a shut-off domain to `new_name`. Every writable disk must be a storage volume or a
    plain file (copied with qemu-img, see the module doc). `progress(done_bytes, total_bytes)` is
    called from this thread while disks copy. `ctx`: the job (cancel kills a running qemu-img and
    removes what was made); by default the job running in this thread, if any."""
    ctx = ctx or current_context() or JobContext(0, lambda _m: None)
    src_name = domain_name(dom)
    new_name = new_name.strip()
    if not new_name:
        raise DomainActionError("clone", src_name, "the new name is empty")
    with libvirt_errors("clone", src_name):
        if dom.isActive():
            raise DomainActionError("clone", src_name, "shut the domain off first")
        conn = dom.connect()
        try:
            conn.lookupByName(new_name)
        except libvirt.libvirtError:
            pass
        else:
            raise DomainActionError("clone", src_name, f"a domain named {new_name} exists")
        root = ET.fromstring(dom.XMLDesc(INACTIVE_SECURE))
        uri = str(conn.getURI())
        plans = _plan(conn, root, new_name, src_name, ctx)
    total = sum(p.allocation for p in plans)
    finished = 0
    created: list[tuple[_DiskPlan, libvirt.virStorageVol | None]] = []

    def report(done_in_disk: int) -> None:
        if progress is not None:
            progress(finished + done_in_disk, total)

    try:
        for plan in plans:
            ctx.check()
            new_vol: libvirt.virStorageVol | None = None
            if plan.source is None:
                _copy_file(ctx, uri, plan, report)
            else:
                with libvirt_errors("clone", src_name):
                    new_vol = _copy(plan, report, poll_interval)
            created.append((plan, new_vol))
            finished += plan.allocation
            _retarget(plan, new_vol)
        ctx.check()
        _fresh_identity(root, new_name)
        with libvirt_errors("clone", src_name):
            clone = conn.defineXML(ET.tostring(root, encoding="unicode"))
            uuid = clone.UUIDString()
    except BaseException:
        for plan_done, vol in created:
            if vol is None:
                F.remove_file_quietly(plan_done.new_path, uri)
                continue
            try:
                vol.delete(0)
            except libvirt.libvirtError:
                pass
        raise
    return CloneResult(new_name, uuid, tuple(_cloned(p, v) for p, v in created))


def _cloned(plan: _DiskPlan, vol: libvirt.virStorageVol | None) -> ClonedVolume:
    if vol is None or plan.source is None or plan.pool is None:
        return ClonedVolume(plan.target, plan.source_path, plan.new_path, "", plan.new_name)
    return ClonedVolume(plan.target, plan.source.path(), vol.path(), plan.pool.name(), vol.name())
