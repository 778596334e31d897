"""On the real qemu:///system: "switch to virtio" on a domain with IDE + SATA disks and an e1000
NIC, through the facade; the XML editor's define (VALIDATE) and libvirt's refusal of an unknown
bus; the network editor on an isolated test network (198.18.0.0/15) that keeps running with its
old configuration. Everything made here has a unique name and is removed after."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import libvirt
import pytest

from tests.guestlib import (
    IMAGES_DIR,
    create_qcow2,
    isolated_network,
    remove_domain,
    tiny_guest_xml,
    unique_name,
)
from virttui.core.domain.xml_edit import NETWORK_RUNNING, XmlEditError
from virttui.core.facade.host import HostFacade

R = TypeVar("R")


class _Host:
    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.uri = "qemu:///system"
        self.is_local = True
        self.readonly = False

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        return fn(self.conn)


def _legacy_xml(name: str, disk_a: Path, disk_b: Path) -> str:
    """The tiny guest with its disk on IDE (boot order 1), a second disk on SATA and an e1000
    NIC on user networking."""
    root = ET.fromstring(tiny_guest_xml(name, disk_a, vnc=False))
    devices = root.find("devices")
    assert devices is not None
    disk = devices.find("disk")
    assert disk is not None
    target = disk.find("target")
    assert target is not None
    target.set("dev", "hda")
    target.set("bus", "ide")
    ET.SubElement(disk, "boot", order="1")
    sata = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(sata, "driver", name="qemu", type="qcow2")
    ET.SubElement(sata, "source", file=str(disk_b))
    ET.SubElement(sata, "target", dev="sda", bus="sata")
    model = devices.find("interface/model")
    assert model is not None
    model.set("type", "e1000")
    return ET.tostring(root, encoding="unicode")


@pytest.fixture
def legacy_domain(system_conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    name = unique_name("vt-virtio")
    disk_a = IMAGES_DIR / f"{name}-a.qcow2"
    disk_b = IMAGES_DIR / f"{name}-b.qcow2"
    dom = None
    try:
        create_qcow2(disk_a, "16M")
        create_qcow2(disk_b, "16M")
        dom = system_conn.defineXML(_legacy_xml(name, disk_a, disk_b))
        yield dom
    finally:
        if dom is not None:
            remove_domain(dom)
        for path in (disk_a, disk_b, Path(f"/var/log/libvirt/qemu/{name}.log")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def test_switch_to_virtio_through_the_facade(
    system_conn: libvirt.virConnect, legacy_domain: libvirt.virDomain
) -> None:
    facade = HostFacade(_Host(system_conn))  # type: ignore[arg-type]
    uuid = legacy_domain.UUIDString()
    before = ET.fromstring(legacy_domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    # libvirt gave the IDE and SATA disks drive addresses
    assert all(
        d.find("address") is not None and d.find("address").get("type") == "drive"
        for d in before.findall("devices/disk")
    )
    plan = facade.virtio_plan(uuid)
    assert plan.changes == (
        "disk hda (ide) -> vda (virtio)",
        "disk sda (sata) -> vdb (virtio)",
        f"NIC {before.find('devices/interface/mac').get('address')}: e1000 -> virtio",
    )
    assert plan.diff and plan.warnings and not plan.notes  # shut off: no next-boot note
    result = facade.switch_to_virtio(uuid, plan)
    assert result.changes == plan.changes and result.note == ""
    after = ET.fromstring(legacy_domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    disks = {d.find("target").get("dev"): d for d in after.findall("devices/disk")}
    assert set(disks) == {"vda", "vdb"}
    for disk in disks.values():
        assert disk.find("target").get("bus") == "virtio"
        assert disk.find("address").get("type") == "pci"  # libvirt assigned a new one
    assert disks["vda"].find("boot").get("order") == "1"  # boot order kept
    assert "-a.qcow2" in disks["vda"].find("source").get("file")
    assert after.find("devices/interface/model").get("type") == "virtio"
    assert facade.virtio_plan(uuid).nothing_to_change


def test_editor_defines_and_shows_libvirt_refusal(
    system_conn: libvirt.virConnect, legacy_domain: libvirt.virDomain
) -> None:
    facade = HostFacade(_Host(system_conn))  # type: ignore[arg-type]
    source = facade.xml_source("domain", legacy_domain.UUIDString())
    assert source.note == "" and "<name>" in source.text
    bad = source.text.replace("bus='sata'", "bus='bogus'", 1)
    assert bad != source.text
    with pytest.raises(XmlEditError) as err:
        facade.define_xml_text(source, bad)
    assert "failed to validate" in err.value.message  # libvirt's own sentence (RelaxNG)
    # libvirt's schema check names no line: the editor points at the first changed line
    assert err.value.line == bad[: bad.index("bogus")].count("\n") + 1
    assert "bogus" not in legacy_domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    edited = source.text.replace("</name>", "</name>\n  <title>edited by virttui</title>", 1)
    done = facade.define_xml_text(source, edited)
    assert "<title>edited by virttui</title>" in done.text
    renamed = source.text.replace(f"<name>{source.name}<", "<name>other-name<")
    with pytest.raises(XmlEditError, match="name must stay"):
        facade.define_xml_text(source, renamed)


def test_network_editor_on_an_isolated_network(system_conn: libvirt.virConnect) -> None:
    facade = HostFacade(_Host(system_conn))  # type: ignore[arg-type]
    with isolated_network(system_conn, "vt-xmled") as (net, base):
        source = facade.xml_source("network", net.name())
        assert source.active and source.note == NETWORK_RUNNING
        edited = source.text.replace(f"{base}.199", f"{base}.150")
        assert edited != source.text
        done = facade.define_xml_text(source, edited)
        assert done.note == NETWORK_RUNNING
        inactive = net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
        assert f"end='{base}.150'" in inactive
        assert f"end='{base}.199'" in net.XMLDesc(0)  # the running network: old config
        assert net.isActive()
