"""core.terminal_watch on real ptys: hang-up, signals from a handler, output errors, the watchdog."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from virttui.core.common.terminal_watch import EXIT_TERMINAL_GONE, GuardedOutput, TerminalWatch


class Recorder:
    def __init__(self) -> None:
        self.lost = threading.Event()
        self.reasons: list[str] = []
        self.exits: list[int] = []
        self.exited = threading.Event()

    def on_lost(self, reason: str) -> None:
        self.reasons.append(reason)
        self.lost.set()

    def exit_process(self, code: int) -> None:  # stands in for os._exit inside this test run
        self.exits.append(code)
        self.exited.set()


def test_closing_the_master_is_seen_and_pending_keys_are_not() -> None:
    master, slave = os.openpty()
    rec = Recorder()
    watch = TerminalWatch([slave], rec.on_lost, grace=0.2, exit_process=rec.exit_process)
    watch.start()
    try:
        os.write(master, b"typed but unread\n")  # input waiting on the slave is no hang-up
        assert not rec.lost.wait(0.5)
        assert os.read(slave, 100) == b"typed but unread\n"  # and the watch took none of it
        os.close(master)
        assert rec.lost.wait(10)
        assert rec.reasons == [f"the terminal hung up (fd {slave})"]
        assert rec.exited.wait(10)  # the watchdog, `grace` later
        assert rec.exits == [EXIT_TERMINAL_GONE]
    finally:
        os.close(slave)


def test_a_notified_hangup_is_reported_once() -> None:
    master, slave = os.openpty()
    rec = Recorder()
    watch = TerminalWatch([slave], rec.on_lost, grace=0.2, exit_process=rec.exit_process)
    watch.start()
    try:
        watch.notify(b"H")
        watch.notify(b"O")
        assert rec.lost.wait(10)
        assert rec.exited.wait(10)
        assert rec.reasons == ["hangup signal (SIGHUP)"]
        assert watch.lost_reason == "hangup signal (SIGHUP)"
    finally:
        os.close(master)
        os.close(slave)


def test_stop_before_any_loss_ends_the_watch_quietly() -> None:
    master, slave = os.openpty()
    rec = Recorder()
    watch = TerminalWatch([slave], rec.on_lost, grace=0.2, exit_process=rec.exit_process)
    watch.start()
    watch.stop()
    os.close(master)
    time.sleep(0.5)
    os.close(slave)
    assert rec.reasons == [] and rec.exits == []


def test_guarded_output_swallows_eio_from_a_closed_terminal_and_says_so_once() -> None:
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    errors: list[None] = []
    out = GuardedOutput(stream, lambda: errors.append(None))
    out.write("drawn\n")
    out.flush()
    assert os.read(master, 100).startswith(b"drawn")
    os.close(master)
    for _ in range(3):
        out.write("x" * 10000)
        out.flush()
    assert out.failed and len(errors) == 1
    try:
        stream.close()
    except OSError:
        pass


def test_the_watchdog_ends_a_process_whose_orderly_exit_stalls() -> None:
    """A real process: on_lost does nothing (an exit that hangs); os._exit ends it anyway."""
    code = (
        "import os, threading\n"
        "from virttui.core.common.terminal_watch import TerminalWatch\n"
        "TerminalWatch([0], lambda reason: None, grace=1.0).start()\n"
        "threading.Event().wait(120)\n"
    )
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, start_new_session=True)
    os.close(slave)
    try:
        time.sleep(1.0)  # let it start watching
        os.close(master)
        assert proc.wait(30) == EXIT_TERMINAL_GONE
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
