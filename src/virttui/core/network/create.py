"""A new libvirt network: the admin's answers (`NetworkSpec`), checked field by field
(`validate`), turned into XML (`build_xml`, shown before defining), then defined.

Modes: nat, route, open (`<forward mode='open'/>`: no firewall rules), isolated (no forward)
with an IPv4 subnet, a DHCP range, an optional IPv6 prefix and an optional DNS domain name; or
bridge: forwarding to an existing host bridge (no addresses: the bridge's LAN has them).

The IPv4 subnet must not overlap another libvirt network's subnets nor, on this machine, a route
of the host (`/proc/net/route`). A remote host's routes cannot be read through libvirt: only its
networks are checked there, and `CreateContext.notes` says so. Host bridges come from
`/sys/class/net/*/bridge` locally, from libvirt's interface API remotely when the host offers it;
otherwise the bridge is typed freely and a note warns that it is not checked.

`validate` and `build_xml` are pure (no libvirt, no files): the dialog checks as the admin types.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from virttui.core.network.bridges import host_bridges
from virttui.core.network.networks import (
    NetworkError,
    NetworkInfo,
    list_networks,
    network_info,
)

MODES = ("nat", "route", "isolated", "open", "bridge")
NEEDS_IPV4 = frozenset({"nat", "route"})
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
DOMAIN_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")
BRIDGE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")  # IFNAMSIZ - 1


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """What the admin typed. Addresses as text: `validate` says what is wrong with them."""

    name: str
    mode: str = "nat"  # one of MODES
    ipv4: str = ""  # "198.18.7.1/24" (host address) or "198.18.7.0/24" (the gateway is .1)
    dhcp_start: str = ""
    dhcp_end: str = ""
    ipv6: str = ""  # optional: "fd00:1::1/64"
    domain: str = ""  # optional DNS domain name
    bridge: str = ""  # mode bridge: the existing host bridge


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # a NetworkSpec field name
    message: str


@dataclass(frozen=True, slots=True)
class CreateContext:
    """What a new network is checked against, read from the host once per dialog."""

    names: frozenset[str] = frozenset()
    networks: tuple[NetworkInfo, ...] = ()
    host_routes: tuple[ipaddress.IPv4Network, ...] | None = None  # None: could not be read
    bridges: tuple[str, ...] | None = None  # None: not known, typed freely
    notes: tuple[str, ...] = field(default=())  # what could not be checked, said in the dialog


# ---------------------------------------------------------------------------------- host facts
def parse_proc_route(text: str) -> tuple[ipaddress.IPv4Network, ...]:
    """The routed IPv4 subnets of `/proc/net/route` (little-endian hex), default route left out."""
    out: list[ipaddress.IPv4Network] = []
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 8:
            continue
        try:
            dest = socket.inet_ntoa(struct.pack("<L", int(cols[1], 16)))
            mask = socket.inet_ntoa(struct.pack("<L", int(cols[7], 16)))
            net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
        except (ValueError, struct.error, OSError):
            continue
        if net.prefixlen == 0:
            continue  # the default route overlaps everything
        if net not in out:
            out.append(net)
    return tuple(out)


def local_routes(root: Path = Path("/")) -> tuple[ipaddress.IPv4Network, ...] | None:
    try:
        return parse_proc_route((root / "proc/net/route").read_text())
    except OSError:
        return None


def creation_context(
    conn: libvirt.virConnect, *, local: bool, root: Path = Path("/")
) -> CreateContext:
    """Everything `validate` checks against: the host's networks, its routes and bridges.
    `local`: the host is this machine (its /proc and /sys are ours)."""
    networks = tuple(list_networks(conn))
    notes: list[str] = []
    if local:
        routes = local_routes(root)
        if routes is None:
            notes.append("the host's routes could not be read: only libvirt networks checked")
    else:
        routes = None
        notes.append("not this machine: its routes are not checked, only its libvirt networks")
    found = host_bridges(conn, local=local, sys_class_net=root / "sys/class/net")
    bridges = found.names if found.known else None
    if bridges is None:
        notes.append(
            f"the host's bridges are unknown ({found.why}): a typed bridge name is not checked"
        )
    return CreateContext(
        names=frozenset(n.name for n in networks),
        networks=networks,
        host_routes=routes,
        bridges=bridges,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------- checking
@dataclass(frozen=True, slots=True)
class _V4:
    gateway: ipaddress.IPv4Address
    subnet: ipaddress.IPv4Network


def _parse_v4(text: str) -> _V4 | str:
    try:
        iface = ipaddress.IPv4Interface(text.strip())
    except ValueError:
        return f"not an IPv4 subnet: {text.strip()!r} (e.g. 198.18.7.0/24)"
    if "/" not in text:
        return "give the prefix length too (e.g. 198.18.7.0/24)"
    subnet = iface.network
    if subnet.prefixlen > 30:
        return f"/{subnet.prefixlen} is too small: at most /30"
    gateway = iface.ip
    if gateway == subnet.network_address:
        gateway = subnet.network_address + 1
    if gateway == subnet.broadcast_address:
        return f"{gateway} is the broadcast address of {subnet}"
    return _V4(gateway, subnet)


def gateway_and_subnet(text: str) -> tuple[str, ipaddress.IPv4Network] | None:
    v4 = _parse_v4(text)
    return None if isinstance(v4, str) else (str(v4.gateway), v4.subnet)


def _dhcp_errors(spec: NetworkSpec, v4: _V4 | None) -> list[FieldError]:
    start_text, end_text = spec.dhcp_start.strip(), spec.dhcp_end.strip()
    if not start_text and not end_text:
        return []
    if v4 is None:
        return [FieldError("dhcp_start", "DHCP needs an IPv4 subnet")]
    errors: list[FieldError] = []
    if not start_text or not end_text:
        missing = "dhcp_start" if not start_text else "dhcp_end"
        return [FieldError(missing, "give both ends of the DHCP range (or neither)")]
    addrs: dict[str, ipaddress.IPv4Address] = {}
    for name, text in (("dhcp_start", start_text), ("dhcp_end", end_text)):
        try:
            addr = ipaddress.IPv4Address(text)
        except ValueError:
            errors.append(FieldError(name, f"not an IPv4 address: {text!r}"))
            continue
        if addr not in v4.subnet:
            errors.append(FieldError(name, f"{addr} is outside {v4.subnet}"))
        elif addr == v4.subnet.network_address:
            errors.append(FieldError(name, f"{addr} is the network address of {v4.subnet}"))
        elif addr == v4.subnet.broadcast_address:
            errors.append(FieldError(name, f"{addr} is the broadcast address of {v4.subnet}"))
        else:
            addrs[name] = addr
    if errors or len(addrs) < 2:
        return errors
    start, end = addrs["dhcp_start"], addrs["dhcp_end"]
    if start > end:
        return [FieldError("dhcp_end", f"the range ends ({end}) before it starts ({start})")]
    if start <= v4.gateway <= end:
        return [FieldError("dhcp_start", f"the range includes the host's address {v4.gateway}")]
    return []


def validate(spec: NetworkSpec, context: CreateContext) -> list[FieldError]:
    """Every problem of `spec`, each naming its field; an empty list means it can be defined."""
    errors: list[FieldError] = []
    name = spec.name.strip()
    if not name:
        errors.append(FieldError("name", "a name is needed"))
    elif not NAME_RE.match(name):
        errors.append(
            FieldError("name", "letters, digits and _ . + - only, starting with a letter or digit")
        )
    elif name in context.names:
        errors.append(FieldError("name", f"a network named {name} exists already"))
    if spec.mode not in MODES:
        errors.append(FieldError("mode", f"unknown mode {spec.mode!r}: one of {', '.join(MODES)}"))
        return errors
    if spec.mode == "bridge":
        bridge = spec.bridge.strip()
        if not bridge:
            errors.append(FieldError("bridge", "name the host bridge to forward to"))
        elif not BRIDGE_RE.match(bridge):
            errors.append(FieldError("bridge", f"not an interface name: {bridge!r}"))
        elif context.bridges is not None and bridge not in context.bridges:
            known = ", ".join(context.bridges) or "none"
            errors.append(FieldError("bridge", f"no host bridge {bridge} (bridges: {known})"))
        for fname in ("ipv4", "dhcp_start", "dhcp_end", "ipv6", "domain"):
            if getattr(spec, fname).strip():
                errors.append(FieldError(fname, "a bridge network has no addresses of its own"))
        return errors
    v4: _V4 | None = None
    if spec.ipv4.strip():
        parsed = _parse_v4(spec.ipv4)
        if isinstance(parsed, str):
            errors.append(FieldError("ipv4", parsed))
        else:
            v4 = parsed
            errors.extend(_overlaps(v4.subnet, context))
    elif spec.mode in NEEDS_IPV4:
        errors.append(FieldError("ipv4", f"a {spec.mode} network needs an IPv4 subnet"))
    errors.extend(_dhcp_errors(spec, v4 if spec.ipv4.strip() else None))
    if spec.ipv6.strip():
        errors.extend(_ipv6_errors(spec.ipv6.strip(), context))
    domain = spec.domain.strip()
    if domain and not DOMAIN_RE.match(domain):
        errors.append(FieldError("domain", f"not a DNS domain name: {domain!r}"))
    return errors


def _overlaps(subnet: ipaddress.IPv4Network, context: CreateContext) -> list[FieldError]:
    for net in context.networks:
        for ip in net.ipv4:
            try:
                other = ip.subnet
            except ValueError:
                continue
            if subnet.overlaps(other):
                return [FieldError("ipv4", f"{subnet} overlaps network {net.name} ({other})")]
    for route in context.host_routes or ():
        if subnet.overlaps(route):
            return [FieldError("ipv4", f"{subnet} overlaps the host route {route}")]
    return []


def _ipv6_errors(text: str, context: CreateContext) -> list[FieldError]:
    try:
        iface = ipaddress.IPv6Interface(text)
    except ValueError:
        return [FieldError("ipv6", f"not an IPv6 prefix: {text!r} (e.g. fd00:1::1/64)")]
    if "/" not in text:
        return [FieldError("ipv6", "give the prefix length too (e.g. fd00:1::1/64)")]
    if iface.network.prefixlen > 126:
        return [FieldError("ipv6", f"/{iface.network.prefixlen} is too small: at most /126")]
    for net in context.networks:
        for ip in net.ipv6:
            try:
                other = ip.subnet
            except ValueError:
                continue
            if iface.network.overlaps(other):
                return [FieldError("ipv6", f"{iface.network} overlaps network {net.name}")]
    return []


# ---------------------------------------------------------------------------------- XML
def build_xml(spec: NetworkSpec) -> str:
    """The network XML of a valid `spec` (validate first): what the dialog previews."""
    root = ET.Element("network")
    ET.SubElement(root, "name").text = spec.name.strip()
    if spec.mode == "bridge":
        ET.SubElement(root, "forward", mode="bridge")
        ET.SubElement(root, "bridge", name=spec.bridge.strip())
        ET.indent(root)
        return ET.tostring(root, encoding="unicode") + "\n"
    if spec.mode != "isolated":
        ET.SubElement(root, "forward", mode=spec.mode)
    ET.SubElement(root, "bridge", stp="on", delay="0")  # libvirt picks the virbrN name
    if spec.domain.strip():
        ET.SubElement(root, "domain", name=spec.domain.strip(), localOnly="yes")
    v4 = _parse_v4(spec.ipv4) if spec.ipv4.strip() else None
    if isinstance(v4, _V4):
        ip = ET.SubElement(
            root, "ip", address=str(v4.gateway), prefix=str(v4.subnet.prefixlen), family="ipv4"
        )
        if spec.dhcp_start.strip() and spec.dhcp_end.strip():
            dhcp = ET.SubElement(ip, "dhcp")
            ET.SubElement(dhcp, "range", start=spec.dhcp_start.strip(), end=spec.dhcp_end.strip())
    if spec.ipv6.strip():
        iface = ipaddress.IPv6Interface(spec.ipv6.strip())
        address = iface.ip
        if address == iface.network.network_address:
            address = iface.network.network_address + 1
        ET.SubElement(
            root, "ip", family="ipv6", address=str(address), prefix=str(iface.network.prefixlen)
        )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def suggest_dhcp(ipv4: str) -> tuple[str, str] | None:
    """A DHCP range for a subnet: from the address after the host's to the last before the
    broadcast address (what the dialog pre-fills)."""
    v4 = _parse_v4(ipv4)
    if isinstance(v4, str):
        return None
    first = v4.gateway + 1
    last = v4.subnet.broadcast_address - 1
    if first > last or first not in v4.subnet:
        return None
    return str(first), str(last)


# ---------------------------------------------------------------------------------- define
def define_network(
    conn: libvirt.virConnect,
    spec: NetworkSpec,
    *,
    local: bool,
    start: bool = True,
    autostart: bool = False,
    root: Path = Path("/"),
) -> NetworkInfo:
    """Check `spec` again against the host as it is now, define it, optionally start it and
    mark it autostart. Refused (nothing created) with every field's error."""
    errors = validate(spec, creation_context(conn, local=local, root=root))
    if errors:
        raise NetworkError("; ".join(f"{e.field}: {e.message}" for e in errors))
    net = conn.networkDefineXML(build_xml(spec))
    # A network that then cannot start stays defined: the list shows it inactive, the error why.
    if autostart:
        net.setAutostart(1)
    if start:
        net.create()
    return network_info(conn, str(net.name()))
