"""Undefine with storage on qemu:///system never deletes what another domain or image uses.

Two defined domains share (a) a disk image, (b) an ISO as CD-ROM, (c) a qcow2 base that the
other's overlay is built on (`qemu-img create -b ... -F qcow2`), all in one pair. Storage lives in a transient dir
pool over a temporary directory (conftest `temp_pool`); every domain created is removed again.
One booted guest (module-scoped) runs on an overlay, for the live XML's <backingStore>.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import (
    SYSTEM_URI,
    defined_guest,
    open_system_conn,
    qcow2_volume,
    remove_domain,
    tiny_guest_xml,
    unique_name,
)
from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.undefine import storage_choices, undefine
from virttui.core.storage.used_by import used_by

PREFIX = "vt-usedby"
TEST_NODE = Path(__file__).parent.parent / "core" / "data" / "test_node.xml"


def disk_xml(path: str, target: str, *, device: str = "disk", fmt: str = "qcow2") -> str:
    bus, ro = ("sata", "<readonly/>") if device == "cdrom" else ("virtio", "")
    return (
        f"<disk type='file' device='{device}'><driver name='qemu' type='{fmt}'/>"
        f"<source file='{path}'/><target dev='{target}' bus='{bus}'/>{ro}</disk>"
    )


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True)


def pool_dir(pool: libvirt.virStoragePool) -> Path:
    return Path(ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or "")


def files(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in directory.iterdir()}


def inactive_xml(dom: libvirt.virDomain) -> str:
    return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def test_undefine_with_storage_never_deletes_what_the_other_domain_uses(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    """The victim shares (a) a disk image, (b) an ISO as CD-ROM and (c) a qcow2 base that the
    other's overlay is built on (one pair of domains: defines are slow on a busy daemon)."""
    here = pool_dir(temp_pool)
    own = qcow2_volume(temp_pool, "own.qcow2")
    shared = qcow2_volume(temp_pool, "shared.qcow2")  # (a)
    iso = str(here / "shared.iso")  # (b)
    Path(iso).write_bytes(b"\0" * 2048 * 16)
    base = str(here / "base.qcow2")  # (c)
    qemu_img("create", "-q", "-f", "qcow2", base, "64M")
    overlay = str(here / "overlay.qcow2")
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay)
    loose = str(here / "loose.qcow2")  # an image on the base that no domain uses
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", loose)
    victim_extra = (
        disk_xml(shared, "vdb")
        + disk_xml(base, "vdc")
        + disk_xml(iso, "sda", device="cdrom", fmt="raw")
    )
    other_extra = disk_xml(shared, "vdb") + disk_xml(iso, "sda", device="cdrom", fmt="raw")
    with (
        defined_guest(system_conn, own, PREFIX, victim_extra) as victim,
        defined_guest(system_conn, overlay, PREFIX, other_extra) as other,
    ):
        name, other_name = victim.name(), other.name()
        other_before = inactive_xml(other)
        rows = {c.path: c for c in storage_choices(victim)}
        assert set(rows) == {own, shared, base, iso}
        assert rows[own].tickable and rows[own].default_ticked and rows[own].used_text == ""
        for path, how, images in (
            (shared, "disk", set()),
            (iso, "CD-ROM", set()),
            (base, "backing chain", {overlay, loose}),  # both pool images are built on it
        ):
            row = rows[path]
            assert not row.tickable and not row.default_ticked, path
            assert row.used_text.startswith(f"used by {other_name}"), row.used_text
            assert [(u.name, u.how) for u in row.users if u.kind == "domain"] == [(other_name, how)]
            assert {u.name for u in row.users if u.kind == "image"} == images

        before = files(here)
        for asked in ([shared], [iso], [base], [own, shared]):
            with pytest.raises(DomainActionError, match=f"is used by {other_name} "):
                undefine(victim, delete_volumes=asked)
            assert files(here) == before  # nothing deleted, not even the own disk
            assert name in system_conn.listDefinedDomains()  # and not undefined

        result = undefine(victim, delete_volumes=[own])
        assert result.all_ok and [v.path for v in result.volumes] == [own]
        assert name not in system_conn.listDefinedDomains()
        del before["own.qcow2"]
        assert files(here) == before  # only the own, unshared disk went
        assert inactive_xml(other) == other_before
        temp_pool.refresh(0)
        assert "own.qcow2" not in temp_pool.listVolumes()


def test_a_domain_on_another_open_connection_counts(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    """The other user is on another connection (a test-driver host naming the same file)."""
    own = qcow2_volume(temp_pool, "own.qcow2")
    data = qcow2_volume(temp_pool, "data.qcow2")
    node = tmp_path / "node.xml"
    shutil.copy(TEST_NODE, node)
    other = libvirt.open(f"test://{node}")
    try:
        other.defineXML(
            "<domain type='test'><name>far</name><memory>1024</memory><os><type>hvm</type></os>"
            f"<devices>{disk_xml(data, 'vda')}</devices></domain>"
        )
        with defined_guest(system_conn, own, PREFIX, disk_xml(data, "vdb")) as victim:
            rows = {c.path: c for c in storage_choices(victim, [other])}
            assert rows[data].used_text == f"used by far on {other.getURI()}"
            assert storage_choices(victim)[1].tickable  # only that connection knows "far"
            with pytest.raises(DomainActionError, match="is used by far"):
                undefine(victim, delete_volumes=[own, data], others=[other])
            assert Path(own).exists() and Path(data).exists()
            result = undefine(victim, delete_volumes=[own], others=[other])
            assert result.all_ok and not Path(own).exists() and Path(data).exists()
    finally:
        other.close()


# ------------------------------------------------------------------ a running overlay guest
@pytest.fixture(scope="module")
def overlay_guest() -> Iterator[tuple[libvirt.virDomain, str, str]]:
    """A booted tiny guest whose disk is an overlay on a base image: (domain, base, overlay)."""
    conn = open_system_conn(SYSTEM_URI)
    here = Path(tempfile.mkdtemp(prefix="vt-usedby-", dir="/var/tmp"))
    here.chmod(0o755)
    base, overlay = str(here / "base.qcow2"), str(here / "overlay.qcow2")
    name = unique_name(PREFIX)
    dom = None
    try:
        qemu_img("create", "-q", "-f", "qcow2", base, "64M")
        qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay)
        dom = conn.defineXML(tiny_guest_xml(name, overlay, vnc=False, serial_log=None))
        dom.create()
        yield dom, base, overlay
    finally:
        if dom is not None:
            remove_domain(dom)
        shutil.rmtree(here, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            Path(f"/var/log/libvirt/qemu/{name}.log").unlink()
        conn.close()


def test_live_backing_chain_of_a_running_domain(
    overlay_guest: tuple[libvirt.virDomain, str, str],
    system_conn: libvirt.virConnect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dom, base, overlay = overlay_guest
    live = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/backingStore/source")
    assert live is not None and live.get("file") == base  # libvirt's own chain, live XML
    monkeypatch.setenv("PATH", "/nonexistent")  # no qemu-img: libvirt's XML alone must tell
    users = [u for u in used_by(base, [system_conn]) if u.kind == "domain"]
    assert [(u.name, u.how, u.via, u.running) for u in users] == [
        (dom.name(), "backing chain", overlay, True)
    ]
    (top,) = [u for u in used_by(overlay, [system_conn]) if u.kind == "domain"]
    assert (top.name, top.how, top.running) == (dom.name(), "disk", True)
    assert os.path.exists(base)
