"""A `CreateSpec` as the equivalent `virt-install` command: argv and a copyable shell line.

The product never runs virt-install; the wizard shows the line (virt-manager users have asked for
it for years) and the fidelity tests run it with `--print-xml --dry-run` to compare its XML with
`domain_xml.build_domain_xml`.

Quoting, two levels:
- the shell: `virt_install_line` is `shlex.join(argv)`; free text that starts with '-' is
  written `--name=-x` (argparse reads `--name -x` as two options);
- virt-install's own sub-option parser (`--disk`, `--graphics`, `--network`, `--location`,
  `--boot`, ...): virt-install 4.1 splits the option string with `shlex` (POSIX mode, ``,`` as
  the only separator), so a value holding a comma, a quote, a backslash or a space is quoted
  *inside* the option, shell-style: ``password='a,b'``. (Old virt-install and QEMU doubled the
  comma, ``a,,b``; virt-install 4.1 does not understand that: it reads ``b`` as an unknown
  sub-option.) Plain options (`--name`, `--extra-args`, `--cdrom`) take the value as is.

Known virt-install 4.1 difference, not ours: it escapes attribute values twice, so a VNC password
holding ``&'"<>`` reaches its XML as ``&amp;apos;``...; our XML carries the literal value.

For the later session: `virt_install_argv(spec, caps, uri=...)` (caps gives a new volume's path
so that the volume gets the wizard's name; without caps virt-install names it after the domain).
virt-install always boots the install; "start after creation" off adds `--noreboot` only.
"""

from __future__ import annotations

import os.path
import shlex
from collections.abc import Sequence

from virttui.core.create.domain_xml import CreateCaps
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    ImportInstall,
    KernelBoot,
    LocationInstall,
    NewVolume,
    PxeInstall,
    cdrom_bus_for,
)
from virttui.core.create.uploads import UploadTarget

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:./-_")


def subopt_quote(value: str) -> str:
    """A value as virt-install's sub-option parser (shlex, ',' separator) reads it back."""
    if value and all(c in _SAFE for c in value):
        return value
    # not shlex.quote: it leaves commas bare (they are harmless to a shell, not to virt-install)
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _opts(*pairs: tuple[str, str | int | None] | str) -> str:
    parts: list[str] = []
    for pair in pairs:
        if isinstance(pair, str):
            parts.append(pair)
            continue
        key, value = pair
        if value is None:
            continue
        parts.append(f"{key}={subopt_quote(str(value))}")
    return ",".join(parts)


def _kv(option: str, value: str) -> list[str]:
    """`--option value`, or `--option=value` when the value starts with '-' (argparse would
    take `--name -x` for two options)."""
    return [f"{option}={value}"] if value.startswith("-") else [option, value]


def _mib(n: int) -> str:
    return str(n // (1 << 20))


def _gib(n: int) -> str:
    # virt-install's size= is GiB (a float): enough digits to come back to the same byte count
    return repr(n / (1 << 30))


def virt_install_argv(
    spec: CreateSpec, caps: CreateCaps | None = None, *, uri: str | None = None
) -> list[str]:
    argv = ["virt-install"]
    if uri is not None:
        argv += ["--connect", uri]
    argv += [*_kv("--name", spec.name), "--virt-type", spec.domain_type, *_kv("--arch", spec.arch)]
    if spec.machine is not None:
        argv += _kv("--machine", spec.machine)
    mem = _opts(
        ("memory", _mib(spec.memory_bytes)),
        ("maxmemory", _mib(spec.memory_max) if spec.max_memory_bytes is not None else None),
    )
    argv += ["--memory", mem]
    topo = spec.topology
    argv += [
        "--vcpus",
        _opts(
            ("vcpus", spec.vcpus),
            ("maxvcpus", spec.max_vcpus),
            ("sockets", topo.sockets if topo else None),
            ("cores", topo.cores if topo else None),
            ("threads", topo.threads if topo else None),
        ),
    ]
    if spec.cpu.mode == "custom":
        argv += _kv("--cpu", subopt_quote(spec.cpu.model or ""))
    elif spec.cpu.mode != "default":
        argv += ["--cpu", spec.cpu.mode]
    elif spec.domain_type == "kvm":
        # virt-install's own default for KVM is host-passthrough; "default" is libvirt's
        argv += ["--cpu", "clear"]
    argv += _firmware_args(spec)
    argv += _install_args(spec, caps)
    argv += _kv("--osinfo", spec.os_variant)
    if not spec.disks:
        argv += ["--disk", "none"]
    for disk in spec.disks:
        argv += ["--disk", _disk_opt(disk, caps)]
    inst = spec.install
    if isinstance(inst, CloudImageInstall):
        argv += ["--disk", _cdrom_opt(inst.seed_iso or "SEED.iso", spec)]
    if spec.driver_iso is not None:
        argv += ["--disk", _cdrom_opt(spec.driver_iso, spec)]
    if not spec.nics:
        argv += ["--network", "none"]
    for nic in spec.nics:
        argv += [
            "--network",
            _opts((nic.source_type, nic.source), ("model", nic.model), ("mac", nic.mac)),
        ]
    g = spec.graphics
    if g.type == "none":
        argv += ["--graphics", "none"]
    else:
        argv += [
            "--graphics",
            _opts(
                g.type,
                ("listen", g.listen),
                ("port", g.port),
                ("password", g.password),
                ("keymap", g.keymap),
            ),
        ]
    argv += ["--video", spec.video]
    argv += ["--serial", "pty", "--console", "pty,target.type=serial"]
    argv += ["--controller", {"usb2": "usb2", "usb3": "usb3", "none": "usb,model=none"}[spec.usb]]
    if spec.virtio_extras:
        argv += ["--rng", "/dev/urandom", "--memballoon", "virtio"]
        argv += ["--channel", "unix,target.type=virtio,name=org.qemu.guest_agent.0"]
    elif spec.os_variant != "generic":
        argv += ["--rng", "none", "--channel", "none"]  # no osinfo-driven extras
    if spec.tpm:
        argv += ["--tpm", _opts("emulator", ("model", spec.tpm_model))]
    elif spec.firmware.kind == "uefi":
        # virt-install adds an emulated TPM to every UEFI guest when the host has swtpm: our
        # XML has none, so the line must say so
        argv += ["--tpm", "none"]
    if spec.autostart:
        argv.append("--autostart")
    if not spec.start_after:
        argv.append("--noreboot")
    argv.append("--noautoconsole")
    return argv


def virt_install_line(
    spec: CreateSpec, caps: CreateCaps | None = None, *, uri: str | None = None
) -> str:
    """The command as one copyable shell line."""
    return shlex.join(virt_install_argv(spec, caps, uri=uri))


def upload_notes(
    spec: CreateSpec, *, remote: bool, targets: Sequence[UploadTarget] = ()
) -> list[str]:
    """What the line cannot say: on a remote host each file of `spec.uploads` is uploaded into
    its pool first. With `targets` (`core/create/uploads.upload_targets`), the line and the XML
    already name the volume each file becomes (the note says which); without, or where a pool
    type names its volumes otherwise, they still name the local file."""
    from virttui.core.create.spec import field_path

    if not remote:
        return []
    where = {t.field: t for t in targets}
    out: list[str] = []
    for up in spec.uploads:
        path = field_path(spec, up.field)
        if path is None:
            continue
        head = (
            f"{up.field}: {path} (a file on this machine) is uploaded first into pool {up.pool!r}"
        )
        target = where.get(up.field)
        if target is not None and target.path is not None:
            fmt = f", format {target.format}" if target.format else ""
            out.append(f"{head} as {target.path}{fmt}")
        else:
            out.append(
                f"{head}; virt-install is given the path as written and would need the "
                "uploaded volume's path instead"
            )
    return out


def _firmware_args(spec: CreateSpec) -> list[str]:
    if spec.firmware.kind != "uefi":
        return []
    if not spec.firmware.secure_boot:
        return ["--boot", "uefi"]
    return [
        "--boot",
        "firmware=efi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,"
        "firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes,loader.secure=yes",
        "--features",
        "smm.state=on",
    ]


def _install_args(spec: CreateSpec, caps: CreateCaps | None) -> list[str]:
    inst = spec.install
    if isinstance(inst, CdromInstall):
        if inst.iso_path is not None:
            return _kv("--cdrom", inst.iso_path)
        vol = f"{inst.pool}/{inst.volume}"
        if caps is not None and vol in caps.volume_paths:
            return _kv("--cdrom", caps.volume_paths[vol])
        # virt-install's --cdrom takes a path only: without the volume's path, attach the volume
        # and boot it first (it then stays in the definition, not ejected after the install)
        return [
            "--disk",
            _opts(("vol", vol), "device=cdrom", ("bus", cdrom_bus_for(spec))),
            "--boot",
            "cdrom,hd",
        ]
    if isinstance(inst, LocationInstall):
        loc = ",".join(
            [subopt_quote(inst.location), _opts(("kernel", inst.kernel), ("initrd", inst.initrd))]
        )
        out = _kv("--location", loc)
        if inst.extra_args:
            out += _kv("--extra-args", inst.extra_args)
        return out
    if isinstance(inst, PxeInstall):
        return ["--pxe"]
    if isinstance(inst, KernelBoot):
        return [
            "--boot",
            _opts(
                ("kernel", inst.kernel),
                ("initrd", inst.initrd or None),
                ("kernel_args", inst.cmdline or None),
            ),
        ]
    assert isinstance(inst, ImportInstall | CloudImageInstall)
    return ["--import"]


def _disk_opt(disk: Disk, caps: CreateCaps | None) -> str:
    src = disk.source
    first: list[tuple[str, str | int | None] | str] = []
    if isinstance(src, NewVolume):
        target = caps.pool_targets.get(src.pool) if caps is not None else None
        if src.path is not None or target is not None:
            first.append(("path", src.path or os.path.join(target or "", src.name)))
        else:
            first.append(("pool", src.pool))
        first += [("size", _gib(src.size_bytes)), ("format", src.format)]
        if src.preallocation in ("falloc", "full"):
            first.append("sparse=no")
        if src.backing is not None:
            first += [("backing_store", src.backing), ("backing_format", "qcow2")]
    elif isinstance(src, ExistingPath):
        first += [("path", src.path), ("format", disk.format)]
    else:
        assert isinstance(src, ExistingVolume)
        first.append(("vol", f"{src.pool}/{src.volume}"))
    return _opts(
        *first,
        ("device", disk.device),
        ("bus", disk.bus),
        ("cache", disk.cache),
        ("io", disk.io),
        ("readonly", "on" if disk.readonly else None),
        ("shareable", "on" if disk.shareable else None),
    )


def _cdrom_opt(path: str, spec: CreateSpec) -> str:
    return _opts(("path", path), "device=cdrom", ("bus", cdrom_bus_for(spec)))
