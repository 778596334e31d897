"""SnapshotsScreen with Pilot on a private test-driver host: opened from the list (S) and the
details screen, the tree (current marked, internal/external), create through the form, revert
(confirmed), a refusal shown as it is (external revert on libvirt 9.0), delete with children
(confirmed), the XML, names rendered literally, the palette; and an SVG at 80x24."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.pilot_utils import click_on, hosts_settled, select_domain, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain.action_menu import ActionMenuScreen
from virttui.screens.domain.snapshots import (
    CreateSnapshotScreen,
    SnapshotsScreen,
    XmlScreen,
)

NODE = Path(__file__).parents[2] / "core" / "data" / "test_node.xml"
URI = f"test://{NODE}"
UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Creation times are shown in local time: fixed to UTC for stable text and SVGs."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def make_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(URI)], refresh=3600.0)


def seed(app: VirtTUIApp, *, external: bool = True) -> None:
    """Snapshot records with fixed times: root (internal, memory) -> child; ext (external)."""

    def run(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByUUIDString(UUID)
        domain = dom.XMLDesc(0)
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
        records = [
            ("root [b]x[/b]", "", 1_700_000_000, "internal", "running", "Before the upgrade"),
            ("child", "root [b]x[/b]", 1_700_000_600, "internal", "running", ""),
        ]
        if external:
            records.append(("ext", "child", 1_700_001_200, "external", "disk-snapshot", ""))
        for name, parent, created, kind, state, desc in records:
            disk = (
                "<disk name='vda' snapshot='external' type='file'><driver type='qcow2'/>"
                "<source file='/guest/diskimage1.ext.qcow2'/></disk>"
                if kind == "external"
                else "<disk name='vda' snapshot='internal'/>"
            )
            memory = "no" if kind == "external" else "internal"
            parent_el = (
                f"<parent><name>{parent.replace('[', '[')}</name></parent>" if parent else ""
            )
            xml = (
                f"<domainsnapshot><name>{name}</name><description>{desc}</description>"
                f"<state>{state}</state>{parent_el}<creationTime>{created}</creationTime>"
                f"<memory snapshot='{memory}'/><disks>{disk}</disks>{domain}</domainsnapshot>"
            )
            dom.snapshotCreateXML(xml, flags)
        current = "ext" if external else "child"
        xml = dom.snapshotLookupByName(current, 0).getXMLDesc(0)
        dom.snapshotCreateXML(xml, flags | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)

    app.hosts[URI].call(run)


async def open_snapshots(
    pilot: Pilot[Any], *, seeded: bool = True, external: bool = True
) -> SnapshotsScreen:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: hosts_settled(app), 10)
    if seeded:
        seed(app, external=external)
    select_domain(app, UUID)
    await pilot.press("T")
    await wait_until(
        pilot, lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.tree_data is not None
    )
    await pilot.pause(0.1)
    screen = app.screen
    assert isinstance(screen, SnapshotsScreen)
    return screen


async def test_tree_shows_current_kinds_and_literal_names() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_snapshots(pilot)
        data = screen.tree_data
        assert data is not None
        assert [(s.name, s.depth) for s in data.snapshots] == [
            ("root [b]x[/b]", 0),
            ("child", 1),
            ("ext", 2),
        ]
        text = screen_text(app)
        assert "root [b]x[/b]" in text  # markup in a name is shown, not interpreted
        assert "● ext  external" in text and "current" in text
        assert "internal+mem" in text
        assert screen.selected_name() == "ext"  # the cursor starts on the current one
        assert "libvirt 9.0.0" in text


async def test_external_revert_refused_with_reason_and_route() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_snapshots(pilot)
        await pilot.press("r")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmScreen)  # refused before asking
        text = screen_text(app)
        assert "libvirt 9.0.0 cannot revert an external snapshot" in text
        assert "Shut the domain off, then use the manual revert" in text
        # the manual revert says why not (the domain runs)
        await pilot.press("m")
        await wait_until(pilot, lambda: "is running" in screen_text(app), 5)


async def test_revert_internal_asks_first_then_reverts() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_snapshots(pilot)
        await pilot.press("up")  # child
        assert screen.selected_name() == "child"
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")  # Cancel is the default: nothing happens
        await pilot.pause(0.1)
        assert screen.tree_data is not None and screen.tree_data.current is not None
        assert screen.tree_data.current.name == "ext"
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: (
                screen.tree_data is not None
                and screen.tree_data.current is not None
                and screen.tree_data.current.name == "child"
            ),
            10,
        )


async def test_create_through_the_form_and_delete_with_children() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_snapshots(pilot, seeded=False)
        assert "No snapshots" in screen_text(app)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateSnapshotScreen))
        form = app.screen
        assert isinstance(form, CreateSnapshotScreen)
        text = screen_text(app)
        assert "no guest agent channel" in text  # quiesce disabled, with the reason
        form.query_one("#snap-name", Input).value = "first one"
        form.query_one("#snap-desc", Input).value = "notes"
        await click_on(pilot, "#create")
        await wait_until(
            pilot,
            lambda: screen.tree_data is not None and len(screen.tree_data.snapshots) == 1,
            10,
        )
        snap = screen.tree_data.snapshots[0]  # type: ignore[union-attr]
        assert snap.name == "first one" and snap.current and snap.has_memory
        # a duplicate name is refused in the form, plainly
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateSnapshotScreen))
        app.screen.query_one("#snap-name", Input).value = "first one"
        await click_on(pilot, "#create")
        await pilot.pause(0.1)
        assert "already has a snapshot named 'first one'" in screen_text(app)
        app.screen.query_one("#snap-name", Input).value = "second"
        # The refusal above re-laid the form out: press the button itself (a click under load
        # could land before the new layout and miss it; CI saw that once).
        app.screen.query_one("#create", Button).press()
        await wait_until(
            pilot, lambda: screen.tree_data is not None and len(screen.tree_data.snapshots) == 2, 30
        )
        await pilot.press("up")
        assert screen.selected_name() == "first one"
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen))
        await pilot.press("c")  # with its children
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "and its children" in screen_text(app)
        await pilot.press("y")
        await wait_until(
            pilot, lambda: screen.tree_data is not None and not screen.tree_data.snapshots, 30
        )


async def test_xml_and_palette_and_details_entry() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_snapshots(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlScreen))
        assert "<domainsnapshot>" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.1)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Snapshots: manual revert" in titles and "Snapshots: delete" in titles
        await pilot.press("escape")
        await pilot.pause(0.1)
        list_titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Domain: snapshots" in list_titles
        await pilot.press("enter")  # details
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailsScreen", 5)
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, SnapshotsScreen), 5)


def test_snapshots_screen_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_snapshots(pilot)
        await pilot.press("r")  # the refusal, rendered
        await pilot.pause(0.2)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


async def test_read_only_host_shows_the_tree_without_write_keys() -> None:
    app = VirtTUIApp([HostSpec(URI)], readonly=True, refresh=3600.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_snapshots(pilot, seeded=False)
        assert screen.tree_data is not None
        for action in ("create", "revert", "manual_revert", "delete"):
            assert screen.check_action(action, ()) is None
        await pilot.press("c")
        await pilot.pause(0.1)
        assert app.screen is screen  # no form on a read-only connection


async def test_manual_revert_from_the_refused_revert(tmp_path: Path) -> None:
    """Shut off, external snapshot: r explains why libvirt cannot and offers the manual revert;
    confirmed, qemu-img makes the new overlay and the domain runs on it; the old one stays."""
    base, top = tmp_path / "base.qcow2", tmp_path / "top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "1M"], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)],
        check=True,
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)

        def prepare(conn: libvirt.virConnect) -> None:
            dom = conn.lookupByUUIDString(UUID)
            dom.destroy()
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            before = xml.replace("/guest/diskimage1", str(base))
            conn.defineXML(xml.replace("/guest/diskimage1", str(top)))
            dom.snapshotCreateXML(
                "<domainsnapshot><name>ext</name><state>disk-snapshot</state>"
                "<creationTime>100</creationTime><memory snapshot='no'/><disks>"
                "<disk name='vda' snapshot='external' type='file'><driver type='qcow2'/>"
                f"<source file='{top}'/></disk></disks>{before}</domainsnapshot>",
                libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
                | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT,
            )

        app.hosts[URI].call(prepare)
        await pilot.pause(0.3)
        screen = await open_snapshots(pilot, seeded=False)
        assert screen.selected_name() == "ext"
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 10)
        text = screen_text(app)
        assert "Revert by hand" in text and "Kept (not deleted)" in text
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: screen.tree_data is not None and "revert" in screen.tree_data.disks[0].source,
            15,
        )
        new = Path(screen.tree_data.disks[0].source)  # type: ignore[union-attr]
        assert new.parent == tmp_path and new.exists() and top.exists() and base.exists()
        assert "Reverted by hand" in screen_text(app)
