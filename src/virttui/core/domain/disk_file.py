"""Add a disk that is a new image file at a path of the host's choosing, with no storage pool.

`qemu-img create` makes the file (`core/storage/files.create_image`: here, or over ssh for a
`qemu+ssh` host; never over an existing file), then it is attached like any existing path. If
the attach fails the new file is removed again. Blocking: run it in a job.
"""

from __future__ import annotations

import libvirt

from virttui.core.domain.action_result import Applied, DomainActionError, domain_name
from virttui.core.domain.devices import add_disk_path
from virttui.core.jobs import JobContext, JobError, current_context
from virttui.core.storage import files as F


def add_disk_new_file(
    dom: libvirt.virDomain,
    path: str,
    size_bytes: int,
    *,
    fmt: str = "qcow2",
    bus: str = "virtio",
    cache: str = "",
    ctx: JobContext | None = None,
) -> tuple[Applied, str, str]:
    """Create the image `path` (`fmt`, `size_bytes`) and attach it. Returns (applied, target,
    path). `ctx`: the job (by default the one running in this thread)."""
    ctx = ctx or current_context() or JobContext(0, lambda _m: None)
    name = domain_name(dom)
    uri = str(dom.connect().getURI())
    try:
        F.create_image(ctx, path, fmt, size_bytes, uri=uri)
    except F.FilesError as exc:
        raise DomainActionError("add disk", name, str(exc)) from exc
    except JobError as exc:
        if ctx.cancelled:
            raise
        raise DomainActionError("add disk", name, f"qemu-img create failed: {exc}") from exc
    try:
        applied, target = add_disk_path(dom, path, bus=bus, cache=cache, fmt=fmt)
    except BaseException:
        F.remove_file_quietly(path, uri)
        raise
    return applied, target, path
