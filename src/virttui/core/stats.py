"""Turn `getAllDomainStats` records into per-domain rows with rates.

One bulk RPC per refresh returns cumulative counters (cpu.time in ns, block/net bytes); rates are
deltas between two successive samples of the same domain divided by the wall-clock interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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

    @property
    def active(self) -> bool:
        return self.dom_id >= 0


_MAX_DEVICES = 64


def _keys(prefix: str, field: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{i}.{field}" for i in range(_MAX_DEVICES))


# Key strings built once, not per domain per poll (this loop runs for every domain every refresh).
_BLOCK_KEYS = {f: _keys("block", f) for f in ("rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs")}
_NET_KEYS = {f: _keys("net", f) for f in ("rx.bytes", "tx.bytes")}


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
    )


def _guest_used_kib(stats: Mapping[str, Any]) -> int | None:
    """Memory the guest uses, when its balloon driver reports stats (needs a stats period)."""
    available = stats.get("balloon.available")
    unused = stats.get("balloon.unused")
    if available is None or unused is None:
        return None
    return max(0, available - unused)


def _rate(now: int, before: int, seconds: float) -> float:
    # Counters restart at zero when a domain restarts: never show a negative rate.
    return max(0.0, (now - before) / seconds)


def _make_row(
    s: RawSample,
    prev: RawSample | None,
    seconds: float,
    host_cpus: int,
    autostart: bool | None,
    title: str | None = None,
) -> DomainRow:
    cpu_host = cpu_vcpu = rd = wr = rx = tx = rd_iops = wr_iops = None
    if prev is not None and s.dom_id >= 0 and prev.dom_id == s.dom_id and seconds > 0:
        if s.cpu_time_ns is not None and prev.cpu_time_ns is not None:
            busy = _rate(s.cpu_time_ns, prev.cpu_time_ns, seconds) / 1e9 * 100.0
            cpu_host = busy / host_cpus
            cpu_vcpu = busy / max(1, s.vcpus or 1)
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
_Prev = tuple[float, RawSample, Mapping[str, Any] | None, DomainRow, bool]


class RateTracker:
    """Remembers the previous sample of every domain and derives rates from the next one."""

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
    ) -> list[DomainRow]:
        rows: list[DomainRow] = []
        prev_map = self._prev
        next_map: dict[str, _Prev] = {}
        host_cpus = max(1, host_cpus)
        for s in samples:
            prev = prev_map.get(s.uuid)
            row = _make_row(
                s,
                None if prev is None else prev[1],
                0.0 if prev is None else now - prev[0],
                host_cpus,
                None if autostart is None else s.uuid in autostart,
            )
            next_map[s.uuid] = (now, s, None, row, False)
            rows.append(row)
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
    ) -> tuple[list[DomainRow], list[int]]:
        """Parse a bulk stats reply into rows. A domain whose record is identical to last time and
        that showed no activity keeps its row object (shut-off domains, idle test-driver hosts):
        no parsing, no new objects, and views can tell by identity that nothing changed.

        Previous records are found by name (`dom.name()` is 5x cheaper than formatting the UUID,
        and this loop runs for every domain every refresh). A domain undefined and re-created
        under the same name could look identical, so the caller passes `reuse=False` for the poll
        after any define/undefine event (libvirt always emits them; a reconnect resets all).

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
                    and row.autostart == (None if autostart is None else uuid in autostart)
                    and row.title == (None if titles is None else titles.get(uuid))
                    and (row.vcpus is not None or uuid not in static)
                ):
                    next_map[name] = (now, prev[1], stats, row, True)
                    rows.append(row)
                    if row.vcpus is None or row.mem_kib is None:
                        missing.append(index)
                    continue
            sample = parse_record(dom, stats, static)
            uuid = sample.uuid
            if prev is not None and prev[1].uuid != uuid:
                prev = None  # another domain took this name: no rates against the old one
            flag = None if autostart is None else uuid in autostart
            title = None if titles is None else titles.get(uuid)
            if sample.vcpus is None or sample.mem_kib is None:
                missing.append(index)
            row = _make_row(
                sample,
                None if prev is None else prev[1],
                0.0 if prev is None else now - prev[0],
                host_cpus,
                flag,
                title,
            )
            next_map[name] = (now, sample, stats, row, _idle(row))
            rows.append(row)
        self._prev = next_map
        return rows, missing
