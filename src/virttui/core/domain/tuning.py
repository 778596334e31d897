"""Change memory, vCPUs, title/description, boot order and CPU mode of a domain.

Memory, vCPUs and metadata go through the dedicated APIs: live and persistent where libvirt and
the guest allow it, else persistent only (`Applied` says which and why). Boot order and CPU mode
only exist in the persistent definition, which is edited and redefined.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import libvirt

from virttui.core.domain.action_result import (
    AFFECT_CONFIG,
    Applied,
    DomainActionError,
    apply_config_only,
    apply_live_else_config,
    domain_name,
    libvirt_errors,
)
from virttui.core.domain.redefine import redefine, redefine_applied

BOOT_DEVICES = ("hd", "cdrom", "network", "fd")
CPU_MODES = ("host-passthrough", "host-model", "maximum", "custom")


def set_memory(
    dom: libvirt.virDomain,
    current_kib: int,
    max_kib: int | None = None,
    *,
    config_only: bool = False,
) -> Applied:
    """Set the balloon target (live where possible) and optionally the maximum (config only:
    QEMU cannot grow the maximum of a running guest). `config_only`: the persistent config
    alone (an admin's "save anyway" past the host checks)."""
    name = domain_name(dom)
    if current_kib <= 0 or (max_kib is not None and max_kib < current_kib):
        raise DomainActionError("set memory", name, "need 0 < current <= maximum")
    if max_kib is not None:
        with libvirt_errors("set maximum memory", name):
            dom.setMemoryFlags(max_kib, AFFECT_CONFIG | libvirt.VIR_DOMAIN_MEM_MAXIMUM)
    if config_only:
        return apply_config_only(dom, "set memory", lambda f: dom.setMemoryFlags(current_kib, f))
    return apply_live_else_config(
        dom, "set memory", lambda flags: dom.setMemoryFlags(current_kib, flags)
    )


def set_vcpus(dom: libvirt.virDomain, count: int, max_count: int | None = None) -> Applied:
    """Set the active vCPU count (hot-plug where possible) and optionally the maximum (config)."""
    name = domain_name(dom)
    if count <= 0 or (max_count is not None and max_count < count):
        raise DomainActionError("set vCPUs", name, "need 0 < count <= maximum")
    if max_count is not None:
        with libvirt_errors("set maximum vCPUs", name):
            dom.setVcpusFlags(max_count, AFFECT_CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    return apply_live_else_config(dom, "set vCPUs", lambda flags: dom.setVcpusFlags(count, flags))


def _set_metadata(dom: libvirt.virDomain, kind: int, action: str, text: str) -> Applied:
    value = text if text else None  # None removes the element
    return apply_live_else_config(
        dom, action, lambda flags: dom.setMetadata(kind, value, None, None, flags)
    )


def set_title(dom: libvirt.virDomain, title: str) -> Applied:
    """The short title shown in the list; one line. "" removes it."""
    if "\n" in title or "\r" in title:
        raise DomainActionError("set title", domain_name(dom), "a title is one line")
    return _set_metadata(dom, libvirt.VIR_DOMAIN_METADATA_TITLE, "set title", title)


def set_description(dom: libvirt.virDomain, description: str) -> Applied:
    """Free-form notes, kept literally. "" removes them."""
    return _set_metadata(
        dom, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "set description", description
    )


def _drop_device_boot_orders(root: ET.Element) -> None:
    for parent in root.iterfind("devices/*"):
        for boot in parent.findall("boot"):
            parent.remove(boot)


def set_boot_order(dom: libvirt.virDomain, devices: Sequence[str]) -> Applied:
    """Boot from these device classes in order (<os><boot dev=...>): hd, cdrom, network, fd.
    Per-device boot orders are removed (libvirt forbids mixing both)."""
    bad = [d for d in devices if d not in BOOT_DEVICES]
    if bad or not devices or len(set(devices)) != len(devices):
        raise DomainActionError(
            "set boot order", domain_name(dom), f"choose distinct devices among {BOOT_DEVICES}"
        )

    def edit(root: ET.Element) -> None:
        os_el = root.find("os")
        if os_el is None:
            os_el = ET.SubElement(root, "os")
        for boot in os_el.findall("boot"):
            os_el.remove(boot)
        _drop_device_boot_orders(root)
        anchor = _boot_insert_index(os_el)
        for offset, dev in enumerate(devices):
            el = ET.Element("boot", dev=dev)
            el.tail = os_el[0].tail if len(os_el) else None
            os_el.insert(anchor + offset, el)

    redefine(dom, "set boot order", edit)
    return redefine_applied(dom)


def _boot_insert_index(os_el: ET.Element) -> int:
    """Schema order inside <os>: type, firmware, loader, nvram, kernel..., then boot."""
    before = {"type", "firmware", "loader", "nvram", "kernel", "initrd", "cmdline", "dtb"}
    index = 0
    for i, child in enumerate(os_el):
        if child.tag in before:
            index = i + 1
    return index


def set_device_boot_order(dom: libvirt.virDomain, devices: Sequence[str]) -> Applied:
    """Boot from these devices in order, named by disk target ("vda") or NIC MAC. Replaces the
    <os><boot> list, as libvirt forbids both at once."""
    wanted = [d.lower() for d in devices]
    if not wanted or len(set(wanted)) != len(wanted):
        raise DomainActionError("set boot order", domain_name(dom), "name distinct devices")

    def edit(root: ET.Element) -> None:
        os_el = root.find("os")
        if os_el is not None:
            for boot in os_el.findall("boot"):
                os_el.remove(boot)
        _drop_device_boot_orders(root)
        found: dict[str, ET.Element] = {}
        for disk in root.iterfind("devices/disk"):
            target = disk.find("target")
            if target is not None and target.get("dev"):
                found[target.get("dev", "").lower()] = disk
        for nic in root.iterfind("devices/interface"):
            mac = nic.find("mac")
            if mac is not None and mac.get("address"):
                found[mac.get("address", "").lower()] = nic
        missing = [d for d in wanted if d not in found]
        if missing:
            raise DomainActionError(
                "set boot order", domain_name(dom), f"no such device: {', '.join(missing)}"
            )
        for order, key in enumerate(wanted, start=1):
            ET.SubElement(found[key], "boot", order=str(order))

    redefine(dom, "set boot order", edit)
    return redefine_applied(dom)


def set_cpu_mode(dom: libvirt.virDomain, mode: str, model: str = "") -> Applied:
    """host-passthrough, host-model, maximum, or custom with a named model (e.g. "qemu64").
    The topology is kept. Note: host-passthrough needs KVM; TCG guests want custom/maximum."""
    if mode not in CPU_MODES:
        raise DomainActionError(
            "set CPU mode", domain_name(dom), f"mode must be one of {CPU_MODES}"
        )
    if mode == "custom" and not model.strip():
        raise DomainActionError("set CPU mode", domain_name(dom), "custom mode needs a CPU model")

    def edit(root: ET.Element) -> None:
        cpu = root.find("cpu")
        if cpu is None:
            cpu = ET.SubElement(root, "cpu")
        topology = cpu.find("topology")
        for child in list(cpu):
            if child is not topology and child.tag in ("model", "vendor", "feature"):
                cpu.remove(child)
        for attr in ("check", "migratable", "match"):
            cpu.attrib.pop(attr, None)
        cpu.set("mode", mode)
        if mode == "custom":
            cpu.set("match", "exact")
            model_el = ET.Element("model", fallback="allow")
            model_el.text = model.strip()
            cpu.insert(0, model_el)

    redefine(dom, "set CPU mode", edit)
    return redefine_applied(dom)
