"""A `CreateSpec` as libvirt domain XML: what `virt-install --print-xml` writes for the same answers.

Built with ElementTree (values are never formatted into XML text). The layout follows
virt-install 4.1 (Debian 12's `virtinst`) element by element; the fidelity tests
(tests/core/create/test_fidelity.py) compare both for a table of option sets.

For the later session:
- `build_domain_xmls(spec, caps)` gives `DomainXmls(install, final)`. `final` is what gets defined
  (show it in the preview, validate it, `defineXMLFlags(final, VIR_DOMAIN_DEFINE_VALIDATE)`).
  `install` is None when there is no install boot (import, kernel, cloud image); else it is the
  first boot's XML (CD-ROM first in the boot order, the location's kernel/initrd/extra-args, PXE)
  with `on_reboot=destroy`. virt-install's order, which the runner should copy: start the
  install XML as a *transient* domain (`createXML(install)`), then `defineXML(final)`: the
  persistent definition applies once the install boot ends (its reboot destroys it).
  Without "start after creation" there is no install boot: define `final` only.
- `CreateCaps.from_domain_capabilities(domcaps, ...)` gathers what the XML needs from the host:
  emulator and default machine (domain capabilities of the spec's type/arch), pool targets (a new
  volume's path is `<pool target>/<name>` unless `NewVolume.path` is set), paths of existing pool
  volumes (`"pool/volume"` -> path) and osinfo URLs (short id -> `http://...` id, for
  virt-install's libosinfo metadata).
- UEFI uses libvirt's firmware auto-selection (`<os firmware="efi">`, plus the secure-boot and
  enrolled-keys features and SMM for Secure Boot); whether the host offers it is
  `validate.check_domain_caps`'s job (this Debian 12 test host has no OVMF: "not offered").
"""

from __future__ import annotations

import os.path
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Graphics,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
    PxeInstall,
    cdrom_bus_for,
    is_q35,
)
from virttui.core.host.probe.domcaps import DomainCapabilities

LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
# pool types whose volumes are block devices (<disk type="block">)
BLOCK_POOL_TYPES = frozenset({"logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath"})
PCIE_ROOT_PORTS = 14  # virt-install's default number of hot-plug ports on q35


class BuildError(ValueError):
    """A spec the XML cannot be built from (a pool or volume the host does not know)."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.message = message


@dataclass(frozen=True)
class CreateCaps:
    """What the XML needs from the host (all plain data, read by the facade in a job)."""

    emulator: str
    machine: str  # the default machine of the spec's arch/type (domain capabilities)
    domcaps: DomainCapabilities | None = None
    pool_targets: Mapping[str, str] = field(default_factory=dict)  # pool -> target path
    pool_types: Mapping[str, str] = field(default_factory=dict)  # pool -> type (dir, logical..)
    volume_paths: Mapping[str, str] = field(default_factory=dict)  # "pool/volume" -> path
    osinfo_ids: Mapping[str, str] = field(default_factory=dict)  # short id -> URL id

    @classmethod
    def from_domain_capabilities(
        cls,
        domcaps: DomainCapabilities,
        *,
        pool_targets: Mapping[str, str] | None = None,
        pool_types: Mapping[str, str] | None = None,
        volume_paths: Mapping[str, str] | None = None,
        osinfo_ids: Mapping[str, str] | None = None,
    ) -> CreateCaps:
        return cls(
            emulator=domcaps.emulator,
            machine=domcaps.machine,
            domcaps=domcaps,
            pool_targets=dict(pool_targets or {}),
            pool_types=dict(pool_types or {}),
            volume_paths=dict(volume_paths or {}),
            osinfo_ids=dict(osinfo_ids or {}),
        )


@dataclass(frozen=True)
class DomainXmls:
    install: str | None  # the first (install) boot; None: no install phase
    final: str  # the definition


def build_domain_xml(spec: CreateSpec, caps: CreateCaps) -> str:
    """The XML to define (virt-install's final XML)."""
    return _tostring(_build(spec, caps, install=False))


def build_install_xml(spec: CreateSpec, caps: CreateCaps) -> str | None:
    """The install boot's XML, or None when the method has no install phase."""
    if not has_install_phase(spec):
        return None
    return _tostring(_build(spec, caps, install=True))


def build_domain_xmls(spec: CreateSpec, caps: CreateCaps) -> DomainXmls:
    return DomainXmls(build_install_xml(spec, caps), build_domain_xml(spec, caps))


def has_install_phase(spec: CreateSpec) -> bool:
    return isinstance(spec.install, CdromInstall | LocationInstall | PxeInstall)


def disk_path(disk: Disk, caps: CreateCaps, field_path: str = "disks") -> str:
    """Where a disk's data lives on the target host."""
    src = disk.source
    if isinstance(src, ExistingPath):
        return src.path
    if isinstance(src, ExistingVolume):
        path = caps.volume_paths.get(f"{src.pool}/{src.volume}")
        if path is None:
            raise BuildError(f"{field_path}.source.volume", f"no volume {src.volume!r} in pool")
        return path
    if src.path is not None:
        return src.path
    target = caps.pool_targets.get(src.pool)
    if target is None:
        raise BuildError(f"{field_path}.source.pool", f"no pool {src.pool!r} on this host")
    return os.path.join(target, src.name)


def disk_fields(spec: CreateSpec, caps: CreateCaps, *, install: bool = False) -> list[str]:
    """The spec field of each <disk> of the XML, in order (``disks[0]``, ``install.iso_path``,
    ``driver_iso``...): where a problem with the n-th disk element is shown."""
    return [p.field for p in _plan_disks(spec, caps, install=install)]


def _disk_type(disk: Disk, caps: CreateCaps, path: str) -> str:
    src = disk.source
    if isinstance(src, NewVolume | ExistingVolume):
        return "block" if caps.pool_types.get(src.pool) in BLOCK_POOL_TYPES else "file"
    return "block" if path.startswith("/dev/") else "file"


def _disk_format(disk: Disk) -> str:
    if isinstance(disk.source, NewVolume):
        return disk.source.format
    if disk.format:
        return disk.format
    return "raw"


def _tostring(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


class _Targets:
    """virt-install's target names: vdX (virtio), sdX (sata and scsi share it), hdX (ide)."""

    PREFIX = {"virtio": "vd", "sata": "sd", "scsi": "sd", "ide": "hd", "usb": "sd"}

    def __init__(self) -> None:
        self.used: set[str] = set()

    def next(self, bus: str) -> str:
        prefix = self.PREFIX[bus]
        for i in range(26 * 27):
            name = prefix + _letters(i)
            if name not in self.used:
                self.used.add(name)
                return name
        raise BuildError("disks", "too many disks on one bus")


def _letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(ord("a") + r) + out
    return out


@dataclass(frozen=True)
class _DiskPlan:
    disk: Disk
    path: str | None  # None: an empty CD-ROM (the final XML of a CD-ROM install)
    field: str
    target: str = ""


def _plan_disks(spec: CreateSpec, caps: CreateCaps, *, install: bool) -> list[_DiskPlan]:
    plans: list[_DiskPlan] = []
    for i, disk in enumerate(spec.disks):
        plans.append(_DiskPlan(disk, disk_path(disk, caps, f"disks[{i}]"), f"disks[{i}]"))
    cdbus = cdrom_bus_for(spec)
    inst = spec.install
    if isinstance(inst, CdromInstall):
        if inst.iso_path is not None:
            iso: str = inst.iso_path
        else:
            key = f"{inst.pool}/{inst.volume}"
            if key not in caps.volume_paths:
                raise BuildError("install.volume", f"no volume {inst.volume!r} in pool")
            iso = caps.volume_paths[key]
        cd = Disk(ExistingPath(iso), device="cdrom", bus=cdbus, readonly=True, format="raw")
        # virt-install ejects the install media in the final definition
        plans.append(_DiskPlan(cd, iso if install else None, "install.iso_path"))
    if isinstance(inst, CloudImageInstall):
        seed = inst.seed_iso or ""
        cd = Disk(ExistingPath(seed), device="cdrom", bus=cdbus, readonly=True, format="raw")
        plans.append(_DiskPlan(cd, seed or None, "install.seed_iso"))
    if spec.driver_iso is not None:
        cd = Disk(
            ExistingPath(spec.driver_iso),
            device="cdrom",
            bus=cdbus,
            readonly=True,
            format="raw",
        )
        plans.append(_DiskPlan(cd, spec.driver_iso, "driver_iso"))
    # Targets in order (virt-install's): the disks, the install or seed CD-ROM, the driver ISO.
    targets = _Targets()
    return [replace(p, target=targets.next(p.disk.bus)) for p in plans]


def _build(spec: CreateSpec, caps: CreateCaps, *, install: bool) -> ET.Element:
    dom = ET.Element("domain", {"type": spec.domain_type})
    _sub(dom, "name", spec.name)
    url = caps.osinfo_ids.get(spec.os_variant)
    if spec.os_variant != "generic" and url:
        ET.register_namespace("libosinfo", LIBOSINFO_NS)
        meta = _sub(dom, "metadata")
        lo = _sub(meta, f"{{{LIBOSINFO_NS}}}libosinfo")
        _sub(lo, f"{{{LIBOSINFO_NS}}}os", id=url)
    _sub(dom, "memory", str(spec.memory_max // 1024))
    _sub(dom, "currentMemory", str(spec.memory_bytes // 1024))
    if spec.vcpus_max != spec.vcpus:
        _sub(dom, "vcpu", str(spec.vcpus_max), current=str(spec.vcpus))
    else:
        _sub(dom, "vcpu", str(spec.vcpus))
    _build_os(dom, spec, caps, install=install)
    feats = _sub(dom, "features")
    _sub(feats, "acpi")
    _sub(feats, "apic")
    if spec.graphics.type == "spice":
        _sub(feats, "vmport", state="off")
    if spec.firmware.kind == "uefi" and spec.firmware.secure_boot:
        _sub(feats, "smm", state="on")
    _build_cpu(dom, spec)
    clock = _sub(dom, "clock", offset="utc")
    _sub(clock, "timer", name="rtc", tickpolicy="catchup")
    _sub(clock, "timer", name="pit", tickpolicy="delay")
    _sub(clock, "timer", name="hpet", present="no")
    pm = _sub(dom, "pm")
    _sub(pm, "suspend-to-mem", enabled="no")
    _sub(pm, "suspend-to-disk", enabled="no")
    _build_devices(dom, spec, caps, install=install)
    if install:
        _sub(dom, "on_reboot", "destroy")
    return dom


def _build_os(dom: ET.Element, spec: CreateSpec, caps: CreateCaps, *, install: bool) -> None:
    os_el = _sub(dom, "os")
    if spec.firmware.kind == "uefi":
        os_el.set("firmware", "efi")
    _sub(os_el, "type", "hvm", arch=spec.arch, machine=spec.machine or caps.machine)
    if spec.firmware.kind == "uefi" and spec.firmware.secure_boot:
        # plain UEFI is firmware="efi" alone (virt-install --boot uefi, libvirt picks the file)
        fw = _sub(os_el, "firmware")
        _sub(fw, "feature", enabled="yes", name="secure-boot")
        _sub(fw, "feature", enabled="yes", name="enrolled-keys")
        _sub(os_el, "loader", secure="yes")
    inst = spec.install
    if isinstance(inst, KernelBoot):
        _sub(os_el, "kernel", inst.kernel)
        if inst.initrd:
            _sub(os_el, "initrd", inst.initrd)
        if inst.cmdline:
            _sub(os_el, "cmdline", inst.cmdline)
        return
    if isinstance(inst, LocationInstall) and install:
        _sub(os_el, "kernel", location_file(inst, "kernel"))
        _sub(os_el, "initrd", location_file(inst, "initrd"))
        if inst.extra_args:
            _sub(os_el, "cmdline", inst.extra_args)
        return
    if isinstance(inst, PxeInstall):
        # virt-install: the install boot tries the network first; the definition then boots the
        # disk, or the network again when there is no disk (a diskless PXE client)
        if install or not spec.disks:
            _sub(os_el, "boot", dev="network")
        if spec.disks:
            _sub(os_el, "boot", dev="hd")
        return
    if isinstance(inst, CdromInstall) and install:
        _sub(os_el, "boot", dev="cdrom")
    _sub(os_el, "boot", dev="hd")


def location_file(inst: LocationInstall, which: str) -> str:
    """The kernel or initrd the install boot uses: the fetched copy, else the tree's file."""
    fetched = inst.fetched_kernel if which == "kernel" else inst.fetched_initrd
    if fetched is not None:
        return fetched
    inside = inst.kernel if which == "kernel" else inst.initrd
    return inst.location.rstrip("/") + "/" + inside.lstrip("/")


def _build_cpu(dom: ET.Element, spec: CreateSpec) -> None:
    mode = spec.cpu.mode
    if mode == "default" and spec.topology is None:
        return
    cpu = _sub(dom, "cpu")
    if mode == "custom":
        cpu.set("mode", "custom")
        cpu.set("match", "exact")
        _sub(cpu, "model", spec.cpu.model or "")
    elif mode != "default":
        cpu.set("mode", mode)
    if spec.topology is not None:
        t = spec.topology
        _sub(
            cpu,
            "topology",
            sockets=str(t.sockets),
            dies="1",
            cores=str(t.cores),
            threads=str(t.threads),
        )


def _build_devices(dom: ET.Element, spec: CreateSpec, caps: CreateCaps, *, install: bool) -> None:
    devs = _sub(dom, "devices")
    _sub(devs, "emulator", caps.emulator)
    for plan in _plan_disks(spec, caps, install=install):
        _build_disk(devs, plan, caps)
    _build_controllers(devs, spec)
    for nic in spec.nics:
        _build_nic(devs, nic)
    _sub(devs, "serial", type="pty")
    console = _sub(devs, "console", type="pty")
    _sub(console, "target", type="serial")
    if spec.virtio_extras:
        ch = _sub(devs, "channel", type="unix")
        _sub(ch, "source", mode="bind")
        _sub(ch, "target", type="virtio", name="org.qemu.guest_agent.0")
    if spec.graphics.type == "spice":
        ch = _sub(devs, "channel", type="spicevmc")
        _sub(ch, "target", type="virtio", name="com.redhat.spice.0")
    if spec.graphics.type != "none" and spec.usb != "none":
        _sub(devs, "input", type="tablet", bus="usb")
    if spec.tpm:
        tpm = _sub(devs, "tpm", model=spec.tpm_model)
        _sub(tpm, "backend", type="emulator")
    if spec.graphics.type != "none":
        _build_graphics(devs, spec.graphics)
    if spec.graphics.type == "spice":
        _sub(devs, "sound", model="ich9" if is_q35(spec.machine) else "ich6")
    if spec.video != "none" or spec.graphics.type != "none":
        video = _sub(devs, "video")
        _sub(video, "model", type=spec.video)
    if spec.virtio_extras:
        _sub(devs, "memballoon", model="virtio")
        rng = _sub(devs, "rng", model="virtio")
        _sub(rng, "backend", "/dev/urandom", model="random")
    if spec.graphics.type == "spice" and spec.usb != "none":
        for _ in range(2):
            _sub(devs, "redirdev", bus="usb", type="spicevmc")


def _build_disk(devs: ET.Element, plan: _DiskPlan, caps: CreateCaps) -> None:
    disk = plan.disk
    path = plan.path
    el = _sub(devs, "disk", type="file" if path is None else _disk_type(disk, caps, path))
    el.set("device", disk.device)
    if path is not None:
        drv = _sub(el, "driver", name="qemu", type=_disk_format(disk))
        cache, io, discard = disk.cache, disk.io, False
        if disk.device == "disk" and el.get("type") == "block":
            # virt-install: a block device gets cache none, io native and discard unmap
            cache, io, discard = cache or "none", io or "native", True
        src = disk.source
        if disk.device == "disk" and isinstance(src, NewVolume):
            # virt-install: a new sparse volume (allocation 0) passes the guest's discards on
            discard = discard or src.preallocation in ("off", "metadata")
        if cache is not None:
            drv.set("cache", cache)
        if discard:
            drv.set("discard", "unmap")
        if io is not None:
            drv.set("io", io)
        _sub(el, "source", **{"dev" if el.get("type") == "block" else "file": path})
    _sub(el, "target", dev=plan.target, bus=disk.bus)
    if disk.readonly or disk.device == "cdrom":
        _sub(el, "readonly")
    if disk.shareable:
        _sub(el, "shareable")


def _build_controllers(devs: ET.Element, spec: CreateSpec) -> None:
    if spec.usb == "usb2":
        _sub(devs, "controller", type="usb", model="ich9-ehci1")
        for i, start in ((1, "0"), (2, "2"), (3, "4")):
            ctl = _sub(devs, "controller", type="usb", model=f"ich9-uhci{i}")
            _sub(ctl, "master", startport=start)
    elif spec.usb == "usb3":
        _sub(devs, "controller", type="usb", model="qemu-xhci", ports="15")
    else:
        _sub(devs, "controller", type="usb", model="none")
    if spec.virtio_extras and any(d.bus == "scsi" for d in spec.disks):
        _sub(devs, "controller", type="scsi", model="virtio-scsi")
    if is_q35(spec.machine):
        _sub(devs, "controller", type="pci", model="pcie-root")
        for _ in range(PCIE_ROOT_PORTS):
            _sub(devs, "controller", type="pci", model="pcie-root-port")


def _build_nic(devs: ET.Element, nic: Nic) -> None:
    el = _sub(devs, "interface", type=nic.source_type)
    _sub(el, "source", **{nic.source_type: nic.source})
    if nic.mac is not None:
        _sub(el, "mac", address=nic.mac.lower())
    _sub(el, "model", type=nic.model)


def _build_graphics(devs: ET.Element, g: Graphics) -> None:
    el = _sub(devs, "graphics", type=g.type)
    el.set("port", str(g.port) if g.port is not None else "-1")
    if g.type == "spice" and g.port is None:
        el.set("tlsPort", "-1")
        el.set("autoport", "yes")
    if g.listen is not None:
        el.set("listen", g.listen)
    if g.keymap is not None:
        el.set("keymap", g.keymap)
    if g.password is not None:
        el.set("passwd", g.password)
    if g.type == "spice":
        _sub(el, "image", compression="off")


__all__ = [
    "BuildError",
    "CreateCaps",
    "DomainXmls",
    "build_domain_xml",
    "build_domain_xmls",
    "build_install_xml",
    "disk_fields",
    "disk_path",
    "has_install_phase",
    "location_file",
]
