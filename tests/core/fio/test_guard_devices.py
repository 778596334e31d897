"""The fio guard on REAL block devices: loop devices built from temp files (root needed).

Each test builds its layout (mounted ext4, LVM physical volume, device-mapper holder, swap,
partition table, blank device) on a fresh loop device in tmp_path and takes it all down
afterwards, also on failure. No real disk is ever touched: every device here is a loop device
this test attached itself. MD is not here: there is no mdadm on these machines, so it is tested
with a recorded /sys tree in test_guard_fixtures.py.

The guard is called through the `check` fixture (conftest.py): here on this machine;
tests/integration/test_fio_guard_ssh.py runs these same tests with a `qemu+ssh` URI.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.core.fio.conftest import Check
from virttui.core.storage.used_by import StorageUsage, User, _Use

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices need root")

NOBODY = StorageUsage(())
DM_ENV = {**os.environ, "DM_DISABLE_UDEV": "1"}


def run(*argv: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv}: {proc.returncode} {proc.stderr.strip()}")
    return proc.stdout


class Teardown:
    """Clean-up steps run last-in first-out; each one runs even if another failed."""

    def __init__(self) -> None:
        self.steps: list[Callable[[], object]] = []

    def add(self, fn: Callable[[], object]) -> None:
        self.steps.append(fn)

    def run(self) -> None:
        while self.steps:
            step = self.steps.pop()
            with contextlib.suppress(Exception):
                step()


@pytest.fixture
def teardown() -> Iterator[Teardown]:
    t = Teardown()
    try:
        yield t
    finally:
        t.run()


@pytest.fixture
def loop(tmp_path: Path, teardown: Teardown) -> str:
    """A fresh loop device over a 64 MiB sparse temp file (detached afterwards)."""
    if shutil.which("losetup") is None:
        pytest.skip("losetup is not installed")
    backing = tmp_path / f"guard-{uuid.uuid4().hex[:8]}.img"
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    try:
        device = run("losetup", "--find", "--show", str(backing)).strip()
    except RuntimeError as exc:
        pytest.skip(f"cannot attach a loop device here: {exc}")
    assert device.startswith("/dev/loop"), device  # never anything but our loop device
    teardown.add(lambda: run("losetup", "--detach", device))
    return device


def verdict_for(check: Check, device: str, *, writes: bool = True) -> tuple[str, str]:
    v = check([device], writes=writes, usage=NOBODY)
    return v.decision, "\n".join(v.reasons)


def test_blank_loop_device_needs_its_name_typed(check: Check, loop: str) -> None:
    v = check([loop], writes=True, usage=NOBODY)
    assert v.decision == "confirm", v.reasons
    assert v.confirm_names == (loop,)
    assert not v.accepts([]) and not v.accepts(["/dev/sda"]) and v.accepts([loop])
    # Reading it is fine, with fio's --readonly.
    r = check([loop], writes=False, usage=NOBODY)
    assert r.decision == "ok" and r.fio_args == ("--readonly",)


def test_mounted_ext4_is_refused(
    check: Check, loop: str, tmp_path: Path, teardown: Teardown
) -> None:
    run("mkfs.ext4", "-q", "-F", loop)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    run("mount", loop, str(mnt))
    teardown.add(lambda: run("umount", "-l", str(mnt)))
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert f"mounted on {mnt}" in reasons and "ext4" in reasons
    # Reading a mounted device is not refused, but runs --readonly.
    r = check([loop], writes=False, usage=NOBODY)
    assert r.decision == "ok" and r.readonly
    # A file inside the mounted filesystem is the normal case: fine.
    inside = check([str(mnt / "fio.test")], writes=True, usage=NOBODY)
    assert inside.decision == "ok", inside.reasons
    assert inside.fio_args == ()


def test_unmounted_filesystem_holds_data(check: Check, loop: str) -> None:
    run("mkfs.ext4", "-q", "-F", loop)
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse" and "holds data" in reasons and "ext4" in reasons


def test_lvm_physical_volume_is_refused(check: Check, loop: str, teardown: Teardown) -> None:
    if shutil.which("pvcreate") is None:
        pytest.skip("lvm2 is not installed (Makefile APT_PACKAGES has it)")
    cfg = "devices { use_devicesfile = 0 } activation { udev_sync = 0 udev_rules = 0 }"
    try:
        run("pvcreate", "--config", cfg, "-y", "-ff", loop, env=DM_ENV)
    except RuntimeError as exc:
        pytest.skip(f"pvcreate does not work here: {exc}")
    teardown.add(lambda: run("pvremove", "--config", cfg, "-y", "-ff", loop, env=DM_ENV))
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert "LVM physical volume" in reasons, reasons


def test_device_with_holders_is_refused(check: Check, loop: str, teardown: Teardown) -> None:
    if shutil.which("dmsetup") is None:
        pytest.skip("dmsetup is not installed")
    name = f"vt-fioguard-{uuid.uuid4().hex[:8]}"
    sectors = int(run("blockdev", "--getsz", loop).strip())
    try:
        run(
            "dmsetup", "create", name, "--noudevsync", "--table",
            f"0 {sectors} linear {loop} 0", env=DM_ENV,
        )  # fmt: skip
    except RuntimeError as exc:
        pytest.skip(
            f"the kernel has no usable device-mapper here (holders are also tested with a "
            f"recorded /sys tree in test_guard_fixtures.py): {exc}"
        )
    teardown.add(lambda: run("dmsetup", "remove", "--noudevsync", name, env=DM_ENV))
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert "held by dm-" in reasons and f"device-mapper {name}" in reasons, reasons
    # Reading stays possible, read-only.
    assert check([loop], writes=False, usage=NOBODY).fio_args == ("--readonly",)


def test_swap_is_refused(check: Check, loop: str, teardown: Teardown) -> None:
    run("mkswap", loop)
    try:
        run("swapon", loop)
    except RuntimeError as exc:
        pytest.skip(f"the kernel does not allow swapon here: {exc}")
    teardown.add(lambda: run("swapoff", loop))
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert "in use as swap" in reasons, reasons


def test_partition_table_only_holds_data(check: Check, loop: str) -> None:
    if shutil.which("sfdisk") is None:
        pytest.skip("sfdisk is not installed (package fdisk, in the Makefile)")
    subprocess.run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", loop],
        input="label: gpt\n,16M\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert "holds data" in reasons and "GPT partition table" in reasons, reasons


def test_minimal_mbr_written_in_python_holds_data(check: Check, loop: str) -> None:
    sector = bytearray(512)
    # One partition entry (type 0x83, from LBA 2048, 8192 sectors) and the 0x55AA signature.
    entry = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little")
    entry += (8192).to_bytes(4, "little")
    sector[446:462] = entry
    sector[510:512] = b"\x55\xaa"
    fd = os.open(loop, os.O_WRONLY)
    try:
        os.write(fd, bytes(sector))
        os.fsync(fd)
    finally:
        os.close(fd)
    decision, reasons = verdict_for(check, loop)
    assert decision == "refuse"
    assert "MBR (dos) partition table" in reasons, reasons


def test_loop_backing_file_is_refused(check: Check, loop: str) -> None:
    backing = run("losetup", "--noheadings", "--output", "BACK-FILE", loop).strip()
    v = check([backing], writes=True, usage=NOBODY)
    assert v.decision == "refuse"
    assert f"backs the loop device {os.path.basename(loop)}" in "\n".join(v.reasons)


@pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")
def test_readonly_flag_lets_fio_read_and_stops_a_write(check: Check, loop: str) -> None:
    v = check([loop], writes=False, usage=NOBODY)
    assert v.fio_args == ("--readonly",)
    common = [f"--filename={loop}", "--bs=4k", "--size=4m", "--runtime=1", "--time_based"]
    common += ["--output-format=json"]
    read = subprocess.run(
        ["fio", *v.fio_args, "--name=r", "--rw=randread", *common],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    write = subprocess.run(
        ["fio", *v.fio_args, "--name=w", "--rw=randwrite", *common],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert write.returncode != 0
    with open(loop, "rb") as f:
        assert f.read(4 << 20) == bytes(4 << 20)  # nothing was written


def test_mounted_partition_refuses_the_whole_device(
    check: Check, tmp_path: Path, teardown: Teardown
) -> None:
    if shutil.which("sfdisk") is None:
        pytest.skip("sfdisk is not installed (package fdisk, in the Makefile)")
    backing = tmp_path / "parts.img"
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    try:
        device = run("losetup", "--find", "--show", "--partscan", str(backing)).strip()
    except RuntimeError as exc:
        pytest.skip(f"cannot attach a loop device here: {exc}")
    assert device.startswith("/dev/loop"), device
    teardown.add(lambda: run("losetup", "--detach", device))
    subprocess.run(
        ["sfdisk", "-q", device], input="label: gpt\n,16M\n", capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    for argv in (["blockdev", "--rereadpt", device], ["partx", "--add", device]):
        with contextlib.suppress(RuntimeError):  # no udev here: ask the kernel directly
            run(*argv)
    part = f"{device}p1"
    if not os.path.exists(part):
        pytest.skip(f"the kernel made no partition device {part} here")
    run("mkfs.ext4", "-q", "-F", part)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    run("mount", part, str(mnt))
    teardown.add(lambda: run("umount", "-l", str(mnt)))
    decision, reasons = verdict_for(check, device)
    name = os.path.basename(part)
    assert decision == "refuse"
    assert f"its partition {name} is mounted on {mnt} (ext4)" in reasons, reasons
    decision, reasons = verdict_for(check, part)
    assert decision == "refuse" and f"it is mounted on {mnt}" in reasons
    # a domain using the partition by another name (a symlink) is found by device number
    alias = tmp_path / "by-id-alias"
    os.symlink(part, alias)
    usage = StorageUsage((_Use(frozenset({str(alias)}), User("domain", "db", "h", "disk")),))
    v = check([device], writes=True, usage=usage)
    assert f"its partition {name} is a disk of a domain: db (disk, shut off)" in v.reasons[-2:][
        0
    ] or any(
        f"its partition {name} is a disk of a domain: db (disk, shut off)" in r for r in v.reasons
    )
