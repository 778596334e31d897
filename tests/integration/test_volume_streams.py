"""Volume upload/download through libvirt's streams on qemu:///system (core/storage/streams.py):
holes stay holes, progress arrives, cancel removes the partial download, an existing local file
is never replaced without `overwrite`. Storage: a transient dir pool over a temporary directory
(conftest `temp_pool`), removed afterwards."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import defined_guest, qcow2_volume, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage, JobProgress
from virttui.core.storage.streams import (
    TransferError,
    TransferResult,
    VolumeInUse,
    download,
    upload,
)

GIB = 1 << 30
MIB = 1 << 20


def raw_volume(pool: libvirt.virStoragePool, name: str, size: int) -> libvirt.virStorageVol:
    xml = (
        f"<volume><name>{name}</name><capacity unit='bytes'>{size}</capacity>"
        "<allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>"
    )
    return pool.createXML(xml, 0)


def sparse_file(path: Path, size: int, chunks: dict[int, bytes]) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
        for offset, data in chunks.items():
            f.seek(offset)
            f.write(data)
    return path


def disk_usage(path: str | Path) -> int:
    return os.stat(path).st_blocks * 512


def digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(8 * MIB):
            h.update(block)
    return h.hexdigest()


def run(fn: object, *, cancel_on_progress: bool = False) -> list[JobMessage]:
    messages: list[JobMessage] = []
    job: Job[object]

    def sink(message: JobMessage) -> None:
        messages.append(message)
        if cancel_on_progress and isinstance(message, JobProgress) and message.fraction:
            job.cancel()

    job = Job(fn, sink)  # type: ignore[arg-type]
    job.run()
    return messages


def result_of(messages: list[JobMessage]) -> TransferResult:
    last = messages[-1]
    assert isinstance(last, JobDone), last
    assert isinstance(last.result, TransferResult)
    return last.result


def test_sparse_upload_and_download_keep_holes(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    chunks = {0: b"head" * 1024, 300 * MIB: os.urandom(MIB), GIB - 4096: b"tail" * 1024}
    local = sparse_file(tmp_path / "sparse é.raw", GIB, chunks)
    assert disk_usage(local) < 8 * MIB
    name = unique_name("vt-up") + ".raw"
    vol = raw_volume(temp_pool, name, GIB)

    messages = run(lambda ctx: upload(ctx, system_conn, temp_pool.name(), name, str(local)))
    result = result_of(messages)
    assert result.sparse
    assert result.data_bytes + result.hole_bytes == GIB
    assert result.hole_bytes > GIB - 16 * MIB
    assert any(isinstance(m, JobProgress) and m.fraction is not None for m in messages)
    # the volume's file got the data and kept the holes
    assert disk_usage(vol.path()) < 16 * MIB
    assert os.path.getsize(vol.path()) == GIB
    assert digest(vol.path()) == digest(local)

    back = tmp_path / "back.raw"
    messages = run(lambda ctx: download(ctx, system_conn, temp_pool.name(), name, str(back)))
    result = result_of(messages)
    assert result.sparse and result.hole_bytes > GIB - 16 * MIB
    assert os.path.getsize(back) == GIB
    assert disk_usage(back) < 16 * MIB
    assert digest(back) == digest(local)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.raw", "sparse é.raw"]


def test_download_never_replaces_without_overwrite(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    name = unique_name("vt-down") + ".raw"
    vol = raw_volume(temp_pool, name, 4 * MIB)
    with open(vol.path(), "r+b") as f:
        f.write(b"volume data")
    existing = tmp_path / "existing.raw"
    existing.write_bytes(b"keep me")

    messages = run(lambda ctx: download(ctx, system_conn, temp_pool.name(), name, str(existing)))
    failed = messages[-1]
    assert isinstance(failed, JobFailed) and "already exists" in failed.message
    assert existing.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["existing.raw"]

    messages = run(
        lambda ctx: download(
            ctx, system_conn, temp_pool.name(), name, str(existing), overwrite=True
        )
    )
    result_of(messages)
    assert existing.read_bytes()[:11] == b"volume data"
    assert existing.stat().st_size == 4 * MIB
    assert [p.name for p in tmp_path.iterdir()] == ["existing.raw"]


def test_cancelled_download_removes_partial_file(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    name = unique_name("vt-cancel") + ".raw"
    size = 64 * MIB
    vol = raw_volume(temp_pool, name, size)
    with open(vol.path(), "r+b") as f:  # data all along: no holes to skip over
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))
    target = tmp_path / "partial.raw"

    messages = run(
        lambda ctx: download(ctx, system_conn, temp_pool.name(), name, str(target)),
        cancel_on_progress=True,
    )
    last = messages[-1]
    assert isinstance(last, JobFailed) and last.cancelled
    assert list(tmp_path.iterdir()) == []


def test_cancelled_upload_ends_cancelled(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    local = tmp_path / "data.raw"
    with local.open("wb") as f:
        for _ in range(64):
            f.write(os.urandom(MIB))
    name = unique_name("vt-upcancel") + ".raw"
    raw_volume(temp_pool, name, 64 * MIB)
    messages = run(
        lambda ctx: upload(ctx, system_conn, temp_pool.name(), name, str(local)),
        cancel_on_progress=True,
    )
    last = messages[-1]
    assert isinstance(last, JobFailed) and last.cancelled
    # the connection still works after the aborted stream
    assert temp_pool.storageVolLookupByName(name).name() == name


@pytest.mark.parametrize("bad", ["missing", "directory"])
def test_upload_bad_local_file(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
    bad: str,
) -> None:
    name = unique_name("vt-bad") + ".raw"
    vol = raw_volume(temp_pool, name, MIB)
    before = digest(vol.path())
    path = tmp_path / "nope" if bad == "missing" else tmp_path
    ctx = Job(lambda _ctx: None, lambda _m: None).context
    with pytest.raises(
        TransferError, match="no such file" if bad == "missing" else "not a regular"
    ):
        upload(ctx, system_conn, temp_pool.name(), name, str(path))
    assert digest(vol.path()) == before


def test_upload_and_download_over_qemu_ssh(
    local_sshd: LocalSshd,  # noqa: F811 - the fixture
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    """A qemu+ssh host: the stream carries the admin's LOCAL file, holes kept both ways."""
    conn = libvirt.open(local_sshd.uri())
    try:
        local = sparse_file(tmp_path / "local.raw", 256 * MIB, {0: b"x" * MIB, 200 * MIB: b"y"})
        name = unique_name("vt-ssh") + ".raw"
        vol = raw_volume(temp_pool, name, 256 * MIB)
        up = result_of(run(lambda ctx: upload(ctx, conn, temp_pool.name(), name, str(local))))
        assert up.sparse and up.hole_bytes > 200 * MIB
        assert digest(vol.path()) == digest(local)
        assert disk_usage(vol.path()) < 8 * MIB
        back = tmp_path / "back.raw"
        down = result_of(run(lambda ctx: download(ctx, conn, temp_pool.name(), name, str(back))))
        assert down.sparse and down.hole_bytes > 200 * MIB
        assert digest(back) == digest(local)
        assert disk_usage(back) < 8 * MIB
    finally:
        conn.close()


def test_upload_checks_who_uses_the_volume(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    """The one used_by check before writing: a running domain's volume is refused, a shut-off
    domain's only when confirmed."""
    local = tmp_path / "new content.raw"
    local.write_bytes(b"new content")
    name = unique_name("vt-used") + ".qcow2"
    path = qcow2_volume(temp_pool, name)
    before = digest(path)
    with defined_guest(system_conn, path, prefix="vt-upload") as dom:
        ctx = Job(lambda _ctx: None, lambda _m: None).context
        with pytest.raises(VolumeInUse, match="confirm") as err:
            upload(ctx, system_conn, temp_pool.name(), name, str(local))
        assert dom.name() in str(err.value)
        assert digest(path) == before
        dom.create()
        try:
            with pytest.raises(VolumeInUse, match="running") as err:
                upload(ctx, system_conn, temp_pool.name(), name, str(local), confirmed=True)
            assert dom.name() in str(err.value)
            assert digest(path) == before
        finally:
            dom.destroy()
        result = upload(ctx, system_conn, temp_pool.name(), name, str(local), confirmed=True)
        assert result.data_bytes == len(b"new content")
        with open(path, "rb") as f:
            assert f.read(11) == b"new content"


def test_upload_larger_than_the_volume_is_refused(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    """libvirt would silently grow the volume's file; refused before anything is sent."""
    local = tmp_path / "big.raw"
    local.write_bytes(b"z" * (2 * MIB))
    name = unique_name("vt-small") + ".raw"
    vol = raw_volume(temp_pool, name, MIB)
    ctx = Job(lambda _ctx: None, lambda _m: None).context
    with pytest.raises(TransferError, match="larger than the volume"):
        upload(ctx, system_conn, temp_pool.name(), name, str(local))
    assert os.path.getsize(vol.path()) == MIB
