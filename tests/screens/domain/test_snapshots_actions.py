"""SVG snapshots of the Actions menu and the undefine dialog on the bundled demo host."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.pilot_utils import hosts_settled, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.domain import actions as ui
from virttui.screens.domain.action_dialogs import UndefineScreen
from virttui.screens.domain.action_menu import ActionMenuScreen


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


def _uuid(app: VirtTUIApp, name: str) -> str:
    rows = app.store.hosts[demo_uri()].rows
    return next(uuid for uuid, row in rows.items() if row.name == name)


async def _open(pilot: Pilot[Any], name: str, key: str | None, kind: type) -> None:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    ui.open_actions_menu(app, demo_uri(), _uuid(app, name))
    await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen), 5)
    if key is not None:
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, kind), 5)
    await pilot.pause(0.3)


def test_actions_menu_running_domain(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open(pilot, "db-primary", None, ActionMenuScreen)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_undefine_dialog_with_storage_checklist(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open(pilot, "backup-vault", "U", UndefineScreen)

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)
