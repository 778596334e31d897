"""`qemu-img convert` of a 2 GiB image with data: through virttui's job and progress pipeline
(`core/storage/qemu_img.convert` in a `Job`, `-p` lines parsed into `JobProgress` with an ETA,
delivered to a sink on another thread as the UI bridge does) vs bare `qemu-img convert` of the
same image, in the same run.

A warm-up copy (not counted) puts the source in the page cache; rounds alternate the order
(bare first, then ours; then ours first) so the cache and the shared machine's load treat both
alike, and each copy is removed and synced outside the timed window; medians are reported. Goal: ours <= 1.02x bare wall time.
The image and its copies live in a temp dir that is removed at the end.
"""

from __future__ import annotations

import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, log, median, ratio  # noqa: E402

from virttui.core.jobs import Job, JobDone, JobMessage, JobProgress  # noqa: E402
from virttui.core.storage import qemu_img as Q  # noqa: E402

SIZE_GIB = int(os.environ.get("VIRTTUI_BENCH_CONVERT_GIB", "2"))
ROUNDS = int(os.environ.get("VIRTTUI_BENCH_CONVERT_ROUNDS", "8"))  # even: each order as often
GOAL = 1.02
SETTLE_S = float(os.environ.get("VIRTTUI_BENCH_CONVERT_SETTLE", "0"))  # pause between copies


def work_dir() -> str:
    """Where the images go: `VIRTTUI_BENCH_CONVERT_DIR`, else /dev/shm when it has room for the
    source and a copy with a margin (memory: no disk writeback noise from a shared machine, so
    the ratio shows the pipeline's own cost), else /var/tmp."""
    chosen = os.environ.get("VIRTTUI_BENCH_CONVERT_DIR")
    if chosen:
        return chosen
    try:
        stats = os.statvfs("/dev/shm")
        if stats.f_bavail * stats.f_frsize > (3 * SIZE_GIB + 4) << 30:
            return "/dev/shm"
    except OSError:
        pass
    return "/var/tmp"


def make_source(path: Path, gib: int) -> None:
    """A qcow2 image of `gib` GiB, every cluster written (a different pattern per 256 MiB)."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), f"{gib}G"], check=True)
    chunk = 256 << 20
    commands: list[str] = []
    for i in range((gib << 30) // chunk):
        commands += ["-c", f"write -P {0x11 + i % 200} {i * chunk} {chunk}"]
    subprocess.run(
        ["qemu-io", "-f", "qcow2", *commands, str(path)], check=True, capture_output=True
    )


CPU_S: list[float] = []  # the pipeline's own CPU per run of ours()


def bare(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["qemu-img", "convert", "-p", "-O", "qcow2", str(src), str(dst)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def ours(src: Path, dst: Path) -> tuple[float, int]:
    """Wall time from starting the job to its JobDone reaching the consumer thread; the CPU
    this process spent meanwhile (every thread: job, pipe reader, progress parsing, consumer)
    is added to CPU_S."""
    inbox: queue.Queue[JobMessage] = queue.Queue()
    progress = 0
    last: list[JobMessage] = []

    def consume() -> None:  # stands in for the UI thread
        nonlocal progress
        while True:
            message = inbox.get()
            if isinstance(message, JobProgress):
                progress += 1
            else:
                last.append(message)
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    cpu0 = time.process_time()
    start = time.perf_counter()
    job: Job[None] = Job(lambda ctx: Q.convert(ctx, str(src), str(dst)), inbox.put)
    runner = threading.Thread(target=job.run)
    runner.start()
    runner.join()
    consumer.join()
    elapsed = time.perf_counter() - start
    CPU_S.append(time.process_time() - cpu0)
    if not isinstance(last[0], JobDone):
        raise RuntimeError(f"convert through the job failed: {last[0]}")
    return elapsed, progress


def run() -> dict[str, Any]:
    where = work_dir()
    with tempfile.TemporaryDirectory(prefix="virttui-bench-convert-", dir=where) as tmp:
        src = Path(tmp) / "source.qcow2"
        log(f"convert: writing a {SIZE_GIB} GiB source image")
        make_source(src, SIZE_GIB)
        dst = Path(tmp) / "target.qcow2"
        os.sync()
        log("convert: warm-up (not counted)")
        bare(src, dst)  # reads the source into the page cache, as later rounds find it
        dst.unlink()
        os.sync()
        bare_s: list[float] = []
        ours_s: list[float] = []
        events: list[int] = []
        # (which, position in its round) -> times: the second copy of a round runs measurably
        # slower here (tmpfs pages just freed), so ours is compared with bare at the same place.
        by_place: dict[tuple[str, int], list[float]] = {}
        for round_no in range(ROUNDS):
            order = ("bare", "ours") if round_no % 2 == 0 else ("ours", "bare")
            for place, which in enumerate(order):
                if which == "bare":
                    seconds = bare(src, dst)
                    bare_s.append(seconds)
                else:
                    seconds, count = ours(src, dst)
                    ours_s.append(seconds)
                    events.append(count)
                by_place.setdefault((which, place), []).append(seconds)
                log(f"convert: round {round_no + 1} {which}: {seconds:.2f}s")
                # The copy's dirty pages are written back outside the timed window, so one
                # run's writeback never lands in the next one's time.
                dst.unlink()
                os.sync()
                time.sleep(SETTLE_S)
        figure, baseline = median(ours_s), median(bare_s)
        # The goal's figure: ours vs bare at the same place in a round (geometric mean of the
        # first-place and second-place median ratios), so the order effect cancels.
        places = [
            median(by_place[("ours", k)]) / median(by_place[("bare", k)])
            for k in (0, 1)
            if by_place.get(("ours", k)) and by_place.get(("bare", k))
        ]
        rel = (
            round(math.prod(places) ** (1 / len(places)), 3)
            if places
            else ratio(figure, baseline, 3)
        )
        return {
            "image_gib": SIZE_GIB,
            "dir": where,
            "rounds": ROUNDS,
            "bare_s": [round(x, 3) for x in bare_s],
            "ours_s": [round(x, 3) for x in ours_s],
            "progress_events": events,
            "median_bare_s": round(baseline, 3),
            "median_ours_s": round(figure, 3),
            "ratio_ours_to_bare_all": ratio(figure, baseline, 3),
            "ratio_by_place": [round(x, 3) for x in places],
            "ratio_ours_to_bare": rel,
            # The fastest run of each: the least disturbed by the shared machine's other work.
            "min_bare_s": round(min(bare_s), 3),
            "min_ours_s": round(min(ours_s), 3),
            "ratio_min_ours_to_bare": ratio(min(ours_s), min(bare_s), 3),
            # What the pipeline itself costs, immune to the machine's noise: this process's CPU
            # (qemu-img's is not in it) per copy, as a share of bare qemu-img's wall time.
            "pipeline_cpu_s_median": round(median(CPU_S), 4),
            "pipeline_cpu_share_of_bare": round(median(CPU_S) / baseline, 4),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "goal": f"<= {GOAL}x",
            "pass": rel <= GOAL,
        }


def main() -> int:
    result = run()
    emit({"convert": result})
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
