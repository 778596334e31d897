"""Shared pieces of the benchmarks: the 1000-domain host, statistics, JSON, and a pty driver.

The host is a libvirt test-driver node XML served through the daemon (`test+unix:///path.xml`), so
every figure includes the real RPC path (socket, XDR, libvirtd) like a real host would. The
benchmarks import only the standard library, psutil, pyte and virttui's core (never Textual at
module level) so that the measuring process stays light; the app under test always runs in its
own process unless a benchmark says otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
import pyte

from virttui.core.host.nodexml import node_uri, write_node_xml

N_DOMAINS = 1000
COLS, ROWS = 80, 24
BIN = Path(sys.executable).parent
VIRTTUI = str(BIN / "virttui") if (BIN / "virttui").exists() else shutil.which("virttui")
VIRSH = shutil.which("virsh") or "virsh"
SYNC_QUERY = b"\x1b[?2026$p"  # DECRQM: does the terminal support synchronized output?
SYNC_REPLY = b"\x1b[?2026;2$y"  # DECRPM: supported, currently off
SYNC_BEGIN = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
STATE_WORDS = ("running", "shutoff", "paused", "crashed", "blocked", "pmsusp", "shutdown")


# --------------------------------------------------------------------------- the host
@contextlib.contextmanager
def bench_host(n_domains: int = N_DOMAINS) -> Iterator[str]:
    """Yield the daemon URI of a fresh `n_domains` node XML in a temp dir (removed afterwards).

    `VIRTTUI_BENCH_URI` reuses a host another script (run_all) already made.
    """
    shared = os.environ.get("VIRTTUI_BENCH_URI")
    if shared:
        yield shared
        return
    with tempfile.TemporaryDirectory(prefix="virttui-bench-") as tmp:
        os.chmod(tmp, 0o755)  # libvirtd reads the file itself
        path = write_node_xml(Path(tmp) / f"node-{n_domains}.xml", n_domains)
        yield node_uri(path, daemon=True)


# --------------------------------------------------------------------------- statistics
def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (the same definition as numpy's default)."""
    if not values:
        return math.nan
    data = sorted(values)
    k = (len(data) - 1) * pct / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def summary(values: Sequence[float], scale: float = 1000.0, digits: int = 2) -> dict[str, Any]:
    """n, median, p90, p99, min, max; seconds become milliseconds with the default scale."""

    def r(x: float) -> float:
        return round(x * scale, digits)

    return {
        "n": len(values),
        "median": r(median(values)),
        "p90": r(percentile(values, 90)),
        "p99": r(percentile(values, 99)),
        "min": r(min(values)) if values else math.nan,
        "max": r(max(values)) if values else math.nan,
    }


def ratio(a: float, b: float, digits: int = 2) -> float:
    return round(a / b, digits) if b else math.inf


def emit(doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays one JSON document."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def bare_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIRTTUI_BENCH_URI", None)
    return env


# --------------------------------------------------------------------------- the pty driver
class PtyApp:
    """A program on a pseudo-terminal whose output is read at once and fed to a pyte screen.

    A reader thread timestamps every chunk *when `read()` returns* (before pyte parses it) and
    checks the armed predicate against the screen after each chunk that leaves no frame half
    written, so a wait reports the arrival time of the chunk that completed the matching frame:
    our own parsing never counts.
    """

    def __init__(
        self, argv: Sequence[str], *, cols: int = COLS, rows: int = ROWS, env: dict[str, str] | None
    ) -> None:
        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self.env = dict(os.environ if env is None else env)
        self.env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.env.pop("TEXTUAL", None)
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        self.bytes_read = 0
        self._watch: tuple[Callable[[pyte.Screen], bool], threading.Event, list[float]] | None = (
            None
        )
        self._master = -1
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._reader: threading.Thread | None = None
        self._tail = b""
        self._in_frame = False
        # Passive predicates: the arrival time of the first chunk after which each held.
        self._marks: dict[str, Callable[[pyte.Screen], bool]] = {}
        self.marked: dict[str, float] = {}

    def start(self) -> float:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self._master = master
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()
        return self.started_at

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            now = time.perf_counter()
            if not data:
                return
            scan = self._tail + data
            self._tail = scan[-16:]
            if SYNC_QUERY in scan:
                # Answer like a modern terminal: "synchronized output supported". Textual then
                # wraps every frame in begin/end markers, so a frame is judged whole, never torn.
                with contextlib.suppress(OSError):
                    os.write(self._master, SYNC_REPLY)
            start, end = scan.rfind(SYNC_BEGIN), scan.rfind(SYNC_END)
            if start != end:
                self._in_frame = start > end
            with self.lock:
                self.bytes_read += len(data)
                self.stream.feed(data)
                if not self._in_frame:
                    for name, predicate in list(self._marks.items()):
                        if predicate(self.screen):
                            self.marked[name] = now
                            del self._marks[name]
                watch = self._watch
                if watch is not None and not self._in_frame and watch[0](self.screen):
                    watch[2].append(now)
                    watch[1].set()
                    self._watch = None

    def mark_when(self, name: str, predicate: Callable[[pyte.Screen], bool]) -> None:
        """Record in `marked[name]` the arrival time of the chunk after which `predicate` first
        held (set up before `start()`; read after a `wait_for` that comes later)."""
        with self.lock:
            self._marks[name] = predicate

    def wait_for(self, predicate: Callable[[pyte.Screen], bool], timeout: float) -> float:
        """Arrival time (perf_counter) of the chunk after which `predicate(screen)` held."""
        event = threading.Event()
        hit: list[float] = []
        with self.lock:
            if predicate(self.screen):
                return time.perf_counter()
            self._watch = (predicate, event, hit)
        if not event.wait(timeout):
            with self.lock:
                self._watch = None
            raise TimeoutError(f"screen did not match within {timeout}s:\n{self.text()}")
        return hit[0]

    def write(self, data: bytes) -> float:
        """Write to the terminal (a key press); returns the time just before the write."""
        t = time.perf_counter()
        os.write(self._master, data)
        return t

    def press_and_wait(
        self, key: bytes, predicate: Callable[[pyte.Screen], bool], timeout: float
    ) -> float:
        """Seconds from writing `key` until the screen matches `predicate` (armed before writing)."""
        event = threading.Event()
        hit: list[float] = []
        with self.lock:
            self._watch = (predicate, event, hit)
        t0 = self.write(key)
        if not event.wait(timeout):
            with self.lock:
                self._watch = None
            raise TimeoutError(f"no repaint within {timeout}s after {key!r}:\n{self.text()}")
        return hit[0] - t0

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def stop(self, timeout: float = 5.0) -> None:
        """Quit like a user (q), then terminate our child if it is still there."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                os.write(self._master, b"q")
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._master)
        if self._reader is not None:
            self._reader.join(1.0)
        self.proc = None

    def __enter__(self) -> PtyApp:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def virttui_argv(uri: str, refresh: float = 1.0) -> list[str]:
    if VIRTTUI is None:
        raise SystemExit("the virttui console script is not installed (make venv)")
    return [VIRTTUI, "--connect", uri, "--refresh", f"{refresh:g}"]


# --------------------------------------------------------------------------- screen predicates
def header_painted(uri: str) -> Callable[[pyte.Screen], bool]:
    """The list is painted: the column header line and the host row (its URI label) are on screen."""
    label = uri[: COLS - 20]

    def check(screen: pyte.Screen) -> bool:
        lines = screen.display
        header = any(line.startswith("Name") and "State" in line for line in lines)
        return header and any(label in line for line in lines)

    return check


def rows_painted(n_domains: int = N_DOMAINS) -> Callable[[pyte.Screen], bool]:
    """The domains are listed: the host row counts them and domain lines (a state word) show."""
    count = f"{n_domains} domains"

    def check(screen: pyte.Screen) -> bool:
        lines = screen.display
        if not any(count in line for line in lines):
            return False
        return sum(1 for line in lines if any(w in line for w in STATE_WORDS)) >= 5

    return check
