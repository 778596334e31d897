"""`core.used_by` and the undefine guard on libvirt's test driver (private nodes, conftest.py),
with real image files and `qemu-img` where backing chains are about files."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.core.conftest import TEST_NODE
from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.undefine import storage_choices, undefine
from virttui.core.host.connection import HostConnection
from virttui.core.storage.used_by import (
    User,
    qemu_img_backing_chain,
    scan_usage,
    used_by,
    users_text,
)

needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


def _define(
    conn: libvirt.virConnect, name: str, disks: str, *, start: bool = False
) -> libvirt.virDomain:
    dom = conn.defineXML(
        f"""<domain type='test'><name>{name}</name><memory>1024</memory>
        <os><type>hvm</type></os><devices>{disks}</devices></domain>"""
    )
    if start:
        dom.create()
    return dom


def _file_disk(
    path: str | Path, target: str = "vda", *, device: str = "disk", fmt: str = ""
) -> str:
    driver = f"<driver name='qemu' type='{fmt}'/>" if fmt else ""
    ro = "<readonly/>" if device == "cdrom" else ""
    bus = "sata" if device == "cdrom" else "virtio"
    return (
        f"<disk type='file' device='{device}'>{driver}<source file='{path}'/>"
        f"<target dev='{target}' bus='{bus}'/>{ro}</disk>"
    )


def _qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def other_conn(tmp_path: Path) -> Iterator[libvirt.virConnect]:
    """A second private test-driver host (another open connection, with its own URI)."""
    node = tmp_path / "other-node.xml"
    shutil.copy(TEST_NODE, node)
    c = libvirt.open(f"test://{node}")
    yield c
    c.close()


def test_nobody_uses_an_unknown_path(conn: libvirt.virConnect) -> None:
    assert used_by("/nowhere/at/all.img", [conn]) == ()


def test_domain_disk_and_cdrom_users_with_state(conn: libvirt.virConnect) -> None:
    _define(
        conn,
        "idle",
        _file_disk("/guest/diskimage1") + _file_disk("/iso/a.iso", "sda", device="cdrom"),
    )
    users = used_by("/guest/diskimage1", [conn])
    assert {(u.kind, u.name, u.how, u.running) for u in users} == {
        ("domain", "test", "disk", True),
        ("domain", "idle", "disk", False),
    }
    (iso,) = used_by("/iso/a.iso", [conn])
    assert (iso.name, iso.how, iso.running) == ("idle", "CD-ROM", False)
    assert iso.describe() == "idle (CD-ROM, shut off)"


def test_exclude_domain_only_on_its_own_host(conn, other_conn) -> None:
    """The asking domain is no user of its own disks, also through another URI of its own host
    (both test-driver nodes report this machine's hostname, so its UUID there is itself)."""
    me = conn.lookupByName("test")
    assert used_by("/guest/diskimage1", [conn], exclude_domain=me) == ()
    # another connection to the same host: its copy of "test" is the same domain
    assert used_by("/guest/diskimage1", [conn, other_conn], exclude_domain=me) == ()


def test_host_connections_down_are_skipped_and_up_are_asked(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    shutil.copy(TEST_NODE, node)
    host = HostConnection(f"test://{node}", refresh=60.0, label="the other host")
    assert used_by("/guest/diskimage1", [host]) == ()  # not connected: nothing to learn
    host.start()
    try:
        deadline = time.monotonic() + 30
        while not host.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        (user,) = used_by("/guest/diskimage1", [host])
        assert (user.name, user.host, user.running) == ("test", "the other host", True)
    finally:
        host.stop()


def test_users_on_every_open_connection(conn, other_conn) -> None:
    _define(other_conn, "elsewhere", _file_disk("/shared/data.img"))
    mine = _define(conn, "mine", _file_disk("/shared/data.img"))
    assert used_by("/shared/data.img", [conn], exclude_domain=mine) == ()
    (user,) = used_by("/shared/data.img", [conn, other_conn], exclude_domain=mine)
    assert (user.name, user.host) == ("elsewhere", other_conn.getURI())
    assert users_text([user], conn.getURI()) == f"used by elsewhere on {other_conn.getURI()}"
    assert users_text([user], other_conn.getURI()) == "used by elsewhere"


def test_pool_volume_disks_are_resolved_to_their_path(conn: libvirt.virConnect) -> None:
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML("<volume><name>v.img</name><capacity>1048576</capacity></volume>")
    _define(
        conn,
        "byvol",
        "<disk type='volume' device='disk'><source pool='default-pool' volume='v.img'/>"
        "<target dev='vda' bus='virtio'/></disk>",
    )
    (user,) = used_by(vol.path(), [conn])
    assert (user.name, user.how) == ("byvol", "disk")


def test_image_built_on_it_in_a_pool(conn: libvirt.virConnect) -> None:
    pool = conn.storagePoolLookupByName("default-pool")
    base = pool.createXML(
        "<volume><name>base.qcow2</name><capacity>1048576</capacity>"
        "<target><format type='qcow2'/></target></volume>"
    ).path()
    overlay = pool.createXML(
        "<volume><name>top.qcow2</name><capacity>1048576</capacity>"
        "<target><format type='qcow2'/></target>"
        f"<backingStore><path>{base}</path><format type='qcow2'/></backingStore></volume>"
    ).path()
    assert used_by(base, [conn]) == (User("image", overlay, conn.getURI(), "backing file"),)
    assert used_by(overlay, [conn]) == ()


def test_backing_store_in_domain_xml(conn: libvirt.virConnect) -> None:
    disk = (
        "<disk type='file' device='disk'><source file='/img/top.qcow2'/>"
        "<backingStore type='file'><format type='qcow2'/><source file='/img/mid.qcow2'/>"
        "<backingStore type='file'><format type='qcow2'/><source file='/img/base.qcow2'/>"
        "<backingStore/></backingStore></backingStore>"
        "<target dev='vda' bus='virtio'/></disk>"
    )
    _define(conn, "chained", disk)
    for path in ("/img/mid.qcow2", "/img/base.qcow2"):
        (user,) = used_by(path, [conn])
        assert (user.name, user.how, user.via) == ("chained", "backing chain", "/img/top.qcow2")


def test_paths_compared_through_symlinks(conn: libvirt.virConnect, tmp_path: Path) -> None:
    real = tmp_path / "real.img"
    real.write_bytes(b"\0" * 512)
    link = tmp_path / "link.img"
    link.symlink_to(real)
    _define(conn, "vialink", _file_disk(link, fmt="raw"))
    _define(conn, "direct", _file_disk(real, fmt="raw"))
    both = ["direct", "vialink"]  # the driver lists domains in no fixed order
    assert sorted(u.name for u in used_by(str(real), [conn])) == both
    assert sorted(u.name for u in used_by(f"{tmp_path}/./real.img", [conn])) == both
    assert sorted(u.name for u in used_by(str(link), [conn])) == both
    # a path on another host is not resolved here, only normalised
    assert [u.name for u in used_by(str(link), [conn], local=False)] == ["vialink"]


@needs_qemu_img
def test_qemu_img_chain_of_a_domain_disk(
    conn: libvirt.virConnect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "base.qcow2"
    mid = tmp_path / "mid.qcow2"
    top = tmp_path / "top.qcow2"
    _qemu_img("create", "-q", "-f", "qcow2", str(base), "1M")
    _qemu_img("create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(mid))
    monkeypatch.chdir(tmp_path)  # a relative backing file name is resolved against its overlay
    _qemu_img("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", str(top))
    assert qemu_img_backing_chain(str(top), "qcow2") == [str(mid), str(base)]
    assert qemu_img_backing_chain(str(top), "raw") == []  # raw is never probed
    _define(conn, "overlaid", _file_disk(top, fmt="qcow2"))
    for path in (mid, base):
        (user,) = used_by(str(path), [conn])
        assert (user.name, user.how, user.via) == ("overlaid", "backing chain", str(top))


@needs_qemu_img
def test_qemu_img_chain_past_a_missing_base(tmp_path: Path) -> None:
    base, mid, top = (str(tmp_path / n) for n in ("base.qcow2", "mid.qcow2", "top.qcow2"))
    _qemu_img("create", "-q", "-f", "qcow2", base, "1M")
    _qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", mid)
    _qemu_img("create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", top)
    os.unlink(base)  # --backing-chain now fails: the layers are read one by one
    assert qemu_img_backing_chain(top) == [mid, base]


def test_scan_once_ask_many(conn: libvirt.virConnect) -> None:
    _define(conn, "two", _file_disk("/a.img") + _file_disk("/b.img", "vdb"))
    usage = scan_usage([conn])
    assert [u.name for u in usage.users_of("/a.img")] == ["two"]
    assert [u.name for u in usage.users_of("/b.img")] == ["two"]
    assert usage.users_of("/c.img") == ()


# ------------------------------------------------------------------------- undefine guard
def _pool_disks(conn: libvirt.virConnect, name: str) -> tuple[str, str]:
    pool = conn.storagePoolLookupByName("default-pool")
    own, shared = (
        pool.createXML(f"<volume><name>{n}</name><capacity>1048576</capacity></volume>").path()
        for n in (f"{name}.img", f"{name}-shared.img")
    )
    return own, shared


def test_undefine_checklist_marks_shared_storage(conn, other_conn) -> None:
    own, shared = _pool_disks(conn, "gone")
    dom = _define(
        conn,
        "gone",
        _file_disk(own)
        + _file_disk(shared, "vdb")
        + _file_disk("/iso/s.iso", "sda", device="cdrom"),
    )
    _define(conn, "keeper", _file_disk(shared))
    _define(other_conn, "faraway", _file_disk("/iso/s.iso", "sda", device="cdrom"))
    rows = {c.path: c for c in storage_choices(dom, [other_conn])}
    assert rows[own].tickable and rows[own].default_ticked and rows[own].used_text == ""
    assert not rows[shared].tickable and not rows[shared].default_ticked
    assert rows[shared].used_text == "used by keeper"
    assert rows["/iso/s.iso"].used_text == f"used by faraway on {other_conn.getURI()}"


def test_undefine_refuses_a_used_volume_and_does_nothing(conn: libvirt.virConnect) -> None:
    own, shared = _pool_disks(conn, "gone")
    dom = _define(conn, "gone", _file_disk(own) + _file_disk(shared, "vdb"))
    _define(conn, "keeper", _file_disk(shared))
    with pytest.raises(
        DomainActionError, match=r"-shared\.img is used by keeper \(disk, shut off\)"
    ):
        undefine(dom, delete_volumes=[own, shared])
    pool = conn.storagePoolLookupByName("default-pool")
    assert {"gone.img", "gone-shared.img"} <= set(pool.listVolumes())
    assert conn.lookupByName("gone").isPersistent()  # not undefined either
    result = undefine(dom, delete_volumes=[own])
    assert result.all_ok and [v.path for v in result.volumes] == [own]
    assert "gone.img" not in pool.listVolumes() and "gone-shared.img" in pool.listVolumes()


def test_when_users_cannot_be_read_nothing_is_deletable(conn: libvirt.virConnect) -> None:
    """Fail closed: a connection that errors (here: closed under us) leaves every row unticked
    and untickable, and undefine refuses, deleting nothing."""
    own, _shared = _pool_disks(conn, "gone")
    dom = _define(conn, "gone", _file_disk(own))
    broken = libvirt.open(f"test://{TEST_NODE}")
    broken.close()
    (row,) = storage_choices(dom, [broken])
    assert not row.tickable and not row.default_ticked
    assert row.used_text.startswith("cannot tell who else uses it: ")
    with pytest.raises(DomainActionError, match="cannot tell who else uses it"):
        undefine(dom, delete_volumes=[own], others=[broken])
    assert "gone.img" in conn.storagePoolLookupByName("default-pool").listVolumes()
    assert conn.lookupByName("gone").isPersistent()
