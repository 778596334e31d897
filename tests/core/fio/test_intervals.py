"""Per-interval figures from consecutive json+ documents: the bin deltas of all intervals add up
to the final document's bins, and percentiles from the final bins equal fio's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.core.fio.conftest import fio_stream, needs_fio
from virttui.core.fio.intervals import (
    DIRECTIONS,
    IntervalTracker,
    doc_bins,
    percentile_from_bins,
    sum_bins,
)
from virttui.core.fio.stream import parse_stream

DATA = Path(__file__).parent / "data"
FIO_KEYS = {50.0: "50.000000", 95.0: "95.000000", 99.0: "99.000000", 99.9: "99.900000"}


def check_stream(data: bytes) -> int:
    """Every invariant on a whole stream; returns the number of intervals with IO."""
    docs, stream = parse_stream(data)
    assert stream.problems == []
    assert len(docs) >= 3
    tracker = IntervalTracker()
    intervals = [tracker.update(d) for d in docs]
    final = docs[-1]
    busy = 0
    for i, job in enumerate(final["jobs"]):
        for name in DIRECTIONS:
            direction = job[name]
            if direction["total_ios"] == 0:
                assert all(not iv.jobs[i].directions[name].bins for iv in intervals)
                continue
            parts = [iv.jobs[i].directions[name] for iv in intervals]
            busy = max(busy, sum(1 for p in parts if p.ios > 0))
            # the per-interval bin deltas, including the last document's, add up to the final bins
            assert sum_bins(p.bins for p in parts) == doc_bins(direction)
            assert sum(p.ios for p in parts) == direction["total_ios"]
            assert sum(p.io_bytes for p in parts) == direction["io_bytes"]
            assert sum(p.runtime_ms for p in parts) == direction["runtime"]
            assert sum(p.samples for p in parts) == direction["clat_ns"]["N"]
            # the interval max is the highest bin that changed; the run's max sits in the top bin
            assert max(p.max_ns for p in parts if p.max_ns is not None) == max(doc_bins(direction))
            # fio's own rule: percentiles from the final bins are fio's final percentiles
            mine = percentile_from_bins(doc_bins(direction), list(FIO_KEYS))
            fios = direction["clat_ns"]["percentile"]
            assert {p: fios[key] for p, key in FIO_KEYS.items()} == mine
            for part in parts:
                if part.ios:
                    assert part.iops == pytest.approx(part.ios / (part.runtime_ms / 1000))
                    values = [part.percentiles[p] for p in FIO_KEYS]
                    assert values == sorted(values)
                    assert part.min_ns is not None and part.max_ns is not None
                    assert part.min_ns <= values[0] and values[-1] <= part.max_ns
    # the group is the sum of the jobs
    for iv in intervals:
        for name, group in iv.group.directions.items():
            jobs = [j.directions[name] for j in iv.jobs]
            assert group.bins == sum_bins(j.bins for j in jobs)
            assert group.iops == pytest.approx(sum(j.iops for j in jobs))
            assert group.io_bytes == sum(j.io_bytes for j in jobs)
    return busy


def test_recorded_randrw() -> None:
    assert check_stream((DATA / "randrw-2s.json").read_bytes()) >= 2


@needs_fio
def test_real_randread_two_jobs_without_group_reporting(tmp_path: Path) -> None:
    data = fio_stream(tmp_path, "--name=rr", "--rw=randread", "--bs=4k", "--numjobs=2")
    docs, _ = parse_stream(data)
    assert len(docs[-1]["jobs"]) == 2
    assert check_stream(data) >= 2


@needs_fio
def test_real_write_two_jobs_with_group_reporting(tmp_path: Path) -> None:
    data = fio_stream(
        tmp_path, "--name=w", "--rw=randwrite", "--bs=4k", "--numjobs=2", "--group_reporting"
    )
    docs, _ = parse_stream(data)
    assert len(docs[-1]["jobs"]) == 1
    assert docs[-1]["jobs"][0]["write"]["total_ios"] > 0
    assert check_stream(data) >= 2


def test_percentile_rule_on_ties() -> None:
    bins = {100: 50, 200: 50}
    assert percentile_from_bins(bins, [50.0, 50.5, 99.9, 100.0]) == {
        50.0: 100,  # running count 50 reaches 50 % of 100 exactly: the first bin
        50.5: 200,
        99.9: 200,
        100.0: 200,
    }
    # 99.9 as a double is a hair above 99.9: with 1000 samples, 999 do not reach it (as in fio)
    assert percentile_from_bins({1: 999, 2: 1}, [99.9]) == {99.9: 2}
    assert percentile_from_bins({}, [50.0]) == {}


def doc(runtime: int, ios: int, bins: dict[str, int]) -> dict[str, Any]:
    direction = {
        "runtime": runtime,
        "total_ios": ios,
        "io_bytes": ios * 4096,
        "clat_ns": {"bins": bins},
    }
    return {"jobs": [{"jobname": "j", "read": direction}]}


def test_interval_length_from_runtime_and_max_from_changed_bins() -> None:
    tracker = IntervalTracker()
    first = tracker.update(doc(1000, 100, {"1000": 90, "50000": 10}))
    second = tracker.update(doc(1500, 300, {"1000": 290, "50000": 10}))
    r = second.jobs[0].directions["read"]
    assert r.runtime_ms == 500 and r.ios == 200
    assert r.iops == pytest.approx(400.0)
    assert r.bw_bytes == pytest.approx(400.0 * 4096)
    assert r.max_ns == 1000  # the 50 µs bin did not change in this interval
    assert r.percentiles[99.9] == 1000
    assert first.jobs[0].directions["read"].max_ns == 50000
    assert second.time_s == 1.5 and second.length_s == 0.5
    assert not second.jobs[0].reset


def test_counters_going_back_start_a_new_base() -> None:
    tracker = IntervalTracker()
    tracker.update(doc(2000, 500, {"1000": 500}))
    after_ramp = tracker.update(doc(300, 40, {"2000": 40}))  # ramp_time ended: stats reset
    r = after_ramp.jobs[0].directions["read"]
    assert after_ramp.jobs[0].reset and after_ramp.group.reset
    assert r.ios == 40 and r.bins == {2000: 40} and r.runtime_ms == 300


def test_bins_can_be_dropped() -> None:
    kept, dropped = IntervalTracker(), IntervalTracker(keep_bins=False)
    for d in (
        doc(1000, 100, {"1000": 90, "50000": 10}),
        doc(1500, 300, {"1000": 290, "50000": 10}),
    ):
        a, b = kept.update(d), dropped.update(d)
        for x, y in ((a.jobs[0], b.jobs[0]), (a.group, b.group)):
            r, s = x.directions["read"], y.directions["read"]
            assert r.bins and s.bins == {}
            assert (r.percentiles, r.samples, r.max_ns, r.iops) == (
                s.percentiles,
                s.samples,
                s.max_ns,
                s.iops,
            )


def test_malformed_documents_do_not_raise() -> None:
    tracker = IntervalTracker()
    assert tracker.update({}).jobs == ()
    iv = tracker.update({"jobs": [{"read": {"runtime": "x", "clat_ns": None}}, 3]})
    assert iv.jobs[0].directions["read"].iops == 0.0
    bad_bins = {"runtime": 5, "total_ios": 2, "clat_ns": {"bins": {"x": 1, "7": "y", "9": 2}}}
    iv = tracker.update({"jobs": [{"read": bad_bins}]})
    assert iv.jobs[0].directions["read"].bins == {9: 2}


@needs_fio
def test_real_ramp_time_reset(tmp_path: Path) -> None:
    """fio zeroes its statistics when ramp_time ends: that interval starts a new base, and the
    intervals from there on add up to the final document."""
    data = fio_stream(
        tmp_path, "--name=ramp", "--rw=randread", "--bs=4k", "--ramp_time=2", seconds=2
    )
    docs, _ = parse_stream(data)
    tracker = IntervalTracker()
    intervals = [tracker.update(d) for d in docs]
    resets = [i for i, iv in enumerate(intervals) if iv.jobs[0].reset]
    assert len(resets) == 1 and resets[0] > 0  # status documents during the ramp come first
    after = [iv.jobs[0].directions["read"] for iv in intervals[resets[0] :]]
    final = docs[-1]["jobs"][0]["read"]
    assert sum_bins(p.bins for p in after) == doc_bins(final)
    assert sum(p.ios for p in after) == final["total_ios"]
    assert all(
        p.ios >= 0 and p.runtime_ms >= 0 for iv in intervals for p in iv.jobs[0].directions.values()
    )
