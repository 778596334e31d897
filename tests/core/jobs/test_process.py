"""External programs in a job: streamed lines, exit status, stop (SIGINT) and cancel (kill the
whole group, clean-up hook)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from virttui.core.jobs import (
    Job,
    JobContext,
    JobDone,
    JobFailed,
    JobMessage,
    ProcessResult,
    Severity,
    kill_tagged,
    run_process,
    start,
    tagged,
)

PY = sys.executable


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_lines_are_streamed_as_they_come(tmp_path: Path) -> None:
    """The program prints "two words" only once the callback has seen "one": without line by
    line streaming it would print "late" instead (after 60 s)."""
    seen: list[str] = []
    flag = tmp_path / "seen-one"

    def on_line(line: str) -> None:
        seen.append(line)
        if line == "one":
            flag.touch()

    script = (
        "import os, sys, time\n"
        "print('one', flush=True)\n"
        "deadline = time.monotonic() + 60\n"
        f"while not os.path.exists({str(flag)!r}) and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
        f"print('two words' if os.path.exists({str(flag)!r}) else 'late', flush=True)\n"
        "print('three\\r')\n"
    )
    messages: list[JobMessage] = []
    Job(lambda ctx: run_process(ctx, [PY, "-c", script], on_line=on_line), messages.append).run()
    assert seen == ["one", "two words", "three"]
    assert isinstance(messages[-1], JobDone)
    assert messages[-1].result == ProcessResult(0, False, ())


def test_non_zero_exit_fails_with_stderr_tail() -> None:
    script = (
        "import sys\n"
        "for i in range(30): print(f'err {i}', file=sys.stderr)\n"
        "print('out')\n"
        "sys.exit(3)\n"
    )
    seen: list[str] = []
    messages: list[JobMessage] = []
    Job(
        lambda ctx: run_process(ctx, [PY, "-c", script], on_line=seen.append), messages.append
    ).run()
    assert seen == ["out"]
    (failed,) = messages
    assert isinstance(failed, JobFailed) and failed.severity is Severity.ERROR
    lines = failed.message.splitlines()
    assert lines[0] == f"{PY}: exit status 3"
    assert lines[1:] == [f"err {i}" for i in range(20, 30)]  # the last lines only


def test_missing_program_fails() -> None:
    messages: list[JobMessage] = []
    Job(lambda ctx: run_process(ctx, ["/nonexistent/prog", "x"]), messages.append).run()
    assert isinstance(messages[0], JobFailed)
    assert "/nonexistent/prog" in messages[0].message


def test_arguments_are_not_a_shell_string(tmp_path: Path) -> None:
    hostile = "a b'; touch x"
    seen: list[str] = []
    Job(
        lambda ctx: run_process(
            ctx, ["printf", "%s\\n", hostile], on_line=seen.append, cwd=str(tmp_path)
        ),
        lambda m: None,
    ).run()
    assert seen == [hostile]
    assert not (tmp_path / "x").exists()


def test_stop_sends_sigint_and_keeps_partial_output(tmp_path: Path) -> None:
    """Like fio: on SIGINT the program writes its partial report and exits; the job is done."""
    out = tmp_path / "report.txt"
    script = (
        "import signal, sys, time\n"
        f"out = open({str(out)!r}, 'w')\n"
        "def stop(*_):\n"
        "    out.write('partial report\\n'); out.close(); print('stopped', flush=True); sys.exit(130)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('running', flush=True)\n"
        "while True: time.sleep(0.05)\n"
    )
    seen: list[str] = []
    messages: list[JobMessage] = []
    job = Job(
        lambda ctx: run_process(ctx, [PY, "-c", script], on_line=seen.append), messages.append
    )
    thread = start(job)
    assert wait_for(lambda: "running" in seen)
    job.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert seen == ["running", "stopped"]
    assert out.read_text() == "partial report\n"
    (done,) = messages
    assert isinstance(done, JobDone)
    assert done.result.stopped and done.result.returncode == 130


def test_cancel_kills_the_whole_group_and_cleans_up(tmp_path: Path) -> None:
    """A child that spawned a grandchild: both are gone, the partial file removed."""
    partial = tmp_path / "partial.img"
    script = (
        "import subprocess, sys, time\n"
        f"open({str(partial)!r}, 'w').write('half')\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(f'pids {child.pid}', flush=True)\n"
        "time.sleep(600)\n"
    )
    seen: list[str] = []
    cleaned: list[bool] = []

    def cleanup() -> None:
        cleaned.append(True)
        partial.unlink(missing_ok=True)

    pids: list[int] = []

    def on_line(line: str) -> None:
        seen.append(line)

    def fn(ctx: JobContext) -> ProcessResult:
        return run_process(ctx, [PY, "-c", script], on_line=on_line, cleanup=cleanup)

    messages: list[JobMessage] = []
    job = Job(fn, messages.append)
    thread = start(job)
    assert wait_for(lambda: any(s.startswith("pids ") for s in seen))
    grandchild = int(seen[0].split()[1])
    # The direct child: the grandchild's parent.
    child = int(Path(f"/proc/{grandchild}/stat").read_text().rsplit(")", 1)[1].split()[1])
    pids += [child, grandchild]
    assert partial.exists() and alive(child) and alive(grandchild)
    job.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert wait_for(lambda: not alive(grandchild))  # reparented to init: reaped there
    assert not alive(child)
    assert cleaned == [True] and not partial.exists()
    (failed,) = messages
    assert isinstance(failed, JobFailed) and failed.cancelled and failed.severity is Severity.INFO


def test_kill_tagged_reaches_children_that_left_the_group(tmp_path: Path) -> None:
    """A tagged program whose child calls setsid (as fio's job processes do): a kill of the
    group misses the child, kill_tagged does not; a process without the tag is left alone."""
    tag = f"test-{os.getpid()}-{time.monotonic_ns()}"
    pids = tmp_path / "pids"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "open(sys.argv[1], 'w').write(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(300)\n"
    )
    untagged = subprocess.Popen(["sleep", "300"])
    proc = subprocess.Popen(tagged([PY, "-c", script, str(pids)], tag), start_new_session=True)
    try:
        assert wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2)
        parent, child = map(int, pids.read_text().split())
        assert os.getsid(child) != os.getsid(parent)  # the child left the session
        assert kill_tagged(None, tag)
        proc.wait(30)
        assert wait_for(lambda: not alive(child))
        assert alive(untagged.pid)
        assert kill_tagged(None, tag)  # nothing left: still fine
    finally:
        untagged.kill()
        untagged.wait()
        proc.kill()
        proc.wait()
        if pids.exists():
            for pid in map(int, pids.read_text().split()):
                if alive(pid):
                    os.kill(pid, 9)
