"""`virttui create PRESET.toml` as a subprocess on the real qemu:///system: --print-xml and
--print-line create nothing; a create prints the name and progress; a failure exits 1 with the
field and leaves nothing behind."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import GUEST_CMDLINE, guest_initrd, guest_kernel, remove_domain, unique_name
from virttui.core.create.presets import save_preset
from virttui.core.create.spec import (
    CdromInstall,
    CreateSpec,
    Disk,
    Graphics,
    KernelBoot,
    NewVolume,
)

MIB = 1 << 20


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virttui", "create", *args, "--connect", "qemu:///system"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def cleanup(system_conn: libvirt.virConnect) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


def _spec(name: str, pool: str, **kw: object) -> CreateSpec:
    args: dict[str, object] = {
        "name": name,
        "memory_bytes": 128 * MIB,
        "domain_type": "qemu",
        "install": KernelBoot(
            str(guest_kernel().resolve()), str(guest_initrd().resolve()), GUEST_CMDLINE
        ),
        "disks": (Disk(NewVolume(pool, f"{name}.qcow2", 32 * MIB)),),
        "graphics": Graphics("none"),
        "video": "none",
        "usb": "none",
        "start_after": False,
    }
    args.update(kw)
    return CreateSpec(**args)  # type: ignore[arg-type]


def _vols(pool: libvirt.virStoragePool) -> set[str]:
    pool.refresh(0)
    return set(pool.listVolumes())


def test_print_xml_and_line_create_nothing(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    name = unique_name("vt-cli-print")
    preset = tmp_path / "p.toml"
    save_preset(_spec(name, temp_pool.name()), preset)
    before = _vols(temp_pool)
    out = _run(str(preset), "--print-xml")
    assert out.returncode == 0, out.stderr
    root = ET.fromstring(out.stdout)
    assert root.findtext("name") == name
    assert root.findtext("os/cmdline") == GUEST_CMDLINE
    line = _run(str(preset), "--print-line")
    assert line.returncode == 0, line.stderr
    assert line.stdout.startswith("virt-install ") and f"--name {name}" in line.stdout
    assert _vols(temp_pool) == before
    assert name not in {d.name() for d in system_conn.listAllDomains(0)}


def test_print_xml_with_install_phase_prints_both(
    temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    name = unique_name("vt-cli-iso")
    iso = tmp_path / "x.iso"
    iso.write_bytes(b"\0" * 2048)
    preset = tmp_path / "p.toml"
    save_preset(
        _spec(name, temp_pool.name(), install=CdromInstall(iso_path=str(iso)), start_after=True),
        preset,
    )
    out = _run(str(preset), "--print-xml")
    assert out.returncode == 0, out.stderr
    docs = [d for d in out.stdout.split("</domain>") if d.strip()]
    assert len(docs) == 2
    install, final = (ET.fromstring(d + "</domain>") for d in docs)
    assert [b.get("dev") for b in install.findall("os/boot")] == ["cdrom", "hd"]
    assert install.findtext("on_reboot") == "destroy"
    assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]


def test_create_prints_name_then_failure_exits_1(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
    cleanup: list[str],
) -> None:
    name = unique_name("vt-cli-create")
    cleanup.append(name)
    preset = tmp_path / "p.toml"
    save_preset(_spec(name, temp_pool.name()), preset)
    out = _run(str(preset))
    assert out.returncode == 0, out.stderr
    assert out.stdout == name + "\n"
    assert "virttui create:" in out.stderr and "100% created" in out.stderr
    dom = system_conn.lookupByName(name)
    assert dom.isPersistent() and not dom.isActive()
    assert f"{name}.qcow2" in _vols(temp_pool)
    # the same preset again: the name is taken, nothing new is made
    before = _vols(temp_pool)
    again = _run(str(preset))
    assert again.returncode == 1
    assert "name: a domain named" in again.stderr
    assert "disks[0].source.name" in again.stderr  # the volume exists too
    assert again.stdout == ""
    assert _vols(temp_pool) == before


def test_bad_preset_and_bad_connection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nmemory_bytes = "lots"\n')
    out = _run(str(bad))
    assert out.returncode == 1
    assert f"{bad}: memory_bytes: expected a whole number" in out.stderr
    missing = _run(str(tmp_path / "none.toml"))
    assert missing.returncode == 1 and "cannot read the preset" in missing.stderr
    good = tmp_path / "good.toml"
    save_preset(CreateSpec("x", 128 * MIB), good)
    noconn = subprocess.run(
        [sys.executable, "-m", "virttui", "create", str(good), "--connect", "nosuch:///x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert noconn.returncode == 2 and "cannot connect" in noconn.stderr
