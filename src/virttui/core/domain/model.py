"""Frozen snapshots of a domain definition and its details, as parsed from the domain XML.

Sizes are in KiB for memory (libvirt's unit) and bytes for storage. Missing values are None or ""
rather than guesses. Graphics never carry a password, only whether one is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CpuDef:
    mode: str  # "host-passthrough", "host-model", "custom", "maximum" or "" (hypervisor default)
    model: str
    vcpus_current: int
    vcpus_max: int
    sockets: int | None = None
    dies: int | None = None
    cores: int | None = None
    threads: int | None = None


@dataclass(frozen=True)
class FirmwareDef:
    kind: str  # "efi" or "bios"
    loader: str = ""
    loader_type: str = ""  # "pflash" or "rom"
    loader_readonly: bool | None = None
    secure_boot: bool | None = None
    nvram: str = ""
    nvram_template: str = ""


@dataclass(frozen=True)
class DiskDef:
    target: str
    bus: str
    device: str  # disk, cdrom, floppy, lun
    source_type: str  # file, block, volume, network, dir
    format: str = ""
    cache: str = ""
    io: str = ""
    source_file: str = ""
    source_dev: str = ""
    source_dir: str = ""
    source_pool: str = ""
    source_volume: str = ""
    source_protocol: str = ""
    source_name: str = ""
    source_hosts: tuple[str, ...] = ()
    readonly: bool = False
    shareable: bool = False
    boot_order: int | None = None

    @property
    def source_path(self) -> str:
        """The local file/device/dir path, "" for pool volumes, network disks and empty drives."""
        return self.source_file or self.source_dev or self.source_dir

    @property
    def source_label(self) -> str:
        """One human string for the source, whatever its kind; "" for an empty drive."""
        if self.source_path:
            return self.source_path
        if self.source_pool:
            return f"{self.source_pool}/{self.source_volume}"
        if self.source_protocol:
            hosts = ",".join(self.source_hosts)
            where = f"{hosts}/" if hosts else ""
            return f"{self.source_protocol}://{where}{self.source_name}"
        return ""


@dataclass(frozen=True)
class NicDef:
    type: str  # network, bridge, direct, user, ethernet, ...
    mac: str
    model: str = ""
    source_network: str = ""
    source_bridge: str = ""
    source_dev: str = ""
    link_state: str = "up"
    target_dev: str = ""
    boot_order: int | None = None

    @property
    def source_label(self) -> str:
        return self.source_network or self.source_bridge or self.source_dev


@dataclass(frozen=True)
class GraphicsDef:
    type: str  # vnc, spice, sdl, rdp, egl-headless, dbus
    listen: str = ""  # address, socket path, or "none"
    listen_type: str = ""  # address, network, socket, none
    port: int | None = None  # None while not allocated (-1 in XML)
    tls_port: int | None = None
    autoport: bool = False
    # Whether a password is set; only visible in XML read with VIR_DOMAIN_XML_SECURE.
    # The password itself is never kept.
    password_set: bool = False


@dataclass(frozen=True)
class CharDeviceDef:
    kind: str  # serial, console, parallel, channel
    type: str  # pty, file, unix, tcp, spicevmc, ...
    target_type: str = ""
    target_port: int | None = None
    target_name: str = ""  # channels: org.qemu.guest_agent.0
    path: str = ""  # pty or socket/file path
    host: str = ""
    service: str = ""


@dataclass(frozen=True)
class ControllerDef:
    type: str
    index: int
    model: str = ""


@dataclass(frozen=True)
class DomainDefinition:
    """Everything the details screen shows that the domain XML alone answers."""

    domain_type: str  # kvm, qemu, test, ...
    name: str
    uuid: str
    title: str
    description: str
    os_type: str
    arch: str
    machine: str
    emulator: str
    cpu: CpuDef
    memory_max_kib: int
    memory_current_kib: int
    boot_devices: tuple[str, ...]  # <os><boot dev=...> in order: hd, cdrom, network, fd
    firmware: FirmwareDef
    disks: tuple[DiskDef, ...] = ()
    nics: tuple[NicDef, ...] = ()
    graphics: tuple[GraphicsDef, ...] = ()
    chardevs: tuple[CharDeviceDef, ...] = ()
    controllers: tuple[ControllerDef, ...] = ()
    domain_id: int | None = None  # only while running

    @property
    def boot_order(self) -> tuple[str, ...]:
        """Per-device <boot order> when used (e.g. "disk vda", "nic 52:54:..."), else the OS list."""
        ordered: list[tuple[int, str]] = []
        for disk in self.disks:
            if disk.boot_order is not None:
                ordered.append((disk.boot_order, f"{disk.device} {disk.target}"))
        for nic in self.nics:
            if nic.boot_order is not None:
                ordered.append((nic.boot_order, f"nic {nic.mac}"))
        if ordered:
            return tuple(label for _, label in sorted(ordered))
        return self.boot_devices

    @property
    def consoles(self) -> tuple[CharDeviceDef, ...]:
        return tuple(c for c in self.chardevs if c.kind in ("console", "serial"))


@dataclass(frozen=True)
class DiskUsage:
    target: str
    capacity: int  # bytes the guest sees
    allocation: int  # bytes used on the host
    physical: int | None = None  # file/device size (blockInfo only)
    via: str = ""  # "blockInfo" or "storage volume"


@dataclass(frozen=True)
class DomainDetails:
    """The definition plus the few values only libvirt calls answer."""

    definition: DomainDefinition
    state: int
    reason: int
    state_text: str
    reason_text: str
    active: bool
    persistent: bool
    autostart: bool | None
    has_managed_save: bool | None
    snapshot_count: int | None
    disk_usage: tuple[DiskUsage, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)  # calls that failed, with the message

    def usage_for(self, target: str) -> DiskUsage | None:
        return next((u for u in self.disk_usage if u.target == target), None)
