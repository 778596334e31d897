"""Live disk route dialogs, secrets and transfer dialogs on the test driver (Pilot): what the
dialogs refuse themselves, libvirt's refusals shown as they are, the Edit menu entry and the
palette commands."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from tests.pilot_utils import click_on, hosts_settled, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain.menu import EDIT_ENTRIES, entries_for
from virttui.screens.storage.live import (
    BlockJobDialog,
    LiveResizeDialog,
    open_live_route,
    parse_bandwidth,
)
from virttui.screens.storage.secrets import SecretsScreen
from virttui.screens.storage.transfer import TransferDialog

URI = "test:///default"
UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # the test driver's running "test" domain


def status(screen: Any) -> str:
    """The dialog's status line ("" until the dialog has composed)."""
    found = screen.query(".live-status")
    return str(found.first(Static).render()) if found else ""


async def opened(pilot: Pilot[Any], cls: type) -> Any:
    """The dialog of class `cls` once it is on top and composed."""
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, cls) and bool(app.screen.query(".live-status"))
    )
    await pilot.pause()
    return app.screen


async def settled(pilot: Pilot[Any]) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    return app


def test_bandwidth_field() -> None:
    assert parse_bandwidth("") == 0
    assert parse_bandwidth("2") == 2 << 20
    assert parse_bandwidth("0.5") == 1 << 19
    for bad in ("-1", "0", "abc", "nan", "inf"):
        with pytest.raises(ValueError, match="Speed limit"):
            parse_bandwidth(bad)


async def test_resize_dialog_refuses_shrink_and_shows_libvirt_refusal() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        open_live_route(app, URI, UUID, "vda", "resize")
        dialog = await opened(pilot, LiveResizeDialog)
        assert isinstance(dialog, LiveResizeDialog)
        await wait_until(pilot, lambda: dialog.current is not None)
        assert "Current size: 1024G" in str(dialog.query_one("#live-current", Static).render())
        for text, words in (("1M", "only grown"), ("10Q", "not a size"), ("-1G", "negative")):
            field = dialog.query_one("#live-size", Input)
            field.value = text
            field.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert words in status(dialog), (text, status(dialog))
            assert not dialog.query_one("#grow", Button).disabled  # nothing started
        dialog.query_one("#live-size", Input).value = "+1G"
        await click_on(pilot, "#grow")
        # The test driver has no blockResize: libvirt's words, in the dialog, which stays.
        await wait_until(pilot, lambda: "not supported" in status(dialog), 10)
        assert app.screen is dialog
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LiveResizeDialog)


@pytest.mark.parametrize("route", ["commit", "pull"])
async def test_merge_routes_say_there_is_nothing_to_merge(route: str) -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        open_live_route(app, URI, UUID, "vda", route)
        dialog = await opened(pilot, BlockJobDialog)
        assert isinstance(dialog, BlockJobDialog)
        await wait_until(pilot, lambda: "no backing image" in status(dialog), 10)
        assert dialog.query_one("#start", Button).disabled


async def test_copy_route_shows_libvirt_refusal_and_can_close() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 40)) as pilot:
        await settled(pilot)
        open_live_route(app, URI, UUID, "vda", "copy")
        dialog = await opened(pilot, BlockJobDialog)
        assert isinstance(dialog, BlockJobDialog)
        await wait_until(pilot, lambda: not dialog.query_one("#start", Button).disabled, 10)
        dialog.query_one("#start", Button).press()
        await pilot.pause()
        assert "Name the new file" in status(dialog)
        dialog.query_one("#live-dest", Input).value = "/nonexistent-vt-dir/copy.qcow2"
        dialog.query_one("#live-speed", Input).value = "fast"
        dialog.query_one("#start", Button).press()
        await pilot.pause()
        assert "Speed limit" in status(dialog)
        dialog.query_one("#live-speed", Input).value = "5"
        dialog.query_one("#start", Button).press()
        await wait_until(pilot, lambda: "not supported" in status(dialog), 10)
        assert not dialog.running
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BlockJobDialog)


async def test_unknown_route_is_an_error_not_a_crash() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        open_live_route(app, URI, UUID, "vda", "shrink")
        await pilot.pause()
        assert any("No live route" in n.message for n in app._notifications)


async def test_edit_menu_offers_live_routes_for_a_running_domain_only() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        facade = app.facade(URI)
        assert facade is not None
        details = facade.edit_details(UUID)
        assert "live_disk" in {e.id for e in entries_for(EDIT_ENTRIES, details)}
        facade.lifecycle(UUID, "destroy")
        details = facade.edit_details(UUID)
        assert "live_disk" not in {e.id for e in entries_for(EDIT_ENTRIES, details)}


async def test_palette_reaches_secrets_and_transfers() -> None:
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in (
            "Storage: libvirt secrets (LUKS)",
            "Storage: new encrypted (LUKS) volume",
            "Storage: upload a local file into a volume",
            "Storage: download a volume into a local file",
            "Edit: Live disk routes",
        ):
            assert title in commands, sorted(commands)
        commands["Storage: libvirt secrets (LUKS)"].callback()
        screen = await opened(pilot, SecretsScreen)
        # The test driver has no secrets: libvirt's words, not a crash.
        await wait_until(pilot, lambda: "not supported" in status(screen), 10)
        await pilot.press("escape")
        await pilot.pause()
        commands["Storage: download a volume into a local file"].callback()
        dialog = await opened(pilot, TransferDialog)
        await app.workers.wait_for_complete()
        await pilot.pause()
        dialog.query_one("#start", Button).press()
        await pilot.pause()
        assert "Name the volume" in status(dialog) or "Choose a pool" in status(dialog)


async def test_guard_entry_point_opens_the_route_or_names_the_domain() -> None:
    from virttui.screens.storage.live import open_live_route_for_path

    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        facade = app.facade(URI)
        assert facade is not None
        path = facade.live_disk(UUID, "vda").source
        open_live_route_for_path(app, URI, "test", path, "check")
        await wait_until(
            pilot, lambda: any(n.title == "No live route" for n in app._notifications), 10
        )
        note = next(n for n in app._notifications if n.title == "No live route")
        assert "test runs on" in note.message and "vda" in note.message
        open_live_route_for_path(app, URI, "test", path, "resize")
        dialog = await opened(pilot, LiveResizeDialog)
        assert (dialog.uuid, dialog.target) == (UUID, "vda")
        await pilot.press("escape")
        await pilot.pause()
        open_live_route_for_path(app, URI, UUID, "/not/used.qcow2", "resize")
        await wait_until(
            pilot, lambda: any("has no disk using" in n.message for n in app._notifications), 10
        )


async def test_edit_menu_leads_to_the_routes() -> None:
    """Edit menu → "Live disk routes..." (v) → the one disk → a route → its dialog."""
    from textual.widgets import OptionList

    from tests.screens.domain.test_actions_ui import choose
    from virttui.screens.domain import edit
    from virttui.screens.domain.action_dialogs import PickScreen

    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "v")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        routes = app.screen.query_one(OptionList)
        labels = [str(routes.get_option_at_index(i).prompt) for i in range(routes.option_count)]
        assert labels[0].startswith("Grow the disk") and len(labels) == 4
        routes.highlighted = 3  # copy
        await pilot.press("enter")
        dialog = await opened(pilot, BlockJobDialog)
        assert (dialog.uuid, dialog.target, dialog.route) == (UUID, "vda", "copy")
