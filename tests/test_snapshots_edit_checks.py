"""SVG snapshot of an edit refused by the host checks: the reason under the field, Save anyway."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.pilot_utils import wait_until
from tests.test_actions_ui import URI, UUID, choose, finding_for, make_app, submit_form
from virttui.app import VirtTUIApp
from virttui.screens import domain_edit_ui as edit


def test_memory_refused_with_save_anyway_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await wait_until(pilot, lambda: bool(app.store.hosts[URI].rows), 10)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "m")
        form = await submit_form(pilot, {"#res-memory": "4000"})
        await wait_until(pilot, lambda: bool(finding_for(form, "res-memory")), 10)
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
