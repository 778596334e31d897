"""Clone on qemu:///system of a defined tiny guest whose disk is a plain qcow2 file in no pool:
the copy is made with qemu-img next to the original, the new domain points at it, the original
is untouched; everything made here is removed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import defined_guest, open_system_conn, remove_domain
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.domain.clone import CloneResult, clone_domain
from virttui.core.jobs import Job, JobDone, JobMessage
from virttui.core.storage import files as F

PREFIX = "vt-clonefile"


@pytest.fixture
def plain_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vt-clonefile-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clone_of_a_plain_file_disk(system_conn: libvirt.virConnect, plain_dir: Path) -> None:
    raw = plain_dir / "pattern.raw"
    raw.write_bytes(os.urandom(2 << 20) + b"\0" * (6 << 20))
    disk = plain_dir / "guest disk.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(disk)], check=True
    )
    raw.unlink()
    before = _digest(disk)
    with pytest.raises(libvirt.libvirtError):
        system_conn.storageVolLookupByPath(str(disk))  # really in no pool
    with defined_guest(system_conn, str(disk), PREFIX) as src:
        new_name = src.name() + "-clone"
        messages: list[JobMessage] = []
        seen: list[tuple[int, int]] = []
        Job(
            lambda ctx: clone_domain(
                src, new_name, progress=lambda d, t: seen.append((d, t)), ctx=ctx
            ),
            messages.append,
        ).run()
        clone = None
        with contextlib.suppress(libvirt.libvirtError):
            clone = system_conn.lookupByName(new_name)
        try:
            assert isinstance(messages[-1], JobDone), messages
            result: CloneResult = messages[-1].result
            (vol,) = result.volumes
            new_file = Path(vol.path)
            assert new_file.parent == plain_dir and new_file != disk
            assert new_file.name == f"{new_name}-guest disk.qcow2"
            assert seen and seen[-1][0] == seen[-1][1] > 0
            assert clone is not None and clone.UUIDString() != src.UUIDString()
            root = ET.fromstring(clone.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            (disk_el,) = root.findall("devices/disk")
            assert disk_el.find("source").get("file") == str(new_file)  # type: ignore[union-attr]
            assert disk_el.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
            src_root = ET.fromstring(src.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            assert src_root.find("devices/disk/source").get("file") == str(disk)  # type: ignore[union-attr]
            compare = subprocess.run(
                ["qemu-img", "compare", str(disk), str(new_file)], capture_output=True, text=True
            )
            assert compare.returncode == 0, compare.stdout + compare.stderr
            assert _digest(disk) == before  # the original is untouched
        finally:
            if clone is not None:
                remove_domain(clone)
            with contextlib.suppress(FileNotFoundError):
                Path(f"/var/log/libvirt/qemu/{new_name}.log").unlink()


def test_clone_of_a_plain_file_disk_over_ssh(
    system_conn: libvirt.virConnect,
    plain_dir: Path,
    local_sshd: LocalSshd,  # noqa: F811
) -> None:
    """The same through a qemu+ssh connection: qemu-img and the directory listing run over ssh."""
    disk = plain_dir / "it's a disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "8M"], check=True)
    before = _digest(disk)
    uri = local_sshd.uri()
    assert F.is_remote(uri)
    remote = open_system_conn(uri)
    try:
        with defined_guest(system_conn, str(disk), PREFIX) as src:
            new_name = src.name() + "-c"
            messages: list[JobMessage] = []
            there = remote.lookupByUUIDString(src.UUIDString())
            Job(lambda ctx: clone_domain(there, new_name, ctx=ctx), messages.append).run()
            clone = None
            with contextlib.suppress(libvirt.libvirtError):
                clone = system_conn.lookupByName(new_name)
            try:
                assert isinstance(messages[-1], JobDone), messages
                (vol,) = messages[-1].result.volumes
                assert vol.path == str(plain_dir / f"{new_name}-it's a disk.qcow2")
                assert Path(vol.path).is_file() and _digest(disk) == before
                assert clone is not None
                root = ET.fromstring(clone.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
                assert root.find("devices/disk/source").get("file") == vol.path  # type: ignore[union-attr]
            finally:
                if clone is not None:
                    remove_domain(clone)
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remote.close()
