"""Keypress-to-repaint latency while polling 1000 domains at 1 Hz, measured on a real pty.

The real `virttui` runs on an 80x24 pty. We write the down-arrow escape sequence (`ESC [ B`) to
the terminal and stop the clock when the first complete frame arrives (frames are delimited by
synchronized-output markers) in which the move shows: the line carrying the cursor colour, the
name on it, or the first listed name (a scroll) differs from before the key. The first ~20 presses move the bar
down the visible rows, the rest scroll the list under it (a full table repaint each). Presses are
spaced by a random 30-90 ms pause so they land at every phase of the 1 Hz poll (whose own repaint
and stats processing compete with the key); the session lasts ~15 s, i.e. ~15 polls.

This is what a user sees, minus the terminal emulator's own drawing: it includes the tty, Textual's
input parser, the binding, `DomainTable._move`, the compositor and writing the frame.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ROWS,
    PtyApp,
    bare_env,
    bench_host,
    emit,
    log,
    percentile,
    rows_painted,
    summary,
    virttui_argv,
)

DOWN = b"\x1b[B"
SESSION = 15.0
GOAL_P99_MS = 50.0
NAME_CELLS = 16


Screen = tuple[int | None, str, str]


def _screen_state(screen: pyte.Screen, cursor_bg: str) -> Screen:
    """(line of the cursor bar or None, the name on it, the name on the first domain line).

    The first domain line tells a scroll apart even when the bar itself is not visible (at 80x24
    the bar can sit under the table's horizontal scrollbar: see the report).
    """
    hits = [
        y
        for y in range(2, ROWS - 2)  # below the header and host rows, above status and footer
        if screen.buffer[y][0].bg == cursor_bg
    ]
    y = hits[0] if len(hits) == 1 else None
    name = "" if y is None else "".join(screen.buffer[y][x].data for x in range(NAME_CELLS))
    top = "".join(screen.buffer[2][x].data for x in range(NAME_CELLS))
    return y, name, top


def _moved_from(state: Screen, cursor_bg: str) -> Callable[[pyte.Screen], bool]:
    def check(screen: pyte.Screen) -> bool:
        return _screen_state(screen, cursor_bg) != state

    return check


def run(
    uri: str, session: float = SESSION, seed: int = 1, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    log(f"latency: down-arrow to repaint on a pty, {session:g} s at 1 Hz polling")
    rng = random.Random(seed)
    app = PtyApp(
        virttui_argv(uri, refresh=float(os.environ.get("BENCH_REFRESH", "1"))),
        env=bare_env() | (extra_env or {}),
    )
    samples: list[float] = []
    scrolled = hidden = 0
    try:
        app.start()
        app.wait_for(rows_painted(), 60)
        time.sleep(1.5)  # a couple of polls: steady state
        with app.lock:
            # The cursor starts on the first domain, line 2 (header, host row above it).
            cursor_bg = app.screen.buffer[2][0].bg
            state = _screen_state(app.screen, cursor_bg)
        if state[0] != 2 or cursor_bg == "default":
            raise RuntimeError(f"cannot find the cursor bar on screen:\n{app.text()}")
        end = time.perf_counter() + session
        while time.perf_counter() < end:
            samples.append(app.press_and_wait(DOWN, _moved_from(state, cursor_bg), 5.0))
            with app.lock:
                new = _screen_state(app.screen, cursor_bg)
            scrolled += new[2] != state[2]
            hidden += new[0] is None
            state = new
            time.sleep(rng.uniform(0.03, 0.09))
    finally:
        app.stop()
    p99 = percentile(samples, 99) * 1000
    return {
        "what": "down-arrow written to the pty -> first complete frame showing the moved cursor, "
        "1000 domains, 1 Hz polling, 80x24",
        "presses": len(samples),
        "presses_that_scrolled": scrolled,
        "presses_leaving_cursor_bar_invisible": hidden,
        "ms": summary(samples),
        "goal_p99_max_ms": GOAL_P99_MS,
        "pass": p99 <= GOAL_P99_MS,
        "_samples": samples,
    }


def compare_gc_pacer(uri: str, rounds: int = 2) -> dict[str, Any]:
    """The same sessions with the app's GC pacer and without it (VIRTTUI_GC_PACER=off),
    alternated, so the machine's load reaches both alike; each side's samples pooled."""
    pooled: dict[str, list[float]] = {"pacer": [], "cpython": []}
    for number in range(rounds):
        for side, env in (("pacer", {}), ("cpython", {"VIRTTUI_GC_PACER": "off"})):
            result = run(uri, seed=number + 1, extra_env=env)
            pooled[side] += result.pop("_samples")
    out = {side: summary(samples) for side, samples in pooled.items()}
    p99 = {side: percentile(samples, 99) for side, samples in pooled.items()}
    out["p99_ratio_pacer_to_cpython"] = round(p99["pacer"] / p99["cpython"], 3)
    return out


def main() -> None:
    compare = "--compare-gc-pacer" in sys.argv[1:]
    with bench_host() as uri:
        if compare:
            emit(compare_gc_pacer(uri))
        else:
            result = run(uri)
            result.pop("_samples")
            emit(result)


if __name__ == "__main__":
    main()
