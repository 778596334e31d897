"""The domain list's model: latest row and history per domain, grouped by host.

Lives on the UI thread (only it mutates), but knows nothing about widgets so it can be tested alone.
Ordering (filter + sort) is recomputed on demand; with 1000 domains it costs well under 1 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from virttui.core.domain.history import HostHistory
from virttui.core.domain.shutdown_watch import ShutdownWatch
from virttui.core.domain.states import list_word, state_words
from virttui.core.host.stats import DomainRow


@dataclass(slots=True)
class HostRows:
    """One host as the domain list holds it: connection state, rows and history (not to be
    confused with `core.settings.config.HostEntry`, a host saved in config.toml)."""

    uri: str
    label: str
    state: str = "connecting"
    error: str | None = None
    readonly: bool = False
    host_cpus: int = 1
    rows: dict[str, DomainRow] = field(default_factory=dict)
    history: HostHistory = field(default_factory=HostHistory)  # sparklines and details graphs
    members: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # (uuids, names) in poll order
    members_version: int = 0  # bumped when domains come, go or are renamed
    version: int = 0  # bumped on every change, lets views skip work
    sampled_at: float | None = None  # time.monotonic() the rows were taken at
    stale_after: float | None = None  # rows older than this are stale even while connected

    def stale_age(self, now: float | None = None) -> float | None:
        """Age in seconds of rows that are no longer live, else None (fresh, or no rows): the
        host is not responding, disconnected or reconnecting, or its samples stopped coming
        (a stats call that hangs on a daemon that otherwise answers)."""
        if not self.rows or self.sampled_at is None:
            return None
        age = max(0.0, (time.monotonic() if now is None else now) - self.sampled_at)
        if self.state != "connected":
            return age
        return age if self.stale_after is not None and age > self.stale_after else None


@dataclass(frozen=True, slots=True)
class ListItem:
    """One line of the list: a host header (uuid None) or a domain."""

    uri: str
    uuid: str | None

    @property
    def key(self) -> str:
        return f"{self.uri}\x00{self.uuid or ''}"


def _num(value: float | int | None) -> float:
    return -1.0 if value is None else float(value)


# Column id -> sort key on a row. Strings sort case-insensitively; unknown numbers sort first.
# "state" sorts by the word the list shows (`DomainStore` adds "ignored", which needs the host).
SORT_KEYS: dict[str, Callable[[DomainRow, str], Any]] = {
    "name": lambda r, _m: r.name.casefold(),
    "state": lambda r, _m: list_word(r.state, managed_save=r.managed_save),
    "cpu": lambda r, m: _num(r.cpu_host_pct if m == "host" else r.cpu_vcpu_pct),
    "vcpus": lambda r, _m: _num(r.vcpus),
    "mem": lambda r, _m: _num(r.mem_kib),
    "rd": lambda r, _m: _num(r.disk_rd_bps),
    "wr": lambda r, _m: _num(r.disk_wr_bps),
    "rx": lambda r, _m: _num(r.net_rx_bps),
    "tx": lambda r, _m: _num(r.net_tx_bps),
    "auto": lambda r, _m: bool(r.autostart),
}


class DomainStore:
    def __init__(self) -> None:
        self.hosts: dict[str, HostRows] = {}
        self.sort_column = "name"
        self.sort_reverse = False
        self.filter_text = ""
        self.cpu_mode = "host"  # "host": % of all host CPUs (virt-top); "vcpu": % of own vCPUs
        self.version = 0
        self._items_key: tuple[object, ...] | None = None
        self._items: list[ListItem] = []
        self.shutdowns = ShutdownWatch()  # h/r requests the guest may ignore

    # ------------------------------------------------------------------ view settings
    def set_filter(self, text: str) -> None:
        """Show only the domains whose name or state word contains `text` ("" shows all)."""
        if text != self.filter_text:
            self.filter_text = text
            self.version += 1

    def set_sort(self, column: str, reverse: bool = False) -> None:
        if (column, reverse) != (self.sort_column, self.sort_reverse):
            self.sort_column = column
            self.sort_reverse = reverse
            self.version += 1

    def set_cpu_mode(self, mode: str) -> None:
        """ "host": CPU% of all host CPUs (like virt-top); "vcpu": CPU% of the domain's vCPUs."""
        if mode not in ("host", "vcpu"):
            raise ValueError(f"unknown CPU% mode {mode!r}")
        if mode != self.cpu_mode:
            self.cpu_mode = mode
            self.version += 1

    def toggle_cpu_mode(self) -> str:
        self.set_cpu_mode("vcpu" if self.cpu_mode == "host" else "host")
        return self.cpu_mode

    # ------------------------------------------------------------------ hosts and rows
    def add_host(self, uri: str, label: str, readonly: bool = False) -> HostRows:
        entry = self.hosts.get(uri)
        if entry is None:
            entry = self.hosts[uri] = HostRows(uri, label, readonly=readonly)
            self.version += 1
        return entry

    def remove_host(self, uri: str) -> None:
        if self.hosts.pop(uri, None) is not None:
            self.version += 1

    def set_host_state(self, uri: str, state: str, error: str | None) -> None:
        entry = self.hosts.get(uri)
        if entry is None:
            return
        entry.state = state
        entry.error = error
        entry.version += 1
        self.version += 1

    def apply_rows(
        self,
        uri: str,
        rows: Iterable[DomainRow],
        host_cpus: int,
        taken_at: float | None = None,
    ) -> None:
        entry = self.hosts.get(uri)
        if entry is None:
            return
        row_list = list(rows)
        new_rows = {r.uuid: r for r in row_list}
        taken = time.monotonic() if taken_at is None else taken_at
        entry.history.append(taken, row_list)
        entry.sampled_at = taken
        members = (tuple(new_rows), tuple(r.name for r in row_list))
        if members != entry.members:
            entry.members = members
            entry.members_version += 1
        entry.rows = new_rows
        entry.host_cpus = host_cpus
        entry.version += 1
        self.version += 1

    def row(self, uri: str, uuid: str) -> DomainRow | None:
        entry = self.hosts.get(uri)
        return None if entry is None else entry.rows.get(uuid)

    def cpu_series(self) -> str:
        """The history series the list's CPU column and sparkline show."""
        return "cpu_host" if self.cpu_mode == "host" else "cpu"

    def cpu_value(self, row: DomainRow) -> float | None:
        return row.cpu_host_pct if self.cpu_mode == "host" else row.cpu_vcpu_pct

    def ignored_shutdown(self, uri: str, row: DomainRow) -> bool:
        """Still running after a shutdown/reboot request and its grace period."""
        return row.active and self.shutdowns.overdue(uri, row.uuid, time.monotonic())

    def state_word(self, uri: str, row: DomainRow) -> str:
        """The word the list's State column shows ("shutoff", "saved", "ignored", ...)."""
        return list_word(
            row.state, managed_save=row.managed_save, ignored=self.ignored_shutdown(uri, row)
        )

    def matches(self, row: DomainRow, uri: str = "") -> bool:
        """The filter matches the name or any word for the state, the one the list shows
        ("shutoff", "pmsusp", "saved", "ignored") as well as the long one ("shut off")."""
        if not self.filter_text:
            return True
        needle = self.filter_text.casefold()
        if needle in row.name.casefold():
            return True
        words = state_words(
            row.state, managed_save=row.managed_save, ignored=self.ignored_shutdown(uri, row)
        )
        return any(needle in word.casefold() for word in words)

    def items(self) -> list[ListItem]:
        """Host headers, each followed by its filtered, sorted domains.

        Sorted by name with no filter (the usual view), the order only changes when domains come,
        go or are renamed, so it is cached; other orders depend on live values and are recomputed.
        """
        cache_key: tuple[object, ...] | None = None
        if self.sort_column == "name" and not self.filter_text:
            cache_key = (
                self.sort_reverse,
                tuple((uri, e.members_version) for uri, e in self.hosts.items()),
            )
            if cache_key == self._items_key:
                return self._items
        items = self._compute_items()
        self._items_key, self._items = cache_key, items
        return items

    def _compute_items(self) -> list[ListItem]:
        key_fn = SORT_KEYS.get(self.sort_column, SORT_KEYS["name"])
        mode = self.cpu_mode
        out: list[ListItem] = []
        for uri, entry in self.hosts.items():
            out.append(ListItem(uri, None))
            rows = [r for r in entry.rows.values() if self.matches(r, uri)]
            # Name is the tie-breaker so equal values keep a stable, readable order.
            rows.sort(key=lambda r: r.name.casefold())
            if self.sort_column == "state":
                # The word each row shows, "ignored" included: what you see is what is sorted.
                rows.sort(key=lambda r: self.state_word(uri, r), reverse=self.sort_reverse)
            else:
                rows.sort(key=lambda r: key_fn(r, mode), reverse=self.sort_reverse)
            out.extend(ListItem(uri, r.uuid) for r in rows)
        return out

    def domain_count(self) -> int:
        return sum(len(e.rows) for e in self.hosts.values())
