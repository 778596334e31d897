"""Full cyclic-GC collections at quiet moments, not in the middle of a flood.

CPython starts a full (generation 2) collection by itself once enough objects have outlived the
young collections. With this app's heap (a console's scrollback alone is thousands of tracked
lines) one is a 30-60 ms stop of every Python thread, and during a console flood it lands between
a key and its echo: the console bench (`benchmarks/console.py`, its `gc` field) saw 2-8 of them
per case, and they made the p99 of the key-to-echo latency.

The pacer takes the full collections off CPython's own schedule (the young ones stay automatic:
they only look at new objects and take well under a millisecond) and runs them from the app's
timer instead, once as many young collections went by as would have triggered one (DUE) and the
output has been quiet for QUIET_S, or, whatever the output does, after OVERDUE_S: the memory that
cyclic garbage holds stays bounded during an endless flood. Whatever is busy calls `busy()` (a
console drawing guest output; the app for every key and mouse event); the app calls `install()`,
`tick()` a few times a second and `uninstall()`, which puts CPython's thresholds back.
VIRTTUI_GC_PACER=off in the environment leaves CPython's schedule alone (benchmarks compare the
two: `benchmarks/latency.py --compare-gc-pacer`, `benchmarks/console.py --no-gc-pacer`).
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable

DUE = 10  # young (generation 1) collections since the last full one: CPython's own threshold
QUIET_S = 0.5  # no busy() for this long: a full collection now bothers nobody
OVERDUE_S = 60.0  # a flood this long gets its full collection anyway
TICK_S = 0.25  # how often the app calls tick()
_NEVER = 1 << 30  # a generation-2 threshold CPython never reaches


def enabled() -> bool:
    """Unless VIRTTUI_GC_PACER=off (a comparison without it)."""
    return os.environ.get("VIRTTUI_GC_PACER", "").strip().lower() not in ("off", "0", "no")


class GcPacer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._saved: tuple[int, int, int] | None = None
        self._users = 0
        self._busy_at = -math.inf
        self._last_full = clock()
        self.collections = 0  # full collections the pacer ran
        self.overdue = 0  # ... of which during a flood, because OVERDUE_S had passed

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        """Take full collections off CPython's schedule (nested: one uninstall per install)."""
        self._users += 1
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _full = self._saved
            gc.set_threshold(young, middle, _NEVER)
            self._last_full = self._clock()

    def uninstall(self) -> None:
        """Give them back to CPython once the last user is gone."""
        self._users = max(0, self._users - 1)
        if self._users == 0 and self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def busy(self) -> None:
        """Something that a pause would show in (a console drawing output) is running now."""
        self._busy_at = self._clock()

    def tick(self) -> bool:
        """Run a full collection if one is due and now is a good moment; True if it ran."""
        if self._saved is None or gc.get_count()[2] < DUE:
            return False
        now = self._clock()
        quiet = now - self._busy_at >= QUIET_S
        if not quiet and now - self._last_full < OVERDUE_S:
            return False
        gc.collect()
        self._last_full = self._clock()
        self.collections += 1
        if not quiet:
            self.overdue += 1
        return True


PACER = GcPacer()  # the process's one pacer: the GC is process-wide too
