"""The address cache: replaced per host, versioned only on change."""

from __future__ import annotations

from virttui.core.domain.address_cache import AddressCache
from virttui.core.domain.addresses import AddressReport, GuestAddress, NicAddresses


def report(ip: str) -> AddressReport:
    addr = GuestAddress(ip, 24, "ipv4", ("lease",))
    return AddressReport(
        (NicAddresses("52:54:00:00:00:01", "network", "n", "virtio", "", (addr,)),)
    )


def test_update_replaces_a_host_and_versions_changes_only() -> None:
    cache = AddressCache()
    assert cache.update_host("a", {"u1": report("198.18.0.5"), "u2": report("198.18.0.6")})
    cache.update_host("b", {"u1": report("198.18.1.5")})
    version = cache.version
    assert not cache.update_host("a", {"u1": report("198.18.0.5"), "u2": report("198.18.0.6")})
    assert cache.version == version
    assert cache.update_host("a", {"u1": report("198.18.0.7")})  # u2 stopped
    assert cache.primary_ip("a", "u1") == "198.18.0.7"
    assert cache.get("a", "u2") is None and cache.primary_ip("a", "u2") == ""
    assert cache.primary_ip("b", "u1") == "198.18.1.5"
    cache.forget_host("b")
    assert cache.get("b", "u1") is None


def test_update_of_some_domains_keeps_the_others() -> None:
    cache = AddressCache()
    cache.update_host("a", {"u1": report("198.18.0.5"), "u2": report("198.18.0.6")})
    assert cache.update_host("a", {}, only={"u1"})  # u1 stopped; u2 not asked about
    assert cache.get("a", "u1") is None
    assert cache.primary_ip("a", "u2") == "198.18.0.6"
