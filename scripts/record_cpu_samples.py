"""Record real `getAllDomainStats` sequences of the tiny test guest for the CPU% tests.

Boots two tiny guests on qemu:///system (1 and 2 vCPUs), makes one vCPU of each busy, and polls
the bulk stats the way virttui does, writing every poll (the RPC's start and end on the monotonic
clock and each record's counters) to the file given (tests/data/cpu_samples_recorded.json; the
constructed tests/data/cpu_samples.json comes from scripts/make_cpu_samples.py). `roles` names
the 1-vCPU guest "a" and the 2-vCPU one "b", as the constructed file does. Along the way it pauses and
resumes the 1-vCPU guest (polling 50 ms after each, as an event-triggered poll does), pauses and
resumes the other one between two polls, and reconnects. Markers in the file say which guest had
a lifecycle event before a poll and where the connection was reopened.

Run as root (or a user allowed on qemu:///system) with the test guest built:
    VIRTTUI_GUEST_DIR=/var/cache/virttui/test-guest/current .venv/bin/python \
        scripts/record_cpu_samples.py tests/data/cpu_samples_recorded.json
The guests are removed afterwards, also on errors.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libvirt  # noqa: E402

from tests.guestlib import (  # noqa: E402
    SerialConsole,
    open_system_conn,
    running_guest,
    wait_for_shell,
)
from virttui.core.host.stats import STATS_FLAGS  # noqa: E402

KEEP = ("state.", "cpu.", "vcpu.", "balloon.current", "balloon.maximum")


def poll(conn: libvirt.virConnect, names: set[str], **marks: Any) -> dict[str, Any]:
    started = time.monotonic()
    records = conn.getAllDomainStats(STATS_FLAGS, 0)
    taken = time.monotonic()
    out = []
    for dom, stats in records:
        if dom.name() not in names:
            continue  # other helpers' guests are not ours to record
        kept = {k: v for k, v in stats.items() if k.startswith(KEEP)}
        out.append({"name": dom.name(), "uuid": dom.UUIDString(), "id": dom.ID(), "stats": kept})
    return {"started": started, "taken": taken, "records": out, **marks}


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def main(target: str) -> None:
    # SIGTERM (a timeout) unwinds like an exception, so the guests are still removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    conn = open_system_conn()
    polls: list[dict[str, Any]] = []
    with (
        running_guest(conn, "vt-rec1", vcpus=1) as one,
        running_guest(conn, "vt-rec2", vcpus=2) as two,
    ):
        names = {one.name(), two.name()}
        roles = {one.name(): "a", two.name(): "b"}  # as in scripts/make_cpu_samples.py
        say(f"started {sorted(names)}")
        for dom in (one, two):
            with SerialConsole(dom) as console:
                wait_for_shell(console, timeout=300)
                say(f"{dom.name()}: shell")
                # One busy vCPU: a shell loop the scheduler keeps on one CPU.
                console.send("while :; do :; done &\n")
                time.sleep(0.5)
        for _ in range(6):
            polls.append(poll(conn, names))
            time.sleep(1.0)
        say("steady polls done")
        # Pause the 1-vCPU guest; an event-triggered poll follows 50 ms later.
        one.suspend()
        time.sleep(0.05)
        polls.append(poll(conn, names, events=[one.name()]))
        for _ in range(3):
            time.sleep(1.0)
            polls.append(poll(conn, names))
        one.resume()
        time.sleep(0.05)
        polls.append(poll(conn, names, events=[one.name()]))
        for _ in range(3):
            time.sleep(1.0)
            polls.append(poll(conn, names))
        # Pause and resume the 2-vCPU guest between two polls.
        time.sleep(0.3)
        two.suspend()
        time.sleep(0.3)
        two.resume()
        time.sleep(0.05)
        polls.append(poll(conn, names, events=[two.name()]))
        for _ in range(3):
            time.sleep(1.0)
            polls.append(poll(conn, names))
        say("pause/resume done")
        # Reconnect: a new connection, counters continue, the interval straddles the gap.
        conn2 = open_system_conn()
        time.sleep(0.5)
        polls.append(poll(conn2, names, reconnected=True))
        for _ in range(4):
            time.sleep(1.0)
            polls.append(poll(conn2, names))
        with contextlib.suppress(libvirt.libvirtError):
            conn2.close()
    host_cpus = int(conn.getInfo()[2])
    doc = {
        "host_cpus": host_cpus,
        "recorded": f"scripts/record_cpu_samples.py on {time.strftime('%Y-%m-%d')}",
        "roles": roles,
        "polls": polls,
    }
    Path(target).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(polls)} polls written to {target}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/cpu_samples_recorded.json")
