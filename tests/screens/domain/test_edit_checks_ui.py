"""Pilot tests: the edit dialogs check against the host before saving, show each refusal next to
its field, refuse Save, and offer "Save anyway" (config only) and "Start network".

On a private test-driver node (3072 MiB of RAM, domain "test" with NIC aa:bb:cc:dd:ee:ff, no
domain capabilities, no interface API), through the app's own connection.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button

from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import (
    URI,
    UUID,
    call,
    choose,
    finding_for,
    inactive,
    make_app,
    ready,
    record_notifications,
    submit_form,
)
from virttui.screens.domain import edit
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.screens.domain.edit_dialogs import FormScreen


def shown(form: FormScreen[Any], button_id: str) -> bool:
    return bool(form.query_one(f"#{button_id}", Button).display)


async def refused(pilot: Pilot[Any], form: FormScreen[Any], widget_id: str) -> str:
    """Wait for the host check to refuse `form`; the message under `widget_id`."""
    await wait_until(pilot, lambda: bool(finding_for(form, widget_id)), 10)
    assert pilot.app.screen is form  # Save was refused: the form stays
    return finding_for(form, widget_id)


async def test_memory_above_host_ram_is_refused_next_to_the_field_then_saved_anyway() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        before = inactive(app).memory_current_kib
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "m")
        form = await submit_form(pilot, {"#res-memory": "4000"})
        message = await refused(pilot, form, "res-memory")
        assert "4000 MiB is more than the host's RAM (3072 MiB)" in message
        assert finding_for(form, "res-max-memory") == ""  # unchanged maximum: not checked
        assert shown(form, "force") and not shown(form, "start-network")
        await pilot.pause(0.3)
        assert inactive(app).memory_current_kib == before  # nothing saved
        await click_on(pilot, "#force")
        await wait_until(pilot, lambda: inactive(app).memory_current_kib == 4000 * 1024, 10)
        await wait_until(pilot, lambda: any(t == "Memory and vCPUs" for t, _m, _s in notes), 10)
        message = next(m for t, m, _s in notes if t == "Memory and vCPUs")
        assert "saved anyway" in message and "persistent configuration" in message


async def test_editing_after_a_refusal_checks_again_instead_of_forcing() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "m")
        form = await submit_form(pilot, {"#res-memory": "4000"})
        await refused(pilot, form, "res-memory")
        form.query_one("#res-memory").value = "1000"  # type: ignore[attr-defined]
        await click_on(pilot, "#force")  # a new value is checked, not forced
        await wait_until(pilot, lambda: inactive(app).memory_current_kib == 1000 * 1024, 10)
        assert isinstance(app.screen, DomainsScreen)


async def test_disk_size_inf_nan_and_absurd_get_a_message_in_the_field() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "d")
        for size, words in (
            ("inf", "finite"),
            ("nan", "not a number"),
            ("-3", "above zero"),
            ("1e30", "absurdly large"),
        ):
            form = await submit_form(pilot, {"#disk-volume": "x.qcow2", "#disk-size": size})
            await pilot.pause(0.1)
            assert words in finding_for(form, "disk-size"), size
            assert app.screen is form and app.return_code is None
        assert [d.target for d in inactive(app).disks] == ["vda"]


async def test_duplicate_mac_is_refused() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "n")
        form = await submit_form(pilot, {"#nic-mac": "AA:BB:CC:DD:EE:FF"})
        message = await refused(pilot, form, "nic-mac")
        assert "already used by another NIC of this domain" in message
        assert shown(form, "force")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert len(inactive(app).nics) == 1


async def test_inactive_network_is_offered_to_start_then_the_nic_is_added() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        call(
            app,
            lambda c: c.networkDefineXML(
                "<network><name>isolated</name><ip address='198.18.7.1' netmask='255.255.255.0'/>"
                "</network>"
            ),
        )
        active = lambda: call(app, lambda c: c.networkLookupByName("isolated").isActive())  # noqa: E731
        assert not active()
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "n")
        form = await submit_form(pilot, {"#nic-network-name": "isolated"})
        message = await refused(pilot, form, "nic-network-name")
        assert "network isolated is not running" in message
        assert shown(form, "start-network") and shown(form, "force")
        assert "isolated" in str(form.query_one("#start-network", Button).label)
        await click_on(pilot, "#start-network")
        await wait_until(pilot, active, 10)
        await wait_until(pilot, lambda: not shown(form, "start-network"), 5)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(inactive(app).nics) == 2, 10)
        assert inactive(app).nics[1].source_network == "isolated"


async def test_what_the_host_cannot_check_is_said_not_refused() -> None:
    """The test driver has no domain capabilities: the CPU mode is saved, and the report says
    plainly that it was not checked."""
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "u")
        await submit_form(pilot, {"#cpu-mode": "host-passthrough"})
        await wait_until(pilot, lambda: inactive(app).cpu.mode == "host-passthrough", 10)
        await wait_until(pilot, lambda: any(t == "CPU mode" for t, _m, _s in notes), 10)
        message = next(m for t, m, _s in notes if t == "CPU mode")
        assert "not checked: CPU mode not checked" in message
