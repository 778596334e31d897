"""The fio guard on recorded /proc and /sys trees (`root=`), and its rules that need no device.

MD: there is no mdadm on these machines (and this kernel has no device-mapper), so an MD array
and an LVM logical volume stacked on disks are tested with /sys trees recorded from a Debian 12
host (the layout below: sdb1 in the RAID1 md0 mounted on /srv; sdc held by the LVM volume
vg0-data). The loop-device tests (test_guard_devices.py) cover the rest on real devices.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.core.fio.conftest import Check
from virttui.core.fio.guard import (
    HostView,
    TargetCheck,
    Verdict,
    check_block_device,
    check_target,
    check_targets,
    parse_mountinfo,
    parse_swaps,
)
from virttui.core.jobs import JobContext
from virttui.core.storage.used_by import StorageUsage, User, _Use, path_forms

NOBODY = StorageUsage(())

# Recorded from a Debian 12 host (trimmed to what the guard reads). "->" is a symlink.
RECORDED_SYS = """
sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/dev = 8:16
sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/holders/
sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1/dev = 8:17
sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1/partition = 1
sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1/holders/md0 -> ../../../../../../../../../virtual/block/md0
sys/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdc/dev = 8:32
sys/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdc/holders/dm-0 -> ../../../../../../../../virtual/block/dm-0
sys/devices/pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0/block/sdd/dev = 8:48
sys/devices/pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0/block/sdd/holders/
sys/devices/virtual/block/md0/dev = 9:0
sys/devices/virtual/block/md0/md/level = raid1
sys/devices/virtual/block/md0/holders/
sys/devices/virtual/block/dm-0/dev = 254:0
sys/devices/virtual/block/dm-0/dm/name = vg0-data
sys/devices/virtual/block/dm-0/dm/uuid = LVM-Qm3cT5d8hXoAAfk0zF3qDdYz1S7p0wbLc2u3mhZ0Yl1n4o7q8r9s0t1u2v3w4x5y
sys/devices/virtual/block/dm-0/holders/
sys/class/block/sdb -> ../../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb
sys/class/block/sdb1 -> ../../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1
sys/class/block/sdc -> ../../devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdc
sys/class/block/sdd -> ../../devices/pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0/block/sdd
sys/class/block/md0 -> ../../devices/virtual/block/md0
sys/class/block/dm-0 -> ../../devices/virtual/block/dm-0
sys/block/sdb -> ../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb
sys/block/sdc -> ../devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdc
sys/block/sdd -> ../devices/pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0/block/sdd
sys/block/md0 -> ../devices/virtual/block/md0
sys/block/dm-0 -> ../devices/virtual/block/dm-0
sys/dev/block/8:16 -> ../../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb
sys/dev/block/8:17 -> ../../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb/sdb1
sys/dev/block/8:48 -> ../../devices/pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0/block/sdd
sys/dev/block/9:0 -> ../../devices/virtual/block/md0
sys/dev/block/254:0 -> ../../devices/virtual/block/dm-0
"""

MOUNTINFO = (
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw\n"
    "23 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
    "31 22 9:0 / /srv rw,relatime shared:20 - ext4 /dev/md0 rw\n"
    "32 22 8:48 / /mnt/my\\040disk rw,relatime shared:21 - xfs /dev/sdd rw\n"
    "33 22 254:0 / /data rw,relatime shared:22 - ext4 /dev/mapper/vg0-data rw\n"
)
SWAPS = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


def no_signature(_ctx: JobContext, _path: str) -> list[str]:
    return []


def build_root(tmp_path: Path, mountinfo: str = MOUNTINFO, swaps: str = SWAPS) -> HostView:
    root = tmp_path / "root"
    for line in RECORDED_SYS.strip().splitlines():
        if " -> " in line:
            rel, target = line.split(" -> ")
            link = root / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, link)
        elif " = " in line:
            rel, value = line.split(" = ")
            file = root / rel
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(value + "\n")
        else:
            (root / line).mkdir(parents=True, exist_ok=True)
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/mountinfo").write_text(mountinfo)
    (root / "proc/swaps").write_text(swaps)
    return HostView(str(root))


def device(view: HostView, name: str, *, writes: bool = True) -> TargetCheck:
    return check_block_device(
        ctx(), f"/dev/{name}", name, writes=writes, usage=NOBODY, view=view, probe=no_signature
    )


def test_md_member_disk_is_refused_through_its_partition(tmp_path: Path) -> None:
    view = build_root(tmp_path)
    check = device(view, "sdb")
    assert check.decision == "refuse"
    text = "\n".join(check.reasons)
    assert "its partition sdb1 is held by md0 (MD RAID raid1)" in text
    assert "md0 (MD RAID raid1) is mounted on /srv (ext4)" in text


def test_md_member_partition_is_refused(tmp_path: Path) -> None:
    check = device(build_root(tmp_path), "sdb1")
    assert check.decision == "refuse"
    assert any(r.startswith("it is held by md0 (MD RAID raid1)") for r in check.reasons)


def test_lvm_logical_volume_holder_is_named(tmp_path: Path) -> None:
    check = device(build_root(tmp_path), "sdc")
    assert check.decision == "refuse"
    assert "it is held by dm-0 (LVM logical volume vg0-data) (in use)" in check.reasons
    assert "dm-0 (LVM logical volume vg0-data) is mounted on /data (ext4)" in check.reasons


def test_mounted_whole_disk_with_escaped_mount_point(tmp_path: Path) -> None:
    check = device(build_root(tmp_path), "sdd")
    assert check.decision == "refuse"
    assert check.reasons == ("it is mounted on /mnt/my disk (xfs)",)


def test_swap_partition_from_proc_swaps(tmp_path: Path) -> None:
    swaps = SWAPS + "/dev/sdd                                partition\t1024\t0\t-2\n"
    check = device(
        build_root(tmp_path, mountinfo=MOUNTINFO.splitlines()[0] + "\n", swaps=swaps), "sdd"
    )
    assert check.reasons == ("it is in use as swap (/dev/sdd)",)


def test_free_disk_needs_confirmation_and_signature_refuses(tmp_path: Path) -> None:
    view = build_root(tmp_path, mountinfo=MOUNTINFO.splitlines()[0] + "\n")
    check = device(view, "sdd")
    assert check.decision == "confirm" and check.confirm_name == "/dev/sdd"
    found = check_block_device(
        ctx(), "/dev/sdd", "sdd", writes=True, usage=NOBODY, view=view,
        probe=lambda _c, _p: ["linux_raid_member"],
    )  # fmt: skip
    assert found.decision == "refuse"
    assert "MD RAID member (linux_raid_member)" in found.reasons[0]


def test_domain_disk_on_a_device_is_refused(tmp_path: Path) -> None:
    user = User("domain", "db\x1b[31m", "local", "disk", running=False)
    usage = StorageUsage((_Use(path_forms("/dev/sdd", False), user),))
    view = build_root(tmp_path, mountinfo=MOUNTINFO.splitlines()[0] + "\n")
    check = check_block_device(
        ctx(), "/dev/sdd", "sdd", writes=True, usage=usage, view=view, probe=no_signature
    )
    assert check.decision == "refuse"
    assert "db\x1b[31m (disk, shut off)" in check.reasons[0]


def test_any_error_while_checking_refuses(tmp_path: Path) -> None:
    view = build_root(tmp_path)
    os.remove(os.path.join(view.root, "proc/swaps"))
    check = device(view, "sdd")
    assert check.decision == "refuse"
    assert check.reasons == ("cannot check it: cannot read /proc/swaps: No such file or directory",)

    def broken(_c: JobContext, _p: str) -> list[str]:
        raise OSError("wipefs: cannot open /dev/sdd: Permission denied")

    view = build_root(tmp_path / "b", mountinfo=MOUNTINFO.splitlines()[0] + "\n")
    check = check_block_device(
        ctx(), "/dev/sdd", "sdd", writes=True, usage=NOBODY, view=view, probe=broken
    )
    assert check.decision == "refuse" and "Permission denied" in check.reasons[0]
    real = check_target(ctx(), "/no/such/dir/file", writes=True, usage=NOBODY)
    assert real.decision == "refuse" and "does not exist" in real.reasons[0]


def test_scan_failure_refuses_every_target(tmp_path: Path) -> None:
    class Broken:
        def getURI(self) -> str:  # noqa: N802 - libvirt's name
            raise RuntimeError("connection reset by peer")

    v = check_targets(ctx(), [str(tmp_path / "a")], writes=True, connections=[Broken()])  # type: ignore[list-item]
    assert v.refused and "connection reset by peer" in v.reasons[0]


def test_files_pseudo_filesystems_and_odd_targets(check: Check, tmp_path: Path) -> None:
    ok = check([str(tmp_path / "new.fio"), str(tmp_path)], writes=True, usage=NOBODY)
    assert ok.decision == "ok" and ok.fio_args == ()
    assert [c.kind for c in ok.checks] == ["new file", "directory"]
    for path, words in [
        ("/proc/sysrq-trigger", "kernel filesystem proc"),
        ("/dev/null", "not a regular file"),
        ("relative/file", "absolute path"),
    ]:
        v = check([path], writes=True, usage=NOBODY)
        assert v.refused and words in "\n".join(v.reasons), (path, v.reasons)
    assert check([], writes=True, usage=NOBODY).refused


def test_in_use_file_refused_for_writes_readonly_for_reads(check: Check, tmp_path: Path) -> None:
    image = tmp_path / "disk.qcow2"
    image.write_bytes(b"")
    user = User("domain", "web", "local", "disk", running=True)
    usage = StorageUsage((_Use(path_forms(str(image), True), user),))
    w = check([str(image)], writes=True, usage=usage)
    assert w.refused and "web (disk, running)" in w.reasons[0]
    r = check([str(image)], writes=False, usage=usage)
    assert r.decision == "ok" and r.fio_args == ("--readonly",)
    # The same file under another name (a hard link) is the same image.
    link = tmp_path / "alias.img"
    os.link(image, link)
    h = check([str(link)], writes=True, usage=usage)
    assert h.refused and "web (disk, running)" in h.reasons[0]
    os.unlink(link)
    # In a directory target: the files fio will make there are checked too.
    d = check([str(tmp_path)], writes=True, usage=usage, directory_files=["disk.qcow2"])
    assert d.refused and "disk.qcow2: it is a disk of a domain" in d.reasons[0]


def test_verdict_aggregates_and_typed_confirmation() -> None:
    checks = (
        TargetCheck("/a", "file", "ok"),
        TargetCheck("/dev/loop7", "device", "confirm", ("raw",), "/dev/loop7", True),
    )
    v = Verdict(True, checks)
    assert v.decision == "confirm" and v.confirm_names == ("/dev/loop7",)
    assert v.accepts(["/dev/loop7"]) and not v.accepts(["loop7"]) and not v.accepts([])
    assert v.fio_args == ()  # writes: no --readonly
    refused = Verdict(True, (*checks, TargetCheck("/b", "unknown", "refuse", ("x",))))
    assert refused.refused and not refused.accepts(["/dev/loop7"])
    assert refused.reasons == ("/dev/loop7: raw", "/b: x")


def test_parse_mountinfo_and_swaps() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert mounts[3].mount_point == "/mnt/my disk" and mounts[3].devnum == (8, 48)
    assert mounts[2].fstype == "ext4" and mounts[2].source == "/dev/md0"
    with pytest.raises(Exception, match="unreadable mountinfo"):
        parse_mountinfo("garbage line\n")
    assert parse_swaps(SWAPS + "/swap\\040file file 10 0 -2\n") == ["/swap file"]
