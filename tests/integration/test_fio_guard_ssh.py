"""The fio guard on a `qemu+ssh` host (the throwaway sshd of test_qemu_ssh, this machine).

The guard's device and file tests (tests/core/fio/test_guard_devices.py: blank, mounted ext4,
unmounted filesystem, LVM physical volume, dm holder, swap, partition tables, loop backing
file, a partition mounted; test_guard_fixtures.py: /proc, /dev/null, a relative path, an image
in use and its hard link) are imported here and run again with this module's `check` fixture:
the same cases, the same assertions, through ssh. The fixture also proves the remote path was
taken: every program the guard ran went over ssh (the one look at /proc, /sys and the paths,
then wipefs/blkid), and the look was exactly one round trip.

Plus: a hostile path stays one argument (nothing is created, the file is seen as it is), and
a running test domain's disk is refused through ssh like locally.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import libvirt
import pytest

import virttui.core.fio.guard as guard_module
from tests.core.fio.conftest import Check
from tests.core.fio.test_guard_devices import (  # noqa: F401 - the same tests, run over ssh
    loop,
    teardown,
    test_blank_loop_device_needs_its_name_typed,
    test_device_with_holders_is_refused,
    test_loop_backing_file_is_refused,
    test_lvm_physical_volume_is_refused,
    test_minimal_mbr_written_in_python_holds_data,
    test_mounted_ext4_is_refused,
    test_mounted_partition_refuses_the_whole_device,
    test_partition_table_only_holds_data,
    test_readonly_flag_lets_fio_read_and_stops_a_write,
    test_swap_is_refused,
    test_unmounted_filesystem_holds_data,
)
from tests.core.fio.test_guard_fixtures import (  # noqa: F401 - the same tests, run over ssh
    test_files_pseudo_filesystems_and_odd_targets,
    test_in_use_file_refused_for_writes_readonly_for_reads,
)
from tests.guestlib import running_guest
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.fio.guard import Verdict, check_targets, guard_jobfile
from virttui.core.fio.job import FioJob, JobFile
from virttui.core.jobs import JobContext, ProcessResult
from virttui.core.storage.used_by import StorageUsage, User, _Use, path_forms

HOSTILE = "a b'; touch x\n$(touch y)`touch z`\r"


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


class Spy:
    """Records every program the guard runs (argv, uri)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[list[str], str | None]] = []
        real = guard_module.run_process

        def spy(c: JobContext, argv: Sequence[str], **kw: Any) -> ProcessResult:
            self.calls.append((list(argv), kw.get("uri")))
            return real(c, argv, **kw)

        monkeypatch.setattr(guard_module, "run_process", spy)

    def take(self) -> list[tuple[list[str], str | None]]:
        calls, self.calls = self.calls, []
        return calls


def assert_over_ssh(calls: list[tuple[list[str], str | None]], uri: str) -> None:
    assert calls, "the guard ran nothing: it did not look at the host over ssh"
    assert all(u == uri for _argv, u in calls), calls
    looks = [argv for argv, _u in calls if argv[:2] == ["sh", "-c"]]
    assert len(looks) == 1, calls  # one ssh round trip for /proc, /sys and the paths
    assert looks[0][2:4] == [guard_module.REMOTE_SCRIPT, "sh"]  # paths: arguments only
    others = {argv[0] for argv, _u in calls if argv[:2] != ["sh", "-c"]}
    assert others <= {"wipefs", "blkid"}, calls


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


@pytest.fixture
def check(local_sshd: LocalSshd, spy: Spy) -> Iterator[Check]:  # noqa: F811
    """`check_targets` with the sshd's qemu+ssh URI (overrides tests/core/fio's fixture)."""
    uri = local_sshd.uri()

    def run(targets: Sequence[str], *, writes: bool, usage: StorageUsage, **kw: Any) -> Verdict:
        spy.take()
        verdict = check_targets(ctx(), targets, writes=writes, usage=usage, uri=uri, **kw)
        calls = spy.take()
        if targets:
            assert_over_ssh(calls, uri)
        return verdict

    yield run


def test_hostile_path_stays_one_argument(
    local_sshd: LocalSshd,  # noqa: F811
    spy: Spy,
    tmp_path: Path,
) -> None:
    uri = local_sshd.uri()
    work = tmp_path / "work"
    work.mkdir()
    target = work / HOSTILE
    target.write_bytes(b"")
    home = Path.home()
    before = {n: (home / n).exists() for n in "xyz"}
    nobody = StorageUsage(())
    v = check_targets(ctx(), [str(target)], writes=True, usage=nobody, uri=uri)
    assert v.decision == "ok", v.reasons
    assert [(c.path, c.kind) for c in v.checks] == [(str(target), "file")]
    assert_over_ssh(spy.take(), uri)
    # a new file with that name in a directory that has one too: seen as not there yet
    d = check_targets(
        ctx(), [str(work)], writes=True, usage=nobody, uri=uri, directory_files=[HOSTILE + "2"]
    )
    assert d.decision == "ok", d.reasons
    assert_over_ssh(spy.take(), uri)
    assert sorted(p.name for p in work.iterdir()) == [HOSTILE]  # nothing created
    assert {n: (home / n).exists() for n in "xyz"} == before
    # the brief's own example: `a b'; touch /tmp/x` (x made unique), a path of three parts here
    x = f"x-{uuid.uuid4().hex[:12]}"
    brief = work / f"a b'; touch /tmp/{x}"
    brief.parent.mkdir(parents=True)
    brief.write_bytes(b"")
    b = check_targets(ctx(), [str(brief)], writes=True, usage=nobody, uri=uri)
    assert [(c.path, c.kind, c.decision) for c in b.checks] == [(str(brief), "file", "ok")]
    assert_over_ssh(spy.take(), uri)
    assert not Path("/tmp", x).exists() and not (home / x).exists()
    # the same file is refused when in use: the answer is about this very path
    user = User("domain", "web", "h", "disk", running=True)
    used = StorageUsage((_Use(path_forms(str(target), False), user),))
    r = check_targets(ctx(), [str(target)], writes=True, usage=used, uri=uri)
    assert r.refused and "web (disk, running)" in r.reasons[0]


def test_job_file_is_one_round_trip(local_sshd: LocalSshd, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    uri = local_sshd.uri()
    jobs = (
        FioJob("a", filename=str(tmp_path / "a.bin"), rw="randwrite", size="1m"),
        FioJob("b", directory=str(tmp_path), rw="write", size="1m"),
        FioJob("c", filename="/proc/sysrq-trigger", rw="write", size="1m"),
    )
    v = guard_jobfile(ctx(), JobFile(jobs), usage=StorageUsage(()), uri=uri)
    assert_over_ssh(spy.take(), uri)
    assert [c.decision for c in v.checks] == ["ok", "ok", "refuse"], v.reasons
    assert "kernel filesystem proc" in v.reasons[0]


def test_running_domain_disk_is_refused_over_ssh(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    spy: Spy,
) -> None:
    uri = local_sshd.uri()
    with running_guest(system_conn, "vt-fioguard-ssh") as dom:
        source = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/source")
        assert source is not None
        disk = source.get("file", "")
        assert disk
        v = check_targets(ctx(), [disk], writes=True, connections=[system_conn], uri=uri)
        assert_over_ssh(spy.take(), uri)
        assert v.refused
        text = "\n".join(v.reasons)
        assert (
            f"{disk}: it is a disk of a domain or an image in use: {dom.name()} (disk, running)"
            in text
        )
        r = check_targets(ctx(), [disk], writes=False, connections=[system_conn], uri=uri)
        assert r.decision == "ok" and r.fio_args == ("--readonly",)
