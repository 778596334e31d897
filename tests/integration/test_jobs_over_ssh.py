"""The job mechanism's argv runner over a real ssh to this machine (the throwaway sshd of
test_qemu_ssh): one hostile argument arrives intact and no shell runs any part of it; stop and
cancel reach the remote process group."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobMessage, run_process, start

HOSTILE = "a b'; touch x"


def _wait(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_hostile_argument_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    uri = local_sshd.uri()
    work = tmp_path / "work"
    work.mkdir()
    seen: list[str] = []
    messages: list[JobMessage] = []
    # `cd` is the program here so the remote command runs in the temp dir; the hostile text is
    # one argument of printf (as `printf %s\\n 'a b'"'"'; touch x'` would pass it).
    argv = ["sh", "-c", 'cd "$1" && shift && exec printf "%s\\n" "$@"', "sh", str(work), HOSTILE]
    Job(lambda ctx: run_process(ctx, argv, uri=uri, on_line=seen.append), messages.append).run()
    assert isinstance(messages[-1], JobDone), messages
    assert seen == [HOSTILE]
    assert list(work.iterdir()) == []


def test_printf_over_ssh_exactly_as_briefed(local_sshd: LocalSshd) -> None:  # noqa: F811
    """`printf %s\\n 'a b'"'"'; touch x'` remotely: one argument, and no x in the remote
    login directory (the remote user is this user: its home)."""
    x = Path.home() / "x"
    existed = x.exists()
    seen: list[str] = []
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    Job(
        lambda ctx: run_process(ctx, ["printf", "%s\\n", HOSTILE], uri=uri, on_line=seen.append),
        messages.append,
    ).run()
    assert isinstance(messages[-1], JobDone), messages
    assert seen == [HOSTILE]
    assert x.exists() == existed


def test_non_zero_exit_over_ssh(local_sshd: LocalSshd) -> None:  # noqa: F811
    messages: list[JobMessage] = []
    argv = ["sh", "-c", "echo oops >&2; exit 4"]
    Job(lambda ctx: run_process(ctx, argv, uri=local_sshd.uri()), messages.append).run()
    (failed,) = messages
    assert isinstance(failed, JobFailed)
    lines = failed.message.splitlines()  # ssh's own warnings (known_hosts) may come first
    assert lines[0] == "sh: exit status 4" and lines[-1] == "oops"


def _marker() -> str:
    """A sleep duration no other process uses: it names the test's sleepers in /proc."""
    return f"600.{os.getpid()}{random.randrange(10**6):06d}"


def _remote_children(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cmdline.strip() == f"sleep {marker}" and state != "Z":
            pids.append(int(entry.name))
    return pids


def test_cancel_over_ssh_kills_the_remote_group(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    marker = _marker()
    partial = tmp_path / "partial"
    partial.write_text("half")
    # A child that starts a grandchild; both sleep with the marker in their argv.
    script = f"sleep {marker} & sleep {marker}; wait"
    argv = ["sh", "-c", f"echo started; exec sh -c '{script}'"]
    seen: list[str] = []
    messages: list[JobMessage] = []

    def fn(ctx: JobContext) -> object:
        return run_process(
            ctx, argv, uri=local_sshd.uri(), on_line=seen.append, cleanup=partial.unlink
        )

    job = Job(fn, messages.append)
    thread = start(job)
    try:
        assert _wait(lambda: seen == ["started"] and len(_remote_children(marker)) == 2)
        job.cancel()
        thread.join(60)
        assert not thread.is_alive()
        assert _wait(lambda: _remote_children(marker) == [])
        assert not partial.exists()
        (failed,) = messages
        assert isinstance(failed, JobFailed) and failed.cancelled
    finally:
        for pid in _remote_children(marker):
            os.kill(pid, 9)


def test_stop_over_ssh_interrupts_the_remote_program(local_sshd: LocalSshd) -> None:  # noqa: F811
    marker = _marker()
    argv = [
        "sh",
        "-c",
        f"trap 'kill $!; echo interrupted; exit 0' INT; echo ready; sleep {marker} & wait",
    ]
    seen: list[str] = []
    messages: list[JobMessage] = []
    job = Job(
        lambda ctx: run_process(ctx, argv, uri=local_sshd.uri(), on_line=seen.append),
        messages.append,
    )
    thread = start(job)
    try:
        assert _wait(lambda: "ready" in seen and len(_remote_children(marker)) == 1)
        job.stop()
        thread.join(60)
        assert not thread.is_alive()
        assert seen == ["ready", "interrupted"]
        (done,) = messages
        assert isinstance(done, JobDone) and done.result.stopped
    finally:
        for pid in _remote_children(marker):
            os.kill(pid, 9)
