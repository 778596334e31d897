"""The storage block of HostFacade on a private test-driver host: plain data back, our refusals
pass through as they are, libvirt's errors become HostError with libvirt's message."""

from __future__ import annotations

import pytest

from tests.core.facade.test_host_facade import ConnHost, host  # noqa: F401 - the fixture
from virttui.core.facade.host import HostError, HostFacade
from virttui.core.jobs import Job, JobContext, JobDone, JobMessage, describe_error
from virttui.core.storage.pools import PoolInfo, StorageError
from virttui.core.storage.volumes import VolumeInfo, VolumeInUse, VolumeSpec

POOL = "default-pool"


def test_pools_and_volumes_are_plain_data(host: ConnHost) -> None:  # noqa: F811
    facade = HostFacade(host)
    (pool,) = facade.pools()
    assert isinstance(pool, PoolInfo) and pool.name == POOL
    made = facade.create_volume(POOL, VolumeSpec("v é", capacity=1 << 20))
    assert isinstance(made, VolumeInfo)
    (listed,) = facade.volumes(POOL)
    assert listed.name == "v é" and listed.used_by == ()
    assert facade.volume_info(POOL, "v é").path == made.path
    assert facade.stop_pool(POOL) is not None
    assert facade.start_pool(POOL).active
    assert facade.set_pool_autostart(POOL, True).autostart
    assert facade.refresh_pool(POOL).name == POOL
    facade.delete_volume(POOL, "v é")
    assert facade.volumes(POOL) == []


def test_dir_pool_and_xml_pool_through_the_facade(host: ConnHost) -> None:  # noqa: F811
    facade = HostFacade(host)
    info = facade.create_dir_pool("made", "/made", create_dir=True, autostart=False)
    assert info.state == "running" and not info.autostart
    assert facade.remove_pool("made") == "stopped, undefined"
    xml = "<pool type='dir'><name>x</name><target><path>/x</path></target></pool>"
    assert facade.define_pool_xml(xml, start=False).state == "inactive"
    assert facade.remove_pool("x") == "undefined"


def test_refusals_pass_through_and_libvirt_errors_become_host_errors(
    host: ConnHost,  # noqa: F811
) -> None:
    facade = HostFacade(host)
    with pytest.raises(StorageError, match="no storage pool named 'nope'"):
        facade.start_pool("nope")
    base = facade.create_volume(POOL, VolumeSpec("base", capacity=1 << 20))
    facade.create_volume(POOL, VolumeSpec("top", backing_path=base.path))
    with pytest.raises(VolumeInUse) as used:
        facade.delete_volume(POOL, "base")
    assert describe_error(used.value)[0] == (
        "cannot delete 'base': used by /default-pool/top (backing file)"
    )
    bad = "<pool type='no-such-type'><name>bad</name><target><path>/b</path></target></pool>"
    with pytest.raises(HostError) as err:
        facade.define_pool_xml(bad)
    assert "no-such-type" in err.value.message
    with pytest.raises(HostError, match="not supported"):  # the test driver cannot resize
        facade.resize_volume(POOL, "top", 2 << 20)


def test_clone_job_reports_progress(host: ConnHost) -> None:  # noqa: F811
    facade = HostFacade(host)
    facade.create_volume(POOL, VolumeSpec("src", format="raw", capacity=1 << 20))
    messages: list[JobMessage] = []

    def body(ctx: JobContext) -> VolumeInfo:
        return facade.clone_volume_job(ctx, POOL, "src", "copy")

    job = Job(body, messages.append, name="clone")
    job.run()
    done = messages[-1]
    assert isinstance(done, JobDone) and done.result.name == "copy"
    assert any(getattr(m, "fraction", "x") == 1.0 for m in messages)
