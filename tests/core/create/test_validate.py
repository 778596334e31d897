"""RelaxNG + domain capabilities checks, and a real define with VIR_DOMAIN_DEFINE_VALIDATE."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import SYSTEM_URI, unique_name
from virttui.core.create.domain_xml import CreateCaps, build_domain_xml, build_install_xml
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    Cpu,
    CreateSpec,
    Disk,
    ExistingPath,
    Firmware,
    Graphics,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
    PxeInstall,
    Topology,
)
from virttui.core.create.validate import (
    SCHEMA_DIR,
    check_domain_caps,
    define_validated,
    validate_domain_xml,
)
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.host.probe.domcaps import parse_domain_capabilities

MIB = 1 << 20
GIB = 1 << 30
DOMCAPS = (Path(__file__).parent.parent / "data" / "domcaps-qemu-tcg-x86_64.xml").read_text()

pytestmark = pytest.mark.skipif(
    not Path(SCHEMA_DIR, "domain.rng").is_file(), reason="libvirt schemas not installed"
)


def caps() -> CreateCaps:
    return CreateCaps.from_domain_capabilities(
        parse_domain_capabilities(DOMCAPS),
        pool_targets={"default": "/var/lib/libvirt/images"},
        osinfo_ids={"debian11": "http://debian.org/debian/11"},
    )


def spec(**kw: object) -> CreateSpec:
    base = CreateSpec(
        name="v",
        memory_bytes=512 * MIB,
        install=CdromInstall(iso_path="/isos/a.iso"),
        disks=(Disk(NewVolume("default", "v.qcow2", GIB)),),
        nics=(Nic(),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


VARIANTS = {
    "cdrom": spec(),
    "q35_everything": spec(
        machine="q35",
        vcpus=2,
        max_vcpus=4,
        topology=Topology(2, 2, 1),
        max_memory_bytes=1024 * MIB,
        cpu=Cpu("host-model"),
        os_variant="debian11",
        usb="usb3",
        video="virtio",
        virtio_extras=True,
        tpm=True,
        driver_iso="/isos/drivers.iso",
        graphics=Graphics("vnc", "0.0.0.0", 5901, "pw", "de"),
        nics=(Nic("bridge", "br0", "e1000", "52:54:00:00:00:01"), Nic()),
    ),
    "uefi_secure_spice": spec(
        machine="q35", firmware=Firmware("uefi", True), graphics=Graphics("spice"), video="qxl"
    ),
    "location": spec(install=LocationInstall("/tree", "vmlinuz", "initrd", "console=ttyS0")),
    "pxe_nodisk": spec(install=PxeInstall(), disks=()),
    "kernel": spec(install=KernelBoot("/k", "/i", "console=ttyS0"), graphics=Graphics("none")),
    "cloud": spec(install=CloudImageInstall("/base.qcow2", seed_iso="/seed.iso")),
    "custom_cpu_scsi": spec(
        cpu=Cpu("custom", "Westmere"),
        disks=(Disk(ExistingPath("/dev/sdz"), bus="scsi", cache="none", io="native"),),
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generated_xml_matches_libvirts_schema(variant: str) -> None:
    s = VARIANTS[variant]
    assert s.validate() == {}
    assert validate_domain_xml(build_domain_xml(s, caps()), spec=s, caps=caps()) == []
    install = build_install_xml(s, caps())
    if install is not None:
        assert validate_domain_xml(install) == []


def test_schema_error_lands_on_the_disk_field() -> None:
    s = spec(
        disks=(
            Disk(NewVolume("default", "ok.qcow2", GIB)),
            Disk(ExistingPath("/b"), cache="bogus"),  # type: ignore[arg-type]
        )
    )
    problems = validate_domain_xml(build_domain_xml(s, caps()), spec=s, caps=caps())
    assert [p.field for p in problems] == ["disks[1]"]
    assert problems[0].line is not None and problems[0].line > 1
    assert problems[0].message == "<driver cache='bogus'>: not a value libvirt accepts here"


def test_schema_error_on_a_nic_and_graphics() -> None:
    s = spec(
        nics=(Nic(), Nic(mac="52:54:00:00:00:zz")),
        graphics=Graphics("vnc", listen="not an address"),
    )
    fields = {
        p.field for p in validate_domain_xml(build_domain_xml(s, caps()), spec=s, caps=caps())
    }
    assert fields == {"nics[1]", "graphics"}


def test_schema_error_top_level_and_unmapped() -> None:
    s = spec(vcpus=0)
    problems = validate_domain_xml(build_domain_xml(s, caps()), spec=s, caps=caps())
    assert [p.field for p in problems] == ["vcpus"]
    bare = validate_domain_xml("<domain><name>x</name></domain>")
    assert bare and bare[0].field == "xml"
    broken = validate_domain_xml("<domain>\n<name>x</nam>\n</domain>")
    assert broken[0].field == "xml" and broken[0].line == 2


def test_domain_caps_this_tcg_host() -> None:
    assert check_domain_caps(spec(), DOMCAPS, machines=["pc-i440fx-7.2", "pc", "q35"]) == {}
    errors = check_domain_caps(
        spec(
            domain_type="kvm",
            machine="virt",
            cpu=Cpu("host-passthrough"),
            firmware=Firmware("uefi", True),
            tpm=True,
            max_vcpus=300,
            vcpus=1,
        ),
        DOMCAPS,
        machines=["pc-i440fx-7.2", "pc", "q35"],
    )
    assert set(errors) >= {
        "domain_type",
        "machine",
        "cpu.mode",
        "firmware.kind",
        "tpm",
        "max_vcpus",
    }
    assert "UEFI is not offered" in errors["firmware.kind"]
    assert "swtpm" in errors["tpm"]
    cpu_errors = check_domain_caps(spec(cpu=Cpu("custom", "Haswell")), DOMCAPS)
    assert "cannot run" in cpu_errors["cpu.model"]
    assert "not known" in check_domain_caps(spec(cpu=Cpu("custom", "Zen9")), DOMCAPS)["cpu.model"]
    assert check_domain_caps(spec(cpu=Cpu("custom", "Westmere")), DOMCAPS) == {}


def test_domain_caps_buses_graphics_video_secure_boot() -> None:
    xml = DOMCAPS.replace("<value>spice</value>", "").replace("<value>sata</value>", "")
    xml = xml.replace("<enum name='firmware'/>", "<enum name='firmware'><value>efi</value></enum>")
    xml = xml.replace(
        "<value>passthrough</value>", "<value>passthrough</value><value>emulator</value>"
    )
    errors = check_domain_caps(
        spec(
            machine="q35",
            disks=(Disk(ExistingPath("/a"), bus="sata"),),
            graphics=Graphics("spice"),
            video="bochs",
            firmware=Firmware("uefi", True),
            tpm=True,
        ),
        xml,
    )
    assert set(errors) == {"disks[0].bus", "cdrom_bus", "graphics.type", "firmware.secure_boot"}
    assert check_domain_caps(spec(firmware=Firmware("uefi"), tpm=True), xml) == {}


@pytest.mark.integration
def test_define_with_validate_flag_on_system(tmp_path: Path) -> None:
    silence_errors()
    try:
        conn = libvirt.open(SYSTEM_URI)
    except libvirt.libvirtError as e:
        pytest.skip(f"no qemu:///system: {e}")
    try:
        domcaps = conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0)
        c = CreateCaps.from_domain_capabilities(parse_domain_capabilities(domcaps))
        s = CreateSpec(
            name=unique_name("vt-createspec") + " ü,x",
            memory_bytes=128 * MIB,
            install=KernelBoot(
                str(tmp_path / "vmlinuz"), str(tmp_path / "initrd"), "console=ttyS0"
            ),
            disks=(Disk(ExistingPath(str(tmp_path / "d.qcow2")), format="qcow2"),),
            graphics=Graphics("vnc", password="a b,c"),
            driver_iso=str(tmp_path / "drivers.iso"),
        )
        assert s.validate() == {}
        assert check_domain_caps(s, domcaps) == {}
        xml = build_domain_xml(s, c)
        assert validate_domain_xml(xml, spec=s, caps=c) == []
        dom = define_validated(conn, xml)
        try:
            assert dom.name() == s.name
            assert not dom.isActive()
            # an invalid document is refused by the VALIDATE flag itself
            with pytest.raises(libvirt.libvirtError):
                define_validated(conn, xml.replace('bus="virtio"', 'bus="bogus"', 1))
        finally:
            dom.undefine()
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByName(s.name)
    finally:
        conn.close()
