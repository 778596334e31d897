"""Start to first painted list vs `virsh list --all`, 1000 domains through the daemon.

The app: `virttui --connect test+unix:///...` spawned on an 80x24 pty (TERM=xterm-256color); the
clock starts just before the spawn. "Painted" is the arrival of the first complete frame (frames
are delimited by synchronized-output markers, which our pty answers "supported" to, like kitty,
foot, WezTerm or VTE) showing the column header (`Name ... State`) and the host row; "rows" is the
first frame with the domains listed (the host row says "1000 domains"). The app is then quit.
The baseline: `virsh -c test+unix:///... list --all` to completion (output to a pipe), which
includes the same connection set-up (libvirtd parsing the 1.3 MB node XML for the new connection,
about 1 s of the total).

Runs are interleaved (virsh, app, virsh, app, ...) and medians reported. Each run is a fresh
process; the OS file cache is warm after the first (as it is for a user).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    VIRSH,
    PtyApp,
    bare_env,
    bench_host,
    emit,
    header_painted,
    log,
    median,
    ratio,
    rows_painted,
    summary,
    virttui_argv,
)

RUNS = 5


def _virsh_list(uri: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([VIRSH, "-c", uri, "list", "--all"], capture_output=True, check=True)
    elapsed = time.perf_counter() - t0
    if out.stdout.count(b"\n") < 1000:
        raise RuntimeError("virsh list did not list the domains")
    return elapsed


def _app_once(uri: str) -> tuple[float, float]:
    app = PtyApp(virttui_argv(uri), env=bare_env())
    try:
        t0 = app.start()
        painted = app.wait_for(header_painted(uri), 30) - t0
        rows = app.wait_for(rows_painted(), 60) - t0
    finally:
        app.stop()
    return painted, rows


def run(uri: str, runs: int = RUNS) -> dict[str, Any]:
    log(f"startup: app first paint / first rows vs virsh list --all, {runs} runs each")
    _virsh_list(uri)  # warm the binaries and the daemon once; not counted
    virsh: list[float] = []
    painted: list[float] = []
    rows: list[float] = []
    for i in range(runs):
        if i % 2 == 0:
            virsh.append(_virsh_list(uri))
        p, r = _app_once(uri)
        painted.append(p)
        rows.append(r)
        if i % 2 == 1:
            virsh.append(_virsh_list(uri))
    v, p, r = median(virsh), median(painted), median(rows)
    return {
        "what": "spawn to first complete frame with the header and host row (painted) and to the "
        "first frame listing the 1000 domains (rows), on an 80x24 pty, vs virsh list --all",
        "app_first_paint_ms": summary(painted),
        "app_first_rows_ms": summary(rows),
        "virsh_list_all_ms": summary(virsh),
        "ratio_first_paint_to_virsh": ratio(p, v),
        "ratio_first_rows_to_virsh": ratio(r, v),
        "goal_ratio_max": 1.5,
        "pass": p <= 1.5 * v,
        "pass_first_rows_too": r <= 1.5 * v,
    }


def main() -> None:
    with bench_host() as uri:
        emit(run(uri))


if __name__ == "__main__":
    main()
