"""The fio guard on the real qemu:///system: a domain's disk is never a write target.

A test domain (defined, not started; unique name) gets a disk file in tmp_path and, when root
can attach one, a loop device as a second (block) disk; the guard, scanning the open
connection with the one `scan_usage`, refuses writes to both and names the domain. The domain
and the loop device are removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import create_qcow2, defined_guest
from virttui.core.fio.guard import check_targets
from virttui.core.jobs import JobContext


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


def test_domain_disk_file_is_refused_naming_the_domain(
    system_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    disk = create_qcow2(tmp_path / "fioguard-disk.qcow2", "16M")
    other = tmp_path / "fio-target.bin"
    with defined_guest(system_conn, str(disk), prefix="vt-fioguard") as dom:
        name = dom.name()
        v = check_targets(ctx(), [str(disk), str(other)], writes=True, connections=[system_conn])
        assert v.refused
        text = "\n".join(v.reasons)
        assert (
            f"{disk}: it is a disk of a domain or an image in use: {name} (disk, shut off)" in text
        )
        assert [c.decision for c in v.checks] == ["refuse", "ok"]
        # Reading the image is allowed, with fio's --readonly.
        r = check_targets(ctx(), [str(disk)], writes=False, connections=[system_conn])
        assert r.decision == "ok" and r.fio_args == ("--readonly",)


def test_domain_block_disk_is_refused_naming_the_domain(
    system_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("loop devices need root")
    disk = create_qcow2(tmp_path / "fioguard-boot.qcow2", "16M")
    backing = tmp_path / "fioguard-block.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    proc = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot attach a loop device here: {proc.stderr.strip()}")
    loop = proc.stdout.strip()
    assert loop.startswith("/dev/loop"), loop
    try:
        extra = (
            "<disk type='block' device='disk'><driver name='qemu' type='raw'/>"
            f"<source dev='{loop}'/><target dev='vdb' bus='virtio'/></disk>"
        )
        with defined_guest(
            system_conn, str(disk), prefix="vt-fioguard", extra_devices=extra
        ) as dom:
            v = check_targets(ctx(), [loop], writes=True, connections=[system_conn])
            assert v.refused
            assert f"{dom.name()} (disk, shut off)" in "\n".join(v.reasons)
    finally:
        with contextlib.suppress(OSError):
            subprocess.run(["losetup", "--detach", loop], capture_output=True, check=False)
