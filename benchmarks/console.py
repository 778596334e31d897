"""Serial console throughput and latency against the tiny guest on qemu:///system.

The guest writes N MB (default 20) of 'x' to its serial console twice in one run:
1. a bare libvirt stream reader (event-loop callback that only counts bytes);
2. virttui's whole pipeline in a headless app: SerialSession -> TerminalView (feeder thread,
   pyte VtScreen with capped scrollback, 30 Hz redraw).
Reported: drain time of each (command sent -> end marker consumed), the ratio, peak RSS, the
scrollback size, and keypress-to-echo latency (Pilot key press -> the echoed byte consumed by
the emulator) while idle and during the flood.

Then, in the same app and console, hostile output from the guest, each case measured like the
flood and compared with a plain flood of text lines of the same size measured right before:
- `long_line`: one line of --line-mb MB (default 10) without a newline;
- `combining`: combining marks only (U+0301 U+0308 U+0327, pyte appends them to one cell);
- `rejected_escapes`: escape sequences plain pyte raises on (huge parameters, ESC[7J, a DSR
  with two parameters), which used to kill the feeder thread;
- `invalid_utf8`: random bytes without ESC (the probe key byte removed too).
Every case (the plain lines too) is written once into a 1 MB file in the guest's /tmp before
the measurements (PREP) and sent with the same `cat` loop, so each costs the guest the same and
only our side differs (under TCG, urandom or tr while flooding cost the guest's shell up to 6x
the echo latency).
For each: drain time, the CPU time of the UI thread, of the feeder thread and of libvirt's
event loop thread (which reads the stream, and emulates a read itself while the emulator keeps
up: the feeder only takes a backlog; per MB too), the
cyclic GC's pauses (count, longest full collection: they stop every thread),
key-to-echo p50/p90/p99 (and two parts of it: the key event to SerialSession.write on the UI
thread, `sending_ms`; the echo's arrival from libvirt to the emulator, `pipeline_ms`, of which
`emulated_ms` until the emulator consumed it, and which thread did: `by_feeder` is the share of
echoes, and of the slowest tenth, that waited for the feeder thread's backlog; `parts_ms`:
each echo cut into key -> write, write -> received (the guest, libvirt and our reading thread),
received -> emulated, emulated -> seen by the UI thread, means over all and the slowest tenth),
p99 relative to the plain flood's, sequences
dropped, bytes dropped from the pending buffer, and whether the feeder is still alive. With
--bare-hostile the bare reader's echo latency during the same commands is measured too (the
guest's own share of each command's cost) and `p99_added_ms` is what our side adds to it;
`added_minus_plain_added_ci90` is a bootstrap interval of a kind's added p99 minus the plain
flood's (above 0: worse than plain beyond luck; holding 0: not told apart by this run).
With --rounds N every case runs N times, the cases interleaved (the bare reader's too), samples
pooled per case: a change in the machine's load during the run reaches every case alike.
Prints JSON.

    .venv/bin/python benchmarks/console.py [--mb 20] [--samples 40] [--hostile-mb 2]
                                           [--line-mb 10] [--rounds 1] [--interval 0.2]
                                           [--bare-hostile] [--no-jump] [--no-gc-pacer]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import random
import resource
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import libvirt  # noqa: E402
from textual import events  # noqa: E402

from tests.guestlib import (  # noqa: E402
    READY_BANNER,
    SYSTEM_URI,
    SerialConsole,
    dom_serial_log,
    open_system_conn,
    running_guest,
    wait_for_shell,
)
from virttui.app import HostSpec, VirtTUIApp  # noqa: E402
from virttui.core.common import gc_pacer  # noqa: E402
from virttui.screens.console.serial import SerialConsoleScreen, open_serial_console  # noqa: E402
from virttui.widgets.console import terminal_view  # noqa: E402

END = "FLOODEND"  # split so the echoed command line never matches
SAMPLE_PAUSE = 0.2  # seconds between two key-to-echo samples during a flood (--interval)


def flood_command(nbytes: int) -> str:
    return f"head -c {nbytes} /dev/zero | tr '\\0' x; echo; echo FLOOD''END\r"


_LINE = "x" * 79
_REJECTED = r"\033[99999999999999999999J\033[7J\033[99999999999999999999K\033[6;99999999999999999999n\033[?6;1nz"
# Each kind of output is made once in the guest's RAM /tmp before any measurement (PREP) and
# then sent with the same `cat` loop, so every case costs the guest the same: only our side of
# the pipeline differs between cases (under TCG, urandom or tr while flooding cost the guest's
# shell up to 6x the echo latency of `yes`).
_FILE = "/tmp/vt-{kind}"
PREP: dict[str, str] = {
    "plain_lines": f"yes {_LINE} | head -n 12500",
    "long_line": "head -c 1000000 /dev/zero | tr '\\0' x",
    "combining": "yes \"$(printf '\\314\\201\\314\\210\\314\\247')\" | tr -d '\\n' | head -c 999996",
    "rejected_escapes": f"yes \"$(printf '{_REJECTED}')\" | head -n 10000",
    "invalid_utf8": "head -c 1000000 /dev/urandom | tr -d 'Q\\033'",
}
HOSTILE = list(PREP)


def prep_command(kind: str) -> str:
    path = _FILE.format(kind=kind)
    return f"{PREP[kind]} > {path}; wc -c < {path}"


def hostile_command(kind: str, nbytes: int) -> str:
    path = _FILE.format(kind=kind)
    return f"while cat {path}; do :; done | head -c {nbytes}; echo; echo FLOOD''END\r"


def log(msg: str) -> None:
    print(f"[console-bench] {msg}", file=sys.stderr, flush=True)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


# ----------------------------------------------------------------------------- bare reader
def bare_reader(
    dom: libvirt.virDomain, nbytes: int, samples: int, command: str | None = None
) -> dict[str, Any]:
    """Baseline: a raw non-blocking stream; also its key-to-echo latency (send a byte, wait for
    it to come back), idle and during the flood."""
    stream = dom.connect().newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    done = threading.Event()
    cond = threading.Condition()
    state: dict[str, Any] = {"bytes": 0, "tail": b"", "want": None, "seen": False}

    def on_event(st: libvirt.virStream, _events: int, _o: object) -> None:
        while True:
            try:
                data = st.recv(256 * 1024)
            except libvirt.libvirtError:
                done.set()
                return
            if not isinstance(data, bytes) or not data:
                return
            with cond:
                state["bytes"] += len(data)
                if state["want"] is not None and state["want"] in data:
                    state["seen"] = True
                    cond.notify_all()
                tail = state["tail"] + data
                if END.encode() in tail:
                    done.set()
                state["tail"] = tail[-32:]

    def echo_ms(byte: bytes) -> float:
        with cond:
            state["want"], state["seen"] = byte, False
        t0 = time.monotonic()
        stream.send(byte)
        with cond:
            ok = cond.wait_for(lambda: state["seen"], 30)
        return (time.monotonic() - t0) * 1000 if ok else float("inf")

    stream.eventAddCallback(
        libvirt.VIR_STREAM_EVENT_READABLE
        | libvirt.VIR_STREAM_EVENT_ERROR
        | libvirt.VIR_STREAM_EVENT_HANGUP,
        on_event,
        None,
    )
    time.sleep(0.5)
    idle = []
    for _ in range(max(5, samples // 2)):
        idle.append(echo_ms(b"q"))
        stream.send(b"\x7f")
        time.sleep(0.05)
    time.sleep(0.5)
    t0 = time.monotonic()
    stream.send((command or flood_command(nbytes)).encode())
    time.sleep(1.0)
    flood = []
    while not done.is_set():
        if len(flood) < samples:
            flood.append(echo_ms(b"Q"))
            time.sleep(SAMPLE_PAUSE)
        else:
            done.wait(0.05)
    elapsed = time.monotonic() - t0
    stream.send(b"\x15")
    time.sleep(0.2)
    stream.eventRemoveCallback()
    stream.abort()
    return {
        "seconds": round(elapsed, 2),
        "bytes": state["bytes"],
        "latency_ms_idle": summary(idle),
        "latency_ms_flood": summary(flood),
        "_flood": flood,
    }


def thread_cpu_s(native_id: int | None) -> float:
    """CPU seconds (user + system) a thread of this process has used: load-independent."""
    if native_id is None:
        return 0.0
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_marks(screen: SerialConsoleScreen) -> tuple[float, float, float]:
    """(UI thread, feeder thread, libvirt event loop thread) CPU seconds so far."""
    feeder = screen.terminal._feeder  # noqa: SLF001 - a benchmark looks inside
    loop = next((t for t in threading.enumerate() if t.name == "libvirt-event-loop"), None)
    return (
        thread_cpu_s(threading.main_thread().native_id),
        thread_cpu_s(feeder.native_id if feeder is not None else None),
        thread_cpu_s(loop.native_id if loop is not None else None),
    )


class GcPauses:
    """The cyclic GC's pauses (any thread: they stop every Python thread) while a case runs.
    Wall time between the gc callbacks (`ms_max`) can include the GIL going to other threads
    while callbacks run; the collecting thread's CPU time (`cpu_ms_max`) is the work itself."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float, float]] = []
        self._t0 = self._c0 = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0, self._c0 = time.perf_counter(), time.thread_time()
        else:
            wall = (time.perf_counter() - self._t0) * 1000
            self.pauses.append((info["generation"], wall, (time.thread_time() - self._c0) * 1000))

    def mark(self) -> tuple[int, int, int]:
        pacer = gc_pacer.PACER
        return len(self.pauses), pacer.collections, pacer.overdue

    def since(self, mark: tuple[int, int, int]) -> dict[str, Any]:
        """Collections since `mark`; `paced`: full ones the app's pacer ran (`overdue`: of them,
        during output, because the flood went on past gc_pacer.OVERDUE_S)."""
        count, paced, overdue = mark
        new = self.pauses[count:]
        full = [ms for gen, ms, _cpu in new if gen == 2]
        return {
            "collections": len(new),
            "full": len(full),
            "full_ms_max": round(max(full, default=0.0), 1),
            "ms_max": round(max((ms for _g, ms, _cpu in new), default=0.0), 1),
            "cpu_ms_max": round(max((cpu for _g, _ms, cpu in new), default=0.0), 1),
            "cpu_ms_total": round(sum(cpu for _g, _ms, cpu in new), 1),
            "paced": gc_pacer.PACER.collections - paced,
            "overdue": gc_pacer.PACER.overdue - overdue,
        }


GC = GcPauses()


def summary(values: list[float]) -> dict[str, Any]:
    finite = [v for v in values if v != float("inf")]
    if not finite:
        return {"n": 0, "lost": len(values)}
    return {
        "n": len(finite),
        "lost": len(values) - len(finite),
        "p50": round(statistics.median(finite), 1),
        "p90": round(percentile(finite, 90), 1),
        "p99": round(percentile(finite, 99), 1),
    }


# ----------------------------------------------------------------------------- virttui pipeline
class Probe:
    """Sits between the session and the widget's feed: finds the stream offset of an awaited
    byte, so its echo counts once the emulator consumed it."""

    def __init__(self, screen: SerialConsoleScreen) -> None:
        self.view = screen.terminal
        self.offset = screen.terminal.bytes_fed
        self.want: bytes | None = None
        self.found_at: int | None = None
        self.arrived = 0.0
        self.lock = threading.Lock()
        self.end_at: int | None = None
        self.tail = b""
        session = screen.handle
        inner = session._on_data  # the bound TerminalView.feed the session delivers to

        def feed(data: bytes) -> None:
            with self.lock:
                if self.want is not None and self.found_at is None:
                    pos = data.find(self.want)
                    if pos >= 0:
                        self.found_at = self.offset + pos + 1
                        self.arrived = time.monotonic()
                tail = self.tail + data
                pos = tail.find(END.encode())
                if pos >= 0 and self.end_at is None:
                    self.end_at = self.offset - len(self.tail) + pos + len(END)
                self.tail = tail[-32:]
                self.offset += len(data)
            inner(data)

        session._on_data = feed
        write = session.write
        self.written = 0.0  # when the awaited key reached SerialSession.write

        def timed_write(data: bytes) -> None:
            with self.lock:
                if self.want is not None and not self.written and self.want in data:
                    self.written = time.monotonic()
            write(data)

        session.write = timed_write  # type: ignore[method-assign]
        self.emulated_at = 0.0  # when the emulator consumed the awaited byte
        self.by_feeder = False  # emulated by the feeder thread (else the reading thread, inline)
        self._watched: object = None
        self._watch_stream()

    def _watch_stream(self) -> None:
        """Wrap the view's VtStream.feed (again if the view replaced its stream)."""
        stream = self.view._stream  # noqa: SLF001 - a benchmark looks inside
        if stream is self._watched:
            return
        inner = stream.feed

        def feed(chunk: bytes) -> None:
            inner(chunk)
            with self.lock:  # bytes_consumed is counted after this step: add the chunk
                found, consumed = self.found_at, self.view.bytes_consumed + len(chunk)
                if found is not None and not self.emulated_at and consumed >= found:
                    self.emulated_at = time.monotonic()
                    self.by_feeder = threading.current_thread() is self.view._feeder  # noqa: SLF001

        stream.feed = feed  # type: ignore[method-assign]
        self._watched = stream

    def rearm(self) -> None:
        """Look for the next end marker (one Probe serves several floods)."""
        with self.lock:
            self.end_at, self.tail = None, b""
        self._watch_stream()

    def expect(self, byte: bytes) -> None:
        with self.lock:
            self.want, self.found_at, self.written = byte, None, 0.0
            self.emulated_at, self.by_feeder = 0.0, False

    def echoed(self) -> bool:
        with self.lock:
            return self.found_at is not None and self.view.bytes_consumed >= self.found_at

    def ended(self) -> bool:
        with self.lock:
            return self.end_at is not None and self.view.bytes_consumed >= self.end_at


async def measure_echo(
    pilot: Any,
    probe: Probe,
    key: str,
    pipeline: list[float],
    timeout: float = 30.0,
    sending: list[float] | None = None,
    emulated: list[tuple[float, bool]] | None = None,
    parts: list[tuple[float, ...]] | None = None,
) -> float:
    """Key event -> echoed byte consumed by the emulator. Also records the parts spent in our
    pipeline: echo bytes received from libvirt -> consumed by the emulator (`pipeline`, until
    the UI thread saw it; `emulated`: until the emulator consumed it, and on which thread), and
    key event -> the key handed to SerialSession.write by the UI thread (`sending`). `parts`:
    per echo (total, send, guest, emulate, notice) in ms, the whole cut at those moments: key ->
    write, write -> the echo received (the guest, libvirt, and our reading thread getting to
    it), received -> emulated, emulated -> seen by the UI thread."""
    probe.expect(key.encode())
    t0 = time.monotonic()
    # Straight into the app's queue, as the terminal driver would (Pilot.press also waits for
    # the app to go idle, which never happens during a flood).
    pilot.app.post_message(events.Key(key, key))
    while not probe.echoed():
        if time.monotonic() - t0 > timeout:
            return float("inf")
        await asyncio.sleep(0.001)
    now = time.monotonic()
    pipeline.append((now - probe.arrived) * 1000)
    if sending is not None and probe.written:
        sending.append((probe.written - t0) * 1000)
    if emulated is not None and probe.emulated_at:
        emulated.append(((probe.emulated_at - probe.arrived) * 1000, probe.by_feeder))
    if parts is not None and probe.written and probe.emulated_at:
        moments = (t0, probe.written, probe.arrived, probe.emulated_at, now)
        parts.append(((now - t0) * 1000, *((b - a) * 1000 for a, b in itertools.pairwise(moments))))
    return (now - t0) * 1000


async def flood_case(
    pilot: Any, screen: SerialConsoleScreen, probe: Probe, command: str, samples: int
) -> dict[str, Any]:
    """Run one guest command that floods the console; key-to-echo latency while it drains."""
    view = screen.terminal
    dropped_seq, dropped_bytes = view.dropped_sequences, view.bytes_dropped
    probe.rearm()
    t0 = time.monotonic()
    ui0, feeder0, loop0 = cpu_marks(screen)
    gc_mark = GC.mark()
    screen.handle.write(command.encode())
    lat: list[float] = []
    pipe: list[float] = []
    sending: list[float] = []
    emulated: list[tuple[float, bool]] = []
    parts: list[tuple[float, ...]] = []
    await pilot.pause(1.0)
    while not probe.ended():
        if len(lat) < samples:
            lat.append(
                await measure_echo(
                    pilot, probe, "Q", pipe, sending=sending, emulated=emulated, parts=parts
                )
            )
            await pilot.pause(SAMPLE_PAUSE)
        else:
            await asyncio.sleep(0.01)
        if time.monotonic() - t0 > 900:
            break
    elapsed = time.monotonic() - t0
    ui1, feeder1, loop1 = cpu_marks(screen)
    await pilot.press("ctrl+u")
    await pilot.pause(0.5)
    view.feed(b"\x18\x07\x1bc")  # whatever modes the output set: start the next case clean
    return {
        "seconds": round(elapsed, 2),
        "ended": probe.ended(),
        "ui_cpu_s": round(ui1 - ui0, 2),
        "feeder_cpu_s": round(feeder1 - feeder0, 2),
        "event_loop_cpu_s": round(loop1 - loop0, 2),
        "gc": GC.since(gc_mark),
        "latency_ms": summary(lat),
        "pipeline_ms": summary(pipe),
        "sending_ms": summary(sending),
        "emulated_ms": summary([ms for ms, _by in emulated]),
        "by_feeder": by_feeder(emulated),
        "_lat": lat,
        "_pipe": pipe,
        "_sending": sending,
        "_emulated": emulated,
        "_parts": parts,
        "dropped_sequences": view.dropped_sequences - dropped_seq,
        "bytes_dropped": view.bytes_dropped - dropped_bytes,
        "feeder_alive": view.feeder_alive,
        "rss_mib": round(rss_mib(), 1),
    }


async def hostile_cases(
    pilot: Any, screen: SerialConsoleScreen, probe: Probe, args: argparse.Namespace
) -> dict[str, Any]:
    """Every case once per round, the rounds one after the other (plain, long line, ...,
    plain, long line, ...): a change in the machine's load during the run reaches every case
    alike. A case's figures are over all its rounds (latency samples pooled); `p99_vs_plain`
    also per round."""
    size = int(args.hostile_mb * 1_000_000)
    sizes = {kind: size for kind in HOSTILE}
    sizes["long_line"] = int(args.line_mb * 1_000_000)
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(args.rounds):
        done: dict[str, dict[str, Any]] = {}
        for kind in HOSTILE:
            log(f"round {number + 1}/{args.rounds}, hostile case {kind}: {sizes[kind]} bytes")
            done[kind] = await flood_case(
                pilot, screen, probe, hostile_command(kind, sizes[kind]), args.samples
            )
            log(f"{kind}: { {k: v for k, v in done[kind].items() if not k.startswith('_')} }")
        rounds.append(done)
    out = {kind: merged([r[kind] for r in rounds], sizes[kind]) for kind in HOSTILE}
    plain = out["plain_lines"]["latency_ms"].get("p99")
    for kind, case in out.items():
        p99 = case["latency_ms"].get("p99")
        case["p99_vs_plain"] = round(p99 / plain, 2) if p99 and plain else None
        per_round = []
        for r in rounds:
            mine, base = r[kind]["latency_ms"].get("p99"), r["plain_lines"]["latency_ms"].get("p99")
            per_round.append(round(mine / base, 2) if mine and base else None)
        case["p99_vs_plain_rounds"] = per_round
    base = out["plain_lines"]["_pooled"]
    for case in out.values():
        case["p99_vs_plain_ci90"] = ratio_interval(case["_pooled"], base)
    return out  # "_pooled" stays for main's added-latency interval, which removes it


def p99_interval(
    sets: list[list[float]],
    statistic: Callable[[list[float]], float],
    digits: int,
    rounds: int = 2000,
    seed: int = 1,
) -> list[float] | None:
    """5th and 95th percentiles of `statistic` over bootstrap resamples of every sample set,
    given the p99 of each resample in order: how far the figure could move with another run's
    luck (with a few dozen samples a p99 is the slowest one or two, and the interval is wide).
    Lost samples (inf) are left out; None when a set has none left."""
    kept = [[v for v in values if v != float("inf")] for values in sets]
    if not all(kept):
        return None
    rnd = random.Random(seed)
    figures = sorted(
        statistic([percentile(rnd.choices(values, k=len(values)), 99) for values in kept])
        for _ in range(rounds)
    )
    return [round(percentile(figures, 5), digits), round(percentile(figures, 95), digits)]


def ratio_interval(mine: list[float], base: list[float]) -> list[float] | None:
    """The interval of p99(mine) / p99(base)."""
    return p99_interval([mine, base], lambda p: p[0] / max(1e-9, p[1]), 2)


def added_interval(
    mine: list[float], mine_bare: list[float], plain: list[float], plain_bare: list[float]
) -> list[float] | None:
    """The interval of what our side adds to a kind's echo p99 minus what it adds to the plain
    flood's (each added figure is our p99 minus the bare reader's for the same output, in ms).
    An interval above 0 means the kind is worse than plain beyond another run's luck; one that
    holds 0 cannot tell them apart."""
    return p99_interval(
        [mine, mine_bare, plain, plain_bare], lambda p: (p[0] - p[1]) - (p[2] - p[3]), 1
    )


_Sample = TypeVar("_Sample", bound=tuple[Any, ...])


def slowest_tenth(samples: list[_Sample]) -> list[_Sample]:
    """The slowest tenth (at least one) of samples that are tuples, slowest first: by their
    first item, the time."""
    return sorted(samples, reverse=True)[: max(1, len(samples) // 10)]


def by_feeder(emulated: list[tuple[float, bool]]) -> dict[str, float | None]:
    """Share of the echoes the feeder thread emulated (they arrived behind a backlog), over all
    and over the slowest tenth (arrival -> emulated)."""
    if not emulated:
        return {"all": None, "slowest_tenth": None}
    slow = slowest_tenth(emulated)

    def share(items: list[tuple[float, bool]]) -> float:
        return round(sum(feeder for _ms, feeder in items) / len(items), 2)

    return {"all": share(emulated), "slowest_tenth": share(slow)}


def parts_summary(parts: list[tuple[float, ...]]) -> dict[str, dict[str, float] | None]:
    """Where the echoes' time went (measure_echo's parts): the mean of each part over all
    echoes and over the slowest tenth (by the whole), in ms."""

    def means(items: list[tuple[float, ...]]) -> dict[str, float] | None:
        if not items:
            return None
        names = ("send", "guest", "emulate", "notice")
        return {
            name: round(statistics.mean(p[i + 1] for p in items), 1) for i, name in enumerate(names)
        }

    return {"all": means(parts), "slowest_tenth": means(slowest_tenth(parts))}


def merged(cases: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """One case's rounds as one: times and CPU added up, latency samples pooled."""
    lat = [v for c in cases for v in c.pop("_lat")]
    pipe = [v for c in cases for v in c.pop("_pipe")]
    sending = [v for c in cases for v in c.pop("_sending")]
    emulated = [v for c in cases for v in c.pop("_emulated")]
    parts = [v for c in cases for v in c.pop("_parts")]
    mb = size * len(cases) / 1e6
    out: dict[str, Any] = {
        "rounds": len(cases),
        "bytes": size * len(cases),
        "seconds": round(sum(c["seconds"] for c in cases), 2),
        "ended": all(c["ended"] for c in cases),
        "ui_cpu_s": round(sum(c["ui_cpu_s"] for c in cases), 2),
        "feeder_cpu_s": round(sum(c["feeder_cpu_s"] for c in cases), 2),
        "event_loop_cpu_s": round(sum(c["event_loop_cpu_s"] for c in cases), 2),
        "gc": {
            key: (max if key.endswith("_max") else sum)(c["gc"][key] for c in cases)
            for key in cases[0]["gc"]
        },
        "latency_ms": summary(lat),
        "_pooled": lat,
        "latency_ms_rounds": [c["latency_ms"] for c in cases],
        "pipeline_ms": summary(pipe),
        "sending_ms": summary(sending),
        "emulated_ms": summary([ms for ms, _by in emulated]),
        "by_feeder": by_feeder(emulated),
        "parts_ms": parts_summary(parts),
        "dropped_sequences": sum(c["dropped_sequences"] for c in cases),
        "bytes_dropped": sum(c["bytes_dropped"] for c in cases),
        "feeder_alive": all(c["feeder_alive"] for c in cases),
        "rss_mib": max(c["rss_mib"] for c in cases),
    }
    out["ui_cpu_ms_per_mb"] = round(out["ui_cpu_s"] * 1000 / mb, 1)
    out["feeder_cpu_ms_per_mb"] = round(out["feeder_cpu_s"] * 1000 / mb, 1)
    out["event_loop_cpu_ms_per_mb"] = round(out["event_loop_cpu_s"] * 1000 / mb, 1)
    return out


async def virttui_pipeline(
    dom: libvirt.virDomain, nbytes: int, samples: int, args: argparse.Namespace
) -> dict[str, Any]:
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    result: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while not (SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected):
            await pilot.pause(0.1)
        screen = open_serial_console(app, SYSTEM_URI, dom.UUIDString())
        while screen.state in ("connecting", "forcing"):
            await pilot.pause(0.1)
        if screen.state == "busy":
            await pilot.click("#console-force")
            while screen.state != "connected":
                await pilot.pause(0.1)
        log(f"virttui console {screen.state}")
        if args.no_gc_pacer:
            gc_pacer.PACER.uninstall()  # CPython's own full collections again (the comparison)
        probe = Probe(screen)
        await pilot.pause(1.0)
        await pilot.press("ctrl+u")
        await pilot.pause(0.5)

        idle: list[float] = []
        idle_pipe: list[float] = []
        for _ in range(max(5, samples // 2)):
            idle.append(await measure_echo(pilot, probe, "q", idle_pipe))
            await pilot.press("backspace")
            await pilot.pause(0.05)
        rss_before = rss_mib()
        log(f"idle latencies {idle}")

        session = screen.handle
        t0 = time.monotonic()
        session.write(flood_command(nbytes).encode())
        flood_lat: list[float] = []
        flood_pipe: list[float] = []
        await pilot.pause(1.0)
        while not probe.ended():
            if len(flood_lat) < samples and not probe.ended():
                flood_lat.append(await measure_echo(pilot, probe, "Q", flood_pipe))
                await pilot.pause(SAMPLE_PAUSE)
            else:
                await asyncio.sleep(0.01)
        elapsed = time.monotonic() - t0
        await pilot.press("ctrl+u")
        vt = screen.terminal.vt
        result = {
            "seconds": round(elapsed, 2),
            "bytes": screen.terminal.bytes_consumed,
            "scrollback_lines": len(vt.scrollback),
            "scrollback_cap": vt.scrollback.maxlen,
            "rss_mib_before_flood": round(rss_before, 1),
            "rss_mib_after_flood": round(rss_mib(), 1),
            "latency_ms_idle": summary(idle),
            "latency_ms_flood": summary(flood_lat),
            "pipeline_ms_idle": summary(idle_pipe),
            "pipeline_ms_flood": summary(flood_pipe),
        }
        if args.hostile_mb > 0:
            await pilot.pause(1.0)
            result["hostile"] = await hostile_cases(pilot, screen, probe, args)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--hostile-mb", type=float, default=2.0, help="0: skip hostile cases")
    parser.add_argument("--line-mb", type=float, default=10.0)
    parser.add_argument(
        "--interval",
        type=float,
        default=0.2,
        help="seconds between two echo samples during a flood (shorter: more samples per MB,"
        " so a p99 is not just the slowest of a few dozen)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="hostile cases: run every case this many times, interleaved (--samples each time)",
    )
    parser.add_argument(
        "--bare-hostile",
        action="store_true",
        help="also run the hostile commands with the bare reader",
    )
    parser.add_argument(
        "--no-jump",
        action="store_true",
        help="draw every frame at REFRESH_HZ even in a flood (the view before jump scroll)",
    )
    parser.add_argument(
        "--no-gc-pacer",
        action="store_true",
        help="leave full GC collections to CPython (the app paces them to quiet moments)",
    )
    args = parser.parse_args()
    global SAMPLE_PAUSE
    SAMPLE_PAUSE = args.interval
    if args.no_jump:
        terminal_view.JUMP_HZ = terminal_view.REFRESH_HZ
    # `timeout`/Ctrl+C: unwind through running_guest so the guest is destroyed and undefined.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    nbytes = int(args.mb * 1_000_000)
    conn = open_system_conn()
    with running_guest(conn, "vt-bench") as dom:
        deadline = time.monotonic() + 180
        while READY_BANNER not in dom_serial_log(dom):
            if time.monotonic() > deadline:
                raise TimeoutError("guest did not boot")
            time.sleep(0.2)
        with SerialConsole(dom) as console:
            wait_for_shell(console, 120, banner=False)
            console.run("stty cols 120 rows 39")
            for kind in HOSTILE:
                log(f"{kind} file: {console.run(prep_command(kind), 300).strip()} bytes")
        log("bare reader flood")
        bare = bare_reader(dom, nbytes, args.samples)
        bare.pop("_flood")
        log(f"bare reader: {bare}")
        bare_hostile: dict[str, Any] = {}
        if args.bare_hostile and args.hostile_mb > 0:
            # The guest's own share of the echo latency for each kind of output (urandom and
            # tr cost TCG far more than yes): the same commands, read by the bare reader.
            # As many rounds as ours, interleaved the same way, samples pooled.
            pooled: dict[str, list[float]] = {kind: [] for kind in HOSTILE}
            seconds: dict[str, float] = dict.fromkeys(HOSTILE, 0.0)
            for _round in range(args.rounds):
                for kind in HOSTILE:
                    mb = args.line_mb if kind == "long_line" else args.hostile_mb
                    size = int(mb * 1_000_000)
                    case = bare_reader(dom, size, args.samples, hostile_command(kind, size))
                    pooled[kind] += case["_flood"]
                    seconds[kind] += case["seconds"]
                    log(f"bare reader {kind}: {case['latency_ms_flood']}")
            for kind in HOSTILE:
                bare_hostile[kind] = summary(pooled[kind]) | {"seconds": round(seconds[kind], 2)}
                bare_hostile[kind]["_pooled"] = pooled[kind]
        peak_after_bare = peak_rss_mib()
        ours = asyncio.run(virttui_pipeline(dom, nbytes, args.samples, args))
    report = {
        "flood_bytes": nbytes,
        "guest_rate_kib_s": round(nbytes / 1024 / bare["seconds"], 1),
        "bare_reader": bare,
        "bare_reader_hostile": bare_hostile,
        "virttui": ours,
        "ratio_virttui_to_bare": round(ours["seconds"] / bare["seconds"], 3),
        "peak_rss_mib_after_bare": round(peak_after_bare, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "goals": {
            "ratio_le_1_5": ours["seconds"] / bare["seconds"] <= 1.5,
            "flood_p99_le_100ms": ours["latency_ms_flood"].get("p99", 1e9) <= 100,
            "flood_pipeline_p99_le_100ms": ours["pipeline_ms_flood"].get("p99", 1e9) <= 100,
        },
    }
    hostile = ours.get("hostile", {})
    # What our side adds to the guest's own echo latency for each kind of output: our p99 minus
    # the bare reader's p99 for the same command (the guest echoes later during some kinds of
    # output whoever reads them).
    for kind, case in hostile.items():
        bare_p99 = bare_hostile.get(kind, {}).get("p99")
        ours_p99 = case["latency_ms"].get("p99")
        if bare_p99 is not None and ours_p99 is not None:
            case["p99_added_ms"] = round(ours_p99 - bare_p99, 1)
    plain_added = hostile.get("plain_lines", {}).get("p99_added_ms")
    if "plain_lines" in hostile and "plain_lines" in bare_hostile:
        for kind, case in hostile.items():
            if kind != "plain_lines" and kind in bare_hostile:
                case["added_minus_plain_added_ci90"] = added_interval(
                    case["_pooled"],
                    bare_hostile[kind]["_pooled"],
                    hostile["plain_lines"]["_pooled"],
                    bare_hostile["plain_lines"]["_pooled"],
                )
    for section in (hostile, bare_hostile):
        for case in section.values():
            case.pop("_pooled", None)
    for kind, case in hostile.items():
        if kind != "plain_lines":
            ratio = case["p99_vs_plain"]
            report["goals"][f"{kind}_p99_le_plain"] = ratio is not None and ratio <= 1.0
            added = case.get("p99_added_ms")
            if added is not None and plain_added is not None:
                report["goals"][f"{kind}_added_p99_le_plain"] = added <= max(plain_added, 0)
            report["goals"][f"{kind}_feeder_alive"] = case["feeder_alive"] and case["ended"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
