"""Serial console key-to-echo latency during a flood, offline: no guest, no libvirt.

A headless 120x40 app holds a TerminalView (feeder thread, 30 Hz redraw) as the console
screen does. A "stream" thread stands for libvirt's event loop: every 10 ms it feeds the next
piece of a payload at --rate bytes per second (the guest's output), and the bytes the view
sends (a key) come back in that stream, behind the output already queued, as the guest's echo
would. Measured like benchmarks/console.py: key event posted to the app -> echoed byte consumed
by the emulator, p50 / p99 per payload (the payloads of benchmarks/vt_feed.py), and each p99
relative to the plain text lines' p99 of the same round. Several rounds, interleaved, medians
reported. Prints JSON.

    .venv/bin/python benchmarks/vt_echo.py [--rate 400000] [--samples 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from vt_feed import COLUMNS, ROWS, onlcr, payloads, percentile  # noqa: E402

from virttui.widgets.console.terminal_view import TerminalView  # noqa: E402

TICK = 0.01


class Stream(threading.Thread):
    """Guest output at a steady rate, with the keys sent echoed in order."""

    def __init__(self, view: TerminalView, data: bytes, rate: int) -> None:
        super().__init__(name="fake-stream", daemon=True)
        self.view, self.data, self.rate = view, data, rate
        self.lock = threading.Lock()
        self.echo = bytearray()
        self.fed = 0  # bytes given to view.feed so far
        self.echo_at: int | None = None  # stream offset just past the last echoed key
        self.stop = threading.Event()

    def send(self, data: bytes) -> None:
        with self.lock:
            self.echo += data

    def run(self) -> None:
        pos, step = 0, max(1, int(self.rate * TICK))
        next_at = time.perf_counter()
        while not self.stop.is_set():
            chunk = self.data[pos : pos + step]
            pos = (pos + step) % max(1, len(self.data) - step)
            with self.lock:
                echo, self.echo = bytes(self.echo), bytearray()
                if echo:
                    chunk += echo
                    self.echo_at = self.fed + len(chunk)
                self.fed += len(chunk)
            self.view.feed(chunk)
            next_at += TICK
            time.sleep(max(0.0, next_at - time.perf_counter()))


async def _case(data: bytes, rate: int, samples: int) -> list[float]:
    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield TerminalView(columns=COLUMNS, rows=ROWS)

    app = Bench()
    out: list[float] = []
    async with app.run_test(size=(COLUMNS, ROWS + 1)) as pilot:
        await pilot.pause()
        view = app.query_one(TerminalView)
        stream = Stream(view, data, rate)
        view.set_sender(stream.send)
        stream.start()
        await asyncio.sleep(1.0)
        try:
            for _ in range(samples):
                with stream.lock:
                    stream.echo_at = None
                t0 = time.perf_counter()
                app.post_message(events.Key("Q", "Q"))
                while True:
                    with stream.lock:
                        at = stream.echo_at
                    if at is not None and view.bytes_consumed >= at:
                        break
                    await asyncio.sleep(0.001)
                out.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.1)
        finally:
            stream.stop.set()
            stream.join()
        assert view.feed_errors == 0 and view.feeder_alive
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=400_000, help="guest output, bytes/s")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mb", type=float, default=1.0, help="payload size (cycled)")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    data = {k: onlcr(v) for k, v in payloads(size, size).items()}
    rounds: list[dict[str, dict[str, float]]] = []
    for _ in range(args.rounds):
        one: dict[str, dict[str, float]] = {}
        for kind, payload in data.items():
            lat = asyncio.run(_case(payload, args.rate, args.samples))
            one[kind] = {"p50": statistics.median(lat), "p99": percentile(lat, 99)}
        for case in one.values():
            case["p99_vs_plain"] = case["p99"] / one["plain_lines"]["p99"]
        rounds.append(one)
    cases: dict[str, Any] = {
        kind: {
            key: round(statistics.median(r[kind][key] for r in rounds), 2)
            for key in ("p50", "p99", "p99_vs_plain")
        }
        | {"p99_vs_plain_rounds": [round(r[kind]["p99_vs_plain"], 2) for r in rounds]}
        for kind in data
    }
    doc = {"rate_bytes_s": args.rate, "rounds": args.rounds, "samples": args.samples}
    doc["cases"] = cases
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
