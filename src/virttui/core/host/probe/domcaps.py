"""Parsing `virConnect.getDomainCapabilities` XML: what a guest of one domain type may use."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuMode:
    name: str
    supported: bool
    model: str | None  # host-model: the CPU model name libvirt would use


@dataclass(frozen=True)
class DomainCapabilities:
    virt_type: str
    emulator: str
    arch: str
    machine: str
    max_vcpus: int | None
    firmware: tuple[str, ...]
    loaders: tuple[str, ...]
    cpu_modes: tuple[CpuMode, ...]
    disk_buses: tuple[str, ...]
    graphics_types: tuple[str, ...]
    video_models: tuple[str, ...]
    hostdev_types: tuple[str, ...]
    features: tuple[str, ...]  # supported='yes' features (sev, vmcoreinfo, ...)
    # custom mode: (model name, usable "yes"/"no"/"unknown"), as <mode name='custom'> lists them
    custom_models: tuple[tuple[str, str], ...] = ()

    def cpu_mode(self, name: str) -> CpuMode | None:
        for mode in self.cpu_modes:
            if mode.name == name:
                return mode
        return None

    @property
    def host_model(self) -> str | None:
        for mode in self.cpu_modes:
            if mode.name == "host-model" and mode.supported:
                return mode.model
        return None


def _enum(parent: ET.Element | None, name: str) -> tuple[str, ...]:
    if parent is None:
        return ()
    for enum in parent.findall("enum"):
        if enum.get("name") == name:
            return tuple(v.text or "" for v in enum.findall("value"))
    return ()


def _supported(el: ET.Element | None) -> bool:
    return el is not None and el.get("supported") == "yes"


def parse_domain_capabilities(xml: str) -> DomainCapabilities:
    root = ET.fromstring(xml)
    vcpu = root.find("vcpu")
    os_el = root.find("os")
    loader = root.find("os/loader")
    modes = []
    for mode in root.findall("cpu/mode"):
        model = mode.find("model")
        modes.append(
            CpuMode(
                name=mode.get("name", ""),
                supported=_supported(mode),
                model=(
                    model.text if model is not None and mode.get("name") == "host-model" else None
                ),
            )
        )
    custom_models = tuple(
        (m.text or "", m.get("usable", "unknown"))
        for m in root.findall("cpu/mode[@name='custom']/model")
        if m.text
    )
    devices = root.find("devices")

    def device(tag: str) -> ET.Element | None:
        el = devices.find(tag) if devices is not None else None
        return el if _supported(el) else None

    features_el = root.find("features")
    features = tuple(
        f.tag for f in (features_el if features_el is not None else []) if _supported(f)
    )
    max_vcpus = vcpu.get("max") if vcpu is not None else None
    return DomainCapabilities(
        virt_type=root.findtext("domain", ""),
        emulator=root.findtext("path", ""),
        arch=root.findtext("arch", ""),
        machine=root.findtext("machine", ""),
        max_vcpus=int(max_vcpus) if max_vcpus and max_vcpus.isdigit() else None,
        firmware=_enum(os_el, "firmware") if _supported(os_el) else (),
        loaders=tuple(v.text or "" for v in loader.findall("value")) if loader is not None else (),
        cpu_modes=tuple(modes),
        disk_buses=_enum(device("disk"), "bus"),
        graphics_types=_enum(device("graphics"), "type"),
        video_models=_enum(device("video"), "modelType"),
        hostdev_types=_enum(device("hostdev"), "subsysType"),
        features=features,
        custom_models=custom_models,
    )
