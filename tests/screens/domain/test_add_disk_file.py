"""Add disk → "New image file at Path" (Pilot, test driver + real qemu-img): the file is made
with the form's format and size and attached, with no pool involved; an existing file is
refused with the reason and left as it was."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from textual.widgets import Input, Select

from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import (
    INACTIVE,
    URI,
    UUID,
    call,
    choose,
    make_app,
    on_screen,
    ready,
    record_notifications,
)
from virttui.screens.domain import edit
from virttui.screens.domain.hardware_dialogs import AddDiskScreen


def disk_files(app: Any) -> list[tuple[str, str]]:
    xml = call(app, lambda c: c.lookupByName("test").XMLDesc(INACTIVE))
    out = []
    for disk in ET.fromstring(xml).iterfind("devices/disk"):
        source, driver = disk.find("source"), disk.find("driver")
        if source is not None and source.get("file"):
            out.append(
                (source.get("file", ""), driver.get("type", "") if driver is not None else "")
            )
    return out


async def test_new_image_file_at_path(tmp_path: Path) -> None:
    path = tmp_path / "new disk é.qcow2"
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "d")
        form = await on_screen(pilot, AddDiskScreen)
        await click_on(pilot, "#disk-new-file")
        await pilot.pause()
        path_input = form.query_one("#disk-path", Input)
        assert not path_input.disabled and not form.query_one("#disk-size", Input).disabled
        assert form.query_one("#disk-volume", Input).disabled
        assert path_input.value.startswith("/var/lib/libvirt/images/")  # a suggestion
        assert form.query_one("#disk-format", Select).value == "qcow2"
        path_input.value = str(path)
        form.query_one("#disk-size", Input).value = "0.5"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: (str(path), "qcow2") in disk_files(app), 10)
    got = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True
        ).stdout
    )
    assert got["format"] == "qcow2" and got["virtual-size"] == 512 << 20


async def test_new_image_file_refuses_an_existing_file(tmp_path: Path) -> None:
    taken = tmp_path / "taken.img"
    taken.write_bytes(b"keep")
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        seen = record_notifications(app)
        before = disk_files(app)
        await choose(pilot, lambda: edit.open_edit_menu(app, URI, UUID), "d")
        form = await on_screen(pilot, AddDiskScreen)
        await click_on(pilot, "#disk-new-file")
        await pilot.pause()
        form.query_one("#disk-path", Input).value = str(taken)
        form.query_one("#disk-format", Select).value = "raw"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("exists" in m for _t, m, _s in seen), 10)
        assert taken.read_bytes() == b"keep"
        assert disk_files(app) == before
