"""Stale figures: age formatting, when a host's rows count as stale, the stall threshold."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.core.domain.test_domain_store import row as make_row
from tests.pilot_utils import hosts_settled, wait_until
from tests.screens.host.test_hung_host_app import is_dim, line_text, row_line
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.common.units import human_age
from virttui.core.domain.store import DomainStore
from virttui.core.host.connection import STALL_MIN, ConnState, stall_after


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


def test_rows_of_a_connected_host_go_stale_when_samples_stop_coming() -> None:
    store = DomainStore()
    entry = store.add_host("test:///x", "x")
    store.apply_rows("test:///x", [make_row("u1", "a")], 1, taken_at=100.0)
    store.set_host_state("test:///x", "connected", None)
    entry.stale_after = 6.0
    assert entry.stale_age(now=105.0) is None
    assert entry.stale_age(now=107.0) == 7.0


async def test_rows_dim_while_a_stats_call_hangs_on_a_host_that_still_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uri = "test:///default"
    app = VirtTUIApp([HostSpec(uri, label="slow-host")], refresh=0.5)
    async with app.run_test(size=(110, 20)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), timeout=30)
        host = app.hosts[uri]
        real_poll = host._poll
        release = threading.Event()

        def hanging_poll(conn: Any) -> Any:
            release.wait(120)  # the stats call hangs; the connection itself still answers
            return real_poll(conn)

        monkeypatch.setattr(host, "_poll", hanging_poll)
        try:
            await wait_until(pilot, lambda: is_dim(app, row_line(app, uri)), timeout=30)
            await wait_until(  # the once-a-second tick repaints the host line
                pilot, lambda: "slow-host  [connected]  1 domain  stale " in screen_text(app), 5
            )
            assert host.state is ConnState.CONNECTED  # the probe got its answer
            assert " old " in line_text(app, row_line(app, uri))
        finally:
            release.set()
        await wait_until(pilot, lambda: not is_dim(app, row_line(app, uri)), timeout=30)
        assert "running" in line_text(app, row_line(app, uri))
        assert "stale" not in screen_text(app)
