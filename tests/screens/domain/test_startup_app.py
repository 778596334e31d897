"""Start-up overlap: connections started before the UI (as `virttui` does) and taken over by the app.

The entry point starts the hosts' connections before it imports Textual (core/host/early.py); when
their first snapshot is there by the time the app mounts, the first frame of the list already
shows the rows. Without it (the app opening its own connections) the first frame has none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import RenderableType
from textual.screen import Screen

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import VirtTUIApp
from virttui.core.host.connection import ConnState
from virttui.core.host.early import EarlyHosts
from virttui.core.host.nodexml import node_uri, write_node_xml
from virttui.core.host.spec import HostSpec
from virttui.screens.domain.domain_list import DomainsScreen

N = 30
STATES = (" running ", " shutoff ", " paused ", " crashed ")


class FirstFrameApp(VirtTUIApp):
    """Keeps the text of the first frame it displays of the domain list."""

    first_list_frame: str | None = None

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        if (
            self.first_list_frame is None
            and renderable is not None
            and isinstance(screen, DomainsScreen)
        ):
            self.first_list_frame = screen_text(self)
        super()._display(screen, renderable)


@pytest.fixture
def host_uri(tmp_path: Path) -> str:
    return node_uri(write_node_xml(tmp_path / "node.xml", N))


@pytest.fixture
def early_hosts() -> Iterator[list[EarlyHosts]]:
    made: list[EarlyHosts] = []
    yield made
    for early in made:
        early.close()
        for host in early.hosts.values():
            host.stop(2.0)


def start_early(made: list[EarlyHosts], uri: str, *, readonly: bool = False) -> EarlyHosts:
    early = EarlyHosts.start([HostSpec(uri)], readonly=readonly, refresh=30.0)
    made.append(early)
    return early


def wait_for(cond: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)
    assert cond(), "condition not met"  # type: ignore[operator]


def row_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(s in line for s in STATES)]


async def test_prefetched_snapshot_shows_rows_on_the_first_frame(
    host_uri: str, early_hosts: list[EarlyHosts]
) -> None:
    early = start_early(early_hosts, host_uri)
    wait_for(lambda: early.sampled() == {host_uri})
    host = early.hosts[host_uri]
    app = FirstFrameApp([HostSpec(host_uri)], refresh=30.0, early=early)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.first_list_frame is not None)
        first = app.first_list_frame or ""
        assert f"{N} domains" in first
        assert len(row_lines(first)) >= 10, first
        assert "(256 CPUs)" in first  # the status line counts CPUs of connected hosts only
        # The app owns the early connection (no second one) and hears from it from now on.
        assert app.hosts[host_uri] is host
        assert host.state is ConnState.CONNECTED
        entry = app.store.hosts[host_uri]
        seen = len(entry.history.frames)
        host.refresh_now()
        await wait_until(pilot, lambda: len(entry.history.frames) > seen)
        # Each snapshot applied once: the one taken over is not delivered again.
        stamps = [f.taken_at for f in entry.history.frames]
        assert stamps == sorted(set(stamps)), stamps
    assert host.state is ConnState.STOPPED  # stopped with the app


async def test_without_early_hosts_the_first_frame_has_no_rows(host_uri: str) -> None:
    """The control: the app connecting after its first paint (build_app in tests) has no rows
    on the first frame, so the test above tells the two apart."""
    app = FirstFrameApp([HostSpec(host_uri)], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.first_list_frame is not None)
        assert row_lines(app.first_list_frame or "") == []
        await wait_until(pilot, lambda: app.store.domain_count() == N)


async def test_early_host_not_sampled_yet_fills_in_later(
    host_uri: str, early_hosts: list[EarlyHosts]
) -> None:
    """Taken over before its first snapshot: the rows come as soon as it does."""
    early = EarlyHosts()  # nothing started yet: take() finds the host still connecting
    early_hosts.append(early)
    from virttui.core.host.early import open_host

    host = open_host(HostSpec(host_uri), readonly=False, refresh=30.0, listener=early)
    early._hosts[host_uri] = host
    app = FirstFrameApp([HostSpec(host_uri)], refresh=30.0, early=early)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.first_list_frame is not None)
        host.start()
        await wait_until(pilot, lambda: app.store.domain_count() == N)
        await wait_until(pilot, lambda: app.store.hosts[host_uri].state == "connected")
        assert app.hosts[host_uri] is host


async def test_early_unreachable_host_still_falls_back_to_the_demo(
    early_hosts: list[EarlyHosts],
) -> None:
    bad = "qemu+unix:///system?socket=/nonexistent/sock"
    early = start_early(early_hosts, bad)
    wait_for(lambda: early.hosts[bad].state is ConnState.DISCONNECTED)
    app = VirtTUIApp([HostSpec(bad)], demo_fallback=True, early=early)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: any(h.label.startswith("demo") and h.rows for h in app.store.hosts.values()),
        )
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Cannot reach" in text and "DEMO" in text
        assert "disconnected" in text


async def test_early_host_opened_read_write_is_replaced_for_a_read_only_app(
    host_uri: str, early_hosts: list[EarlyHosts]
) -> None:
    early = start_early(early_hosts, host_uri, readonly=False)
    host = early.hosts[host_uri]
    app = VirtTUIApp([HostSpec(host_uri)], readonly=True, refresh=30.0, early=early)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.domain_count() == N)
        assert app.hosts[host_uri] is not host and app.hosts[host_uri].readonly
        await wait_until(pilot, lambda: host.state is ConnState.STOPPED)
