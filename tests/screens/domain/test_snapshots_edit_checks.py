"""SVG snapshot of an edit refused by the host checks: the reason under the field, Save anyway.

On the bundled demo host (256 GiB of RAM), like the other dialog snapshots: its label, unlike a
test:///<path> URI, does not depend on where the checkout lives.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.pilot_utils import hosts_settled, wait_until
from tests.screens.domain.test_actions_ui import choose, finding_for, submit_form
from virttui.app import HostSpec, VirtTUIApp
from virttui.demo import demo_uri
from virttui.screens.domain import edit

WEB_01 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d01"


def test_memory_refused_with_save_anyway_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        await choose(pilot, lambda: edit.open_edit_menu(app, demo_uri(), WEB_01), "m")
        form = await submit_form(pilot, {"#res-memory": "300000", "#res-max-memory": "300000"})
        await wait_until(pilot, lambda: bool(finding_for(form, "res-max-memory")), 10)
        await pilot.pause(0.3)

    app = VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
