"""CPU% that cannot exceed its base: "% of its vCPUs" from vcpu.N.time over the real interval,
host CPU% from cpu.time; no rate across a pause, resume, restart, event, vCPU change, reconnect
or a re-poll that comes too soon.

Two fixtures of `getAllDomainStats` sequences are replayed through the tracker exactly as the
poller feeds it, with the same assertions (no figure above 100% of its base, every figure equal
to the counters' delta over the real interval, none across a pause, resume, event or
reconnect, paused guests at 0%):
- `tests/data/cpu_samples.json` is constructed by scripts/make_cpu_samples.py (deterministic):
  guests with known true loads and the effects that produced impossible figures (10 ms vCPU
  ticks, emulator threads in cpu.time, RPC durations, 50 ms re-polls, a vCPU hot-plug); only
  its known loads are checked exactly (`true_vcpu_pct`).
- `tests/data/cpu_samples_recorded.json` is recorded from two real tiny guests on
  qemu:///system (1 and 2 vCPUs, one busy vCPU each) by scripts/record_cpu_samples.py: a pause
  and resume of each (event re-polls 50 ms later, and one between two polls) and a reconnect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import paths
from virttui.core.host.stats import MAX_TIMING_ERROR, MIN_RATE_SECONDS, RateTracker

DATA = paths.DATA
CONSTRUCTED = DATA / "cpu_samples.json"
RECORDED = DATA / "cpu_samples_recorded.json"
FIXTURES = pytest.mark.parametrize("path", [CONSTRUCTED, RECORDED], ids=lambda p: p.stem)
S = 1_000_000_000  # ns


class RecordedDom:
    """The identity part of a virDomain as the bulk stats call hands it out (no RPC)."""

    def __init__(self, name: str, uuid: str, dom_id: int) -> None:
        self._name, self._uuid, self._id = name, uuid, dom_id

    def name(self) -> str:
        return self._name

    def UUIDString(self) -> str:  # noqa: N802 - libvirt's name
        return self._uuid

    def ID(self) -> int:  # noqa: N802 - libvirt's name
        return self._id


def stats(
    cpu: int,
    vcpu_times: list[int],
    *,
    state: int = 1,
    reason: int = 1,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "state.state": state,
        "state.reason": reason,
        "cpu.time": cpu,
        "vcpu.current": len(vcpu_times),
        "vcpu.maximum": len(vcpu_times),
        "balloon.current": 131072,
        "balloon.maximum": 131072,
    }
    for i, t in enumerate(vcpu_times):
        out[f"vcpu.{i}.state"] = 1
        out[f"vcpu.{i}.time"] = t
    return out


DOM1 = RecordedDom("one", "11111111-1111-1111-1111-111111111111", 4)


def poll(tracker: RateTracker, now: float, record: dict[str, Any], **kw: Any):  # noqa: ANN201
    rows, _missing = tracker.update_records([(DOM1, record)], now, 2, None, {}, **kw)
    return rows[0]


def test_busy_one_vcpu_guest_reads_100_not_130() -> None:
    # The vCPU thread ran the whole second; QEMU's emulator/IO threads another 0.3 s.
    tracker = RateTracker()
    assert poll(tracker, 10.0, stats(0, [0])).cpu_vcpu_pct is None
    row = poll(tracker, 11.0, stats(int(1.3 * S), [S]))
    assert row.cpu_vcpu_pct == pytest.approx(100.0)
    assert row.cpu_host_pct == pytest.approx(65.0)  # 1.3 s over 1 s on a 2-CPU host


def test_two_vcpus_are_averaged() -> None:
    tracker = RateTracker()
    poll(tracker, 0.0, stats(0, [0, 0]))
    row = poll(tracker, 2.0, stats(2 * S, [S, S // 2]))  # 1.5 s of 4 vCPU-seconds
    assert row.cpu_vcpu_pct == pytest.approx(37.5)
    assert row.cpu_host_pct == pytest.approx(50.0)


def test_a_repoll_right_after_an_event_keeps_the_previous_figures() -> None:
    # vcpu.N.time moves in scheduler ticks: 20 ms more in a 50 ms re-poll would read 140%.
    tracker = RateTracker()
    poll(tracker, 0.0, stats(0, [0]))
    first = poll(tracker, 1.0, stats(S // 2, [S // 2]))
    assert first.cpu_vcpu_pct == pytest.approx(50.0)
    quick = poll(tracker, 1.05, stats(S // 2 + 70_000_000, [S // 2 + 70_000_000]))
    assert quick.cpu_vcpu_pct == first.cpu_vcpu_pct and quick.cpu_host_pct == first.cpu_host_pct
    # The next one is measured from the older baseline (1.0 s), over the full interval.
    later = poll(tracker, 2.0, stats(S, [S]))
    assert later.cpu_vcpu_pct == pytest.approx(50.0)
    assert 1.05 - 1.0 < MIN_RATE_SECONDS


def test_no_rate_across_pause_resume_restart_or_vcpu_change() -> None:
    tracker = RateTracker()
    poll(tracker, 0.0, stats(0, [0]))
    assert poll(tracker, 1.0, stats(S // 4, [S // 4])).cpu_vcpu_pct == pytest.approx(25.0)
    # Paused between the polls: state changes, no rate across it.
    assert poll(tracker, 2.0, stats(S // 2, [S // 2], state=3, reason=1)).cpu_vcpu_pct is None
    # Paused to paused: the vCPUs did nothing, truly 0%.
    assert poll(tracker, 3.0, stats(S // 2, [S // 2], state=3, reason=1)).cpu_vcpu_pct == 0.0
    # Resumed (running, reason "unpaused"): no rate across it.
    assert poll(tracker, 4.0, stats(S // 2, [S // 2], reason=5)).cpu_vcpu_pct is None
    assert poll(tracker, 5.0, stats(S, [S], reason=5)).cpu_vcpu_pct == pytest.approx(50.0)
    # Paused and resumed again between two polls: same state and reason, but the event says so.
    row = poll(tracker, 6.0, stats(2 * S, [2 * S], reason=5), changed={DOM1.UUIDString()})
    assert row.cpu_vcpu_pct is None and row.cpu_host_pct is None
    assert poll(tracker, 7.0, stats(2 * S, [2 * S], reason=5)).cpu_vcpu_pct == 0.0
    # A vCPU hot-plugged: the base changed, no rate across it.
    assert poll(tracker, 8.0, stats(3 * S, [2 * S, 0], reason=5)).cpu_vcpu_pct is None
    assert poll(tracker, 9.0, stats(4 * S, [2 * S + S // 2, S // 2], reason=5)).cpu_vcpu_pct == (
        pytest.approx(50.0)
    )


def test_no_rate_across_a_reconnect() -> None:
    tracker = RateTracker()
    poll(tracker, 0.0, stats(0, [0]))
    poll(tracker, 1.0, stats(S // 2, [S // 2]))
    tracker.reset()  # what HostConnection does on every (re)connect
    assert poll(tracker, 30.0, stats(3 * S, [3 * S])).cpu_vcpu_pct is None
    assert poll(tracker, 31.0, stats(3 * S + S // 5, [3 * S + S // 5])).cpu_vcpu_pct == (
        pytest.approx(20.0)
    )


def test_jitter_is_clamped_as_a_last_guard() -> None:
    tracker = RateTracker()
    poll(tracker, 0.0, stats(0, [0]))
    row = poll(tracker, 1.0, stats(5 * S, [int(1.02 * S)]))
    assert row.cpu_vcpu_pct == 100.0 and row.cpu_host_pct == 100.0


# ----------------------------------------------------------------- recorded sequences
def _replay(polls: list[dict[str, Any]], host_cpus: int) -> list[dict[str, Any]]:
    """Feed the recorded polls to a tracker as HostConnection does; one entry per row."""
    tracker = RateTracker()
    out = []
    for index, p in enumerate(polls):
        if p.get("reconnected"):
            tracker.reset()
        records = [(RecordedDom(r["name"], r["uuid"], r["id"]), r["stats"]) for r in p["records"]]
        uuids = {r["name"]: r["uuid"] for r in p["records"]}
        changed = {uuids[n] for n in p.get("events", ()) if n in uuids}
        now = (p["started"] + p["taken"]) / 2
        spread = (p["taken"] - p["started"]) / 2
        rows, _ = tracker.update_records(
            records, now, host_cpus, None, {}, changed=changed, spread=spread
        )
        out.extend({"poll": index, "row": row} for row in rows)
    return out


def _recorded(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _role(data: dict[str, Any], name: str) -> str:
    """ "a" (1 vCPU, busy) or "b" (2 vCPUs, one busy): the recorded file says which; the
    constructed one names them so."""
    return data.get("roles", {}).get(name) or name.rsplit("-", 1)[-1]


@FIXTURES
def test_fixture_holds_pauses_resumes_events_and_a_reconnect(path: Path) -> None:
    data = _recorded(path)
    polls = data["polls"]
    assert sum(bool(p.get("reconnected")) for p in polls) >= 1
    events = {n for p in polls for n in p.get("events", ())}
    assert {_role(data, n) for n in events} == {"a", "b"}
    for role in ("a", "b"):
        states = [
            r["stats"]["state.state"]
            for p in polls
            for r in p["records"]
            if _role(data, r["name"]) == role
        ]
        assert 1 in states  # running
        if role == "a":
            assert 3 in states  # seen paused by a poll (b is paused between two polls)
            assert states.index(3) < len(states) - 1 - states[::-1].index(1)  # then resumed


@FIXTURES
def test_recorded_sequences_never_exceed_100_and_match_the_counters(path: Path) -> None:
    data = _recorded(path)
    polls, host_cpus = data["polls"], data["host_cpus"]
    replayed = _replay(polls, host_cpus)
    assert replayed
    for item in replayed:
        row = item["row"]
        for value in (row.cpu_vcpu_pct, row.cpu_host_pct):
            assert value is None or 0.0 <= value <= 100.0, (item["poll"], row.name, value)

    # Every figure equals the counters' delta over the real interval from the previous poll
    # (or carries it when the re-poll came too soon or the RPCs were too slow to tell the
    # interval within 10%), and none spans a state change, event or reconnect.
    by_name: dict[str, list[tuple[int, Any]]] = {}
    for item in replayed:
        by_name.setdefault(item["row"].name, []).append((item["poll"], item["row"]))
    checked = 0
    for name, seq in by_name.items():
        base: tuple[int, dict[str, Any]] | None = None
        last_row = None
        for index, row in seq:
            p = polls[index]
            rec = next(r for r in p["records"] if r["name"] == name)
            now = (p["started"] + p["taken"]) / 2
            st = rec["stats"]
            if base is not None:
                bp = polls[base[0]]
                then = (bp["started"] + bp["taken"]) / 2
                bst = base[1]
                span_events = any(
                    name in polls[k].get("events", ()) or polls[k].get("reconnected")
                    for k in range(base[0] + 1, index + 1)
                )
                same = (bst["state.state"], bst["state.reason"], bst["vcpu.current"]) == (
                    st["state.state"],
                    st["state.reason"],
                    st["vcpu.current"],
                )
                if span_events or not same:
                    assert row.cpu_vcpu_pct is None and row.cpu_host_pct is None, (index, name)
                elif now - then < MIN_RATE_SECONDS or (
                    (bp["taken"] - bp["started"]) / 2 + (p["taken"] - p["started"]) / 2
                    > MAX_TIMING_ERROR * (now - then)
                ):
                    assert row.cpu_vcpu_pct == last_row.cpu_vcpu_pct, (index, name)
                    last_row = row
                    continue  # the baseline stays
                else:
                    n = st["vcpu.current"]
                    vt = sum(st[f"vcpu.{i}.time"] for i in range(n))
                    bvt = sum(bst[f"vcpu.{i}.time"] for i in range(n))
                    want = min(100.0, 100.0 * (vt - bvt) / ((now - then) * 1e9 * n))
                    assert row.cpu_vcpu_pct == pytest.approx(want), (index, name)
                    host = 100.0 * (st["cpu.time"] - bst["cpu.time"]) / (now - then) / 1e9
                    assert row.cpu_host_pct == pytest.approx(min(100.0, host / host_cpus))
                    checked += 1
            base = (index, st)
            last_row = row
    assert checked >= 10


@FIXTURES
def test_recorded_pauses_read_zero_and_busy_vcpus_read_their_true_load(path: Path) -> None:
    data = _recorded(path)
    replayed = _replay(data["polls"], data["host_cpus"])
    paused = [
        i["row"] for i in replayed if i["row"].state == 3 and i["row"].cpu_vcpu_pct is not None
    ]
    assert paused and all(r.cpu_vcpu_pct == 0.0 for r in paused)
    running = [i["row"] for i in replayed if i["row"].state == 1 and i["row"].cpu_vcpu_pct]
    assert len(running) >= 8
    if "true_vcpu_pct" not in data:
        # Real guests on a shared host: their true load is not known exactly, only that a
        # busy vCPU shows up and nothing exceeds its base (checked above against the counters).
        return
    # "a" (1 vCPU) spins: 100% of its vCPU, off only by the counters' 10 ms ticks and the
    # timing error, which is kept below 10% of the interval.
    busy = [
        i["row"].cpu_vcpu_pct
        for i in replayed
        if _role(data, i["row"].name) == "a"
        and i["row"].state == 1
        and i["row"].cpu_vcpu_pct is not None
    ]
    assert len(busy) >= 8 and all(95.0 <= v <= 100.0 for v in busy), busy
    # "b" has one busy vCPU of 2 (later 3): 50%, then 33%.
    b_rows = [i for i in replayed if _role(data, i["row"].name) == "b" and i["row"].cpu_vcpu_pct]
    for item in b_rows:
        want = 100.0 / (item["row"].vcpus or 1)
        assert item["row"].cpu_vcpu_pct == pytest.approx(want, rel=0.05), item


def test_the_sequences_hold_the_traps_the_old_formula_fell_into() -> None:
    """cpu.time over the poll-to-poll time per vCPU (the old figure) exceeds 100% on the
    constructed data: the emulator threads' share and the 50 ms re-polls after events. (Not
    asserted on the recorded file: recorded on a loaded 2-CPU host, its guests got a third of
    a CPU at most and the old figure stayed below 100% there.)"""
    data = _recorded(CONSTRUCTED)
    polls = data["polls"]
    worst = 0.0
    for before, after in zip(polls, polls[1:], strict=False):
        seconds = after["taken"] - before["taken"]
        for rec in after["records"]:
            old = next((r for r in before["records"] if r["name"] == rec["name"]), None)
            if old is None or seconds <= 0:
                continue
            busy = rec["stats"]["cpu.time"] - old["stats"]["cpu.time"]
            worst = max(worst, 100.0 * busy / (seconds * 1e9 * rec["stats"]["vcpu.current"]))
    assert worst > 120.0
