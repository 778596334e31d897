"""Build tests/data/cpu_samples.json: getAllDomainStats sequences with known true CPU loads.

The records have the keys and units QEMU's driver returns (state.*, cpu.time/user/system in ns
from the cgroup, vcpu.current/maximum, vcpu.N.state/time/wait, balloon.*), with the two effects
that produced impossible figures:
- vcpu.N.time comes from the threads' scheduler statistics in 10 ms ticks, cpu.time adds QEMU's
  emulator and I/O threads (a busy 1-vCPU TCG guest: 100% vCPU plus ~30% emulator);
- each domain's counters are read at some instant inside the bulk RPC, whose duration varies
  (tens to hundreds of ms under load), and an event makes the poller re-poll 50 ms later.
Guest "a" (1 vCPU) runs a busy loop, guest "b" (2 vCPUs) one busy vCPU. "a" is paused and resumed
with an event-triggered re-poll each time, "b" is paused and resumed between two polls, the
connection is re-opened after a 3 s gap, and "b" gets a third vCPU hot-plugged.

scripts/record_cpu_samples.py records the same sequence from the real tiny guest when libvirtd
can define domains; this constructed file was used because it could not during the session that
wrote it (defineXML hung on QEMU capability probing). Deterministic (fixed seed):
    .venv/bin/python scripts/make_cpu_samples.py tests/data/cpu_samples.json
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK = 10_000_000  # ns: /proc/<pid>/task/<tid>/stat resolution (USER_HZ = 100)
RUNNING, PAUSED = 1, 3
BOOTED, UNPAUSED, BY_USER = 1, 5, 1


@dataclass
class Guest:
    name: str
    uuid: str
    dom_id: int
    loads: list[float]  # per vCPU, share of one host CPU while running
    emulator: float  # extra share for QEMU's own threads while running
    vcpu_ns: list[float] = field(default_factory=list)
    emu_ns: float = 0.0
    state: int = RUNNING
    reason: int = BOOTED
    at: float = 0.0  # time the counters were advanced to

    def __post_init__(self) -> None:
        self.vcpu_ns = [0.0 for _ in self.loads]

    def advance(self, t: float) -> None:
        dt = (t - self.at) * 1e9
        if self.state == RUNNING and dt > 0:
            self.vcpu_ns = [v + dt * load for v, load in zip(self.vcpu_ns, self.loads, strict=True)]
            self.emu_ns += dt * self.emulator
        else:
            self.emu_ns += max(0.0, dt) * 0.002  # the main loop still wakes up now and then
        self.at = t

    def record(self) -> dict[str, Any]:
        vcpu_total = sum(self.vcpu_ns)
        cpu = int(vcpu_total + self.emu_ns)
        stats: dict[str, Any] = {
            "state.state": self.state,
            "state.reason": self.reason,
            "cpu.time": cpu,
            "cpu.user": int(cpu * 0.8),
            "cpu.system": int(cpu * 0.2),
            "balloon.current": 131072,
            "balloon.maximum": 131072,
            "vcpu.current": len(self.loads),
            "vcpu.maximum": len(self.loads),
        }
        for i, v in enumerate(self.vcpu_ns):
            stats[f"vcpu.{i}.state"] = 1
            stats[f"vcpu.{i}.time"] = int(v) // TICK * TICK
            stats[f"vcpu.{i}.wait"] = 0
        return {"name": self.name, "uuid": self.uuid, "id": self.dom_id, "stats": stats}


def main(target: str) -> None:
    rnd = random.Random(8)
    a = Guest("vt-rec1-a", "a0a0a0a0-0000-4000-8000-000000000001", 11, [1.0], 0.30)
    b = Guest("vt-rec2-b", "b0b0b0b0-0000-4000-8000-000000000002", 12, [1.0, 0.0], 0.10)
    guests = [a, b]
    polls: list[dict[str, Any]] = []
    t = 100.0

    def poll(**marks: Any) -> None:
        nonlocal t
        started = t
        duration = rnd.choice([0.01, 0.02, 0.05, 0.1, 0.3, 0.45])
        records = []
        for g in guests:
            g.advance(started + rnd.uniform(0.0, duration))  # read somewhere inside the RPC
            records.append(g.record())
        t = started + duration
        for g in guests:
            g.advance(t)
        polls.append(
            {"started": round(started, 6), "taken": round(t, 6), "records": records, **marks}
        )

    def wait(seconds: float) -> None:
        nonlocal t
        t += seconds
        for g in guests:
            g.advance(t)

    def steady(n: int) -> None:
        for _ in range(n):
            wait(1.0)
            poll()

    poll()
    steady(6)
    wait(0.3)
    a.state, a.reason = PAUSED, BY_USER  # suspend; the poller re-polls 50 ms after the event
    wait(0.05)
    poll(events=[a.name])
    steady(3)
    wait(0.3)
    a.state, a.reason = RUNNING, UNPAUSED
    wait(0.05)
    poll(events=[a.name])
    steady(3)
    wait(0.3)
    b.state, b.reason = PAUSED, BY_USER
    wait(0.3)
    b.state, b.reason = RUNNING, UNPAUSED
    wait(0.05)
    poll(events=[b.name])
    steady(3)
    wait(3.0)  # connection lost and re-opened: the first poll on the new one
    poll(reconnected=True)
    steady(3)
    b.loads.append(0.0)  # a vCPU hot-plugged
    b.vcpu_ns.append(0.0)
    wait(0.2)
    poll(events=[b.name])
    steady(4)
    data = {
        "host_cpus": 2,
        "constructed": "scripts/make_cpu_samples.py (see its docstring)",
        "true_vcpu_pct": {a.name: 100.0, b.name: None},
        "polls": polls,
    }
    Path(target).write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(polls)} polls written to {target}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/cpu_samples.json")
