"""An existing disk given by path that is a file on this machine, uploaded into a pool of a remote
host (issue 12 "Remote hosts"): the upload field `disks[N].source.path` (spec, validate, presets),
the local image probe (format kept; a backing file, encryption refused), where each upload will
land (volume paths for the summary), the notes, and the runner's checks on the test driver."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from virttui.core.create.domain_xml import CreateCaps, build_domain_xmls
from virttui.core.create.presets import PresetError, parse_preset, preset_text
from virttui.core.create.runner import host_problems, upload_problems
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Graphics,
    ImportInstall,
    LocalUpload,
    NewVolume,
    disk_upload_field,
    field_path,
    is_upload_field,
    upload_disk_index,
    with_disk_format,
    with_field_path,
)
from virttui.core.create.uploads import (
    UploadRefused,
    UploadTarget,
    disk_upload_problems,
    planned_spec,
    probe_disk_image,
    upload_targets,
    volume_path,
)
from virttui.core.create.virt_install import upload_notes, virt_install_line
from virttui.core.jobs import Job, JobContext, JobDone, JobMessage

MIB = 1 << 20


def _spec(path: str = "/home/me/old.qcow2", pool: str = "images", **kw: object) -> CreateSpec:
    args: dict[str, object] = {
        "name": "imp",
        "memory_bytes": 256 * MIB,
        "install": ImportInstall(),
        "disks": (Disk(ExistingPath(path)), Disk(ExistingPath("/srv/data.img"))),
        "graphics": Graphics("none"),
        "video": "none",
        "usb": "none",
        "uploads": (LocalUpload(disk_upload_field(0), pool),),
    }
    args.update(kw)
    return CreateSpec(**args)  # type: ignore[arg-type]


def _img(path: Path, fmt: str = "qcow2", size: str = "16M", *extra: str) -> Path:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", fmt, *extra, str(path), size], check=True
    )  # a test fixture, not product code
    return path


def _in_job(fn):  # type: ignore[no-untyped-def]
    box: list[JobMessage] = []
    Job(fn, box.append).run()
    return box[-1]


def test_disk_upload_field_names_the_disks_path() -> None:
    key = disk_upload_field(0)
    assert key == "disks[0].source.path"
    assert is_upload_field(key) and upload_disk_index(key) == 0
    assert upload_disk_index("disks[12].source.path") == 12
    assert not is_upload_field("disks[0].source.pool") and not is_upload_field("disks.0.path")
    spec = _spec()
    assert field_path(spec, key) == "/home/me/old.qcow2"
    assert field_path(spec, disk_upload_field(1)) == "/srv/data.img"
    assert field_path(spec, disk_upload_field(2)) is None  # no such disk
    moved = with_field_path(spec, key, "/var/lib/libvirt/images/old.qcow2")
    assert moved.disks[0].source == ExistingPath("/var/lib/libvirt/images/old.qcow2")
    assert moved.disks[1] == spec.disks[1]
    assert with_disk_format(moved, 0, "qcow2").disks[0].format == "qcow2"


def test_validate_disk_uploads() -> None:
    assert _spec().validate() == {}
    not_a_path = _spec(disks=(Disk(NewVolume("images", "x.qcow2", MIB)),))
    errors = not_a_path.validate()
    assert "only a disk given by its path" in errors["disks[0].source"]
    assert (
        "no disk 3"
        in _spec(uploads=(LocalUpload(disk_upload_field(2), "p"),)).validate()["uploads"]
    )
    relative = _spec("old.qcow2")
    assert relative.validate()["disks[0].source.path"] == "an absolute path is required"
    no_pool = _spec(pool=" ")
    assert no_pool.validate() == {
        "disks[0].source.path": "choose the pool the file is uploaded into"
    }
    vol = _spec(disks=(Disk(ExistingVolume("images", "v")),))
    assert "disks[0].source" in vol.validate()


def test_presets_round_trip_disk_uploads_and_refuse_unknown_fields() -> None:
    spec = _spec()
    text = preset_text(spec)
    assert '"disks[0].source.path"' in text
    assert parse_preset(text) == spec
    with pytest.raises(PresetError, match=r"uploads\[0\]\.field: 'disks\.0\.path'"):
        parse_preset(text.replace('"disks[0].source.path"', '"disks.0.path"'))


def test_volume_path_as_libvirt_names_it() -> None:
    assert volume_path("/var/lib/libvirt/images", "dir", "a.qcow2") == (
        "/var/lib/libvirt/images/a.qcow2"
    )
    assert volume_path("/var/lib/libvirt/images/", "dir", "a") == "/var/lib/libvirt/images/a"
    assert volume_path("/dev/vg0", "logical", "a") == "/dev/vg0/a"
    assert volume_path("/dev/zvol/tank", "zfs", "a") == "/dev/zvol/tank/a"
    assert volume_path("/dev/disk/by-path", "iscsi", "a") is None
    assert volume_path("", "dir", "a") is None


def test_planned_spec_names_the_volumes_in_xml_and_line() -> None:
    spec = _spec()
    targets = upload_targets(
        spec, {"images": "/pool/dir"}, {"images": "dir"}, {"/home/me/old.qcow2": "qcow2"}
    )
    assert targets == (
        UploadTarget(
            "disks[0].source.path",
            "/home/me/old.qcow2",
            "images",
            "old.qcow2",
            "/pool/dir/old.qcow2",
            "qcow2",
        ),
    )
    planned = planned_spec(spec, targets)
    assert planned.disks[0] == Disk(ExistingPath("/pool/dir/old.qcow2"), format="qcow2")
    caps = CreateCaps(emulator="/usr/bin/qemu-system-x86_64", machine="pc")
    xml = build_domain_xmls(planned, caps).final
    assert 'file="/pool/dir/old.qcow2"' in xml and 'type="qcow2"' in xml
    assert "/home/me" not in xml
    line = virt_install_line(planned, caps)
    assert "path=/pool/dir/old.qcow2,format=qcow2" in line
    notes = upload_notes(spec, remote=True, targets=targets)
    assert notes == [
        "disks[0].source.path: /home/me/old.qcow2 (a file on this machine) is uploaded first "
        "into pool 'images' as /pool/dir/old.qcow2, format qcow2"
    ]
    # a pool type whose volumes are named otherwise: the local path stays, the note says so
    other = upload_targets(spec, {"images": "/dev/disk/by-path"}, {"images": "iscsi"})
    assert other[0].path is None and planned_spec(spec, other) == spec
    assert (
        "would need the uploaded volume's path" in upload_notes(spec, remote=True, targets=other)[0]
    )


def test_probe_keeps_the_format_and_refuses_a_local_backing_file(tmp_path: Path) -> None:
    raw = _img(tmp_path / "plain.img", "raw")
    qcow = _img(tmp_path / "plain.qcow2")
    base = _img(tmp_path / "base.qcow2")
    top = _img(tmp_path / "top.qcow2", "qcow2", "16M", "-b", str(base), "-F", "qcow2")
    done = _in_job(lambda ctx: probe_disk_image(ctx, str(raw)))
    assert isinstance(done, JobDone) and done.result.format == "raw"
    done = _in_job(lambda ctx: probe_disk_image(ctx, str(qcow)))
    assert isinstance(done, JobDone) and done.result.format == "qcow2"
    assert done.result.virtual_size == 16 * MIB
    ctx = JobContext(1, lambda _m: None)
    with pytest.raises(UploadRefused, match="backing file") as info:
        probe_disk_image(ctx, str(top))
    assert str(base) in str(info.value) and "the host does not have" in str(info.value)
    # the spec-level check: field -> why, path -> format
    spec = _spec(
        str(top),
        disks=(Disk(ExistingPath(str(top))), Disk(ExistingPath(str(qcow)), format="raw")),
        uploads=(
            LocalUpload(disk_upload_field(0), "images"),
            LocalUpload(disk_upload_field(1), "images"),
        ),
    )
    problems, formats = disk_upload_problems(ctx, spec)
    assert set(problems) == {"disks[0].source.path", "disks[1].source.path"}
    assert "backing file" in problems["disks[0].source.path"]
    assert "is a qcow2 image (qemu-img info), not raw" in problems["disks[1].source.path"]
    assert formats == {}
    ok = _spec(str(qcow))
    assert disk_upload_problems(ctx, ok) == ({}, {str(qcow): "qcow2"})


@pytest.fixture
def test_conn() -> Iterator[libvirt.virConnect]:
    conn = libvirt.open("test:///default")
    try:
        yield conn
    finally:
        conn.close()


def test_runner_checks_disk_uploads(test_conn: libvirt.virConnect, tmp_path: Path) -> None:
    pool = str(test_conn.listAllStoragePools(0)[0].name())
    image = _img(tmp_path / "guest.qcow2")
    spec = _spec(str(image), pool, disks=(Disk(ExistingPath(str(image))),))
    assert upload_problems(test_conn, spec, local_files_host=False) == {}
    # a volume of the file's name in the pool: refused, never overwritten
    test_conn.storagePoolLookupByName(pool).createXML(
        "<volume><name>guest.qcow2</name><capacity>1</capacity></volume>", 0
    )
    errors = upload_problems(test_conn, spec, local_files_host=False)
    assert "already has a volume named 'guest.qcow2'" in errors["disks[0].source.path"]
    # a qcow2 on a backing file here: refused by the create's check, nothing made
    base = _img(tmp_path / "base.qcow2")
    top = _img(tmp_path / "top.qcow2", "qcow2", "16M", "-b", str(base), "-F", "qcow2")
    backed = _spec(str(top), pool, disks=(Disk(ExistingPath(str(top))),))
    ctx = JobContext(1, lambda _m: None)
    facts: Any = None  # host_problems does not read the facts
    errors = host_problems(
        ctx, test_conn, backed, facts, uri="test:///default", local_files_host=False
    )
    assert "backing file" in errors["disks[0].source.path"]
    # on a host that is this machine the path is used as it is: no probe, no refusal
    assert "disks[0].source.path" not in host_problems(
        ctx, test_conn, backed, facts, uri="test:///default", local_files_host=True
    )
    # not a regular file here
    folder = _spec(str(tmp_path), pool, disks=(Disk(ExistingPath(str(tmp_path))),))
    assert upload_problems(test_conn, folder, local_files_host=False) == {
        "disks[0].source.path": f"{tmp_path}: not a regular file on this machine"
    }
