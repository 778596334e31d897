"""80x24 layout: the console status line, the Add-connection dialog, notifications over dialogs,
and fields that never touch (list columns, details header, console header) at every width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Button
from textual.widgets._toast import Toast

from tests.pilot_utils import click_on, hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain.states import IGNORED, SAVED, SHORT_NAMES
from virttui.core.host.nodexml import node_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.console.serial import SerialConsoleScreen, open_serial_console
from virttui.screens.domain.details import DetailsScreen
from virttui.screens.host.add_host import AddHostScreen

WIDTHS = (80, 100, 120, 200)
LONG = "db-primary-" + "x" * 60  # longer than any column or header has room for
LONG_WIDE = "数据库-" + "测" * 40  # two cells per character
STATES = {"running": 1, "shutdown": 4, "paused": 3}


def _node(tmp_path: Path) -> str:
    domains = []
    names = [
        ("web-01", "running"),
        (LONG, "running"),
        (LONG_WIDE, "shutdown"),
        ("k8s-node-2", "shutdown"),
        ("w" * 16, "shutdown"),  # exactly the default name column width
        ("p" * 32, "paused"),  # exactly the widest name column
    ]
    for i, (name, state) in enumerate(names):
        domains.append(
            f"""<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <name>{escape(name)}</name><uuid>00000000-0000-0000-0000-{i:012d}</uuid>
  <memory>262144</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><console type='pty'><target type='serial' port='0'/></console></devices>
  <test:runstate>{STATES[state]}</test:runstate></domain>"""
        )
    path = tmp_path / "layout.xml"
    path.write_text("<node>\n" + "\n".join(domains) + "\n</node>\n", encoding="utf-8")
    return node_uri(path)


@pytest.fixture
def layout_uri(tmp_path: Path) -> str:
    return _node(tmp_path)


def _uuid(app: VirtTUIApp, uri: str, name: str) -> str:
    for row in app.store.hosts[uri].rows.values():
        if row.name == name:
            return row.uuid
    raise AssertionError(name)


def _lines(app: VirtTUIApp) -> list[str]:
    return screen_text(app).split("\n")


def _overlaps(a: Region, b: Region) -> bool:
    return a.overlaps(b)


# ---------------------------------------------------------------------------------- list columns
@pytest.mark.parametrize("width", WIDTHS)
async def test_list_state_and_cpu_columns_never_touch(layout_uri: str, width: int) -> None:
    app = VirtTUIApp([HostSpec(layout_uri)], refresh=3600)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        await pilot.pause(0.2)
        lines = _lines(app)
        header = lines[0]
        state_x = _cell_index(header, "State")
        assert _cell_at(header, state_x - 1) == " "
        assert _cell_at(header, _cell_index(header, "CPU%") - 1) == " "
        words = "|".join([*SHORT_NAMES.values(), SAVED, IGNORED])
        rows = [line for line in lines if re.search(rf" ({words}) ", line)]
        assert len(rows) >= 6, lines
        for line in rows:
            # The state word starts at the header's State column (in cells: names may be wide),
            # after a space, and a space separates it from the CPU% cell ("shutdown -", never
            # "shutdown-").
            assert _cell_at(line, state_x - 1) == " ", line
            rest = _cells_from(line, state_x)
            match = re.match(rf"({words}) +\S", rest)
            assert match is not None, (line, rest)


def _cell_index(line: str, needle: str) -> int:
    return cell_len(line[: line.index(needle)])


def _cells_from(line: str, x: int) -> str:
    """The part of `line` from cell `x` on."""
    for i in range(len(line) + 1):
        if cell_len(line[:i]) >= x:
            return line[i:]
    return ""


def _cell_at(line: str, x: int) -> str:
    rest = _cells_from(line, x)
    return rest[:1]


# ---------------------------------------------------------------------------------- details header
async def _open_details(pilot: Pilot[Any], uri: str, uuid: str) -> DetailsScreen:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    app.open_details(uri, uuid)
    await wait_until(
        pilot, lambda: isinstance(app.screen, DetailsScreen) and app.screen.details is not None
    )
    await pilot.pause(0.2)
    screen = app.screen
    assert isinstance(screen, DetailsScreen)
    return screen


@pytest.mark.parametrize("width", WIDTHS)
async def test_details_header_keeps_state_apart_from_name(layout_uri: str, width: int) -> None:
    app = VirtTUIApp([HostSpec(layout_uri)], refresh=3600)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        for name in ("web-01", LONG, LONG_WIDE, "p" * 32):
            await _open_details(pilot, layout_uri, _uuid(app, layout_uri, name))
            header = _lines(app)[0]
            state = (
                "shutting down"
                if name == LONG_WIDE
                else ("paused" if name[0] == "p" else "running")
            )
            # The state is on the line, whole, two spaces after the name (or its cut start, "…"),
            # and the host follows.
            assert re.search(rf"\S  {state}  on \S", header), (name, header)
            assert header.lstrip().startswith(name[:6]), header
            assert "  on " in header, header
            await pilot.press("escape")
            await pilot.pause(0.1)


# ---------------------------------------------------------------------------------- console header
async def _open_console(pilot: Pilot[Any], uri: str, uuid: str) -> SerialConsoleScreen:
    app = pilot.app
    screen = open_serial_console(app, uri, uuid)
    # The test driver has no console streams: the screen says why, the status line stays.
    await wait_until(pilot, lambda: screen.state == "failed", 10)
    await pilot.pause(0.2)
    return screen


@pytest.mark.parametrize("width", WIDTHS)
async def test_console_status_line_shows_the_whole_stty_command(
    layout_uri: str, width: int
) -> None:
    app = VirtTUIApp([HostSpec(layout_uri)], refresh=3600)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        for name in ("web-01", LONG, LONG_WIDE):
            screen = await _open_console(pilot, layout_uri, _uuid(app, layout_uri, name))
            vt = screen.terminal.vt
            status = _lines(app)[0]
            assert f"stty cols {vt.columns} rows {vt.lines}" in status, status
            # Fields never touch: name, state and hints are separated by " · ".
            assert re.search(r"\S · failed · ", status), status
            assert status.lstrip().startswith("Serial console"), status
            assert name[:4] in status, status
            screen.action_leave()
            await pilot.pause(0.1)


# ---------------------------------------------------------------------------------- dialogs
async def test_add_connection_dialog_buttons_are_on_screen_at_80x24() -> None:
    app = VirtTUIApp([], refresh=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(AddHostScreen())
        await wait_until(pilot, lambda: isinstance(app.screen, AddHostScreen))
        await pilot.pause(0.2)
        screen_region = Region(0, 0, 80, 24)
        for button_id in ("#cancel", "#add"):
            button = app.screen.query_one(button_id, Button)
            region = button.region
            assert region.height >= 1 and region.width >= 1, (button_id, region)
            assert screen_region.contains_region(region), (button_id, region)
            # Visible, not scrolled out of its dialog: the label is on the screen.
            assert str(button.label) in screen_text(app)
        # And it still works: Add with an empty URI says so instead of closing.
        await click_on(pilot, "#add")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AddHostScreen)


LONG_ERROR = (
    "Requested operation is not valid: cannot open /var/lib/libvirt/images/"
    + "very-long-volume-name-" * 6
    + ".qcow2: Permission denied (and a long explanation follows it here)"
)


@pytest.mark.parametrize("dialog", ["add-host", "confirm"])
async def test_notifications_never_cover_dialog_buttons(dialog: str) -> None:
    app = VirtTUIApp([], refresh=3600)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        if dialog == "add-host":
            app.push_screen(AddHostScreen())
            kind: type = AddHostScreen
        else:
            app.push_screen(ConfirmScreen("Force off: web-01?\n\nLike pulling the plug."))
            kind = ConfirmScreen
        await wait_until(pilot, lambda: isinstance(app.screen, kind))
        for i in range(3):
            app.notify(f"{i}: {LONG_ERROR}", title="Start failed", severity="error", markup=False)
        await pilot.pause(0.5)
        toasts = list(app.screen.query(Toast))
        assert toasts, "no toast shown"
        buttons = list(app.screen.query(Button))
        assert buttons
        shown = [t.region for t in toasts if t.region.area]
        assert shown, "no toast visible"
        text = screen_text(app)
        assert "2: Requested operation" in text  # the newest notification is on screen
        for region in shown:
            for button in buttons:
                assert not _overlaps(region, button.region), (region, button.id, button.region)
        for button in buttons:
            assert str(button.label) in text
