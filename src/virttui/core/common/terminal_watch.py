"""Noticing that the terminal went away (ssh dropped, tmux killed, terminal window closed).

A full-screen app whose terminal is gone must end: nobody can see it or press `q`. Who gets told
depends on how it was started. Started directly from the login shell, the app is in the
terminal's foreground process group and gets SIGHUP. Started by `make run` (or any parent that
waits for its child while handling SIGHUP itself), only the parent gets SIGHUP, and it waits for
the app; the app's reads from the hung-up terminal then return EOF at once, forever (Textual's
input thread spins on that). Writes fail with EIO.

`TerminalWatch` covers all of it on one daemon thread that costs nothing while the terminal is
fine: it blocks in poll() on the terminal's file descriptors (POLLHUP/POLLERR arrive without
being asked for and without consuming input) and on a self-pipe that a SIGHUP handler or a
failed write pokes (`notify`, async-signal-safe). On the first sign it calls `on_lost(reason)`
once, then becomes a watchdog: if the process is still alive `grace` seconds later (the orderly
shutdown stalled), it ends it with `os._exit(exit_code)`.

`GuardedOutput` wraps the text stream the UI writes to: EIO/EPIPE/ENXIO on write or flush
become a `notify` and later output is dropped, so a writer thread never dies and nothing
blocks behind it.

No Textual here; the driver in `virttui.terminal_driver` wires it in.
"""

from __future__ import annotations

import errno
import os
import select
import stat
import threading
from collections.abc import Callable, Iterable
from typing import IO

# The errors a write or read gets once the terminal is gone (EIO: hung-up tty or closed pty
# master; EPIPE: a pipe with no reader; ENXIO: a tty whose device went away; EBADF: closed fd).
TERMINAL_GONE_ERRNOS = frozenset({errno.EIO, errno.EPIPE, errno.ENXIO, errno.EBADF})
# The shell's convention for "ended by a hangup" (128 + SIGHUP).
EXIT_TERMINAL_GONE = 129
DEFAULT_GRACE_SECONDS = 5.0

_STOP = b"S"
REASONS = {
    b"H": "hangup signal (SIGHUP)",
    b"I": "end of input from the terminal",
    b"O": "the terminal refused output",
}


class TerminalWatch:
    def __init__(
        self,
        fds: Iterable[int],
        on_lost: Callable[[str], None],
        *,
        grace: float = DEFAULT_GRACE_SECONDS,
        exit_code: int = EXIT_TERMINAL_GONE,
        exit_process: Callable[[int], None] = os._exit,
    ) -> None:
        self.fds = sorted(set(fds))
        self.on_lost = on_lost
        self.grace = grace
        self.exit_code = exit_code
        self._exit_process = exit_process
        self.lost_reason: str | None = None
        self._read_end, self._write_end = os.pipe()
        os.set_blocking(self._write_end, False)
        self._thread = threading.Thread(
            target=self._run, name="virttui-terminal-watch", daemon=True
        )
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    @property
    def lost(self) -> bool:
        return self.lost_reason is not None

    def notify(self, code: bytes) -> None:
        """Report a sign of a lost terminal (b"H", b"I" or b"O"). Safe from a signal handler and
        from any thread: one non-blocking write to a pipe."""
        try:
            os.write(self._write_end, code[:1])
        except OSError:
            pass  # the pipe is full (it has been told already) or closed (stopped)

    def stop(self) -> None:
        """The terminal is being given back in good order (quit, suspend): stop watching. Once the
        terminal is lost this does nothing: the watchdog stays armed until the process ends."""
        if not self._started or self.lost:
            return
        self.notify(_STOP)
        self._thread.join(timeout=2.0)
        if not self._thread.is_alive():
            for fd in (self._read_end, self._write_end):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _run(self) -> None:
        poller = select.poll()
        # Event mask 0: poll() still reports POLLHUP/POLLERR/POLLNVAL, and never POLLIN, so
        # the watch neither spins on pending keystrokes nor takes them from the UI.
        for fd in self.fds:
            poller.register(fd, 0)
        poller.register(self._read_end, select.POLLIN)
        reason: str | None = None
        while reason is None:
            try:
                ready = poller.poll()
            except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
                continue
            for fd, _mask in ready:
                if fd == self._read_end:
                    code = os.read(self._read_end, 1)
                    if code == _STOP:
                        return
                    reason = REASONS.get(code, "terminal lost")
                    break
                reason = f"the terminal hung up (fd {fd})"
        self.lost_reason = reason
        try:
            self.on_lost(reason)
        finally:
            # Watchdog: the orderly exit (consoles and connections closed) normally ends the
            # process well before this; a daemon thread dies with it.
            threading.Event().wait(self.grace)
            self._exit_process(self.exit_code)


class GuardedOutput:
    """A text stream whose writes to a vanished terminal are dropped instead of raising."""

    def __init__(self, stream: IO[str], on_error: Callable[[], None]) -> None:
        self._stream = stream
        self._on_error = on_error
        self.failed = False

    def _fail(self, exc: OSError) -> None:
        if exc.errno not in TERMINAL_GONE_ERRNOS:
            raise exc
        if not self.failed:
            self.failed = True
            self._on_error()

    def write(self, text: str) -> int:
        if self.failed:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._fail(exc)
            return len(text)

    def flush(self) -> None:
        if self.failed:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            self._fail(exc)

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def is_watchable(fd: int) -> bool:
    """A terminal (or a pipe) whose far end can go away; not /dev/null or a regular file."""
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return (stat.S_ISCHR(st.st_mode) and os.isatty(fd)) or stat.S_ISFIFO(st.st_mode)


def detach_from_terminal() -> None:
    """Point stdin/stdout/stderr at /dev/null, so the interpreter's final flush of a stream into
    the dead terminal neither prints an error nor changes the exit status."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError:
            pass
    os.close(null)
