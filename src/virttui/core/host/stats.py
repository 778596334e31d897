"""Turn `getAllDomainStats` records into per-domain rows with rates.

One bulk RPC per refresh returns cumulative counters (cpu.time and vcpu.N.time in ns, block/net
bytes); rates are deltas between two successive samples of the same domain divided by the real
interval between them (the caller passes each poll's time: the middle of its RPC).

CPU figures, each within its base:
- host-relative: cpu.time (vCPU threads plus QEMU's emulator and I/O threads) over the interval
  times the host's CPUs;
- "% of its vCPUs": the sum of vcpu.N.time over the interval times the number of vCPUs. Emulator
  threads are not in it, so a busy 1-vCPU guest reads 100%, not 130%.
No rate is computed across a change of run (domain ID), state or state reason, vCPU count, a
lifecycle event the caller reports, or a reconnect (the caller resets the tracker). A poll that
comes too soon after the previous one (an event-triggered re-poll) keeps the previous rates and
baseline: over a few tens of milliseconds, counter granularity alone gives absurd percentages.
Percentages are clamped to [0, 100] only as a last guard against timing jitter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import libvirt

# What one poll asks for: state, CPU time, memory, vCPU count, NIC and disk counters.
STATS_FLAGS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)


@dataclass(frozen=True, slots=True)
class RawSample:
    """Counters of one domain as returned by one bulk stats call."""

    uuid: str
    name: str
    dom_id: int
    state: int
    reason: int
    cpu_time_ns: int | None
    vcpus: int | None
    vcpus_max: int | None
    mem_kib: int | None
    mem_max_kib: int | None
    rd_bytes: int
    wr_bytes: int
    rx_bytes: int
    tx_bytes: int
    # Added later: kept last, with defaults, so positional constructions stay valid.
    rd_reqs: int = 0
    wr_reqs: int = 0
    mem_used_kib: int | None = None  # guest view: balloon.available - balloon.unused
    mem_rss_kib: int | None = None  # host view: resident set of the QEMU process
    vcpu_time_ns: int | None = None  # sum of vcpu.N.time: the vCPU threads only
    vcpu_timed: int = 0  # how many vCPUs reported a vcpu.N.time


@dataclass(frozen=True, slots=True)
class DomainRow:
    """What the domain list shows for one domain at one instant."""

    uuid: str
    name: str
    dom_id: int
    state: int
    reason: int
    vcpus: int | None
    vcpus_max: int | None
    mem_kib: int | None
    mem_max_kib: int | None
    cpu_host_pct: float | None  # share of all host CPUs, like virt-top
    cpu_vcpu_pct: float | None  # share of the domain's own vCPUs
    disk_rd_bps: float | None
    disk_wr_bps: float | None
    net_rx_bps: float | None
    net_tx_bps: float | None
    autostart: bool | None
    # Added later: kept last, with defaults, so positional constructions stay valid.
    disk_rd_iops: float | None = None
    disk_wr_iops: float | None = None
    mem_used_kib: int | None = None
    mem_rss_kib: int | None = None
    title: str | None = None  # the admin's short note (<title>), None until read
    # Shut off with a managed save image (the next start resumes it); None until read and for
    # active domains.
    managed_save: bool | None = None

    @property
    def active(self) -> bool:
        return self.dom_id >= 0


_MAX_DEVICES = 64


def _keys(prefix: str, field: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{i}.{field}" for i in range(_MAX_DEVICES))


# Key strings built once, not per domain per poll (this loop runs for every domain every refresh).
_BLOCK_KEYS = {f: _keys("block", f) for f in ("rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs")}
_NET_KEYS = {f: _keys("net", f) for f in ("rx.bytes", "tx.bytes")}
_VCPU_TIME_KEYS = _keys("vcpu", "time")

# A poll closer than this to the previous one gives no new rates (see the module doc).
MIN_RATE_SECONDS = 0.5
# Each poll's time is the middle of its RPC, off by at most half the RPC's duration; rates wait
# until that possible error is below this share of the interval.
MAX_TIMING_ERROR = 0.1
_RUNNING, _BLOCKED = 1, 2


def _vcpu_time(stats: Mapping[str, Any], vcpus_max: int | None) -> tuple[int | None, int]:
    """Sum of vcpu.N.time over the vCPUs that report one, and how many did."""
    count = vcpus_max or stats.get("vcpu.current") or 0
    if count <= 0:
        return None, 0
    keys = (
        _VCPU_TIME_KEYS if count <= _MAX_DEVICES else tuple(f"vcpu.{i}.time" for i in range(count))
    )
    total = 0
    timed = 0
    get = stats.get
    for i in range(count):
        value = get(keys[i])
        if value is not None:
            total += value
            timed += 1
    return (total, timed) if timed else (None, 0)


def _sum_keys(stats: Mapping[str, Any], keys: tuple[str, ...], count: int) -> int:
    if count > _MAX_DEVICES:  # rare: more devices than prebuilt keys
        prefix, _, rest = keys[0].partition(".0.")
        keys = tuple(f"{prefix}.{i}.{rest}" for i in range(count))
    total = 0
    get = stats.get
    for i in range(count):
        value = get(keys[i])
        if value is not None:
            total += value
    return total


def parse_record(
    dom: libvirt.virDomain,
    stats: Mapping[str, Any],
    static: Mapping[str, tuple[int, int, int]] | None = None,
) -> RawSample:
    """One `getAllDomainStats` record; `dom.name()`/`UUIDString()`/`ID()` are cached, no RPC.

    `static` maps UUID -> (vcpus, max KiB, current KiB) for drivers whose bulk stats lack them.
    """
    get = stats.get
    uuid = dom.UUIDString()
    vcpus = get("vcpu.current")
    vcpus_max = get("vcpu.maximum")
    mem = get("balloon.current")
    mem_max = get("balloon.maximum")
    if static is not None and (vcpus is None or mem is None):
        info = static.get(uuid)
        if info is not None:
            vcpus = info[0] if vcpus is None else vcpus
            vcpus_max = info[0] if vcpus_max is None else vcpus_max
            mem = info[2] if mem is None else mem
            mem_max = info[1] if mem_max is None else mem_max
    nblock = get("block.count", 0)
    nnet = get("net.count", 0)
    if nblock:
        rd = _sum_keys(stats, _BLOCK_KEYS["rd.bytes"], nblock)
        wr = _sum_keys(stats, _BLOCK_KEYS["wr.bytes"], nblock)
        rd_reqs = _sum_keys(stats, _BLOCK_KEYS["rd.reqs"], nblock)
        wr_reqs = _sum_keys(stats, _BLOCK_KEYS["wr.reqs"], nblock)
    else:
        rd = wr = rd_reqs = wr_reqs = 0
    if nnet:
        rx = _sum_keys(stats, _NET_KEYS["rx.bytes"], nnet)
        tx = _sum_keys(stats, _NET_KEYS["tx.bytes"], nnet)
    else:
        rx = tx = 0
    vcpu_time, vcpu_timed = _vcpu_time(stats, get("vcpu.maximum"))
    return RawSample(
        uuid=uuid,
        name=dom.name(),
        dom_id=dom.ID(),
        state=get("state.state", libvirt.VIR_DOMAIN_NOSTATE),
        reason=get("state.reason", 0),
        cpu_time_ns=get("cpu.time"),
        vcpus=vcpus,
        vcpus_max=vcpus_max,
        mem_kib=mem,
        mem_max_kib=mem_max,
        rd_bytes=rd,
        wr_bytes=wr,
        rx_bytes=rx,
        tx_bytes=tx,
        rd_reqs=rd_reqs,
        wr_reqs=wr_reqs,
        mem_used_kib=_guest_used_kib(stats),
        mem_rss_kib=get("balloon.rss"),
        vcpu_time_ns=vcpu_time,
        vcpu_timed=vcpu_timed,
    )


def _guest_used_kib(stats: Mapping[str, Any]) -> int | None:
    """Memory the guest uses, when its balloon driver reports stats (needs a stats period)."""
    available: int | None = stats.get("balloon.available")
    unused: int | None = stats.get("balloon.unused")
    if available is None or unused is None:
        return None
    return max(0, available - unused)


def _rate(now: int, before: int, seconds: float) -> float:
    # Counters restart at zero when a domain restarts: never show a negative rate.
    return max(0.0, (now - before) / seconds)


def _percent(busy_ns: int, capacity_ns: float) -> float | None:
    """`busy_ns` of CPU time as a share of `capacity_ns`; the clamp is only a last guard."""
    if capacity_ns <= 0 or busy_ns < 0:
        return None
    return min(100.0, 100.0 * busy_ns / capacity_ns)


def comparable(prev: RawSample, s: RawSample) -> bool:
    """Whether rates between these two samples of one domain mean anything: same run, same
    state and reason (a pause and resume between them changes the reason), same vCPUs."""
    return (
        s.dom_id >= 0
        and prev.dom_id == s.dom_id
        and prev.uuid == s.uuid
        and prev.state == s.state
        and prev.reason == s.reason
        and prev.vcpus == s.vcpus
        and prev.vcpu_timed == s.vcpu_timed
    )


def _make_row(
    s: RawSample,
    prev: RawSample | None,
    seconds: float,
    host_cpus: int,
    autostart: bool | None,
    title: str | None = None,
    managed_save: bool | None = None,
) -> DomainRow:
    """`prev` must be None unless `comparable(prev, s)`; `seconds` is the real interval."""
    cpu_host = cpu_vcpu = rd = wr = rx = tx = rd_iops = wr_iops = None
    if prev is not None and seconds > 0:
        if s.cpu_time_ns is not None and prev.cpu_time_ns is not None:
            cpu_host = _percent(s.cpu_time_ns - prev.cpu_time_ns, seconds * 1e9 * host_cpus)
        if s.vcpu_time_ns is not None and prev.vcpu_time_ns is not None and s.vcpu_timed:
            cpu_vcpu = _percent(s.vcpu_time_ns - prev.vcpu_time_ns, seconds * 1e9 * s.vcpu_timed)
        rd = _rate(s.rd_bytes, prev.rd_bytes, seconds)
        wr = _rate(s.wr_bytes, prev.wr_bytes, seconds)
        rx = _rate(s.rx_bytes, prev.rx_bytes, seconds)
        tx = _rate(s.tx_bytes, prev.tx_bytes, seconds)
        rd_iops = _rate(s.rd_reqs, prev.rd_reqs, seconds)
        wr_iops = _rate(s.wr_reqs, prev.wr_reqs, seconds)
    return DomainRow(
        uuid=s.uuid,
        name=s.name,
        dom_id=s.dom_id,
        state=s.state,
        reason=s.reason,
        vcpus=s.vcpus,
        vcpus_max=s.vcpus_max,
        mem_kib=s.mem_kib,
        mem_max_kib=s.mem_max_kib,
        cpu_host_pct=cpu_host,
        cpu_vcpu_pct=cpu_vcpu,
        disk_rd_bps=rd,
        disk_wr_bps=wr,
        net_rx_bps=rx,
        net_tx_bps=tx,
        autostart=autostart,
        disk_rd_iops=rd_iops,
        disk_wr_iops=wr_iops,
        mem_used_kib=s.mem_used_kib,
        mem_rss_kib=s.mem_rss_kib,
        title=title,
        managed_save=managed_save if s.dom_id < 0 else None,
    )


def _carry_rates(row: DomainRow, last: DomainRow) -> DomainRow:
    """`row` with the rates of `last` (a poll too soon after the previous one)."""
    return replace(
        row,
        cpu_host_pct=last.cpu_host_pct,
        cpu_vcpu_pct=last.cpu_vcpu_pct,
        disk_rd_bps=last.disk_rd_bps,
        disk_wr_bps=last.disk_wr_bps,
        net_rx_bps=last.net_rx_bps,
        net_tx_bps=last.net_tx_bps,
        disk_rd_iops=last.disk_rd_iops,
        disk_wr_iops=last.disk_wr_iops,
    )


def _idle(row: DomainRow) -> bool:
    """No activity shown: an unchanged record then means an unchanged row."""
    return not (
        row.cpu_host_pct
        or row.disk_rd_bps
        or row.disk_wr_bps
        or row.net_rx_bps
        or row.net_tx_bps
        or row.disk_rd_iops
        or row.disk_wr_iops
    )


# What the tracker keeps of each domain's last poll: time, sample, raw record (None when fed
# samples), the row built, and whether that row may be reused when the next record is identical.
# The time and sample are the rate baseline: a poll too soon after it keeps the older baseline.
# Last: how uncertain that time is (half the RPC that read the sample).
_Prev = tuple[float, RawSample, Mapping[str, Any] | None, DomainRow, bool, float]


def _advance(
    prev: _Prev | None,
    sample: RawSample,
    stats: Mapping[str, Any] | None,
    now: float,
    host_cpus: int,
    autostart: bool | None,
    title: str | None,
    changed: bool,
    managed_save: bool | None = None,
    spread: float = 0.0,
) -> _Prev:
    """The row for `sample` and what to keep for the next poll."""
    if prev is not None and (changed or not comparable(prev[1], sample)):
        prev = None  # a new run, state, vCPU count or an event in between: no rates across it
    if prev is None:
        row = _make_row(sample, None, 0.0, host_cpus, autostart, title, managed_save)
        # Without a baseline a running domain's rates are unknown, not idle: the next record,
        # even an identical one, is parsed so its rates (0 for a paused domain) are shown.
        fresh = row.active and sample.cpu_time_ns is not None
        return (now, sample, stats, row, not fresh and _idle(row), spread)
    seconds = now - prev[0]
    if seconds < MIN_RATE_SECONDS or prev[5] + spread > MAX_TIMING_ERROR * seconds:
        # Too soon, or the two RPCs were too slow to tell the interval well: keep the older
        # baseline (the next interval is longer) and show the last figures meanwhile.
        row = _make_row(sample, None, 0.0, host_cpus, autostart, title, managed_save)
        return (prev[0], prev[1], prev[2], _carry_rates(row, prev[3]), False, prev[5])
    row = _make_row(sample, prev[1], seconds, host_cpus, autostart, title, managed_save)
    return (now, sample, stats, row, _idle(row), spread)


class RateTracker:
    """Remembers the previous sample of every domain and derives rates from the next one.

    `now` is the time the poll's samples were taken (monotonic seconds; the middle of the RPC)
    and `spread` how far off it may be (half the RPC's duration).
    `changed` names domains (UUIDs) that had a lifecycle event since the previous poll: no rate
    is computed across it. After a reconnect the caller calls `reset()`.
    """

    def __init__(self) -> None:
        # Keyed by domain name (update_records) or UUID (update); one tracker uses one of them.
        self._prev: dict[str, _Prev] = {}
        self._before = self._prev

    def reset(self) -> None:
        self._prev.clear()

    def update(
        self,
        samples: Iterable[RawSample],
        now: float,
        host_cpus: int,
        autostart: frozenset[str] | None,
        *,
        changed: Collection[str] = (),
        spread: float = 0.0,
    ) -> list[DomainRow]:
        rows: list[DomainRow] = []
        prev_map = self._prev
        next_map: dict[str, _Prev] = {}
        host_cpus = max(1, host_cpus)
        for s in samples:
            entry = _advance(
                prev_map.get(s.uuid),
                s,
                None,
                now,
                host_cpus,
                None if autostart is None else s.uuid in autostart,
                None,
                s.uuid in changed,
                spread=spread,
            )
            entry = (entry[0], entry[1], None, entry[3], False, entry[5])
            next_map[s.uuid] = entry
            rows.append(entry[3])
        self._prev = next_map
        return rows

    def update_records(
        self,
        records: list[tuple[libvirt.virDomain, dict[str, Any]]],
        now: float,
        host_cpus: int,
        autostart: frozenset[str] | None,
        static: Mapping[str, tuple[int, int, int]],
        *,
        titles: Mapping[str, str] | None = None,
        again: bool = False,
        reuse: bool = True,
        changed: Collection[str] = (),
        saved: Mapping[str, bool] | None = None,
        spread: float = 0.0,
    ) -> tuple[list[DomainRow], list[int]]:
        """Parse a bulk stats reply into rows. A domain whose record is identical to last time and
        that showed no activity keeps its row object (shut-off domains, idle test-driver hosts):
        no parsing, no new objects, and views can tell by identity that nothing changed.

        Previous records are found by name (`dom.name()` is 5x cheaper than formatting the UUID,
        and this loop runs for every domain every refresh). A domain undefined and re-created
        under the same name could look identical, so the caller passes `reuse=False` for the poll
        after any define/undefine event (libvirt always emits them; a reconnect resets all).

        `saved` maps UUID -> whether a shut-off domain has a managed save image (as known).

        Returns the rows and the indexes of records that lacked vCPU/memory and had no static info.
        `again=True` redoes the same poll (after static info was learnt) against the previous one.
        """
        rows: list[DomainRow] = []
        missing: list[int] = []
        if again:
            self._prev = self._before
        self._before = prev_map = self._prev
        next_map: dict[str, _Prev] = {}
        host_cpus = max(1, host_cpus)
        for index, (dom, stats) in enumerate(records):
            name = dom.name()
            prev = prev_map.get(name)
            if reuse and prev is not None and prev[2] == stats:
                row = prev[3]
                uuid = row.uuid
                if (
                    prev[4]  # idle and complete when it was built
                    and uuid not in changed
                    and row.autostart == (None if autostart is None else uuid in autostart)
                    and row.title == (None if titles is None else titles.get(uuid))
                    and (row.active or row.managed_save == (saved or {}).get(uuid))
                    and (row.vcpus is not None or uuid not in static)
                ):
                    next_map[name] = (now, prev[1], stats, row, True, spread)
                    rows.append(row)
                    if row.vcpus is None or row.mem_kib is None:
                        missing.append(index)
                    continue
            sample = parse_record(dom, stats, static)
            uuid = sample.uuid
            if sample.vcpus is None or sample.mem_kib is None:
                missing.append(index)
            entry = _advance(
                prev,
                sample,
                stats,
                now,
                host_cpus,
                None if autostart is None else uuid in autostart,
                None if titles is None else titles.get(uuid),
                uuid in changed,
                None if saved is None else saved.get(uuid),
                spread,
            )
            next_map[name] = entry
            rows.append(entry[3])
        self._prev = next_map
        return rows, missing
