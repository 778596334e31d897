"""Stale figures: age formatting, when a host's rows count as stale, the stall threshold."""

from __future__ import annotations

from tests.test_domain_store import row as make_row
from virttui.core.connection import STALL_MIN, stall_after
from virttui.core.domain_store import DomainStore
from virttui.core.units import human_age


def test_human_age_fits_the_state_column() -> None:
    assert [human_age(s) for s in (0, 9.9, 42, 60, 3599, 3600, 86399, 86400 * 12)] == [
        "0s",
        "9s",
        "42s",
        "1m",
        "59m",
        "1h",
        "23h",
        "12d",
    ]
    assert all(len(f"{human_age(s)} old") <= 8 for s in range(0, 86400 * 99, 997))


def test_stall_threshold_is_three_refreshes_but_never_below_the_minimum() -> None:
    assert stall_after(0.5) == STALL_MIN
    assert stall_after(10.0) == 30.0


def test_rows_are_stale_only_while_the_host_is_not_connected() -> None:
    store = DomainStore()
    entry = store.add_host("test:///x", "x")
    assert entry.stale_age() is None  # nothing sampled yet
    store.apply_rows("test:///x", [make_row("u1", "a")], 1, taken_at=100.0)
    store.set_host_state("test:///x", "connected", None)
    assert entry.stale_age(now=130.0) is None
    store.set_host_state("test:///x", "not responding", "no answer")
    assert entry.stale_age(now=130.0) == 30.0
    store.set_host_state("test:///x", "disconnected", "keepalive timeout")
    assert entry.stale_age(now=131.0) == 31.0
    store.apply_rows("test:///x", [], 1, taken_at=140.0)  # stopped by the user: no rows left
    assert entry.stale_age(now=150.0) is None
