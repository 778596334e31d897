""" "Switch to virtio": every disk on virtio-blk, every NIC on virtio-net, in the persistent config.

`plan_virtio(xml)` is pure (XML text in, `VirtioPlan` out): for each disk (`device='disk'`, not
CD-ROMs, floppies or LUNs) whose bus is not virtio, the bus becomes virtio and the target the
first free `vdX` name (in document order, skipping the names virtio disks already use); its
`<address>` (an IDE/SATA/SCSI drive address, stale on virtio) is removed, and so are the
bus-specific bits virtio does not accept (`target@removable`, `target@rotation_rate`, `<wwn>`,
`<vendor>`, `<product>`). `<boot order=...>` stays where it is. Each NIC (not `hostdev`
passthrough) gets `<model type='virtio'/>`; its PCI address is kept (the guest's interface name,
e.g. ens3, follows the PCI slot), any other address type is dropped.

The plan carries the diff (old vs new, both serialized the same way, graphics passwords masked:
for display only), a line per change and the warnings: Windows guests (from the domain's
`<libosinfo:os id=...>` metadata, or `os_family` given by the caller) need the virtio drivers
first; guests naming disks /dev/sdX or /dev/hdX (fstab, boot loader, and a direct-boot kernel
command line that we can see) will not find them as /dev/vdX.

`switch_to_virtio(dom, expected=plan)` applies it to the persistent definition (read with
INACTIVE|SECURE so passwords survive) with `defineXMLFlags(..., VALIDATE)`; it refuses when the
definition changed since the plan was shown. A running domain gets it at next boot.
"""

from __future__ import annotations

import copy
import difflib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import libvirt

from virttui.core.domain import redefine as _redefine  # registers the usual XML prefixes
from virttui.core.domain.action_result import DomainActionError, domain_name, libvirt_errors

ACTION = "Switch to virtio"
LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
VIRTIO_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
# Bus-specific details virtio-blk rejects (libvirt: rotation_rate/wwn for IDE/SATA/SCSI,
# vendor/product for SCSI, removable for USB/SCSI).
_TARGET_ATTRS_DROPPED = ("removable", "rotation_rate")
_DISK_CHILDREN_DROPPED = ("wwn", "vendor", "product")
_LEGACY_NAME = re.compile(r"/dev/(?:sd|hd)[a-z]+\d*")

WINDOWS_WARNING = (
    "Windows guest: install the virtio drivers (viostor/vioscsi, NetKVM from the virtio-win ISO) "
    "before switching, or it will not boot (INACCESSIBLE_BOOT_DEVICE)."
)
UNKNOWN_OS_WARNING = (
    "The guest OS is not recorded: if it is Windows, install the virtio drivers first."
)
FSTAB_WARNING = (
    "Disks become /dev/vdX in the guest: a guest naming them /dev/sdX or /dev/hdX (fstab, boot "
    "loader, root=) will not boot. Use UUID= or LABEL= there first."
)
NIC_WARNING = (
    "NICs keep their MAC; a guest that configures its network by driver or by a name tied to "
    "the old model may need its network configuration checked."
)


@dataclass(frozen=True)
class VirtioPlan:
    """What the switch would change. `new_xml` is what gets defined (secrets included when the
    source had them); `diff` is for display (passwords masked)."""

    name: str
    old_xml: str
    new_xml: str
    changes: tuple[str, ...]
    warnings: tuple[str, ...]
    diff: str
    active: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def nothing_to_change(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class VirtioResult:
    name: str
    changes: tuple[str, ...]
    note: str  # "takes effect at next boot" for a running domain, else ""


def disk_name(index: int, prefix: str = "vd") -> str:
    """0 -> vda, 25 -> vdz, 26 -> vdaa (libvirt's naming)."""
    letters = ""
    n = index
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            break
    return prefix + letters


def _remove_child(parent: ET.Element, child: ET.Element) -> None:
    """Remove `child`, keeping the indentation of what remains."""
    children = list(parent)
    index = children.index(child)
    if index == len(children) - 1:  # the last child: its tail closes the parent's tag
        if index > 0:
            children[index - 1].tail = child.tail
        else:
            parent.text = child.tail if (child.tail or "").strip() else None
    parent.remove(child)


def _os_id(root: ET.Element) -> str:
    el = root.find(f"metadata/{{{LIBOSINFO_NS}}}libosinfo/{{{LIBOSINFO_NS}}}os")
    return (el.get("id") or "") if el is not None else ""


def is_windows(os_id: str, os_family: str = "") -> bool:
    """osinfo: Windows ids are http://microsoft.com/win/..., their family `winnt`."""
    return os_family.lower() in ("winnt", "win9x", "windows") or "microsoft.com/win" in os_id


def _mask_passwords(root: ET.Element) -> ET.Element:
    masked = copy.deepcopy(root)
    for el in masked.iter():
        if "passwd" in el.attrib:
            el.set("passwd", "********")
    return masked


def _text(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def plan_virtio(xml: str, *, os_family: str = "", active: bool = False) -> VirtioPlan:
    """The switch applied to domain XML `xml` (pure)."""
    root = ET.fromstring(xml)
    before = copy.deepcopy(root)
    name = root.findtext("name") or ""
    changes: list[str] = []
    notes: list[str] = []
    devices = root.find("devices")
    disks = [] if devices is None else devices.findall("disk")

    def is_disk(d: ET.Element) -> bool:
        return d.get("device", "disk") == "disk"

    def bus_of(d: ET.Element) -> str:
        target = d.find("target")
        return (target.get("bus") or "") if target is not None else ""

    taken: set[str] = set()
    for d in disks:
        target = d.find("target")
        if target is not None and not (is_disk(d) and bus_of(d) != "virtio"):
            taken.add(target.get("dev") or "")
    next_index = 0
    changed_disk = False
    for disk in disks:
        target = disk.find("target")
        if not is_disk(disk) or target is None or bus_of(disk) == "virtio":
            continue
        while disk_name(next_index) in taken:
            next_index += 1
        new_dev = disk_name(next_index)
        taken.add(new_dev)
        old_dev, old_bus = target.get("dev") or "?", bus_of(disk) or "default bus"
        target.set("dev", new_dev)
        target.set("bus", "virtio")
        for attr in _TARGET_ATTRS_DROPPED:
            target.attrib.pop(attr, None)
        for tag in ("address", *_DISK_CHILDREN_DROPPED):
            for el in disk.findall(tag):
                _remove_child(disk, el)
        changes.append(f"disk {old_dev} ({old_bus}) -> {new_dev} (virtio)")
        changed_disk = True

    changed_nic = False
    for nic in [] if devices is None else devices.findall("interface"):
        if nic.get("type") == "hostdev":
            continue
        model = nic.find("model")
        old = (model.get("type") or "") if model is not None else ""
        if old in VIRTIO_MODELS:
            continue
        if model is None:
            model = ET.Element("model")
            children = list(nic)
            if children:  # the new last child takes the closing indentation
                model.tail = children[-1].tail
                children[-1].tail = nic.text
            nic.append(model)
        model.set("type", "virtio")
        for address in nic.findall("address"):
            if address.get("type") != "pci":
                _remove_child(nic, address)
        mac_el = nic.find("mac")
        mac = (mac_el.get("address") or "") if mac_el is not None else "no MAC"
        changes.append(f"NIC {mac}: {old or 'default model'} -> virtio")
        changed_nic = True

    warnings: list[str] = []
    if changes:
        os_id = _os_id(root)
        if is_windows(os_id, os_family):
            warnings.append(WINDOWS_WARNING)
        elif not os_id and not os_family:
            warnings.append(UNKNOWN_OS_WARNING)
        if changed_disk:
            warnings.append(FSTAB_WARNING)
            cmdline = root.findtext("os/cmdline") or ""
            legacy = _LEGACY_NAME.findall(cmdline)
            if legacy:
                warnings.append(
                    f"The kernel command line names {', '.join(legacy)}: change it to the "
                    "/dev/vdX name or to root=UUID=... (Edit XML), or the guest will not find "
                    "its root."
                )
        if changed_nic:
            warnings.append(NIC_WARNING)
        if active:
            notes.append("The domain is running: the change takes effect at next boot.")
    old_text = _text(_mask_passwords(before))
    new_text = _text(_mask_passwords(root))
    diff = "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            "current",
            "virtio",
        )
    )
    return VirtioPlan(
        name=name,
        old_xml=xml,
        new_xml=_text(root) if changes else xml,
        changes=tuple(changes),
        warnings=tuple(warnings),
        diff=diff,
        active=active,
        notes=tuple(notes),
    )


def read_plan(dom: libvirt.virDomain, *, os_family: str = "") -> VirtioPlan:
    """The plan for the domain's persistent definition (secrets kept, masked in the diff)."""
    with libvirt_errors(ACTION, domain_name(dom)):
        if not dom.isPersistent():
            raise DomainActionError(ACTION, domain_name(dom), "a transient domain has no config")
        xml = str(dom.XMLDesc(_redefine.INACTIVE_SECURE))
        active = bool(dom.isActive())
    return plan_virtio(xml, os_family=os_family, active=active)


def switch_to_virtio(
    dom: libvirt.virDomain, *, expected: VirtioPlan | None = None, os_family: str = ""
) -> VirtioResult:
    """Apply the switch to the persistent definition (VALIDATE). With `expected` (the plan that
    was shown), refuse when the definition changed since."""
    plan = read_plan(dom, os_family=os_family)
    name = domain_name(dom)
    if expected is not None and plan.new_xml != expected.new_xml:
        raise DomainActionError(
            ACTION, name, "the definition changed since the preview: look at the changes again"
        )
    if plan.nothing_to_change:
        return VirtioResult(name, (), "nothing to change: every disk and NIC is virtio already")
    with libvirt_errors(ACTION, name):
        dom.connect().defineXMLFlags(plan.new_xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    note = "takes effect at next boot" if plan.active else ""
    return VirtioResult(name, plan.changes, note)
