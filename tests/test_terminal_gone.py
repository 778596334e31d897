"""The terminal goes away under a running virttui (ssh dropped, tmux killed): the app ends.

Each test starts virttui on a real pty the way a terminal emulator or sshd does (a new session
whose controlling terminal is the pty), waits until the domain list is drawn, closes the pty
master (the terminal is gone) and waits for every process of that session to end. Before the
fix, `make run` left virttui spinning on EOF from the hung-up terminal for ever, and a direct
start was killed by the SIGHUP instead of closing its consoles and connections.

The measured times are printed (`pytest -s`)."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyte
import pytest

from virttui.core.common.terminal_watch import EXIT_TERMINAL_GONE

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.prefix) / "bin"
VIRTTUI = VENV_BIN / "virttui"
URI = "test:///default"
DRAW_TIMEOUT = 180.0  # `make run` waits for libvirtd to answer; slow on a loaded machine
EXIT_TIMEOUT = 20.0
# Run argv[1:] with the pty (fd 0) as its controlling terminal, in the session Popen made.
TAKE_TTY = (
    "import fcntl, os, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


@dataclass
class Outcome:
    returncode: int | None  # of the process started (the session leader)
    exit_seconds: float | None  # from closing the terminal until the whole session is gone
    leftovers: list[str]  # processes of the session still alive after EXIT_TIMEOUT
    app_pids: list[int]  # virttui processes seen while it ran


def _session_processes(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session `sid`: pid -> command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            found[int(entry)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def list_drawn(text: str) -> bool:
    return "palette" in text and URI in text and "running" in text


@dataclass
class PtyControl:
    """What a test may do on the terminal before it goes away."""

    send: Callable[[bytes], None]
    wait_for: Callable[[Callable[[str], bool], str], None]  # (predicate on the screen, what)


def run_then_close_terminal(
    argv: list[str],
    *,
    controlling_tty: bool = True,
    suspend_first: bool = False,
    ready: Callable[[str], bool] = list_drawn,
    interact: Callable[[PtyControl], None] | None = None,
    label: str = "",
) -> Outcome:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("TEXTUAL", None)
    command = [sys.executable, "-c", TAKE_TTY, *argv] if controlling_tty else argv
    proc = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env=env,
        cwd=REPO,
    )
    os.close(slave)
    sid = proc.pid
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    master_open = True
    try:

        def wait_for(predicate: Callable[[str], bool], what: str) -> None:
            deadline = time.monotonic() + DRAW_TIMEOUT
            while time.monotonic() < deadline and proc.poll() is None:
                if select.select([master], [], [], 0.2)[0]:
                    try:
                        stream.feed(os.read(master, 65536))
                    except OSError:
                        break
                if predicate("\n".join(screen.display)):
                    return
            raise AssertionError(f"virttui did not show {what}:\n{chr(10).join(screen.display)}")

        wait_for(ready, "its list")
        if interact is not None:

            def send(data: bytes) -> None:
                os.write(master, data)

            interact(PtyControl(send, wait_for))
        if suspend_first:  # Ctrl+Z, then `fg`: application mode is stopped and started again
            os.kill(proc.pid, signal.SIGTSTP)
            deadline = time.monotonic() + EXIT_TIMEOUT
            while _state(proc.pid) != "T" and time.monotonic() < deadline:
                if select.select([master], [], [], 0.05)[0]:
                    os.read(master, 65536)
            assert _state(proc.pid) == "T", "virttui did not suspend"
            os.kill(proc.pid, signal.SIGCONT)
            # Back in application mode: it switches to the alternate screen again. (It repaints
            # only what changes, so the list itself need not be drawn again.)
            seen = b""
            deadline = time.monotonic() + DRAW_TIMEOUT
            while b"\x1b[?1049h" not in seen and time.monotonic() < deadline:
                if select.select([master], [], [], 0.2)[0]:
                    seen += os.read(master, 65536)
            assert b"\x1b[?1049h" in seen, "virttui did not resume"
        # Let it settle into polling, reading its output as a terminal would.
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            if select.select([master], [], [], 0.1)[0]:
                os.read(master, 65536)
        app_pids = [p for p, cmd in _session_processes(sid).items() if "virttui" in cmd]
        os.close(master)  # the terminal goes away
        master_open = False
        closed_at = time.monotonic()
        while time.monotonic() - closed_at < EXIT_TIMEOUT:
            if proc.poll() is not None and not _session_processes(sid):
                elapsed = time.monotonic() - closed_at
                print(f"\n{label}: everything ended {elapsed:.2f} s after the terminal closed")
                return Outcome(proc.returncode, elapsed, [], app_pids)
            time.sleep(0.05)
        leftovers = [
            f"{pid} {cmd} (cpu {_cpu_seconds(pid):.1f} s)"
            for pid, cmd in _session_processes(sid).items()
        ]
        print(
            f"\n{label}: still running {EXIT_TIMEOUT:.0f} s after the terminal closed: {leftovers}"
        )
        return Outcome(proc.poll(), None, leftovers, app_pids)
    finally:
        if master_open:
            os.close(master)
        for pid in _session_processes(sid):  # only processes this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


needs_entry_point = pytest.mark.skipif(
    not VIRTTUI.exists(), reason=f"needs the virttui entry point in {VENV_BIN} (pip install -e .)"
)


@needs_entry_point
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([str(VIRTTUI), "--connect", URI], id="entry-point"),
        pytest.param([sys.executable, "-m", "virttui", "--connect", URI], id="python-m"),
    ],
)
def test_started_directly_the_app_leaves_in_order(argv: list[str]) -> None:
    """The app gets SIGHUP itself: it must leave through its own exit (consoles and connections
    closed, status 129), not be killed by the signal (status -1)."""
    outcome = run_then_close_terminal(argv, label=f"direct ({Path(argv[0]).name})")
    assert outcome.exit_seconds is not None, outcome.leftovers
    assert outcome.returncode == EXIT_TERMINAL_GONE


@needs_entry_point
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_started_by_make_run_the_app_ends() -> None:
    """make gets the SIGHUP and waits for its child; only the app can end this."""
    argv = [
        "make",
        "--no-print-directory",
        "run",
        f"VENV={sys.prefix}",  # the venv running these tests: installed already
        f"ARGS=--connect {URI}",
        "-o",
        "venv",  # never reinstall packages in a test; deps/daemons stay (idempotent)
    ]
    outcome = run_then_close_terminal(argv, label="make run")
    assert outcome.app_pids, "virttui was not running under make"
    assert outcome.exit_seconds is not None, f"left behind: {outcome.leftovers}"


@needs_entry_point
@pytest.mark.parametrize(
    "script",
    [
        pytest.param('"$@"; echo "$?" > "$STATUS"', id="plain"),
        # A launcher that survives hang-ups (like nohup) passes SIG_IGN on to the app.
        pytest.param('trap "" HUP; "$@"; echo "$?" > "$STATUS"', id="ignores-sighup"),
    ],
)
def test_started_by_a_wrapper_script_the_app_ends(
    script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = tmp_path / "status"
    monkeypatch.setenv("STATUS", str(status))
    argv = ["sh", "-c", script, "sh", str(VIRTTUI), "--connect", URI]
    outcome = run_then_close_terminal(argv, label=f"sh -c wrapper ({script.split(';')[0]})")
    assert outcome.exit_seconds is not None, f"left behind: {outcome.leftovers}"
    if status.exists():  # the wrapper outlived the hang-up and saw how virttui ended
        assert status.read_text().strip() == str(EXIT_TERMINAL_GONE)
    else:
        assert outcome.returncode == -signal.SIGHUP  # the plain sh itself died of the SIGHUP


@needs_entry_point
def test_after_suspend_and_resume_the_app_still_leaves_in_order() -> None:
    """The watch and the SIGHUP handler are given back on suspend and taken again on resume."""
    outcome = run_then_close_terminal(
        [str(VIRTTUI), "--connect", URI], suspend_first=True, label="after suspend/resume"
    )
    assert outcome.exit_seconds is not None, f"left behind: {outcome.leftovers}"
    assert outcome.returncode == EXIT_TERMINAL_GONE


@needs_entry_point
def test_without_a_controlling_terminal_the_app_ends() -> None:
    """No SIGHUP at all (the pty is only its stdin/stdout/stderr): EOF/hang-up on input is the
    only sign, and must be enough."""
    outcome = run_then_close_terminal(
        [str(VIRTTUI), "--connect", URI], controlling_tty=False, label="no controlling tty"
    )
    assert outcome.exit_seconds is not None, f"left behind: {outcome.leftovers}"
    assert outcome.returncode == EXIT_TERMINAL_GONE
