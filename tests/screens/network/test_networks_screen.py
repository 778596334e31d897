"""The networks screen with Pilot on private test-driver hosts (a copy of tests/core/data/
test_node.xml: network `default`, NAT 192.168.122.1/24, used by the running domain `test`):
reached from the list (N), the host screen and the palette; stop asks naming the running
domain and calls the after-restart hook; start + autostart; undefine refused while used; the
create dialog shows per-field errors (nothing created), previews the XML, then defines; a
read-only connection shows everything and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.core.network.networks import NetUser
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.host.host import HostScreen
from virttui.screens.network.create import NewNetworkScreen, XmlPreviewScreen
from virttui.screens.network.networks import NetworksScreen, open_networks
from virttui.widgets.network.network_table import fitting_columns

NODE = Path(__file__).parents[2] / "core" / "data" / "test_node.xml"


def make_app(tmp_path: Path, *, readonly: bool = False) -> tuple[VirtTUIApp, str]:
    node = tmp_path / "node.xml"
    shutil.copy(NODE, node)
    uri = node_uri(node)
    return VirtTUIApp([HostSpec(uri, label="test node")], refresh=3600.0, readonly=readonly), uri


def connected(app: VirtTUIApp) -> bool:
    return bool(app.store.hosts) and all(h.state == "connected" for h in app.store.hosts.values())


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


async def open_screen(pilot: Pilot[Any], app: VirtTUIApp) -> NetworksScreen:
    await wait_until(pilot, lambda: connected(app), 30)
    await pilot.pause(0.2)
    await pilot.press("N")
    await wait_until(
        pilot, lambda: isinstance(app.screen, NetworksScreen) and app.screen.loaded, 20
    )
    screen = app.screen
    assert isinstance(screen, NetworksScreen)
    await settle(pilot)
    return screen


def record_notifications(app: VirtTUIApp) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *, severity: str = "information", **kw: Any) -> None:
        seen.append((str(message), severity))
        original(message, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return seen


def net_state(app: VirtTUIApp, uri: str, name: str) -> tuple[bool, bool] | None:
    def read(c: Any) -> tuple[bool, bool] | None:
        for n in c.listAllNetworks(0):
            if n.name() == name:
                return bool(n.isActive()), bool(n.autostart())
        return None

    return app.hosts[uri].call(read)


async def test_list_and_details_at_80x24(tmp_path: Path) -> None:
    app, _uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        text = screen_text(app)
        assert "Networks test node" in text
        assert "default" in text and "active" in text and "nat" in text
        assert "192.168.122.1/24" in text
        assert "Used by test (running)" in text  # the details below the table
        # 80 columns: the widest columns are dropped, the essentials stay
        assert {"name", "state", "mode", "ipv4", "used"} <= set(screen.table.shown_columns)
        assert "ipv6" not in screen.table.shown_columns
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, NetworksScreen)


def test_columns_fit_the_width() -> None:
    wide, name_w = fitting_columns(200)
    assert "ipv6" in wide and "dhcp" in wide and name_w >= 10
    narrow, name_w = fitting_columns(80)
    assert name_w >= 10 and "ipv6" not in narrow and "dhcp" not in narrow
    tiny, _ = fitting_columns(30)
    assert tiny[:2] == ["name", "state"] and "mode" in tiny  # never dropped


async def test_stop_names_running_domains_and_calls_the_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, tuple[NetUser, ...]]] = []
    monkeypatch.setattr(
        NetworksScreen, "after_restart", lambda self, uri, net, doms: calls.append((uri, net, doms))
    )
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        notes = record_notifications(app)
        await pilot.press("x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        assert "These running domains lose connectivity: test" in screen_text(app)
        await pilot.press("escape")  # Cancel: nothing changes
        await settle(pilot)
        assert net_state(app, uri, "default") == (True, False)
        await pilot.press("x")
        await pilot.pause(0.2)
        await pilot.press("y")
        await settle(pilot)
        assert net_state(app, uri, "default") == (False, False)
        assert any("without network now: test" in m for m, _s in notes)
        assert calls == []  # stopped: nothing to re-plug until it runs again
        assert "inactive" in screen_text(app)
        # undefine: refused while a defined domain uses it, naming it; nothing changes
        await pilot.press("d")
        await settle(pilot)
        assert any("used by test" in m and s == "warning" for m, s in notes)
        assert net_state(app, uri, "default") == (False, False)
        # start + autostart in one key
        await pilot.press("A")
        await settle(pilot)
        assert net_state(app, uri, "default") == (True, True)
        # running again: the re-plug offer gets the running domains on it
        assert [(u, n, [d.name for d in doms]) for u, n, doms in calls] == [
            (uri, "default", ["test"])
        ]
        # autostart toggles off again
        await pilot.press("a")
        await settle(pilot)
        assert net_state(app, uri, "default") == (True, False)
        assert screen.current_network() is not None


async def fill(form: NewNetworkScreen, **values: str) -> None:
    for name, value in values.items():
        if name == "mode":
            form.query_one("#net-mode", Select).value = value
        else:
            form.query_one(f"#net-{name}", Input).value = value


async def test_create_dialog_field_errors_preview_define_undefine(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewNetworkScreen), 10)
        form = app.screen
        assert isinstance(form, NewNetworkScreen)
        await fill(form, name="default", ipv4="192.168.122.0/25")
        # the DHCP range is suggested from the subnet
        await wait_until(
            pilot, lambda: form.query_one("#net-dhcp_start", Input).value == "192.168.122.2", 10
        )
        await fill(form, dhcp_end="192.168.200.9")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is form
        errors = {
            name: str(form.query_one(f"#err-{name}", Static).render())
            for name in ("name", "ipv4", "dhcp_end")
        }
        assert "exists already" in errors["name"]
        assert "overlaps network default" in errors["ipv4"]
        assert "outside" in errors["dhcp_end"]
        assert "nothing is created" in screen_text(app)
        assert app.hosts[uri].call(lambda c: [n.name() for n in c.listAllNetworks(0)]) == [
            "default"
        ]  # nothing created
        await fill(
            form,
            name="lab",
            mode="isolated",
            ipv4="198.18.42.0/24",
            dhcp_start="",
            dhcp_end="",
        )
        await wait_until(
            pilot, lambda: form.query_one("#net-dhcp_start", Input).value == "198.18.42.2", 10
        )
        await fill(form, dhcp_start="198.18.42.10", dhcp_end="198.18.42.20", domain="lab.test")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        preview = app.screen
        assert isinstance(preview, XmlPreviewScreen)
        xml = preview.query_one("#net-xml", TextArea).text
        assert "<name>lab</name>" in xml and "<forward" not in xml
        assert '<range start="198.18.42.10" end="198.18.42.20"' in xml
        await pilot.press("escape")  # back to the form, still filled
        await pilot.pause(0.2)
        assert app.screen is form
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, XmlPreviewScreen)
        await pilot.press("ctrl+s")  # Define
        await wait_until(pilot, lambda: net_state(app, uri, "lab") is not None, 10)
        await settle(pilot)
        assert net_state(app, uri, "lab") == (True, True)
        assert isinstance(app.screen, NetworksScreen)
        current = screen.current_network()
        assert current is not None and current.name == "lab"
        assert current.domain_name == "lab.test"
        # undefine: refused while active; stopped, it asks and goes
        notes = record_notifications(app)
        await pilot.press("d")
        await settle(pilot)
        assert any("lab is active" in m for m, _s in notes)
        await pilot.press("x")
        await pilot.pause(0.2)
        assert "No running domain" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert net_state(app, uri, "lab") is None


async def test_read_only_shows_everything_and_changes_nothing(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        assert "read-only" in screen_text(app) and "192.168.122.1/24" in screen_text(app)
        notes = record_notifications(app)
        for key in ("x", "a", "A", "d", "n"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert net_state(app, uri, "default") == (True, False)
        assert notes and all("Read-only" in m for m, _s in notes)
        commands = {c.title for c in app.get_system_commands(screen)}
        assert "Networks: reload" in commands and "Networks: stop" not in commands


async def test_palette_host_screen_and_entry_point(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app), 30)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Networks of test node" in titles
        open_networks(app, uri)
        await pilot.pause(0.2)
        assert isinstance(app.screen, NetworksScreen) and app.screen.uri == uri
        await settle(pilot)
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Networks: stop", "Networks: new network", "Networks: reload"} <= commands
        assert "Networks: start" not in commands  # it runs
        assert "Networks: DHCP leases" in commands  # l: the leases screen
        notes = record_notifications(app)
        open_networks(app, "test:///nowhere")
        assert notes == [("test:///nowhere: no such connection", "error")]
        await pilot.press("escape")
        await pilot.pause(0.2)
        facade = app.facade(uri)
        assert facade is not None
        app.push_screen(HostScreen(facade))
        await pilot.pause(0.3)
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, NetworksScreen), 10)


async def test_leases_slot_opens_the_wired_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(
        NetworksScreen, "open_leases", staticmethod(lambda app, uri, net: opened.append((uri, net)))
    )
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, app)
        await pilot.press("l")
        await pilot.pause(0.1)
        assert opened == [(uri, "default")]


async def test_l_opens_the_leases_screen_of_the_highlighted_network(tmp_path: Path) -> None:
    from virttui.screens.network.leases import LeasesScreen

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, app)
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LeasesScreen), 10)
        leases = app.screen
        assert isinstance(leases, LeasesScreen)
        assert (leases.uri, leases.network) == (uri, "default")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, NetworksScreen), 10)


def test_keys_can_be_checked_before_the_table_exists() -> None:
    """As the storage screen: no NoMatches when Textual checks bindings before compose."""
    screen = NetworksScreen("test:///default")
    assert screen.current_network() is None
