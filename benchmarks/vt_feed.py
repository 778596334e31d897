"""Serial console emulator cost per payload, offline: no guest, no libvirt, no event loop.

The payloads are the bytes `benchmarks/console.py` makes the guest print (same commands,
reproduced here byte for byte, with the guest tty's ONLCR turning `\\n` into `\\r\\n`). Each one
goes through a TerminalView's own data path, unthreaded: `feed()` in 256 KiB pieces (like
SerialSession's reads) -> pending buffer -> `_drain()` feeding VtStream -> VtScreen in slices
under the emulator lock. Measured per payload:
- `ns_per_byte`: emulator time over the whole payload (how fast a backlog drains);
- `lock_ms`: p50 / p99 / max of the time the feeder holds the emulator lock per slice: a key
  echo (and the redraw) waits behind at most one slice;
- the same figures relative to the plain text lines of the same run (`*_vs_plain`).
Then the UI thread's share, per frame (`frame_ms`): the payload is fed FRAME_BYTES at a time
into a TerminalView mounted in a headless 120x40 app, and each frame is timed as the app draws
it, in CPU time of the thread (the machine's load does not count): the widget's redraw tick
(dirty rows -> strips) plus Textual's compositor update (`render_ms`), and the same plus turning the update into terminal output (`output_ms`, what a
real terminal costs on top; headless apps skip it). p50 / p99 over --frames frames.
Several rounds, interleaved, medians reported. Prints JSON.

    .venv/bin/python benchmarks/vt_feed.py [--mb 1] [--line-mb 10] [--rounds 3] [--frames 120]
                                           [--profile KIND] [--profile-frames KIND]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from virttui.core.console.vt_screen import VtScreen, VtStream  # noqa: E402
from virttui.widgets.console.terminal_view import TerminalView  # noqa: E402

READ_CHUNK = 256 * 1024  # SerialSession's read size
FRAME_BYTES = 8 * 1024  # guest output per frame: every row changes in a flood of any kind
COLUMNS, ROWS = 120, 39  # the console benchmark's `stty cols 120 rows 39`

_LINE = b"x" * 79
_REJECTED = (
    b"\x1b[99999999999999999999J\x1b[7J\x1b[99999999999999999999K"
    b"\x1b[6;99999999999999999999n\x1b[?6;1nz"
)


def _yes(line: bytes, n: int) -> bytes:
    """`yes LINE | head -c n`."""
    unit = line + b"\n"
    return (unit * (n // len(unit) + 1))[:n]


def payloads(n: int, line_n: int, seed: int = 1) -> dict[str, bytes]:
    """What the guest commands of benchmarks/console.py HOSTILE print (before ONLCR)."""
    marks = "\u0301\u0308\u0327".encode()
    rnd = random.Random(seed)
    raw = rnd.randbytes(n + n // 64)
    return {
        "plain_lines": _yes(_LINE, n),
        "long_line": b"x" * line_n,
        "combining": (marks * (n // len(marks) + 1))[:n],
        "rejected_escapes": _yes(_REJECTED, n),
        # `head -c n /dev/urandom | tr -d 'Q\033'`
        "invalid_utf8": raw.replace(b"Q", b"").replace(b"\x1b", b"")[:n],
    }


def onlcr(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


class TimedLock:
    """The emulator lock, recording each hold."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since = 0.0
        self.holds: list[float] = []

    def __enter__(self) -> TimedLock:
        self._lock.acquire()
        self._since = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.holds.append(time.perf_counter() - self._since)
        self._lock.release()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_payload(data: bytes) -> dict[str, Any]:
    view = TerminalView(columns=COLUMNS, rows=ROWS, threaded=False)
    lock = view._lock = TimedLock()  # type: ignore[assignment]
    t0 = time.perf_counter()
    for i in range(0, len(data), READ_CHUNK):
        view.feed(data[i : i + READ_CHUNK])
    elapsed = time.perf_counter() - t0
    assert view.bytes_consumed == len(data) and view.feed_errors == 0
    holds = lock.holds
    return {
        "ns_per_byte": elapsed * 1e9 / len(data),
        "lock_ms_p50": statistics.median(holds) * 1000,
        "lock_ms_p99": percentile(holds, 99) * 1000,
        "lock_ms_max": max(holds) * 1000,
        "slices": len(holds),
        "dropped_sequences": view.dropped_sequences,
    }


async def _frames(data: bytes, frames: int) -> dict[str, list[float]]:
    from textual.app import App, ComposeResult

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield TerminalView(columns=COLUMNS, rows=ROWS, threaded=False)

    app = Bench()
    render: list[float] = []
    output: list[float] = []
    async with app.run_test(size=(COLUMNS, ROWS + 1)) as pilot:
        await pilot.pause()
        screen = app.screen
        view = screen.query_one(TerminalView)
        view.feed(data[: FRAME_BYTES * 4])  # warm up: first frames, caches
        for i in range(1, frames + 1):
            start = (i * FRAME_BYTES) % max(1, len(data) - FRAME_BYTES)
            view.feed(data[start : start + FRAME_BYTES])
            t0 = time.thread_time()  # CPU time: other processes' load does not count
            view._tick()
            screen._dirty_widgets.add(view)  # what its Update message does on the next idle
            screen._compositor.update_widgets(screen._dirty_widgets)
            screen._dirty_widgets.clear()
            update = screen._compositor.render_update(screen_stack=[])
            t1 = time.thread_time()
            if update is not None:
                update.render_segments(app.console)  # type: ignore[union-attr]
            t2 = time.thread_time()
            render.append((t1 - t0) * 1000)
            output.append((t2 - t0) * 1000)
        assert view.feed_errors == 0
    return {"render": render, "output": output}


def frame_costs(data: bytes, frames: int) -> dict[str, float]:
    times = asyncio.run(_frames(data, frames))
    return {
        "render_ms_p50": statistics.median(times["render"]),
        "render_ms_p99": percentile(times["render"], 99),
        "output_ms_p50": statistics.median(times["output"]),
        "output_ms_p99": percentile(times["output"], 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="bytes per hostile payload")
    parser.add_argument("--line-mb", type=float, default=10.0, help="the long line's size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=120, help="frames timed per payload")
    parser.add_argument("--profile", metavar="KIND", help="cProfile one payload to stderr")
    parser.add_argument("--profile-frames", metavar="KIND", help="cProfile its frames to stderr")
    args = parser.parse_args()
    # The emulator classifies the BMP's width classes once, on the first non-ASCII text (~40 ms):
    # built here, so that it is not counted in whichever payload comes first.
    VtStream(VtScreen(8, 2)).feed("é".encode())
    data = {
        k: onlcr(v)
        for k, v in payloads(int(args.mb * 1_000_000), int(args.line_mb * 1_000_000)).items()
    }
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(run_payload, data[args.profile])
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(20)
        return
    if args.profile_frames:
        prof = cProfile.Profile()
        prof.runcall(frame_costs, data[args.profile_frames], args.frames)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        return
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in data}
    frame_runs: dict[str, list[dict[str, float]]] = {k: [] for k in data}
    for _ in range(args.rounds):
        for kind, payload in data.items():
            runs[kind].append(run_payload(payload))
            if args.frames:
                frame_runs[kind].append(frame_costs(payload, args.frames))
    out: dict[str, Any] = {}
    for kind, results in runs.items():
        out[kind] = {
            key: round(statistics.median(r[key] for r in results), 3)
            for key in ("ns_per_byte", "lock_ms_p50", "lock_ms_p99", "lock_ms_max")
        }
        out[kind]["bytes"] = len(data[kind])
        out[kind]["slices"] = results[0]["slices"]
        out[kind]["dropped_sequences"] = results[0]["dropped_sequences"]
        if frame_runs[kind]:
            out[kind]["frame_ms"] = {
                key: round(statistics.median(r[key] for r in frame_runs[kind]), 3)
                for key in frame_runs[kind][0]
            }
    plain = out["plain_lines"]
    for case in out.values():
        for key in ("ns_per_byte", "lock_ms_p99", "lock_ms_max"):
            case[f"{key}_vs_plain"] = round(case[key] / plain[key], 2)
        if "frame_ms" in case:
            for key in ("render_ms_p99", "output_ms_p99"):
                case["frame_ms"][f"{key}_vs_plain"] = round(
                    case["frame_ms"][key] / plain["frame_ms"][key], 2
                )
    doc = {
        "rounds": args.rounds,
        "screen": f"{COLUMNS}x{ROWS}",
        "cases": out,
        "goals": {
            f"{kind}_lock_p99_le_plain": case["lock_ms_p99_vs_plain"] <= 1.0
            for kind, case in out.items()
            if kind != "plain_lines"
        },
    }
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
