"""`HostFacade.create_upload_plan` (existingup): where each local file of a create lands on the
host (the pool's target + the file's name) and what an uploaded disk image is; nothing on a host
that is this machine unless the wizard says the host is remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.core.facade.test_host_facade import ConnHost, facade, host  # noqa: F401 - fixtures
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    ExistingPath,
    ImportInstall,
    LocalUpload,
    disk_upload_field,
)
from virttui.core.create.uploads import UploadTarget
from virttui.core.facade.host import HostFacade

MIB = 1 << 20


def test_create_upload_plan(facade: HostFacade, tmp_path: Path) -> None:  # noqa: F811
    image = tmp_path / "old.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "8M"], check=True)
    base = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "8M"], check=True)
    top = tmp_path / "top.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)],
        check=True,
    )
    spec = CreateSpec(
        "imp",
        64 * MIB,
        install=ImportInstall(),
        disks=(Disk(ExistingPath(str(image))), Disk(ExistingPath(str(top)))),
        uploads=(
            LocalUpload(disk_upload_field(0), "default-pool"),
            LocalUpload(disk_upload_field(1), "default-pool"),
        ),
    )
    assert facade.create_upload_plan(spec).targets == ()  # the test node is this machine
    plan = facade.create_upload_plan(spec, remote=True)
    assert plan.targets[0] == UploadTarget(
        "disks[0].source.path",
        str(image),
        "default-pool",
        "old.qcow2",
        "/default-pool/old.qcow2",
        "qcow2",
    )
    assert plan.targets[1].path == "/default-pool/top.qcow2" and plan.targets[1].format is None
    assert set(plan.problems) == {"disks[1].source.path"}
    assert "backing file" in plan.problems["disks[1].source.path"]
