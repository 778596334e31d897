"""Pools and volumes on the real qemu:///system: a dir pool made from a fresh directory in one
step, volumes created / cloned / resized (checked with qemu-img), deletes and resizes refused
while a domain uses the volume (naming it, the domain's XML unchanged), the pool removed with
its then-empty directory. Everything created has a unique name and is removed afterwards."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import defined_guest, empty_and_stop_pool, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.storage import pools as P
from virttui.core.storage import volumes as V


def _info(path: str) -> dict[str, object]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", "-U", path], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def dir_pool(system_conn: libvirt.virConnect) -> Iterator[tuple[str, Path]]:
    """A persistent dir pool (unique name with a space and non-ASCII) over a directory that
    does not exist yet; its volumes, the pool and the directory are removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="vt-pools-", dir="/var/tmp"))
    parent.chmod(0o755)
    directory = parent / "images dir é"
    name = unique_name("vt-pool é")
    try:
        yield name, directory
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            pool = system_conn.storagePoolLookupByName(name)
            empty_and_stop_pool(pool)
            pool.undefine()
        shutil.rmtree(parent, ignore_errors=True)


def test_dir_pool_volume_round_trip(
    system_conn: libvirt.virConnect, dir_pool: tuple[str, Path]
) -> None:
    name, directory = dir_pool
    with pytest.raises(P.StorageError, match="does not exist"):
        P.create_dir_pool(system_conn, name, str(directory))
    assert not directory.exists()
    info = P.create_dir_pool(system_conn, name, str(directory), create_dir=True)
    assert directory.is_dir()
    assert info.state == "running" and info.autostart and info.persistent
    assert info.target_path == str(directory) and info.capacity > 0
    assert info.used_fraction is not None
    with pytest.raises(P.StorageError, match=f"already the target of pool '{name}'"):
        P.create_dir_pool(system_conn, unique_name("vt-pool"), str(directory) + "/")

    qcow = V.create_volume(system_conn, name, V.VolumeSpec("disk a é", capacity=64 << 20))
    assert Path(qcow.path) == directory / "disk a é"
    assert _info(qcow.path)["format"] == "qcow2"
    assert _info(qcow.path)["virtual-size"] == 64 << 20
    raw = V.create_volume(
        system_conn,
        name,
        V.VolumeSpec("full raw", format="raw", capacity=8 << 20, preallocation="full"),
    )
    assert raw.allocation >= 8 << 20
    meta = V.create_volume(
        system_conn, name, V.VolumeSpec("meta", capacity=16 << 20, preallocation="metadata")
    )
    assert meta.allocation > qcow.allocation  # metadata preallocated
    top = V.create_volume(system_conn, name, V.VolumeSpec("top", backing_path=qcow.path))
    chain = _info(top.path)
    assert chain["backing-filename"] == qcow.path and chain["virtual-size"] == 64 << 20

    listed = {v.name: v for v in V.list_volumes(system_conn, name)}
    assert set(listed) == {"disk a é", "full raw", "meta", "top"}
    assert [u.name for u in listed["disk a é"].used_by] == [top.path]
    with pytest.raises(V.VolumeInUse, match="built|backing file"):
        V.delete_volume(system_conn, name, "disk a é")

    seen: list[tuple[float | None, str]] = []
    copy = V.clone_volume(
        system_conn, name, "full raw", "copy é", progress=lambda f, t: seen.append((f, t))
    )
    assert copy.format == "raw" and _info(copy.path)["virtual-size"] == 8 << 20
    assert seen[-1] == (1.0, "copied")

    grown = V.resize_volume(system_conn, name, "meta", 32 << 20)
    assert grown.capacity == 32 << 20 and _info(meta.path)["virtual-size"] == 32 << 20
    with pytest.raises(P.StorageError, match="shrinking loses the data"):
        V.resize_volume(system_conn, name, "meta", 16 << 20)
    shrunk = V.resize_volume(system_conn, name, "meta", 16 << 20, shrink=True)
    assert shrunk.capacity == 16 << 20 and _info(meta.path)["virtual-size"] == 16 << 20
    with pytest.raises(V.VolumeInUse, match="cannot shrink 'disk a é': used by .*top"):
        V.resize_volume(system_conn, name, "disk a é", 32 << 20, shrink=True)  # top is on it
    assert _info(qcow.path)["virtual-size"] == 64 << 20

    with pytest.raises(P.StorageError, match="only when it is empty"):
        P.remove_pool(system_conn, name, delete_storage=True)
    for vol in ("top", "disk a é", "full raw", "meta", "copy é"):
        V.delete_volume(system_conn, name, vol)
    assert P.remove_pool(system_conn, name, delete_storage=True) == (
        "stopped, storage deleted, undefined"
    )
    assert not directory.exists()


def test_used_volume_refused_then_live_route_named(
    system_conn: libvirt.virConnect, dir_pool: tuple[str, Path]
) -> None:
    name, directory = dir_pool
    P.create_dir_pool(system_conn, name, str(directory), create_dir=True, autostart=False)
    directory.chmod(0o755)
    vol = V.create_volume(system_conn, name, V.VolumeSpec("guest disk", capacity=64 << 20))
    with defined_guest(system_conn, vol.path) as dom:
        xml_before = dom.XMLDesc(0)
        with pytest.raises(V.VolumeInUse) as refused:
            V.delete_volume(system_conn, name, "guest disk")
        assert f"{dom.name()} (disk, shut off)" in str(refused.value)
        assert Path(vol.path).exists()
        assert dom.XMLDesc(0) == xml_before
        listed = V.list_volumes(system_conn, name)[0]
        assert listed.users_text() == f"used by {dom.name()}"
        # shut off: growing is allowed, shrinking is not (the domain's data)
        assert V.resize_volume(system_conn, name, "guest disk", 80 << 20).capacity == 80 << 20
        with pytest.raises(V.VolumeInUse, match="cannot shrink"):
            V.resize_volume(system_conn, name, "guest disk", 64 << 20, shrink=True)
        dom.create()
        try:
            with pytest.raises(V.VolumeInUse) as running:
                V.resize_volume(system_conn, name, "guest disk", 96 << 20)
            text = str(running.value)
            assert f"{dom.name()} (disk, running)" in text and "blockResize" in text
            assert _info(vol.path)["virtual-size"] == 80 << 20
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                dom.destroy()


def test_pool_and_hostile_volume_over_qemu_ssh(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    dir_pool: tuple[str, Path],
) -> None:
    """Over qemu+ssh everything goes through libvirt's storage API (no shell anywhere): a dir
    pool, a volume whose name is shell syntax, its listing and delete, the pool removed."""
    from virttui.core.facade.host import HostFacade
    from virttui.core.host.connection import HostConnection

    name, directory = dir_pool
    hostile = "a b'; touch x"
    host = HostConnection(local_sshd.uri(), refresh=60.0)
    host.start()
    try:
        deadline = time.monotonic() + 30
        while not host.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert host.connected, host.last_error
        facade = HostFacade(host)
        assert facade.create_dir_pool(name, str(directory), create_dir=True).state == "running"
        made = facade.create_volume(name, V.VolumeSpec(hostile, capacity=8 << 20))
        assert Path(made.path) == directory / hostile
        assert [v.name for v in facade.volumes(name, [host])] == [hostile]
        facade.delete_volume(name, hostile, [host])
        assert sorted(p.name for p in directory.iterdir()) == []  # no "x" made by a shell
        assert facade.remove_pool(name, delete_storage=True) == (
            "stopped, storage deleted, undefined"
        )
    finally:
        host.stop()
