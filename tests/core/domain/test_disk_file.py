"""A new image file as a disk, with no pool (test driver + real qemu-img): created with the
requested format and size, attached; an existing file is refused and left as it was."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.disk_file import add_disk_new_file
from virttui.core.jobs import JobContext
from virttui.core.storage import files as F

INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE


def info(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def ctx() -> JobContext:
    return JobContext(0, lambda _m: None)


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_create_image(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"new disk é.{fmt}"
    F.create_image(ctx(), str(path), fmt, 3 << 20)
    got = info(path)
    assert got["format"] == fmt and got["virtual-size"] == 3 << 20


def test_create_image_refuses_bad_requests(tmp_path: Path) -> None:
    taken = tmp_path / "taken.qcow2"
    taken.write_text("keep me")
    with pytest.raises(F.FilesError, match="exists"):
        F.create_image(ctx(), str(taken), "qcow2", 1 << 20)
    assert taken.read_text() == "keep me"
    with pytest.raises(F.FilesError, match="absolute"):
        F.create_image(ctx(), "rel.qcow2", "qcow2", 1 << 20)
    with pytest.raises(F.FilesError, match="qcow2 or raw"):
        F.create_image(ctx(), str(tmp_path / "x.vmdk"), "vmdk", 1 << 20)
    with pytest.raises(F.FilesError, match="more than 0"):
        F.create_image(ctx(), str(tmp_path / "x.qcow2"), "qcow2", 0)
    with pytest.raises(F.FilesError, match="No such file"):
        F.create_image(ctx(), str(tmp_path / "no-dir" / "x.qcow2"), "qcow2", 1 << 20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.qcow2"]


def test_add_disk_new_file(conn: libvirt.virConnect, tmp_path: Path) -> None:
    dom = conn.lookupByName("test")
    path = tmp_path / "data disk.qcow2"
    applied, target, made = add_disk_new_file(dom, str(path), 2 << 20, fmt="qcow2")
    assert made == str(path) and target
    assert applied.config
    assert info(path)["virtual-size"] == 2 << 20
    disks = ET.fromstring(dom.XMLDesc(INACTIVE)).findall("devices/disk")
    added = [
        d
        for d in disks
        if d.find("source") is not None and d.find("source").get("file") == str(path)
    ]  # type: ignore[union-attr]
    assert len(added) == 1
    assert added[0].find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
    assert added[0].find("target").get("dev") == target  # type: ignore[union-attr]


def test_add_disk_new_file_refuses_an_existing_file(
    conn: libvirt.virConnect, tmp_path: Path
) -> None:
    dom = conn.lookupByName("test")
    before = dom.XMLDesc(INACTIVE)
    taken = tmp_path / "taken.img"
    taken.write_bytes(b"data")
    with pytest.raises(DomainActionError, match="exists"):
        add_disk_new_file(dom, str(taken), 1 << 20, fmt="raw")
    assert taken.read_bytes() == b"data"
    assert dom.XMLDesc(INACTIVE) == before


def test_a_failed_attach_removes_the_new_file(conn: libvirt.virConnect, tmp_path: Path) -> None:
    dom = conn.lookupByName("test")
    path = tmp_path / "x.qcow2"
    with pytest.raises(Exception):  # noqa: B017 - whatever libvirt says about the bus
        add_disk_new_file(dom, str(path), 1 << 20, bus="no-such-bus")
    assert not path.exists()
