"""Connection manager (Pilot + snapshots): add/remove/connect/disconnect/autoconnect on the test
driver, config file round trip, a broken config file, and a dead host next to a good one."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.pilot_utils import click_on, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.connection import ConnState
from virttui.core.settings.config import Config, HostEntry, config_path, load_config, save_config
from virttui.screens.host.add_host import AddHostScreen
from virttui.screens.host.connections import ConnectionsScreen, HostLine

GOOD = "test:///default"
DEAD = "qemu+unix:///system?socket=/nonexistent"


@pytest.fixture
def node_uri(tmp_path: Path) -> str:
    """A second test-driver host (its own node XML file) with one domain."""
    xml = tmp_path / "node.xml"
    xml.write_text(
        "<node><domain type='test'><name>lab-vm</name><memory>262144</memory>"
        "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n"
    )
    return f"test://{xml}"


def lines(app: VirtTUIApp) -> dict[str, HostLine]:
    screen = app.screen
    assert isinstance(screen, ConnectionsScreen)
    return {line.uri: line for line in screen._lines}


async def open_connections(pilot: Pilot[Any]) -> ConnectionsScreen:
    await pilot.pause()
    await pilot.press("C")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConnectionsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ConnectionsScreen)
    return screen


async def select(pilot: Pilot[Any], screen: ConnectionsScreen, uri: str) -> None:
    screen._select(uri)
    await pilot.pause()
    line = screen.current_line()
    assert line is not None and line.uri == uri


async def test_add_connect_disconnect_autoconnect_remove(node_uri: str) -> None:
    app = VirtTUIApp([HostSpec(GOOD)], refresh=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_connections(pilot)
        # "connected" comes with the connection; the domain count with the first poll after it.
        await wait_until(
            pilot, lambda: lines(app)[GOOD].state == "connected" and lines(app)[GOOD].domains == 1
        )
        assert not lines(app)[GOOD].saved  # opened from the command line only

        # Add: a bad URI is refused in the dialog with a reason, then a good one is taken.
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AddHostScreen))
        await pilot.press(*"qemu:///systen", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, AddHostScreen)
        assert "/system or /session" in str(dialog.query_one("#add-host-error").render())
        dialog.query_one("#add-host-uri").value = node_uri  # type: ignore[attr-defined]
        dialog.query_one("#add-host-label").value = "[bold]lab[/] rack"  # type: ignore[attr-defined]
        await click_on(pilot, "#add")
        await wait_until(pilot, lambda: node_uri in app.hosts)
        await wait_until(
            pilot,
            lambda: lines(app)[node_uri].state == "connected" and lines(app)[node_uri].domains == 1,
            describe=lambda: lines(app)[node_uri],
        )
        added = lines(app)[node_uri]
        assert added.label == "[bold]lab[/] rack" and added.saved
        saved = load_config()
        assert HostEntry(node_uri, "[bold]lab[/] rack", False) in saved.config.hosts
        assert app.store.hosts[node_uri].rows  # the domain list has it too

        # Disconnect: the poller stops, the rows go, the host stays listed.
        await select(pilot, screen, node_uri)
        await pilot.press("c")
        await wait_until(pilot, lambda: lines(app)[node_uri].state == "disconnected")
        assert app.hosts[node_uri].state is ConnState.STOPPED
        assert not app.store.hosts[node_uri].rows
        # ... and connect again.
        await pilot.press("c")
        await wait_until(pilot, lambda: lines(app)[node_uri].state == "connected")
        await wait_until(pilot, lambda: bool(app.store.hosts[node_uri].rows))

        # Autoconnect on and off, straight into the file.
        await pilot.press("t")
        await wait_until(pilot, lambda: lines(app)[node_uri].autoconnect)
        assert load_config().config.hosts[-1] == HostEntry(node_uri, "[bold]lab[/] rack", True)
        # A command-line host becomes a saved one when it gets autoconnect.
        await select(pilot, screen, GOOD)
        await pilot.press("t")
        await wait_until(pilot, lambda: lines(app)[GOOD].saved)
        assert HostEntry(GOOD, "", True) in load_config().config.hosts

        # Remove: asks first (Cancel is the default), then forgets host, rows and config entry.
        await select(pilot, screen, node_uri)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("enter")  # Cancel has the focus
        await pilot.pause()
        assert node_uri in app.hosts
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: node_uri not in lines(app))
        assert node_uri not in app.hosts and node_uri not in app.store.hosts
        assert node_uri not in {h.uri for h in load_config().config.hosts}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConnectionsScreen)


async def test_config_round_trip_through_the_screen(node_uri: str) -> None:
    hosts = (
        HostEntry(GOOD, "test [red]driver[/]", True),
        HostEntry(node_uri, "lab", False),
        HostEntry(DEAD, "", False),
    )
    save_config(Config(hosts=hosts))
    app = VirtTUIApp([HostSpec(GOOD)], refresh=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_connections(pilot)
        shown = lines(app)
        assert list(shown) == [GOOD, node_uri, DEAD]
        assert shown[GOOD].label == "test [red]driver[/]" and shown[GOOD].autoconnect
        assert shown[node_uri].state == "disconnected"  # configured, not opened
        await select(pilot, screen, node_uri)
        await pilot.press("c", "t")
        await wait_until(pilot, lambda: lines(app)[node_uri].state == "connected")
        await wait_until(pilot, lambda: lines(app)[node_uri].autoconnect)
    # The file is what the screen showed; settings and order survive.
    again = load_config()
    assert not again.problems
    assert again.config.hosts == (hosts[0], HostEntry(node_uri, "lab", True), hosts[2])
    assert again.config.settings == Config().settings


async def test_broken_config_file_gives_message_and_defaults() -> None:
    path = config_path()
    path.write_text("[[hosts]]\nuri = 'qemu:///system\n")  # unterminated string
    app = VirtTUIApp([HostSpec(GOOD)], refresh=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_connections(pilot)
        messages = [n.message for n in app._notifications]
        assert any("not valid TOML" in m and str(path) in m for m in messages), messages
        assert "qemu:///system" in lines(app)  # the defaults
        assert screen.loaded.problems
        # Saving (autoconnect on the test host) keeps the broken file aside.
        await select(pilot, screen, GOOD)
        await pilot.press("t")
        await wait_until(pilot, lambda: lines(app)[GOOD].autoconnect)
    assert path.with_name(path.name + ".broken").read_text().startswith("[[hosts]]")
    assert not load_config().problems


async def test_startup_reports_a_broken_config_file() -> None:
    app = VirtTUIApp([HostSpec(GOOD)], config_problems=["config.toml: not valid TOML"])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("not valid TOML" in n.message for n in app._notifications)


async def test_dead_host_never_freezes_the_good_one() -> None:
    app = VirtTUIApp([HostSpec(GOOD), HostSpec(DEAD)], refresh=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.store.hosts[GOOD].rows), 10)
        await wait_until(pilot, lambda: app.store.hosts[DEAD].state == "disconnected", 10)
        assert "/nonexistent" in (app.store.hosts[DEAD].error or "")

        # The good host keeps sampling at its own pace while the dead one retries.
        version = app.store.hosts[GOOD].version
        started = time.monotonic()
        await pilot.pause(1.5)
        assert app.store.hosts[GOOD].version - version >= 3
        assert time.monotonic() - started < 3
        assert app.hosts[DEAD].state is ConnState.DISCONNECTED  # still retrying, not stopped
        assert app.hosts[DEAD]._thread is not None and app.hosts[DEAD]._thread.is_alive()

        # An action on the good host works: pause the test domain from the list.
        screen = app.domains_screen()
        assert screen is not None
        for key in ["up"] * 5 + ["down"] * 5:
            item = screen.table.current
            if item is not None and item.uri == GOOD and item.uuid is not None:
                break
            await pilot.press(key)
        item = screen.table.current
        assert item is not None and item.uri == GOOD and item.uuid is not None
        assert app.store.hosts[GOOD].rows[item.uuid].state == 1  # running
        await pilot.press("p")
        await wait_until(pilot, lambda: app.store.hosts[GOOD].rows[item.uuid].state == 3, 5)
        await pilot.press("p")  # resume: leave the shared test:///default as found
        await wait_until(pilot, lambda: app.store.hosts[GOOD].rows[item.uuid].state == 1, 5)

        # The connection manager shows both.
        await open_connections(pilot)
        shown = lines(app)
        assert shown[GOOD].state == "connected" and shown[GOOD].domains == 1
        assert shown[DEAD].state == "retrying" and "/nonexistent" in shown[DEAD].error


# ---------------------------------------------------------------------- snapshots
@pytest.fixture
def fixed_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative config path, so the file name in the footer note is the same on every run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIRTTUI_CONFIG_FILE", "config.toml")
    save_config(
        Config(
            hosts=(
                HostEntry(GOOD, "test driver", True),
                HostEntry("qemu+ssh://admin@hv2.example.org/system", "rack 2 hypervisor", False),
                HostEntry(DEAD, "", True),
            )
        )
    )
    assert os.path.exists("config.toml")


async def _manager_loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await open_connections(pilot)
    await wait_until(pilot, lambda: lines(app)[GOOD].state == "connected", 10)
    await wait_until(pilot, lambda: lines(app)[DEAD].state == "retrying", 10)
    await pilot.pause(0.3)


def _two_host_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(GOOD, "test driver"), HostSpec(DEAD)], refresh=3600.0)


def test_connection_manager_snapshot(snap_compare: Any, fixed_config_path: None) -> None:
    assert snap_compare(_two_host_app(), terminal_size=(100, 30), run_before=_manager_loaded)


def test_connection_manager_add_dialog(snap_compare: Any, fixed_config_path: None) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _manager_loaded(pilot)
        await pilot.press("a")
        await pilot.pause()
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False  # a blinking cursor makes the snapshot random
        await pilot.press(*"qemu+ssh://", "enter")
        await pilot.pause(0.3)

    assert snap_compare(_two_host_app(), terminal_size=(100, 30), run_before=run_before)


async def test_removing_and_re_adding_a_host_at_once_ends_connected() -> None:
    """The removed host's poller says "stopped" late; that must not mark the new one stopped."""
    uri = "test:///default"
    app = VirtTUIApp([HostSpec(uri)], refresh=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                app.store.hosts.get(uri) is not None and app.store.hosts[uri].state == "connected"
            ),
            10,
        )
        old = app.hosts[uri]
        app.stop_host(uri)
        app.start_host(HostSpec(uri))
        new = app.hosts[uri]
        assert new is not old
        await wait_until(pilot, lambda: old.state.value == "stopped", 10)
        await pilot.pause(0.5)
        assert app.store.hosts[uri].state == "connected"
        await wait_until(pilot, lambda: bool(app.store.hosts[uri].rows), 5)
