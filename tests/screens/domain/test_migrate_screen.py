"""Migrate dialog (Pilot + snapshot) between two test-driver hosts: options, libvirt's refusal
shown as it is, the domain left on the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Select, Static

from tests.pilot_utils import click_on, hosts_settled, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.domain.migrate import MigrateScreen

SOURCE = "test:///default"


@pytest.fixture
def dest_uri(tmp_path: Path) -> str:
    xml = tmp_path / "dest.xml"
    xml.write_text(
        "<node><domain type='test'><name>other</name><memory>262144</memory>"
        "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n"
    )
    return f"test://{xml}"


async def open_migrate(pilot: Pilot[Any]) -> MigrateScreen:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    screen = app.domains_screen()
    assert screen is not None
    for key in ["up"] * 5 + ["down"] * 5:
        item = screen.table.current
        if item is not None and item.uri == SOURCE and item.uuid is not None:
            break
        await pilot.press(key)
    item = screen.table.current
    assert item is not None and item.uri == SOURCE and item.uuid is not None
    await pilot.press("m")
    await wait_until(pilot, lambda: isinstance(app.screen, MigrateScreen))
    dialog = app.screen
    assert isinstance(dialog, MigrateScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return dialog


def status(dialog: MigrateScreen) -> str:
    return str(dialog.query_one("#migrate-status", Static).render())


async def test_refusal_is_shown_and_domain_stays(dest_uri: str) -> None:
    app = VirtTUIApp([HostSpec(SOURCE), HostSpec(dest_uri, "lab")], refresh=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_migrate(pilot)
        assert dialog.query_one("#migrate-dest", Select).value == dest_uri  # the only choice
        assert dialog.query_one("#live", Checkbox).value  # the domain runs
        # The test driver has no migration speed: libvirt's message, not a crash.
        assert "not supported" in status(dialog)
        # Offline forbids copying storage.
        dialog.query_one("#live", Checkbox).value = False
        await pilot.pause()
        assert dialog.query_one("#copy", Checkbox).disabled
        dialog.query_one("#live", Checkbox).value = True
        await pilot.pause()
        await click_on(pilot, "#start")
        await wait_until(pilot, lambda: "Migration failed" in status(dialog), 10)
        assert not dialog.running
        assert dialog.query_one("#abort", Button).disabled
        assert any(n.title == "Migration failed" for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, MigrateScreen)
        names = {r.name for r in app.store.hosts[SOURCE].rows.values()}
        assert "test" in names


async def test_no_destination_says_so() -> None:
    app = VirtTUIApp([HostSpec(SOURCE)], refresh=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_migrate(pilot)
        await click_on(pilot, "#start")
        await pilot.pause()
        assert "Choose a destination" in status(dialog)
        assert not dialog.running


def test_migrate_dialog_snapshot(snap_compare: Any, dest_uri: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        uuid = next(iter(app.store.hosts[SOURCE].rows))
        # Over a blank screen: the domain list's footer changes whenever a key is added.
        await app.push_screen(Screen())
        await app.push_screen(MigrateScreen(SOURCE, uuid))
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    app = VirtTUIApp([HostSpec(SOURCE), HostSpec(dest_uri, "lab host")], refresh=3600.0)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
