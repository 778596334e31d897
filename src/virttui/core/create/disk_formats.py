"""The format an existing disk image of a create is attached in, when the spec leaves it open.

The host's reading, as the Add disk dialog (`core/storage/image_format.detect_format`) and
virt-install (which lets libvirt probe it) do: `qemu-img info` on a local host, the pool's record
on a remote one, else raw with the reason. An imported qcow2 image defined as raw would boot its
metadata. CD-ROMs stay raw; a format the spec names is kept; an uploaded disk already carries its
image's format (`uploads.probe_disk_image`). Used by the runner before it builds the XML and by
the upload plan the wizard's summary shows, so the preview is the XML that will be defined.
Blocks (libvirt calls, a qemu-img subprocess): inside a job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from virttui.core.create.spec import (
    CreateSpec,
    ExistingPath,
    ExistingVolume,
    upload_for,
    with_disk_format,
)
from virttui.core.create.spec import disk_upload_field as _disk_upload_field

if TYPE_CHECKING:
    import libvirt

    from virttui.core.storage.image_format import FormatGuess


def open_format_disks(spec: CreateSpec, *, uploaded_too: bool = False) -> dict[int, str | None]:
    """Index -> path (None: a pool volume) of each existing disk whose format the spec leaves
    open (not a CD-ROM; an uploaded one only with `uploaded_too`)."""
    out: dict[int, str | None] = {}
    for index, disk in enumerate(spec.disks):
        if disk.format is not None or disk.device == "cdrom":
            continue
        src = disk.source
        if isinstance(src, ExistingPath):
            if not uploaded_too and upload_for(spec, _disk_upload_field(index)) is not None:
                continue
            out[index] = src.path
        elif isinstance(src, ExistingVolume):
            out[index] = None
    return out


def _volume_path(conn: libvirt.virConnect, pool: str, volume: str) -> str | None:
    import libvirt

    try:
        return str(conn.storagePoolLookupByName(pool).storageVolLookupByName(volume).path())
    except libvirt.libvirtError:
        return None  # the check names a missing pool or volume on its field


def existing_disk_formats(
    conn: libvirt.virConnect, spec: CreateSpec, *, remote: bool
) -> dict[int, FormatGuess]:
    """Index -> the host's reading of each existing disk whose format the spec leaves open."""
    from virttui.core.storage.image_format import detect_format

    out: dict[int, FormatGuess] = {}
    for index, path in open_format_disks(spec).items():
        if path is None:
            src = spec.disks[index].source
            assert isinstance(src, ExistingVolume)
            path = _volume_path(conn, src.pool, src.volume)
            if path is None:
                continue
        out[index] = detect_format(conn, path, local=not remote)
    return out


def with_formats(spec: CreateSpec, formats: Mapping[int, str]) -> CreateSpec:
    """The spec with each open disk format set (a format the spec names is kept)."""
    for index, fmt in formats.items():
        if index < len(spec.disks) and spec.disks[index].format is None:
            spec = with_disk_format(spec, index, fmt)
    return spec


def format_notes(spec: CreateSpec, guesses: Mapping[int, FormatGuess]) -> list[str]:
    """What was assumed (raw by default, a backing file), one sentence per disk."""
    notes: list[str] = []
    for index, guess in guesses.items():
        if guess.source == "default" or guess.note:
            src = spec.disks[index].source
            where = src.path if isinstance(src, ExistingPath) else getattr(src, "volume", "")
            notes.append(f"disk {index + 1} ({where}) attached as {guess.describe()}")
    return notes


__all__ = ["existing_disk_formats", "format_notes", "open_format_disks", "with_formats"]
