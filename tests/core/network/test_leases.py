"""Reservation checks and XML, without libvirt."""

from __future__ import annotations

import pytest

from virttui.core.network.leases import (
    Reservation,
    ReservationError,
    check_reservation,
    normalize_mac,
    reservation_xml,
    reservations_from_xml,
)

NET = """<network><name>n</name>
<ip address='198.18.7.1' netmask='255.255.255.0'>
  <dhcp><range start='198.18.7.100' end='198.18.7.199'/>
  <host mac='52:54:00:00:00:01' name='one' ip='198.18.7.10'/></dhcp></ip>
<ip family='ipv6' address='fd00::1' prefix='64'/>
</network>"""


def test_normalize_mac() -> None:
    assert normalize_mac(" 52-54-00-AA-bb-CC ") == "52:54:00:aa:bb:cc"
    for bad in ("52:54:00:aa:bb", "zz:54:00:aa:bb:cc", "", "52:54:00:aa:bb:cc:dd"):
        with pytest.raises(ReservationError) as info:
            normalize_mac(bad)
        assert info.value.field == "mac"
    with pytest.raises(ReservationError, match="multicast"):
        normalize_mac("01:00:5e:00:00:01")


def test_existing_reservations_are_read() -> None:
    assert reservations_from_xml(NET, {"52:54:00:00:00:01": "vm1"}) == [
        Reservation("52:54:00:00:00:01", "198.18.7.10", "one", "vm1")
    ]


def test_a_good_reservation_is_normalised() -> None:
    res = check_reservation(NET, "52:54:00:00:00:02", " 198.18.7.11 ", "two")
    assert res == Reservation("52:54:00:00:00:02", "198.18.7.11", "two")
    assert reservation_xml(res) == '<host mac="52:54:00:00:00:02" name="two" ip="198.18.7.11"/>'


@pytest.mark.parametrize(
    ("mac", "ip", "name", "field", "words"),
    [
        ("52:54:00:00:00:01", "198.18.7.11", "", "mac", "already has a reservation"),
        ("52:54:00:00:00:02", "198.18.7.10", "", "ip", "already reserved"),
        ("52:54:00:00:00:02", "198.18.8.10", "", "ip", "outside the DHCP subnet 198.18.7.0/24"),
        ("52:54:00:00:00:02", "198.18.7.255", "", "ip", "broadcast"),
        ("52:54:00:00:00:02", "198.18.7.1", "", "ip", "host's own address"),
        ("52:54:00:00:00:02", "fd00::5", "", "ip", "not an IPv4 address"),
        ("52:54:00:00:00:02", "198.18.7.11", "one", "name", "already reserved"),
        ("52:54:00:00:00:02", "198.18.7.11", "bad name", "name", "not a host name"),
        ("52:54:00:00:02", "198.18.7.11", "", "mac", "not a MAC"),
    ],
)
def test_bad_reservations_are_refused(mac: str, ip: str, name: str, field: str, words: str) -> None:
    with pytest.raises(ReservationError) as info:
        check_reservation(NET, mac, ip, name)
    assert info.value.field == field
    assert words in info.value.message


def test_no_dhcp_section() -> None:
    xml = "<network><name>n</name><ip address='198.18.7.1' prefix='24'/></network>"
    with pytest.raises(ReservationError, match="no IPv4 DHCP"):
        check_reservation(xml, "52:54:00:00:00:02", "198.18.7.11")
