"""Per-domain history series: rings, windows, IOPS and memory from bulk stats."""

from __future__ import annotations

from dataclasses import replace

from virttui.core.domain.history import HostHistory, memory_source
from virttui.core.domain.store import DomainStore
from virttui.core.host.stats import DomainRow, RateTracker, RawSample, parse_record


def row(uuid: str = "u1", **changes: object) -> DomainRow:
    base = DomainRow(
        uuid, "vm", 1, 1, 1, 2, 2, 1024, 2048, 5.0, 10.0, 100.0, 200.0, 30.0, 40.0, False
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_values_keep_the_newest_points_in_order() -> None:
    host = HostHistory(points=3)
    assert host.get("u1") is None and host.values("u1", "cpu") == []
    for t, value in enumerate((1.0, None, 3.0, 4.0)):
        host.append(float(t), [row(cpu_vcpu_pct=value)])
    values = host.values("u1", "cpu")
    assert values[1:] == [3.0, 4.0]
    assert values[0] != values[0]  # NaN: "no value"
    assert host.values("u1", "cpu", last=1) == [4.0]
    history = host.get("u1")
    assert history is not None and len(history) == 3 and history.latest("cpu") == 4.0


def test_window_is_relative_to_now_and_skips_missing_values() -> None:
    host = HostHistory(points=10)
    host.append(100.0, [row(cpu_vcpu_pct=None)])
    host.append(101.0, [row(cpu_vcpu_pct=20.0, disk_rd_iops=7.0)])
    host.append(102.0, [row(cpu_vcpu_pct=30.0, disk_rd_iops=9.0)])
    history = host.get("u1")
    assert history is not None
    assert history.window("cpu", 60, 102.0) == ([-1.0, 0.0], [20.0, 30.0])
    assert history.window("cpu", 1.5, 102.0) == ([-1.0, 0.0], [20.0, 30.0])
    assert history.window("cpu", 0.5, 102.0) == ([0.0], [30.0])
    assert history.latest("rd_iops") == 9.0
    assert history.window("rx_bps", 60, 102.0)[1] == [30.0, 30.0, 30.0]


def test_memory_prefers_guest_view_then_rss_then_balloon() -> None:
    host = HostHistory(points=4)
    host.append(1.0, [row(mem_used_kib=500, mem_rss_kib=900)])
    host.append(2.0, [row(mem_rss_kib=900)])
    host.append(3.0, [row()])
    history = host.get("u1")
    assert history is not None
    assert history.window("mem_kib", 10, 3.0)[1] == [500.0, 900.0, 1024.0]
    assert memory_source(row(mem_used_kib=1)).startswith("used by the guest")
    assert memory_source(row(mem_rss_kib=1)).startswith("resident")


def test_histories_forget_gone_domains_and_follow_reordering() -> None:
    host = HostHistory(points=10)
    host.append(1.0, [row("a", cpu_vcpu_pct=1.0), row("b", cpu_vcpu_pct=2.0)])
    host.append(2.0, [row("b", cpu_vcpu_pct=4.0), row("a", cpu_vcpu_pct=3.0)])
    host.append(3.0, [row("a", cpu_vcpu_pct=5.0)])
    assert "b" not in host and host.get("b") is None
    assert host.values("a", "cpu") == [1.0, 3.0, 5.0]
    history = host.get("a")
    assert history is not None and len(history) == 3


def test_series_without_any_value_store_nothing() -> None:
    host = HostHistory(points=10)
    host.append(1.0, [row("a", net_rx_bps=None, net_tx_bps=None)])
    assert "rx_bps" not in host.frames[-1].columns
    assert "cpu" in host.frames[-1].columns


def test_store_feeds_histories_with_the_poll_time() -> None:
    store = DomainStore()
    store.add_host("h", "host")
    store.apply_rows("h", [row("a")], 4, taken_at=50.0)
    store.apply_rows("h", [row("a", cpu_vcpu_pct=12.0)], 4, taken_at=51.0)
    history = store.hosts["h"].history.get("a")
    assert history is not None
    assert history.window("cpu", 10, 51.0) == ([-1.0, 0.0], [10.0, 12.0])


class FakeDom:
    def UUIDString(self) -> str:  # noqa: N802 - libvirt's name
        return "u1"

    def name(self) -> str:
        return "vm"

    def ID(self) -> int:  # noqa: N802 - libvirt's name
        return 3


def test_iops_and_balloon_memory_from_bulk_records() -> None:
    stats = {
        "state.state": 1,
        "block.count": 2,
        "block.0.rd.reqs": 10,
        "block.0.wr.reqs": 4,
        "block.1.rd.reqs": 5,
        "balloon.current": 2048,
        "balloon.available": 2000,
        "balloon.unused": 1500,
        "balloon.rss": 900,
    }
    first = parse_record(FakeDom(), stats)  # type: ignore[arg-type]
    assert (first.rd_reqs, first.wr_reqs) == (15, 4)
    assert (first.mem_used_kib, first.mem_rss_kib) == (500, 900)
    later = replace(first, rd_reqs=35, wr_reqs=10)
    tracker = RateTracker()
    tracker.update([first], 1.0, 2, None)
    (out,) = tracker.update([later], 3.0, 2, None)
    assert (out.disk_rd_iops, out.disk_wr_iops) == (10.0, 3.0)
    assert out.mem_used_kib == 500


def test_old_positional_samples_still_work() -> None:
    sample = RawSample("u", "vm", 1, 1, 1, None, 1, 1, 1024, 2048, 0, 0, 0, 0)
    assert sample.rd_reqs == 0 and sample.mem_used_kib is None
