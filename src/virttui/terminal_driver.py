"""Textual's Linux driver, plus: when the terminal goes away, the app ends.

Textual 8's LinuxDriver has no SIGHUP handler and its input thread treats an empty read as
"stdin is a pipe" and keeps selecting: on a hung-up terminal select() says readable, read()
returns EOF, forever, at 50-100% of a core. Started directly, the app is in the terminal's
foreground process group and the kernel's SIGHUP kills it (without closing anything); started by
`make run`, make is the one that gets SIGHUP, and make waits for the app, which spins. A write
error (EIO) kills Textual's writer thread, after which the UI thread blocks on its full queue.

This driver adds a `TerminalWatch` (see `virttui.core.common.terminal_watch`): hang-up on the
terminal's descriptors, SIGHUP, EOF/EIO on input or EIO/EPIPE on output all lead to one call of
`app.terminal_lost(reason)` on the UI thread, which leaves the way `q` does (consoles and
connections closed); a watchdog ends the process if that stalls.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from virttui.core.common.terminal_watch import (
    EXIT_TERMINAL_GONE,
    TERMINAL_GONE_ERRNOS,
    GuardedOutput,
    TerminalWatch,
    is_watchable,
)


class TerminalGuardDriver(LinuxDriver):
    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        # (Driver.__init__ has set self._loop to the running loop: the watch posts there.)
        self._watch: TerminalWatch | None = None
        self._previous_sighup: Any = None
        self._hung_up = False  # set by the SIGHUP handler itself, before the watch hears of it
        self.terminal_lost_reason: str | None = None
        stream = self._file
        assert stream is not None, "LinuxDriver draws on sys.__stderr__"
        self._output = GuardedOutput(stream, self._output_failed)
        # LinuxDriver annotates _file as sys.__stderr__'s type; its writer thread only calls
        # write, flush and fileno, which GuardedOutput passes through.
        self._file = self._output  # type: ignore[assignment]  # see the comment above

    # ------------------------------------------------------------------ signs of a lost terminal
    def _notify(self, code: bytes) -> None:
        watch = self._watch
        if watch is not None:
            watch.notify(code)

    def _output_failed(self) -> None:
        self._notify(b"O")

    def _sighup(self, _signum: int, _frame: object) -> None:
        self._hung_up = True
        self._notify(b"H")

    def _terminal_lost(self, reason: str) -> None:
        """On the watch thread, once."""
        self.terminal_lost_reason = reason
        # Stop Textual's input thread: on a hung-up terminal every read returns EOF at once.
        self.exit_event.set()
        loop, app = self._loop, self._app
        callback = getattr(app, "terminal_lost", None)
        if callback is None:

            def callback(_reason: str) -> None:
                app.exit(return_code=EXIT_TERMINAL_GONE)

        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(callback, reason)
            except RuntimeError:
                pass  # the loop is closing: the app is ending anyway (and the watchdog is armed)

    # ------------------------------------------------------------------ driver hooks
    def start_application_mode(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._watch is None:
            fds = {self.fileno, self._output.fileno()}
            self._watch = TerminalWatch([fd for fd in fds if is_watchable(fd)], self._terminal_lost)
            self._watch.start()
        try:
            previous = signal.signal(signal.SIGHUP, self._sighup)
        except ValueError:  # not the main thread: the watch still sees the hang-up
            pass
        else:
            if previous != self._sighup:  # Textual restarts application mode on any SIGCONT
                self._previous_sighup = previous
        super().start_application_mode()  # type: ignore[no-untyped-call]  # unannotated in Textual

    def resume_application_mode(self) -> None:
        # The kernel sends SIGCONT right after SIGHUP; Textual's SIGCONT handler would restart
        # application mode (a new writer and input thread) on the dead terminal.
        if self._hung_up or (self._watch is not None and self._watch.lost):
            return
        super().resume_application_mode()

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError as exc:  # EIO from a closed pty: a lost terminal, not a crash to report
            if exc.errno not in TERMINAL_GONE_ERRNOS:
                raise
            self._notify(b"I")

    def stop_application_mode(self) -> None:
        super().stop_application_mode()
        watch = self._watch
        if watch is not None and (watch.lost or self._hung_up):
            return  # keep the SIGHUP handler (a second hang-up must not kill the orderly exit)
        if self._previous_sighup is not None:
            try:
                signal.signal(signal.SIGHUP, self._previous_sighup)
            except ValueError:
                pass
            self._previous_sighup = None
        if watch is not None:
            watch.stop()
            self._watch = None
