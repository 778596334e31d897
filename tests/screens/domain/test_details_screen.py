"""DetailsScreen with Pilot on the bundled demo host and a hostile test-driver node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libvirt
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from tests.pilot_utils import click_on, hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.demo import demo_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain.details import DetailsScreen, find_matches
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.widgets.domain.history_plot import HistoryPlot

WEB01 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d01"
DB_PRIMARY = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d03"


def demo_app(refresh: float = 3600.0) -> VirtTUIApp:
    return VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=refresh)


async def open_details(pilot: Pilot[Any], uuid: str) -> DetailsScreen:
    """Put the list cursor on `uuid` and press Enter, like a user would."""
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    screen = app.domains_screen()
    assert screen is not None
    table = screen.table
    index = next(i for i, item in enumerate(table.items) if item.uuid == uuid)
    table._auto_cursor = False
    table._move(index)
    await pilot.press("enter")
    await wait_until(
        pilot, lambda: isinstance(app.screen, DetailsScreen) and app.screen.details is not None
    )
    await pilot.pause(0.1)
    details = app.screen
    assert isinstance(details, DetailsScreen)
    return details


async def test_enter_opens_overview_devices_and_xml() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        details = await open_details(pilot, DB_PRIMARY)
        text = screen_text(app)
        for expected in (
            "db-primary",
            "PostgreSQL 16 primary",
            "Streaming replication to db-replica",
            DB_PRIMARY,
            "running",
            "pc-q35-7.2",
            "/usr/bin/qemu-system-x86_64",
            "8 vCPU, mode host-passthrough",
            "32.0 GiB current, 32.0 GiB max",
            "Persistent    yes",
        ):
            assert expected in text, expected
        await pilot.press("2")
        await pilot.pause(0.1)
        text = screen_text(app)
        for expected in (
            "Disks (2)",
            "vda",
            "vdb",
            "cache none",
            "io native",
            "/var/lib/libvirt/images/db-primary-data.qcow2",
            "Network interfaces (2)",
            "52:54:00:3a:20:02",
            "bridge br0",
            "isa-serial",
        ):
            assert expected in text, expected
        assert "qcow2" in text and "virtio disk" in text
        await pilot.press("4")
        await pilot.pause(0.1)
        assert "<domain type='test'" in screen_text(app)
        assert "<domain type='test'" in details.xml
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, DomainsScreen)


async def test_xml_search_selects_matches_and_steps() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        details = await open_details(pilot, DB_PRIMARY)
        await pilot.press("slash")
        assert details.query_one(TabbedContent).active == "tab-xml"
        await pilot.press(*"virtio", "enter")
        await pilot.pause(0.1)
        count = len(find_matches(details.xml, "virtio"))
        assert count >= 5
        first = details.match_location
        assert first is not None
        row, col = first[0]
        assert details.xml.splitlines()[row][col : col + 6] == "virtio"
        assert f"1/{count}" in screen_text(app)
        await pilot.press("n")
        second = details.match_location
        assert second is not None and second[0] > first[0]
        assert f"2/{count}" in screen_text(app)
        await pilot.press("N")
        assert details.match_location == first
        await pilot.press("N")  # wraps to the last match
        assert f"{count}/{count}" in screen_text(app)
        # Not found says so; Esc in the search box closes it and stays on the screen.
        await pilot.press("ctrl+f", *"no-such-text", "enter")
        await pilot.pause(0.1)
        assert "not found: no-such-text" in screen_text(app)
        await pilot.press("slash", "escape")
        await pilot.pause(0.1)
        assert app.screen is details
        assert not details.query_one("#xml-searchbar").display


async def test_lifecycle_keys_act_on_this_domain_and_reload() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        details = await open_details(pilot, WEB01)

        def state() -> int | None:
            row = app.store.row(details.uri, WEB01)
            return None if row is None else row.state

        await pilot.press("p")
        await wait_until(pilot, lambda: state() == libvirt.VIR_DOMAIN_PAUSED)
        await wait_until(pilot, lambda: "paused" in screen_text(app))
        await wait_until(pilot, lambda: details.details is not None and details.details.state == 3)
        await pilot.press("p")
        await wait_until(pilot, lambda: state() == libvirt.VIR_DOMAIN_RUNNING)
        await pilot.press("s")  # start does not apply to a running domain: nothing happens
        await pilot.pause(0.1)
        assert app.screen is details
        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: state() == libvirt.VIR_DOMAIN_SHUTOFF)
        await wait_until(pilot, lambda: "shut off" in screen_text(app))
        assert app.screen is details


async def test_graphs_follow_the_poller_without_extra_rpc() -> None:
    app = demo_app(refresh=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        details = await open_details(pilot, WEB01)
        await pilot.press("3")
        memory = details.query_one("#graph-mem", HistoryPlot)
        await wait_until(pilot, lambda: memory.points >= 2, 20)
        history = app.store.hosts[details.uri].history.get(WEB01)
        assert history is not None and len(history) >= 2
        assert "Memory (GiB): memory 4.0" in screen_text(app)
        # The test driver's bulk stats carry no CPU time: the CPU graph says so.
        assert "CPU % of its vCPUs (%): no data yet" in screen_text(app)
        await pilot.press("w")
        assert details.graph_seconds == 600.0


async def test_palette_offers_details_commands() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        details = await open_details(pilot, WEB01)
        titles = [c.title for c in app.get_system_commands(details)]
        assert "Domain: Force off" in titles and "Details: search the XML" in titles
        await pilot.press("escape")
        await pilot.pause(0.1)
        list_titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Domain: details" in list_titles


HOSTILE_TITLE = "[@click=app.quit]click me"
HOSTILE_DESCRIPTION = "[bold red]not red[/] $(touch virttui-pwned)\n[link=http://x]second line"


def hostile_node(tmp_path: Path) -> Path:
    from xml.sax.saxutils import escape

    path = tmp_path / "hostile-details.xml"
    path.write_text(
        f"""<node><domain type='test'><name>[reverse]vm</name>
  <uuid>00000000-0000-0000-0000-0000000000aa</uuid>
  <title>{escape(HOSTILE_TITLE)}</title>
  <description>{escape(HOSTILE_DESCRIPTION)}</description>
  <memory>262144</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/tmp/[b]x[/b].img'/>
  <target dev='vda' bus='virtio'/></disk></devices></domain></node>
""",
        encoding="utf-8",
    )
    return path


async def test_hostile_title_and_description_render_literally(tmp_path: Path) -> None:
    app = VirtTUIApp([HostSpec(node_uri(hostile_node(tmp_path)))], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, "00000000-0000-0000-0000-0000000000aa")
        lines = screen_text(app).splitlines()
        text = "\n".join(lines)
        assert "[reverse]vm" in text
        assert HOSTILE_TITLE in text
        for line in HOSTILE_DESCRIPTION.splitlines():
            assert line in text, line
        y = next(i for i, line in enumerate(lines) if HOSTILE_TITLE in line)
        x = lines[y].index(HOSTILE_TITLE) + 2
        await pilot.click(offset=(x, y))
        await pilot.pause(0.2)
        assert app.is_running
        await pilot.press("2")
        await pilot.pause(0.1)
        assert "/tmp/[b]x[/b].img" in screen_text(app)


async def test_actions_and_edit_menus_open_from_details() -> None:
    from virttui.screens.domain.action_menu import ActionMenuScreen

    app = VirtTUIApp([], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: hosts_settled(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailsScreen")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailsScreen")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen))
