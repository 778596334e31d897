"""Clone a shut-off domain: copy every writable disk through its storage pool, define the copy.

Each disk volume is copied with `pool.createXMLFrom` in a helper thread while this thread polls
the new volume's allocation and reports `progress(done_bytes, total_bytes)`. The new domain gets
a fresh UUID, fresh MACs (libvirt generates both) and its own NVRAM file. On failure every
volume created so far is deleted again.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from virttui.core.common.units import human_bytes
from virttui.core.domain.action_result import DomainActionError, domain_name, libvirt_errors
from virttui.core.domain.redefine import INACTIVE_SECURE
from virttui.core.host.libvirt_runtime import error_message

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
    source: libvirt.virStorageVol
    pool: libvirt.virStoragePool
    new_name: str
    fmt: str
    capacity: int
    allocation: int


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


def _plan(
    conn: libvirt.virConnect, root: ET.Element, new_name: str, src_name: str
) -> list[_DiskPlan]:
    plans: list[_DiskPlan] = []
    taken: set[str] = set()
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
            raise DomainActionError(
                "clone", src_name, f"disk {tdev} is not a storage volume: {error_message(exc)}"
            ) from exc
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


def _copy(plan: _DiskPlan, report: Callable[[int], None], poll_s: float) -> libvirt.virStorageVol:
    """createXMLFrom in a helper thread; poll the new volume's allocation meanwhile."""
    created: list[libvirt.virStorageVol] = []
    failed: list[libvirt.libvirtError] = []

    def run() -> None:
        try:
            created.append(plan.pool.createXMLFrom(_volume_xml(plan), plan.source, 0))
        except libvirt.libvirtError as exc:
            failed.append(exc)

    worker = threading.Thread(target=run, name=f"clone-{plan.new_name}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(poll_s)
        try:
            done = plan.pool.storageVolLookupByName(plan.new_name).info()[2]
            report(min(done, plan.allocation))
        except libvirt.libvirtError:
            pass  # not visible yet
    if failed:
        raise failed[0]
    report(plan.allocation)
    return created[0]


def _retarget(plan: _DiskPlan, new_vol: libvirt.virStorageVol) -> None:
    src = plan.element.find("source")
    assert src is not None
    if plan.element.get("type") == "volume":
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
) -> CloneResult:
    """Clone a shut-off domain to `new_name`; every writable disk must be a storage volume.
    `progress(done_bytes, total_bytes)` is called from this thread while disks copy."""
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
        plans = _plan(conn, root, new_name, src_name)
    total = sum(p.allocation for p in plans)
    finished = 0
    created: list[tuple[_DiskPlan, libvirt.virStorageVol]] = []

    def report(done_in_disk: int) -> None:
        if progress is not None:
            progress(finished + done_in_disk, total)

    try:
        for plan in plans:
            with libvirt_errors("clone", src_name):
                new_vol = _copy(plan, report, poll_interval)
            created.append((plan, new_vol))
            finished += plan.allocation
            _retarget(plan, new_vol)
        _fresh_identity(root, new_name)
        with libvirt_errors("clone", src_name):
            clone = conn.defineXML(ET.tostring(root, encoding="unicode"))
            uuid = clone.UUIDString()
    except BaseException:
        for _plan_done, vol in created:
            try:
                vol.delete(0)
            except libvirt.libvirtError:
                pass
        raise
    volumes = tuple(
        ClonedVolume(p.target, p.source.path(), v.path(), p.pool.name(), v.name())
        for p, v in created
    )
    return CloneResult(new_name, uuid, volumes)
