"""Software versions and what the hypervisor offers: libvirt, QEMU, kernel, machine types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.capabilities import MachineType
from virttui.core.host.probe.libvirt_facts import LibvirtFacts
from virttui.core.host.probe.sysfs import read_text


@dataclass(frozen=True)
class Software:
    uri: str
    hostname: str
    driver: str
    libvirt_version: str
    client_version: str
    hypervisor_version: str | None
    kernel: str | None
    emulator: str
    domain_types: tuple[str, ...]
    machine_types: tuple[MachineType, ...]
    sysinfo: tuple[tuple[str, str], ...]


def probe_kernel(root: Path = Path("/")) -> str | None:
    return read_text(root, "/proc/sys/kernel/osrelease")


def build_software(facts: LibvirtFacts, kernel: str | None) -> Software:
    caps = facts.capabilities
    machines = tuple(sorted(caps.machines, key=lambda m: m.name)) if caps else ()
    return Software(
        uri=facts.uri,
        hostname=facts.hostname,
        driver=facts.driver,
        libvirt_version=facts.libvirt_version,
        client_version=facts.client_version,
        hypervisor_version=facts.hypervisor_version,
        kernel=kernel,
        emulator=caps.emulator if caps else "",
        domain_types=caps.domain_types if caps else (),
        machine_types=machines,
        sysinfo=facts.sysinfo,
    )
