"""Add disk as a new image file with no pool, on qemu:///system: a defined tiny guest gets a new
qcow2 file made by qemu-img; nothing of a pool is involved; everything is removed afterwards."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import create_qcow2, defined_guest
from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.disk_file import add_disk_new_file

INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE


@pytest.fixture
def plain_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vt-diskfile-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_add_a_new_image_file(system_conn: libvirt.virConnect, plain_dir: Path) -> None:
    boot = create_qcow2(plain_dir / "boot.qcow2", "16M")
    with defined_guest(system_conn, str(boot), "vt-diskfile") as dom:
        new = plain_dir / "data disk.qcow2"
        applied, target, path = add_disk_new_file(dom, str(new), 32 << 20, fmt="qcow2")
        assert path == str(new) and applied.config and not applied.live
        got = json.loads(
            subprocess.run(
                ["qemu-img", "info", "--output=json", str(new)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        assert got["format"] == "qcow2" and got["virtual-size"] == 32 << 20
        disks = ET.fromstring(dom.XMLDesc(INACTIVE)).findall("devices/disk")
        assert [d.find("source").get("file") for d in disks] == [str(boot), str(new)]  # type: ignore[union-attr]
        assert disks[1].find("target").get("dev") == target  # type: ignore[union-attr]
        with pytest.raises(DomainActionError, match="exists"):
            add_disk_new_file(dom, str(new), 1 << 20, fmt="raw")
        assert len(ET.fromstring(dom.XMLDesc(INACTIVE)).findall("devices/disk")) == 2
