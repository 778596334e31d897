"""Keys first: a CPU-bound helper thread steps aside while the UI thread handles a key.

During a serial console flood the emulator thread (TerminalView's feeder) competes with the UI
thread for the GIL and for the CPU: a key then takes several turns to get from the terminal to
the guest (Ctrl+C to stop the flood most of all). The app marks a key (or paste) as it arrives
(`begin`), the widget that sends it on marks it handled (`end`); between two emulator steps the
feeder `wait()`s while a key is in hand, sleeping (GIL released) at most MAX_WAIT_S after the
key came, so a key that no console takes never holds the output back for longer. Output is
never dropped, only emulated a few milliseconds later.
"""

from __future__ import annotations

import time

MAX_WAIT_S = 0.02  # a helper never waits longer than this after a key came
_NAP_S = 0.0005


class InputFirst:
    def __init__(self) -> None:
        self._since = 0.0  # monotonic time the key in hand came; 0.0: none
        self.waits = 0  # helper steps that waited for a key (tests, benchmarks)

    def begin(self) -> None:
        """A key arrived (UI thread)."""
        self._since = time.monotonic()

    def end(self) -> None:
        """The key was handled: sent on, or nothing will take it (UI thread)."""
        self._since = 0.0

    @property
    def pending(self) -> bool:
        since = self._since
        return bool(since) and time.monotonic() - since < MAX_WAIT_S

    def wait(self) -> None:
        """Between two steps of a helper thread: sleep while a key is in hand (bounded)."""
        if not self._since:
            return
        self.waits += 1
        while self.pending:
            time.sleep(_NAP_S)


GATE = InputFirst()
