"""Builders for device XML (disk, CD-ROM, NIC, serial/console, graphics). Pure: no libvirt calls.

Everything is built with ElementTree, so paths, names and passwords are escaped correctly.
"""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from collections.abc import Iterable

DISK_BUSES = ("virtio", "scsi", "sata", "ide", "usb")
CACHE_MODES = ("", "none", "writethrough", "writeback", "directsync", "unsafe")
NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")
GRAPHICS_TYPES = ("vnc", "spice")

_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd", "fdc": "fd"}


def _xml(el: ET.Element) -> str:
    return ET.tostring(el, encoding="unicode")


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa (libvirt's disk naming)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = string.ascii_lowercase[rem] + out
    return out


def next_target(bus: str, used: Iterable[str]) -> str:
    """The first free target name for `bus` ("vdb" when "vda" is used). sata/scsi/usb share sd."""
    prefix = _PREFIX.get(bus)
    if prefix is None:
        raise ValueError(f"unknown disk bus {bus!r}")
    taken = set(used)
    index = 0
    while f"{prefix}{_letters(index)}" in taken:
        index += 1
    return f"{prefix}{_letters(index)}"


def disk_xml(
    target: str,
    *,
    bus: str = "virtio",
    path: str = "",
    pool: str = "",
    volume: str = "",
    fmt: str = "",
    cache: str = "",
    device: str = "disk",
    readonly: bool = False,
) -> str:
    """A disk backed by a file/block path, or by pool+volume; no source for an empty drive."""
    if bus not in DISK_BUSES:
        raise ValueError(f"bus must be one of {DISK_BUSES}")
    if cache not in CACHE_MODES:
        raise ValueError(f"cache must be one of {CACHE_MODES}")
    if pool or volume:
        kind, source = "volume", {"pool": pool, "volume": volume}
    elif path.startswith("/dev/"):
        kind, source = "block", {"dev": path}
    else:
        kind, source = "file", ({"file": path} if path else {})
    disk = ET.Element("disk", type=kind, device=device)
    driver = {"name": "qemu"}
    if fmt:
        driver["type"] = fmt
    if cache:
        driver["cache"] = cache
    ET.SubElement(disk, "driver", driver)
    if source:
        ET.SubElement(disk, "source", source)
    ET.SubElement(disk, "target", dev=target, bus=bus)
    if readonly:
        ET.SubElement(disk, "readonly")
    return _xml(disk)


def cdrom_xml(target: str, *, bus: str = "sata", path: str = "") -> str:
    """A read-only CD-ROM drive, with `path` inserted or empty."""
    return disk_xml(target, bus=bus, path=path, fmt="raw", device="cdrom", readonly=True)


def nic_xml(*, network: str = "", bridge: str = "", model: str = "virtio", mac: str = "") -> str:
    """A NIC on a libvirt network or a host bridge; libvirt picks a MAC when none is given."""
    if bool(network) == bool(bridge):
        raise ValueError("give exactly one of network or bridge")
    nic = ET.Element("interface", type="network" if network else "bridge")
    if mac:
        ET.SubElement(nic, "mac", address=mac)
    ET.SubElement(nic, "source", {"network": network} if network else {"bridge": bridge})
    if model:
        ET.SubElement(nic, "model", type=model)
    return _xml(nic)


def serial_xml(port: int = 0) -> str:
    """A pty-backed serial port: `virsh console` and virttui's console use it."""
    serial = ET.Element("serial", type="pty")
    ET.SubElement(serial, "target", port=str(port))
    return _xml(serial)


def console_xml(port: int = 0) -> str:
    console = ET.Element("console", type="pty")
    ET.SubElement(console, "target", type="serial", port=str(port))
    return _xml(console)


def graphics_xml(
    kind: str = "vnc", *, listen: str = "127.0.0.1", port: int | None = None, password: str = ""
) -> str:
    """VNC or SPICE listening on `listen` (an address); autoport unless `port` is given."""
    if kind not in GRAPHICS_TYPES:
        raise ValueError(f"graphics type must be one of {GRAPHICS_TYPES}")
    attrs = {"type": kind, "autoport": "yes" if port is None else "no"}
    if port is not None:
        attrs["port"] = str(port)
    if password:
        attrs["passwd"] = password
    graphics = ET.Element("graphics", attrs)
    ET.SubElement(graphics, "listen", type="address", address=listen)
    return _xml(graphics)
