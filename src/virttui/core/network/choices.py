"""The networks a new NIC may use: every libvirt network of the host with its state."""

from __future__ import annotations

from dataclasses import dataclass

import libvirt


@dataclass(frozen=True)
class NetworkChoice:
    name: str
    active: bool
    autostart: bool

    @property
    def state(self) -> str:
        """ "active" / "inactive", and ", autostart" when it starts with the host."""
        return ("active" if self.active else "inactive") + (", autostart" if self.autostart else "")


def network_choices(conn: libvirt.virConnect) -> list[NetworkChoice]:
    """Every network (active and inactive), sorted by name; ones that vanish meanwhile are
    skipped."""
    out = []
    for net in conn.listAllNetworks(0):
        try:
            out.append(NetworkChoice(net.name(), bool(net.isActive()), bool(net.autostart())))
        except libvirt.libvirtError:
            continue
    return sorted(out, key=lambda c: c.name)
