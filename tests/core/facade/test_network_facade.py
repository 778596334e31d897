"""The netscreen block of HostFacade on a private test-driver host: plain data back, our
refusals (NetworkError) pass through as they are, libvirt's errors become HostError."""

from __future__ import annotations

import libvirt
import pytest

from tests.core.facade.test_host_facade import TEST_NODE, ConnHost, host  # noqa: F401
from virttui.core.facade.host import HostError, HostFacade
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.network.create import NetworkSpec
from virttui.core.network.networks import NetworkError, NetworkInfo
from virttui.demo import demo_uri


def test_network_lifecycle_through_the_facade(host: ConnHost) -> None:  # noqa: F811
    facade = HostFacade(host)
    (default,) = facade.network_list()
    assert isinstance(default, NetworkInfo) and default.name == "default"
    assert [u.name for u in default.used_by] == ["test"]
    assert "<name>default</name>" in facade.network_xml("default")
    assert [u.name for u in facade.network_stop("default")] == ["test"]
    assert facade.network_start_and_autostart("default").autostart
    assert not facade.network_set_autostart("default", False).autostart
    context = facade.network_create_context()  # the test driver's host is not this machine
    assert context.names == {"default"} and context.host_routes is None
    made = facade.network_define(
        NetworkSpec(name="lab", mode="isolated", ipv4="198.18.3.0/24"), start=False
    )
    assert not made.active and facade.network_info("lab").ipv4[0].cidr == "198.18.3.1/24"
    assert facade.network_start("lab").active
    facade.network_stop("lab")
    facade.network_undefine("lab")
    assert [n.name for n in facade.network_list()] == ["default"]


def test_refusals_pass_through_and_libvirt_errors_become_host_errors(
    host: ConnHost,  # noqa: F811
) -> None:
    facade = HostFacade(host)
    with pytest.raises(NetworkError, match="active"):
        facade.network_undefine("default")
    with pytest.raises(NetworkError, match="name: a network named default exists already"):
        facade.network_define(NetworkSpec(name="default", mode="isolated"))
    with pytest.raises(NetworkError, match="no network named 'nope'"):
        facade.network_start("nope")
    silence_errors()
    ro = libvirt.openReadOnly(f"test://{TEST_NODE}")
    try:
        with pytest.raises(HostError):
            HostFacade(ConnHost(ro, "test:///ro")).network_stop("default")
    finally:
        ro.close()


def test_bridges_from_the_interface_api_of_a_host_not_this_machine() -> None:
    silence_errors()
    conn = libvirt.open(demo_uri())
    try:
        context = HostFacade(ConnHost(conn, demo_uri())).network_create_context()
    finally:
        conn.close()
    assert context.bridges == ("br0",)  # the demo host's bridge, from listAllInterfaces
    assert any("routes are not checked" in note for note in context.notes)
