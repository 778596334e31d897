"""The host's real bridges, for a NIC (or a network) forwarding to one.

Locally the kernel says it: every `/sys/class/net/<name>` with a `bridge/` directory. A remote
host is asked through libvirt's interface API (`listAllInterfaces`, interfaces whose XML has
`type='bridge'`) when its libvirt offers one; otherwise the list is unknown and the reason is
given, so the UI can take a typed name with a warning that it could not be checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import libvirt

from virttui.core.host.libvirt_runtime import error_message

SYS_CLASS_NET = Path("/sys/class/net")

SYSFS = "sysfs"
INTERFACE_API = "libvirt interface API"


@dataclass(frozen=True)
class HostBridges:
    """`names`: the bridges found, sorted. `known`: whether the list could be read at all
    (False: `why` says why; a typed name cannot be checked). `source`: where it came from."""

    names: tuple[str, ...] = ()
    known: bool = True
    why: str = ""
    source: str = SYSFS

    def has(self, name: str) -> bool:
        return name in self.names


def local_bridges(sys_class_net: Path = SYS_CLASS_NET) -> HostBridges:
    """Every bridge of this machine's kernel (`<sys_class_net>/*/bridge` is a directory)."""
    try:
        entries = list(sys_class_net.iterdir())
    except OSError as exc:
        return HostBridges(known=False, why=f"cannot read {sys_class_net}: {exc.strerror or exc}")
    names = []
    for dev in entries:
        try:
            if (dev / "bridge").is_dir():
                names.append(dev.name)
        except OSError:
            continue
    return HostBridges(tuple(sorted(names)), source=SYSFS)


def remote_bridges(conn: libvirt.virConnect) -> HostBridges:
    """The bridges libvirt's interface API reports (active and inactive interfaces)."""
    try:
        ifaces = conn.listAllInterfaces(0)
    except libvirt.libvirtError as exc:
        return HostBridges(
            known=False,
            why=f"the host has no interface API ({error_message(exc)})",
            source=INTERFACE_API,
        )
    if not ifaces:
        return HostBridges(
            known=False, why="the host's interface API lists no interfaces", source=INTERFACE_API
        )
    names = []
    for iface in ifaces:
        try:
            name = iface.name()
            kind = ET.fromstring(iface.XMLDesc(0)).get("type", "")
        except (libvirt.libvirtError, ET.ParseError):
            continue  # vanished meanwhile, or unreadable: not offered
        if kind == "bridge":
            names.append(name)
    return HostBridges(tuple(sorted(set(names))), source=INTERFACE_API)


def host_bridges(
    conn: libvirt.virConnect, *, local: bool, sys_class_net: Path = SYS_CLASS_NET
) -> HostBridges:
    """`local`: this process sees the hypervisor host's /sys (a local URI of a real driver)."""
    return local_bridges(sys_class_net) if local else remote_bridges(conn)
