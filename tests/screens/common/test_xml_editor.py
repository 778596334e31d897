"""The XML editor and the virtio switch with Pilot on a private test-driver host (a copy of
tests/core/data/test_node.xml: running domain `test`, network `default`, pool `default-pool`)
at 80x24: reached by X on the list; invalid XML keeps the text and names line:column; a rename
is refused; a valid change shows the diff and is defined; libvirt's refusal shows below the text
(text kept); escape asks when changed; the network and pool editors define; a volume is
read-only with the reason; the virtio dialog shows changes, warnings and diff, then applies."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from tests.pilot_utils import select_domain, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.xml_editor import DiffScreen, XmlEditorScreen, open_xml_editor
from virttui.screens.domain.actions import run_domain_action

NODE = Path(__file__).parents[2] / "core" / "data" / "test_node.xml"

IDE_DOMAIN = """<domain type='test'>
  <name>{name}</name>
  <memory unit='KiB'>131072</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/{name}-a.img'/>
      <target dev='hda' bus='ide'/>
      <boot order='1'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/guest/{name}-b.img'/>
      <target dev='sda' bus='sata'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='default'/>
      <model type='e1000'/>
    </interface>
  </devices>
</domain>
"""


def make_app(tmp_path: Path) -> tuple[VirtTUIApp, str]:
    node = tmp_path / "node.xml"
    shutil.copy(NODE, node)
    uri = node_uri(node)
    return VirtTUIApp([HostSpec(uri, label="test node")], refresh=3600.0), uri


def connected(app: VirtTUIApp) -> bool:
    hosts = app.store.hosts.values()
    return bool(hosts) and all(h.state == "connected" and h.rows for h in hosts)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


def call(app: VirtTUIApp, uri: str, fn: Any) -> Any:
    return app.hosts[uri].call(fn)


def inactive_xml(app: VirtTUIApp, uri: str, name: str) -> str:
    return call(app, uri, lambda c: c.lookupByName(name).XMLDesc(2))  # INACTIVE


async def open_editor(pilot: Pilot[Any], app: VirtTUIApp, uri: str) -> XmlEditorScreen:
    await wait_until(pilot, lambda: connected(app), 30)
    uuid = call(app, uri, lambda c: c.lookupByName("test").UUIDString())
    select_domain(app, uuid)
    await pilot.pause(0.1)
    await pilot.press("X")
    await wait_until(pilot, lambda: isinstance(app.screen, XmlEditorScreen), 20)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, XmlEditorScreen)
    return screen


def status(screen: XmlEditorScreen) -> str:
    widget = screen.query_one("#xml-editor-status", Static)
    return str(widget.render()) if widget.display else ""


async def test_invalid_xml_keeps_the_text_and_names_the_place(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app, uri)
        text = screen_text(app)
        assert "Edit XML: domain test on test node" in text
        assert "changes apply at next boot" in text  # `test` runs
        broken = editor.area.text.replace("<vcpu", "<vcpu <", 1)
        editor.area.load_text(broken)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, XmlEditorScreen)  # no diff: nothing to define
        line = broken[: broken.index("<vcpu <")].count("\n") + 1
        assert status(editor).startswith(f"line {line}:")
        assert "not well-formed" in status(editor)
        assert editor.area.text == broken  # exactly as typed
        assert editor.area.cursor_location[0] == line - 1
        # escape asks first when the text was changed; Cancel keeps the editor
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is editor and editor.area.text == broken
        # revert: back to libvirt's text, undoable
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        assert editor.area.text == editor.source.text
        await pilot.press("escape")  # unchanged now: leaves without asking
        await pilot.pause(0.2)
        assert not isinstance(app.screen, (XmlEditorScreen, ConfirmScreen))


async def test_rename_refused(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app, uri)
        renamed = editor.area.text.replace("<name>test</name>", "<name>other</name>")
        editor.area.load_text(renamed)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "name must stay 'test'" in status(editor)
        assert editor.area.text == renamed
        assert call(app, uri, lambda c: "other" not in [d.name() for d in c.listAllDomains()])


async def test_valid_change_is_defined_after_the_diff(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app, uri)
        before = inactive_xml(app, uri, "test")
        assert "<description>" not in before
        edited = editor.area.text.replace(
            "</name>", "</name>\n  <description>edited here</description>", 1
        )
        editor.area.load_text(edited)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        shown = screen_text(app)
        assert "Define test with these changes?" in shown
        assert "+  <description>edited here</description>" in shown
        assert "changes apply at next boot" in shown
        await pilot.press("escape")  # Cancel: nothing defined, text kept
        await settle(pilot)
        assert app.screen is editor and editor.area.text == edited
        assert "<description>" not in inactive_xml(app, uri, "test")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the diff's confirm key
        await settle(pilot)
        await wait_until(pilot, lambda: not isinstance(app.screen, XmlEditorScreen), 20)
        assert "<description>edited here</description>" in inactive_xml(app, uri, "test")


async def test_libvirt_refusal_keeps_the_text(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, app, uri)
        bad = editor.area.text.replace("bus='virtio'", "bus='bogus'", 1)
        assert bad != editor.area.text
        editor.area.load_text(bad)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: "validate" in status(editor), 20)
        assert app.screen is editor and editor.area.text == bad
        line = bad[: bad.index("bogus")].count("\n") + 1  # the schema check names no line
        assert f"first change is on line {line}" in status(editor)
        assert editor.area.cursor_location[0] == line - 1
        assert "bogus" not in inactive_xml(app, uri, "test")


async def test_network_and_pool_editors_and_read_only_volume(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app), 30)
        seen: list[str] = []
        original = app.notify

        def notify(message: str, **kw: Any) -> None:
            seen.append(str(message))
            original(message, **kw)

        app.notify = notify  # type: ignore[method-assign]
        # the network editor from the Networks screen's X
        await pilot.press("N")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False), 20)
        await settle(pilot)
        await pilot.press("X")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlEditorScreen), 20)
        editor = app.screen
        assert isinstance(editor, XmlEditorScreen) and editor.source.kind == "network"
        # the screen is pushed before it is drawn: under load its text comes a frame later
        await wait_until(pilot, lambda: "keeps its old configuration" in screen_text(app), 20)
        editor.area.load_text(editor.area.text.replace("stp='on'", "stp='off'"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: not isinstance(app.screen, (XmlEditorScreen, DiffScreen)))
        # the test driver shows only the running network's XML: the notification says it
        assert any("default: defined" in m and "old configuration" in m for m in seen)
        # the pool editor (defines) and a volume's read-only XML
        call(
            app,
            uri,
            lambda c: c.storagePoolLookupByName("default-pool").createXML(
                "<volume><name>xv.img</name><capacity>1048576</capacity></volume>", 0
            ),
        )
        open_xml_editor(app, uri, "pool", "default-pool")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlEditorScreen), 20)
        pool_editor = app.screen
        assert isinstance(pool_editor, XmlEditorScreen) and pool_editor.source.kind == "pool"
        pool_editor.area.load_text(pool_editor.area.text)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Nothing changed" in status(pool_editor)
        await pilot.press("escape")
        await settle(pilot)
        open_xml_editor(app, uri, "volume", "default-pool/xv.img")
        await wait_until(pilot, lambda: isinstance(app.screen, XmlEditorScreen), 20)
        vol = app.screen
        assert isinstance(vol, XmlEditorScreen) and vol.query_one(TextArea).read_only
        await wait_until(pilot, lambda: "cannot redefine a volume" in screen_text(app), 20)
        assert "Save" not in screen_text(app).splitlines()[-1]  # no save key in the footer


async def test_virtio_switch_dialog(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app), 30)
        uuid = call(
            app, uri, lambda c: c.defineXML(IDE_DOMAIN.format(name="ide-guest")).UUIDString()
        )
        run_domain_action(app, uri, uuid, "virtio")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), 20)
        await settle(pilot)
        shown = screen_text(app)
        assert "Switch to virtio: ide-guest" in shown
        assert "disk hda (ide) -> vda (virtio)" in shown
        assert "disk sda (sata) -> vdb (virtio)" in shown
        assert "NIC 52:54:00:aa:bb:01: e1000 -> virtio" in shown
        await pilot.press("ctrl+s")
        await settle(pilot)
        root = ET.fromstring(inactive_xml(app, uri, "ide-guest"))
        targets = {t.get("dev"): t.get("bus") for t in root.findall("devices/disk/target")}
        assert targets == {"vda": "virtio", "vdb": "virtio", "hdc": "ide"}
        assert root.find("devices/interface/model").get("type") == "virtio"
        # a second time: nothing to change, no dialog
        run_domain_action(app, uri, uuid, "virtio")
        await settle(pilot)
        await pilot.pause(0.3)
        assert not isinstance(app.screen, DiffScreen)


def test_control_characters_make_the_editor_read_only() -> None:
    """A C1 control (legal in XML 1.0) would be drawn as an escape: saving would change it."""
    from virttui.core.domain.xml_edit import XmlSource
    from virttui.screens.common.xml_editor import CONTROL_CHARS_REASON

    source = XmlSource("domain", "u", "d", "", "<domain><name>d\x9b</name></domain>")
    assert XmlEditorScreen("test:///default", source).readonly_reason == CONTROL_CHARS_REASON
    tabbed = XmlSource("domain", "u", "d", "", "<domain>\t<name>d</name></domain>")
    assert XmlEditorScreen("test:///default", tabbed).readonly_reason == ""
