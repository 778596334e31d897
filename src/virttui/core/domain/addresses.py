"""Guest IP addresses per NIC: `interfaceAddresses` from the DHCP lease source, the ARP table
and the guest agent when one answers.

Never called on the stats poll path: the app refreshes them on a slow timer and on lifecycle
events, off the UI thread, into its own cache keyed by host + UUID.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import libvirt

__all__ = [
    "AddressReport",
    "GuestAddress",
    "NicAddresses",
    "agent_state",
    "guest_addresses",
    "merge_addresses",
]

AGENT_CHANNEL = "org.qemu.guest_agent.0"


@dataclass(frozen=True)
class GuestAddress:
    address: str
    prefix: int
    family: str  # "ipv4" / "ipv6"
    sources: tuple[str, ...]  # "lease", "arp", "agent" (every source that reported it)

    @property
    def label(self) -> str:
        return f"{self.address}/{self.prefix}" if self.prefix else self.address


@dataclass(frozen=True)
class NicAddresses:
    mac: str
    type: str  # network, bridge, direct, user, ...
    source: str  # network name, bridge or host device
    model: str
    target: str  # vnetN while running
    addresses: tuple[GuestAddress, ...] = ()


@dataclass(frozen=True)
class AddressReport:
    nics: tuple[NicAddresses, ...] = ()
    # Why a source gave nothing ("" when it answered): shown on request, never as an error.
    unavailable: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def primary_ip(self) -> str:
        """The first IPv4 address (else the first address) of the first NIC that has one."""
        for nic in self.nics:
            for addr in nic.addresses:
                if addr.family == "ipv4":
                    return addr.address
        for nic in self.nics:
            for addr in nic.addresses:
                return addr.address
        return ""


def _family(value: object) -> str:
    return "ipv6" if value == libvirt.VIR_IP_ADDR_TYPE_IPV6 else "ipv4"


def _nics_from_xml(xml: str) -> list[NicAddresses]:
    root = ET.fromstring(xml)
    out = []
    for iface in root.iterfind("./devices/interface"):
        src = iface.find("source")
        source = ""
        if src is not None:
            source = src.get("network") or src.get("bridge") or src.get("dev") or ""
        mac_el, model_el, target_el = iface.find("mac"), iface.find("model"), iface.find("target")
        out.append(
            NicAddresses(
                mac=((mac_el.get("address") if mac_el is not None else "") or "").lower(),
                type=iface.get("type") or "",
                source=source,
                model=(model_el.get("type") if model_el is not None else "") or "",
                target=(target_el.get("dev") if target_el is not None else "") or "",
            )
        )
    return out


def agent_state(xml: str) -> str:
    """ "" when the guest agent channel is connected, else why it cannot answer."""
    root = ET.fromstring(xml)
    for channel in root.iterfind("./devices/channel"):
        target = channel.find("target")
        if target is not None and target.get("name") == AGENT_CHANNEL:
            if target.get("state") == "connected":
                return ""
            return "guest agent not connected"
    return "no guest agent channel"


def merge_addresses(
    nics: list[NicAddresses], by_source: dict[str, dict[str, Any]]
) -> tuple[NicAddresses, ...]:
    """Attach what each source reported (libvirt's `interfaceAddresses` dicts, by source name
    in order of preference) to the NICs by MAC; addresses on unknown MACs (agent: lo) are left
    out."""
    found: dict[str, dict[str, tuple[int, str, list[str]]]] = {}
    order: dict[str, list[str]] = {}
    for source, result in by_source.items():
        for info in result.values():
            if not isinstance(info, dict):
                continue
            mac = str(info.get("hwaddr") or "").lower()
            for item in info.get("addrs") or []:
                addr = str(item.get("addr") or "")
                if not addr or not mac:
                    continue
                slot = found.setdefault(mac, {})
                if addr in slot:
                    if source not in slot[addr][2]:
                        slot[addr][2].append(source)
                    continue
                slot[addr] = (int(item.get("prefix") or 0), _family(item.get("type")), [source])
                order.setdefault(mac, []).append(addr)
    out = []
    for nic in nics:
        slot = found.get(nic.mac, {})
        addrs = tuple(
            GuestAddress(a, slot[a][0], slot[a][1], tuple(slot[a][2]))
            for a in order.get(nic.mac, [])
            if not a.startswith("fe80:")  # link-local: noise in a list of addresses
        )
        out.append(
            NicAddresses(nic.mac, nic.type, nic.source, nic.model, nic.target, addresses=addrs)
        )
    return tuple(out)


def read_arp_table(nics: list[NicAddresses], path: str = "/proc/net/arp") -> dict[str, Any]:
    """This machine's IPv4 neighbour table for the NICs' MACs, in `interfaceAddresses` form.

    libvirt 9.0's own ARP source fails with "wrong nlmsg len" whenever the netlink dump ends in
    the same buffer (fixed in later releases); the table it would read is this one."""
    macs = {nic.mac for nic in nics if nic.mac}
    out: dict[str, Any] = {}
    with open(path, encoding="ascii", errors="replace") as handle:
        next(handle, None)  # header
        for line in handle:
            cols = line.split()
            if len(cols) < 6:
                continue
            ip, flags, mac = cols[0], cols[2], cols[3].lower()
            if mac not in macs or int(flags, 16) & 0x2 == 0:  # ATF_COM: resolved
                continue
            entry = out.setdefault(mac, {"hwaddr": mac, "addrs": []})
            entry["addrs"].append({"addr": ip, "prefix": 0, "type": libvirt.VIR_IP_ADDR_TYPE_IPV4})
    return out


def guest_addresses(
    dom: libvirt.virDomain, *, agent: bool = True, local: bool = False
) -> AddressReport:
    """Every NIC of the domain with its addresses (lease, then ARP, then agent).

    `local`: the host is this machine, so when libvirt's ARP source fails the neighbour table is
    read from /proc/net/arp instead (said in `notes`)."""
    xml = dom.XMLDesc(0)
    nics = _nics_from_xml(xml)
    if not dom.isActive():
        return AddressReport(tuple(nics), {"all": "not running"})
    sources: dict[str, dict[str, Any]] = {}
    unavailable: dict[str, str] = {}
    plan = [
        ("lease", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE),
        ("arp", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP),
    ]
    why_no_agent = agent_state(xml) if agent else "not asked"
    if why_no_agent:
        unavailable["agent"] = why_no_agent
    else:
        plan.append(("agent", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT))
    notes: list[str] = []
    for name, src in plan:
        try:
            sources[name] = dict(dom.interfaceAddresses(src, 0) or {})
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise
            reason = str(exc.get_error_message() or exc)
            if name == "arp" and local:
                try:
                    sources[name] = read_arp_table(nics)
                except OSError as os_exc:
                    unavailable[name] = f"{reason}; /proc/net/arp: {os_exc.strerror}"
                else:
                    notes.append(f"libvirt's ARP source failed ({reason}): read /proc/net/arp")
                continue
            unavailable[name] = reason
    return AddressReport(merge_addresses(nics, sources), unavailable, tuple(notes))
