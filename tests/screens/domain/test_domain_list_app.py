"""Pilot tests of the domain list on the libvirt test driver."""

from __future__ import annotations

import os
from pathlib import Path

import libvirt
import pytest
from rich.cells import cell_len

from tests.conftest import HOSTILE_NAMES
from tests.pilot_utils import click_on, hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.widgets.domain.table import DomainTable, layout_columns


def connected(app: VirtTUIApp) -> bool:
    return bool(app.store.hosts) and all(
        h.state == "connected" and h.rows for h in app.store.hosts.values()
    )


async def test_demo_host_lists_every_domain_at_80x24() -> None:
    app = VirtTUIApp([], demo_fallback=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: connected(app))
        await pilot.pause(0.2)
        text = screen_text(app)
        for name in ("web-01", "db-primary", "k8s-node-3", "数据库-测试"):
            assert name in text
        for state in ("running", "paused", "shutoff", "crashed"):
            assert state in text
        # Every line fits in 80 columns and essential columns are there.
        header = text.splitlines()[0]
        for label in ("Name", "State", "CPU%", "vCPU", "Memory", "Auto"):
            assert label in header


def test_columns_collapse_by_priority() -> None:
    wide = [c.id for c, _ in layout_columns(140)]
    narrow = [c.id for c, _ in layout_columns(80)]
    tiny = [c.id for c, _ in layout_columns(50)]
    assert "rx" in wide and "rx" not in narrow
    assert {"name", "state", "cpu", "vcpus", "mem", "auto"} <= set(narrow)
    assert {"name", "state", "cpu"} <= set(tiny)
    assert sum(w + 1 for _, w in layout_columns(80)) <= 81
    # Long names win over the network columns when the terminal is a little too narrow.
    long_names = dict(layout_columns(100, name_want=30))
    assert [c.id for c in long_names].count("rx") == 0
    assert max(long_names.values()) >= 30


async def test_pause_resume_and_force_off_with_confirmation() -> None:
    app = VirtTUIApp([HostSpec("test:///default")], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        uri = "test:///default"
        uuid = next(iter(app.store.hosts[uri].rows))
        await pilot.press("p")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_PAUSED, 3
        )
        await pilot.press("p")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_RUNNING, 3
        )
        # Force off asks first; Enter on the default button (Cancel) does nothing.
        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_RUNNING
        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_on(pilot, "#confirm")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_SHUTOFF, 3
        )
        await pilot.press("s")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_RUNNING, 3
        )


async def test_read_only_disables_every_action() -> None:
    app = VirtTUIApp([HostSpec("test:///default")], readonly=True, refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        screen = app.domains_screen()
        assert screen is not None
        for action in ("start", "shutdown", "reboot", "pause", "destroy"):
            assert not screen.check_action("lifecycle", (action,))
        await pilot.press("p", "F")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        row = next(iter(app.store.hosts["test:///default"].rows.values()))
        assert row.state == libvirt.VIR_DOMAIN_RUNNING
        assert "read-only" in screen_text(app)


async def test_filter_sort_and_refresh_interval() -> None:
    app = VirtTUIApp([], refresh=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: connected(app))
        table = app.screen.query_one(DomainTable)
        await pilot.press("slash", *"k8s", "enter")
        await pilot.pause(0.1)
        names = [app.store.row(i.uri, i.uuid).name for i in table.items if i.uuid]
        assert names == ["k8s-node-1", "k8s-node-2", "k8s-node-3"]
        await pilot.press("slash", "escape")
        await pilot.pause(0.1)
        assert len([i for i in table.items if i.uuid]) == 16
        await pilot.press("o", "o", "o", "o")  # name -> state -> cpu -> vcpus -> mem
        assert app.store.sort_column == "mem" and app.store.sort_reverse
        mems = [app.store.row(i.uri, i.uuid).mem_kib for i in table.items if i.uuid]
        assert mems == sorted(mems, reverse=True)
        await pilot.press("minus")
        assert app.refresh_seconds == 2.0
        assert all(h.refresh == 2.0 for h in app.hosts.values())
        assert "every 2s" in screen_text(app)


async def test_hostile_names_render_literally_and_do_nothing(hostile_node: Path) -> None:
    markers = [Path.cwd() / "virttui-pwned", Path.home() / "virttui-pwned", Path("/virttui-pwned")]
    for marker in markers:
        marker.unlink(missing_ok=True)
    app = VirtTUIApp([HostSpec(node_uri(hostile_node))], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        await pilot.pause(0.2)
        lines = screen_text(app).splitlines()
        text = "\n".join(lines)
        for name in HOSTILE_NAMES:
            assert name in text, name
        # Clicking the markup-looking name must not quit the app.
        y = next(i for i, line in enumerate(lines) if "[@click=app.quit]x" in line)
        await pilot.click(DomainTable, offset=(3, y))
        await pilot.pause(0.2)
        assert app.is_running
        # Wide names keep the State column aligned.
        cells = {cell_len(line[: line.index(" running ")]) for line in lines if " running " in line}
        assert len(cells) == 1, cells
    assert not any(m.exists() for m in markers)


async def test_unreachable_default_host_opens_demo_and_says_so() -> None:
    app = VirtTUIApp([HostSpec("qemu+unix:///system?socket=/nonexistent/sock")], demo_fallback=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: any(h.label.startswith("demo") and h.rows for h in app.store.hosts.values()),
        )
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Cannot reach" in text and "DEMO" in text
        assert "disconnected" in text


async def test_ascii_glyphs_on_linux_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    app = VirtTUIApp([HostSpec("test:///default")])
    assert app.glyphs.spark.isascii()
    assert os.environ["TERM"] == "linux"


async def test_multi_select_runs_on_all_with_one_confirmation() -> None:
    app = VirtTUIApp([], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: connected(app))
        await pilot.press("slash", *"web-0", "enter")  # web-01 and web-02, both running
        await pilot.press("home", "down", "shift+down")
        table = app.screen.query_one(DomainTable)
        picked = sorted(app.store.row(*k.split("\x00")).name for k in table.selected)
        assert picked == ["web-01", "web-02"]
        assert "2 selected" in screen_text(app)
        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.question)
        assert "web-01" in question and "web-02" in question
        await click_on(pilot, "#confirm")
        uri = next(iter(app.store.hosts))
        await wait_until(
            pilot,
            lambda: all(
                r.state == libvirt.VIR_DOMAIN_SHUTOFF
                for r in app.store.hosts[uri].rows.values()
                if r.name.startswith("web-0")
            ),
            3,
        )
        # Start applies to both; one mixed-state selection is still allowed (others skipped).
        await pilot.press("s")
        await wait_until(
            pilot,
            lambda: all(
                r.state == libvirt.VIR_DOMAIN_RUNNING
                for r in app.store.hosts[uri].rows.values()
                if r.name.startswith("web-0")
            ),
            3,
        )


async def test_command_palette_offers_domain_actions() -> None:
    app = VirtTUIApp([HostSpec("test:///default")], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Domain: Start",
            "Domain: Force off",
            "Domain: Pause/Resume",
            "Domain: details",
        ):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Force off")
        await pilot.pause(0.5)
        assert "Force off" in screen_text(app)


async def test_titles_show_in_the_list_and_follow_edits(hostile_node: Path) -> None:
    uri = node_uri(hostile_node)
    app = VirtTUIApp([HostSpec(uri)], refresh=30.0)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: connected(app) and all(r.title for r in app.store.hosts[uri].rows.values()),
        )
        text = screen_text(app)
        assert "Title" in text.splitlines()[0]
        assert "[bold red]title[/]" in text  # literal, never markup
        # An edited note shows up through the metadata event, without waiting for a refresh.
        row = next(r for r in app.store.hosts[uri].rows.values() if r.name == "[reverse]y")
        app.hosts[uri].call(
            lambda c: c.lookupByUUIDString(row.uuid).setMetadata(
                libvirt.VIR_DOMAIN_METADATA_TITLE, "db backups, ask Ana", None, None, 0
            )
        )
        await wait_until(
            pilot, lambda: app.store.row(uri, row.uuid).title == "db backups, ask Ana", 5
        )
        assert "db backups, ask Ana" in screen_text(app)


async def test_status_line_names_the_current_domains_title_at_80_columns() -> None:
    app = VirtTUIApp([], refresh=3600.0)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: hosts_settled(app))
        table = app.screen.query_one(DomainTable)
        uri = next(iter(app.store.hosts))
        titled = [r for r in app.store.hosts[uri].rows.values() if r.title]
        await wait_until(
            pilot, lambda: bool([r for r in app.store.hosts[uri].rows.values() if r.title]), 5
        )
        titled = [r for r in app.store.hosts[uri].rows.values() if r.title]
        index = next(i for i, it in enumerate(table.items) if it.uuid == titled[0].uuid)
        table._auto_cursor = False
        table._move(index)
        await pilot.pause(0.2)
        assert f"{titled[0].name}: {titled[0].title}"[:60] in screen_text(app)


async def test_shutdown_key_works_on_a_driver_without_the_acpi_flag() -> None:
    """The test driver refuses VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN: `h` falls back to its default."""
    app = VirtTUIApp([HostSpec("test:///default")], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        uri = "test:///default"
        uuid = next(iter(app.store.hosts[uri].rows))
        await pilot.press("h")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_SHUTOFF, 5
        )
        await pilot.press("s")
        await wait_until(
            pilot, lambda: app.store.row(uri, uuid).state == libvirt.VIR_DOMAIN_RUNNING, 5
        )


async def test_selection_hidden_by_the_filter_is_counted_before_any_action() -> None:
    """Select two domains, filter one out of view: the action still covers both, but only after
    a confirmation saying "2 selected (1 hidden)"; Cancel (the default) does nothing."""
    app = VirtTUIApp([], refresh=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_demo()
        await wait_until(pilot, lambda: connected(app))
        uri = next(iter(app.store.hosts))

        def states() -> dict[str, int]:
            rows = app.store.hosts[uri].rows.values()
            return {r.name: r.state for r in rows if r.name.startswith("web-0")}

        assert set(states().values()) == {libvirt.VIR_DOMAIN_RUNNING}
        await pilot.press("slash", *"web-0", "enter")
        await pilot.press("home", "down", "shift+down")  # web-01 and web-02 selected
        await pilot.press("slash", *["backspace"] * 5, *"web-02", "enter")  # only web-02 shown
        table = app.screen.query_one(DomainTable)
        shown = [app.store.row(i.uri, i.uuid).name for i in table.items if i.uuid]
        assert shown == ["web-02"] and len(table.selected) == 2
        assert "2 selected (1 hidden)" in screen_text(app)
        for key in ("p", "F"):  # a non-destructive and a destructive action: both ask
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = str(app.screen.question)
            assert "2 selected (1 hidden)" in question and "web-01" in question
            await pilot.press("enter")  # Cancel has the focus
            await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
            await pilot.pause(0.3)
            assert set(states().values()) == {libvirt.VIR_DOMAIN_RUNNING}
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: set(states().values()) == {libvirt.VIR_DOMAIN_PAUSED}, 5)
