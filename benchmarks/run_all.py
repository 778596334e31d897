"""`make bench`: every benchmark of issue 2 against one 1000-domain host, one JSON document out.

Progress goes to stderr; stdout is the JSON: per-benchmark figures with their baselines, then a
`goals` table (figure, baseline, ratio, goal, pass). The machine is shared: each benchmark
measures its baseline in the same run, interleaved or concurrently, and reports medians.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert  # noqa: E402
import cpu  # noqa: E402
import fio_overhead  # noqa: E402
import graphics_console  # noqa: E402
import latency  # noqa: E402
import memory  # noqa: E402
import refresh  # noqa: E402
import startup  # noqa: E402
from common import N_DOMAINS, VIRSH, bench_host, emit, log  # noqa: E402


def _versions() -> dict[str, str]:
    import libvirt
    import textual

    from virttui import __version__

    virsh = subprocess.run([VIRSH, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "virttui": __version__,
        "python": platform.python_version(),
        "textual": textual.__version__,
        "libvirt_library": ".".join(str(libvirt.getVersion() // 10**k % 1000) for k in (6, 3, 0)),
        "virsh": virsh,
        "cpus": str(os.cpu_count()),
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main() -> int:
    started = time.monotonic()
    with bench_host(N_DOMAINS) as uri:
        os.environ["VIRTTUI_BENCH_URI"] = uri
        doc: dict[str, Any] = {"host": {"uri": uri, "domains": N_DOMAINS}, "env": _versions()}
        doc["memory"] = memory.run(uri)
        doc["startup"] = startup.run(uri)
        doc["latency"] = latency.run(uri)
        doc["latency"].pop("_samples")
        doc["cpu"] = cpu.run(uri)
        doc["refresh"] = refresh.run(uri)
    doc["convert"] = convert.run()  # issue 10: qemu-img convert through the job pipeline
    doc["fio_overhead"] = fio_overhead.run()  # issue 13: fio alone vs under the live panel
    doc["graphics_console"] = graphics_console.run()  # issue 14: live RFB vs screenshots
    r, c, s, m, lat = doc["refresh"], doc["cpu"], doc["startup"], doc["memory"], doc["latency"]
    doc["goals"] = {
        "refresh_vs_bare_rpc": {
            "figure_ms": r["ms"]["ours"]["median"],
            "baseline_ms": r["ms"]["bare_rpc"]["median"],
            "ratio": r["ratio_ours_to_bare_rpc"],
            "goal": "<= 1.5x",
            "pass": r["pass_ratio"],
        },
        "refresh_vs_virsh_domstats": {
            "figure_ms": r["ms"]["ours"]["median"],
            "baseline_ms": r["virsh_domstats_oneshot_ms"]["median"],
            "speedup": r["speedup_vs_virsh_oneshot"],
            "goal": ">= 10x faster",
            "pass": r["pass_virsh"],
        },
        "cpu_20s_vs_bare_loop": {
            "figure_s": c["app_cpu_s"],
            "baseline_s": c["bare_loop_cpu_s"],
            "ratio": c["ratio_app_to_bare"],
            "goal": "<= 2x",
            "pass": c["pass"],
        },
        "startup_first_rows_vs_virsh_list_heavy": {
            "figure_ms": s["heavy"]["app_first_rows_ms"]["median"],
            "baseline_ms": s["heavy"]["virsh_list_all_ms"]["median"],
            "ratio": s["heavy"]["ratio_first_rows_to_virsh"],
            "goal": f"<= {s['goal_ratio_max']}x",
            "pass": s["heavy"]["pass"],
            "first_paint_ratio": s["heavy"]["ratio_first_paint_to_virsh"],
        },
        "startup_first_rows_vs_virsh_list_light": {
            "figure_ms": s["light"]["app_first_rows_ms"]["median"],
            "baseline_ms": s["light"]["virsh_list_all_ms"]["median"],
            "ratio": s["light"]["ratio_first_rows_to_virsh"],
            "goal": f"<= {s['goal_ratio_max']}x",
            "pass": s["light"]["pass"],
            "first_paint_ratio": s["light"]["ratio_first_paint_to_virsh"],
        },
        "rss_1000_domains": {
            "figure_mib": m["app_rss_mib"],
            "baseline_mib": m["bare_import_rss_mib"],
            "goal": "<= 80 MiB",
            "pass": m["pass"],
        },
        "keypress_to_repaint_p99": {
            "figure_ms": lat["ms"]["p99"],
            "median_ms": lat["ms"]["median"],
            "goal": "<= 50 ms",
            "pass": lat["pass"],
        },
    }
    conv = doc["convert"]
    doc["goals"]["convert_2gib_vs_bare_qemu_img"] = {
        "figure_s": conv["median_ours_s"],
        "baseline_s": conv["median_bare_s"],
        "ratio": conv["ratio_ours_to_bare"],
        "goal": conv["goal"],
        "pass": conv["pass"],
    }
    fio = doc["fio_overhead"]
    if "skipped" not in fio:
        doc["goals"]["fio_panel_iops_vs_alone"] = {
            "figure": fio["ratio_panel_to_alone"],
            "app_cpu_s_median": fio["app_cpu_s_median"],
            "goal": fio["goal"],
            "pass": fio["pass"],
        }
    gfx = doc["graphics_console"]
    if "skipped" not in gfx:
        doc["goals"]["graphics_key_to_frame_p95_rfb_vs_screenshots"] = {
            "figure_ms": gfx["rfb"]["key_to_frame_ms"]["p95"],
            "baseline_ms": gfx["screenshots"]["key_to_frame_ms"]["p95"],
            "ratio": gfx["ratio_key_p95_rfb_to_screenshots"],
            "goal": "<= 0.5x",
            "pass": gfx["ratio_key_p95_rfb_to_screenshots"] <= 0.5,
        }
        doc["goals"]["graphics_idle_cpu_rfb_vs_screenshots"] = {
            "figure_s_per_s": gfx["rfb"]["idle_cpu_s_per_s"],
            "baseline_s_per_s": gfx["screenshots"]["idle_cpu_s_per_s"],
            "ratio": gfx["ratio_idle_cpu_rfb_to_screenshots"],
            "goal": "<= 0.5x",
            "pass": gfx["ratio_idle_cpu_rfb_to_screenshots"] <= 0.5,
        }
    doc["all_pass"] = all(g["pass"] for g in doc["goals"].values())
    doc["env"]["loadavg_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    doc["total_seconds"] = round(time.monotonic() - started, 1)
    log(f"done in {doc['total_seconds']} s")
    emit(doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
