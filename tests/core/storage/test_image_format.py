"""Existing-image format detection: qemu-img on this machine, the storage pool on a remote host
(the test driver's pool stands in for the remote host's), raw for everything unknown."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import libvirt
import pytest

from virttui.core.storage.image_format import detect_format, qemu_img_info


@pytest.fixture
def conn() -> libvirt.virConnect:
    return libvirt.open("test:///default")


def _volume(conn: libvirt.virConnect, name: str, fmt: str = "") -> str:
    target = f"<target><format type='{fmt}'/></target>" if fmt else ""
    xml = f"<volume><name>{name}</name><capacity>1048576</capacity>{target}</volume>"
    return conn.storagePoolLookupByName("default-pool").createXML(xml, 0).path()


def test_remote_host_uses_the_pool_record_else_raw_with_a_note(conn: libvirt.virConnect) -> None:
    qcow2 = detect_format(conn, _volume(conn, "a.qcow2", "qcow2"), local=False)
    assert (qcow2.format, qcow2.source) == ("qcow2", "storage pool default-pool")
    outside = detect_format(conn, "/srv/images/not-in-a-pool.img", local=False)
    assert outside.format == "raw" and outside.source == "default"
    assert "cannot be read" in outside.note


def test_local_files_are_read_by_qemu_img(conn: libvirt.virConnect, tmp_path: Path) -> None:
    raw = tmp_path / "disk.img"
    raw.write_bytes(b"\0" * 65536)
    qcow2 = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "1M"], check=True)
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"QFI but not really\n" + os.urandom(4096))
    assert detect_format(conn, str(raw), local=True).format == "raw"
    assert detect_format(conn, str(qcow2), local=True).format == "qcow2"
    assert detect_format(conn, str(garbage), local=True).format == "raw"
    missing = detect_format(conn, str(tmp_path / "missing.img"), local=True)
    assert missing.format == "raw" and "qemu-img info failed" in missing.note


def test_a_backing_file_is_named_in_the_note(tmp_path: Path) -> None:
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "1M"], check=True)
    top = tmp_path / "top.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(top)],
        check=True,
    )
    guess = detect_format(libvirt.open("test:///default"), str(top), local=True)
    assert guess.format == "qcow2" and str(base) in guess.note


def test_relative_paths_never_reach_qemu_img() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        qemu_img_info("json:{}")
