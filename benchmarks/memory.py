"""RSS of the app with 1000 domains listed vs a bare `python -c 'import textual, libvirt'`.

The app is the real `virttui` on an 80x24 pty; RSS is read (psutil) once the first domain rows are
painted and a few polls have run, then the highest of five samples one poll apart is reported
(RSS only grows with the history deques). The baseline imports both libraries and waits.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PtyApp, bare_env, bench_host, emit, log, rows_painted, virttui_argv  # noqa: E402

MIB = 2**20
GOAL_MIB = 80.0
BARE = "import sys, textual, libvirt; print('ready', flush=True); sys.stdin.read()"


def _bare_rss() -> tuple[int, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=bare_env(),
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        info = psutil.Process(proc.pid).memory_full_info()
        return info.rss, info.uss
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(5)


def run(uri: str) -> dict[str, Any]:
    log("memory: app RSS with 1000 domains vs bare import")
    bare_rss, bare_uss = _bare_rss()
    app = PtyApp(virttui_argv(uri, refresh=1.0), env=bare_env())
    try:
        app.start()
        app.wait_for(rows_painted(), 60)
        proc = psutil.Process(app.pid)
        time.sleep(3.0)
        samples = []
        for _ in range(5):
            info = proc.memory_full_info()
            samples.append((info.rss, info.uss))
            time.sleep(1.0)
    finally:
        app.stop()
    rss = max(s[0] for s in samples)
    uss = max(s[1] for s in samples)
    return {
        "what": "resident set size of the running app with 1000 domains listed (after 3-8 polls) "
        "vs python -c 'import textual, libvirt'",
        "app_rss_mib": round(rss / MIB, 1),
        "app_uss_mib": round(uss / MIB, 1),
        "bare_import_rss_mib": round(bare_rss / MIB, 1),
        "bare_import_uss_mib": round(bare_uss / MIB, 1),
        "app_minus_bare_rss_mib": round((rss - bare_rss) / MIB, 1),
        "goal_rss_max_mib": GOAL_MIB,
        "pass": rss / MIB <= GOAL_MIB,
    }


def main() -> None:
    with bench_host() as uri:
        emit(run(uri))


if __name__ == "__main__":
    main()
