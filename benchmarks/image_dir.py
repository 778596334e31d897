"""A directory of 200 small qcow2 images: the file browser's listing vs sequential `qemu-img info`.

Set-up: 200 qcow2 images of 16 MiB virtual size (a few hundred KiB each) in a temp dir, made once.

- baseline: `qemu-img info --output=json -U PATH` for each file, one after the other (what a
  script or a browser probing file by file does), to completion;
- core: `core/storage/files.browse` on the same directory (the listing, then the probes in its
  thread pool), from the call until every row has its info; the time to the first rows (the
  listing handed to the screen) is reported too;
- screen: the actual `FileBrowserScreen` in a headless Textual app (Pilot, in this process),
  from `open_file_browser` until the table holds 200 rows none of which is still pending.

Runs are interleaved (baseline, core, screen, baseline, core, screen, ...) on the same warm
directory and medians reported; the goal is >= 1.5x faster than the baseline (2-core machine)
for both the core listing and the screen, each as a ratio to the same baseline median (the
app's own start-up is outside the screen's measured window). JSON on stdout.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, log, median  # noqa: E402

from virttui.core.jobs import JobContext  # noqa: E402
from virttui.core.storage.files import PROBE_WORKERS, browse  # noqa: E402

N_IMAGES = 200
ROUNDS = 5
GOAL = 1.5


def make_images(directory: Path, n: int = N_IMAGES) -> list[Path]:
    paths = [directory / f"img-{i:03d}.qcow2" for i in range(n)]
    for path in paths:
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"],
            check=True,
            capture_output=True,
        )
    return paths


def sequential(paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        subprocess.run(
            ["qemu-img", "info", "--output=json", "-U", str(path)],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def core(directory: Path) -> tuple[float, float]:
    """(seconds until all rows have info, seconds until the first rows were handed over)."""
    first: list[float] = []
    started = time.perf_counter()

    def on_rows(_rows: object) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    listing = browse(JobContext(0, lambda _m: None), str(directory), on_rows=on_rows)
    elapsed = time.perf_counter() - started
    images = sum(1 for r in listing.rows if r.info is not None)
    if images != N_IMAGES:
        raise RuntimeError(f"the browse found {images} images, not {N_IMAGES}")
    return elapsed, first[0] if first else elapsed


def screen(directory: Path) -> float | None:
    """Seconds from open_file_browser until the table shows 200 filled rows (Pilot)."""
    from virttui.app import HostSpec, VirtTUIApp
    from virttui.screens.storage.files import FileBrowserScreen, open_file_browser

    result: list[float] = []

    async def run() -> None:
        app = VirtTUIApp([HostSpec("test:///default")], refresh=3600.0)
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 30
            while app.facade("test:///default") is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            started = time.perf_counter()
            browser = open_file_browser(app, "test:///default", str(directory))
            assert isinstance(browser, FileBrowserScreen)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                rows = browser.rows
                table_rows = browser.table.row_count if browser.is_mounted else 0
                if (
                    len(rows) == N_IMAGES
                    and table_rows >= N_IMAGES
                    and all(r.info is not None for r in rows.values())
                ):
                    result.append(time.perf_counter() - started)
                    return
                await asyncio.sleep(0.01)  # not pilot.pause: the harness stays light

    asyncio.run(run())
    return result[0] if result else None


def run() -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="virttui-bench-images-"))
    try:
        log(f"image_dir: making {N_IMAGES} qcow2 images in {tmp}")
        paths = make_images(tmp)
        sequential(paths[:20])  # warm the page cache and qemu-img's libraries
        seq_runs: list[float] = []
        core_runs: list[float] = []
        first_rows: list[float] = []
        screen_runs: list[float] = []
        for i in range(ROUNDS):
            seq_runs.append(sequential(paths))
            total, first = core(tmp)
            core_runs.append(total)
            first_rows.append(first)
            seconds = screen(tmp)
            if seconds is not None:
                screen_runs.append(seconds)
            log(
                f"image_dir round {i + 1}: sequential {seq_runs[-1]:.2f}s, browse {total:.2f}s, "
                f"screen {seconds if seconds is not None else float('nan'):.2f}s"
            )
        seq_ms = median(seq_runs) * 1000
        core_ms = median(core_runs) * 1000
        screen_ms = median(screen_runs) * 1000 if screen_runs else None
        speedup = seq_ms / core_ms
        return {
            "images": N_IMAGES,
            "workers": PROBE_WORKERS,
            "cpus": os.cpu_count(),
            "rounds": ROUNDS,
            "sequential_qemu_img_info_ms": {
                "median": round(seq_ms, 1),
                "runs": [round(s * 1000, 1) for s in seq_runs],
            },
            "browse_all_rows_with_info_ms": {
                "median": round(core_ms, 1),
                "runs": [round(s * 1000, 1) for s in core_runs],
            },
            "browse_first_rows_ms": {"median": round(median(first_rows) * 1000, 1)},
            "screen_all_rows_filled_ms": {
                "median": None if screen_ms is None else round(screen_ms, 1),
                "runs": [round(s * 1000, 1) for s in screen_runs],
            },
            "speedup_browse_vs_sequential": round(speedup, 2),
            "speedup_screen_vs_sequential": (
                None if screen_ms is None else round(seq_ms / screen_ms, 2)
            ),
            "goal": f">= {GOAL}x faster (the core listing and the screen)",
            "pass_browse": speedup >= GOAL,
            "pass_screen": screen_ms is not None and seq_ms / screen_ms >= GOAL,
            "pass": speedup >= GOAL and screen_ms is not None and seq_ms / screen_ms >= GOAL,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    emit({"image_dir": run()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
