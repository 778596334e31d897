"""The facade's NIC/network methods (block `# ---- nicedit`) on a private test-driver node."""

from __future__ import annotations

from collections.abc import Iterator

import libvirt
import pytest

from tests.core.facade.test_host_facade import TEST_NODE, UUID, ConnHost, _no_libvirt_objects
from virttui.core.domain.replug import ReplugError
from virttui.core.facade.host import HostFacade
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.network.bridges import INTERFACE_API
from virttui.core.network.choices import NetworkChoice


@pytest.fixture
def host() -> Iterator[ConnHost]:
    silence_errors()
    uri = f"test://{TEST_NODE}"
    conn = libvirt.open(uri)
    yield ConnHost(conn, uri)
    conn.close()


@pytest.fixture
def facade(host: ConnHost) -> HostFacade:
    return HostFacade(host)  # type: ignore[arg-type]


def test_networks_with_state_and_bridges(facade: HostFacade, host: ConnHost) -> None:
    host.conn.networkDefineXML(
        "<network><name>iso</name><ip address='198.18.4.1' netmask='255.255.255.0'/></network>"
    )
    choices = facade.nic_networks()
    assert choices == [NetworkChoice("default", True, False), NetworkChoice("iso", False, False)]
    # The test driver's host is imaginary: its bridges come from its interface API, never
    # from this machine's /sys, even on a local URI.
    bridges = facade.host_bridges()
    assert bridges.source == INTERFACE_API
    _no_libvirt_objects(choices)
    _no_libvirt_objects(bridges)


def test_network_nics_and_replug_return_plain_data(facade: HostFacade) -> None:
    [nic] = facade.network_nics("default")
    assert nic.uuid == UUID and nic.attached is None
    [result] = facade.replug_nics("default", [UUID])
    assert not result.ok and "not supported" in result.message
    _no_libvirt_objects([nic, result])
    # The core's own exception passes through the facade unchanged, with libvirt's words.
    with pytest.raises(ReplugError, match="network nowhere: .*no network"):
        facade.network_nics("nowhere")
    with pytest.raises(ReplugError, match="nowhere"):
        facade.replug_nics("nowhere")
