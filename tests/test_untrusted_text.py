"""Untrusted text never reaches the terminal raw and is never parsed as markup.

A test-driver host whose domains, pool, network, volume, disk paths, titles and descriptions hold
markup (`[/]`, `[@click=app.quit]x`, `Win10 [x64].iso`), C1 (`\\x9b`), DEL and, set through the
app's own connection with virDomainSetMetadata, ESC sequences and BEL (libvirt keeps them).
Every screen and dialog is opened with Pilot: the app keeps running, the text shows literally
(control characters as escapes such as `\\e`, `\\x9b`), and no raw C0/C1/DEL is on the screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from tests.pilot_utils import click_on, hosts_settled, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.facade.host import HostFacade
from virttui.core.host.nodexml import node_uri
from virttui.core.settings.config import Config, HostEntry, save_config
from virttui.screens.common.ui_jobs import writable_host
from virttui.screens.domain.details import DetailsScreen, XmlView
from virttui.screens.domain.edit import run_edit
from virttui.screens.domain.hardware_dialogs import AddDiskScreen, AddNicScreen, MediaScreen
from virttui.screens.host.connections import ConnectionsScreen
from virttui.screens.host.host import HostScreen

CLICK = "[@click=app.quit]x"
ISO = "Win10 [x64].iso"
C1_NAME = "c1\x9bname"
DEL_NAME = "del\x7fname"
PLAIN = "plain-vm"
OFF_NAME = "off\x85name"  # shut off (rename applies), NEL in the name
ESC_TITLE = "esc\x1b[31mred\x07 [/]"
ESC_DESCRIPTION = "first [/] line\x1b]0;pwned\x07\nsecond\x9b line"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def _domain(i: int, name: str, state: int, *, title: str = "", cdroms: tuple[str, ...] = ()) -> str:
    disks = "".join(
        f"<disk type='file' device='cdrom'><source file={quoteattr(path)}/>"
        f"<target dev='sd{chr(ord('a') + n)}' bus='sata'/><readonly/></disk>"
        for n, path in enumerate(cdroms)
    )
    title_xml = f"<title>{escape(title)}</title>" if title else ""
    return f"""<domain type='test' xmlns:test='{TEST_NS}'>
  <name>{escape(name)}</name><uuid>00000000-0000-0000-0000-{i:012d}</uuid>{title_xml}
  <description>{escape("[bold]desc[/] " + ISO)}</description>
  <memory>262144</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices>{disks}<console type='pty'><target type='serial' port='0'/></console></devices>
  <test:runstate>{state}</test:runstate></domain>"""


def _pool(uuid: str, name: str, path: str) -> str:
    return (
        f"<pool type='dir'><name>{escape(name)}</name><uuid>{uuid}</uuid>"
        f"<target><path>{escape(path)}</path></target>"
        f"<volume type='file'><name>{escape(ISO)}</name><capacity>1000</capacity>"
        "<target><format type='raw'/></target></volume></pool>"
    )


def _network(uuid: str, name: str, bridge: str) -> str:
    return f"<network><name>{escape(name)}</name><uuid>{uuid}</uuid><bridge name='{bridge}'/></network>"


@pytest.fixture
def hostile_uri(tmp_path: Path) -> str:
    parts = [
        _domain(1, CLICK, 1, title="[/] " + ISO),
        _domain(2, ISO, 5),
        _domain(3, C1_NAME, 1, title="c1\x9btitle"),
        _domain(4, DEL_NAME, 3),
        _domain(6, OFF_NAME, 5),
        _domain(5, PLAIN, 1, cdroms=(f"/iso/{ISO}", "/iso/[/]", "/iso/c1\x9b.iso")),
        _pool("11111111-0000-0000-0000-000000000001", CLICK, "/p/[/]"),
        _pool("11111111-0000-0000-0000-000000000002", "c1\x9bpool", "/p/q"),
        _network("22222222-0000-0000-0000-000000000001", CLICK, "virbr91"),
        _network("22222222-0000-0000-0000-000000000002", "net\x7fdel", "virbr92"),
    ]
    path = tmp_path / "hostile-text.xml"
    path.write_text("<node>\n" + "\n".join(parts) + "\n</node>\n", encoding="utf-8")
    return node_uri(path)


def assert_no_raw_controls(text: str) -> None:
    bad = sorted(
        {f"U+{ord(c):04X}" for c in text if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)}
    )
    assert not bad, f"raw control characters on screen: {bad}"


def assert_screen_clean(app: VirtTUIApp) -> str:
    assert app.is_running, "the app quit"
    text = screen_text(app)
    assert_no_raw_controls(text)
    svg = app.export_screenshot()
    for char in ("\x1b", "\x9b", "\x7f", "\x07"):
        assert char not in svg
    return text


def _uuid(app: VirtTUIApp, uri: str, name: str) -> str:
    for row in app.store.hosts[uri].rows.values():
        if row.name == name:
            return row.uuid
    raise AssertionError(name)


async def _settled_app(pilot: Pilot[Any], uri: str, *, notes: bool = True) -> VirtTUIApp:
    """Wait for the first polls, then give one domain an ESC title and description through the
    app's own connection (each test:///file connection has its own copy of the host)."""
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    if not notes:
        return app
    host = app.hosts[uri]

    def set_notes(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByName(PLAIN)
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, ESC_TITLE, None, None, 0)
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, ESC_DESCRIPTION, None, None, 0)

    host.call(set_notes)
    host.refresh_now()
    await wait_until(
        pilot,
        lambda: any(r.title == ESC_TITLE for r in app.store.hosts[uri].rows.values()),
        10,
    )
    await pilot.pause(0.2)
    return app


def _put_cursor(app: VirtTUIApp, uri: str, name: str) -> None:
    screen = app.domains_screen()
    assert screen is not None
    uuid = _uuid(app, uri, name)
    table = screen.table
    table._auto_cursor = False
    table._move(next(i for i, it in enumerate(table.items) if it.uuid == uuid))


# ---------------------------------------------------------------------------------- list
async def test_list_and_status_line_show_names_and_titles_literally(hostile_uri: str) -> None:
    app = VirtTUIApp([HostSpec(hostile_uri, label="lab\x1b[2J [/] host")], refresh=3600)
    async with app.run_test(size=(200, 30)) as pilot:
        await _settled_app(pilot, hostile_uri)
        _put_cursor(app, hostile_uri, PLAIN)
        await pilot.pause(0.2)
        text = assert_screen_clean(app)
        for expected in (
            CLICK,
            ISO,
            "c1\\x9bname",
            "del\\x7fname",
            "c1\\x9btitle",
            "[/] " + ISO,
            "lab\\e[2J [/] host",
            # The status line: the title under the cursor, ESC and BEL as escapes.
            "plain-vm: esc\\e[31mred\\a [/]",
        ):
            assert expected in text, expected
        # Clicking the would-be link in the list does nothing but move the cursor.
        _put_cursor(app, hostile_uri, CLICK)
        await pilot.pause(0.1)
        assert_screen_clean(app)


async def test_list_columns_stay_aligned_with_control_characters(hostile_uri: str) -> None:
    """An escape takes the cells it shows: the State column starts at the same cell in every row."""
    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(100, 24)) as pilot:
        await _settled_app(pilot, hostile_uri)
        lines = screen_text(app).split("\n")
        state_x = lines[0].index("State")
        rows = [line for line in lines if any(w in line for w in ("running", "shutoff", "paused"))]
        assert len(rows) == 6, lines
        for line in rows:
            assert line[state_x - 1] == " ", line
            assert line[state_x:].split(" ", 1)[0] in ("running", "shutoff", "paused"), line


# ---------------------------------------------------------------------------------- details
async def test_details_header_overview_devices_and_xml(hostile_uri: str) -> None:
    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settled_app(pilot, hostile_uri)
        app.open_details(hostile_uri, _uuid(app, hostile_uri, PLAIN))
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, DetailsScreen) and app.screen.details is not None,
            10,
        )
        await pilot.pause(0.2)
        text = assert_screen_clean(app)
        # The overview comes from XMLDesc, where libvirt keeps ESC (not BEL): the XML still parses.
        assert "esc\\e[31mred [/]" in text  # the title
        assert "first [/] line\\e]0;pwned" in text  # the description keeps its line break
        assert "second\\x9b line" in text
        await pilot.press("2")
        await pilot.pause(0.2)
        text = assert_screen_clean(app)
        for expected in (f"/iso/{ISO}", "/iso/[/]", "/iso/c1\\x9b.iso"):
            assert expected in text, expected
        await pilot.press("4")
        await pilot.pause(0.2)
        assert_screen_clean(app)
        xml = app.screen.query_one(XmlView).text
        assert "esc\\e[31mred" in xml
        assert_no_raw_controls(xml)

        for name in (CLICK, C1_NAME):
            await pilot.press("escape")
            await pilot.pause(0.1)
            app.open_details(hostile_uri, _uuid(app, hostile_uri, name))
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, DetailsScreen) and app.screen.details is not None,
                10,
            )
            await pilot.pause(0.2)
            text = assert_screen_clean(app)
            header = text.split("\n")[0]
            shown = name.replace("\x9b", "\\x9b")
            assert header.lstrip().startswith(shown + "  running  on "), header


# ---------------------------------------------------------------------------------- host screen
class FailingHost:
    """A host whose probe fails with a message holding markup and an escape sequence."""

    uri = "qemu+ssh://root@[/]host\x1b[31m/system"
    is_local = False

    def call(self, fn: Any) -> Any:
        raise libvirt.libvirtError("cannot open /p/[/] \x1b[31mred [@click=app.quit]x")


async def test_host_screen_error_notice_is_literal() -> None:
    app = VirtTUIApp([], refresh=3600)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(HostScreen(HostFacade(FailingHost())))
        await wait_until(pilot, lambda: "Host report failed" in screen_text(app), 10)
        text = assert_screen_clean(app)
        assert "cannot open /p/[/] \\e[31mred [@click=app.quit]x" in text
        assert "qemu+ssh://root@[/]host\\e[31m/system" in text


# ---------------------------------------------------------------------------------- edit dialogs
async def _open_edit(pilot: Pilot[Any], uri: str, name: str, edit_id: str, kind: type) -> None:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    run_edit(app, uri, _uuid(app, uri, name), edit_id)
    await wait_until(pilot, lambda: isinstance(app.screen, kind), 10)
    await pilot.pause(0.2)


async def _click_option_ending_in_x(pilot: Pilot[Any], select: Select[Any]) -> None:
    """Open `select` and click the last character of the option that ends in "x": the spot
    where a parsed `[@click=app.quit]x` would put its link."""
    app = pilot.app
    select.focus()
    await pilot.press("enter")
    await pilot.pause(0.2)
    overlay = select.query_one(SelectOverlay)
    region = overlay.content_region
    lines = screen_text(app).split("\n")
    for y in range(region.y, region.bottom):
        cells = lines[y][region.x : region.right].rstrip()
        if cells.endswith("x"):
            await pilot.click(offset=(region.x + len(cells) - 1, y))
            await pilot.pause(0.3)
            return
    raise AssertionError("no option ending in x: " + "\n".join(lines[region.y : region.bottom]))


async def test_edit_pool_network_and_cdrom_selects_are_literal(hostile_uri: str) -> None:
    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        # No ESC title here: the edit menu reads the domain XML, and this test is about the selects.
        await _settled_app(pilot, hostile_uri, notes=False)

        await _open_edit(pilot, hostile_uri, PLAIN, "add_disk", AddDiskScreen)
        pool = app.screen.query_one("#disk-pool", Select)
        await _click_option_ending_in_x(pilot, pool)
        assert app.is_running, "clicking the pool option quit the app"
        text = assert_screen_clean(app)  # clicking the option chose it; the app did not quit
        assert isinstance(app.screen, AddDiskScreen)
        assert pool.value == CLICK
        assert CLICK in text  # the chosen pool, shown in the closed select
        pool.focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "c1\\x9bpool" in assert_screen_clean(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AddDiskScreen))

        await _open_edit(pilot, hostile_uri, PLAIN, "add_nic", AddNicScreen)
        network = app.screen.query_one("#nic-network-name", Select)
        await _click_option_ending_in_x(pilot, network)
        assert app.is_running, "clicking the network option quit the app"
        assert CLICK in assert_screen_clean(app)
        assert network.value == CLICK
        network.focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "net\\x7fdel" in assert_screen_clean(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, AddNicScreen))

        await _open_edit(pilot, hostile_uri, PLAIN, "insert_media", MediaScreen)
        assert f"sda (/iso/{ISO})" in assert_screen_clean(app)
        drive = app.screen.query_one("#media-drive", Select)
        drive.focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        text = assert_screen_clean(app)
        for expected in (f"sda (/iso/{ISO})", "sdb (/iso/[/])", "sdc (/iso/c1\\x9b.iso)"):
            assert expected in text, expected
        await pilot.press("escape", "escape")


# ---------------------------------------------------------------------------------- connections
async def test_connections_screen_shows_labels_and_errors_literally(hostile_uri: str) -> None:
    label = "rack\x1b[31m3 [/] " + CLICK
    save_config(Config(hosts=(HostEntry(uri=hostile_uri, label=label, autoconnect=True),)))
    app = VirtTUIApp([HostSpec(hostile_uri, label=label)], refresh=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectionsScreen))
        await pilot.pause(0.3)
        text = assert_screen_clean(app)
        assert "rack\\e[31m3 [/] [@c" in text  # the Host column (cut to its width)


# ---------------------------------------------------------------------------------- notifications
async def test_notifications_with_hostile_error_text(hostile_uri: str) -> None:
    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        # A real code path: the edit menu on a connection that is gone names its URI.
        assert writable_host(app, "qemu:///x\x1b[31m[/]" + CLICK) is None
        await pilot.pause(0.3)
        text = assert_screen_clean(app)
        assert "qemu:///x\\e[31m[/]" + CLICK + ": no such connection" in text
        # A lifecycle action's report names the domains: literally, markup and all.
        app.run_lifecycle("start", [(hostile_uri, _uuid(app, hostile_uri, ISO))])
        await wait_until(pilot, lambda: f"{ISO}: started" in screen_text(app), 10)
        assert_screen_clean(app)
        # Force off asks first (the question names the domain), then reports per domain.
        app.run_lifecycle("destroy", [(hostile_uri, _uuid(app, hostile_uri, DEL_NAME))])
        await pilot.pause(0.3)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: "del\\x7fname: " in screen_text(app), 10)
        assert_screen_clean(app)


# ---------------------------------------------------------------------------------- editable fields
async def test_edit_fields_start_with_escapes_and_untouched_ones_change_nothing(
    hostile_uri: str,
) -> None:
    from virttui.screens.domain.action_dialogs import PromptScreen
    from virttui.screens.domain.actions import run_domain_action
    from virttui.screens.domain.edit_dialogs import NotesScreen

    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await _settled_app(pilot, hostile_uri, notes=False)
        uuid = _uuid(app, hostile_uri, C1_NAME)

        await _open_edit(pilot, hostile_uri, C1_NAME, "notes", NotesScreen)
        text = assert_screen_clean(app)
        assert "c1\\x9btitle" in text  # the title field
        assert "[bold]desc[/] " + ISO in text  # the description field, literally
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "nothing changed" in screen_text(app), 10)
        title = app.hosts[hostile_uri].call(
            lambda c: c.lookupByUUIDString(uuid).metadata(
                libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0
            )
        )
        assert title == "c1\x9btitle"  # saving the untouched form left the title alone

        run_domain_action(app, hostile_uri, _uuid(app, hostile_uri, OFF_NAME), "rename")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), 10)
        await pilot.pause(0.2)
        assert "off\\x85name" in assert_screen_clean(app)
        await pilot.press("enter")  # unchanged: no rename
        await pilot.pause(0.5)
        assert any(r.name == OFF_NAME for r in app.store.hosts[hostile_uri].rows.values())
        assert_screen_clean(app)


async def test_remove_cdrom_pick_and_confirm_name_the_path_literally(hostile_uri: str) -> None:
    from virttui.screens.common.confirm import ConfirmScreen
    from virttui.screens.domain.action_dialogs import PickScreen

    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled_app(pilot, hostile_uri, notes=False)
        await _open_edit(pilot, hostile_uri, PLAIN, "remove_cdrom", PickScreen)
        text = assert_screen_clean(app)
        for expected in (f"sda (/iso/{ISO})", "sdb (/iso/[/])", "sdc (/iso/c1\\x9b.iso)"):
            assert expected in text, expected
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
        await pilot.pause(0.2)
        text = assert_screen_clean(app)
        assert "Remove sdc (/iso/c1\\x9b.iso) from: plain-vm?" in text
        await pilot.press("escape")


# ---------------------------------------------------------------------------------- consoles
async def test_console_status_line_and_switcher_show_names_literally(hostile_uri: str) -> None:
    from virttui.screens.console.serial import open_serial_console
    from virttui.screens.console.switcher import open_console_switcher

    app = VirtTUIApp([HostSpec(hostile_uri)], refresh=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settled_app(pilot, hostile_uri, notes=False)
        for name, shown in ((CLICK, CLICK), (C1_NAME, "c1\\x9bname")):
            screen = open_serial_console(app, hostile_uri, _uuid(app, hostile_uri, name))
            await wait_until(pilot, lambda s=screen: s.state == "failed", 10)
            await pilot.pause(0.2)
            text = assert_screen_clean(app)
            assert f"Serial console  {shown} · failed · stty cols" in text.split("\n")[0]
            screen.action_leave()
            await pilot.pause(0.1)
        open_console_switcher(app)
        await pilot.pause(0.3)
        text = assert_screen_clean(app)
        assert CLICK in text and "c1\\x9bname" in text
