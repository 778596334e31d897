"""The wizard's editable answers that are not yet a `CreateSpec`: text as typed (no Textual).

A disk or a size is edited as text; `disk_from_form` turns a `DiskForm` into a `Disk` or a field
path -> message for what cannot be read ("64M" is fine, "64Q" is not). `form_from_disk` goes
back (a loaded preset fills the editor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from virttui.core.common.units import human_bytes, parse_bytes
from virttui.core.create.spec import Disk, ExistingPath, ExistingVolume, NewVolume

MIB = 1 << 20
GIB = 1 << 30


@dataclass
class DiskForm:
    kind: str = "new"  # new | path | volume
    pool: str = ""
    name: str = ""
    size: str = "20G"
    format: str = "qcow2"
    preallocation: str = "off"
    path: str = ""
    volume: str = ""
    device: str = "disk"
    bus: str = "virtio"
    cache: str = ""  # "" = hypervisor default
    io: str = ""
    readonly: bool = False
    shareable: bool = False
    backing: str | None = None
    known_path: str | None = None  # NewVolume.path from a preset (kept as is)
    image_format: str | None = None  # Disk.format from a preset (kept as is)
    # kind "path" on a remote host: the path is a file on this machine, uploaded into this pool
    # ("" = a path on the host); `spec.uploads` gets `disk_upload_field(index)`
    upload_pool: str = ""

    def label(self, index: int) -> str:
        if self.kind == "new":
            what = f"new {self.format} {self.size} in {self.pool or '?'}/{self.name or '?'}"
        elif self.kind == "path":
            what = self.path or "(no path)"
            if self.upload_pool:
                what += f" (upload into {self.upload_pool})"
        else:
            what = f"{self.pool or '?'}/{self.volume or '?'}"
        flags = "".join((" ro" if self.readonly else "", " shared" if self.shareable else ""))
        return f"{index + 1}. {self.device} {self.bus}: {what}{flags}"


def size_text(n: int) -> str:
    """A size as the wizard writes it back: whole GiB/MiB when exact, else bytes."""
    if n % GIB == 0:
        return f"{n // GIB}G"
    if n % MIB == 0:
        return f"{n // MIB}M"
    if n % 1024 == 0:
        return f"{n // 1024}K"
    return f"{n}B"


def memory_text(n: int) -> str:
    return f"{n // MIB}M" if n % GIB else f"{n // GIB}G"


def parse_memory(text: str, what: str) -> int:
    return parse_bytes(text, what, default_unit="M")


def disk_from_form(form: DiskForm, prefix: str) -> tuple[Disk | None, dict[str, str]]:
    errors: dict[str, str] = {}
    source: Any
    if form.kind == "new":
        try:
            size = parse_bytes(form.size, "size", default_unit="G")
        except ValueError as e:
            errors[f"{prefix}.source.size_bytes"] = str(e)
            size = 0
        source = NewVolume(
            pool=form.pool,
            name=form.name,
            size_bytes=size,
            format=cast(Any, form.format),
            preallocation=cast(Any, form.preallocation),
            backing=form.backing,
            path=form.known_path,
        )
    elif form.kind == "path":
        source = ExistingPath(form.path)
    else:
        source = ExistingVolume(form.pool, form.volume)
    if errors:
        return None, errors
    disk = Disk(
        source=source,
        device=cast(Any, form.device),
        bus=cast(Any, form.bus),
        cache=cast(Any, form.cache or None),
        io=cast(Any, form.io or None),
        readonly=form.readonly,
        shareable=form.shareable,
        format=form.image_format,
    )
    return disk, {}


def form_from_disk(disk: Disk) -> DiskForm:
    src = disk.source
    form = DiskForm(
        device=disk.device,
        bus=disk.bus,
        cache=disk.cache or "",
        io=disk.io or "",
        readonly=disk.readonly,
        shareable=disk.shareable,
        image_format=disk.format,
    )
    if isinstance(src, NewVolume):
        form.kind = "new"
        form.pool = src.pool
        form.name = src.name
        form.size = size_text(src.size_bytes)
        form.format = src.format
        form.preallocation = src.preallocation
        form.backing = src.backing
        form.known_path = src.path
    elif isinstance(src, ExistingPath):
        form.kind = "path"
        form.path = src.path
    else:
        form.kind = "volume"
        form.pool = src.pool
        form.volume = src.volume
    return form


def human(n: int) -> str:
    return human_bytes(n)
