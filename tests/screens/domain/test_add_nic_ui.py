"""Pilot tests of the Add NIC dialog on a private test-driver node: every network with its state
(active/inactive, autostart), an inactive one offered to start then the NIC added, bridges
picked from the host's bridges (the test driver's interface API), typed names warned about."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, RadioButton, Select, Static

from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import (
    URI,
    UUID,
    call,
    choose,
    inactive,
    make_app,
    on_screen,
    ready,
)
from tests.screens.domain.test_edit_checks_ui import refused, shown
from virttui.screens.domain import edit
from virttui.screens.domain.hardware_dialogs import AddNicScreen

BRIDGE_XML = (
    "<interface type='bridge' name='br9'><start mode='onboot'/>"
    "<bridge><interface type='ethernet' name='eth9'/></bridge></interface>"
)


def text_of(form: AddNicScreen, selector: str) -> str:
    return str(form.query_one(selector, Static).render())


async def open_form(pilot: Pilot[Any]) -> AddNicScreen:
    app = pilot.app
    await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "n")  # type: ignore[arg-type]
    form = await on_screen(pilot, AddNicScreen)
    assert isinstance(form, AddNicScreen)
    return form


def options(select: Select[Any]) -> list[tuple[str, Any]]:
    return [(str(prompt), value) for prompt, value in select._options if value is not Select.NULL]


async def test_every_network_is_offered_with_its_state_and_an_inactive_one_is_started() -> None:
    async with make_app().run_test(size=(100, 34)) as pilot:
        app = await ready(pilot)

        def define(c: Any) -> None:
            net = c.networkDefineXML(
                "<network><name>vt-iso</name>"
                "<ip address='198.18.11.1' netmask='255.255.255.0'/></network>"
            )
            net.setAutostart(1)

        call(app, define)
        form = await open_form(pilot)
        network = form.query_one("#nic-network-name", Select)
        assert options(network) == [
            ("(active) default", "default"),
            ("(inactive, autostart) vt-iso", "vt-iso"),
        ]
        assert network.value == "default"  # an active one first
        assert "default: active" in text_of(form, "#nic-network-state")
        network.value = "vt-iso"
        await pilot.pause(0.1)
        state = text_of(form, "#nic-network-state")
        assert "vt-iso is inactive" in state and "offers to start it" in state

        await pilot.press("ctrl+s")
        assert "network vt-iso is not running" in await refused(pilot, form, "nic-network-name")
        assert shown(form, "start-network")
        assert "vt-iso" in str(form.query_one("#start-network", Button).label)
        await click_on(pilot, "#start-network")
        await wait_until(
            pilot, lambda: call(app, lambda c: c.networkLookupByName("vt-iso").isActive()), 10
        )
        await wait_until(pilot, lambda: not shown(form, "start-network"), 5)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(inactive(app).nics) == 2, 10)
        assert inactive(app).nics[1].source_network == "vt-iso"


async def test_a_bridge_is_picked_from_the_hosts_bridges() -> None:
    async with make_app().run_test(size=(100, 34)) as pilot:
        app = await ready(pilot)
        call(app, lambda c: c.interfaceDefineXML(BRIDGE_XML, 0))
        form = await open_form(pilot)
        pick = form.query_one("#nic-bridge-pick", Select)
        assert options(pick) == [("br9", "br9")]
        assert text_of(form, "#nic-bridge-warning") == ""
        pick.value = "br9"
        await pilot.pause(0.1)
        assert form.query_one("#nic-bridge-name", Input).value == "br9"
        assert form.query_one("#nic-bridge", RadioButton).value  # bridge, not network
        assert text_of(form, "#nic-bridge-warning") == ""  # a real bridge: nothing to warn
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(inactive(app).nics) == 2, 10)
        assert inactive(app).nics[1].source_bridge == "br9"


async def test_a_typed_bridge_name_gets_a_warning() -> None:
    async with make_app().run_test(size=(100, 34)) as pilot:
        app = await ready(pilot)
        call(app, lambda c: c.interfaceDefineXML(BRIDGE_XML, 0))
        form = await open_form(pilot)
        await click_on(pilot, "#nic-bridge")
        form.query_one("#nic-bridge-name", Input).value = "brtypo"
        await pilot.pause(0.1)
        warning = text_of(form, "#nic-bridge-warning")
        assert "brtypo is typed" in warning and "(br9)" in warning
        await pilot.press("ctrl+s")  # the host check refuses it too (interface API)
        assert "no bridge brtypo" in await refused(pilot, form, "nic-bridge-name")
        assert len(inactive(app).nics) == 1


async def test_without_the_hosts_bridges_a_typed_name_is_said_to_be_unchecked() -> None:
    """The private node has no interfaces: its interface API lists none, so the list is
    unknown; there is no picker and the warning says why before anything is typed."""
    async with make_app().run_test(size=(100, 34)) as pilot:
        await ready(pilot)
        form = await open_form(pilot)
        assert not form.query("#nic-bridge-pick")
        warning = text_of(form, "#nic-bridge-warning")
        assert "could not be listed" in warning and "lists no interfaces" in warning
        assert "cannot be checked" in warning
