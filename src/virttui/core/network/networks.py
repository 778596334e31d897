"""libvirt virtual networks: what each one is, who uses it, and its lifecycle.

Every function that takes a `virConnect` blocks (RPCs): call it from a worker, through the
facade. libvirt errors are raised as they are (the facade turns them into `HostError`); our own
refusals raise `NetworkError` with a sentence naming what is in the way.

"Used by" is read from the domains' XML on this connection: an `<interface type='network'>`
whose `<source network='NAME'/>` names the network, in the live XML of a running domain and in
the persistent XML of a defined one (a NIC hot-plugged live only, or only in the next boot's
config, counts too).
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import libvirt

from virttui.core.jobs import JobError

# <forward mode=...>; no <forward> at all means an isolated network.
FORWARD_MODES = ("nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev")
ISOLATED = "isolated"


class NetworkError(JobError):
    """A network action refused for a reason we can name; its text is shown as it is."""


@dataclass(frozen=True, slots=True)
class NetUser:
    """A domain with at least one NIC on a network."""

    name: str
    uuid: str
    running: bool


@dataclass(frozen=True, slots=True)
class IpInfo:
    family: str  # "ipv4" | "ipv6"
    address: str  # the host side's address on the network (the gateway)
    prefix: int
    dhcp_ranges: tuple[tuple[str, str], ...] = ()

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix}"

    @property
    def subnet(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_interface(self.cidr).network


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    name: str
    uuid: str
    active: bool
    autostart: bool
    persistent: bool
    forward_mode: str  # a word of FORWARD_MODES, or "isolated"
    forward_devices: tuple[str, ...]  # <forward dev=> / <interface dev=> (macvtap, passthrough)
    bridge: str  # the network's bridge device (virbrN, or the host bridge it forwards to)
    ips: tuple[IpInfo, ...]
    domain_name: str
    used_by: tuple[NetUser, ...] = field(default=())

    @property
    def ipv4(self) -> tuple[IpInfo, ...]:
        return tuple(ip for ip in self.ips if ip.family == "ipv4")

    @property
    def ipv6(self) -> tuple[IpInfo, ...]:
        return tuple(ip for ip in self.ips if ip.family == "ipv6")

    @property
    def running_users(self) -> tuple[NetUser, ...]:
        return tuple(u for u in self.used_by if u.running)

    @property
    def mode_text(self) -> str:
        """`nat`, `bridge br0`, `macvtap eth0`... as the list shows it."""
        if self.forward_mode == "bridge" and self.bridge:
            return f"bridge {self.bridge}"
        if self.forward_devices:
            return f"{self.forward_mode} {','.join(self.forward_devices)}"
        return self.forward_mode


# ---------------------------------------------------------------------------------- parsing
def _ip_of(el: ET.Element) -> IpInfo | None:
    address = el.get("address", "")
    if not address:
        return None
    family = el.get("family", "") or ("ipv6" if ":" in address else "ipv4")
    prefix_text = el.get("prefix", "")
    netmask = el.get("netmask", "")
    try:
        if prefix_text:
            prefix = int(prefix_text)
        elif netmask:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
        else:
            prefix = 24 if family == "ipv4" else 64
    except ValueError:
        prefix = 0
    ranges = tuple(
        (r.get("start", ""), r.get("end", "")) for r in el.findall("dhcp/range") if r.get("start")
    )
    return IpInfo(family=family, address=address, prefix=prefix, dhcp_ranges=ranges)


def parse_network_xml(xml: str) -> NetworkInfo:
    """The facts of a network's XML (pure: no libvirt); the state fields (active, autostart,
    persistent, used_by) are left at their defaults for the caller to fill."""
    root = ET.fromstring(xml)
    forward = root.find("forward")
    mode = ISOLATED
    devices: list[str] = []
    if forward is not None:
        mode = forward.get("mode", "") or "nat"  # libvirt's default forward mode
        if forward.get("dev"):
            devices.append(forward.get("dev", ""))
        for iface in forward.findall("interface"):
            dev = iface.get("dev", "")
            if dev and dev not in devices:
                devices.append(dev)
        for pf in forward.findall("pf"):
            dev = pf.get("dev", "")
            if dev and dev not in devices:
                devices.append(dev)
    bridge_el = root.find("bridge")
    domain_el = root.find("domain")
    ips = tuple(ip for el in root.findall("ip") if (ip := _ip_of(el)) is not None)
    return NetworkInfo(
        name=(root.findtext("name") or "").strip(),
        uuid=(root.findtext("uuid") or "").strip(),
        active=False,
        autostart=False,
        persistent=False,
        forward_mode=mode,
        forward_devices=tuple(devices),
        bridge=bridge_el.get("name", "") if bridge_el is not None else "",
        ips=ips,
        domain_name=domain_el.get("name", "") if domain_el is not None else "",
    )


def networks_in_domain_xml(xml: str) -> set[str]:
    """Names of the libvirt networks a domain's NICs sit on (`<interface type='network'>`)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return set()
    out: set[str] = set()
    for iface in root.findall("devices/interface"):
        if iface.get("type") != "network":
            continue
        source = iface.find("source")
        if source is not None and source.get("network"):
            out.add(source.get("network", ""))
    return out


# ---------------------------------------------------------------------------------- reads
def network_users(conn: libvirt.virConnect) -> dict[str, tuple[NetUser, ...]]:
    """network name -> the domains (running or not) with a NIC on it, sorted by name."""
    users: dict[str, list[NetUser]] = {}
    for dom in conn.listAllDomains(0):
        try:
            running = bool(dom.isActive())
            nets = networks_in_domain_xml(dom.XMLDesc(0))
            if running and dom.isPersistent():
                nets |= networks_in_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            user = NetUser(name=str(dom.name()), uuid=str(dom.UUIDString()), running=running)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # gone meanwhile
            raise
        for net in nets:
            users.setdefault(net, []).append(user)
    return {net: tuple(sorted(us, key=lambda u: u.name)) for net, us in users.items()}


def _info(
    net: libvirt.virNetwork, users: dict[str, tuple[NetUser, ...]] | None = None
) -> NetworkInfo:
    facts = parse_network_xml(net.XMLDesc(0))
    try:
        autostart = bool(net.autostart())
    except libvirt.libvirtError:
        autostart = False
    name = str(net.name())
    return replace(
        facts,
        name=name,
        uuid=str(net.UUIDString()),
        active=bool(net.isActive()),
        autostart=autostart,
        persistent=bool(net.isPersistent()),
        used_by=(users or {}).get(name, ()),
    )


def list_networks(conn: libvirt.virConnect) -> list[NetworkInfo]:
    """Every network (active or not) with its users, sorted by name."""
    users = network_users(conn)
    out: list[NetworkInfo] = []
    for net in conn.listAllNetworks(0):
        try:
            out.append(_info(net, users))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                raise
    return sorted(out, key=lambda n: n.name)


def lookup_network(conn: libvirt.virConnect, name: str) -> libvirt.virNetwork:
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            raise NetworkError(f"no network named {name!r} on this host") from exc
        raise


def network_info(conn: libvirt.virConnect, name: str) -> NetworkInfo:
    return _info(lookup_network(conn, name), network_users(conn))


def network_xml(conn: libvirt.virConnect, name: str) -> str:
    return str(lookup_network(conn, name).XMLDesc(0))


def names_text(users: Iterable[NetUser]) -> str:
    return ", ".join(u.name for u in users)


# ---------------------------------------------------------------------------------- lifecycle
def start_network(conn: libvirt.virConnect, name: str) -> NetworkInfo:
    """Start an inactive network (no-op when it runs); its fresh facts."""
    net = lookup_network(conn, name)
    if not net.isActive():
        net.create()
    return network_info(conn, name)


def set_autostart(conn: libvirt.virConnect, name: str, enabled: bool) -> NetworkInfo:
    net = lookup_network(conn, name)
    if not net.isPersistent():
        raise NetworkError(f"{name} is transient: only a defined network can start at boot")
    net.setAutostart(1 if enabled else 0)
    return network_info(conn, name)


def start_and_autostart(conn: libvirt.virConnect, name: str) -> NetworkInfo:
    """The one-key fix for an inactive `default`: start it and start it at boot."""
    net = lookup_network(conn, name)
    if net.isPersistent() and not net.autostart():
        net.setAutostart(1)
    if not net.isActive():
        net.create()
    return network_info(conn, name)


def stop_network(conn: libvirt.virConnect, name: str) -> tuple[NetUser, ...]:
    """Stop (destroy) a running network. Returns the running domains that had a NIC on it: they
    lost connectivity (libvirt does not re-plug their NICs when the network starts again)."""
    net = lookup_network(conn, name)
    users = network_users(conn).get(name, ())
    if net.isActive():
        net.destroy()
    return tuple(u for u in users if u.running)


def undefine_network(conn: libvirt.virConnect, name: str) -> None:
    """Forget a network's definition. Refused while it runs, and while any defined domain
    (running or not) has a NIC on it, naming them."""
    net = lookup_network(conn, name)
    if net.isActive():
        raise NetworkError(f"{name} is active: stop it before undefining it")
    users = network_users(conn).get(name, ())
    if users:
        raise NetworkError(f"{name} is used by {names_text(users)}: remove their NICs first")
    net.undefine()
