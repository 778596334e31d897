"""Rates from cumulative counters, and parsing of bulk stats records."""

from __future__ import annotations

import libvirt
from hypothesis import given
from hypothesis import strategies as st

from virttui.core.host.stats import RateTracker, RawSample, parse_record


def sample(
    cpu: int | None, rd: int = 0, dom_id: int = 1, vcpus: int = 2, vcpu_time: int | None = None
) -> RawSample:
    return RawSample(
        "u1",
        "vm",
        dom_id,
        1,
        1,
        cpu,
        vcpus,
        vcpus,
        1024,
        2048,
        rd,
        0,
        0,
        0,
        vcpu_time_ns=vcpu_time,
        vcpu_timed=vcpus if vcpu_time is not None else 0,
    )


def test_cpu_percent_from_cpu_time_delta() -> None:
    tracker = RateTracker()
    assert tracker.update([sample(0, vcpu_time=0)], 10.0, 4, None)[0].cpu_host_pct is None
    # 1 s of CPU time in 2 s of wall time on a 4-CPU host: 50% of one CPU = 12.5% of the host.
    # Of it, 0.8 s ran on the 2 vCPUs (the rest in QEMU's own threads): 20% of its vCPUs.
    row = tracker.update([sample(1_000_000_000, rd=4096, vcpu_time=800_000_000)], 12.0, 4, None)[0]
    assert row.cpu_host_pct == 12.5
    assert row.cpu_vcpu_pct == 20.0  # of its own 2 vCPUs, from vcpu.N.time only
    assert row.disk_rd_bps == 2048.0


def test_restart_resets_rates_instead_of_going_negative() -> None:
    tracker = RateTracker()
    tracker.update([sample(5_000_000_000, dom_id=1)], 1.0, 1, None)
    row = tracker.update([sample(10, dom_id=2)], 2.0, 1, None)[0]
    assert row.cpu_host_pct is None  # a new run of the domain has no previous sample


@given(
    st.lists(st.tuples(st.integers(0, 10**12), st.integers(0, 10**12)), min_size=2, max_size=8),
)
def test_rates_are_never_negative(counters: list[tuple[int, int]]) -> None:
    tracker = RateTracker()
    for t, (cpu, rd) in enumerate(counters):
        for row in tracker.update([sample(cpu, rd)], float(t + 1), 2, frozenset()):
            assert row.cpu_host_pct is None or row.cpu_host_pct >= 0
            assert row.disk_rd_bps is None or row.disk_rd_bps >= 0
            assert row.autostart is False


def test_parse_record_sums_disks_and_nics() -> None:
    conn = libvirt.open("test:///default")
    try:
        dom = conn.lookupByName("test")
        stats = {
            "state.state": 1,
            "state.reason": 1,
            "cpu.time": 7,
            "block.count": 2,
            "block.0.rd.bytes": 10,
            "block.1.rd.bytes": 5,
            "block.0.wr.bytes": 1,
            "net.count": 1,
            "net.0.rx.bytes": 100,
            "net.0.tx.bytes": 50,
            "vcpu.current": 2,
            "balloon.current": 1024,
        }
        s = parse_record(dom, stats)
        assert (s.name, s.state, s.cpu_time_ns, s.rd_bytes, s.wr_bytes, s.rx_bytes, s.tx_bytes) == (
            "test",
            1,
            7,
            15,
            1,
            100,
            50,
        )
        assert s.uuid == dom.UUIDString()
    finally:
        conn.close()


def test_identical_idle_records_keep_their_row_objects() -> None:
    conn = libvirt.open("test:///default")
    try:
        dom = conn.lookupByName("test")
        tracker = RateTracker()
        stats = {"state.state": 5, "state.reason": 0, "vcpu.current": 1, "balloon.current": 1024}
        rows1, missing = tracker.update_records([(dom, stats)], 1.0, 2, frozenset(), {})
        assert not missing and rows1[0].autostart is False
        rows2, _ = tracker.update_records([(dom, dict(stats))], 2.0, 2, frozenset(), {})
        assert rows2[0] is rows1[0]
        # Anything different (autostart, counters) builds a new row.
        rows3, _ = tracker.update_records(
            [(dom, dict(stats))], 3.0, 2, frozenset({dom.UUIDString()}), {}
        )
        assert rows3[0] is not rows2[0] and rows3[0].autostart is True
        busy = dict(stats, **{"state.state": 1, "cpu.time": 10})
        rows4, _ = tracker.update_records([(dom, busy)], 4.0, 2, None, {})
        busy2 = dict(busy, **{"cpu.time": 10 + 10**9})
        rows5, _ = tracker.update_records([(dom, busy2)], 5.0, 2, None, {})
        assert rows5[0].cpu_host_pct == 50.0
    finally:
        conn.close()


def test_records_without_vcpu_memory_are_reported_and_filled_from_static() -> None:
    conn = libvirt.open("test:///default")
    try:
        dom = conn.lookupByName("test")
        tracker = RateTracker()
        stats = {"state.state": 1, "state.reason": 1}
        rows, missing = tracker.update_records([(dom, stats)], 1.0, 2, None, {})
        assert missing == [0] and rows[0].vcpus is None
        static = {dom.UUIDString(): (2, 4096, 2048)}
        rows, missing = tracker.update_records([(dom, stats)], 1.0, 2, None, static, again=True)
        assert not missing and (rows[0].vcpus, rows[0].mem_kib, rows[0].mem_max_kib) == (
            2,
            2048,
            4096,
        )
    finally:
        conn.close()
