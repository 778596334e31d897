"""Files on this machine that a create uploads into a pool of a remote host (`spec.uploads`):
where each will land, and what an uploaded disk image is. No Textual.

- `upload_volume_name(path)`: the volume a file becomes (its file name; a taken name is refused
  by the runner's check, never overwritten).
- `volume_path(target, pool_type, name)`: the path libvirt gives a new volume of a pool whose
  volumes live under its target (dir, fs, netfs: `<target>/<name>`; logical: `/dev/<vg>/<name>`;
  zfs: `/dev/zvol/<pool>/<name>`); None for pool types that name volumes otherwise (iscsi, rbd,
  disk partitions...): the preview then keeps the local path and says so.
- `upload_targets(spec, pool_targets, pool_types, formats)` / `planned_spec(spec, targets)`: the
  spec as it will be defined (the summary's XML and virt-install line show the volume paths);
  `read_upload_plan(ctx, conn, spec)` reads the pools fresh and probes the disk images (the
  facade's `create_upload_plan`).
- `probe_disk_image(ctx, path)`: `qemu-img info` here (argv through core/jobs); an existing disk
  keeps its format in the volume. Refused (`UploadRefused`, a sentence): an image with a backing
  file (the chain is on this machine, the host would not have it), an encrypted image (its secret
  is not on the host), an image a running guest here holds (its copy would be torn).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from virttui.core.create.disk_formats import existing_disk_formats, format_notes, with_formats
from virttui.core.create.spec import (
    CreateSpec,
    field_path,
    upload_disk_index,
    with_field_path,
)
from virttui.core.jobs import JobContext, JobError
from virttui.core.storage import qemu_img as Q

if TYPE_CHECKING:
    import libvirt

# pool types whose new volume's path is <target path>/<volume name>
PATH_POOL_TYPES = frozenset({"dir", "fs", "netfs", "logical", "zfs"})


class UploadRefused(JobError):
    """A file on this machine that cannot be uploaded as it is (a sentence for the admin)."""


@dataclass(frozen=True)
class LocalImage:
    """A disk image on this machine, as `qemu-img info` reads it."""

    path: str
    format: str
    virtual_size: int


@dataclass(frozen=True)
class UploadTarget:
    """Where the file of `field` lands: volume `volume` of `pool`, at `path` on the host (None:
    this pool type names its volumes otherwise, known once it exists). `format`: a disk image's
    format (None: not a disk, or not probed yet)."""

    field: str
    local: str
    pool: str
    volume: str
    path: str | None
    format: str | None = None


@dataclass(frozen=True)
class UploadPlan:
    """Every upload of a spec, and the disk images that cannot be uploaded (field -> why)."""

    targets: tuple[UploadTarget, ...] = ()
    problems: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # existing disks whose format the spec leaves open: index -> the host's reading, and what
    # was assumed (core/create/disk_formats.py; on every host, not only remote ones)
    disk_formats: Mapping[int, str] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()


def upload_volume_name(path: str) -> str:
    """The volume a local file is uploaded as: its file name."""
    return os.path.basename(path.rstrip("/"))


def volume_path(target: str, pool_type: str, name: str) -> str | None:
    """The path libvirt gives volume `name` of a pool of `pool_type` over `target`."""
    if pool_type not in PATH_POOL_TYPES or not target.startswith("/"):
        return None
    return os.path.join(os.path.normpath(target), name)


def probe_disk_image(ctx: JobContext, path: str) -> LocalImage:
    """What the disk image at `path` on this machine is; `UploadRefused` when it cannot be
    uploaded alone (backing file, encryption, held by a running guest here)."""
    try:
        info = Q.info(ctx, path, uri=None, chain=False)
    except Q.ImageError as exc:
        raise UploadRefused(f"{path}: cannot read the image here: {exc}") from exc
    top = info.top
    fmt = top.format or "raw"
    if top.backing:
        raise UploadRefused(
            f"{path} is a {fmt} image on a backing file ({top.backing}) that is on this machine: "
            "uploaded alone it would point at a file the host does not have. Upload a "
            f"standalone copy (qemu-img convert -O {fmt} on this machine) instead"
        )
    if top.encrypted:
        raise UploadRefused(
            f"{path} is encrypted ({top.encryption_format or fmt}): its secret is not on the "
            "host. Upload it through the storage screen and define its secret there"
        )
    if info.shared:
        raise UploadRefused(
            f"{path} is in use on this machine (a running guest holds its lock): a copy "
            "would be torn. Shut that guest down first"
        )
    return LocalImage(path, fmt, top.virtual_size)


def upload_targets(
    spec: CreateSpec,
    pool_targets: Mapping[str, str],
    pool_types: Mapping[str, str],
    formats: Mapping[str, str] | None = None,
) -> tuple[UploadTarget, ...]:
    """Where each upload of `spec` will land (`formats`: local path -> a disk image's format)."""
    out: list[UploadTarget] = []
    for up in spec.uploads:
        local = field_path(spec, up.field)
        if local is None:
            continue
        name = upload_volume_name(local)
        target = pool_targets.get(up.pool)
        path = None if target is None else volume_path(target, pool_types.get(up.pool, ""), name)
        fmt = (formats or {}).get(local) if upload_disk_index(up.field) is not None else None
        out.append(UploadTarget(up.field, local, up.pool, name, path, fmt))
    return tuple(out)


def planned_spec(
    spec: CreateSpec,
    targets: tuple[UploadTarget, ...],
    disk_formats: Mapping[int, str] | None = None,
) -> CreateSpec:
    """The spec as the runner will define it: each upload's path replaced by its volume's (when
    known), an uploaded disk with its image's format (when probed), the other existing disks
    with the format the host reads (`disk_formats`, when read)."""
    formats = dict(disk_formats or {})
    for t in targets:
        if t.path is not None:
            spec = with_field_path(spec, t.field, t.path)
        index = upload_disk_index(t.field)
        if index is not None and t.format is not None:
            formats[index] = t.format
    return with_formats(spec, formats)


def disk_upload_problems(
    ctx: JobContext, spec: CreateSpec
) -> tuple[dict[str, str], dict[str, str]]:
    """(field -> why it cannot be uploaded, local path -> format) for the spec's disk uploads
    whose file exists here."""
    problems: dict[str, str] = {}
    formats: dict[str, str] = {}
    for up in spec.uploads:
        index = upload_disk_index(up.field)
        local = field_path(spec, up.field)
        if index is None or local is None or not os.path.isfile(local):
            continue
        try:
            image = probe_disk_image(ctx, local)
        except UploadRefused as exc:
            problems[up.field] = str(exc)
            continue
        declared = spec.disks[index].format
        if declared is not None and declared != image.format:
            problems[up.field] = (
                f"{local} is a {image.format} image (qemu-img info), not {declared}: the "
                "uploaded volume keeps the file's format"
            )
            continue
        formats[local] = image.format
    return problems, formats


def read_upload_plan(
    ctx: JobContext, conn: libvirt.virConnect, spec: CreateSpec, *, local_files_host: bool
) -> UploadPlan:
    """The spec's uploads with the pools as the host has them now and the disk images probed
    here (none on a host that is this machine: the paths are used as they are), and the
    format of each existing disk the spec leaves open, as the host reads it."""
    guesses = existing_disk_formats(conn, spec, remote=not local_files_host)
    disk_formats = {i: g.format for i, g in guesses.items()}
    notes = tuple(format_notes(spec, guesses))
    if local_files_host or not spec.uploads:
        return UploadPlan(disk_formats=disk_formats, notes=notes)
    from virttui.core.storage.pools import list_pools

    pools = list_pools(conn)
    problems, formats = disk_upload_problems(ctx, spec)
    targets = upload_targets(
        spec,
        {p.name: p.target_path for p in pools},
        {p.name: p.type for p in pools},
        formats,
    )
    return UploadPlan(targets, problems, disk_formats, notes)


__all__ = [
    "LocalImage",
    "PATH_POOL_TYPES",
    "UploadPlan",
    "UploadRefused",
    "UploadTarget",
    "disk_upload_problems",
    "planned_spec",
    "probe_disk_image",
    "read_upload_plan",
    "upload_targets",
    "upload_volume_name",
    "volume_path",
]
