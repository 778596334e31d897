"""The format of an existing disk image, for attaching it: what `qemu-img info` reports on the
libvirt host, or what the storage pool says on a remote host, else raw. Never qcow2 by assumption:
a raw image read as qcow2 lets whoever wrote its first sector (the guest) name a backing file on
the host (a known attack class), while a qcow2 image read as raw only shows the guest its metadata.

Blocks (a subprocess, or libvirt calls): run it in a worker thread.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt

from virttui.core.host.connection import is_local_uri
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.storage.qemu_img import ImageError, info_dict

PROBE_TIMEOUT = 30.0
# Formats the Add disk dialog offers; anything else qemu-img names is kept but shown as such.
KNOWN_FORMATS = ("raw", "qcow2", "qed", "vmdk", "vdi", "vhdx", "vpc", "qcow", "luks")


@dataclass(frozen=True)
class FormatGuess:
    format: str  # "raw" unless a probe said otherwise
    source: str  # "qemu-img info", "storage pool <name>", or "default"
    note: str = ""  # why the default was used, or a warning (a backing file)

    def describe(self) -> str:
        text = f"{self.format} ({self.source})"
        return f"{text}: {self.note}" if self.note else text


def qemu_img_info(path: str, *, timeout: float = PROBE_TIMEOUT) -> dict[str, object]:
    """`qemu-img info --output=json -U <path>` on this machine (through the one qemu-img path,
    `core/storage/qemu_img`). `-U` (force share) reads an image a running guest holds locked.
    Raises ValueError with a sentence on any failure."""
    if not path.startswith("/"):
        # A relative name could be read as an option or as "protocol:..." by qemu-img.
        raise ValueError(f"not an absolute path: {path!r}")
    try:
        return info_dict(path, timeout=timeout)
    except ImageError as exc:
        raise ValueError(str(exc)) from None


def _from_info(info: dict[str, object]) -> FormatGuess:
    fmt = info.get("format")
    if not isinstance(fmt, str) or not fmt:
        return FormatGuess("raw", "default", "qemu-img info named no format")
    note = ""
    backing = info.get("backing-filename") or info.get("full-backing-filename")
    if isinstance(backing, str) and backing:
        note = f"has a backing file: {backing}"
    return FormatGuess(fmt, "qemu-img info", note)


def _from_pool(conn: libvirt.virConnect, path: str) -> FormatGuess | None:
    """The format libvirt's pool records for the volume at `path`; None when not in a pool."""
    try:
        vol = conn.storageVolLookupByPath(path)
        xml = vol.XMLDesc(0)
        pool = vol.storagePoolLookupByVolume().name()
    except libvirt.libvirtError:
        return None
    fmt = ET.fromstring(xml).find("target/format")
    kind = fmt.get("type", "") if fmt is not None else ""
    if not kind or kind in ("none", "unknown", "auto"):
        return FormatGuess("raw", "default", f"storage pool {pool} names no format")
    return FormatGuess(kind, f"storage pool {pool}")


def detect_format(conn: libvirt.virConnect, path: str, *, local: bool | None = None) -> FormatGuess:
    """The format to attach the existing image at `path` (on the libvirt host) with.

    Local host: `qemu-img info`; remote host (qemu+ssh): the storage pool's record of the volume
    when the path is in a pool. Anything unknown or failing: raw, with the reason in `note`.
    `local` None: decided from the connection's URI.
    """
    if local is None:
        try:
            local = is_local_uri(conn.getURI())
        except libvirt.libvirtError as exc:
            return FormatGuess("raw", "default", f"cannot ask the host: {error_message(exc)}")
    if local:
        try:
            return _from_info(qemu_img_info(path))
        except ValueError as exc:
            pooled = _from_pool(conn, path)
            if pooled is not None:
                return pooled
            return FormatGuess("raw", "default", f"qemu-img info failed: {exc}")
    pooled = _from_pool(conn, path)
    if pooled is not None:
        return pooled
    return FormatGuess(
        "raw", "default", "not in a storage pool of the remote host: its format cannot be read"
    )
