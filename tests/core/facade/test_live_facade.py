"""The `# ---- live` block of HostFacade on libvirt's test driver: plain data back, the core's own
refusals pass through, libvirt's refusals become HostError (never a libvirt exception)."""

from __future__ import annotations

from collections.abc import Iterator

import libvirt
import pytest

from tests.core.facade.test_host_facade import TEST_NODE, UUID, ConnHost
from virttui.core.domain.blockjobs import BlockJobError, LiveDisk
from virttui.core.facade.host import HostError, HostFacade
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.jobs import Job


@pytest.fixture
def facade() -> Iterator[HostFacade]:
    silence_errors()
    uri = f"test://{TEST_NODE}"
    conn = libvirt.open(uri)
    yield HostFacade(ConnHost(conn, uri))  # type: ignore[arg-type]
    conn.close()


def test_live_disk_is_plain_data(facade: HostFacade) -> None:
    disk = facade.live_disk(UUID, "vda")
    assert isinstance(disk, LiveDisk)
    assert disk.target == "vda" and disk.source
    assert facade.disk_capacity(UUID, "vda") > 0


def test_core_refusals_pass_through(facade: HostFacade) -> None:
    with pytest.raises(BlockJobError, match="no disk vdz"):
        facade.live_disk(UUID, "vdz")
    with pytest.raises(BlockJobError, match="shrink"):
        facade.live_resize(UUID, "vda", "1M")
    ctx = Job(lambda c: None, lambda m: None).context
    with pytest.raises(BlockJobError, match="no backing image"):
        facade.block_pull_job(ctx, UUID, "vda")
    facade.lifecycle(UUID, "destroy")
    with pytest.raises(BlockJobError, match="not running"):
        facade.live_resize(UUID, "vda", "+1G")


def test_libvirt_refusals_become_host_error(facade: HostFacade) -> None:
    with pytest.raises(HostError):  # the test driver has no secrets
        facade.secrets()
    with pytest.raises(HostError, match="not supported"):  # nor block jobs
        facade.block_job(UUID, "vda")
    with pytest.raises(HostError):
        facade.live_disk("00000000-0000-0000-0000-000000000000", "vda")
