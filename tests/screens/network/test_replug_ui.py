"""Pilot tests of `offer_replug` on a private test-driver node: domain "test" runs with NIC
aa:bb:cc:dd:ee:ff on network "default". The test driver's host is imaginary (its taps cannot
be looked at) and it has no updateDeviceFlags: the dialog says the taps could not be checked,
and the result is reported per domain as a failure with libvirt's words. The real re-plug is
tested in tests/integration/test_nic_replug_live.py."""

from __future__ import annotations

from textual.widgets import Static

from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import (
    URI,
    UUID,
    make_app,
    on_screen,
    ready,
    record_notifications,
)
from virttui.core.domain.replug import ReplugResult
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.screens.network.replug import offer_replug


def question(screen: ConfirmScreen) -> str:
    return str(screen.query_one("#confirm-question", Static).render())


async def test_the_offer_names_the_domains_then_reports_each_result() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        results: list[list[ReplugResult]] = []
        offer_replug(app, URI, "default", done=results.append)
        dialog = await on_screen(pilot, ConfirmScreen)
        text = question(dialog)
        assert "Re-plug NICs: default?" in text
        assert "test: NIC aa:bb:cc:dd:ee:ff" in text
        assert "libvirt does not reconnect" in text and "cannot be checked" in text
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: bool(results), 10)
        [[result]] = results
        assert (result.uuid, result.domain, result.ok) == (UUID, "test", False)
        await wait_until(pilot, lambda: any(t == "Re-plug NICs" for t, _m, _s in notes), 5)
        [(message, severity)] = [(m, s) for t, m, s in notes if t == "Re-plug NICs"]
        assert "network default" in message
        assert "test aa:bb:cc:dd:ee:ff: failed: " in message and "not supported" in message
        assert severity == "warning"


async def test_cancel_replugs_nothing_and_other_domains_are_not_offered() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        results: list[list[ReplugResult]] = []
        offer_replug(app, URI, "default", ["test"], done=results.append)
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("escape")
        await on_screen(pilot, DomainsScreen)
        await pilot.pause(0.3)
        assert results == []

        offer_replug(app, URI, "default", ["someone-else"], done=results.append)
        await wait_until(pilot, lambda: any(t == "Re-plug NICs" for t, _m, _s in notes), 5)
        [message] = [m for t, m, _s in notes if t == "Re-plug NICs"]
        assert "No running domain's NIC on default is unplugged" in message
        assert isinstance(app.screen, DomainsScreen) and results == []


async def test_a_stopped_network_is_said_plainly() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        app.hosts[URI].call(lambda c: c.networkLookupByName("default").destroy())
        offer_replug(app, URI, "default")
        await wait_until(pilot, lambda: any("failed" in t for t, _m, _s in notes), 5)
        [message] = [m for t, m, _s in notes if "failed" in t]
        assert "network default is not running: start it first" in message
        assert not isinstance(app.screen, ConfirmScreen)


async def test_the_palette_offers_it_per_host_and_picks_a_running_network() -> None:
    from virttui.screens.domain.action_dialogs import PickScreen

    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        app.hosts[URI].call(
            lambda c: c.networkDefineXML(
                "<network><name>idle</name>"
                "<ip address='198.18.12.1' netmask='255.255.255.0'/></network>"
            )
        )
        [command] = [
            c
            for c in app.get_system_commands(app.screen)
            if c.title.startswith("Networks: re-plug NICs")
        ]
        command.callback()
        pick = await on_screen(pilot, PickScreen)
        assert pick.items == [("default", "default")]  # the inactive "idle" is not offered
        await pilot.press("enter")
        dialog = await on_screen(pilot, ConfirmScreen)
        assert "test: NIC aa:bb:cc:dd:ee:ff" in question(dialog)
        await pilot.press("escape")


def test_names_in_the_question_are_made_visible() -> None:
    from virttui.core.domain.replug import NetworkNic
    from virttui.screens.network.replug import replug_question

    nic = NetworkNic("u", "evil\nname", "52:54:00:00:00:01", "vnet0", "br\x1b0", None)
    text = replug_question("net\nx", [nic])
    assert "evil\nname" not in text and "net\nx" not in text and "\x1b" not in text
    assert text.count("\n") == 3  # head, one NIC, blank, footer
