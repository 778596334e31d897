"""SVG snapshots of each wizard step at 80×24 (copied to screenshots/ by `make snapshots`):
the bundled demo host, fixed host facts (qemu TCG x86_64 domain capabilities from
tests/core/data, shown as qemu:///system; pools `default`/`spare`, networks `default`/`isolated` (inactive), bridge
`br0`) and the system osinfo-db, with the answers of a Debian 11 guest by direct kernel boot;
the summary shows the virt-install line and the XML."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from tests.pilot_utils import wait_until
from tests.screens.create.conftest import fixed_facts
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.create import osinfo
from virttui.demo import demo_uri
from virttui.screens.create.fields import STEPS
from virttui.screens.create.wizard import CreateWizardScreen


def demo_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)


def _run_before(step: int) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, VirtTUIApp)
        await wait_until(
            pilot,
            lambda: (
                bool(app.store.hosts)
                and all(h.state == "connected" for h in app.store.hosts.values())
            ),
            20,
        )
        # fixed facts and database: nothing is read from the host; the URI is only shown (in
        # the virt-install line), so a fixed one keeps the SVG the same in every checkout
        wizard = CreateWizardScreen(
            "qemu:///system", facts=fixed_facts(), osdb=osinfo.load_db(), host_label="host"
        )
        app.push_screen(wizard)
        await wait_until(pilot, lambda: app.screen is wizard and bool(wizard.query("#f-name")), 10)
        await pilot.pause(0.1)
        for field in wizard.query(Input):
            field.cursor_blink = False
        for area in wizard.query(TextArea):
            area.cursor_blink = False
        wizard.query_one("#f-name", Input).value = "web1"
        wizard.query_one("#f-os", Input).value = "debian11"
        wizard._pick_highlighted_os()
        wizard.query_one("#f-install", Select).value = "kernel"
        wizard.query_one("#f-kernel", Input).value = "/var/lib/libvirt/boot/vmlinuz"
        wizard.query_one("#f-initrd", Input).value = "/var/lib/libvirt/boot/initrd.img"
        wizard.query_one("#f-cmdline", Input).value = "console=ttyS0 root=/dev/vda"
        wizard.query_one("#f-mac", Input).value = "52:54:00:12:34:56"
        await pilot.pause(0.1)
        wizard.go(step)
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[f"step{i + 1}" for i in range(len(STEPS))])
def test_wizard_step_80x24(snap_compare: Any, step: int) -> None:
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_run_before(step))
