"""The Actions and Edit menus against qemu:///system with the tiny guest, driven through the UI.

Storage for clone and undefine lives in a transient dir pool over a temporary directory, created
and destroyed here; every domain created is removed again.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import SelectionList

from tests.guestlib import (
    SYSTEM_URI,
    defined_guest,
    qcow2_volume,
    remove_domain,
    running_guest,
    unique_name,
)
from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import answer_prompt, choose, on_screen, submit_form
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain import actions as ui
from virttui.screens.domain import edit
from virttui.screens.domain.action_dialogs import CloneProgressScreen, UndefineScreen

PREFIX = "vt-ui"
S = libvirt


def make_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=2.0)


async def started(pilot: Pilot[Any], uuid: str) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await wait_until(pilot, lambda: app.store.row(SYSTEM_URI, uuid) is not None, 30)
    return app


async def until(pilot: Pilot[Any], cond: Callable[[], object], timeout: float = 60) -> None:
    await wait_until(pilot, cond, timeout, step=0.2)


async def test_save_to_file_and_restore_through_the_ui(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom:
        uuid, name = dom.UUIDString(), dom.name()
        target = Path(ui.SAVE_DIR) / f"{name}.save"
        try:
            async with make_app().run_test(size=(100, 30)) as pilot:
                app = await started(pilot, uuid)
                await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "v")
                await answer_prompt(pilot, str(target))  # the proposed default
                await until(pilot, lambda: dom.state()[0] == S.VIR_DOMAIN_SHUTOFF)
                assert target.is_file()
                ui.run_domain_action(app, SYSTEM_URI, uuid, "restore")
                await answer_prompt(pilot, str(target))
                await until(pilot, lambda: dom.state()[0] == S.VIR_DOMAIN_RUNNING)
                assert dom.state()[1] == S.VIR_DOMAIN_RUNNING_RESTORED
        finally:
            target.unlink(missing_ok=True)


async def test_managed_save_then_start_resumes(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom:
        uuid = dom.UUIDString()
        async with make_app().run_test(size=(100, 30)) as pilot:
            app = await started(pilot, uuid)
            await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "M")
            await on_screen(pilot, ConfirmScreen)
            await click_on(pilot, "#confirm")
            await until(pilot, lambda: dom.hasManagedSaveImage(0))
            assert dom.state()[0] == S.VIR_DOMAIN_SHUTOFF
            await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "s")
            await until(pilot, lambda: dom.state()[0] == S.VIR_DOMAIN_RUNNING)
            assert dom.state()[1] == S.VIR_DOMAIN_RUNNING_RESTORED
            assert not dom.hasManagedSaveImage(0)


async def test_clone_with_progress_into_a_temp_pool(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[float | None, str]] = []
    original = CloneProgressScreen.update_progress

    def spy(self: CloneProgressScreen, fraction: float | None, text: str) -> None:
        seen.append((fraction, text))
        original(self, fraction, text)

    monkeypatch.setattr(CloneProgressScreen, "update_progress", spy)
    src_disk = qcow2_volume(temp_pool, "src.qcow2")
    with defined_guest(system_conn, src_disk, PREFIX) as src:
        uuid, name = src.UUIDString(), src.name()
        copy_name = f"{name}-clone"
        try:
            async with make_app().run_test(size=(100, 30)) as pilot:
                app = await started(pilot, uuid)
                await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "c")
                await answer_prompt(pilot, copy_name)
                await until(pilot, lambda: copy_name in system_conn.listDefinedDomains())
                await until(pilot, lambda: not isinstance(app.screen, CloneProgressScreen))
            # all copied (done == total), total > 0 (None when there is nothing to copy)
            assert seen and seen[-1][0] == 1.0
            temp_pool.refresh(0)
            clone = system_conn.lookupByName(copy_name)
            disk = ET.fromstring(clone.XMLDesc(0)).find("devices/disk/source").get("file")
            assert disk in [v.path() for v in temp_pool.listAllVolumes(0)] and disk != src_disk
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                remove_domain(system_conn.lookupByName(copy_name))


async def test_undefine_deletes_exactly_the_ticked_volume(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    ticked, kept = qcow2_volume(temp_pool, "ticked.qcow2"), qcow2_volume(temp_pool, "kept.qcow2")
    extra = (
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{kept}'/><target dev='vdb' bus='virtio'/></disk>"
    )
    with defined_guest(system_conn, ticked, PREFIX, extra) as dom:
        uuid, name = dom.UUIDString(), dom.name()
        async with make_app().run_test(size=(100, 30)) as pilot:
            app = await started(pilot, uuid)
            await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "U")
            dialog = await on_screen(pilot, UndefineScreen)
            checklist = dialog.query_one(SelectionList)
            assert sorted(checklist.selected) == sorted([ticked, kept])
            checklist.deselect(kept)
            await click_on(pilot, "#confirm")
            await until(pilot, lambda: name not in system_conn.listDefinedDomains())
        temp_pool.refresh(0)
        assert temp_pool.listVolumes() == ["kept.qcow2"]


async def test_title_memory_and_cdrom_media_on_a_running_guest(
    system_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    cdrom = (
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<target dev='hdc' bus='ide'/><readonly/></disk>"
    )
    iso = Path("/var/lib/libvirt/images") / f"{unique_name(PREFIX)}.iso"
    iso.write_bytes(b"\0" * 2048 * 16)
    try:
        with running_guest(system_conn, PREFIX, extra_devices=cdrom) as dom:
            uuid = dom.UUIDString()
            async with make_app().run_test(size=(100, 30)) as pilot:
                app = await started(pilot, uuid)
                await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "t")
                await submit_form(pilot, {"#notes-title": "web front [prod]"})
                await until(
                    pilot,
                    lambda: ET.fromstring(dom.XMLDesc(0)).findtext("title") == "web front [prod]",
                )
                assert ET.fromstring(dom.XMLDesc(S.VIR_DOMAIN_XML_INACTIVE)).findtext("title") == (
                    "web front [prod]"
                )
                await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "m")
                await submit_form(pilot, {"#res-memory": "96"})
                await until(pilot, lambda: dom.info()[2] == 96 * 1024, 30)
                await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "i")
                await submit_form(pilot, {"#media-path": str(iso)})

                def media() -> str | None:
                    src = ET.fromstring(dom.XMLDesc(0)).find("devices/disk[@device='cdrom']/source")
                    return None if src is None else src.get("file")

                await until(pilot, lambda: media() == str(iso), 30)
                await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "j")
                await pilot.press("enter")
                await until(pilot, lambda: media() is None, 30)
    finally:
        iso.unlink(missing_ok=True)
