"""Graphics displays, save-to-file overwrite and existing-disk formats against qemu:///system.

One defined (never started) tiny guest serves the graphics and disk tests, one running tiny guest
the save and live-port tests; both are module-scoped and removed afterwards, with every file made.
Each graphics test first puts the displays it starts from into the persistent config itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Select

from tests.guestlib import SYSTEM_URI, create_qcow2, running_guest, unique_name
from tests.pilot_utils import click_on, wait_until
from tests.screens.domain.test_actions_ui import answer_prompt, choose, submit_form
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.domain import actions as A
from virttui.core.domain import devices as D
from virttui.core.domain.action_result import DomainActionError
from virttui.core.storage.image_format import detect_format
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain import actions as ui
from virttui.screens.domain import edit
from virttui.screens.domain.action_dialogs import PickScreen
from virttui.screens.domain.domain_list import DomainsScreen
from virttui.screens.domain.hardware_dialogs import (
    AddDiskScreen,
    AddGraphicsScreen,
    EditGraphicsScreen,
)

PREFIX = "vt-gfx"
SECURE_INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
SLOW = 120.0  # generous: defineXML is quick since the /dev/kvm probe fix, even under load


@pytest.fixture(scope="module")
def defined(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(conn, PREFIX, start=False) as dom:
        yield dom


@pytest.fixture(scope="module")
def running(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(conn, PREFIX) as dom:
        yield dom


@pytest.fixture(scope="module")
def images() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vt-img-", dir="/var/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def config(dom: libvirt.virDomain) -> ET.Element:
    return ET.fromstring(dom.XMLDesc(SECURE_INACTIVE))


def displays(dom: libvirt.virDomain) -> list[dict[str, str]]:
    """The persistent <graphics> elements as dicts: type, listen, passwd, port, autoport."""
    out = []
    for g in config(dom).iterfind("devices/graphics"):
        listen = g.find("listen")
        out.append(
            {
                "type": g.get("type", ""),
                "listen": (listen.get("address", "") if listen is not None else "")
                or g.get("listen", ""),
                "passwd": g.get("passwd", ""),
                "port": g.get("port", ""),
                "autoport": g.get("autoport", ""),
                "keymap": g.get("keymap", ""),
            }
        )
    return out


def set_displays(conn: libvirt.virConnect, dom: libvirt.virDomain, *graphics: str) -> None:
    """Make the persistent config hold exactly these <graphics> elements (raw XML). Skipped
    when it already does (a define can wait minutes on a busy daemon)."""
    wanted = [ET.fromstring(xml) for xml in graphics]

    def key(g: ET.Element) -> tuple[str, str, str, str]:
        listen = g.find("listen")
        address = (listen.get("address", "") if listen is not None else "") or g.get("listen", "")
        return (g.get("type", ""), address, g.get("passwd", ""), g.get("autoport", ""))

    root = config(dom)
    if [key(g) for g in root.iterfind("devices/graphics")] == [key(g) for g in wanted]:
        return
    devices = root.find("devices")
    assert devices is not None
    for g in devices.findall("graphics"):
        devices.remove(g)
    devices.extend(wanted)
    conn.defineXML(ET.tostring(root, encoding="unicode"))


VNC_LOCAL = (
    "<graphics type='vnc' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>"
)
VNC_OPEN_PW = (
    "<graphics type='vnc' autoport='yes' passwd='hunter2'>"
    "<listen type='address' address='0.0.0.0'/></graphics>"
)


def make_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=2.0)


async def until(pilot: Pilot[Any], cond: Callable[[], object], timeout: float = SLOW) -> None:
    await wait_until(pilot, cond, timeout, step=0.2)


async def started(pilot: Pilot[Any], uuid: str) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await until(pilot, lambda: app.store.row(SYSTEM_URI, uuid) is not None, 120)
    return app


async def wait_screen(pilot: Pilot[Any], kind: type, timeout: float = SLOW) -> Any:
    """Like on_screen, with room for a slow daemon (the dialogs read the domain first)."""
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, kind)
            and pilot.app.screen.is_mounted
            and bool(pilot.app.screen.children)
        ),
        timeout,
    )
    await pilot.pause()
    return pilot.app.screen


# ---------------------------------------------------------------------------------- graphics
def test_second_vnc_is_refused_and_the_config_keeps_one(
    conn: libvirt.virConnect, defined: libvirt.virDomain
) -> None:
    set_displays(conn, defined, VNC_LOCAL)
    with pytest.raises(DomainActionError) as refused:
        D.add_graphics(defined, "vnc", listen="0.0.0.0", password="pw")
    assert refused.value.message == (
        f"{defined.name()} already has a VNC display (listen 127.0.0.1, port auto); edit it instead"
    )
    assert [(d["type"], d["listen"], d["passwd"]) for d in displays(defined)] == [
        ("vnc", "127.0.0.1", "")
    ]
    # A second type is fine, and the domain still starts-valid: one display of each type.
    D.add_graphics(defined, "spice", listen="0.0.0.0")
    assert sorted(d["type"] for d in displays(defined)) == ["spice", "vnc"]


async def test_remove_lists_each_display_and_removes_exactly_the_chosen_one(
    conn: libvirt.virConnect, defined: libvirt.virDomain
) -> None:
    spice = "<graphics type='spice' autoport='yes'><listen type='address' address='0.0.0.0'/></graphics>"
    uuid = defined.UUIDString()
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await started(pilot, uuid)
        # VNC + SPICE: remove the SPICE one.
        set_displays(conn, defined, VNC_LOCAL, spice)
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "G")
        pick = await wait_screen(pilot, PickScreen)
        assert [label for _id, label in pick.items] == ["VNC 127.0.0.1 auto", "SPICE 0.0.0.0 auto"]
        await pilot.press("down", "enter")
        await wait_screen(pilot, ConfirmScreen)
        assert "SPICE 0.0.0.0 auto" in str(app.screen.question)
        await click_on(pilot, "#confirm")
        await until(pilot, lambda: len(displays(defined)) == 1)
        assert [(d["type"], d["listen"]) for d in displays(defined)] == [("vnc", "127.0.0.1")]
        # Two VNC displays (what the old Add graphics wrote): the chosen 0.0.0.0 one goes, the
        # 127.0.0.1 one stays, and the password is never shown.
        await until(pilot, lambda: isinstance(app.screen, DomainsScreen))
        set_displays(conn, defined, VNC_LOCAL, VNC_OPEN_PW)
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "G")
        pick = await wait_screen(pilot, PickScreen)
        labels = [label for _id, label in pick.items]
        assert labels == ["VNC 127.0.0.1 auto", "VNC 0.0.0.0 auto, password set"]
        assert "hunter2" not in screen_text(app)
        await pilot.press("down", "enter")
        await wait_screen(pilot, ConfirmScreen)
        await click_on(pilot, "#confirm")
        await until(pilot, lambda: len(displays(defined)) == 1)
        assert [(d["type"], d["listen"], d["passwd"]) for d in displays(defined)] == [
            ("vnc", "127.0.0.1", "")
        ]


async def test_adding_a_second_vnc_offers_to_edit_the_existing_one(
    conn: libvirt.virConnect, defined: libvirt.virDomain
) -> None:
    set_displays(conn, defined, VNC_LOCAL)
    uuid = defined.UUIDString()
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await started(pilot, uuid)
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "g")
        await wait_screen(pilot, AddGraphicsScreen)
        await submit_form(
            pilot, {"#gfx-type": "vnc", "#gfx-listen": "0.0.0.0", "#gfx-password": "s3cret"}
        )
        await wait_screen(pilot, ConfirmScreen)
        question = str(app.screen.question)
        assert "already has a VNC display (listen 127.0.0.1, port auto)" in question
        await click_on(pilot, "#confirm")  # "Edit it"
        form = await wait_screen(pilot, EditGraphicsScreen)
        assert form.query_one("#gfx-listen", Input).value == "0.0.0.0"
        assert "s3cret" not in screen_text(app)
        await submit_form(pilot, {"#gfx-keymap": "de"})
        await until(pilot, lambda: displays(defined)[0]["listen"] == "0.0.0.0")
        assert displays(defined) == [
            {
                "type": "vnc",
                "listen": "0.0.0.0",
                "passwd": "s3cret",
                "port": "-1",
                "autoport": "yes",
                "keymap": "de",
            }
        ]
        # Edit again from the menu: a fixed port; an empty password field keeps the password.
        await until(pilot, lambda: isinstance(app.screen, DomainsScreen))
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "y")
        form = await wait_screen(pilot, EditGraphicsScreen)
        assert form.query_one("#gfx-password", Input).value == ""
        await submit_form(pilot, {"#gfx-port": "5977"})
        await until(pilot, lambda: displays(defined)[0]["port"] == "5977")
        (only,) = displays(defined)
        assert (only["autoport"], only["passwd"], only["listen"]) == ("no", "s3cret", "0.0.0.0")


def test_a_running_display_is_labelled_with_its_port(running: libvirt.virDomain) -> None:
    def live_port() -> str:
        g = ET.fromstring(running.XMLDesc(0)).find("devices/graphics")
        return "" if g is None else g.get("port", "")

    (display,) = D.list_displays(running)
    assert display.running and display.autoport
    assert display.label() == f"VNC 127.0.0.1:{live_port()}"
    assert display.summary() == "listen 127.0.0.1, port auto"


# ---------------------------------------------------------------------------------- save
@pytest.fixture
def existing_save_file(running: libvirt.virDomain) -> Iterator[Path]:
    path = Path(ui.SAVE_DIR) / f"{unique_name(PREFIX)}.save"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(4096))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_core_save_refuses_to_overwrite_without_the_flag(
    running: libvirt.virDomain, existing_save_file: Path
) -> None:
    before = existing_save_file.read_bytes()
    with pytest.raises(DomainActionError) as refused:
        A.save_to_file(running, str(existing_save_file))
    assert "already exists" in refused.value.message
    assert existing_save_file.read_bytes() == before
    assert running.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert A.save_target_exists(running.connect(), str(existing_save_file)) is True
    assert A.save_target_exists(running.connect(), f"{existing_save_file}.nope") is False


async def test_saving_over_an_existing_file_asks_and_cancel_keeps_it(
    running: libvirt.virDomain, existing_save_file: Path
) -> None:
    before = existing_save_file.read_bytes()
    uuid = running.UUIDString()
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await started(pilot, uuid)
        await choose(pilot, lambda: ui.open_actions_menu(app, SYSTEM_URI, uuid), "v")
        await answer_prompt(pilot, str(existing_save_file))
        await wait_screen(pilot, ConfirmScreen)
        question = str(app.screen.question)
        assert str(existing_save_file) in question and "already exists" in question
        await pilot.press("enter")  # Cancel has the focus
        await until(pilot, lambda: isinstance(app.screen, DomainsScreen))
        await pilot.pause(1.0)
    assert existing_save_file.read_bytes() == before
    assert running.state()[0] == libvirt.VIR_DOMAIN_RUNNING


# ---------------------------------------------------------------------------------- disk format
@pytest.fixture(scope="module")
def image_files(images: Path) -> dict[str, Path]:
    raw = images / "plain.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "8M"], check=True)
    qcow2 = create_qcow2(images / "thin.qcow2", "8M")
    garbage = images / "garbage.bin"
    garbage.write_bytes(b"#!/bin/sh\necho not an image\n" + os.urandom(8192))
    return {"raw": raw, "qcow2": qcow2, "garbage": garbage}


def test_detect_format_reads_the_image_never_assumes_qcow2(
    conn: libvirt.virConnect, image_files: dict[str, Path], images: Path
) -> None:
    raw = detect_format(conn, str(image_files["raw"]))
    assert (raw.format, raw.source) == ("raw", "qemu-img info")
    qcow2 = detect_format(conn, str(image_files["qcow2"]))
    assert (qcow2.format, qcow2.source) == ("qcow2", "qemu-img info")
    assert detect_format(conn, str(image_files["garbage"])).format == "raw"
    missing = detect_format(conn, str(images / "missing.img"))
    assert missing.format == "raw" and missing.source == "default" and missing.note


async def test_add_existing_disk_defaults_to_the_probed_format(
    defined: libvirt.virDomain, image_files: dict[str, Path]
) -> None:
    uuid = defined.UUIDString()

    def disk_driver(path: Path) -> str | None:
        for disk in config(defined).iterfind("devices/disk"):
            src = disk.find("source")
            if src is not None and src.get("file") == str(path):
                driver = disk.find("driver")
                return "" if driver is None else driver.get("type", "")
        return None

    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await started(pilot, uuid)
        await choose(pilot, lambda: edit.open_edit_menu(app, SYSTEM_URI, uuid), "d")
        form = await wait_screen(pilot, AddDiskScreen)
        form.query_one("#disk-existing", RadioButton).value = True
        await pilot.pause()
        fmt = form.query_one("#disk-format", Select)
        path = form.query_one("#disk-path", Input)
        for kind in ("qcow2", "raw", "garbage"):
            path.value = str(image_files[kind])
            expected = "qcow2" if kind == "qcow2" else "raw"
            await until(pilot, lambda e=expected: form.guess is not None and fmt.value == e, 60)
        path.value = str(image_files["raw"])
        await until(pilot, lambda: form.guess is not None and fmt.value == "raw", 60)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: disk_driver(image_files["raw"]) is not None)
        assert disk_driver(image_files["raw"]) == "raw"
