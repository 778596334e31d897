"""Presets: a CreateSpec as TOML and back (core/create/presets.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from virttui.core.create.presets import (
    PresetError,
    load_preset,
    parse_preset,
    preset_text,
    save_preset,
)
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
    Install,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
    PxeInstall,
    Topology,
)

MIB = 1 << 20

INSTALLS: list[Install] = [
    CdromInstall(iso_path='/srv/iso/debian 12 "netinst".iso'),
    CdromInstall(pool="isos", volume="win.iso"),
    LocationInstall(
        "http://deb.example/debian/dists/bookworm/main/installer-amd64/",
        "current/images/netboot/debian-installer/amd64/linux",
        "current/images/netboot/debian-installer/amd64/initrd.gz",
        extra_args="console=ttyS0 priority=low 'quoted'",
    ),
    PxeInstall(),
    ImportInstall(),
    KernelBoot("/boot/vmlinuz", "/boot/initrd.img", "console=ttyS0 root=/dev/vda1"),
    CloudImageInstall(
        "/var/lib/libvirt/images/debian-12-genericcloud-amd64.qcow2",
        seed=CloudSeed(
            hostname="web1.example.org",
            user="admin",
            password_hash="$6$salt$" + "x" * 86,
            ssh_keys=("ssh-ed25519 AAAAC3Nz... a: 'key' # comment",),
            packages=("htop", "qemu-guest-agent"),
        ),
    ),
]


def _spec(install: Install) -> CreateSpec:
    return CreateSpec(
        name="vm-ünïcode \"q\" 'x' #1",
        memory_bytes=2048 * MIB,
        max_memory_bytes=4096 * MIB,
        vcpus=2,
        max_vcpus=4,
        topology=Topology(1, 2, 2),
        machine="pc-q35-7.2",
        cpu=Cpu("custom", "Haswell"),
        firmware=Firmware("uefi", secure_boot=True),
        install=install,
        os_variant="debian11",
        disks=(
            Disk(NewVolume("default", "vm.qcow2", 20 << 30, preallocation="metadata")),
            Disk(ExistingPath("/dev/vg0/data"), bus="scsi", cache="none", io="native"),
            Disk(ExistingVolume("isos", "tools.iso"), device="cdrom", bus="sata", readonly=True),
            Disk(NewVolume("fast", "scratch.raw", 1 << 30, format="raw", preallocation="full")),
        ),
        nics=(
            Nic("network", "default", "virtio", "52:54:00:aa:bb:cc"),
            Nic("bridge", "br0", "e1000"),
        ),
        graphics=Graphics("vnc", listen="127.0.0.1", port=5905, password='pa"ss:', keymap="de"),
        video="virtio",
        usb="usb3",
        virtio_extras=True,
        tpm=True,
        driver_iso="/srv/iso/virtio-win.iso",
        autostart=True,
        start_after=False,
    )


@pytest.mark.parametrize("install", INSTALLS, ids=lambda i: i.kind)
def test_round_trip_every_install_method(tmp_path: Path, install: Install) -> None:
    spec = _spec(install)
    path = tmp_path / "preset.toml"
    save_preset(spec, path)
    assert load_preset(path) == spec
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_round_trip_defaults_and_spice(tmp_path: Path) -> None:
    spec = CreateSpec("plain", 512 * MIB, graphics=Graphics("spice"), nics=(Nic(),))
    save_preset(spec, tmp_path / "p.toml")
    assert load_preset(tmp_path / "p.toml") == spec


def test_runner_filled_fields_are_not_saved(tmp_path: Path) -> None:
    spec = _spec(CloudImageInstall("/img/base.qcow2", seed_iso="/pool/x-cidata.iso"))
    filled = spec.disks[0].source
    assert isinstance(filled, NewVolume)
    spec = CreateSpec(
        **{
            **{f: getattr(spec, f) for f in spec.__dataclass_fields__},
            "disks": (Disk(NewVolume(filled.pool, filled.name, filled.size_bytes, path="/p/x")),),
        }
    )
    text = preset_text(spec)
    assert "x-cidata" not in text and '"/p/x"' not in text
    loaded = parse_preset(text)
    assert isinstance(loaded.install, CloudImageInstall) and loaded.install.seed_iso is None
    loc = _spec(LocationInstall("/tree", "k", "i", fetched_kernel="/b/k", fetched_initrd="/b/i"))
    assert "/b/k" not in preset_text(loc)


def test_existing_file_refused_unless_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("keep me")
    spec = CreateSpec("a", 512 * MIB)
    with pytest.raises(PresetError, match="exists already"):
        save_preset(spec, path)
    assert path.read_text() == "keep me"
    save_preset(spec, path, overwrite=True)
    assert load_preset(path) == spec


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "a"\nmemory_bytes = 536870912\nvcpus = = 2\n')
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}: line 3 not valid TOML")


def test_field_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    save_preset(_spec(PxeInstall()), path)
    text = path.read_text().replace("size_bytes = 21474836480", 'size_bytes = "20G"', 1)
    path.write_text(text)
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert info.value.field == "disks[0].source.size_bytes"
    assert str(info.value) == f"{path}: disks[0].source.size_bytes: expected a whole number"


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('name = "a"\nmemory_bytes = 1\ncolour = "red"\n', None, "unknown key(s) colour"),
        ('name = "a"\nmemory_bytes = 1\n[install]\nkind = "floppy"\n', "install", "unknown kind"),
        ('name = "a"\nmemory_bytes = 1\ngraphics = { type = "rdp" }\n', "graphics.type", "one of"),
        ("memory_bytes = 1\n", None, "name"),
        ('preset_version = 99\nname = "a"\nmemory_bytes = 1\n', "preset_version", "newer"),
    ],
)
def test_bad_content(text: str, field: str | None, words: str) -> None:
    with pytest.raises(PresetError) as info:
        parse_preset(text, "x.toml")
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith("x.toml: ")


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="cannot read the preset"):
        load_preset(tmp_path / "nope.toml")
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(PresetError, match="not UTF-8"):
        load_preset(tmp_path / "latin1.toml")
