"""One refresh with 1000 domains: our model + table update vs the bare RPC vs `virsh domstats`.

What "one refresh" means here is the whole path a poll takes through the real objects, run inside
the real app (`VirtTUIApp` under `App.run_test(size=(80, 24))`, polling disabled so nothing runs
concurrently), timed piece by piece on one thread:

1. `HostConnection._poll(conn)`: the `getAllDomainStats` RPC, `parse_record` for every record, the
   cached `info()` fill-in (the test driver's bulk stats only carry the state), the rate tracker;
2. `app.on_host_sampled(...)`: `DomainStore.apply_rows` + `DomainsScreen.refresh_view`
   (`DomainTable.sync`: order, cursor, virtual size; the status line);
3. the repaint, through Textual's own machinery: the table's and the status line's `refresh()`
   become `Update` messages to the screen, the screen's frame timer fires, the compositor renders
   the dirty lines (`DomainTable.render_line` for the visible rows) and hands the update to
   `App._display`. Headless, `_display` writes nothing, so the benchmark wraps it and renders the
   update to terminal escape codes (`render_segments`), as the Linux driver would; the clock stops
   when that is done. This part includes the event loop's message hops (a few tenths of a ms).

The refresh runs on the UI thread here (the real app runs step 1 on the poller thread, which is the
same work). The bare RPC runs on the same connection, interleaved with ours, same count.
`virsh domstats` is timed twice: as the one-shot command a user types (connect + RPC + print: the
goal's baseline) and, stricter, inside one persistent `virsh` shell (RPC + formatting only).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import VIRSH, bench_host, emit, log, median, ratio, summary  # noqa: E402

ROUNDS = 40
VIRSH_ROUNDS = 5


def _time_virsh_oneshot(uri: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [VIRSH, "-q", "-c", uri, "domstats"], capture_output=True, check=True
    ).stdout
    return time.perf_counter() - t0, out.count(b"Domain:")


class VirshShell:
    """One `virsh` process kept open; each command is followed by `echo` to find its end."""

    def __init__(self, uri: str) -> None:
        self.proc = subprocess.Popen(
            [VIRSH, "-q", "-c", uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self.n = 0
        self.run("version")  # connects

    def run(self, command: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.n += 1
        marker = f"VIRTTUI-BENCH-{self.n}\n".encode()
        t0 = time.perf_counter()
        self.proc.stdin.write(f"{command}\necho {marker.decode()}".encode())
        buf = b""
        while marker not in buf:
            chunk = self.proc.stdout.read(1 << 20)  # raw pipe: returns what is there
            if not chunk:
                raise RuntimeError("virsh exited")
            buf += chunk
        return time.perf_counter() - t0

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


async def _measure_app(uri: str, rounds: int) -> dict[str, Any]:
    from textual._compositor import CompositorUpdate

    from virttui.app import HostSampled, HostSpec, VirtTUIApp
    from virttui.core.host.stats import STATS_FLAGS

    app = VirtTUIApp([HostSpec(uri)], refresh=3600.0)  # one poll at connect, then none of its own
    painted: list[int] = []
    painted_at: list[float] = []
    repainted = asyncio.Event()
    original_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        original_display(screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            painted.append(len(renderable.render_segments(app.console)))
            painted_at.append(time.perf_counter())
            repainted.set()

    app._display = display  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 60
        while app.store.domain_count() < 1000 or not app.hosts:
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not list the domains within 60 s")
            await pilot.pause(0.05)
        host = app.hosts[uri]
        conn = host._conn
        assert conn is not None
        await pilot.pause(0.2)
        rows: dict[str, list[float]] = {
            k: []
            for k in (
                "bare_rpc",
                "ours",
                "rpc",
                "parse_rates",
                "model_sync",
                "repaint",
                "ours_forced_repaint",
            )
        }
        bytes_out: list[int] = []
        skipped = 0
        table = app.screen.query_one("DomainTable")
        for i in range(rounds + 3):
            await pilot.pause()  # let Textual settle between rounds, like between real polls
            order = (0, 1) if i % 2 == 0 else (1, 0)
            repainted.clear()
            for which in order:
                if which == 0:
                    t0 = time.perf_counter()
                    conn.getAllDomainStats(STATS_FLAGS, 0)
                    bare = time.perf_counter() - t0
                    continue
                painted.clear()
                t0 = time.perf_counter()
                snap = host._poll(conn)
                t1 = time.perf_counter()
                app.on_host_sampled(HostSampled(uri, snap))
                t2 = time.perf_counter()
                # The table repaints only when a visible row changed; the test driver's counters
                # never move, so an idle refresh usually paints nothing. Wait a frame to be sure.
                try:
                    await asyncio.wait_for(repainted.wait(), 0.1)
                    t3, nbytes = painted_at[-1], painted[-1]
                except TimeoutError:
                    t3, nbytes = t2, 0
                    skipped += i >= 3
                repainted.clear()
                # Worst case as on a busy real host: every visible row changed, full repaint.
                f0 = time.perf_counter()
                snap2 = host._poll(conn)
                app.on_host_sampled(HostSampled(uri, snap2))
                table.refresh()
                await asyncio.wait_for(repainted.wait(), 5.0)
                forced = painted_at[-1] - f0
                repainted.clear()
                ours = (t0, t1, t2, t3, snap.poll_seconds, nbytes, forced)
            if i < 3:
                continue  # warm-up: caches, first rates
            t0, t1, t2, t3, rpc, nbytes, forced = ours
            rows["ours_forced_repaint"].append(forced)
            rows["bare_rpc"].append(bare)
            rows["ours"].append(t3 - t0)
            rows["rpc"].append(rpc)
            rows["parse_rates"].append(t1 - t0 - rpc)
            rows["model_sync"].append(t2 - t1)
            rows["repaint"].append(t3 - t2)
            bytes_out.append(nbytes)
        await pilot.press("q")
    out = {k: summary(v) for k, v in rows.items()}
    out["repaint_bytes_median"] = median(bytes_out)
    out["refreshes_without_repaint"] = skipped
    out["_raw"] = rows
    return out


def run(uri: str) -> dict[str, Any]:
    log("refresh: in-app refresh vs bare RPC")
    app = asyncio.run(_measure_app(uri, ROUNDS))
    raw = app.pop("_raw")
    log("refresh: virsh domstats (one-shot and persistent shell)")
    oneshot: list[float] = []
    records = 0
    shell = VirshShell(uri)
    persistent: list[float] = []
    try:
        shell.run("domstats")  # warm-up
        for _ in range(VIRSH_ROUNDS):
            seconds, records = _time_virsh_oneshot(uri)
            oneshot.append(seconds)
            persistent.append(shell.run("domstats"))
    finally:
        shell.close()
    ours, bare = median(raw["ours"]), median(raw["bare_rpc"])
    per_round_ratio = [o / b for o, b in zip(raw["ours"], raw["bare_rpc"], strict=True)]
    return {
        "what": "one refresh (RPC + parse + rates + DomainStore.apply_rows + DomainTable.sync + "
        "repaint of the visible 80x24 screen when a visible row changed) in the real app, vs the "
        "bare RPC, vs virsh; ours_forced_repaint: the same with a full repaint forced every round",
        "domains": 1000,
        "ms": app,
        "virsh_domstats_oneshot_ms": summary(oneshot),
        "virsh_domstats_oneshot_records": records,
        "virsh_domstats_persistent_shell_ms": summary(persistent),
        "ratio_ours_to_bare_rpc": ratio(ours, bare),
        "ratio_ours_to_bare_rpc_median_of_pairs": round(median(per_round_ratio), 2),
        "ratio_forced_repaint_to_bare_rpc": ratio(median(raw["ours_forced_repaint"]), bare),
        "speedup_vs_virsh_oneshot": ratio(median(oneshot), ours, 1),
        "speedup_vs_virsh_persistent_shell": ratio(median(persistent), ours, 1),
        "goal_ratio_max": 1.5,
        "goal_speedup_vs_virsh_min": 10.0,
        "pass_ratio": ours / bare <= 1.5,
        "pass_virsh": median(oneshot) / ours >= 10.0,
    }


def main() -> None:
    with bench_host() as uri:
        emit(run(uri))


if __name__ == "__main__":
    main()
