"""Clone of a domain whose disk is a plain file in no pool (test driver + real qemu-img): the
copy goes next to the original under a free name, same format, with progress; a cancel removes
the partial copy and defines nothing."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.clone import clone_domain, convert_fraction
from virttui.core.domain.info import parse_domain_xml
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage


def _file_domain(
    conn: libvirt.virConnect, name: str, disk: Path, fmt: str = "qcow2"
) -> libvirt.virDomain:
    xml = f"""<domain type='test'><name>{name}</name><memory>65536</memory><vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>
        <source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>"""
    return conn.defineXML(xml)


def _image_with_data(path: Path, mib: int = 8) -> Path:
    raw = path.with_suffix(".raw")
    raw.write_bytes(os.urandom(mib << 20))
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(path)], check=True
    )
    raw.unlink()
    return path


def test_convert_fraction() -> None:
    assert convert_fraction("    (12.50/100%)") == 0.125
    assert convert_fraction("(100.00/100%)") == 1.0
    assert convert_fraction("something else") is None


def test_clone_copies_a_plain_file_next_to_it(conn: libvirt.virConnect, tmp_path: Path) -> None:
    disk = _image_with_data(tmp_path / "src disk é.qcow2")
    (tmp_path / "copy disk é.qcow2").write_text("taken")  # the obvious name is taken
    before = disk.read_bytes()
    src = _file_domain(conn, "src", disk)
    seen: list[tuple[int, int]] = []
    result = clone_domain(src, "copy", progress=lambda d, t: seen.append((d, t)))
    (vol,) = result.volumes
    assert vol.source_path == str(disk) and vol.pool == ""
    assert vol.path == str(tmp_path / "copy disk é-1.qcow2")
    assert (tmp_path / "copy disk é.qcow2").read_text() == "taken"
    assert seen and seen[-1][0] == seen[-1][1] > 0 and all(d <= t for d, t in seen)
    clone = parse_domain_xml(conn.lookupByName("copy").XMLDesc(0))
    assert clone.disks[0].source_file == vol.path
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", vol.path], capture_output=True, text=True, check=True
    )
    assert '"format": "qcow2"' in info.stdout
    compare = subprocess.run(["qemu-img", "compare", str(disk), vol.path], capture_output=True)
    assert compare.returncode == 0
    assert disk.read_bytes() == before  # the original is untouched


def test_clone_of_a_raw_file_stays_raw(conn: libvirt.virConnect, tmp_path: Path) -> None:
    disk = tmp_path / "data.img"
    disk.write_bytes(b"\1" * (1 << 20))
    src = _file_domain(conn, "rawsrc", disk, fmt="raw")
    result = clone_domain(src, "rawcopy")
    (vol,) = result.volumes
    assert vol.path == str(tmp_path / "rawcopy-data.img")
    assert Path(vol.path).read_bytes() == disk.read_bytes()
    root = ET.fromstring(conn.lookupByName("rawcopy").XMLDesc(0))
    assert root.find("devices/disk/driver").get("type") == "raw"  # type: ignore[union-attr]


def test_cancel_removes_the_partial_copy(conn: libvirt.virConnect, tmp_path: Path) -> None:
    disk = _image_with_data(tmp_path / "big.qcow2", 32)
    src = _file_domain(conn, "big", disk)
    messages: list[JobMessage] = []
    job: Job[object]

    def progress(_done: int, _total: int) -> None:
        job.cancel()

    job = Job(lambda ctx: clone_domain(src, "bigcopy", progress=progress, ctx=ctx), messages.append)
    job.run()
    assert isinstance(messages[-1], JobFailed) and messages[-1].cancelled, messages
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.qcow2"]
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByName("bigcopy")


def test_the_job_context_of_the_thread_is_used(conn: libvirt.virConnect, tmp_path: Path) -> None:
    disk = _image_with_data(tmp_path / "j.qcow2", 1)
    src = _file_domain(conn, "j", disk)
    messages: list[JobMessage] = []
    Job(lambda _ctx: clone_domain(src, "j2"), messages.append).run()
    assert isinstance(messages[-1], JobDone)
    assert (tmp_path / "j2.qcow2").exists()


def test_missing_file_is_still_refused(conn: libvirt.virConnect, tmp_path: Path) -> None:
    src = _file_domain(conn, "gone", tmp_path / "missing.qcow2")
    with pytest.raises(DomainActionError, match="not a storage volume"):
        clone_domain(src, "gone2")
    assert list(tmp_path.iterdir()) == []
