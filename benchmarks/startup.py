"""Start to the first frame listing domains vs `virsh list --all`, 1000 domains through the daemon.

Two hosts of 1000 domains each, served by libvirtd from a test-driver node XML: the heavy one (the
benchmarks' usual host: 1-2 disks and 1-2 NICs per domain, 1.3 MB) and a light one (the same
domains with one disk and one NIC each). For each:

The app: `virttui --connect test+unix:///...` spawned on an 80x24 pty (TERM=xterm-256color); the
clock starts just before the spawn. Frames are delimited by synchronized-output markers, which our
pty answers "supported" to (like kitty, foot, WezTerm or VTE), so a frame is judged whole. The
figure is "rows": the arrival of the first complete frame that lists domains (the status line
counts "1000 domains" and at least five lines show a state word); a frame with only the column
header and the host line is not a painted list. "painted" (header and host line) is reported too.
The app is then quit.

The baseline: `virsh -c test+unix:///... list --all` to completion (output to a pipe), which
includes the same connection set-up (libvirtd parsing the node XML for the new connection, most of
virsh's time).

Each run starts from a settled daemon: before it, libvirtd's CPU time must stop growing (the
connection of the run before is torn down, which for 1000 domains takes a while), or a few seconds
pass (the machine is shared; other clients may keep it busy). Runs are interleaved (app, virsh,
app, virsh, ...) and medians reported; the goal is rows <= 1.2x virsh on both hosts. Each run is a
fresh process; the OS file cache is warm after the first (as it is for a user).

Before/after on a noisy machine: `VIRTTUI_BENCH_COMPARE_SRC=/path/to/other/src` runs a second app,
the same console script with that source tree first on PYTHONPATH (e.g. `git archive main src`),
as one more contender in the same interleaved loop (app, other, virsh, ...), reported as
`compare` with its own ratio to the same virsh runs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    N_DOMAINS,
    VIRSH,
    PtyApp,
    bare_env,
    bench_host,
    cpu_seconds,
    emit,
    header_painted,
    log,
    median,
    ratio,
    rows_painted,
    summary,
    virttui_argv,
)

from virttui.core.host.nodexml import node_uri, write_node_xml  # noqa: E402

RUNS = 7
GOAL_RATIO = 1.2
SETTLE_WINDOW = 0.3  # seconds of (almost) no daemon CPU that count as settled
SETTLE_CPU = 0.015  # CPU seconds the daemon may use within that window
SETTLE_MAX = 6.0  # give up waiting after this long (someone else keeps the daemon busy)


@contextlib.contextmanager
def light_host(n_domains: int = N_DOMAINS) -> Iterator[str]:
    """The light host: the same domains with one disk and one NIC each (temp dir, removed after)."""
    with tempfile.TemporaryDirectory(prefix="virttui-bench-light-") as tmp:
        os.chmod(tmp, 0o755)  # libvirtd reads the file itself
        path = write_node_xml(Path(tmp) / f"node-{n_domains}-light.xml", n_domains, light=True)
        yield node_uri(path, daemon=True)


def _daemon() -> psutil.Process | None:
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "libvirtd":
            return proc
    return None


def settle(daemon: psutil.Process | None) -> float:
    """Wait until the daemon's CPU time stops growing; returns the seconds waited."""
    t0 = time.perf_counter()
    if daemon is None:
        return 0.0
    try:
        last = cpu_seconds(daemon)
        while time.perf_counter() - t0 < SETTLE_MAX:
            time.sleep(SETTLE_WINDOW)
            now = cpu_seconds(daemon)
            if now - last <= SETTLE_CPU:
                break
            last = now
    except psutil.Error:
        pass
    return time.perf_counter() - t0


def _virsh_list(uri: str, n_domains: int) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([VIRSH, "-c", uri, "list", "--all"], capture_output=True, check=True)
    elapsed = time.perf_counter() - t0
    if out.stdout.count(b"\n") < n_domains:
        raise RuntimeError("virsh list did not list the domains")
    return elapsed


def _app_once(uri: str, n_domains: int, src: str | None = None) -> tuple[float, float]:
    env = bare_env()
    if src:
        env["PYTHONPATH"] = src
    app = PtyApp(virttui_argv(uri), env=env)
    app.mark_when("painted", header_painted(uri))
    try:
        t0 = app.start()
        rows = app.wait_for(rows_painted(n_domains), 60) - t0
    finally:
        app.stop()
    # The header and host line came with the rows or before them.
    return app.marked.get("painted", t0 + rows) - t0, rows


def measure(
    uri: str, runs: int = RUNS, n_domains: int = N_DOMAINS, compare_src: str | None = None
) -> dict[str, Any]:
    """Interleaved runs (app, [other app,] virsh, app, ...), each from a settled daemon."""
    daemon = _daemon()
    settle(daemon)
    _virsh_list(uri, n_domains)  # warm the binaries and the daemon once; not counted
    virsh: list[float] = []
    painted: list[float] = []
    rows: list[float] = []
    other_painted: list[float] = []
    other_rows: list[float] = []
    waited: list[float] = []
    for _ in range(runs):
        waited.append(settle(daemon))
        p, r = _app_once(uri, n_domains)
        painted.append(p)
        rows.append(r)
        if compare_src:
            waited.append(settle(daemon))
            p, r = _app_once(uri, n_domains, compare_src)
            other_painted.append(p)
            other_rows.append(r)
        waited.append(settle(daemon))
        virsh.append(_virsh_list(uri, n_domains))
    v, p, r = median(virsh), median(painted), median(rows)
    compare: dict[str, Any] = {}
    if compare_src:
        compare = {
            "compare": {
                "src": compare_src,
                "app_first_rows_ms": summary(other_rows),
                "app_first_paint_ms": summary(other_painted),
                "ratio_first_rows_to_virsh": ratio(median(other_rows), v),
                "ratio_first_rows_to_virsh_best": ratio(median(other_rows), min(virsh)),
                "ratio_first_paint_to_virsh": ratio(median(other_painted), v),
            }
        }
    return {
        "app_first_rows_ms": summary(rows),
        "app_first_paint_ms": summary(painted),
        "virsh_list_all_ms": summary(virsh),
        "ratio_first_rows_to_virsh": ratio(r, v),
        "ratio_first_rows_to_virsh_best": ratio(r, min(virsh)),
        "ratio_first_paint_to_virsh": ratio(p, v),
        "settle_wait_ms": summary(waited),
        "pass": r <= GOAL_RATIO * v,
        **compare,
    }


def run(uri: str, runs: int = RUNS) -> dict[str, Any]:
    """`uri`: the heavy host (the benchmarks' shared one); the light one is made here."""
    log(f"startup: app first rows vs virsh list --all, heavy and light node XML, {runs} runs each")
    compare_src = os.environ.get("VIRTTUI_BENCH_COMPARE_SRC") or None
    heavy = measure(uri, runs, compare_src=compare_src)
    log(f"startup heavy: rows/virsh {heavy['ratio_first_rows_to_virsh']}")
    with light_host() as light_uri:
        light = measure(light_uri, runs, compare_src=compare_src)
    log(f"startup light: rows/virsh {light['ratio_first_rows_to_virsh']}")
    return {
        "what": "spawn to the first complete frame listing the 1000 domains (rows; painted = "
        "header and host line only), on an 80x24 pty, vs virsh list --all on the same URI; "
        "interleaved runs from a settled libvirtd, medians",
        "heavy": heavy,
        "light": light,
        "goal_ratio_max": GOAL_RATIO,
        "pass": heavy["pass"] and light["pass"],
    }


def main() -> None:
    runs = int(os.environ.get("VIRTTUI_BENCH_RUNS", RUNS))
    with bench_host() as uri:
        emit(run(uri, runs))


if __name__ == "__main__":
    main()
