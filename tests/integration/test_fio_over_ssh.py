"""run_fio on a `qemu+ssh` host (the throwaway sshd of test_qemu_ssh, this machine): the json+
stream comes back on fio's stdout, is parsed live and saved to the local output file; Stop over
ssh keeps the partial final report; Cancel over ssh leaves no fio process on the host (not even
fio's job processes, which left the remote process group with setsid). Temp files only."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.fio.intervals import Interval
from virttui.core.fio.run import FioRun, run_fio
from virttui.core.fio.stream import parse_stream
from virttui.core.jobs import TAG_VARIABLE, Job, JobDone, JobFailed, JobMessage, kill_tagged

pytestmark = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")


def argv(tmp_path: Path, seconds: int) -> list[str]:
    return [
        "fio",
        "--name=ssh",
        f"--filename={tmp_path / 'data.bin'}",
        "--size=4M",
        "--bs=4k",
        "--rw=randread",
        "--ioengine=psync",
        "--time_based",
        f"--runtime={seconds}",
    ]


def test_run_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "run.json"
    seen: list[Interval] = []
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    Job(
        lambda ctx: run_fio(ctx, argv(tmp_path, 3), out, seen.append, uri=uri), messages.append
    ).run()
    done = messages[-1]
    assert isinstance(done, JobDone), done
    run: FioRun = done.result
    assert run.complete and len(seen) >= 2 and run.report is not None
    docs, stream = parse_stream(out.read_bytes())  # the saved stream is the whole stream
    assert stream.problems == [] and docs[-1] == run.final


def test_stop_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "run.json"
    first = threading.Event()
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    job = Job(
        lambda ctx: run_fio(ctx, argv(tmp_path, 30), out, lambda _: first.set(), uri=uri),
        messages.append,
    )
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    assert first.wait(60)
    job.stop()
    thread.join(120)
    done = messages[-1]
    assert isinstance(done, JobDone), done
    assert done.result.stopped and done.result.report is not None
    assert 0 < done.result.report.jobs[0].directions["read"].runtime_ms < 30_000


def _fio_processes(data: Path) -> dict[int, tuple[int, bytes]]:
    """pid → (session id, the VIRTTUI_JOB_TAG entry of its environment) of every live fio whose
    argv names `data` (the test's own temp file: no other fio can)."""
    marker = f"--filename={data}".encode()
    found: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args and fields[0] != "Z":
            tag = next((e for e in environ if e.startswith(TAG_VARIABLE.encode() + b"=")), b"")
            found[int(entry.name)] = (int(fields[3]), tag)
    return found


def _wait(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_cancel_over_ssh_leaves_no_fio_process(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "run.json"
    data = tmp_path / "data.bin"
    first = threading.Event()
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    job = Job(
        lambda ctx: run_fio(ctx, argv(tmp_path, 30), out, lambda _: first.set(), uri=uri),
        messages.append,
    )
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    try:
        assert first.wait(60)
        running = _fio_processes(data)
        # fio and its job process, which left fio's session (setsid): what a signal to the
        # remote process group misses. Both carry this run's tag.
        assert len(running) >= 2, running
        assert len({sid for sid, _tag in running.values()}) >= 2, running
        tags = {tag for _sid, tag in running.values()}
        assert len(tags) == 1 and tags != {b""}, running
        job.cancel()
        thread.join(120)
        assert not thread.is_alive()
        done = messages[-1]
        assert isinstance(done, JobFailed) and done.cancelled, done
        # the cleanup ran in the job's thread: nothing is left once the job reports cancelled
        assert _fio_processes(data) == {}
        assert not _wait(lambda: _fio_processes(data) != {}, 2)  # and nothing comes back
        assert not out.exists()
    finally:
        for pid in _fio_processes(data):
            os.kill(pid, 9)


def test_kill_tagged_takes_the_tag_as_data(tmp_path: Path) -> None:
    """A tag is checked (no pattern, space or quote gets into the kill), and killing a tag that
    nobody carries succeeds with nothing to do."""
    for bad in ("a b", "x'; touch y", ".*", ""):
        try:
            kill_tagged(None, bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    assert kill_tagged(None, f"nobody-{os.getpid()}")


def test_fio_failing_over_ssh_is_named_fio(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    """fio runs as `env VIRTTUI_JOB_TAG=... fio ...` there: its failure still says fio."""
    out = tmp_path / "run.json"
    messages: list[JobMessage] = []
    bad = [*argv(tmp_path, 3), "--rw=bogus"]
    uri = local_sshd.uri()
    Job(lambda ctx: run_fio(ctx, bad, out, uri=uri), messages.append).run()
    failed = messages[-1]
    assert isinstance(failed, JobFailed) and not failed.cancelled, failed
    assert failed.message.startswith("fio: exit status"), failed.message
    assert not out.exists()
