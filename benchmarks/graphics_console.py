"""Graphical console: live RFB frames vs the screenshot path, against the tiny guest on
qemu:///system, in one run.

A headless app (120x40) shows the tiny guest's graphical console, once per path ("rfb": the
default for a local VNC display; "screenshots": forced with `frames="screenshots"`, 2 frames a
second, the screen's default). The tty1 cursor is hidden (ESC[?25l) so the VGA screen changes
only when the guest draws. Measured per path:
- key-to-frame: a key pressed in the view (alternately "x" and Backspace at the tty1 shell
  prompt) -> the view's frame digest changes, p50 / p95 over --samples keys;
- the app's CPU per second (this process: user + system) while the guest's screen is idle and
  while it scrolls (a shell loop printing lines to tty1), over --seconds each, with the frames
  drawn in that time.
The serial console used to drive the guest is closed while CPU is measured.
Goals (issue 14): key-to-frame p95 <= 0.5x the screenshot path's, idle CPU <= 0.5x.
Prints JSON.

    .venv/bin/python benchmarks/graphics_console.py [--samples 20] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import psutil  # noqa: E402
from common import cpu_seconds, emit, log, percentile, ratio  # noqa: E402

from tests.guestlib import (  # noqa: E402
    SYSTEM_URI,
    SerialConsole,
    guest_available,
    open_system_conn,
    running_guest,
    wait_for_shell,
)
from virttui.app import HostSpec, VirtTUIApp  # noqa: E402
from virttui.screens.console.graphics import (  # noqa: E402
    FRAMES_AUTO,
    FRAMES_SCREENSHOTS,
    GraphicsConsoleScreen,
    open_graphical_console,
)

PATHS = {"rfb": FRAMES_AUTO, "screenshots": FRAMES_SCREENSHOTS}
SCROLL = (  # numbered lines: a screen of identical lines would not change when it scrolls
    "(t=$(($(date +%s)+{secs})); i=0; while [ $(date +%s) -lt $t ]; do i=$((i+1)); "
    'echo "scrolling $i ######## virttui graphics benchmark ########"; done) '
    ">/dev/tty1 2>&1 & true"
)


def guest_run(dom: Any, command: str) -> None:
    with SerialConsole(dom) as console:
        console.run(command, timeout=60)


async def wait(pilot: Any, cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await pilot.pause(0.005)


async def measure_path(dom: Any, frames: str, samples: int, seconds: float) -> dict[str, Any]:
    guest_run(dom, r"printf '\033[2J\033[H\033[?25l' >/dev/tty1")
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    proc = psutil.Process()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(
            pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30, "host"
        )
        screen: GraphicsConsoleScreen = open_graphical_console(
            app, SYSTEM_URI, dom.UUIDString(), frames=frames
        )
        await wait(pilot, lambda: screen.state == "connected", 30, "connected")
        await wait(pilot, lambda: screen.view.frame is not None, 30, "first frame")
        await pilot.pause(2.0)
        # Key -> changed frame.
        latencies: list[float] = []
        for i in range(samples):
            await pilot.pause(0.3)
            before = screen.view.frame.digest  # type: ignore[union-attr]
            start = time.perf_counter()
            await pilot.press("x" if i % 2 == 0 else "backspace")
            await wait(
                pilot,
                lambda b=before: screen.view.frame is not None and screen.view.frame.digest != b,  # type: ignore[misc]
                10,
                "the frame did not change after a key",
            )
            latencies.append(time.perf_counter() - start)
        # Idle CPU.
        await pilot.pause(2.0)
        drawn = screen.frames_live + screen.frames_grabbed
        cpu0, t0 = cpu_seconds(proc), time.monotonic()
        await asyncio.sleep(seconds)
        idle_cpu = (cpu_seconds(proc) - cpu0) / (time.monotonic() - t0)
        idle_frames = screen.frames_live + screen.frames_grabbed - drawn
        # Scrolling CPU (the serial console is closed again before measuring).
        guest_run(dom, SCROLL.format(secs=int(seconds) + 3))
        await pilot.pause(1.0)
        drawn, redraws = screen.frames_live + screen.frames_grabbed, screen.view.redraws
        cpu0, t0 = cpu_seconds(proc), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - t0
        scroll_cpu = (cpu_seconds(proc) - cpu0) / elapsed
        scroll_frames = screen.frames_live + screen.frames_grabbed - drawn
        scroll_redraws = screen.view.redraws - redraws
        path_text = screen.path_text()
        await pilot.pause(4.0)  # let the loop end
    return {
        "path": path_text,
        "key_to_frame_ms": {
            "n": len(latencies),
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "idle_cpu_s_per_s": round(idle_cpu, 4),
        "idle_frames": idle_frames,
        "scroll_cpu_s_per_s": round(scroll_cpu, 4),
        "scroll_frames_per_s": round(scroll_frames / elapsed, 1),
        "scroll_redraws_per_s": round(scroll_redraws / elapsed, 1),
    }


def run(samples: int = 20, seconds: float = 8.0) -> dict[str, Any]:
    if not guest_available():
        return {"skipped": "the tiny guest is not built (make test-guest)", "pass": True}
    conn = open_system_conn()
    out: dict[str, Any] = {"samples": samples, "seconds": seconds}
    try:
        with running_guest(conn, "vt-bench-gfx") as dom:
            with SerialConsole(dom) as console:
                wait_for_shell(console, timeout=180)
            for name, frames in PATHS.items():
                log(f"graphics_console: {name} path")
                out[name] = asyncio.run(measure_path(dom, frames, samples, seconds))
                log(f"graphics_console: {name}: {out[name]}")
    finally:
        conn.close()
    rfb, shots = out["rfb"], out["screenshots"]
    out["ratio_key_p95_rfb_to_screenshots"] = ratio(
        rfb["key_to_frame_ms"]["p95"], shots["key_to_frame_ms"]["p95"]
    )
    out["ratio_idle_cpu_rfb_to_screenshots"] = ratio(
        rfb["idle_cpu_s_per_s"], shots["idle_cpu_s_per_s"]
    )
    out["ratio_scroll_cpu_rfb_to_screenshots"] = ratio(
        rfb["scroll_cpu_s_per_s"], shots["scroll_cpu_s_per_s"]
    )
    out["goal"] = "key-to-frame p95 <= 0.5x and idle CPU <= 0.5x the screenshot path's"
    out["pass"] = (
        out["ratio_key_p95_rfb_to_screenshots"] <= 0.5
        and out["ratio_idle_cpu_rfb_to_screenshots"] <= 0.5
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    emit(run(args.samples, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
