"""Pilot tests of the Actions and Edit menus and their dialogs on a private test-driver node.

Each test opens its own `test:///<node file>` (a private in-memory host), so the checks go through
the app's own connection (`host.call`): another open of the same file would see a fresh copy.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import libvirt
import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, SelectionList, TextArea

from tests import paths
from tests.pilot_utils import click_on, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain.xml_parse import parse_domain_xml
from virttui.core.host.nodexml import node_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain import actions as ui
from virttui.screens.domain import edit
from virttui.screens.domain.action_dialogs import (
    CloneProgressScreen,
    PickScreen,
    PromptScreen,
    UndefineScreen,
)
from virttui.screens.domain.action_menu import ActionMenuScreen
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.screens.domain.edit_dialogs import FormScreen

NODE = paths.CORE_DATA / "test_node.xml"
URI = node_uri(NODE)
UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # "test", running
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
T = TypeVar("T")


def make_app(readonly: bool = False) -> VirtTUIApp:
    return VirtTUIApp([HostSpec(URI)], readonly=readonly, refresh=30.0)


def call(app: VirtTUIApp, fn: Callable[[libvirt.virConnect], T]) -> T:
    return app.hosts[URI].call(fn)


def dom_of(app: VirtTUIApp, name: str = "test") -> Callable[[libvirt.virConnect], Any]:
    return lambda c: c.lookupByName(name)


def state(app: VirtTUIApp, name: str = "test") -> int:
    return call(app, lambda c: c.lookupByName(name).state()[0])


def exists(app: VirtTUIApp, name: str) -> bool:
    return name in call(app, lambda c: [d.name() for d in c.listAllDomains(0)])


def record_notifications(app: VirtTUIApp) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    original = app.notify

    def notify(message: str, *, title: str = "", severity: str = "information", **kw: Any) -> None:
        seen.append((title, message, severity))
        original(message, title=title, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return seen


async def ready(pilot: Pilot[Any]) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: bool(app.store.hosts[URI].rows), 10)
    return app


async def on_screen(pilot: Pilot[Any], kind: type[Screen[Any]]) -> Any:
    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, kind) and screen.is_mounted and bool(screen.children)

    await wait_until(pilot, shown, 5)
    await pilot.pause()
    return pilot.app.screen


async def choose(pilot: Pilot[Any], opener: Callable[[], None], key: str) -> None:
    """Open a menu and press an entry's key."""
    opener()
    await on_screen(pilot, ActionMenuScreen)
    await pilot.press(key)


async def answer_prompt(pilot: Pilot[Any], value: str) -> None:
    prompt = await on_screen(pilot, PromptScreen)
    prompt.query_one(Input).value = value
    await pilot.press("enter")


def pool_domain(conn: libvirt.virConnect, name: str) -> list[str]:
    """A shut-off domain with two volume disks in default-pool; returns the volume paths."""
    pool = conn.storagePoolLookupByName("default-pool")
    paths = [
        pool.createXML(
            f"<volume><name>{name}{s}.img</name><capacity>{1 << 20}</capacity></volume>"
        ).path()
        for s in ("", "-data")
    ]
    conn.defineXML(
        f"""<domain type='test'><name>{name}</name><memory>1024</memory>
        <os><type>hvm</type></os><devices>
        <disk type='file' device='disk'><source file='{paths[0]}'/><target dev='vda'/></disk>
        <disk type='file' device='disk'><source file='{paths[1]}'/><target dev='vdb'/></disk>
        </devices></domain>"""
    )
    return paths


def volumes(app: VirtTUIApp) -> list[str]:
    return sorted(call(app, lambda c: c.storagePoolLookupByName("default-pool").listVolumes()))


# ---------------------------------------------------------------------------------- menus
async def test_actions_menu_lists_what_applies_and_escape_does_nothing() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        await pilot.press("a")  # the list's cursor is on "test" (running)
        menu = await on_screen(pilot, ActionMenuScreen)
        ids = [e[0] for e in menu.entries]
        assert {"reset", "save", "managed_save", "undefine", "shutdown"} <= set(ids)
        assert not {"start", "rename", "clone", "remove_managed_save"} & set(ids)
        text = screen_text(app)
        assert "Actions: test" in text and "Reset" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, DomainsScreen)
        assert state(app) == libvirt.VIR_DOMAIN_RUNNING
        await pilot.press("e")
        menu = await on_screen(pilot, ActionMenuScreen)
        assert "Edit: test" in screen_text(app)
        assert {"notes", "resources", "add_disk", "remove_nic"} <= {e[0] for e in menu.entries}
        assert "eject_media" not in {e[0] for e in menu.entries}  # no CD-ROM


async def test_reset_asks_first_with_cancel_default() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "x")
        await on_screen(pilot, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "cancel"
        assert "test" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert not any(t == "Reset" for t, _m, _s in notes)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "x")
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: any(t == "Reset" for t, _m, _s in notes))


async def test_save_to_file_and_restore(tmp_path: Path) -> None:
    target = str(tmp_path / "test.save")
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "v")
        prompt = await on_screen(pilot, PromptScreen)
        assert prompt.query_one(Input).value == "/var/lib/libvirt/qemu/save/test.save"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert state(app) == libvirt.VIR_DOMAIN_RUNNING
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "v")
        await answer_prompt(pilot, target)
        await wait_until(pilot, lambda: state(app) == libvirt.VIR_DOMAIN_SHUTOFF)
        assert Path(target).is_file()
        ui.run_domain_action(app, URI, UUID, "restore")
        await answer_prompt(pilot, target)
        await wait_until(pilot, lambda: state(app) == libvirt.VIR_DOMAIN_RUNNING)


async def test_managed_save_then_remove_it() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)

        def has_image() -> bool:
            return bool(call(app, lambda c: c.lookupByName("test").hasManagedSaveImage(0)))

        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "M")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not has_image()
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "M")
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, has_image)
        assert state(app) == libvirt.VIR_DOMAIN_SHUTOFF
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "X")
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: not has_image())


async def test_autostart_toggle_and_rename_when_shut_off() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)

        def autostart() -> bool:
            return bool(call(app, lambda c: c.lookupByName("test").autostart()))

        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "A")
        await wait_until(pilot, autostart)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "A")
        await wait_until(pilot, lambda: not autostart())
        # Rename is offered only shut off; asked anyway, it says why not.
        notes = record_notifications(app)
        ui.run_domain_action(app, URI, UUID, "rename")
        await wait_until(pilot, lambda: any("does not apply" in m for _t, m, _s in notes))
        call(app, lambda c: c.lookupByName("test").destroy())
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "n")
        await answer_prompt(pilot, "renamed")
        await wait_until(pilot, lambda: exists(app, "renamed"))
        assert not exists(app, "test")


async def test_clone_reports_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[float | None, str]] = []
    original = CloneProgressScreen.update_progress

    def spy(self: CloneProgressScreen, fraction: float | None, text: str) -> None:
        seen.append((fraction, text))
        original(self, fraction, text)

    monkeypatch.setattr(CloneProgressScreen, "update_progress", spy)
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        call(app, lambda c: pool_domain(c, "src"))
        src = call(app, lambda c: c.lookupByName("src").UUIDString())
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, src), "c")
        prompt = await on_screen(pilot, PromptScreen)
        assert prompt.query_one(Input).value == "src-clone"
        await pilot.press("enter")
        await wait_until(pilot, lambda: exists(app, "src-clone"))
        await wait_until(pilot, lambda: not isinstance(app.screen, CloneProgressScreen))
        assert seen and seen[-1][0] == 1.0  # all copied (done == total)
        assert {"src-clone.img", "src-clone-data.img"} <= set(volumes(app))


async def test_undefine_cancel_then_delete_exactly_the_ticked_volume() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        main, data = call(app, lambda c: pool_domain(c, "gone"))
        uuid = call(app, lambda c: c.lookupByName("gone").UUIDString())
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, uuid), "U")
        dialog = await on_screen(pilot, UndefineScreen)
        assert app.focused is not None and app.focused.id == "cancel"
        text = screen_text(app)
        assert "Undefine gone?" in text and main in text and data in text
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert exists(app, "gone")
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, uuid), "U")
        dialog = await on_screen(pilot, UndefineScreen)
        checklist = dialog.query_one(SelectionList)
        assert sorted(checklist.selected) == sorted([main, data])  # writable disks ticked
        checklist.deselect(main)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: not exists(app, "gone"))
        await wait_until(pilot, lambda: "gone-data.img" not in volumes(app))
        assert "gone.img" in volumes(app)


async def test_read_only_disables_menus_and_actions() -> None:
    async with make_app(readonly=True).run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        screen = app.domains_screen()
        assert screen is not None
        assert not screen.check_action("actions_menu", ())
        assert not screen.check_action("edit_menu", ())
        await pilot.press("a", "e")
        await pilot.pause(0.3)
        assert isinstance(app.screen, DomainsScreen)
        notes = record_notifications(app)
        ui.run_domain_action(app, URI, UUID, "reset")
        edit.run_edit(app, URI, UUID, "notes")
        await pilot.pause(0.3)
        assert isinstance(app.screen, DomainsScreen)
        assert [s for _t, _m, s in notes] == ["warning", "warning"]


# ---------------------------------------------------------------------------------- edit
def inactive(app: VirtTUIApp, name: str = "test") -> Any:
    return parse_domain_xml(call(app, lambda c: c.lookupByName(name).XMLDesc(INACTIVE)))


async def submit_form(pilot: Pilot[Any], values: dict[str, str]) -> FormScreen[Any]:
    form = await on_screen(pilot, FormScreen)
    for selector, value in values.items():
        widget = form.query_one(selector)
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value
    await pilot.press("ctrl+s")
    return form


def finding_for(form: FormScreen[Any], widget_id: str) -> str:
    """The finding shown right under input `widget_id` ("" if none): the next sibling of the
    input's field row."""
    row = form.query_one(f"#{widget_id}").parent
    assert row is not None and row.parent is not None
    siblings = list(row.parent.children)
    after = siblings[siblings.index(row) + 1 :]
    if not after or not after[0].has_class("field-finding"):
        return ""
    return str(after[0].render())


async def test_title_and_description_cancel_then_save() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "t")
        await on_screen(pilot, FormScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert inactive(app).title == ""
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "t")
        await submit_form(
            pilot, {"#notes-title": "[b]web[/b] front", "#notes-description": "line 1\nline 2"}
        )
        await wait_until(pilot, lambda: inactive(app).title == "[b]web[/b] front")
        assert inactive(app).description == "line 1\nline 2"


async def test_memory_vcpus_boot_order_and_cpu_mode() -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "m")
        form = await submit_form(pilot, {"#res-memory": "9000"})
        assert "cannot exceed" in finding_for(form, "res-memory")
        await submit_form(pilot, {"#res-memory": "1024", "#res-vcpus": "1"})
        await wait_until(pilot, lambda: inactive(app).memory_current_kib == 1024 * 1024)
        await wait_until(pilot, lambda: any(t == "Memory and vCPUs" for t, _m, _s in notes))
        message = next(m for t, m, _s in notes if t == "Memory and vCPUs")
        assert "memory 1024 MiB: applied now" in message and "vCPUs 1:" in message
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "b")
        await submit_form(pilot, {"#boot-order": "cdrom,hd"})
        await wait_until(pilot, lambda: inactive(app).boot_devices == ("cdrom", "hd"))
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "u")
        await submit_form(pilot, {"#cpu-mode": "custom", "#cpu-model": "qemu64"})
        await wait_until(pilot, lambda: inactive(app).cpu.model == "qemu64")
        assert inactive(app).cpu.mode == "custom"


async def test_add_and_remove_hardware() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "d")
        await submit_form(pilot, {"#disk-volume": "extra.qcow2", "#disk-size": "0.001"})
        await wait_until(pilot, lambda: [d.target for d in inactive(app).disks] == ["vda", "vdb"])
        assert "extra.qcow2" in volumes(app)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "n")
        await on_screen(pilot, FormScreen)
        await click_on(pilot, "#nic-bridge")
        await submit_form(pilot, {"#nic-bridge-name": "br0", "#nic-model": "e1000e"})
        await wait_until(pilot, lambda: len(inactive(app).nics) == 2)
        assert inactive(app).nics[1].source_bridge == "br0"
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "l")
        await wait_until(pilot, lambda: bool(inactive(app).consoles))
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "g")
        await submit_form(pilot, {"#gfx-password": "s3cret"})
        await wait_until(pilot, lambda: bool(inactive(app).graphics))
        assert "s3cret" not in screen_text(app)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "o")
        await submit_form(pilot, {"#cdrom-path": "/iso/x.iso"})
        await wait_until(pilot, lambda: any(d.device == "cdrom" for d in inactive(app).disks))
        # Removing asks which device, then confirms naming it; Cancel keeps it.
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "D")
        await on_screen(pilot, PickScreen)
        await pilot.press("down", "enter")  # vdb
        await on_screen(pilot, ConfirmScreen)
        assert "Remove disk vdb" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "vdb" in [d.target for d in inactive(app).disks]
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "D")
        await on_screen(pilot, PickScreen)
        await pilot.press("down", "enter")
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: "vdb" not in [d.target for d in inactive(app).disks])
        for key, moves in (("N", ["down"]), ("G", []), ("L", [])):  # the bridge NIC is 2nd
            await choose(pilot, lambda k=key: edit.open_edit_menu(app, URI, UUID), key)
            await on_screen(pilot, PickScreen)
            await pilot.press(*moves, "enter")
            await on_screen(pilot, ConfirmScreen)
            await click_on(pilot, "#confirm")
            await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen))
        await wait_until(pilot, lambda: not inactive(app).graphics)
        d = inactive(app)
        assert len(d.nics) == 1 and not any(c.kind == "serial" for c in d.chardevs)
        xml = call(app, lambda c: c.lookupByName("test").XMLDesc(INACTIVE))
        assert ET.fromstring(xml).find("devices/interface/source").get("network") == "default"


async def test_save_over_an_existing_file_asks_first(tmp_path: Path) -> None:
    target = tmp_path / "precious.save"
    target.write_bytes(b"not yours to overwrite\x00\xff")
    before = target.read_bytes()
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "v")
        await answer_prompt(pilot, str(target))
        confirm_screen = await on_screen(pilot, ConfirmScreen)
        assert "already exists" in str(confirm_screen.question)
        assert str(target) in str(confirm_screen.question)
        await pilot.press("enter")  # Cancel is the default
        await pilot.pause(0.3)
        assert target.read_bytes() == before
        assert state(app) == libvirt.VIR_DOMAIN_RUNNING
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, UUID), "v")
        await answer_prompt(pilot, str(target))
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: state(app) == libvirt.VIR_DOMAIN_SHUTOFF)
        assert target.read_bytes() != before


async def test_add_existing_disk_takes_the_probed_format_never_qcow2_by_default() -> None:
    """The test driver's pool answers for these paths (qemu-img cannot open them here)."""
    from textual.widgets import RadioButton, Select

    from virttui.screens.domain.hardware_dialogs import AddDiskScreen

    def make_volume(name: str, fmt: str) -> str:
        xml = (
            f"<volume><name>{name}</name><capacity>{1 << 20}</capacity>"
            f"<target><format type='{fmt}'/></target></volume>"
        )
        return call(app, lambda c: c.storagePoolLookupByName("default-pool").createXML(xml).path())

    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        qcow2 = make_volume("thin.qcow2", "qcow2")
        raw = make_volume("plain.img", "raw")
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "d")
        form = await on_screen(pilot, AddDiskScreen)
        fmt = form.query_one("#disk-format", Select)
        assert fmt.value == "qcow2"  # a new volume: we create it, qcow2 is ours to choose
        await click_on(pilot, "#disk-existing")
        await pilot.pause()
        assert fmt.value == "detect"
        path = form.query_one("#disk-path", Input)
        path.value = qcow2
        await wait_until(pilot, lambda: fmt.value == "qcow2" and form.guess is not None)
        path.value = raw
        await wait_until(pilot, lambda: fmt.value == "raw" and form.guess is not None)
        assert "storage pool default-pool" in screen_text(app)
        await click_on(pilot, "#disk-new")
        await pilot.pause()
        assert fmt.value == "qcow2"
        form.query_one("#disk-existing", RadioButton).value = True
        await pilot.pause()
        assert fmt.value == "raw"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(inactive(app).disks) == 2)
        xml = call(app, lambda c: c.lookupByName("test").XMLDesc(INACTIVE))
        added = ET.fromstring(xml).findall("devices/disk")[-1]
        assert added.find("source").get("file") == raw
        assert added.find("driver").get("type") == "raw"


def _graphics(app: VirtTUIApp) -> list[tuple[str, str, str]]:
    xml = call(
        app,
        lambda c: c.lookupByName("test").XMLDesc(INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE),
    )
    out = []
    for g in ET.fromstring(xml).iterfind("devices/graphics"):
        listen = g.find("listen")
        address = listen.get("address", "") if listen is not None else g.get("listen", "")
        out.append((g.get("type", ""), address, g.get("passwd", "")))
    return out


def _define_graphics(app: VirtTUIApp, *graphics: str) -> None:
    def define(c: libvirt.virConnect) -> None:
        root = ET.fromstring(
            c.lookupByName("test").XMLDesc(INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
        )
        devices = root.find("devices")
        for g in devices.findall("graphics"):
            devices.remove(g)
        for xml in graphics:
            devices.append(ET.fromstring(xml))
        c.defineXML(ET.tostring(root, encoding="unicode"))

    call(app, define)


async def test_graphics_second_of_a_type_offers_edit_and_remove_picks_the_exact_one() -> None:
    local = "<graphics type='vnc' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>"
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        _define_graphics(app, local)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "g")
        await on_screen(pilot, FormScreen)  # Add graphics
        await submit_form(
            pilot, {"#gfx-type": "vnc", "#gfx-listen": "0.0.0.0", "#gfx-password": "s3cret"}
        )
        await on_screen(pilot, ConfirmScreen)
        assert "already has a VNC display (listen 127.0.0.1, port auto)" in str(app.screen.question)
        await click_on(pilot, "#confirm")
        await on_screen(pilot, FormScreen)  # Edit that display
        assert "s3cret" not in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _graphics(app) == [("vnc", "0.0.0.0", "s3cret")])
        # Two VNC displays (what the old Add graphics could write): remove the second.
        await wait_until(pilot, lambda: isinstance(app.screen, DomainsScreen))
        _define_graphics(
            app,
            local,
            "<graphics type='vnc' autoport='yes' passwd='pw'>"
            "<listen type='address' address='0.0.0.0'/></graphics>",
        )
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "G")
        pick = await on_screen(pilot, PickScreen)
        assert [label for _i, label in pick.items] == [
            "VNC 127.0.0.1 auto",
            "VNC 0.0.0.0 auto, password set",
        ]
        await pilot.press("down", "enter")
        await on_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: _graphics(app) == [("vnc", "127.0.0.1", "")])


async def test_a_change_refused_live_is_reported_as_a_warning() -> None:
    """The severity comes from where libvirt refused the live part (the job notes it), so an
    edit that landed only in the config is a warning, a full success is information."""
    from virttui.core.domain.action_result import AFFECT_LIVE, apply_live_else_config
    from virttui.core.facade.host import HostFacade
    from virttui.screens.common.ui_jobs import apply_and_report

    def edit_job(refuse_live: bool) -> Callable[[HostFacade], list[str]]:
        def edit(dom: libvirt.virDomain) -> list[str]:
            def set_it(flags: int) -> None:
                if flags & AFFECT_LIVE and refuse_live:
                    raise libvirt.libvirtError("cannot change this while running")

            return ["thing " + apply_live_else_config(dom, "set", set_it).describe()]

        # An edit of the facade's kind, reaching the domain the way its methods do.
        return lambda f: f.host.call(lambda conn: edit(conn.lookupByUUIDString(UUID)))

    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        notes = record_notifications(app)
        apply_and_report(app, URI, UUID, "Refused", "test", edit_job(True))
        await wait_until(pilot, lambda: len(notes) == 1, 10)
        apply_and_report(app, URI, UUID, "Applied", "test", edit_job(False))
        await wait_until(pilot, lambda: len(notes) == 2, 10)
    assert [(t, s) for t, _m, s in notes] == [("Refused", "warning"), ("Applied", "information")]
    assert "not possible live" in notes[0][1]


async def test_lifecycle_job_on_a_host_gone_meanwhile_fails_that_domain_only() -> None:
    """Targets chosen, then their host removed: the job reports it per domain, the others run."""
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        call(app, lambda c: c.lookupByName("test").destroy())
        notes = record_notifications(app)
        app.run_lifecycle_now("start", [("test:///gone", "0000"), (URI, UUID)])
        await wait_until(pilot, lambda: bool(notes), 10)
        await wait_until(pilot, lambda: state(app) == libvirt.VIR_DOMAIN_RUNNING, 10)
    ((title, message, severity),) = notes
    assert (title, severity) == ("Start: 1 of 2 failed", "error")
    assert "0000: test:///gone: no such connection" in message
    assert "test: " in message
