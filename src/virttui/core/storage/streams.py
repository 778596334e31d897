"""Upload a local file into a storage volume, download a volume into a local file: libvirt's
volume streams (`virStorageVolUpload` / `virStorageVolDownload`).

The stream runs over the libvirt connection, so the local file is the admin's own, on the machine
virttui runs on, also for a `qemu+ssh` host (that is what streams are for).

Holes stay holes: with the sparse-stream flags (`VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM` /
`VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM`), the holes of the local file (found with
`SEEK_DATA`/`SEEK_HOLE`) travel as hole markers and the volume's holes arrive as holes in the
local file. Pools whose backend does not take the flags are retried once without them (the
result says so: `TransferResult.sparse`).

Both are job bodies: progress as bytes done / total, cancel aborts the stream. A download never
replaces an existing local file unless asked (`overwrite`): it writes a hidden temporary file next
to the target and moves it into place only when the volume has arrived whole, so a cancelled or
failed download leaves nothing behind (and an existing file untouched).
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import libvirt

from virttui.core.common.units import human_bytes
from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobCancelled, JobContext, JobError
from virttui.core.storage.used_by import Connection, User, used_by, users_text

# Pool types whose backend (libvirt's local-file upload/download) honours the sparse flags.
SPARSE_POOL_TYPES = frozenset({"dir", "fs", "netfs", "logical", "disk", "zfs", "vstorage"})
PROGRESS_EVERY = 0.25  # seconds between two progress messages


class TransferError(JobError):
    """An upload or download refused or failed before or outside libvirt (clear words)."""


class VolumeInUse(TransferError):
    """An upload into a volume that domains or images use: refused while one of the domains
    runs (never write behind QEMU's back), else until the admin confirms."""

    def __init__(self, message: str, users: tuple[User, ...]) -> None:
        super().__init__(message)
        self.users = users


@dataclass(frozen=True, slots=True)
class TransferResult:
    direction: Literal["upload", "download"]
    volume: str  # the volume's path on the host
    local_path: str
    data_bytes: int  # bytes sent / received as data
    hole_bytes: int  # bytes sent / received as holes
    sparse: bool  # the sparse-stream flags were used

    def describe(self) -> str:
        arrow = "→" if self.direction == "upload" else "←"
        total = human_bytes(self.data_bytes + self.hole_bytes)
        holes = f", {human_bytes(self.hole_bytes)} as holes" if self.sparse else " (not sparse)"
        return f"{self.local_path} {arrow} {self.volume}: {total}{holes}"


class _Meter:
    """Counts bytes and reports progress at most every PROGRESS_EVERY seconds."""

    def __init__(self, ctx: JobContext, verb: str, total: int) -> None:
        self.ctx = ctx
        self.verb = verb
        self.total = total
        self.data = 0
        self.holes = 0
        self.last = 0.0

    def add(self, *, data: int = 0, holes: int = 0) -> None:
        if self.ctx.cancelled:
            raise JobCancelled()
        self.data += data
        self.holes += holes
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.report()

    def report(self) -> None:
        done = self.data + self.holes
        fraction = done / self.total if self.total > 0 else None
        text = f"{self.verb} {human_bytes(done)} of {human_bytes(self.total)}"
        if self.holes:
            text += f" ({human_bytes(self.holes)} holes)"
        self.ctx.progress(fraction, text)


def _pool_type(pool: libvirt.virStoragePool) -> str:
    import xml.etree.ElementTree as ET

    return ET.fromstring(pool.XMLDesc(0)).get("type", "")


def _unsupported_flags(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in (
        libvirt.VIR_ERR_INVALID_ARG,
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
    )


def find_volume(conn: libvirt.virConnect, pool: str, volume: str) -> libvirt.virStorageVol:
    """The volume `volume` of pool `pool` (a name), or the volume at path `volume` when `pool`
    is empty."""
    if pool:
        return conn.storagePoolLookupByName(pool).storageVolLookupByName(volume)
    return conn.storageVolLookupByPath(volume)


def _stream_sparse(vol: libvirt.virStorageVol, want: bool) -> bool:
    if not want:
        return False
    try:
        return _pool_type(vol.storagePoolLookupByVolume()) in SPARSE_POOL_TYPES
    except libvirt.libvirtError:
        return True  # unknown: try, the fallback below retries without


# ---------------------------------------------------------------------------------- upload
def _data_or_hole(fd: int) -> tuple[bool, int]:
    """At the file's current offset: (in data?, length of this section). Offset unchanged."""
    cur = os.lseek(fd, 0, os.SEEK_CUR)
    end = os.fstat(fd).st_size
    try:
        data = os.lseek(fd, cur, os.SEEK_DATA)
    except OSError as exc:
        if exc.errno != errno.ENXIO:
            raise
        data = -1  # no data after cur: the rest is a hole
    try:
        if data == cur:
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            return True, hole - data
        if data > cur:
            return False, data - cur
        return False, end - cur
    finally:
        os.lseek(fd, cur, os.SEEK_SET)


def volume_users(
    conn: libvirt.virConnect, pool: str, volume: str, others: Iterable[Connection] = ()
) -> tuple[User, ...]:
    """Who uses the volume (domains, images built on it) on this and the other open hosts."""
    vol = find_volume(conn, pool, volume)
    return used_by(str(vol.path()), [conn, *others], local=is_local_uri(conn.getURI()))


def check_upload_target(users: tuple[User, ...], path: str, *, confirmed: bool) -> None:
    """Refuse an upload over a volume a running domain uses; one that shut-off domains or
    images use only when `confirmed`."""
    running = [u for u in users if u.kind == "domain" and u.running]
    if running:
        raise VolumeInUse(
            f"{path} is {users_text(running)} (running): an upload would write it behind QEMU's "
            "back. Shut the domain off first",
            users,
        )
    if users and not confirmed:
        raise VolumeInUse(
            f"{path} is {users_text(users)}: uploading replaces its content under them "
            "(confirm to go ahead)",
            users,
        )


def upload(
    ctx: JobContext,
    conn: libvirt.virConnect,
    pool: str,
    volume: str,
    local_path: str,
    *,
    sparse: bool = True,
    others: Iterable[Connection] = (),
    confirmed: bool = False,
) -> TransferResult:
    """Send the local file `local_path` into the volume (its whole content from offset 0).
    The volume's users are checked first (`check_upload_target`), on this connection and on
    `others` (the other open hosts)."""
    path = Path(local_path)
    if not path.exists():
        raise TransferError(f"{local_path}: no such file")
    if not path.is_file():
        raise TransferError(f"{local_path}: not a regular file")
    vol = find_volume(conn, pool, volume)
    _kind, capacity, physical = vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)
    size = path.stat().st_size
    room = max(int(capacity), int(physical))
    if size > room:
        # libvirt would silently grow the volume's file: the guest would see another disk.
        raise TransferError(
            f"{local_path} ({human_bytes(size)}) is larger than the volume "
            f"({human_bytes(room)}): resize the volume first"
        )
    users = used_by(str(vol.path()), [conn, *others], local=is_local_uri(conn.getURI()))
    check_upload_target(users, str(vol.path()), confirmed=confirmed)
    ctx.check()
    use_sparse = _stream_sparse(vol, sparse)
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        while True:
            os.lseek(fd, 0, os.SEEK_SET)
            meter = _Meter(ctx, "Uploaded", size)
            try:
                _upload_once(ctx, conn, vol, fd, size, meter, use_sparse)
            except libvirt.libvirtError as exc:
                if use_sparse and meter.data == 0 and _unsupported_flags(exc):
                    use_sparse = False  # this pool's backend refuses the flag: plain stream
                    continue
                raise
            break
    finally:
        os.close(fd)
    meter.report()
    return TransferResult("upload", str(vol.path()), str(path), meter.data, meter.holes, use_sparse)


def _upload_once(
    ctx: JobContext,
    conn: libvirt.virConnect,
    vol: libvirt.virStorageVol,
    fd: int,
    size: int,
    meter: _Meter,
    sparse: bool,
) -> None:
    stream = conn.newStream(0)
    flags = libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM if sparse else 0
    vol.upload(stream, 0, size, flags)
    meter.report()

    def read(_stream: libvirt.virStream, nbytes: int, _fd: int) -> bytes:
        chunk = os.read(fd, nbytes)
        meter.add(data=len(chunk))
        return chunk

    def section(_stream: libvirt.virStream, _fd: int) -> list[int | bool]:
        if ctx.cancelled:
            raise JobCancelled()
        in_data, length = _data_or_hole(fd)
        return [in_data, length]

    def skip(_stream: libvirt.virStream, length: int, _fd: int) -> int:
        os.lseek(fd, length, os.SEEK_CUR)
        meter.add(holes=length)
        return 0

    with _abort_on_cancel(ctx, stream):
        if sparse:
            stream.sparseSendAll(read, section, skip, fd)
        else:
            stream.sendAll(read, fd)
        stream.finish()


@contextlib.contextmanager
def _abort_on_cancel(ctx: JobContext, stream: libvirt.virStream) -> Iterator[None]:
    """Abort the stream when the body fails or the job is cancelled (the handlers raise
    JobCancelled at the next chunk; libvirt-python aborts the stream then, aborting twice is
    harmless)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        if ctx.cancelled:
            raise JobCancelled() from None
        raise


# ---------------------------------------------------------------------------------- download
def _part_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.virttui-part-{os.getpid()}-{time.monotonic_ns()}")


def download(
    ctx: JobContext,
    conn: libvirt.virConnect,
    pool: str,
    volume: str,
    local_path: str,
    *,
    overwrite: bool = False,
    sparse: bool = True,
) -> TransferResult:
    """Receive the whole volume into the local file `local_path` (see the module doc)."""
    target = Path(local_path)
    if target.is_dir():
        raise TransferError(f"{local_path} is a directory: name the file to write")
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise TransferError(f"{local_path} already exists (choose overwrite to replace it)")
    if not target.parent.is_dir():
        raise TransferError(f"{target.parent}: no such directory")
    vol = find_volume(conn, pool, volume)
    # The length of the volume's file (PHYSICAL: a qcow2's file size, not its virtual size).
    _kind, _capacity, physical = vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)
    use_sparse = _stream_sparse(vol, sparse)
    part = _part_path(target)
    # 0600: a disk image may hold anything (keys, databases); chmod it to share it
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    done = False
    try:
        while True:
            meter = _Meter(ctx, "Downloaded", int(physical))
            try:
                _download_once(ctx, conn, vol, fd, meter, use_sparse)
            except libvirt.libvirtError as exc:
                if use_sparse and meter.data == 0 and _unsupported_flags(exc):
                    use_sparse = False
                    os.lseek(fd, 0, os.SEEK_SET)
                    os.ftruncate(fd, 0)
                    continue
                raise
            break
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if overwrite:
            os.replace(part, target)
        else:
            try:
                os.link(part, target)  # fails if the name appeared meanwhile: never replaced
            except FileExistsError:
                raise TransferError(
                    f"{local_path} appeared during the download; the volume was not written over it"
                ) from None
            os.unlink(part)
        done = True
    finally:
        if fd >= 0:
            os.close(fd)
        if not done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part)
    meter.report()
    return TransferResult(
        "download", str(vol.path()), str(target), meter.data, meter.holes, use_sparse
    )


def _download_once(
    ctx: JobContext,
    conn: libvirt.virConnect,
    vol: libvirt.virStorageVol,
    fd: int,
    meter: _Meter,
    sparse: bool,
) -> None:
    stream = conn.newStream(0)
    flags = libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM if sparse else 0
    vol.download(stream, 0, 0, flags)
    meter.report()

    def write(_stream: libvirt.virStream, data: bytes, _fd: int) -> int:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        meter.add(data=len(data))
        return len(data)

    def hole(_stream: libvirt.virStream, length: int, _fd: int) -> int:
        cur = os.lseek(fd, length, os.SEEK_CUR)
        os.ftruncate(fd, cur)  # a hole at the end must still give the file its length
        meter.add(holes=length)
        return 0

    with _abort_on_cancel(ctx, stream):
        if sparse:
            stream.sparseRecvAll(write, hole, fd)
        else:
            stream.recvAll(write, fd)
        stream.finish()


__all__ = [
    "SPARSE_POOL_TYPES",
    "TransferError",
    "TransferResult",
    "VolumeInUse",
    "check_upload_target",
    "download",
    "find_volume",
    "upload",
    "volume_users",
]
