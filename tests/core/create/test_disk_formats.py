"""core/create/disk_formats: which existing disks get the host's reading of their format."""

from __future__ import annotations

from virttui.core.create.disk_formats import open_format_disks, with_formats
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    LocalUpload,
    NewVolume,
)
from virttui.core.create.uploads import planned_spec


def _spec() -> CreateSpec:
    return CreateSpec(
        name="d",
        memory_bytes=1 << 28,
        disks=(
            Disk(ExistingPath("/img/a.qcow2")),
            Disk(ExistingPath("/img/b.img"), format="raw"),  # stated: kept
            Disk(ExistingVolume("pool", "c.qcow2")),
            Disk(ExistingPath("/iso/d.iso"), device="cdrom", bus="sata"),  # CD-ROM: raw
            Disk(NewVolume("pool", "e.qcow2", 1 << 20)),  # new: its own format
            Disk(ExistingPath("/here/f.qcow2")),  # uploaded: probed here
        ),
        uploads=(LocalUpload("disks[5].source.path", "pool"),),
    )


def test_open_format_disks() -> None:
    spec = _spec()
    assert open_format_disks(spec) == {0: "/img/a.qcow2", 2: None}
    assert open_format_disks(spec, uploaded_too=True) == {
        0: "/img/a.qcow2",
        2: None,
        5: "/here/f.qcow2",
    }


def test_formats_applied_only_where_open() -> None:
    spec = with_formats(_spec(), {0: "qcow2", 1: "qcow2", 2: "qcow2", 9: "raw"})
    assert [d.format for d in spec.disks] == ["qcow2", "raw", "qcow2", None, None, None]
    planned = planned_spec(_spec(), (), {0: "qcow2"})
    assert planned.disks[0].format == "qcow2"
    assert planned_spec(_spec(), ()) == _spec()
