"""The remote guard's one look at a host (`RemoteHostView`), without ssh: its constant script run
here with `sh` answers like `HostView` does for this machine; what could not be read there
refuses with the reason; a cut or garbled answer is an error, never a partial view.
(The same guard tests through a real ssh: tests/integration/test_fio_guard_ssh.py.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from virttui.core.fio.guard import (
    REMOTE_SCRIPT,
    GuardError,
    HostView,
    RemoteHostView,
    _remote_fields,
    check_target,
)
from virttui.core.jobs import JobContext
from virttui.core.storage.used_by import StorageUsage

NOBODY = StorageUsage(())


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


def look_here(*paths: str) -> RemoteHostView:
    """The script run on this machine, its answer parsed as the remote view parses it."""
    proc = subprocess.run(
        ["sh", "-c", REMOTE_SCRIPT, "sh", *paths],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return RemoteHostView._parse("here", _remote_fields(proc.stdout.splitlines()))


def test_script_answers_like_this_machine(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(data)
    odd = tmp_path / "odd\nname\r"
    odd.write_bytes(b"")
    missing = tmp_path / "no" / "such"
    paths = [str(p) for p in (data, link, tmp_path, odd, missing)] + ["/dev/null"]
    view = look_here(*paths)
    here = HostView()
    for path in paths:
        st = view.stat(path)
        if not os.path.exists(path):
            assert st is None
            continue
        local = os.stat(path)
        assert st is not None
        assert (st.mode, st.dev, st.ino) == (local.st_mode, local.st_dev, local.st_ino), path
        assert view.resolve(path) == os.path.realpath(path)
    assert view.resolve(str(link)) == str(data)
    assert view.isdir(str(tmp_path)) and not view.isdir(str(data))
    assert view.stat("/dev/null").rdev == (1, 3)  # type: ignore[union-attr]
    # /proc: the root mount is the same one
    assert view.mount_of("/") == here.mount_of("/")
    assert view.swaps() == here.swaps()
    # /sys: every block device that both saw (loop devices come and go under other tests)
    compared = 0
    for name in sorted(view.devices):
        try:
            local_answer = (here.devnum(name), here.partitions(name), here.parent(name))
            local_answer += (here.holders(name), here.describe(name))
        except GuardError:
            continue
        answer = (view.devnum(name), view.partitions(name), view.parent(name))
        answer += (view.holders(name), view.describe(name))
        assert answer == local_answer, name
        assert view.block_name(view.devnum(name)) == name
        compared += 1
    assert compared > 0
    backing = view.loop_backing()
    assert {k: v for k, v in backing.items() if k in here.loop_backing()} == {
        k: v for k, v in here.loop_backing().items() if k in backing
    }
    # a path that was not looked at is an error, not a guess
    with pytest.raises(GuardError, match="was not looked at on here"):
        view.stat(str(tmp_path / "other"))


def _fields(**over: list[str]) -> list[str]:
    """A small answer: one disk sdd (8:48), no holders; `over` replaces whole records."""
    records = {
        "mountinfo": ["F", "mountinfo", "ok", "22 1 254:1 / / rw - ext4 /dev/vda1 rw"],
        "swaps": ["F", "swaps", "ok", "Filename Type Size Used Priority"],
        "classblock": ["F", "classblock", "ok", "sdd"],
        "sdd": [
            "B", "sdd", "ok", "/sys/devices/pci0000:00/block/sdd", "ok", "8:48", "0", "ok", "",
        ],
        "devnodes": ["D", "/dev/sdd", "8:30", "F", "devnodes", "ok", ""],
        "path": ["P", "/dev/sdd", "ok", "61b0 8 30 5 100", "ok", "/dev/sdd"],
    }  # fmt: skip
    records.update(over)
    return [f for record in records.values() for f in record] + ["E", "end"]


def device_check(fields: list[str]) -> tuple[str, tuple[str, ...]]:
    view = RemoteHostView._parse("far", fields)
    c = check_target(ctx(), "/dev/sdd", writes=True, usage=NOBODY, view=view, probe=lambda *_: [])
    return c.decision, c.reasons


def test_a_raw_remote_disk_needs_its_name_typed() -> None:
    assert device_check(_fields()) == (
        "confirm",
        ("a raw device (sdd) with no partition table, filesystem or user found",),
    )


@pytest.mark.parametrize(
    ("record", "replacement", "reason"),
    [
        (
            "swaps",
            ["F", "swaps", "err", "cat: /proc/swaps: Permission denied"],
            "could not read /proc/swaps on far: cat: /proc/swaps: Permission denied",
        ),
        (
            "mountinfo",
            ["F", "mountinfo", "err", "cat: /proc/self/mountinfo: No such file or directory"],
            "could not read /proc/self/mountinfo on far",
        ),
        (
            "classblock",
            ["F", "classblock", "err", "ls: cannot open directory '/sys/class/block'"],
            "could not read /sys/class/block on far",
        ),
        (
            "sdd",
            ["B", "sdd", "ok", "/sys/devices/x/sdd", "ok", "8:48", "0", "err", "ls: EIO"],
            "could not read /sys/class/block/sdd/holders on far: ls: EIO",
        ),
        (
            "path",
            ["P", "/dev/sdd", "err", "stat: cannot statx '/dev/sdd': Input/output error", "ok", ""],
            "could not read /dev/sdd on far: stat: cannot statx",
        ),
        ("sdd", [], "block device 8:48 is not in /sys/dev/block on far"),
        (
            "classblock",
            [
                "F",
                "classblock",
                "ok",
                "sdd sdx1",
                "B",
                "sdx1",
                "err",
                "realpath: EIO",
                "ok",
                "8:1",
                "1",
                "ok",
                "",
            ],
            "could not read /sys/class/block/sdx1 on far: realpath: EIO",
        ),
        (
            "sdd",
            ["B", "sdd", "ok", "/sys/devices/x/sdd", "err", "cat: EIO", "0", "ok", ""],
            "could not read /sys/class/block/sdd/dev on far: cat: EIO",
        ),
    ],
)
def test_what_cannot_be_read_there_refuses(
    record: str, replacement: list[str], reason: str
) -> None:
    decision, reasons = device_check(_fields(**{record: replacement}))
    assert decision == "refuse" and reason in reasons[0], reasons


def test_a_missing_path_is_a_new_file_under_an_existing_directory() -> None:
    fields = _fields(
        path=["P", "/srv/new", "err", "stat: cannot statx '/srv/new': No such file or directory",
              "ok", "/srv/new",
              "P", "/srv", "ok", "41ed 0 0 5 2", "ok", "/srv"],
    )  # fmt: skip
    view = RemoteHostView._parse("far", fields)
    c = check_target(ctx(), "/srv/new", writes=True, usage=NOBODY, view=view)
    assert (c.kind, c.decision) == ("new file", "ok"), c.reasons


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (["46 00 6d"], "cut short"),  # no final NUL
        (["zz"], "unreadable answer"),
        ([" 46 00"], "cut short"),
    ],
)
def test_a_cut_or_garbled_answer_is_an_error(lines: list[str], words: str) -> None:
    with pytest.raises(GuardError, match=words):
        RemoteHostView._parse("far", _remote_fields(lines))


def test_no_end_record_is_an_error() -> None:
    with pytest.raises(GuardError, match="cut short"):
        RemoteHostView._parse("far", _fields()[:-2])
    with pytest.raises(GuardError, match="unexpected record"):
        RemoteHostView._parse("far", ["X", *_fields()])
