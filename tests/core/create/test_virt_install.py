"""The virt-install line: argv per option, quoting at both levels (shell, sub-options)."""

from __future__ import annotations

import json
import random
import shlex
import subprocess
from pathlib import Path

import pytest

from virttui.core.create.domain_xml import CreateCaps
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
    Topology,
)
from virttui.core.create.virt_install import subopt_quote, virt_install_argv, virt_install_line

MIB = 1 << 20
GIB = 1 << 30
VIRTINST = Path("/usr/share/virt-manager/virtinst/cli.py")

NASTY = [
    "plain",
    "a,b",
    "a b",
    "it's",
    'say "hi"',
    "back\\slash",
    "a=b,c=d",
    "",
    "ü,日本",
    "trailing,",
    "'",
]


def virtinst_parse(optstrs: list[str]) -> list[list[list[str | None]]]:
    """virt-install's own sub-option parser (system python, virtinst's cli.py)."""
    code = (
        "import json, sys; sys.path.insert(0, '/usr/share/virt-manager');"
        "from virtinst.cli import parse_optstr_tuples;"
        "print(json.dumps([parse_optstr_tuples(s) for s in json.loads(sys.stdin.read())]))"
    )
    out = subprocess.run(
        ["/usr/bin/python3", "-c", code],
        input=json.dumps(optstrs),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(not VIRTINST.is_file(), reason="virtinst not installed")
def test_virt_install_reads_every_quoted_value_back() -> None:
    optstrs = [f"vnc,password={subopt_quote(v)},keymap=de" for v in NASTY]
    parsed = virtinst_parse(optstrs)
    for value, tuples in zip(NASTY, parsed, strict=True):
        assert tuples == [["vnc", None], ["password", value], ["keymap", "de"]], value


@pytest.mark.skipif(not VIRTINST.is_file(), reason="virtinst not installed")
def test_random_values_survive_virt_installs_parser() -> None:
    rng = random.Random(12)
    alphabet = "ab ,=:'\"\\/-_.#$`;!?*\tüé日\n"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    parsed = virtinst_parse([f"password={subopt_quote(v)},x=1" for v in values])
    for value, tuples in zip(values, parsed, strict=True):
        assert tuples == [["password", value], ["x", "1"]], repr(value)


def test_doubled_comma_is_not_virt_install_4_escaping() -> None:
    # ',,' (old virt-install / QEMU) would be read as an empty option and a stray 'b'
    assert subopt_quote("a,b") == "'a,b'"
    assert ",," not in subopt_quote("a,b")


def spec(**kw: object) -> CreateSpec:
    base: dict[str, object] = {
        "name": "vm",
        "memory_bytes": 1024 * MIB,
        "install": CdromInstall(iso_path="/isos/a b.iso"),
        "disks": (Disk(NewVolume("default", "vm.qcow2", 10 * GIB)),),
        "nics": (Nic(),),
    }
    base.update(kw)
    return CreateSpec(**base)  # type: ignore[arg-type]


def opt(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == name]


def test_line_is_the_argv_shell_quoted() -> None:
    s = spec(name="my vm, 'quoted'", graphics=Graphics("vnc", password="a b,c"))
    argv = virt_install_argv(s)
    line = virt_install_line(s)
    assert shlex.split(line) == argv
    assert argv[0] == "virt-install"
    assert opt(argv, "--name") == ["my vm, 'quoted'"]  # --name is not sub-option parsed
    assert opt(argv, "--graphics") == ["vnc,password='a b,c'"]
    assert opt(argv, "--cdrom") == ["/isos/a b.iso"]


def test_each_answer_reaches_the_line() -> None:
    caps = CreateCaps(emulator="/usr/bin/qemu", machine="pc", pool_targets={"default": "/p"})
    s = spec(
        domain_type="kvm",
        machine="q35",
        memory_bytes=1024 * MIB,
        max_memory_bytes=2048 * MIB,
        vcpus=2,
        max_vcpus=4,
        topology=Topology(1, 2, 2),
        cpu=Cpu("host-passthrough"),
        disks=(
            Disk(
                NewVolume("default", "vm.img", GIB // 2, "raw", "full"),
                bus="sata",
                cache="none",
                io="native",
            ),
            Disk(
                ExistingPath("/srv/d,1.qcow2"),
                format="qcow2",
                readonly=True,
                shareable=True,
                cache="none",
            ),
        ),
        nics=(Nic("bridge", "br0", "e1000", "52:54:00:00:00:09"),),
        graphics=Graphics("vnc", "0.0.0.0", 5901, None, "de"),
        usb="usb3",
        video="virtio",
        tpm=True,
        driver_iso="/isos/virtio-win.iso",
        autostart=True,
        start_after=False,
        os_variant="win10",
    )
    argv = virt_install_argv(s, caps, uri="qemu+ssh://root@h/system")
    assert opt(argv, "--connect") == ["qemu+ssh://root@h/system"]
    assert opt(argv, "--virt-type") == ["kvm"]
    assert opt(argv, "--machine") == ["q35"]
    assert opt(argv, "--memory") == ["memory=1024,maxmemory=2048"]
    assert opt(argv, "--vcpus") == ["vcpus=2,maxvcpus=4,sockets=1,cores=2,threads=2"]
    assert opt(argv, "--cpu") == ["host-passthrough"]
    assert opt(argv, "--osinfo") == ["win10"]
    assert opt(argv, "--disk") == [
        "path=/p/vm.img,size=0.5,format=raw,sparse=no,device=disk,bus=sata,cache=none,io=native",
        "path='/srv/d,1.qcow2',format=qcow2,device=disk,bus=virtio,cache=none,readonly=on,"
        "shareable=on",
        "path=/isos/virtio-win.iso,device=cdrom,bus=sata",
    ]
    assert opt(argv, "--network") == ["bridge=br0,model=e1000,mac=52:54:00:00:00:09"]
    assert opt(argv, "--graphics") == ["vnc,listen=0.0.0.0,port=5901,keymap=de"]
    assert opt(argv, "--controller") == ["usb3"]
    assert opt(argv, "--video") == ["virtio"]
    assert opt(argv, "--tpm") == ["emulator,model=tpm-crb"]
    assert opt(argv, "--rng") == ["none"]  # an osinfo variant's extras stay off
    assert "--autostart" in argv and "--noreboot" in argv


def test_new_volume_without_caps_names_the_pool() -> None:
    argv = virt_install_argv(spec())
    assert opt(argv, "--disk") == ["pool=default,size=10.0,format=qcow2,device=disk,bus=virtio"]


def test_values_starting_with_a_dash_stay_values() -> None:
    argv = virt_install_argv(
        spec(
            name="-x,y",
            install=LocationInstall("-tree", "k", "i", "-- quiet"),
            cpu=Cpu("custom", "-model"),
        )
    )
    assert "--name=-x,y" in argv
    assert "--extra-args=-- quiet" in argv
    assert "--location=-tree,kernel=k,initrd=i" in argv
    assert "--cpu=-model" in argv
    assert "--name" not in argv


def test_install_methods() -> None:
    loc = virt_install_argv(
        spec(install=LocationInstall("/srv/tree,x", "casper/vmlinuz", "casper/initrd", "a=1 b"))
    )
    assert opt(loc, "--location") == ["'/srv/tree,x',kernel=casper/vmlinuz,initrd=casper/initrd"]
    assert opt(loc, "--extra-args") == ["a=1 b"]
    kernel = virt_install_argv(spec(install=KernelBoot("/k", "/i", "console=ttyS0,115200 q")))
    assert opt(kernel, "--boot") == ["kernel=/k,initrd=/i,kernel_args='console=ttyS0,115200 q'"]
    vol = virt_install_argv(spec(install=CdromInstall(pool="isos", volume="d.iso")))
    assert "vol=isos/d.iso,device=cdrom,bus=ide" in opt(vol, "--disk")
    assert opt(vol, "--boot") == ["cdrom,hd"]
    known = CreateCaps("/e", "pc", volume_paths={"isos/d.iso": "/var/isos/d.iso"})
    vol_known = virt_install_argv(spec(install=CdromInstall(pool="isos", volume="d.iso")), known)
    assert opt(vol_known, "--cdrom") == ["/var/isos/d.iso"]
    cloud = virt_install_argv(spec(install=CloudImageInstall("/c.qcow2", seed_iso="/s.iso")))
    assert "--import" in cloud
    assert "path=/s.iso,device=cdrom,bus=ide" in opt(cloud, "--disk")
    uefi = virt_install_argv(spec(firmware=Firmware("uefi")))
    assert opt(uefi, "--boot") == ["uefi"]
    sb = virt_install_argv(spec(firmware=Firmware("uefi", True)))
    assert "firmware.feature0.name=secure-boot" in opt(sb, "--boot")[0]
    assert opt(sb, "--features") == ["smm.state=on"]


def test_uefi_without_tpm_says_tpm_none() -> None:
    """virt-install adds an emulated TPM to UEFI guests when the host has swtpm; our XML has
    none unless asked, so the line carries --tpm none (and only then)."""
    assert opt(virt_install_argv(spec(firmware=Firmware("uefi"))), "--tpm") == ["none"]
    assert opt(virt_install_argv(spec()), "--tpm") == []
    with_tpm = virt_install_argv(spec(firmware=Firmware("uefi"), tpm=True))
    assert opt(with_tpm, "--tpm") == ["emulator,model=tpm-crb"]
