"""build_domain_xml details the fidelity table does not reach (no virt-install needed here)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from virttui.core.create.domain_xml import (
    BuildError,
    CreateCaps,
    build_domain_xml,
    build_domain_xmls,
    disk_fields,
)
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Graphics,
    ImportInstall,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
)

MIB = 1 << 20
GIB = 1 << 30
CAPS = CreateCaps(
    emulator="/usr/bin/qemu-system-x86_64",
    machine="pc-i440fx-7.2",
    pool_targets={"default": "/var/lib/libvirt/images", "vg": "/dev/vg"},
    pool_types={"default": "dir", "vg": "logical"},
    volume_paths={
        "vg/data": "/dev/vg/data",
        "default/old.qcow2": "/var/lib/libvirt/images/old.qcow2",
    },
    osinfo_ids={"debian11": "http://debian.org/debian/11"},
)


def spec(**kw: object) -> CreateSpec:
    base = CreateSpec(name="v", memory_bytes=512 * MIB, install=ImportInstall())
    return replace(base, **kw)  # type: ignore[arg-type]


def root(s: CreateSpec) -> ET.Element:
    return ET.fromstring(build_domain_xml(s, CAPS))


def test_untrusted_text_is_escaped_not_formatted() -> None:
    name = "<x>&\"'; </domain><evil/>"
    r = root(spec(name=name, graphics=Graphics("vnc", password='a"<&')))
    assert r.findtext("name") == name
    assert r.find("evil") is None
    assert r.find("devices/graphics").get("passwd") == 'a"<&'  # type: ignore[union-attr]


def test_memory_kib_and_vcpus() -> None:
    r = root(spec(memory_bytes=1024 * MIB, max_memory_bytes=2048 * MIB, vcpus=2, max_vcpus=6))
    assert r.findtext("memory") == str(2048 * 1024)
    assert r.findtext("currentMemory") == str(1024 * 1024)
    vcpu = r.find("vcpu")
    assert vcpu is not None and vcpu.text == "6" and vcpu.get("current") == "2"


def test_block_devices_get_virt_installs_defaults() -> None:
    r = root(
        spec(
            disks=(
                Disk(ExistingPath("/dev/sdz")),
                Disk(ExistingVolume("vg", "data"), bus="scsi", cache="writeback"),
                Disk(NewVolume("vg", "new", GIB, "raw")),
            )
        )
    )
    disks = r.findall("devices/disk")
    assert [d.get("type") for d in disks] == ["block", "block", "block"]
    assert [d.find("source").get("dev") for d in disks] == [  # type: ignore[union-attr]
        "/dev/sdz",
        "/dev/vg/data",
        "/dev/vg/new",
    ]
    drivers = [dict(d.find("driver").attrib) for d in disks]  # type: ignore[union-attr]
    assert drivers[0] == {
        "name": "qemu",
        "type": "raw",
        "cache": "none",
        "io": "native",
        "discard": "unmap",
    }
    assert drivers[1]["cache"] == "writeback" and drivers[1]["io"] == "native"


def test_discard_on_new_sparse_volumes_only() -> None:
    r = root(
        spec(
            disks=(
                Disk(NewVolume("default", "a.qcow2", GIB)),
                Disk(NewVolume("default", "b.raw", GIB, "raw", "full")),
                Disk(ExistingVolume("default", "old.qcow2"), format="qcow2"),
            )
        )
    )
    assert [d.find("driver").get("discard") for d in r.findall("devices/disk")] == [  # type: ignore[union-attr]
        "unmap",
        None,
        None,
    ]


def test_unknown_pool_or_volume_is_a_field_error() -> None:
    with pytest.raises(BuildError) as e:
        build_domain_xml(spec(disks=(Disk(NewVolume("nope", "a", GIB)),)), CAPS)
    assert e.value.field == "disks[0].source.pool"
    with pytest.raises(BuildError) as e:
        build_domain_xml(spec(disks=(Disk(ExistingVolume("default", "gone")),)), CAPS)
    assert e.value.field == "disks[0].source.volume"


def test_target_names_per_bus() -> None:
    disks = tuple(Disk(ExistingPath(f"/d{i}")) for i in range(28)) + (
        Disk(ExistingPath("/s0"), bus="sata"),
        Disk(ExistingPath("/s1"), bus="scsi"),
        Disk(ExistingPath("/i0"), bus="ide"),
    )
    targets = [d.find("target").get("dev") for d in root(spec(disks=disks)).findall("devices/disk")]  # type: ignore[union-attr]
    assert targets[:3] == ["vda", "vdb", "vdc"]
    assert targets[25:28] == ["vdz", "vdaa", "vdab"]
    assert targets[28:] == ["sda", "sdb", "hda"]


def test_cdrom_install_boots_the_iso_once_then_ejects_it() -> None:
    s = spec(
        install=CdromInstall(pool="default", volume="old.qcow2"),
        disks=(Disk(NewVolume("default", "v.qcow2", GIB)),),
        driver_iso="/isos/virtio-win.iso",
    )
    xmls = build_domain_xmls(s, CAPS)
    assert xmls.install is not None
    first, final = ET.fromstring(xmls.install), ET.fromstring(xmls.final)
    assert [b.get("dev") for b in first.findall("os/boot")] == ["cdrom", "hd"]
    assert first.findtext("on_reboot") == "destroy"
    assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]
    assert final.find("on_reboot") is None
    cd_first = first.findall("devices/disk")[1]
    cd_final = final.findall("devices/disk")[1]
    assert cd_first.find("source").get("file") == "/var/lib/libvirt/images/old.qcow2"  # type: ignore[union-attr]
    assert cd_final.find("source") is None and cd_final.find("target").get("dev") == "hda"  # type: ignore[union-attr]
    assert final.findall("devices/disk")[2].find("source").get("file") == "/isos/virtio-win.iso"  # type: ignore[union-attr]
    assert disk_fields(s, CAPS) == ["disks[0]", "install.iso_path", "driver_iso"]


def test_location_install_then_boot_from_disk() -> None:
    s = spec(
        install=LocationInstall(
            "/srv/tree/", "/install/vmlinuz", "install/initrd.gz", "console=ttyS0"
        ),
        disks=(Disk(NewVolume("default", "v.qcow2", GIB)),),
    )
    xmls = build_domain_xmls(s, CAPS)
    assert xmls.install is not None
    first = ET.fromstring(xmls.install)
    assert first.findtext("os/kernel") == "/srv/tree/install/vmlinuz"
    assert first.findtext("os/initrd") == "/srv/tree/install/initrd.gz"
    assert first.findtext("os/cmdline") == "console=ttyS0"
    final = ET.fromstring(xmls.final)
    assert final.find("os/kernel") is None
    assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]


def test_kernel_boot_stays_in_the_definition() -> None:
    xmls = build_domain_xmls(spec(install=KernelBoot("/k", "/i", "console=ttyS0,115200")), CAPS)
    assert xmls.install is None
    final = ET.fromstring(xmls.final)
    assert final.findtext("os/kernel") == "/k"
    assert final.findtext("os/cmdline") == "console=ttyS0,115200"
    assert final.find("os/boot") is None


def test_cloud_image_seed_cdrom_and_overlay() -> None:
    s = spec(
        install=CloudImageInstall("/img/base.qcow2", seed_iso="/var/lib/libvirt/images/seed.iso"),
        disks=(Disk(NewVolume("default", "v.qcow2", 8 * GIB, backing="/img/base.qcow2")),),
    )
    final = ET.fromstring(build_domain_xml(s, CAPS))
    disks = final.findall("devices/disk")
    assert [d.get("device") for d in disks] == ["disk", "cdrom"]
    assert disks[1].find("source").get("file") == "/var/lib/libvirt/images/seed.iso"  # type: ignore[union-attr]
    assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]


def test_serial_console_always_and_osinfo_metadata() -> None:
    r = root(
        spec(os_variant="debian11", graphics=Graphics("none"), nics=(Nic(mac="52:54:00:AA:00:01"),))
    )
    assert [s.get("type") for s in r.findall("devices/serial")] == ["pty"]
    assert r.find("devices/console/target").get("type") == "serial"  # type: ignore[union-attr]
    assert r.find("devices/graphics") is None
    assert r.find("devices/interface/mac").get("address") == "52:54:00:aa:00:01"  # type: ignore[union-attr]
    ns = "{http://libosinfo.org/xmlns/libvirt/domain/1.0}"
    os_el = r.find(f"metadata/{ns}libosinfo/{ns}os")
    assert os_el is not None and os_el.get("id") == "http://debian.org/debian/11"
    assert root(spec(os_variant="generic")).find("metadata") is None
