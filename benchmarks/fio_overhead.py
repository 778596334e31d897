"""The fio panel's overhead (issue 13): the same 4k random-read psync job on a temp file, run
alone (`fio --output-format=json JOBFILE`, a plain subprocess) and run under the panel (the app
headless through `App.run_test`, `FioLiveScreen` watching: `run_fio` with json+ every second,
the interval tracker, the plots redrawn), alternating (alone then panel, panel then alone, …).

Figures: the read IOPS of each run (fio's own final figure), the ratio panel/alone of each pair
and its median (goal >= 0.98), and the app's CPU seconds while watching: this process's CPU
(RUSAGE_SELF: Textual, the job thread, the stream parser, the plots) over the panel run, apart
from fio's (RUSAGE_CHILDREN: fio is a child process). The app runs inside this process on
purpose, unlike the other benchmarks, so the two are told apart.

The file (256 MiB by default) is written once with random data and read once before the rounds,
so every run reads from the page cache: fio is CPU-bound, the case where a watcher's CPU use
would show most; a warm-up run is not counted. The machine is shared and noisy: rounds alternate, medians are reported.
The temp dir is removed at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit, log, median  # noqa: E402

from virttui.core.fio.job import JobFile, parse_jobfile  # noqa: E402

ROUNDS = int(os.environ.get("VIRTTUI_BENCH_FIO_ROUNDS", "3"))
SECONDS = int(os.environ.get("VIRTTUI_BENCH_FIO_SECONDS", "5"))
FILE_MIB = int(os.environ.get("VIRTTUI_BENCH_FIO_MIB", "256"))
GOAL = 0.98


def work_dir() -> str:
    return os.environ.get("VIRTTUI_BENCH_FIO_DIR", "/var/tmp")


def jobfile(path: Path) -> JobFile:
    return parse_jobfile(
        f"[global]\nfilename={path}\nsize={FILE_MIB}m\nioengine=psync\nrw=randread\nbs=4k\n"
        f"time_based\nruntime={SECONDS}\n\n[overhead]\n"
    )


def make_file(path: Path) -> None:
    chunk = 4 << 20
    with open(path, "wb") as f:
        for _ in range(FILE_MIB * (1 << 20) // chunk):
            f.write(os.urandom(chunk))
    with open(path, "rb") as f:  # into the page cache, as every round finds it
        while f.read(chunk):
            pass


def read_iops(doc: dict[str, Any]) -> float:
    return float(sum(job["read"]["iops"] for job in doc["jobs"]))


def alone(jobfile_path: Path) -> tuple[float, float, float]:
    """(read IOPS, wall seconds, fio's CPU seconds) of fio on its own."""
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(  # noqa: S603 - an argv list
        ["fio", "--output-format=json", str(jobfile_path)],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return read_iops(json.loads(out.stdout)), wall, _cpu(children0, children1)


def _cpu(a: resource.struct_rusage, b: resource.struct_rusage) -> float:
    return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)


def panel(job: JobFile) -> dict[str, Any]:
    """The app headless at 80x24 with FioLiveScreen on the job, to its end."""
    from textual.app import App

    from virttui.core.fio.finished import FinishedRun
    from virttui.resources import stylesheets
    from virttui.screens.fio.live import FioLiveScreen
    from virttui.widgets.fio.plots import FioPlots

    finished: list[FinishedRun] = []
    draws: list[int] = []

    class BenchApp(App[None]):
        CSS_PATH = stylesheets()  # type: ignore[assignment]
        on_finished: Any = None

        def on_mount(self) -> None:
            self.push_screen(FioLiveScreen(None, job, on_finished=self.on_finished))

    async def watch() -> tuple[float, float, float]:
        app = BenchApp()
        ended = asyncio.Event()
        done_at: list[float] = []

        def hand_on(run: FinishedRun) -> None:
            done_at.append(time.perf_counter())
            finished.append(run)
            ended.set()

        app.on_finished = hand_on
        async with app.run_test(size=(80, 24)) as pilot:
            self0 = resource.getrusage(resource.RUSAGE_SELF)
            children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            await ended.wait()  # no polling of ours in the measured window
            wall = time.perf_counter() - start
            self1 = resource.getrusage(resource.RUSAGE_SELF)
            children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            draws.append(app.screen.query_one(FioPlots).draws)
            await pilot.press("escape")
            await pilot.pause(0.2)

        return _cpu(self0, self1), _cpu(children0, children1), wall

    app_cpu, fio_cpu, wall = asyncio.run(watch())
    run = finished[0]
    return {
        "iops": read_iops(dict(run.final)),
        "app_cpu_s": app_cpu,
        "fio_cpu_s": fio_cpu,
        "wall_s": wall,
        "intervals": len(run.intervals),
        "plot_draws": draws[0],
    }


def run() -> dict[str, Any]:
    if shutil.which("fio") is None:
        return {"skipped": "fio is not installed", "pass": True}
    with tempfile.TemporaryDirectory(prefix="virttui-bench-fio-", dir=work_dir()) as tmp:
        data = Path(tmp) / "data.bin"
        log(f"fio_overhead: writing a {FILE_MIB} MiB file")
        make_file(data)
        job = jobfile(data)
        jobfile_path = Path(tmp) / "job.fio"
        jobfile_path.write_text(job.text(), encoding="utf-8")
        log("fio_overhead: warm-up run (not counted)")
        alone(jobfile_path)  # the first run of a series measured faster here: not a round
        alone_iops: list[float] = []
        alone_fio_cpu: list[float] = []
        panel_runs: list[dict[str, Any]] = []
        for round_no in range(ROUNDS):
            # the order alternates (alone first, then panel first) so neither always runs second
            order = ("alone", "panel") if round_no % 2 == 0 else ("panel", "alone")
            for which in order:
                if which == "alone":
                    iops, wall, fio_cpu = alone(jobfile_path)
                    alone_iops.append(iops)
                    alone_fio_cpu.append(fio_cpu)
                    log(
                        f"fio_overhead: round {round_no + 1} alone: {iops:.0f} IOPS "
                        f"({wall:.1f} s, fio CPU {fio_cpu:.2f} s)"
                    )
                else:
                    result = panel(job)
                    panel_runs.append(result)
                    log(
                        f"fio_overhead: round {round_no + 1} panel: {result['iops']:.0f} IOPS, "
                        f"app CPU {result['app_cpu_s']:.2f} s over {result['wall_s']:.1f} s, "
                        f"fio CPU {result['fio_cpu_s']:.2f} s"
                    )
        panel_iops = [r["iops"] for r in panel_runs]
        pairs = [p / a for p, a in zip(panel_iops, alone_iops, strict=True) if a > 0]
        figure = round(median(pairs), 3)
        app_cpu = [r["app_cpu_s"] for r in panel_runs]
        walls = [r["wall_s"] for r in panel_runs]
        # IOPS per CPU second fio got: what a busy machine does to both alike cancels out; the
        # ratio shows what json+ every second costs fio itself
        alone_eff = [i / c for i, c in zip(alone_iops, alone_fio_cpu, strict=True) if c > 0]
        panel_eff = [r["iops"] / r["fio_cpu_s"] for r in panel_runs if r["fio_cpu_s"] > 0]
        return {
            "job": f"4k randread psync, {FILE_MIB} MiB file (page cache), runtime {SECONDS} s",
            "dir": work_dir(),
            "rounds": ROUNDS,
            "alone_iops": [round(x) for x in alone_iops],
            "panel_iops": [round(x) for x in panel_iops],
            "ratio_pairs": [round(x, 3) for x in pairs],
            "ratio_panel_to_alone": figure,
            "app_cpu_s": [round(x, 3) for x in app_cpu],
            "app_cpu_s_median": round(median(app_cpu), 3),
            "app_cpu_share_of_wall": round(median(app_cpu) / median(walls), 4),
            "fio_cpu_s_alone": [round(x, 3) for x in alone_fio_cpu],
            "fio_cpu_s_panel": [round(r["fio_cpu_s"], 3) for r in panel_runs],
            "ratio_iops_per_fio_cpu_panel_to_alone": round(median(panel_eff) / median(alone_eff), 3)
            if alone_eff and panel_eff
            else None,
            "panel_wall_s": [round(x, 2) for x in walls],
            # fio is CPU-bound here: well under 1.0 means the machine starved it (other load),
            # and the IOPS ratio then measures the machine's noise more than the panel
            "fio_cpu_share_of_wall_panel": round(
                median([r["fio_cpu_s"] for r in panel_runs]) / median(walls), 3
            ),
            "intervals": [r["intervals"] for r in panel_runs],
            "plot_draws": [r["plot_draws"] for r in panel_runs],
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "goal": f">= {GOAL}",
            "pass": figure >= GOAL,
        }


def main() -> int:
    result = run()
    emit({"fio_overhead": result})
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
