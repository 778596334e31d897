"""core/network/networks.py: XML facts, who uses a network, lifecycle refusals (test driver)."""

from __future__ import annotations

import libvirt
import pytest

from virttui.core.network import networks as N

NAT_XML = """<network>
  <name>lab</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
  <forward mode='nat'/>
  <bridge name='virbr7' stp='on' delay='0'/>
  <domain name='lab.test'/>
  <ip address='198.18.7.1' netmask='255.255.255.0'>
    <dhcp><range start='198.18.7.10' end='198.18.7.99'/></dhcp>
  </ip>
  <ip family='ipv6' address='fd00:7::1' prefix='64'/>
</network>"""


def test_parse_nat_network() -> None:
    info = N.parse_network_xml(NAT_XML)
    assert info.name == "lab"
    assert info.forward_mode == "nat"
    assert info.bridge == "virbr7"
    assert info.domain_name == "lab.test"
    assert [ip.cidr for ip in info.ipv4] == ["198.18.7.1/24"]
    assert info.ipv4[0].dhcp_ranges == (("198.18.7.10", "198.18.7.99"),)
    assert [ip.cidr for ip in info.ipv6] == ["fd00:7::1/64"]
    assert info.mode_text == "nat"


@pytest.mark.parametrize(
    ("forward", "mode", "text"),
    [
        ("", "isolated", "isolated"),
        ("<forward/>", "nat", "nat"),
        ("<forward mode='route'/>", "route", "route"),
        ("<forward mode='open'/>", "open", "open"),
        ("<forward mode='bridge'/><bridge name='br0'/>", "bridge", "bridge br0"),
        ("<forward mode='bridge' dev='eth0'><interface dev='eth0'/></forward>", "bridge", None),
        (
            "<forward mode='passthrough'><interface dev='eth1'/><interface dev='eth2'/></forward>",
            "passthrough",
            "passthrough eth1,eth2",
        ),
        ("<forward mode='hostdev'><pf dev='eth3'/></forward>", "hostdev", "hostdev eth3"),
    ],
)
def test_forward_modes(forward: str, mode: str, text: str | None) -> None:
    info = N.parse_network_xml(f"<network><name>n</name>{forward}</network>")
    assert info.forward_mode == mode
    if text is not None:
        assert info.mode_text == text
    else:  # macvtap bridge mode: the device is named
        assert info.forward_devices == ("eth0",)
        assert info.mode_text == "bridge eth0"


def test_networks_in_domain_xml() -> None:
    xml = """<domain><devices>
      <interface type='network'><source network='a'/></interface>
      <interface type='network'><source network='b'/></interface>
      <interface type='bridge'><source bridge='a'/></interface>
      <interface type='user'/>
    </devices></domain>"""
    assert N.networks_in_domain_xml(xml) == {"a", "b"}
    assert N.networks_in_domain_xml("not xml") == set()


def test_list_networks_with_users(conn: libvirt.virConnect) -> None:
    nets = N.list_networks(conn)
    default = next(n for n in nets if n.name == "default")
    assert default.active
    assert [u.name for u in default.used_by] == ["test"]
    assert default.running_users[0].running


def test_undefine_refusals(conn: libvirt.virConnect) -> None:
    with pytest.raises(N.NetworkError, match="active"):
        N.undefine_network(conn, "default")
    users = N.stop_network(conn, "default")
    assert [u.name for u in users] == ["test"]  # the running domain that lost connectivity
    assert not N.network_info(conn, "default").active
    with pytest.raises(N.NetworkError, match="used by test"):
        N.undefine_network(conn, "default")
    with pytest.raises(N.NetworkError, match="no network named"):
        N.network_info(conn, "nope")


def test_start_and_autostart(conn: libvirt.virConnect) -> None:
    N.stop_network(conn, "default")
    N.set_autostart(conn, "default", False)
    info = N.start_and_autostart(conn, "default")
    assert info.active and info.autostart
    assert not N.set_autostart(conn, "default", False).autostart
    assert N.start_network(conn, "default").active  # already running: no error
