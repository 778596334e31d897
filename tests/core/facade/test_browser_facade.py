"""HostFacade's browser block on the test driver with real qemu-img: browse_files (rows as they
come, used by from the connection) and add_disk_new_file (a new image file attached by UUID)."""

from __future__ import annotations

import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import libvirt
import pytest

from tests.core.facade.test_host_facade import UUID, ConnHost, facade, host  # noqa: F401
from virttui.core.domain.action_result import DomainActionError
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext
from virttui.core.storage.files import FileRow, Listing


def test_browse_files(facade: HostFacade, host: ConnHost, tmp_path: Path) -> None:  # noqa: F811
    disk = tmp_path / "in use.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "4M"], check=True)
    (tmp_path / "spare.qcow2").write_bytes(disk.read_bytes())
    xml = f"""<domain type='test'><name>browse-user</name><memory>65536</memory><vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='{disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""
    host.conn.defineXML(xml)
    seen: list[FileRow] = []
    lock = threading.Lock()

    def on_rows(rows: Sequence[FileRow]) -> None:
        with lock:
            seen.extend(rows)

    listing = facade.browse_files(JobContext(0, lambda _m: None), str(tmp_path), on_rows=on_rows)
    assert isinstance(listing, Listing) and listing.usage_note == ""
    rows = {r.name: r for r in listing.rows}
    assert [u.name for u in rows["in use.qcow2"].users] == ["browse-user"]
    assert rows["spare.qcow2"].users == ()
    assert {r.status for r in listing.rows} == {"image"}
    assert {r.name for r in seen} == set(rows)


def test_add_disk_new_file(facade: HostFacade, host: ConnHost, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "new.img"
    applied, target, made = facade.add_disk_new_file(UUID, str(path), 1 << 20, fmt="raw")
    assert made == str(path) and path.stat().st_size == 1 << 20
    xml = host.conn.lookupByUUIDString(UUID).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    files = [s.get("file") for s in ET.fromstring(xml).iterfind("devices/disk/source")]
    assert str(path) in files and applied.config and target
    with pytest.raises(DomainActionError, match="exists"):
        facade.add_disk_new_file(UUID, str(path), 1 << 20, fmt="raw")
