"""Run an external program (an argv list, never a shell string) as part of a job.

Locally or on the host of a `qemu+ssh` URI (`ssh.py`). stdout is streamed line by line to a
callback; the last lines of stderr are kept for the failure message. The program runs in its
own process group (`start_new_session=True`) so that:

- stop (`JobContext.stop`): SIGINT to the whole group; the program ends in its own way and its
  partial output stays (fio writes its report on SIGINT). The job returns normally.
- cancel (`JobContext.cancel`): SIGKILL to the whole group (children and grandchildren too), then
  the `cleanup` hook removes partial output; the job ends cancelled.

Remotely, the login shell sshd starts is a session and process group leader: the command is
`echo <marker> $$; exec <argv quoted with shlex.join>`, so the first line names the remote
process group, and stop / cancel signal that group through a second ssh call (a signal to the
local ssh would only drop the connection and leave the program running).

A program whose children leave the group (fio's job processes call setsid()) is started
`tagged(argv, tag)`: `env VIRTTUI_JOB_TAG=<tag> PROGRAM ...`, a unique tag in the environment
every child inherits (it changes neither the program's options nor its output). `kill_tagged(uri,
tag)` then SIGKILLs every process carrying it, on this machine or over ssh, with a constant script
that matches the environment entry exactly (`grep -zxF`, the tag a positional argument, never a
pattern or part of the script).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from virttui.core.jobs.errors import JobCancelled, JobError, ProcessFailed
from virttui.core.jobs.runner import JobContext
from virttui.core.jobs.ssh import SshTarget, elsewhere_without_ssh, ssh_target

STDERR_LINES = 10
PID_MARKER = "virttui-remote-pgid"
SIGNAL_TIMEOUT = 15.0
TAG_VARIABLE = "VIRTTUI_JOB_TAG"
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

# kill_tagged's script. $1 is the whole environment entry (VIRTTUI_JOB_TAG=<tag>); grep matches
# it as a fixed string against whole NUL-separated entries of /proc/PID/environ. A process
# that forks while we kill is caught by the next round; the script itself (and grep, sed) carry
# the tag in their argv only, never in their environment. Exit 0: none left, 1: still some.
KILL_TAGGED_SCRIPT = r"""
entry=$1
round=0
while :; do
  pids=$(grep -lzxF -e "$entry" /proc/[0-9]*/environ 2>/dev/null |
    sed -n 's|^/proc/\([0-9][0-9]*\)/environ$|\1|p')
  [ -n "$pids" ] || exit 0
  [ "$round" -lt 20 ] || exit 1
  kill -9 $pids 2>/dev/null
  round=$((round + 1))
  sleep 0.1
done
"""


@dataclass(frozen=True, slots=True)
class ProcessResult:
    returncode: int
    stopped: bool  # ended by stop(): the output so far is the result
    stderr_tail: tuple[str, ...]


def remote_command(argv: Sequence[str]) -> str:
    """The shell string run on the remote host: report the process group, then the program."""
    return f"echo {PID_MARKER} $$; exec {shlex.join(argv)}"


def build_argv(argv: Sequence[str], uri: str | None = None) -> tuple[list[str], SshTarget | None]:
    """The local argv to run `argv` where `uri`'s hypervisor lives (None or a local URI: here)."""
    if not argv:
        raise ValueError("empty command")
    target = ssh_target(uri) if uri else None
    if target is None:
        host = elsewhere_without_ssh(uri)
        if host is not None:
            raise JobError(
                f"{argv[0]} cannot run on {host}: programs run on another host only over ssh "
                f"(a qemu+ssh:// connection), and this one is {uri}"
            )
        return list(argv), None
    return target.argv(remote_command(argv)), target


def _check_tag(tag: str) -> None:
    if not tag or not set(tag) <= _TAG_CHARS:
        raise ValueError(f"not a job tag: {tag!r}")


def tagged(argv: Sequence[str], tag: str) -> list[str]:
    """`argv` run with `VIRTTUI_JOB_TAG=<tag>` in its environment (see `kill_tagged`)."""
    _check_tag(tag)
    return ["env", f"{TAG_VARIABLE}={tag}", *argv]


def kill_tagged(uri: str | None, tag: str, *, timeout: float = SIGNAL_TIMEOUT) -> bool:
    """SIGKILL every process whose environment holds `VIRTTUI_JOB_TAG=<tag>` where `uri`'s
    hypervisor lives (this machine, or over ssh). True when none is left. Blocking (an ssh call
    for a remote host): never raises."""
    _check_tag(tag)
    argv, _target = build_argv(["sh", "-c", KILL_TAGGED_SCRIPT, "sh", f"{TAG_VARIABLE}={tag}"], uri)
    try:
        proc = subprocess.run(  # noqa: S603 - an argv list; remotely quoted with shlex.join
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_remote(target: SshTarget, pgid: int, sig: int) -> None:
    name = signal.Signals(sig).name.removeprefix("SIG")
    subprocess.run(  # noqa: S603 - an argv list, the remote part quoted with shlex.join
        target.command(["kill", f"-{name}", "--", f"-{pgid}"]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=SIGNAL_TIMEOUT,
        check=False,
        start_new_session=True,
    )


def run_process(
    ctx: JobContext,
    argv: Sequence[str],
    *,
    uri: str | None = None,
    on_line: Callable[[str], None] | None = None,
    cleanup: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> ProcessResult:
    """Run `argv` to its end, streaming stdout lines to `on_line` (without the newline).

    Raises ProcessFailed on a non-zero exit (unless stopped), JobCancelled when cancelled (after
    the group is killed and `cleanup` ran)."""
    ctx.check()
    local_argv, target = build_argv(argv, uri)
    proc = subprocess.Popen(  # noqa: S603 - an argv list, never a shell
        local_argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
        cwd=cwd,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    tail: deque[str] = deque(maxlen=STDERR_LINES)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line.rstrip("\r\n"))

    err_thread = threading.Thread(target=read_stderr, name=f"stderr {argv[0]}", daemon=True)
    err_thread.start()
    remote_pgid: list[int] = []
    ended = threading.Event()

    def interrupt() -> None:
        if target is not None and remote_pgid:
            _signal_remote(target, remote_pgid[0], signal.SIGINT)
        else:
            _signal_group(proc.pid, signal.SIGINT)

    def kill() -> None:
        if target is not None and remote_pgid:
            _signal_remote(target, remote_pgid[0], signal.SIGKILL)
        _signal_group(proc.pid, signal.SIGKILL)

    def in_thread(fn: Callable[[], None]) -> Callable[[], None]:
        # Hooks run on the canceller's thread (maybe the UI's): a remote signal is an ssh call.
        return lambda: None if ended.is_set() else threading.Thread(target=fn, daemon=True).start()

    drop_stop = ctx.on_stop(in_thread(interrupt))
    drop_cancel = ctx.on_cancel(in_thread(kill))
    try:
        assert proc.stdout is not None
        first = target is not None
        for raw in proc.stdout:
            line = raw.rstrip("\r\n")
            if first:
                first = False
                word, _, pgid = line.partition(" ")
                if word == PID_MARKER and pgid.isdigit():
                    remote_pgid.append(int(pgid))
                    if ctx.cancelled:
                        kill()
                    elif ctx.stopping:
                        interrupt()
                    continue
            if on_line is not None and not ctx.cancelled:
                on_line(line)
        returncode = proc.wait()
        err_thread.join(5)
    finally:
        ended.set()
        drop_stop()
        drop_cancel()
        if proc.poll() is None:  # on_line raised: do not leave the program behind
            kill()
            proc.wait()
        if ctx.cancelled:
            _signal_group(proc.pid, signal.SIGKILL)  # a child that left the group's leader alive
    if ctx.cancelled:
        if cleanup is not None:
            cleanup()
        raise JobCancelled()
    if ctx.stopping:
        return ProcessResult(returncode, True, tuple(tail))
    if returncode != 0:
        raise ProcessFailed(argv, returncode, list(tail))
    return ProcessResult(returncode, False, tuple(tail))
