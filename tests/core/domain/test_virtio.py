"""The "switch to virtio" transform on XML (pure) and on the libvirt test driver."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import libvirt
import pytest

from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.virtio import (
    FSTAB_WARNING,
    UNKNOWN_OS_WARNING,
    WINDOWS_WARNING,
    disk_name,
    plan_virtio,
    switch_to_virtio,
)

MIXED = """<domain type='qemu'>
  <name>mixed</name>
  <uuid>0b0e7d44-0c5e-4b7e-9d40-2f4a8f0c1a11</uuid>
  <memory unit='KiB'>131072</memory>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <cmdline>console=ttyS0 root=/dev/sda1</cmdline>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/a.qcow2'/>
      <target dev='hda' bus='ide'/>
      <boot order='1'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/b.raw'/>
      <target dev='sda' bus='sata' rotation_rate='1'/>
      <wwn>5000c50015ea71ac</wwn>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/c.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='e1000'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:12:34:57'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes' passwd='s3cret'/>
  </devices>
</domain>
"""


def test_disk_names() -> None:
    assert [disk_name(i) for i in (0, 1, 25, 26, 27)] == ["vda", "vdb", "vdz", "vdaa", "vdab"]


def test_disks_and_nics_switch() -> None:
    plan = plan_virtio(MIXED)
    root = ET.fromstring(plan.new_xml)
    disks = root.findall("devices/disk")
    ide, cdrom, sata, virtio = disks
    # targets: first free letters in order, vda being taken by the virtio disk already
    assert ide.find("target").attrib == {"dev": "vdb", "bus": "virtio"}
    assert sata.find("target").attrib == {"dev": "vdc", "bus": "virtio"}
    assert virtio.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    # stale drive addresses and SATA-only bits gone; boot order kept
    assert ide.find("address") is None and sata.find("address") is None
    assert sata.find("wwn") is None
    assert ide.find("boot").get("order") == "1"
    # the CD-ROM is untouched
    assert cdrom.find("target").attrib == {"dev": "hdc", "bus": "ide"}
    assert cdrom.find("address").get("type") == "drive"
    nics = root.findall("devices/interface")
    assert [n.find("model").get("type") for n in nics] == ["virtio", "virtio"]
    assert nics[0].find("address").get("type") == "pci"  # PCI slot kept: interface name stays
    assert plan.changes == (
        "disk hda (ide) -> vdb (virtio)",
        "disk sda (sata) -> vdc (virtio)",
        "NIC 52:54:00:12:34:56: e1000 -> virtio",
        "NIC 52:54:00:12:34:57: default model -> virtio",
    )
    # the password is defined as it was, masked in the diff
    assert root.find("devices/graphics").get("passwd") == "s3cret"
    assert "s3cret" not in plan.diff and "********" in plan.diff
    assert '-      <target dev="hda" bus="ide" />' in plan.diff
    assert '+      <target dev="vdb" bus="virtio" />' in plan.diff
    assert UNKNOWN_OS_WARNING in plan.warnings and FSTAB_WARNING in plan.warnings
    assert any("/dev/sda1" in w for w in plan.warnings)
    # indentation of what remains is kept: no blank or doubled lines
    assert "\n\n" not in plan.new_xml
    assert '<boot order="1" />\n    </disk>' in plan.new_xml


def test_windows_warning_from_osinfo_metadata() -> None:
    xml = MIXED.replace(
        "<memory",
        "<metadata><libosinfo:libosinfo xmlns:libosinfo="
        "'http://libosinfo.org/xmlns/libvirt/domain/1.0'><libosinfo:os "
        "id='http://microsoft.com/win/10'/></libosinfo:libosinfo></metadata>\n  <memory",
    )
    plan = plan_virtio(xml)
    assert WINDOWS_WARNING in plan.warnings and UNKNOWN_OS_WARNING not in plan.warnings
    linux = plan_virtio(MIXED, os_family="linux")
    assert WINDOWS_WARNING not in linux.warnings and UNKNOWN_OS_WARNING not in linux.warnings


def test_nothing_to_change() -> None:
    xml = """<domain type='qemu'><name>v</name><devices>
      <disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>
      <disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>
      <interface type='user'><model type='virtio'/></interface>
    </devices></domain>"""
    plan = plan_virtio(xml)
    assert plan.nothing_to_change and plan.warnings == () and plan.diff == ""
    assert plan.new_xml == xml


def test_running_domain_note() -> None:
    assert plan_virtio(MIXED, active=True).notes
    assert not plan_virtio(MIXED).notes


def test_switch_on_test_driver() -> None:
    conn = libvirt.open("test:///default")
    xml = MIXED.replace("<domain type='qemu'>", "<domain type='test'>")
    dom = conn.defineXML(xml)
    try:
        plan_done = switch_to_virtio(dom)
        assert plan_done.changes and plan_done.note == ""
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        targets = {t.get("dev"): t.get("bus") for t in root.findall("devices/disk/target")}
        assert targets == {"vda": "virtio", "vdb": "virtio", "vdc": "virtio", "hdc": "ide"}
        assert switch_to_virtio(dom).changes == ()  # second run: nothing to change
        stale = plan_virtio(xml)
        with pytest.raises(DomainActionError, match="changed since the preview"):
            switch_to_virtio(dom, expected=stale)
    finally:
        dom.undefine()
        conn.close()
