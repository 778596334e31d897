"""`CreateSpec`: every answer of the create wizard, as frozen dataclasses (no libvirt, no UI).

The spec is *explicit*: every choice virt-install would default from osinfo (machine, disk and
CD-ROM buses, NIC model, video model, USB controller, virtio extras, TPM model) is a field the
wizard fills from its defaults (osinfo helper: `core/create/osinfo.py`), so that
`domain_xml.build_domain_xml(spec, caps)` and `virt_install.virt_install_argv(spec)` say the same
thing and the fidelity tests can compare them.

For the later session:
- wizard: build a `CreateSpec`, call `spec.validate()` (field path -> message, e.g.
  ``"disks[1].bus"``, ``"nics[0].mac"``, ``"graphics.port"``) and show each message next to its
  field; `validate.check_domain_caps` and `validate.validate_domain_xml` add the host's checks.
  `domain_type_from_verdict(report.verdict)` gives the domain type and the reason to show.
- presets: `spec.to_dict()` is TOML-serialisable (tomli-w; no None values, sizes in bytes);
  `CreateSpec.from_dict(data)` reads one back (ValueError with a sentence on bad input).
- uploads: `CreateSpec.uploads` (`LocalUpload(field, pool)`) marks a path field (ISO, kernel,
  initrd, cloud image, driver ISO, an existing disk's path: `disk_upload_field(i)`) as a file on
  the machine virttui runs on; on a remote host the runner uploads it into the pool and replaces
  the path with the volume's (`with_field_path`; a disk also gets its image's format,
  `with_disk_format`). `core/create/uploads.py` says where each will land before it does.
- runner: fields it fills after creating things, before building the final XML with
  `dataclasses.replace`: `CloudImageInstall.seed_iso` (path of the uploaded NoCloud seed ISO),
  `LocationInstall.fetched_kernel`/`fetched_initrd` (kernel/initrd copied out of the tree, on the
  target host, as virt-install does into /var/lib/libvirt/boot), `NewVolume.path` when a pool's
  volume path cannot be derived from the pool's target (see `domain_xml.CreateCaps`).
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

from virttui.core.host.probe.verdict import Acceleration, Verdict

DomainType = Literal["kvm", "qemu"]
CpuMode = Literal["default", "host-passthrough", "host-model", "custom"]
FirmwareKind = Literal["bios", "uefi"]
DiskDevice = Literal["disk", "cdrom"]
DiskBus = Literal["virtio", "sata", "scsi", "ide"]
DiskCache = Literal["none", "writeback", "writethrough", "directsync", "unsafe"]
DiskIo = Literal["native", "threads"]
VolumeFormat = Literal["qcow2", "raw"]
Preallocation = Literal["off", "metadata", "falloc", "full"]
NicSourceType = Literal["network", "bridge"]
NicModel = Literal["virtio", "e1000", "e1000e", "rtl8139"]
GraphicsType = Literal["vnc", "spice", "none"]
VideoModel = Literal["vga", "virtio", "qxl", "bochs", "cirrus", "none"]
UsbKind = Literal["usb2", "usb3", "none"]
TpmModel = Literal["tpm-tis", "tpm-crb"]

CDROM_BUSES: tuple[str, ...] = ("sata", "ide", "scsi")
VNC_PORT_MIN = 5900
VNC_PORT_MAX = 65535
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
# libvirt: a domain name is any non-empty text without '/' (the qemu driver makes files of it)
# and without a newline (domain.rng); XML 1.0 itself cannot carry other C0 controls but TAB.
_NAME_BAD = re.compile(r"[/\n\x00-\x08\x0b-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---- install methods (a tagged union: `kind` is the tag in to_dict) -----------------------------


@dataclass(frozen=True)
class CdromInstall:
    """Boot an ISO once (then it is ejected, as virt-install does): a path or a pool volume."""

    iso_path: str | None = None
    pool: str | None = None
    volume: str | None = None
    kind: Literal["cdrom"] = "cdrom"


@dataclass(frozen=True)
class LocationInstall:
    """Network-install tree (local dir or URL); kernel/initrd are paths inside the tree."""

    location: str
    kernel: str
    initrd: str
    extra_args: str = ""
    # the runner fills these with the copies on the target host (virt-install's
    # /var/lib/libvirt/boot/virtinst-*-vmlinuz); None: location/kernel is used as is
    fetched_kernel: str | None = None
    fetched_initrd: str | None = None
    kind: Literal["location"] = "location"


@dataclass(frozen=True)
class PxeInstall:
    kind: Literal["pxe"] = "pxe"


@dataclass(frozen=True)
class ImportInstall:
    """Boot the first disk as it is (an existing installed image)."""

    kind: Literal["import"] = "import"


@dataclass(frozen=True)
class KernelBoot:
    """Direct kernel boot, kept in the definition (not only for the install)."""

    kernel: str
    initrd: str = ""
    cmdline: str = ""
    kind: Literal["kernel"] = "kernel"


@dataclass(frozen=True)
class CloudSeed:
    """What goes into the NoCloud seed (built by core/create/cloudinit.py; checked by
    core/create/seed.py: `seed_problems`, keyed ``install.seed.<field>``)."""

    hostname: str = ""  # "": made of the domain's name (cloudinit.hostname_from_name)
    user: str = ""  # "": the cloud image's default user
    password_hash: str = ""  # never the clear password (the wizard leaves it out of presets)
    ssh_keys: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    sudo: bool = True  # the named user gets passwordless sudo
    ssh_password_login: bool = False  # cloud-init's ssh_pwauth
    extra_user_data: str = ""  # raw #cloud-config YAML, merged over the generated one
    network_config: str = ""  # raw network-config YAML (v1 or v2); "": the image's DHCP


@dataclass(frozen=True)
class CloudImageInstall:
    """A cloud image as the backing file of the first disk (a NewVolume overlay) + a seed ISO."""

    base_image: str
    seed: CloudSeed = field(default_factory=CloudSeed)
    seed_iso: str | None = None  # filled by the runner once the seed ISO is on the target host
    kind: Literal["cloud"] = "cloud"


Install: TypeAlias = (
    CdromInstall | LocationInstall | PxeInstall | ImportInstall | KernelBoot | CloudImageInstall
)
_INSTALLS: dict[str, type[Any]] = {
    "cdrom": CdromInstall,
    "location": LocationInstall,
    "pxe": PxeInstall,
    "import": ImportInstall,
    "kernel": KernelBoot,
    "cloud": CloudImageInstall,
}


# ---- disks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewVolume:
    pool: str
    name: str
    size_bytes: int
    format: VolumeFormat = "qcow2"
    preallocation: Preallocation = "off"
    backing: str | None = None  # cloud image overlay: the base image path
    path: str | None = None  # known path (runner); else derived from the pool's target
    kind: Literal["new"] = "new"


@dataclass(frozen=True)
class ExistingPath:
    path: str
    kind: Literal["path"] = "path"


@dataclass(frozen=True)
class ExistingVolume:
    pool: str
    volume: str
    kind: Literal["volume"] = "volume"


DiskSource: TypeAlias = NewVolume | ExistingPath | ExistingVolume


# ---- files on the machine virttui runs on, uploaded into a pool of the target host -------------

InstallUploadField = Literal[
    "install.iso_path", "install.kernel", "install.initrd", "install.base_image", "driver_iso"
]
UPLOAD_FIELDS: tuple[str, ...] = get_args(InstallUploadField)
# an existing disk given by path (ExistingPath, also a CD-ROM): `disk_upload_field(index)`, the
# same path the disk's messages use, so a refusal lands next to the disk's Path field
_DISK_UPLOAD = re.compile(r"^disks\[(\d+)\]\.source\.path$")
# one of UPLOAD_FIELDS, or "disks[N].source.path"
UploadField: TypeAlias = str


def disk_upload_field(index: int) -> str:
    """The upload field of disk `index` (its path is a file on this machine)."""
    return f"disks[{index}].source.path"


def upload_disk_index(key: str) -> int | None:
    """The disk index an upload field names (None: not a disk's field)."""
    m = _DISK_UPLOAD.match(key)
    return int(m.group(1)) if m else None


def is_upload_field(key: str) -> bool:
    return key in UPLOAD_FIELDS or upload_disk_index(key) is not None


@dataclass(frozen=True)
class LocalUpload:
    """The path of `field` is a file on the machine virttui runs on: on a remote host the runner
    uploads it into `pool` (a volume named like the file; a name already taken is refused) and
    uses the volume's path; on a local host the path is used as it is. `field` is one of
    UPLOAD_FIELDS or an existing disk's path, `disks[N].source.path` (the volume keeps the
    image's format, read with qemu-img info here)."""

    field: UploadField
    pool: str


_SOURCES: dict[str, type[Any]] = {"new": NewVolume, "path": ExistingPath, "volume": ExistingVolume}


@dataclass(frozen=True)
class Disk:
    source: DiskSource
    device: DiskDevice = "disk"
    bus: DiskBus = "virtio"
    cache: DiskCache | None = None
    io: DiskIo | None = None
    readonly: bool = False
    shareable: bool = False
    # format of an existing image (qemu-img info), None = raw for CD-ROMs, qcow2 else
    format: str | None = None


@dataclass(frozen=True)
class Nic:
    source_type: NicSourceType = "network"
    source: str = "default"
    model: NicModel = "virtio"
    mac: str | None = None  # None: libvirt/virt-install generate one


@dataclass(frozen=True)
class Graphics:
    type: GraphicsType = "vnc"
    listen: str | None = None
    port: int | None = None  # None: autoport
    password: str | None = None
    keymap: str | None = None


@dataclass(frozen=True)
class Topology:
    sockets: int
    cores: int
    threads: int


@dataclass(frozen=True)
class Cpu:
    mode: CpuMode = "default"
    model: str | None = None  # mode "custom" only


@dataclass(frozen=True)
class Firmware:
    kind: FirmwareKind = "bios"
    secure_boot: bool = False


@dataclass(frozen=True)
class CreateSpec:
    name: str
    memory_bytes: int
    vcpus: int = 1
    domain_type: DomainType = "qemu"
    domain_type_reason: str = ""
    arch: str = "x86_64"
    machine: str | None = None  # None: the host's default for arch/type (domain capabilities)
    max_memory_bytes: int | None = None  # None: = memory
    max_vcpus: int | None = None  # None: = vcpus
    topology: Topology | None = None
    cpu: Cpu = field(default_factory=Cpu)
    firmware: Firmware = field(default_factory=Firmware)
    install: Install = field(default_factory=ImportInstall)
    os_variant: str = "generic"
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()
    graphics: Graphics = field(default_factory=Graphics)
    video: VideoModel = "vga"
    usb: UsbKind = "usb2"  # with graphics and USB, a USB tablet comes too (as virt-install)
    virtio_extras: bool = False  # rng (/dev/urandom), virtio memballoon, guest-agent channel
    tpm: bool = False  # emulated (swtpm)
    tpm_model: TpmModel = "tpm-crb"
    driver_iso: str | None = None  # second CD-ROM (e.g. virtio-win)
    cdrom_bus: Literal["sata", "ide", "scsi"] | None = None  # None: ide on pc, sata on q35
    autostart: bool = False
    start_after: bool = True
    uploads: tuple[LocalUpload, ...] = ()  # paths that are files here, uploaded to the host

    # ---- derived -------------------------------------------------------------------------------

    @property
    def memory_max(self) -> int:
        return self.max_memory_bytes if self.max_memory_bytes is not None else self.memory_bytes

    @property
    def vcpus_max(self) -> int:
        return self.max_vcpus if self.max_vcpus is not None else self.vcpus

    def validate(self) -> dict[str, str]:
        """Field path -> message for every answer that cannot work; {} when all is fine."""
        return validate_spec(self)

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)  # type: ignore[no-any-return]  # a dataclass gives a dict

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreateSpec:
        spec: CreateSpec = _from_plain(cls, data, "")
        for i, up in enumerate(spec.uploads):
            if not is_upload_field(up.field):
                raise ValueError(
                    f"uploads[{i}].field: {up.field!r} is not a path that can be uploaded (one "
                    f"of {', '.join(UPLOAD_FIELDS)}, or disks[N].source.path)"
                )
        return spec


def domain_type_from_verdict(verdict: Verdict) -> tuple[DomainType, str]:
    """The domain type the host check decided, and the sentence saying why."""
    dtype: DomainType = "kvm" if verdict.acceleration is Acceleration.KVM else "qemu"
    return dtype, verdict.summary


def field_path(spec: CreateSpec, key: str) -> str | None:
    """The path an upload field names in this spec (None: the install method has no such path,
    or it is empty)."""
    inst = spec.install
    value: str | None = None
    disk = upload_disk_index(key)
    if disk is not None:
        src = spec.disks[disk].source if disk < len(spec.disks) else None
        if isinstance(src, ExistingPath):
            value = src.path
    elif key == "driver_iso":
        value = spec.driver_iso
    elif key == "install.iso_path" and isinstance(inst, CdromInstall):
        value = inst.iso_path
    elif key in ("install.kernel", "install.initrd") and isinstance(inst, KernelBoot):
        value = inst.kernel if key == "install.kernel" else inst.initrd
    elif key == "install.base_image" and isinstance(inst, CloudImageInstall):
        value = inst.base_image
    return value or None


def with_field_path(spec: CreateSpec, key: str, path: str) -> CreateSpec:
    """The spec with the path of upload field `key` replaced (the uploaded volume's path)."""
    inst = spec.install
    index = upload_disk_index(key)
    if index is not None and index < len(spec.disks):
        disk = spec.disks[index]
        if isinstance(disk.source, ExistingPath):
            disks = list(spec.disks)
            disks[index] = dataclasses.replace(disk, source=ExistingPath(path))
            return dataclasses.replace(spec, disks=tuple(disks))
    if key == "driver_iso":
        return dataclasses.replace(spec, driver_iso=path)
    if key == "install.iso_path" and isinstance(inst, CdromInstall):
        return dataclasses.replace(spec, install=dataclasses.replace(inst, iso_path=path))
    if key == "install.kernel" and isinstance(inst, KernelBoot):
        return dataclasses.replace(spec, install=dataclasses.replace(inst, kernel=path))
    if key == "install.initrd" and isinstance(inst, KernelBoot):
        return dataclasses.replace(spec, install=dataclasses.replace(inst, initrd=path))
    if key == "install.base_image" and isinstance(inst, CloudImageInstall):
        return dataclasses.replace(spec, install=dataclasses.replace(inst, base_image=path))
    raise ValueError(f"{key}: not a path of this spec")


def with_disk_format(spec: CreateSpec, index: int, fmt: str) -> CreateSpec:
    """The spec with disk `index`'s image format set (an uploaded image keeps its own)."""
    disks = list(spec.disks)
    disks[index] = dataclasses.replace(disks[index], format=fmt)
    return dataclasses.replace(spec, disks=tuple(disks))


def upload_for(spec: CreateSpec, key: str) -> LocalUpload | None:
    """The upload asked for field `key`, if any."""
    return next((u for u in spec.uploads if u.field == key), None)


def is_q35(machine: str | None) -> bool:
    return machine is not None and "q35" in machine


def cdrom_bus_for(spec: CreateSpec) -> DiskBus:
    """The CD-ROMs' bus: the spec's, else virt-install's default (ide on pc, sata on q35)."""
    if spec.cdrom_bus is not None:
        return spec.cdrom_bus
    return "sata" if is_q35(spec.machine) else "ide"


# ---- validation ----------------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    if not name.strip():
        return "a name is required"
    bad = _NAME_BAD.search(name)
    if bad:
        return f"a name cannot contain {bad.group()!r}"
    return None


def mac_problem(mac: str) -> str | None:
    if not MAC_RE.match(mac):
        return "a MAC address is six hex pairs separated by ':' (52:54:00:12:34:56)"
    if int(mac[:2], 16) & 1:
        return "a multicast MAC address (odd first byte) cannot be a NIC's address"
    if mac.replace(":", "") in ("000000000000", "ffffffffffff"):
        return "not a usable MAC address"
    return None


def validate_spec(spec: CreateSpec) -> dict[str, str]:
    errors: dict[str, str] = {}
    if (msg := name_problem(spec.name)) is not None:
        errors["name"] = msg
    if spec.memory_bytes <= 0:
        errors["memory_bytes"] = "memory must be more than 0"
    elif spec.memory_bytes % (1 << 20):
        errors["memory_bytes"] = "memory must be a whole number of MiB"
    if spec.max_memory_bytes is not None and spec.max_memory_bytes % (1 << 20):
        errors["max_memory_bytes"] = "maximum memory must be a whole number of MiB"
    elif spec.max_memory_bytes is not None and spec.max_memory_bytes < spec.memory_bytes:
        errors["max_memory_bytes"] = "maximum memory must be at least the memory"
    if spec.vcpus < 1:
        errors["vcpus"] = "at least one vCPU"
    if spec.max_vcpus is not None and spec.max_vcpus < spec.vcpus:
        errors["max_vcpus"] = "maximum vCPUs must be at least the vCPUs"
    if spec.topology is not None:
        t = spec.topology
        if min(t.sockets, t.cores, t.threads) < 1:
            errors["topology"] = "sockets, cores and threads must each be at least 1"
        elif t.sockets * t.cores * t.threads != spec.vcpus_max:
            errors["topology"] = (
                f"sockets × cores × threads = {t.sockets * t.cores * t.threads}, "
                f"must equal the maximum vCPUs ({spec.vcpus_max})"
            )
    if spec.cpu.mode == "custom" and not spec.cpu.model:
        errors["cpu.model"] = "choose a CPU model"
    if spec.cpu.mode != "custom" and spec.cpu.model:
        errors["cpu.model"] = "a CPU model is only used with the custom mode"
    if spec.firmware.secure_boot and spec.firmware.kind != "uefi":
        errors["firmware.secure_boot"] = "Secure Boot needs UEFI firmware"
    if not spec.os_variant.strip():
        errors["os_variant"] = 'choose an OS variant or "generic"'
    _validate_install(spec, errors)
    for i, disk in enumerate(spec.disks):
        _validate_disk(spec, disk, f"disks[{i}]", errors)
    if spec.install.kind == "cdrom" or spec.driver_iso is not None or spec.install.kind == "cloud":
        if cdrom_bus_for(spec) not in CDROM_BUSES:
            errors["cdrom_bus"] = "a CD-ROM goes on sata, ide or scsi"
        if cdrom_bus_for(spec) == "ide" and is_q35(spec.machine):
            errors["cdrom_bus"] = "q35 machines have no IDE bus: use sata"
    if spec.driver_iso is not None and not spec.driver_iso.strip():
        errors["driver_iso"] = "choose the driver ISO"
    for i, nic in enumerate(spec.nics):
        p = f"nics[{i}]"
        if not nic.source.strip():
            errors[f"{p}.source"] = (
                "choose a network" if nic.source_type == "network" else "choose a bridge"
            )
        if nic.mac is not None and (msg := mac_problem(nic.mac)) is not None:
            errors[f"{p}.mac"] = msg
    macs = [n.mac.lower() for n in spec.nics if n.mac]
    for i, nic in enumerate(spec.nics):
        if nic.mac and macs.count(nic.mac.lower()) > 1:
            errors.setdefault(f"nics[{i}].mac", "two NICs cannot share a MAC address")
    _validate_graphics(spec.graphics, errors)
    if spec.graphics.type == "spice" and spec.video == "none":
        errors["video"] = "SPICE graphics need a video device"
    _validate_uploads(spec, errors)
    if spec.tpm and spec.tpm_model not in get_args(TpmModel):
        errors["tpm_model"] = "TPM model is tpm-tis or tpm-crb"
    return errors


def _validate_install(spec: CreateSpec, errors: dict[str, str]) -> None:
    inst = spec.install
    if isinstance(inst, CdromInstall):
        if inst.iso_path is None and not (inst.pool and inst.volume):
            errors["install.iso_path"] = "choose an ISO file or a pool volume"
        elif inst.iso_path is not None and (inst.pool or inst.volume):
            errors["install.iso_path"] = "an ISO file or a pool volume, not both"
        elif inst.iso_path is not None and not inst.iso_path.startswith("/"):
            errors["install.iso_path"] = "an absolute path is required"
    elif isinstance(inst, LocationInstall):
        if not inst.location.strip():
            errors["install.location"] = "a path or URL of an install tree is required"
        elif not inst.location.startswith("/") and "://" not in inst.location:
            errors["install.location"] = "an absolute path or a URL (http://, ftp://, nfs://)"
        if not inst.kernel.strip():
            errors["install.kernel"] = "the kernel's path inside the tree is required"
        if not inst.initrd.strip():
            errors["install.initrd"] = "the initrd's path inside the tree is required"
    elif isinstance(inst, KernelBoot):
        if not inst.kernel.strip():
            errors["install.kernel"] = "a kernel path is required"
        elif not inst.kernel.startswith("/"):
            errors["install.kernel"] = "an absolute path is required"
        if inst.initrd and not inst.initrd.startswith("/"):
            errors["install.initrd"] = "an absolute path is required"
    elif isinstance(inst, ImportInstall):
        if not any(d.device == "disk" for d in spec.disks):
            errors["disks"] = "importing needs an existing disk"
    elif isinstance(inst, CloudImageInstall):
        if not inst.base_image.strip():
            errors["install.base_image"] = "choose a cloud image"
        first = next((d for d in spec.disks if d.device == "disk"), None)
        if first is None or not isinstance(first.source, NewVolume):
            errors["disks"] = "a cloud image needs a new volume as the first disk (its overlay)"
        elif first.source.format != "qcow2":
            errors["disks[0].source.format"] = "the overlay on a cloud image must be qcow2"


def _validate_uploads(spec: CreateSpec, errors: dict[str, str]) -> None:
    seen: set[str] = set()
    for up in spec.uploads:
        if not is_upload_field(up.field):
            errors.setdefault("uploads", f"{up.field!r} is not a path that can be uploaded")
            continue
        if up.field in seen:
            errors.setdefault(up.field, "this file is uploaded once")
            continue
        seen.add(up.field)
        if not up.pool.strip():
            errors.setdefault(up.field, "choose the pool the file is uploaded into")
            continue
        path = field_path(spec, up.field)
        index = upload_disk_index(up.field)
        if index is not None and index >= len(spec.disks):
            errors.setdefault("uploads", f"{up.field}: there is no disk {index + 1}")
        elif index is not None and not isinstance(spec.disks[index].source, ExistingPath):
            errors.setdefault(
                f"disks[{index}].source",
                "only a disk given by its path can be a file on this machine (uploaded)",
            )
        elif path is None:
            errors.setdefault(up.field, "choose the file on this machine to upload")
        elif not path.startswith("/"):
            errors.setdefault(up.field, "an absolute path is required")
        elif path.endswith("/"):
            errors.setdefault(up.field, "a file, not a directory, is uploaded")


def _validate_disk(spec: CreateSpec, disk: Disk, p: str, errors: dict[str, str]) -> None:
    src = disk.source
    if disk.device == "cdrom" and disk.bus not in CDROM_BUSES:
        errors[f"{p}.bus"] = "a CD-ROM goes on sata, ide or scsi (not virtio)"
    if disk.bus == "ide" and is_q35(spec.machine):
        errors[f"{p}.bus"] = "q35 machines have no IDE bus"
    if isinstance(src, NewVolume):
        if disk.device == "cdrom":
            errors[f"{p}.device"] = "a new volume is a disk, not a CD-ROM"
        if not src.pool.strip():
            errors[f"{p}.source.pool"] = "choose a pool"
        if (msg := _volume_name_problem(src.name)) is not None:
            errors[f"{p}.source.name"] = msg
        if src.size_bytes <= 0:
            errors[f"{p}.source.size_bytes"] = "size must be more than 0"
        if src.backing is not None and src.format != "qcow2":
            errors[f"{p}.source.format"] = "a volume with a backing file must be qcow2"
        if src.format == "qcow2" and src.preallocation == "full" and src.backing is not None:
            errors[f"{p}.source.preallocation"] = "an overlay cannot be fully preallocated"
    elif isinstance(src, ExistingPath):
        if not src.path.strip():
            errors[f"{p}.source.path"] = "choose a file or device"
        elif not src.path.startswith("/"):
            errors[f"{p}.source.path"] = "an absolute path is required"
    else:
        if not src.pool.strip():
            errors[f"{p}.source.pool"] = "choose a pool"
        if not src.volume.strip():
            errors[f"{p}.source.volume"] = "choose a volume"
    if disk.shareable and disk.cache not in (None, "none", "directsync"):
        errors[f"{p}.cache"] = "a shareable disk needs cache none or directsync"
    if disk.io == "native" and disk.cache not in ("none", "directsync"):
        errors[f"{p}.io"] = "io native needs cache none or directsync (O_DIRECT)"


def _volume_name_problem(name: str) -> str | None:
    if not name.strip():
        return "a volume name is required"
    if "/" in name or name in (".", ".."):
        return "a volume name cannot contain '/'"
    if _CONTROL.search(name):
        return "a volume name cannot contain control characters"
    return None


def _validate_graphics(g: Graphics, errors: dict[str, str]) -> None:
    if g.type == "none":
        for attr in ("listen", "port", "password", "keymap"):
            if getattr(g, attr) is not None:
                errors[f"graphics.{attr}"] = "no graphics: leave this empty"
        return
    if g.port is not None and not VNC_PORT_MIN <= g.port <= VNC_PORT_MAX:
        errors["graphics.port"] = f"port between {VNC_PORT_MIN} and {VNC_PORT_MAX}, or auto"
    if g.password is not None:
        if not g.password:
            errors["graphics.password"] = "an empty password: leave it unset instead"
        elif g.type == "vnc" and len(g.password.encode()) > 8:
            # QEMU's VNC auth (DES) uses 8 bytes: the rest would silently be ignored
            errors["graphics.password"] = (
                "VNC passwords are at most 8 bytes (QEMU ignores the rest)"
            )
        elif _CONTROL.search(g.password):
            errors["graphics.password"] = "a password cannot contain control characters"
    if g.keymap is not None and not re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z]{2,3})?", g.keymap):
        errors["graphics.keymap"] = "a keymap is like en-us, de, fr-ch"
    if g.listen is not None and not g.listen.strip():
        errors["graphics.listen"] = "an address, or leave it unset"


# ---- plain (TOML) form -----------------------------------------------------------------------


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None:
                continue  # TOML has no null: absent means None
            out[f.name] = _to_plain(v)
        return out
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    return value


def _from_plain(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where or 'spec'}: expected a table")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{where or 'spec'}: unknown key(s) {', '.join(sorted(unknown))}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        kwargs[name] = _convert(hints[name], value, path)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"{where or 'spec'}: {e}") from None


def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if all(dataclasses.is_dataclass(m) for m in members) and len(members) > 1:
            if not isinstance(value, Mapping) or "kind" not in value:
                raise ValueError(f"{path}: expected a table with a 'kind'")
            table = _INSTALLS if members[0] in _INSTALLS.values() else _SOURCES
            kind_cls = table.get(str(value["kind"]))
            if kind_cls is None:
                raise ValueError(f"{path}: unknown kind {value['kind']!r}")
            return _from_plain(kind_cls, value, path)
        if len(members) == 1:
            return _convert(members[0], value, path)
        for m in members:
            try:
                return _convert(m, value, path)
            except ValueError:
                continue
        raise ValueError(f"{path}: unexpected value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{path}: one of {', '.join(map(str, args))}, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{path}: expected a list")
        return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _from_plain(tp, value, path)  # type: ignore[arg-type]  # a dataclass type
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: expected a whole number")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected text")
        return value
    raise ValueError(f"{path}: cannot read {value!r}")
