"""CreateSpec: validation (field -> message), TOML round trip, domain type from the host verdict."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest
import tomli_w

from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CloudSeed,
    Cpu,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Firmware,
    Graphics,
    ImportInstall,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
    PxeInstall,
    Topology,
    domain_type_from_verdict,
)
from virttui.core.host.probe.verdict import Acceleration, Verdict

MIB = 1 << 20
GIB = 1 << 30


def good(**kw: object) -> CreateSpec:
    base = CreateSpec(
        name="web-01",
        memory_bytes=1024 * MIB,
        vcpus=2,
        install=CdromInstall(iso_path="/isos/debian.iso"),
        disks=(Disk(NewVolume("default", "web-01.qcow2", 20 * GIB)),),
        nics=(Nic("network", "default", "virtio"),),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_good_spec_has_no_errors() -> None:
    assert good().validate() == {}


@pytest.mark.parametrize(
    "name",
    ["a", "Überserver", "日本語のゲスト", "with space", "a,b;c'd\"e", "tab\there", "x" * 200],
)
def test_names_libvirt_accepts(name: str) -> None:
    assert "name" not in good(name=name).validate()


@pytest.mark.parametrize("name", ["", "   ", "a/b", "line\nbreak", "esc\x1b", "nul\x00"])
def test_names_libvirt_refuses(name: str) -> None:
    assert "name" in good(name=name).validate()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"memory_bytes": 0}, "memory_bytes"),
        ({"memory_bytes": 1000}, "memory_bytes"),
        ({"max_memory_bytes": 512 * MIB}, "max_memory_bytes"),
        ({"vcpus": 0}, "vcpus"),
        ({"vcpus": 4, "max_vcpus": 2}, "max_vcpus"),
        ({"vcpus": 2, "max_vcpus": 8, "topology": Topology(1, 2, 2)}, "topology"),
        ({"topology": Topology(0, 2, 1)}, "topology"),
        ({"cpu": Cpu("custom")}, "cpu.model"),
        ({"cpu": Cpu("host-model", "Westmere")}, "cpu.model"),
        ({"firmware": Firmware("bios", secure_boot=True)}, "firmware.secure_boot"),
        ({"os_variant": ""}, "os_variant"),
        ({"install": CdromInstall()}, "install.iso_path"),
        ({"install": CdromInstall("/a.iso", "default", "b.iso")}, "install.iso_path"),
        ({"install": LocationInstall("", "k", "i")}, "install.location"),
        ({"install": LocationInstall("/tree", "", "i")}, "install.kernel"),
        ({"install": KernelBoot("")}, "install.kernel"),
        ({"install": KernelBoot("vmlinuz")}, "install.kernel"),
        ({"install": KernelBoot("/k", "initrd")}, "install.initrd"),
        ({"install": CdromInstall("a.iso")}, "install.iso_path"),
        ({"install": LocationInstall("tree", "k", "i")}, "install.location"),
        ({"install": ImportInstall(), "disks": ()}, "disks"),
        ({"install": CloudImageInstall("/c.qcow2"), "disks": ()}, "disks"),
        ({"install": CloudImageInstall("")}, "install.base_image"),
        ({"disks": (Disk(ExistingPath("/x.iso"), device="cdrom", bus="virtio"),)}, "disks[0].bus"),
        ({"disks": (Disk(NewVolume("default", "a", 0)),)}, "disks[0].source.size_bytes"),
        ({"disks": (Disk(NewVolume("default", "a/b", 1)),)}, "disks[0].source.name"),
        ({"disks": (Disk(NewVolume("", "a", 1)),)}, "disks[0].source.pool"),
        ({"disks": (Disk(NewVolume("p", "a", 1, "raw", backing="/b")),)}, "disks[0].source.format"),
        ({"disks": (Disk(ExistingPath("rel/path")),)}, "disks[0].source.path"),
        ({"disks": (Disk(ExistingVolume("p", "")),)}, "disks[0].source.volume"),
        ({"disks": (Disk(ExistingPath("/a"), io="native"),)}, "disks[0].io"),
        (
            {"disks": (Disk(ExistingPath("/a"), shareable=True, cache="writeback"),)},
            "disks[0].cache",
        ),
        ({"machine": "q35", "disks": (Disk(ExistingPath("/a"), bus="ide"),)}, "disks[0].bus"),
        ({"machine": "q35", "cdrom_bus": "ide"}, "cdrom_bus"),
        ({"nics": (Nic(mac="52:54:00:zz:00:01"),)}, "nics[0].mac"),
        ({"nics": (Nic(mac="01:00:5e:00:00:01"),)}, "nics[0].mac"),  # multicast
        ({"nics": (Nic(mac="ff:ff:ff:ff:ff:ff"),)}, "nics[0].mac"),
        ({"nics": (Nic(mac="52:54:00:00:00:01"), Nic(mac="52:54:00:00:00:01"))}, "nics[1].mac"),
        ({"nics": (Nic("bridge", ""),)}, "nics[0].source"),
        ({"graphics": Graphics("vnc", port=5899)}, "graphics.port"),
        ({"graphics": Graphics("vnc", port=65536)}, "graphics.port"),
        ({"graphics": Graphics("vnc", password="")}, "graphics.password"),
        ({"graphics": Graphics("vnc", password="123456789")}, "graphics.password"),
        ({"graphics": Graphics("vnc", password="a\nb")}, "graphics.password"),
        ({"graphics": Graphics("vnc", keymap="german")}, "graphics.keymap"),
        ({"graphics": Graphics("none", port=5901)}, "graphics.port"),
        ({"graphics": Graphics("spice"), "video": "none"}, "video"),
        ({"driver_iso": ""}, "driver_iso"),
    ],
)
def test_each_problem_lands_on_its_field(changes: dict[str, object], field: str) -> None:
    errors = good(**changes).validate()
    assert field in errors, errors
    assert errors[field]  # a sentence


def test_good_edge_values() -> None:
    spec = good(
        vcpus=2,
        max_vcpus=8,
        topology=Topology(2, 2, 2),
        max_memory_bytes=4096 * MIB,
        graphics=Graphics("vnc", "0.0.0.0", 5900, "a b,c'd", "en-us"),
        nics=(Nic("bridge", "br0", "e1000", "52:54:00:AB:cd:01"),),
        disks=(Disk(ExistingPath("/dev/vg/x"), bus="scsi", cache="none", io="native"),),
        machine="q35",
        cdrom_bus="sata",
    )
    assert spec.validate() == {}


def full_spec() -> CreateSpec:
    return CreateSpec(
        name="Grüße, \"quoted\" 'x'",
        memory_bytes=2048 * MIB,
        max_memory_bytes=4096 * MIB,
        vcpus=2,
        max_vcpus=4,
        topology=Topology(1, 2, 2),
        domain_type="kvm",
        domain_type_reason="KVM hardware acceleration available",
        machine="q35",
        cpu=Cpu("custom", "Westmere"),
        firmware=Firmware("uefi", True),
        install=CloudImageInstall(
            "/img/debian-12-genericcloud-amd64.qcow2",
            CloudSeed("web", "admin", "$6$salt$hash", ("ssh-ed25519 AAAA: x\ny",), ("nginx",)),
            seed_iso="/var/lib/libvirt/images/seed.iso",
        ),
        os_variant="debian11",
        disks=(
            Disk(NewVolume("default", "web.qcow2", 20 * GIB, backing="/img/base.qcow2")),
            Disk(ExistingVolume("data", "db.raw"), bus="scsi", cache="none", io="native"),
            Disk(ExistingPath("/srv/x.iso"), device="cdrom", bus="sata", readonly=True),
        ),
        nics=(
            Nic("network", "default", "virtio"),
            Nic("bridge", "br0", "e1000", "52:54:00:00:00:02"),
        ),
        graphics=Graphics("vnc", "127.0.0.1", 5905, "pw", "de"),
        video="virtio",
        usb="usb3",
        virtio_extras=True,
        tpm=True,
        tpm_model="tpm-tis",
        driver_iso="/isos/virtio-win.iso",
        cdrom_bus="sata",
        autostart=True,
        start_after=False,
    )


@pytest.mark.parametrize(
    "install",
    [
        CdromInstall(iso_path="/a.iso"),
        CdromInstall(pool="isos", volume="a.iso"),
        LocationInstall(
            "http://deb.debian.org/debian/dists/bookworm/main/installer-amd64/",
            "linux",
            "initrd.gz",
            "console=ttyS0",
            "/b/k",
            "/b/i",
        ),
        PxeInstall(),
        ImportInstall(),
        KernelBoot("/k", "/i", "console=ttyS0,115200"),
    ],
)
def test_toml_round_trip_every_install(install: object) -> None:
    spec = replace(full_spec(), install=install)  # type: ignore[arg-type]
    text = tomli_w.dumps(spec.to_dict())
    assert CreateSpec.from_dict(tomllib.loads(text)) == spec


def test_toml_round_trip_full() -> None:
    spec = full_spec()
    assert CreateSpec.from_dict(tomllib.loads(tomli_w.dumps(spec.to_dict()))) == spec


def test_toml_minimal_preset_fills_defaults() -> None:
    spec = CreateSpec.from_dict(tomllib.loads('name = "a"\nmemory_bytes = 536870912\n'))
    assert spec == CreateSpec(name="a", memory_bytes=512 * MIB)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('name = "a"\nmemory_bytes = "lots"\n', "memory_bytes"),
        ('name = "a"\nmemory_bytes = 1\ncolour = "red"\n', "colour"),
        ('name = "a"\nmemory_bytes = 1\n[install]\nkind = "floppy"\n', "floppy"),
        ('name = "a"\nmemory_bytes = 1\n[graphics]\ntype = "rdp"\n', "graphics.type"),
        ('name = "a"\nmemory_bytes = 1\nautostart = 1\n', "autostart"),
        ('name = "a"\nmemory_bytes = true\n', "memory_bytes"),
        ("memory_bytes = 1\n", "name"),
        (
            'name = "a"\nmemory_bytes = 1\n[[disks]]\n[disks.source]\nkind = "new"\npool = "p"\n',
            "disks[0].source",
        ),
    ],
)
def test_bad_presets_say_where(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        CreateSpec.from_dict(tomllib.loads(text))


def test_domain_type_follows_the_host_verdict() -> None:
    kvm = Verdict(Acceleration.KVM, "kvm", "KVM hardware acceleration available", (), 0)
    tcg = Verdict(Acceleration.TCG, "qemu", "no hardware virtualization: TCG", ("cpu.hw_virt",), 1)
    unknown = Verdict(Acceleration.UNKNOWN, "qemu", "cannot tell whether KVM is usable", (), 1)
    assert domain_type_from_verdict(kvm) == ("kvm", kvm.summary)
    assert domain_type_from_verdict(tcg) == ("qemu", tcg.summary)
    assert domain_type_from_verdict(unknown) == ("qemu", unknown.summary)
