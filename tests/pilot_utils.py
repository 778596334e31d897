"""Small helpers for Pilot tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot


async def wait_until(
    pilot: Pilot[object], cond: Callable[[], object], timeout: float = 5.0, step: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await pilot.pause(step)
    raise AssertionError(f"condition not met within {timeout}s")
