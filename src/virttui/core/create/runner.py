"""Create a domain for real from a `CreateSpec`: check, make everything, define, start; on any
failure or cancel, remove in reverse order everything this run made (`create_domain`).

Steps (each reported with `ctx.progress`; a cancel is honoured between steps and rolls back):

1. **check** on fresh facts (`validate.read_create_facts` + `check_create`: the spec's rules, the
   name in use, domain capabilities, libvirt's schema) plus what only the host can tell
   (`host_problems`): pools exist and run, new volumes' names free and their sizes within the
   pool's available space, kernel/initrd/ISO/disk/cloud-image paths exist on the target host
   (locally, or over ssh for `qemu+ssh`), the location tree's kernel/initrd exist here,
   virtual networks exist. Any message: `CreateFailed` with its field, before anything is made.
2. **networks**: an inactive virtual network a NIC needs is started; it stays running (a note
   says so, also after a rollback: other guests may start using it at once).
3. **uploads** (remote host only, `local_files_host=False`): each file of `spec.uploads` (an
   ISO, kernel, initrd, cloud image, driver ISO or existing disk on the machine virttui runs on)
   becomes a new volume of its file name in the chosen pool through libvirt's stream
   (`core/storage/streams.upload`, progress in bytes); the check refused a name already taken (an
   admin's volume is never overwritten) and a pool without the room; the spec then names the
   volume's path. A disk image keeps its format (`uploads.probe_disk_image`: qemu-img info here,
   again right before the upload; sent sparse; refused with a backing file, which would stay on
   this machine, encrypted, or held by a running guest here). They stay after a successful run
   (a kernel-boot domain boots them every time; a cloud image backs the overlay; a disk is the
   domain's) and go with a rollback. On a local host the path is used as it is.
4. **volumes** through the storage layer (`core/storage/volumes.create_volume`: format,
   preallocation; `falloc` is libvirt's full preallocation of a qcow2). A cloud image's overlay
   is a pool volume with `<backingStore>` when the image is a pool volume, else
   `cloudinit.overlay_for_cloud_image` (qemu-img, local or over ssh) in the pool's directory.
5. **seed ISO** (cloud image): `cloudinit.seed_iso_bytes`, written to a private local temporary
   file and uploaded as a raw volume into the overlay's pool through libvirt's stream
   (`core/storage/streams.upload`): the same path for a local and a remote host.
6. **location kernel/initrd** (only when there is an install boot): the tree is read where
   virttui runs (a local directory, or an http/https/ftp URL downloaded here), as
   `virt-install --location` does; both files are uploaded as volumes into the host's boot
   directory (/var/lib/libvirt/boot: its pool if one exists, else a transient pool of ours),
   and, as virt-install does, deleted again once the install boot started (QEMU has read them).
7. **define** as virt-install does (see `domain_xml`): with an install boot, `createXML(install)`
   (transient) then `defineXMLFlags(final, VALIDATE)`; else `define_validated(final)`, then
   `create()` when "start after" is asked; autostart last.

Rollback removes only what this run made (never a volume that existed before, an ISO or image
the admin picked, a network): the transient install run is destroyed, the definition undefined
with its NVRAM and TPM state, then the seed ISO, fetched kernel/initrd, volumes and overlays,
newest first. `CreateFailed.removed` lists what went, `.left` what could not be removed (and
why); `.field` is the spec field the failure belongs to (None when it is not one field's).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
import urllib.parse
import urllib.request
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from virttui.core.common.units import human_bytes
from virttui.core.create import cloudinit as C
from virttui.core.create.disk_formats import existing_disk_formats, format_notes, with_formats
from virttui.core.create.domain_xml import (
    BuildError,
    CreateCaps,
    build_domain_xmls,
    disk_path,
    has_install_phase,
)
from virttui.core.create.seed import seed_field, seed_options
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CreateSpec,
    Disk,
    ExistingPath,
    KernelBoot,
    LocationInstall,
    NewVolume,
    field_path,
    upload_disk_index,
    upload_for,
    with_field_path,
)
from virttui.core.create.uploads import (
    UploadRefused,
    disk_upload_problems,
    probe_disk_image,
    upload_volume_name,
)
from virttui.core.create.validate import (
    CreateFacts,
    check_create,
    define_validated,
    read_create_facts,
)
from virttui.core.jobs import JobCancelled, JobContext, JobError, ssh_target
from virttui.core.storage import qemu_img as Q
from virttui.core.storage.used_by import User, used_by

if TYPE_CHECKING:
    import libvirt

BOOT_DIR_SYSTEM = "/var/lib/libvirt/boot"  # where virt-install puts --location kernels
URL_SCHEMES = ("http", "https", "ftp")
DOWNLOAD_CHUNK = 1 << 20


class CreateFailed(JobError):
    """A create that failed (or was cancelled) after its rollback.

    `field`: the spec field the failure belongs to (None: not one field's); `errors`: every
    field -> message of the check (empty for a failure mid-way); `removed`: what the rollback
    removed; `left`: what it could not remove, each with why; `notes`: what stays on purpose
    (a network this run started)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, str] | None = None,
        removed: tuple[str, ...] = (),
        left: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
        cancelled: bool = False,
    ) -> None:
        self.reason = message
        self.field = field
        self.errors = dict(errors or {})
        self.removed = removed
        self.left = left
        self.notes = notes
        self.cancelled = cancelled
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [self.reason]
        if self.removed:
            lines.append("Removed what this run made: " + "; ".join(self.removed) + ".")
        if self.left:
            lines.append("Could not remove: " + "; ".join(self.left) + ".")
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class CreateResult:
    name: str
    uuid: str
    started: bool
    created: tuple[str, ...]  # what this run made, in order (volumes, files, the definition)
    notes: tuple[str, ...]  # e.g. "network 'default' was started and stays running"


# ---- what was made, and how to take it back --------------------------------------------------


@dataclass
class _Made:
    what: str  # "volume /var/lib/libvirt/images/x.qcow2", for the messages
    undo: Callable[[], None]
    kept: bool = False  # removed on purpose already (fetched kernel after the install boot)


@dataclass
class _Run:
    made: list[_Made] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, undo: Callable[[], None]) -> _Made:
        item = _Made(what, undo)
        self.made.append(item)
        return item

    def rollback(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        removed: list[str] = []
        left: list[str] = []
        for item in reversed(self.made):
            if item.kept:
                continue
            try:
                item.undo()
            except Exception as exc:  # noqa: BLE001 - every undo is tried, each failure named
                left.append(f"{item.what} ({_describe(exc)})")
            else:
                removed.append(item.what)
        return tuple(removed), tuple(left)


def _describe(exc: BaseException) -> str:
    from virttui.core.host.libvirt_runtime import error_message

    return error_message(exc)


class _StepFailed(JobError):
    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


# ---- checks only the host can answer ----------------------------------------------------------


def _remote(uri: str | None) -> bool:
    return bool(uri) and ssh_target(uri or "") is not None


def host_problems(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    facts: CreateFacts,
    *,
    uri: str | None,
    local_files_host: bool,
) -> dict[str, str]:
    """Field -> message for what `check_create` cannot see: pools running, volume names free,
    sizes vs the pool's available space, files existing on the target host, networks."""
    import libvirt

    from virttui.core.storage.pools import list_pools

    errors: dict[str, str] = {}
    pools = {p.name: p for p in list_pools(conn)}
    wanted: dict[str, int] = {}
    for i, disk in enumerate(spec.disks):
        src = disk.source
        if not isinstance(src, NewVolume):
            continue
        pool = pools.get(src.pool)
        where = f"disks[{i}].source"
        if pool is None:
            errors[f"{where}.pool"] = f"no storage pool named {src.pool!r} on this host"
            continue
        if not pool.active:
            errors[f"{where}.pool"] = f"pool {src.pool!r} is not running: start it first"
            continue
        try:
            conn.storagePoolLookupByName(src.pool).storageVolLookupByName(src.name)
        except libvirt.libvirtError:
            pass
        else:
            errors[f"{where}.name"] = f"pool {src.pool!r} already has a volume named {src.name!r}"
        wanted[src.pool] = wanted.get(src.pool, 0) + src.size_bytes
        if wanted[src.pool] > pool.available:
            errors[f"{where}.size_bytes"] = (
                f"{human_bytes(wanted[src.pool])} asked of pool {src.pool!r}, which has "
                f"{human_bytes(pool.available)} available"
            )
    files: list[tuple[str, str]] = []
    inst = spec.install
    if isinstance(inst, KernelBoot):
        files.append(("install.kernel", inst.kernel))
        if inst.initrd:
            files.append(("install.initrd", inst.initrd))
    if isinstance(inst, CdromInstall) and inst.iso_path:
        files.append(("install.iso_path", inst.iso_path))
    if isinstance(inst, CloudImageInstall):
        files.append(("install.base_image", inst.base_image))
    for i, disk in enumerate(spec.disks):
        if isinstance(disk.source, ExistingPath):
            files.append((f"disks[{i}].source.path", disk.source.path))
    if spec.driver_iso:
        files.append(("driver_iso", spec.driver_iso))
    checkable = local_files_host or _remote(uri)
    for key, path in files:
        if upload_for(spec, key) is not None and not local_files_host:
            continue  # a file here, uploaded (checked below)
        if checkable and not Q.path_exists(ctx, path, None if local_files_host else uri):
            errors.setdefault(key, f"{path}: no such file on the host")
    for key, msg in upload_problems(conn, spec, local_files_host=local_files_host).items():
        errors.setdefault(key, msg)
    if not local_files_host:
        refused, _formats = disk_upload_problems(ctx, spec)
        for key, msg in refused.items():
            errors.setdefault(key, msg)
    if isinstance(inst, LocationInstall) and has_install_phase(spec) and spec.start_after:
        if _url_scheme(inst.location) is None and inst.location.startswith("/"):
            for key, inside in (("install.kernel", inst.kernel), ("install.initrd", inst.initrd)):
                path = _tree_path(inst.location, inside)
                if not os.path.isfile(path):
                    errors.setdefault(key, f"{path}: no such file in the install tree")
    if (
        isinstance(inst, CloudImageInstall)
        and inst.base_image
        and "install.base_image" not in errors
    ):
        writers = [
            u for u in _users_of(conn, inst.base_image) if u.kind == "domain" and u.how == "disk"
        ]
        if writers:
            errors["install.base_image"] = (
                f"{inst.base_image} is the disk of {', '.join(u.describe() for u in writers)}: "
                "an overlay on an image a guest writes would be corrupted. Use a copy."
            )
    for i, nic in enumerate(spec.nics):
        if nic.source_type != "network":
            continue
        try:
            conn.networkLookupByName(nic.source)
        except libvirt.libvirtError:
            errors.setdefault(
                f"nics[{i}].source", f"no virtual network named {nic.source!r} on this host"
            )
    return errors


def upload_problems(
    conn: libvirt.virConnect, spec: CreateSpec, *, local_files_host: bool
) -> dict[str, str]:
    """Field -> message for the files of `spec.uploads`: each must be a regular file here; on a
    remote host its pool must exist and run and must not hold a volume of the file's name yet
    (an admin's volume is never overwritten)."""
    import libvirt

    errors: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}
    sizes: dict[str, int] = {}
    for up in spec.uploads:
        path = field_path(spec, up.field)
        if path is None:
            continue  # validate() names it
        if not os.path.isfile(path):
            errors[up.field] = (
                f"{path}: not a regular file on this machine"
                if os.path.exists(path)
                else f"{path}: no such file on this machine"
            )
            continue
        if local_files_host:
            continue  # the host is this machine: the path is used as it is
        try:
            pool = conn.storagePoolLookupByName(up.pool)
            active = bool(pool.isActive())
        except libvirt.libvirtError:
            errors[up.field] = f"no storage pool named {up.pool!r} on this host"
            continue
        if not active:
            errors[up.field] = f"pool {up.pool!r} is not running: start it first"
            continue
        name = upload_volume_name(path)
        other = names.get((up.pool, name))
        if other is not None:
            errors[up.field] = f"{other} is uploaded into pool {up.pool!r} as {name!r} already"
            continue
        names[(up.pool, name)] = up.field
        try:
            pool.storageVolLookupByName(name)
        except libvirt.libvirtError:
            pass
        else:
            errors[up.field] = (
                f"pool {up.pool!r} already has a volume named {name!r}: it is not overwritten "
                "(rename the file or choose another pool)"
            )
            continue
        # the room the data takes there (a sparse image's holes stay holes)
        sizes[up.pool] = sizes.get(up.pool, 0) + _allocated(path)
        try:
            available = int(pool.info()[3])
        except libvirt.libvirtError:
            continue
        if sizes[up.pool] > available:
            errors[up.field] = (
                f"{human_bytes(sizes[up.pool])} to upload into pool {up.pool!r}, which has "
                f"{human_bytes(available)} available"
            )
    return errors


def _allocated(path: str) -> int:
    st = os.stat(path)
    return min(st.st_size, st.st_blocks * 512)


def osinfo_ids(spec: CreateSpec) -> dict[str, str]:
    """The spec's OS variant -> its osinfo URL id (virt-install's libosinfo metadata); {} for
    "generic" or when the database cannot be read."""
    if spec.os_variant == "generic":
        return {}
    from virttui.core.create.osinfo import load_db

    try:
        entry = load_db().get(spec.os_variant)
    except (OSError, ET.ParseError):
        return {}
    return {spec.os_variant: entry.id} if entry is not None and entry.id else {}


def check_for_create(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    *,
    uri: str | None = None,
    local_files_host: bool = True,
) -> tuple[CreateFacts, dict[str, str]]:
    """Fresh facts and every problem (field -> message; {} = go) `create_domain` checks first."""
    facts = read_create_facts(conn, spec, osinfo_ids=osinfo_ids(spec))
    errors = check_create(spec, facts)
    for key, msg in host_problems(
        ctx, conn, spec, facts, uri=uri, local_files_host=local_files_host
    ).items():
        errors.setdefault(key, msg)
    return facts, errors


# ---- the run ------------------------------------------------------------------------------------


def create_domain(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    *,
    uri: str | None = None,
    local_files_host: bool = True,
) -> CreateResult:
    """Make everything the spec asks for, define it (and start it when asked). Any failure or a
    cancel removes what this run made and raises `CreateFailed`."""
    if uri is None:
        uri = str(conn.getURI())
    ctx.progress(0.0, "checking")
    facts, errors = check_for_create(ctx, conn, spec, uri=uri, local_files_host=local_files_host)
    if errors:
        key = next(iter(errors))
        text = "\n".join(f"{k}: {m}" for k, m in errors.items())
        raise CreateFailed(f"cannot create {spec.name!r}:\n{text}", field=key, errors=errors)
    run = _Run()
    try:
        ctx.check()
        result = _create(ctx, conn, spec, facts, run, uri=uri, local_files_host=local_files_host)
    except BaseException as exc:
        cancelled = isinstance(exc, JobCancelled) or ctx.cancelled
        removed, left = run.rollback()
        message = (
            f"creating {spec.name!r} was cancelled"
            if cancelled
            else f"creating {spec.name!r} failed: {_describe(exc)}"
        )
        raise CreateFailed(
            message,
            field=getattr(exc, "field", None),
            removed=removed,
            left=left,
            notes=tuple(run.notes),
            cancelled=cancelled,
        ) from exc
    return result


def _create(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    facts: CreateFacts,
    run: _Run,
    *,
    uri: str,
    local_files_host: bool = True,
) -> CreateResult:
    import libvirt

    install_boot = has_install_phase(spec) and spec.start_after
    dom_uuid = str(uuidlib.uuid4())
    new_disks = [i for i, d in enumerate(spec.disks) if isinstance(d.source, NewVolume)]
    steps = 3 + len(new_disks) + (1 if isinstance(spec.install, CloudImageInstall) else 0)
    steps += 1 if isinstance(spec.install, LocationInstall) and install_boot else 0
    steps += 0 if local_files_host else len(spec.uploads)
    done = [0]

    def step(text: str) -> None:
        ctx.check()
        ctx.progress(done[0] / steps, text)
        done[0] += 1

    # networks a NIC needs
    step("networks")
    for i, nic in enumerate(spec.nics):
        if nic.source_type != "network":
            continue
        net = conn.networkLookupByName(nic.source)
        if not net.isActive():
            try:
                net.create()
            except libvirt.libvirtError as exc:
                raise _StepFailed(
                    f"cannot start network {nic.source!r}: {_describe(exc)}", f"nics[{i}].source"
                ) from exc
            run.notes.append(f"network {nic.source!r} was started and stays running")

    # files on this machine the admin picked, uploaded into a pool of a remote host
    if not local_files_host:
        for up in spec.uploads:
            path = field_path(spec, up.field)
            if path is None:
                continue
            step(f"uploading {os.path.basename(path)} into pool {up.pool}")
            index = upload_disk_index(up.field)
            fmt = None
            if index is not None:  # read again: the file may have changed since the check
                try:
                    fmt = probe_disk_image(ctx, path).format
                except UploadRefused as exc:
                    raise _StepFailed(str(exc), up.field) from exc
            vol = _upload_local(ctx, conn, up.pool, path, up.field, run, sparse=index is not None)
            spec = with_field_path(spec, up.field, str(vol))
            if index is not None and fmt is not None:
                spec = with_formats(spec, {index: fmt})

    # existing images without a stated format: the one the host reads (as the Add disk dialog)
    guesses = existing_disk_formats(conn, spec, remote=not local_files_host)
    spec = with_formats(spec, {i: g.format for i, g in guesses.items()})
    run.notes.extend(format_notes(spec, guesses))

    # new volumes (the first disk of a cloud image is the overlay)
    disks = list(spec.disks)
    overlay_done = False
    for i in new_disks:
        disk = disks[i]
        src = disk.source
        assert isinstance(src, NewVolume)
        step(f"volume {src.name} in pool {src.pool}")
        backing = src.backing
        if backing is None and isinstance(spec.install, CloudImageInstall) and not overlay_done:
            backing = spec.install.base_image
            overlay_done = True
        path = _make_volume(ctx, conn, spec, facts.caps, disk, i, backing, run, uri=uri)
        disks[i] = replace(disk, source=replace(src, path=path, backing=backing))
    spec = replace(spec, disks=tuple(disks))

    # cloud-init seed ISO, uploaded into the overlay's pool
    inst = spec.install
    if isinstance(inst, CloudImageInstall):
        step("cloud-init seed ISO")
        seed_path = _upload_seed(ctx, conn, spec, inst, run, dom_uuid)
        spec = replace(spec, install=replace(inst, seed_iso=seed_path))

    # location install: kernel and initrd into the host's boot directory
    fetched: list[_Made] = []
    inst = spec.install
    if isinstance(inst, LocationInstall) and install_boot:
        step("kernel and initrd from the install tree")
        kernel, initrd, fetched = _fetch_location(ctx, conn, spec, inst, run)
        spec = replace(spec, install=replace(inst, fetched_kernel=kernel, fetched_initrd=initrd))

    # the XML, then define (and start)
    step("defining")
    try:
        xmls = build_domain_xmls(spec, facts.caps)
    except BuildError as exc:
        raise _StepFailed(exc.message, exc.field) from exc
    final = _with_uuid(xmls.final, dom_uuid)
    started = False
    if install_boot and xmls.install is not None:
        # both runs are one domain: the definition must carry the install run's UUID
        transient = conn.createXML(_with_uuid(xmls.install, dom_uuid), 0)
        run.add(f"install run of {spec.name!r}", lambda: _destroy(transient))
        started = True
        for item in reversed(fetched):  # QEMU has read them (virt-install removes them too)
            item.kept = True
            try:
                item.undo()
            except Exception as exc:  # noqa: BLE001 - the domain is fine; say what stays
                run.notes.append(f"could not remove {item.what}: {_describe(exc)}")
        dom = define_validated(conn, final)
        run.add(f"definition of {spec.name!r}", lambda: undefine_with_state(dom))
    else:
        dom = define_validated(conn, final)
        run.add(f"definition of {spec.name!r}", lambda: undefine_with_state(dom))
        if spec.start_after:
            step("starting")
            dom.create()
            run.add(f"running {spec.name!r}", lambda: _destroy(dom))
            started = True
    if spec.autostart:
        dom.setAutostart(1)
    ctx.check()
    ctx.progress(1.0, "created")
    created = tuple(
        m.what
        for m in run.made
        if not m.kept and not m.what.startswith(("install run", "running "))
    )
    return CreateResult(
        name=str(dom.name()),
        uuid=str(dom.UUIDString()),
        started=started,
        created=created,
        notes=tuple(run.notes),
    )


def _with_uuid(xml: str, dom_uuid: str) -> str:
    """The domain XML with `<uuid>` after `<name>` (virt-install writes one into both XMLs).
    `<name>` is the root's first child and its text is escaped: its first end tag is it."""
    return xml.replace("</name>", f"</name>\n  <uuid>{dom_uuid}</uuid>", 1)


# ---- steps ------------------------------------------------------------------------------------


def _make_volume(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    caps: CreateCaps,
    disk: Disk,
    index: int,
    backing: str | None,
    run: _Run,
    *,
    uri: str,
) -> str:
    import libvirt

    from virttui.core.storage.volumes import VolumeSpec, create_volume

    src = disk.source
    assert isinstance(src, NewVolume)
    where = f"disks[{index}]"
    prealloc = "full" if src.preallocation == "falloc" else src.preallocation
    pool = conn.storagePoolLookupByName(src.pool)
    if backing is not None and not _is_pool_volume(conn, backing):
        # a cloud image outside every pool: qemu-img writes the overlay into the pool's dir
        target = disk_path(disk, caps, where)
        users = _users_of(conn, backing)
        try:
            C.overlay_for_cloud_image(
                ctx, backing, target, src.size_bytes, uri=uri, base_users=users
            )
        except JobCancelled:
            Q.remove_file(target, uri)
            raise
        except JobError as exc:
            raise _StepFailed(str(exc), f"{where}.source") from exc
        run.add(f"overlay {target}", lambda: _delete_path(conn, target, uri))
        with contextlib.suppress(libvirt.libvirtError):
            pool.refresh(0)
        return target
    vspec = VolumeSpec(
        name=src.name,
        format=src.format,
        capacity=src.size_bytes,
        preallocation=prealloc,
        backing_path=backing or "",
    )
    try:
        info = create_volume(conn, src.pool, vspec)
    except JobError as exc:
        raise _StepFailed(str(exc), f"{where}.source") from exc
    except libvirt.libvirtError as exc:
        raise _StepFailed(
            f"cannot create volume {src.name!r} in pool {src.pool!r}: {_describe(exc)}",
            f"{where}.source",
        ) from exc
    path = info.path
    run.add(f"volume {path}", lambda: _delete_path(conn, path, uri))
    return path


def _is_pool_volume(conn: libvirt.virConnect, path: str) -> bool:
    import libvirt

    try:
        conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return False
    return True


def _users_of(conn: libvirt.virConnect, path: str) -> tuple[User, ...]:
    from virttui.core.storage.pools import files_here

    return used_by(path, [conn], local=files_here(conn))


def _delete_path(conn: libvirt.virConnect, path: str, uri: str | None) -> None:
    """Delete what this run made at `path`: through libvirt when a pool knows it, else the
    plain file (qemu_img.remove_file: regular files only, local or over ssh)."""
    import libvirt

    try:
        vol = conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        Q.remove_file(path, uri)
        return
    vol.delete(0)


def _destroy(dom: libvirt.virDomain) -> None:
    import libvirt

    try:
        dom.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (
            libvirt.VIR_ERR_NO_DOMAIN,
            libvirt.VIR_ERR_OPERATION_INVALID,
        ):
            raise


def undefine_with_state(dom: libvirt.virDomain) -> None:
    """Undefine with the NVRAM file and TPM state libvirt made for it (flags this libvirt has)."""
    import libvirt

    with contextlib.suppress(libvirt.libvirtError):
        if dom.isActive():
            dom.destroy()
    flags = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    flags |= getattr(libvirt, "VIR_DOMAIN_UNDEFINE_TPM", 0)
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return
        if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
            return  # transient: gone with its destroy
        raise


_HOST_SAFE = re.compile(r"[^A-Za-z0-9-]+")


def _free_name(conn: libvirt.virConnect, pool_name: str, wanted: str) -> str:
    import libvirt

    pool = conn.storagePoolLookupByName(pool_name)
    stem, dot, ext = wanted.rpartition(".")
    for n in range(100):
        name = wanted if n == 0 else f"{stem}-{n}{dot}{ext}"
        try:
            pool.storageVolLookupByName(name)
        except libvirt.libvirtError:
            return name
    raise _StepFailed(f"pool {pool_name!r} has no free name like {wanted!r}", None)


def _upload_bytes(
    ctx: JobContext,
    conn: libvirt.virConnect,
    pool_name: str,
    name: str,
    data: bytes,
    run: _Run,
    what: str,
) -> _MadeVolume:
    """A raw volume holding `data`, through libvirt's stream (local and remote alike)."""
    with tempfile.TemporaryDirectory(prefix="virttui-create-") as tmp:
        local = os.path.join(tmp, "data")
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return _upload_file(ctx, conn, pool_name, name, local, run, what)


def _upload_file(
    ctx: JobContext,
    conn: libvirt.virConnect,
    pool_name: str,
    name: str,
    local: str,
    run: _Run,
    what: str,
    *,
    sparse: bool = False,
) -> _MadeVolume:
    """A new volume holding the local file's bytes as they are (created raw, sparse: a qcow2
    image stays a qcow2 file, which the pool's refresh then reads as such)."""
    from virttui.core.storage.streams import upload
    from virttui.core.storage.volumes import VolumeSpec, create_volume

    size = max(os.path.getsize(local), 1)
    info = create_volume(conn, pool_name, VolumeSpec(name=name, format="raw", capacity=size))
    path = info.path
    made = run.add(f"{what} {path}", lambda: _delete_path(conn, path, None))
    upload(ctx, conn, pool_name, name, local, sparse=sparse)
    return _MadeVolume(path, made)


def _upload_local(
    ctx: JobContext,
    conn: libvirt.virConnect,
    pool_name: str,
    local: str,
    key: str,
    run: _Run,
    *,
    sparse: bool = False,
) -> _MadeVolume:
    """The local file `local` as a new volume of its name in `pool_name` (refused when the name
    is taken: `create_volume` never replaces a volume); removed again by the rollback."""
    import libvirt

    name = upload_volume_name(local)
    try:
        vol = _upload_file(ctx, conn, pool_name, name, local, run, "uploaded", sparse=sparse)
        # a refresh lets the pool probe the file's format (a qcow2 cloud image as backing)
        with contextlib.suppress(libvirt.libvirtError):
            conn.storagePoolLookupByName(pool_name).refresh(0)
        return vol
    except JobCancelled:
        raise
    except (JobError, libvirt.libvirtError, OSError) as exc:
        raise _StepFailed(
            f"cannot upload {local} into pool {pool_name!r}: {_describe(exc)}", key
        ) from exc


class _MadeVolume(str):
    """A volume path that remembers its rollback entry."""

    made: _Made

    def __new__(cls, path: str, made: _Made) -> _MadeVolume:
        obj = super().__new__(cls, path)
        obj.made = made
        return obj


def _upload_seed(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    inst: CloudImageInstall,
    run: _Run,
    dom_uuid: str,
) -> str:
    first = next(d for d in spec.disks if isinstance(d.source, NewVolume))
    assert isinstance(first.source, NewVolume)
    try:
        data = C.seed_iso_bytes(seed_options(spec, inst, dom_uuid))
    except C.SeedError as exc:
        raise _StepFailed(str(exc), seed_field(exc.field)) from exc
    pool = first.source.pool
    name = _free_name(conn, pool, f"{spec.name}-cidata.iso")
    return str(_upload_bytes(ctx, conn, pool, name, data, run, "seed ISO"))


# ---- location installs ---------------------------------------------------------------------


def _url_scheme(location: str) -> str | None:
    scheme = urllib.parse.urlsplit(location).scheme.lower()
    return scheme if scheme and "://" in location else None


def _tree_path(location: str, inside: str) -> str:
    return os.path.join(location, inside.lstrip("/"))


def boot_dir(conn: libvirt.virConnect) -> str:
    """virt-install's directory for fetched kernels: /var/lib/libvirt/boot for a system
    connection, ~/.cache/virt-manager/boot for a session one."""
    if str(conn.getURI()).rstrip("/").endswith("/session"):
        return os.path.expanduser("~/.cache/virt-manager/boot")
    return BOOT_DIR_SYSTEM


def _boot_pool(conn: libvirt.virConnect, run: _Run) -> tuple[str, _Made | None]:
    """The name of a running pool over the boot directory: the host's own when it has one,
    else a transient pool of ours (destroyed again by the rollback or at the end)."""
    import libvirt

    from virttui.core.storage.pools import list_pools

    directory = boot_dir(conn)
    for pool in list_pools(conn):
        if pool.type == "dir" and os.path.normpath(pool.target_path) == directory:
            if not pool.active:
                conn.storagePoolLookupByName(pool.name).create(0)
                run.notes.append(f"storage pool {pool.name!r} was started and stays running")
            return pool.name, None
    name = f"virttui-boot-{secrets.token_hex(4)}"
    el = ET.Element("pool", type="dir")
    ET.SubElement(el, "name").text = name
    ET.SubElement(ET.SubElement(el, "target"), "path").text = directory
    pool = conn.storagePoolCreateXML(
        ET.tostring(el, encoding="unicode"), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD
    )
    made = run.add(f"transient pool {name} over {directory}", lambda: _destroy_pool(pool))
    return name, made


def _destroy_pool(pool: libvirt.virStoragePool) -> None:
    import libvirt

    try:
        pool.destroy()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise


def _download(ctx: JobContext, url: str, dest: str) -> None:
    """An http/https/ftp file into the local `dest` (cancel between chunks)."""
    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as out:  # noqa: S310
        total = int(resp.headers.get("Content-Length") or 0)
        got = 0
        while chunk := resp.read(DOWNLOAD_CHUNK):
            ctx.check()
            out.write(chunk)
            got += len(chunk)
            ctx.progress(got / total if total else None, f"downloading {url}: {human_bytes(got)}")


def _fetch_location(
    ctx: JobContext,
    conn: libvirt.virConnect,
    spec: CreateSpec,
    inst: LocationInstall,
    run: _Run,
) -> tuple[str, str, list[_Made]]:
    scheme = _url_scheme(inst.location)
    if scheme is not None and scheme not in URL_SCHEMES:
        raise _StepFailed(
            f"{scheme}:// trees cannot be fetched: use a local directory or http/https/ftp",
            "install.location",
        )
    pool, pool_made = _boot_pool(conn, run)
    tag = secrets.token_hex(4)
    safe = _HOST_SAFE.sub("-", spec.name).strip("-")[:40] or "domain"
    out: list[str] = []
    made: list[_Made] = [pool_made] if pool_made is not None else []
    with tempfile.TemporaryDirectory(prefix="virttui-location-") as tmp:
        for which, inside in (("kernel", inst.kernel), ("initrd", inst.initrd)):
            if scheme is None:
                local = _tree_path(inst.location, inside)
            else:
                local = os.path.join(tmp, which)
                url = inst.location.rstrip("/") + "/" + inside.lstrip("/")
                try:
                    _download(ctx, url, local)
                except OSError as exc:
                    raise _StepFailed(f"cannot fetch {url}: {exc}", f"install.{which}") from exc
            if not os.path.isfile(local):
                raise _StepFailed(f"{local}: no such file in the install tree", f"install.{which}")
            suffix = "vmlinuz" if which == "kernel" else "initrd.img"
            vol = _upload_file(
                ctx, conn, pool, f"virttui-{safe}-{tag}-{suffix}", local, run, f"fetched {which}"
            )
            out.append(str(vol))
            made.append(vol.made)
    return out[0], out[1], made


__all__ = [
    "BOOT_DIR_SYSTEM",
    "CreateFailed",
    "CreateResult",
    "boot_dir",
    "check_for_create",
    "undefine_with_state",
    "create_domain",
    "host_problems",
    "upload_problems",
    "upload_volume_name",
    "osinfo_ids",
    "seed_options",
]
