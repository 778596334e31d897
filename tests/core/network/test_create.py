"""core/network/create.py: every validation (pure), the XML built, host routes and bridges."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from virttui.core.network import create as C
from virttui.core.network.networks import NetworkError, parse_network_xml

OTHER = parse_network_xml(
    "<network><name>other</name><ip address='198.18.9.1' prefix='24'/>"
    "<ip family='ipv6' address='fd00:9::1' prefix='64'/></network>"
)
CONTEXT = C.CreateContext(
    names=frozenset({"other"}),
    networks=(OTHER,),
    host_routes=(ipaddress.IPv4Network("10.20.0.0/16"),),
    bridges=("br0",),
)


def spec(**kw: str) -> C.NetworkSpec:
    base = {
        "name": "lab",
        "mode": "nat",
        "ipv4": "198.18.7.0/24",
        "dhcp_start": "198.18.7.10",
        "dhcp_end": "198.18.7.99",
    }
    base.update(kw)
    return C.NetworkSpec(**base)


def errors(s: C.NetworkSpec, context: C.CreateContext = CONTEXT) -> dict[str, str]:
    return {e.field: e.message for e in C.validate(s, context)}


def test_valid_nat() -> None:
    assert errors(spec()) == {}


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"name": ""}, "name", "needed"),
        ({"name": "bad/name"}, "name", "letters"),
        ({"name": "-x"}, "name", "letters"),
        ({"name": "other"}, "name", "exists already"),
        ({"mode": "weird"}, "mode", "unknown mode"),
        ({"ipv4": ""}, "ipv4", "needs an IPv4 subnet"),
        ({"ipv4": "198.18.7"}, "ipv4", "not an IPv4 subnet"),
        ({"ipv4": "198.18.7.1"}, "ipv4", "prefix length"),
        ({"ipv4": "198.18.7.0/31"}, "ipv4", "too small"),
        ({"ipv4": "198.18.7.255/24"}, "ipv4", "broadcast"),
        ({"ipv4": "198.18.9.0/25"}, "ipv4", "overlaps network other"),
        ({"ipv4": "198.18.0.0/15"}, "ipv4", "overlaps network other"),
        ({"ipv4": "10.20.3.0/24"}, "ipv4", "overlaps the host route 10.20.0.0/16"),
        ({"dhcp_start": "198.18.8.10"}, "dhcp_start", "outside 198.18.7.0/24"),
        ({"dhcp_end": "198.18.7.255"}, "dhcp_end", "broadcast"),
        ({"dhcp_start": "198.18.7.0"}, "dhcp_start", "network address"),
        ({"dhcp_start": "198.18.7.1"}, "dhcp_start", "host's address 198.18.7.1"),
        ({"dhcp_start": "198.18.7.50", "dhcp_end": "198.18.7.20"}, "dhcp_end", "before"),
        ({"dhcp_start": "x"}, "dhcp_start", "not an IPv4 address"),
        ({"dhcp_end": ""}, "dhcp_end", "both ends"),
        ({"ipv6": "fd00::zz/64"}, "ipv6", "not an IPv6 prefix"),
        ({"ipv6": "fd00:1::1"}, "ipv6", "prefix length"),
        ({"ipv6": "fd00:9::/48"}, "ipv6", "overlaps network other"),
        ({"domain": "bad domain"}, "domain", "not a DNS domain"),
    ],
)
def test_field_errors(kw: dict[str, str], field: str, words: str) -> None:
    found = errors(spec(**kw))
    assert field in found, found
    assert words in found[field]


def test_gateway_in_range_with_host_address() -> None:
    # 198.18.7.5/24: the host's address is .5; a range over it is refused
    found = errors(spec(ipv4="198.18.7.5/24", dhcp_start="198.18.7.2", dhcp_end="198.18.7.9"))
    assert "198.18.7.5" in found["dhcp_start"]


def test_isolated_and_open_without_ipv4_and_dhcp_needs_subnet() -> None:
    assert errors(spec(mode="isolated", ipv4="", dhcp_start="", dhcp_end="")) == {}
    assert errors(spec(mode="open", ipv4="", dhcp_start="", dhcp_end="")) == {}
    assert "needs an IPv4" in errors(spec(mode="isolated", ipv4=""))["dhcp_start"]


def test_bridge_mode() -> None:
    ok = C.NetworkSpec(name="lan", mode="bridge", bridge="br0")
    assert errors(ok) == {}
    assert (
        "no host bridge br1"
        in errors(C.NetworkSpec(name="lan", mode="bridge", bridge="br1"))["bridge"]
    )
    assert "name the host bridge" in errors(C.NetworkSpec(name="lan", mode="bridge"))["bridge"]
    assert "no addresses" in errors(spec(mode="bridge", bridge="br0"))["ipv4"]
    unknown = C.CreateContext(bridges=None)  # typed freely: not checked
    assert errors(C.NetworkSpec(name="lan", mode="bridge", bridge="brX"), unknown) == {}
    assert (
        "not an interface"
        in errors(C.NetworkSpec(name="lan", mode="bridge", bridge="b r"), unknown)["bridge"]
    )


def test_no_routes_known_checks_networks_only() -> None:
    context = C.CreateContext(networks=(OTHER,), host_routes=None)
    assert errors(spec(ipv4="10.20.3.0/24", dhcp_start="", dhcp_end=""), context) == {}


def test_build_xml_nat() -> None:
    xml = C.build_xml(spec(ipv6="fd00:7::/64", domain="lab.test"))
    info = parse_network_xml(xml)
    assert info.name == "lab" and info.forward_mode == "nat"
    assert [ip.cidr for ip in info.ipv4] == ["198.18.7.1/24"]
    assert info.ipv4[0].dhcp_ranges == (("198.18.7.10", "198.18.7.99"),)
    assert [ip.cidr for ip in info.ipv6] == ["fd00:7::1/64"]
    assert info.domain_name == "lab.test"


@pytest.mark.parametrize("mode", ["route", "open", "isolated"])
def test_build_xml_modes(mode: str) -> None:
    root = ET.fromstring(C.build_xml(spec(mode=mode)))
    forward = root.find("forward")
    if mode == "isolated":
        assert forward is None
    else:
        assert forward is not None and forward.get("mode") == mode


def test_build_xml_bridge() -> None:
    root = ET.fromstring(C.build_xml(C.NetworkSpec(name="lan", mode="bridge", bridge="br0")))
    assert root.find("forward").get("mode") == "bridge"  # type: ignore[union-attr]
    assert root.find("bridge").get("name") == "br0"  # type: ignore[union-attr]
    assert root.find("ip") is None


def test_build_xml_escapes_names() -> None:
    xml = C.build_xml(spec(name="a<b>&c"))
    assert ET.fromstring(xml).findtext("name") == "a<b>&c"


def test_suggest_dhcp() -> None:
    assert C.suggest_dhcp("198.18.7.0/24") == ("198.18.7.2", "198.18.7.254")
    assert C.suggest_dhcp("bad") is None


ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
virbr0\t007AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


def test_parse_proc_route() -> None:
    assert C.parse_proc_route(ROUTE) == (
        ipaddress.IPv4Network("192.168.2.0/24"),
        ipaddress.IPv4Network("192.168.122.0/24"),
    )


def test_local_routes_and_bridges(tmp_path: Path, conn: libvirt.virConnect) -> None:
    (tmp_path / "proc/net").mkdir(parents=True)
    (tmp_path / "proc/net/route").write_text(ROUTE)
    for name, bridge in (("br0", True), ("eth0", False), ("virbr0", True)):
        (tmp_path / "sys/class/net" / name).mkdir(parents=True)
        if bridge:
            (tmp_path / "sys/class/net" / name / "bridge").mkdir()
    assert len(C.local_routes(tmp_path) or ()) == 2
    found = C.creation_context(conn, local=True, root=tmp_path)  # the one bridge reader
    assert found.bridges == ("br0", "virbr0")
    assert C.local_routes(tmp_path / "nothing") is None


def test_context_not_local_says_what_is_unchecked(conn: libvirt.virConnect) -> None:
    context = C.creation_context(conn, local=False)
    assert "default" in context.names
    assert context.host_routes is None
    assert any("routes are not checked" in note for note in context.notes)
    # This test node's interface API answers but lists no interface at all: the bridges count
    # as unknown (core/network/bridges.py, the one reader), and a note says a name is unchecked.
    assert context.bridges is None
    assert any(
        "bridges are unknown" in note and "lists no interfaces" in note for note in context.notes
    )


def test_define_refused_creates_nothing(conn: libvirt.virConnect) -> None:
    before = {n.name() for n in conn.listAllNetworks(0)}
    with pytest.raises(NetworkError, match="ipv4: .*overlaps network default"):
        C.define_network(conn, spec(ipv4="192.168.122.0/24", dhcp_start=""), local=False)
    assert {n.name() for n in conn.listAllNetworks(0)} == before


def test_define_on_test_driver(conn: libvirt.virConnect) -> None:
    info = C.define_network(conn, spec(), local=False, start=True, autostart=True)
    assert info.active and info.autostart and info.persistent
    assert info.ipv4[0].cidr == "198.18.7.1/24"
