"""DHCP leases of a libvirt network and its static reservations (`<ip><dhcp><host>`).

`list_leases` reads `getDHCPLeases` and says which domain each MAC belongs to (from the domain
XMLs of the same connection, running or not). `add_reservation` / `remove_reservation` change
`<host mac=... ip=... name=...>` with `networkUpdate` (section IP_DHCP_HOST), live and persistent
when the network is active, persistent only when it is not, after `check_reservation` found the
input well-formed (MAC syntax, IP inside the DHCP subnet, no duplicate MAC/IP/name).
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import libvirt

__all__ = [
    "Lease",
    "Reservation",
    "ReservationError",
    "add_reservation",
    "check_reservation",
    "domain_macs",
    "list_leases",
    "list_reservations",
    "normalize_mac",
    "remove_reservation",
    "reservation_xml",
]

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class ReservationError(ValueError):
    """Bad reservation input; `field` names the form field it belongs to (mac, ip, name)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Lease:
    mac: str
    ip: str
    prefix: int
    hostname: str
    expiry: int  # seconds since the epoch; 0 when libvirt gives none
    client_id: str
    iface: str
    ip_type: str  # "ipv4" / "ipv6"
    domain: str  # name of the domain owning the MAC ("" when none)


@dataclass(frozen=True)
class Reservation:
    mac: str
    ip: str
    name: str
    domain: str = ""  # the domain owning the MAC, when one does


def normalize_mac(mac: str) -> str:
    """Lower-case `aa:bb:cc:dd:ee:ff`, or ReservationError."""
    text = mac.strip().lower().replace("-", ":")
    if not _MAC_RE.match(text):
        raise ReservationError(f"not a MAC address: {mac!r} (expected aa:bb:cc:dd:ee:ff)", "mac")
    if int(text[:2], 16) & 1:
        raise ReservationError(f"{text} is a multicast MAC address", "mac")
    return text


def domain_macs(conn: libvirt.virConnect) -> dict[str, str]:
    """MAC (lower case) -> domain name, over every domain of the connection (live XML for
    running ones, which holds generated MACs)."""
    out: dict[str, str] = {}
    for dom in conn.listAllDomains(0):
        try:
            root = ET.fromstring(dom.XMLDesc(0))
            name = dom.name()
        except (libvirt.libvirtError, ET.ParseError):
            continue  # gone meanwhile, or unreadable: no owner rather than no list
        for mac in root.iterfind("./devices/interface/mac"):
            addr = (mac.get("address") or "").lower()
            if addr:
                out.setdefault(addr, name)
    return out


def _ip_type(value: object) -> str:
    if value == libvirt.VIR_IP_ADDR_TYPE_IPV6:
        return "ipv6"
    return "ipv4"


def list_leases(conn: libvirt.virConnect, network: str) -> list[Lease]:
    """Every current lease of `network` with its owner domain, sorted by IP."""
    net = conn.networkLookupByName(network)
    raw = net.DHCPLeases() or []
    owners = domain_macs(conn)
    rows: list[Lease] = []
    for item in raw:
        mac = str(item.get("mac") or "").lower()
        rows.append(
            Lease(
                mac=mac,
                ip=str(item.get("ipaddr") or ""),
                prefix=int(item.get("prefix") or 0),
                hostname=str(item.get("hostname") or ""),
                expiry=int(item.get("expirytime") or 0),
                client_id=str(item.get("clientid") or ""),
                iface=str(item.get("iface") or ""),
                ip_type=_ip_type(item.get("type")),
                domain=owners.get(mac, ""),
            )
        )
    rows.sort(key=lambda r: _ip_key(r.ip))
    return rows


def _ip_key(ip: str) -> tuple[int, int, str]:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0, ip)
    return (addr.version, int(addr), "")


def _dhcp_ips(root: ET.Element) -> list[ET.Element]:
    """The IPv4 `<ip>` elements with a `<dhcp>` child (where reservations live)."""
    out = []
    for ip in root.iterfind("./ip"):
        family = ip.get("family") or "ipv4"
        if family == "ipv4" and ip.find("dhcp") is not None:
            out.append(ip)
    return out


def _subnet(ip_el: ET.Element) -> ipaddress.IPv4Network | None:
    address = ip_el.get("address") or ""
    prefix = ip_el.get("prefix")
    netmask = ip_el.get("netmask")
    try:
        if prefix:
            return ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
        if netmask:
            return ipaddress.IPv4Network(f"{address}/{netmask}", strict=False)
        return ipaddress.IPv4Network(f"{address}/24", strict=False)
    except ValueError:
        return None


def reservations_from_xml(xml: str, owners: dict[str, str] | None = None) -> list[Reservation]:
    """The `<host>` reservations of the IPv4 DHCP sections of a network XML."""
    root = ET.fromstring(xml)
    owners = owners or {}
    out: list[Reservation] = []
    for ip_el in _dhcp_ips(root):
        for host in ip_el.iterfind("./dhcp/host"):
            mac = (host.get("mac") or "").lower()
            out.append(
                Reservation(
                    mac=mac,
                    ip=host.get("ip") or "",
                    name=host.get("name") or "",
                    domain=owners.get(mac, ""),
                )
            )
    return out


def list_reservations(conn: libvirt.virConnect, network: str) -> list[Reservation]:
    """The persistent reservations (inactive XML: what the next start will use), with owners."""
    net = conn.networkLookupByName(network)
    flags = libvirt.VIR_NETWORK_XML_INACTIVE if net.isPersistent() else 0
    return reservations_from_xml(net.XMLDesc(flags), domain_macs(conn))


def check_reservation(xml: str, mac: str, ip: str, name: str = "") -> Reservation:
    """Validate a new reservation against the network XML; returns it normalised.

    Raises ReservationError for: a malformed MAC or IP, an IP outside every DHCP subnet of the
    network (or equal to the network's own or broadcast address or the host's bridge address),
    a MAC, IP or name already reserved, a malformed name."""
    mac_n = normalize_mac(mac)
    try:
        addr = ipaddress.IPv4Address(ip.strip())
    except ValueError as exc:
        raise ReservationError(f"not an IPv4 address: {ip!r}", "ip") from exc
    name = name.strip()
    if name and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})", name):
        raise ReservationError(
            f"not a host name: {name!r} (letters, digits and '-', up to 63)", "name"
        )
    root = ET.fromstring(xml)
    ips = _dhcp_ips(root)
    if not ips:
        raise ReservationError("this network has no IPv4 DHCP section", "ip")
    subnets = []
    inside = False
    for ip_el in ips:
        subnet = _subnet(ip_el)
        if subnet is None:
            continue
        subnets.append(str(subnet))
        if addr in subnet:
            inside = True
            if addr in (subnet.network_address, subnet.broadcast_address):
                raise ReservationError(f"{addr} is the network or broadcast address", "ip")
            if str(addr) == (ip_el.get("address") or ""):
                raise ReservationError(f"{addr} is the host's own address on it", "ip")
    if not inside:
        raise ReservationError(f"{addr} is outside the DHCP subnet {', '.join(subnets)}", "ip")
    for existing in reservations_from_xml(xml):
        if existing.mac == mac_n:
            raise ReservationError(f"{mac_n} already has a reservation ({existing.ip})", "mac")
        if existing.ip == str(addr):
            raise ReservationError(f"{addr} is already reserved for {existing.mac}", "ip")
        if name and existing.name == name:
            raise ReservationError(f"the name {name} is already reserved", "name")
    return Reservation(mac=mac_n, ip=str(addr), name=name)


def reservation_xml(res: Reservation) -> str:
    attrs = f"mac={quoteattr(res.mac)}"
    if res.name:
        attrs += f" name={quoteattr(res.name)}"
    attrs += f" ip={quoteattr(res.ip)}"
    return f"<host {attrs}/>"


def _update_flags(net: libvirt.virNetwork) -> int:
    """LIVE|CONFIG when active and persistent, LIVE for a transient one, CONFIG when inactive."""
    if net.isActive():
        if not net.isPersistent():
            return int(libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE)
        return int(
            libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        )
    return int(libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)


def _ip_index(xml: str, ip: str) -> int:
    """Index of the `<ip>` element (among all of them) whose subnet holds `ip` (-1: any)."""
    root = ET.fromstring(xml)
    addr = ipaddress.ip_address(ip)
    for index, ip_el in enumerate(root.iterfind("./ip")):
        if ip_el.find("dhcp") is None or (ip_el.get("family") or "ipv4") != "ipv4":
            continue
        subnet = _subnet(ip_el)
        if subnet is not None and addr in subnet:
            return index
    return -1


def add_reservation(
    conn: libvirt.virConnect, network: str, mac: str, ip: str, name: str = ""
) -> Reservation:
    """Validate and add `<host>` (live and persistent when active, persistent otherwise)."""
    net = conn.networkLookupByName(network)
    flags = libvirt.VIR_NETWORK_XML_INACTIVE if net.isPersistent() else 0
    xml = net.XMLDesc(flags)
    res = check_reservation(xml, mac, ip, name)
    if net.isActive():
        # The live definition may differ (a reservation added live only): check it too.
        check_reservation(net.XMLDesc(0), res.mac, res.ip, res.name)
    net.update(
        libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
        _ip_index(xml, res.ip),
        reservation_xml(res),
        _update_flags(net),
    )
    return res


def remove_reservation(conn: libvirt.virConnect, network: str, mac: str) -> Reservation:
    """Remove the reservation of `mac` (live and persistent when active)."""
    net = conn.networkLookupByName(network)
    mac_n = normalize_mac(mac)
    flags = libvirt.VIR_NETWORK_XML_INACTIVE if net.isPersistent() else 0
    xml = net.XMLDesc(flags)
    found = [r for r in reservations_from_xml(xml) if r.mac == mac_n]
    if not found and net.isActive():
        found = [r for r in reservations_from_xml(net.XMLDesc(0)) if r.mac == mac_n]
    if not found:
        raise ReservationError(f"no reservation for {mac_n} on {network}", "mac")
    res = found[0]
    net.update(
        libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
        _ip_index(xml, res.ip) if res.ip else -1,
        reservation_xml(res),
        _update_flags(net),
    )
    return res
