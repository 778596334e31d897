"""The undefine dialog with storage that other domains use, on two private test-driver hosts.

A used entry is unticked, labelled "used by NAME" (NAME on HOST for another connection) and
cannot be ticked by key, mouse or code; ticked and unticked rows differ by glyph, not only colour.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, SelectionList

from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import (
    NODE,
    URI,
    choose,
    exists,
    on_screen,
    ready,
    volumes,
)
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.screens.domain import actions as ui
from virttui.screens.domain.action_dialogs import UndefineScreen


def _disk(path: str, target: str, device: str = "disk") -> str:
    ro = "<readonly/>" if device == "cdrom" else ""
    return (
        f"<disk type='file' device='{device}'><source file='{path}'/>"
        f"<target dev='{target}'/>{ro}</disk>"
    )


def _domain(name: str, disks: str) -> str:
    return (
        f"<domain type='test'><name>{name}</name><memory>1024</memory>"
        f"<os><type>hvm</type></os><devices>{disks}</devices></domain>"
    )


def make_app(tmp_path: Path, *, ascii_glyphs: bool = False) -> tuple[VirtTUIApp, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    other = tmp_path / "other-node.xml"
    shutil.copy(NODE, other)
    other_uri = node_uri(other)
    app = VirtTUIApp([HostSpec(URI), HostSpec(other_uri)], refresh=30.0, ascii_glyphs=ascii_glyphs)
    return app, other_uri


async def setup(pilot: Pilot[Any], other_uri: str) -> tuple[VirtTUIApp, str, str, str]:
    """ "gone" (own disk, a disk "keeper" shares, an ISO "far" on the other host uses)."""
    app = await ready(pilot)
    await wait_until(pilot, lambda: bool(app.store.hosts[other_uri].rows), 10)

    def define(conn: libvirt.virConnect) -> tuple[str, str, str]:
        pool = conn.storagePoolLookupByName("default-pool")
        own, shared = (
            pool.createXML(f"<volume><name>{n}</name><capacity>1048576</capacity></volume>").path()
            for n in ("gone.img", "shared.img")
        )
        conn.defineXML(
            _domain(
                "gone",
                _disk(own, "vda") + _disk(shared, "vdb") + _disk("/iso/x.iso", "sda", "cdrom"),
            )
        )
        conn.defineXML(_domain("keeper", _disk(shared, "vda")))
        return own, shared, conn.lookupByName("gone").UUIDString()

    own, shared, uuid = app.hosts[URI].call(define)
    app.hosts[other_uri].call(
        lambda c: c.defineXML(_domain("far", _disk("/iso/x.iso", "sda", "cdrom")))
    )
    return app, own, shared, uuid


def row_line(text: str, path: str) -> str:
    """The checklist row naming `path`, with the lines its prompt wrapped onto."""
    inner = [ln.split("█")[1].strip() if ln.count("█") >= 2 else "" for ln in text.splitlines()]
    (i,) = [n for n, ln in enumerate(inner) if path in ln]
    row = [inner[i]]
    for ln in inner[i + 1 :]:  # continuation lines have no box
        if not ln or ln.startswith("["):
            break
        row.append(ln)
    return " ".join(row)


def squeezed(text: str) -> str:
    return "".join(text.split())


async def test_used_storage_is_labelled_and_cannot_be_ticked(tmp_path: Path) -> None:
    app, other_uri = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        app, own, shared, uuid = await setup(pilot, other_uri)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, uuid), "U")
        dialog = await on_screen(pilot, UndefineScreen)
        checklist = dialog.query_one(SelectionList)
        assert checklist.selected == [own]  # only the unshared disk starts ticked
        text = screen_text(app)
        assert "used by keeper" in row_line(text, shared)
        assert squeezed(f"used by far on {other_uri}") in squeezed(row_line(text, "/iso/x.iso"))
        assert "used by" not in row_line(text, own)

        shared_index = 1
        assert checklist.get_option_at_index(shared_index).disabled
        checklist.focus()
        await pilot.pause()
        for _ in range(3):  # the cursor never rests on a disabled row
            await pilot.press("down")
            assert checklist.highlighted != shared_index
        checklist.highlighted = shared_index  # even when put there, space does not tick it
        await pilot.press("space", "enter")
        await pilot.click(checklist, offset=(1, shared_index))  # nor a click on its box
        await pilot.pause()
        assert shared not in checklist.selected
        checklist.select(shared)  # nor code
        checklist.toggle(shared)
        checklist.select_all()
        assert sorted(checklist.selected) == [own]
        assert dialog.choice().delete_volumes == (own,)

        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: not exists(app, "gone"))
        await wait_until(pilot, lambda: "gone.img" not in volumes(app))
        assert "shared.img" in volumes(app) and exists(app, "keeper")


@pytest.mark.parametrize(("ascii_glyphs", "ticked"), [(False, "[✓]"), (True, "[x]")])
async def test_ticked_and_unticked_differ_by_glyph(
    tmp_path: Path, ascii_glyphs: bool, ticked: str
) -> None:
    app, other_uri = make_app(tmp_path, ascii_glyphs=ascii_glyphs)
    async with app.run_test(size=(120, 30)) as pilot:
        app, own, shared, uuid = await setup(pilot, other_uri)
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, uuid), "U")
        dialog = await on_screen(pilot, UndefineScreen)
        text = screen_text(app)
        assert row_line(text, own).strip().startswith(ticked)
        assert row_line(text, shared).strip().startswith("[ ]")
        assert "[ ] Also delete the managed save image" in text
        box = dialog.query_one("#undefine-snapshots", Checkbox)
        box.disabled = False
        box.value = True
        await pilot.pause()
        assert f"{ticked} Also delete snapshot metadata" in screen_text(app)
        assert "▐X▌" not in screen_text(app)
