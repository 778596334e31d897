"""Guest addresses: merging libvirt's sources per NIC, the agent channel, the ARP table."""

from __future__ import annotations

from pathlib import Path

from virttui.core.domain.addresses import (
    AddressReport,
    NicAddresses,
    _nics_from_xml,
    agent_state,
    merge_addresses,
    read_arp_table,
)

XML = """<domain><devices>
<interface type='network'><mac address='52:54:00:AA:00:01'/><source network='iso'/>
  <model type='virtio'/><target dev='vnet3'/></interface>
<interface type='bridge'><mac address='52:54:00:aa:00:02'/><source bridge='br0'/>
  <model type='e1000'/></interface>
<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/>
</channel>
</devices></domain>"""


def test_nics_from_xml() -> None:
    nics = _nics_from_xml(XML)
    assert [(n.mac, n.type, n.source, n.model, n.target) for n in nics] == [
        ("52:54:00:aa:00:01", "network", "iso", "virtio", "vnet3"),
        ("52:54:00:aa:00:02", "bridge", "br0", "e1000", ""),
    ]


def test_agent_state() -> None:
    assert agent_state(XML) == "guest agent not connected"
    assert agent_state(XML.replace("disconnected", "connected")) == ""
    assert agent_state("<domain><devices/></domain>") == "no guest agent channel"


def test_merge_keeps_order_sources_and_drops_link_local() -> None:
    nics = _nics_from_xml(XML)
    lease = {
        "vnet3": {
            "hwaddr": "52:54:00:aa:00:01",
            "addrs": [{"addr": "198.18.7.100", "prefix": 24, "type": 0}],
        }
    }
    arp = {
        "vnet3": {
            "hwaddr": "52:54:00:AA:00:01",
            "addrs": [{"addr": "198.18.7.100", "prefix": 0, "type": 0}],
        }
    }
    agent = {
        "lo": {
            "hwaddr": "00:00:00:00:00:00",
            "addrs": [{"addr": "127.0.0.1", "prefix": 8, "type": 0}],
        },
        "eth1": {
            "hwaddr": "52:54:00:aa:00:02",
            "addrs": [
                {"addr": "fe80::1", "prefix": 64, "type": 1},
                {"addr": "fd00::9", "prefix": 64, "type": 1},
            ],
        },
    }
    merged = merge_addresses(nics, {"lease": lease, "arp": arp, "agent": agent})
    first, second = merged
    assert [(a.label, a.sources) for a in first.addresses] == [
        ("198.18.7.100/24", ("lease", "arp"))
    ]
    assert [(a.label, a.family, a.sources) for a in second.addresses] == [
        ("fd00::9/64", "ipv6", ("agent",))
    ]
    report = AddressReport(merged)
    assert report.primary_ip == "198.18.7.100"
    assert AddressReport((NicAddresses("m", "user", "", "virtio", ""),)).primary_ip == ""


def test_read_arp_table(tmp_path: Path) -> None:
    table = tmp_path / "arp"
    table.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "198.18.7.100     0x1         0x2         52:54:00:aa:00:01     *        vtb1\n"
        "198.18.7.101     0x1         0x0         52:54:00:aa:00:02     *        vtb1\n"
        "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n"
    )
    got = read_arp_table(_nics_from_xml(XML), str(table))
    assert got == {
        "52:54:00:aa:00:01": {
            "hwaddr": "52:54:00:aa:00:01",
            "addrs": [{"addr": "198.18.7.100", "prefix": 0, "type": 0}],
        }
    }
