"""The app with a host whose daemon stops answering (SIGSTOP) next to a healthy one.

Rows of the stuck host stay, dimmed, with the age of their last sample; its host line says "not
responding"; the other host keeps refreshing; actions on the stuck host fail at once with a clear
message; after SIGCONT everything is live again without the user doing anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from tests.pilot_utils import wait_until
from tests.private_libvirtd import PrivateDaemon, missing_reason, private_libvirtd
from tests.screens.domain.test_actions_ui import record_notifications
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.widgets.domain.table import DomainTable

pytestmark = [
    pytest.mark.private_daemon,
    pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason())),
]

OTHER = "test:///default"
DETECT = 30.0


@pytest.fixture
def daemon() -> Iterator[PrivateDaemon]:
    with private_libvirtd() as d:
        yield d


def row_line(app: VirtTUIApp, uri: str) -> int:
    """Screen line (in the table, header = 0) of the first domain row of host `uri`."""
    table = app.screen.query_one(DomainTable)
    index = next(i for i, it in enumerate(table.items) if it.uri == uri and it.uuid is not None)
    return index - int(table.scroll_y) + 1


def line_text(app: VirtTUIApp, y: int) -> str:
    table = app.screen.query_one(DomainTable)
    return "".join(seg.text for seg in table.render_line(y))


def is_dim(app: VirtTUIApp, y: int) -> bool:
    table = app.screen.query_one(DomainTable)
    styled = [seg for seg in table.render_line(y) if seg.text.strip()]
    return bool(styled) and all(seg.style is not None and seg.style.dim for seg in styled)


def move_cursor_to(app: VirtTUIApp, uri: str) -> None:
    table = app.screen.query_one(DomainTable)
    index = next(i for i, it in enumerate(table.items) if it.uri == uri and it.uuid is not None)
    table.action_cursor_to(index)


def last_sample(app: VirtTUIApp, uri: str) -> float:
    """When the newest sample shown for host `uri` was taken (time.monotonic())."""
    frames = app.store.hosts[uri].history.frames
    return frames[-1].taken_at if frames else 0.0


async def settle(pilot: Pilot[object], app: VirtTUIApp, uri: str) -> float:
    await wait_until(
        pilot,
        lambda: (
            app.store.hosts[uri].state == "connected"
            and any(r.vcpus is not None for r in app.store.hosts[uri].rows.values())
        ),
        timeout=DETECT,
    )
    return last_sample(app, uri)


async def test_stuck_host_rows_go_stale_actions_fail_fast_and_it_recovers(
    daemon: PrivateDaemon,
) -> None:
    stuck = daemon.uri
    app = VirtTUIApp(
        [HostSpec(stuck, label="stuck-host"), HostSpec(OTHER, label="other-host")], refresh=0.5
    )
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot, app, stuck)
        await settle(pilot, app, OTHER)
        await pilot.pause(0.3)
        y = row_line(app, stuck)
        assert not is_dim(app, y) and "running" in line_text(app, y)

        daemon.pause()
        try:
            await wait_until(
                pilot, lambda: app.store.hosts[stuck].state == "not responding", timeout=DETECT
            )
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "stuck-host  [not responding]  1 domain  stale " in text
            # The stuck host's row: still listed, dimmed, its age where the state was.
            y = row_line(app, stuck)
            assert is_dim(app, y), line_text(app, y)
            first = line_text(app, y)
            assert "test" in first and " old " in first and "running" not in first
            # The other host's row: live and not dimmed, and its samples keep arriving.
            y_other = row_line(app, OTHER)
            assert not is_dim(app, y_other) and "running" in line_text(app, y_other)
            before = last_sample(app, OTHER)
            await wait_until(pilot, lambda: last_sample(app, OTHER) > before + 1.0, DETECT)
            assert app.store.hosts[OTHER].state == "connected"
            # The age keeps counting with no sample arriving.
            await wait_until(pilot, lambda: line_text(app, row_line(app, stuck)) != first, 10)
            # The status line explains the row under the cursor.
            move_cursor_to(app, stuck)
            await pilot.pause(1.2)
            assert "test: running " in screen_text(app)
            assert "ago; stuck-host not responding" in screen_text(app)

            # Actions fail at once with a clear message: the direct key...
            notes = record_notifications(app)
            started = time.monotonic()
            await pilot.press("p")
            await wait_until(pilot, lambda: bool(notes), timeout=5)
            assert notes[0][0] == "Pause/Resume failed"
            assert notes[0][1] == "stuck-host is not responding"
            assert notes[0][2] == "error"
            # ... and the Actions menu, which reads the domain first.
            notes.clear()
            await pilot.press("a")
            await wait_until(pilot, lambda: bool(notes), timeout=5)
            assert notes[0][0] == "Read the domain failed"
            assert notes[0][1].startswith("stuck-host is not responding")
            assert time.monotonic() - started < 10
            assert app.store.hosts[stuck].state == "not responding"
        finally:
            daemon.resume()
        resumed = time.monotonic()
        await wait_until(
            pilot,
            lambda: (
                app.store.hosts[stuck].state == "connected" and last_sample(app, stuck) > resumed
            ),
            timeout=DETECT,
        )
        await pilot.pause(0.5)
        y = row_line(app, stuck)
        assert not is_dim(app, y) and "running" in line_text(app, y)
        text = screen_text(app)
        assert "stuck-host  [connected]" in text and "stale" not in text
