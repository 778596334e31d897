"""HostScreen with Pilot and a snapshot, on the test driver and a fixture host tree."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static

from tests import paths
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.core.host.probe.cpuflags import TCG_CONSEQUENCE
from virttui.resources import styles_dir
from virttui.screens.host.host import HostScreen

FIXTURES = paths.FIXTURES / "host"


def connected(uri: str) -> HostConnection:
    host = HostConnection(uri, refresh=60.0)
    host.start()
    deadline = time.monotonic() + 10
    while not host.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert host.connected, host.last_error
    return host


@pytest.fixture
def test_host() -> Iterator[HostConnection]:
    host = connected("test:///default")
    yield host
    host.stop()


class HostApp(App[None]):
    CSS_PATH = [styles_dir() / "host.tcss"]

    def __init__(self, host: HostConnection, root: Path) -> None:
        super().__init__()
        self.host = host
        self.root = root

    def on_mount(self) -> None:
        self.push_screen(HostScreen(HostFacade(self.host), root=self.root))


def screen_text(app: App[None]) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def test_verdict_shown_and_refresh(test_host: HostConnection) -> None:
    app = HostApp(test_host, FIXTURES / "tcg_only")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HostScreen) and screen.report is not None
        text = screen_text(app)
        assert "TCG emulation only" in text
        assert TCG_CONSEQUENCE in text
        assert "[FAIL]" in text and "Hardware virtualization" in text
        assert "Overcommit" in text and "overcommitted" in text  # test:///default: 8 GiB on 3
        assert "LENOVO" in text  # sysinfo from the test driver
        first = screen.report
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is not first
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HostScreen)


async def test_remote_style_host_reports_unchecked_lines(test_host: HostConnection) -> None:
    class Remote:
        uri = "test:///default"
        is_local = False

        def call(self, fn):  # type: ignore[no-untyped-def]
            return test_host.call(fn)

    class RemoteApp(App[None]):
        CSS_PATH = [styles_dir() / "host.tcss"]

        def on_mount(self) -> None:
            self.push_screen(HostScreen(HostFacade(Remote())))

    app = RemoteApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "[ ?? ]" in text and "not checked remotely" in text


async def test_disconnected_host_shows_error() -> None:
    host = HostConnection("qemu+unix:///system?socket=/nonexistent", refresh=60.0)
    app = HostApp(host, FIXTURES / "tcg_only")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = app.screen.query_one("#host-status", Static)
        assert status.display and "not connected" in str(status.render())


def test_host_screen_snapshot(snap_compare, test_host: HostConnection) -> None:  # type: ignore[no-untyped-def]
    app = HostApp(test_host, FIXTURES / "tcg_only")

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
