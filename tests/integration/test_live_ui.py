"""The live-route, secret, LUKS and transfer dialogs against qemu:///system, driven through the UI
(Pilot). Storage lives in conftest's `temp_pool`; the running guest and every secret made here
are removed again. The passphrase typed is never on the screen."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Select

from tests.guestlib import IMAGES_DIR, SYSTEM_URI, running_guest, unique_name
from tests.pilot_utils import wait_until
from tests.screens.storage.test_live_dialogs import opened, status
from tests.textshot import screen_text as textshot
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.storage.live import BlockJobDialog, LiveResizeDialog, open_live_route
from virttui.screens.storage.secrets import EncryptedVolumeDialog, NewSecretDialog, SecretsScreen
from virttui.screens.storage.transfer import TransferDialog

PASSPHRASE = "ui p4ss phrase'; é"
MIB = 1 << 20


def make_app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=2.0)


def _seen(app: object) -> str:
    """For a timeout: the top screen, its status line and the notifications shown."""
    screen = getattr(app, "screen", None)
    notes = [str(n.message) for n in getattr(app, "_notifications", [])]
    disk = getattr(screen, "disk", None)  # a live dialog's disk, once read
    return (
        f"screen={type(screen).__name__} status={status(screen)!r} disk={disk!r} "
        f"mounted={getattr(screen, 'is_mounted', None)} notifications={notes!r}"
    )


async def until(pilot: Pilot[Any], cond: Callable[[], object], timeout: float = 60) -> None:
    await wait_until(pilot, cond, timeout, step=0.2, describe=lambda: _seen(pilot.app))


async def ready(pilot: Pilot[Any]) -> VirtTUIApp:
    app = pilot.app
    assert isinstance(app, VirtTUIApp)
    await until(
        pilot, lambda: app.facade(SYSTEM_URI) is not None and bool(app.hosts[SYSTEM_URI].connected)
    )
    return app


def screen_text(app: VirtTUIApp) -> str:
    """What the screen shows, as plain text and as the SVG export (both must be clean)."""
    return textshot(app) + app.export_screenshot()


def secrets_for(conn: libvirt.virConnect, path: str) -> list[str]:
    return [s.UUIDString() for s in conn.listAllSecrets(0) if s.usageID() == path]


@contextlib.contextmanager
def no_secret_left(conn: libvirt.virConnect, path: str) -> Iterator[None]:
    try:
        yield
    finally:
        for uuid in secrets_for(conn, path):
            with contextlib.suppress(libvirt.libvirtError):
                conn.secretLookupByUUIDString(uuid).undefine()


def type_passphrase(dialog: Any) -> None:
    dialog.query_one("#secret-pass", Input).value = PASSPHRASE
    dialog.query_one("#secret-pass2", Input).value = PASSPHRASE


async def test_secret_create_list_delete_through_the_ui(
    system_conn: libvirt.virConnect, tmp_path: Path
) -> None:
    path = f"/var/tmp/{unique_name('vt-secret-ui')}.qcow2"
    with no_secret_left(system_conn, path):
        async with make_app().run_test(size=(110, 36)) as pilot:
            app = await ready(pilot)
            commands = {c.title: c for c in app.get_system_commands(app.screen)}
            commands["Storage: libvirt secrets (LUKS)"].callback()
            screen = await opened(pilot, SecretsScreen)
            await until(pilot, lambda: "secret(s)" in status(screen))
            await pilot.press("n")
            dialog = await opened(pilot, NewSecretDialog)
            dialog.query_one("#secret-volume", Input).value = path
            dialog.query_one("#secret-pass", Input).value = PASSPHRASE
            dialog.query_one("#secret-pass2", Input).value = PASSPHRASE + "x"
            dialog.query_one("#create", Button).press()
            await pilot.pause()
            assert "differ" in status(dialog)
            assert dialog.query_one("#secret-pass", Input).value == ""  # cleared
            type_passphrase(dialog)
            assert PASSPHRASE not in screen_text(app)  # password inputs show dots
            dialog.query_one("#create", Button).press()
            await until(
                pilot, lambda: app.screen is screen and len(secrets_for(system_conn, path)) == 1
            )
            (uuid,) = secrets_for(system_conn, path)
            await until(pilot, lambda: any(s.uuid == uuid for s in screen.rows))
            assert PASSPHRASE not in screen_text(app)
            assert not any(PASSPHRASE in n.message for n in app._notifications)
            table = screen.query_one("#secrets-table")
            table.move_cursor(row=next(i for i, s in enumerate(screen.rows) if s.uuid == uuid))  # type: ignore[attr-defined]
            await pilot.pause()
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "No domain or volume on this host refers to it" in screen_text(app)
            await pilot.press("y")
            await until(pilot, lambda: not secrets_for(system_conn, path))
            await until(pilot, lambda: all(s.uuid != uuid for s in screen.rows))


async def test_encrypted_volume_through_the_ui(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    name = unique_name("vt-luks-ui") + ".qcow2"
    async with make_app().run_test(size=(110, 40)) as pilot:
        app = await ready(pilot)
        app.push_screen(EncryptedVolumeDialog(SYSTEM_URI, temp_pool.name()))
        dialog = await opened(pilot, EncryptedVolumeDialog)
        await until(pilot, lambda: dialog.query_one("#luks-pool", Select).value == temp_pool.name())
        dialog.query_one("#luks-name", Input).value = "bad name.qcow2"
        dialog.query_one("#luks-size", Input).value = "8M"
        type_passphrase(dialog)
        dialog.query_one("#create", Button).press()
        await until(pilot, lambda: "object id" in status(dialog))
        dialog.query_one("#luks-name", Input).value = name
        type_passphrase(dialog)
        dialog.query_one("#create", Button).press()
        try:
            await until(pilot, lambda: not isinstance(app.screen, EncryptedVolumeDialog))
        except AssertionError:
            raise AssertionError(status(dialog)) from None
        vol = temp_pool.storageVolLookupByName(name)
        path = vol.path()
        with no_secret_left(system_conn, path):
            info = json.loads(
                subprocess.run(
                    ["qemu-img", "info", "-U", "--output=json", path],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            assert info["encrypted"] is True and info["virtual-size"] == 8 * MIB
            assert len(secrets_for(system_conn, path)) == 1
            assert PASSPHRASE not in screen_text(app)
            vol.delete(0)


async def test_upload_and_download_through_the_ui(
    temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    local = tmp_path / "local file.raw"
    with local.open("wb") as f:
        f.truncate(64 * MIB)
        f.write(b"uploaded through the UI")
    name = unique_name("vt-xfer") + ".raw"
    temp_pool.createXML(
        f"<volume><name>{name}</name><capacity>{64 * MIB}</capacity>"
        "<allocation>0</allocation><target><format type='raw'/></target></volume>",
        0,
    )
    async with make_app().run_test(size=(110, 36)) as pilot:
        app = await ready(pilot)
        app.push_screen(TransferDialog(SYSTEM_URI, "upload", temp_pool.name(), name))
        dialog = await opened(pilot, TransferDialog)
        await until(
            pilot, lambda: dialog.query_one("#transfer-pool", Select).value == temp_pool.name()
        )
        dialog.query_one("#transfer-local", Input).value = str(local)
        dialog.query_one("#start", Button).press()
        await until(pilot, lambda: "holes" in status(dialog) and not dialog.running)
        assert (
            Path(temp_pool.storageVolLookupByName(name).path()).read_bytes()[:23]
            == b"uploaded through the UI"
        )
        await pilot.press("escape")
        await pilot.pause()

        existing = tmp_path / "existing.raw"
        existing.write_bytes(b"keep")
        app.push_screen(TransferDialog(SYSTEM_URI, "download", temp_pool.name(), name))
        dialog = await opened(pilot, TransferDialog)
        await until(
            pilot, lambda: dialog.query_one("#transfer-pool", Select).value == temp_pool.name()
        )
        dialog.query_one("#transfer-local", Input).value = str(existing)
        dialog.query_one("#start", Button).press()
        await until(pilot, lambda: "already exists" in status(dialog))
        assert existing.read_bytes() == b"keep"
        dialog.query_one("#transfer-overwrite", Checkbox).value = True
        dialog.query_one("#start", Button).press()
        await until(pilot, lambda: "holes" in status(dialog) and not dialog.running)
        assert existing.stat().st_size == 64 * MIB
        assert existing.read_bytes()[:23] == b"uploaded through the UI"
        assert os.stat(existing).st_blocks * 512 < 8 * MIB


@pytest.fixture(scope="module")
def guest(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(conn, "vt-live-ui", start=False) as dom:
        import xml.etree.ElementTree as ET

        src = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/source")
        assert src is not None
        subprocess.run(
            ["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 24M", src.get("file", "")],
            check=True,
            capture_output=True,
        )
        dom.create()
        yield dom


async def test_live_resize_through_the_dialog(guest: libvirt.virDomain) -> None:
    before = guest.blockInfo("vda", 0)[0]
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await ready(pilot)
        open_live_route(app, SYSTEM_URI, guest.UUIDString(), "vda", "resize")
        dialog = await opened(pilot, LiveResizeDialog)
        await until(pilot, lambda: dialog.current == before)
        field = dialog.query_one("#live-size", Input)
        field.value = "+8M"
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, LiveResizeDialog))
        assert guest.blockInfo("vda", 0)[0] == before + 8 * MIB
        assert any(n.title == "Disk grown" for n in app._notifications)


async def test_abort_a_slowed_copy_from_the_dialog(guest: libvirt.virDomain) -> None:
    dest = IMAGES_DIR / f"{unique_name('vt-copy-ui')}.qcow2"
    try:
        async with make_app().run_test(size=(100, 40)) as pilot:
            app = await ready(pilot)
            open_live_route(app, SYSTEM_URI, guest.UUIDString(), "vda", "copy")
            dialog = await opened(pilot, BlockJobDialog)
            await until(pilot, lambda: not dialog.query_one("#start", Button).disabled)
            dialog.query_one("#live-dest", Input).value = str(dest)
            dialog.query_one("#live-speed", Input).value = "1"
            dialog.query_one("#start", Button).press()
            await until(pilot, lambda: "copy:" in status(dialog) and dialog.running)
            await pilot.press("escape")  # refused while the job runs
            await pilot.pause()
            assert app.screen is dialog
            dialog.query_one("#abort", Button).press()
            await until(pilot, lambda: "Aborted" in status(dialog))
            assert not dialog.running
        assert guest.blockJobInfo("vda", 0) in ({}, None)
        assert not dest.exists()
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            guest.blockJobAbort("vda", 0)
        with contextlib.suppress(FileNotFoundError):
            dest.unlink()


async def test_upload_into_a_used_volume_asks_first(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, tmp_path: Path
) -> None:
    from tests.guestlib import defined_guest, qcow2_volume

    local = tmp_path / "content.raw"
    local.write_bytes(b"replaced after asking")
    name = unique_name("vt-used-ui") + ".qcow2"
    path = qcow2_volume(temp_pool, name)
    with defined_guest(system_conn, path, prefix="vt-upload-ui") as dom:
        async with make_app().run_test(size=(110, 36)) as pilot:
            app = await ready(pilot)
            app.push_screen(TransferDialog(SYSTEM_URI, "upload", temp_pool.name(), name))
            dialog = await opened(pilot, TransferDialog)
            await until(
                pilot, lambda: dialog.query_one("#transfer-pool", Select).value == temp_pool.name()
            )
            dialog.query_one("#transfer-local", Input).value = str(local)
            dialog.query_one("#start", Button).press()
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert dom.name() in screen_text(app)
            await pilot.press("n")  # Cancel: nothing written
            await until(pilot, lambda: app.screen is dialog)
            with open(path, "rb") as f:
                assert f.read(4) == b"QFI\xfb"  # still the qcow2 header
            dialog.query_one("#start", Button).press()
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: "→" in status(dialog) and not dialog.running)
            with open(path, "rb") as f:
                assert f.read(21) == b"replaced after asking"


async def test_guard_route_for_an_intermediate_overlay(guest: libvirt.virDomain) -> None:
    """A guard refused `qemu-img commit` of an overlay a running domain has in the middle of its
    chain: the commit dialog opens with that overlay as top, and the commit runs from there."""
    from virttui.core.domain.blockjobs import live_disk
    from virttui.screens.storage.live import open_live_route_for_path

    base = live_disk(guest, "vda").source
    made: list[Path] = []

    def snapshot() -> Path:
        path = IMAGES_DIR / f"{unique_name('vt-ui-overlay')}.qcow2"
        made.append(path)
        guest.snapshotCreateXML(
            "<domainsnapshot><disks><disk name='vda' snapshot='external'>"
            f"<source file='{path}'/></disk></disks></domainsnapshot>",
            libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
            | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA,
        )
        return path

    middle = snapshot()
    top = snapshot()
    try:
        async with make_app().run_test(size=(100, 40)) as pilot:
            app = await ready(pilot)
            open_live_route_for_path(app, SYSTEM_URI, guest.name(), str(middle), "commit")
            dialog = await opened(pilot, BlockJobDialog)
            await until(pilot, lambda: dialog.query_one("#live-top", Select).value == str(middle))
            await until(pilot, lambda: not dialog.query_one("#start", Button).disabled)
            dialog.query_one("#start", Button).press()
            await until(pilot, lambda: "Committed" in status(dialog) and not dialog.running)
        after = live_disk(guest, "vda")
        assert after.source == str(top) and after.chain[0] == base
    finally:
        # The overlays the chain no longer holds go first: one left on the base would make the
        # commit below refuse the base as shared (and the active layer would stay behind).
        # Then back onto the base for the other tests (an active commit), then the rest.
        def drop_unused() -> None:
            in_use = set(live_disk(guest, "vda").images)
            for path in made:
                if str(path) not in in_use:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()

        drop_unused()
        with contextlib.suppress(Exception):
            from virttui.core.domain.blockjobs import block_commit
            from virttui.core.jobs import Job

            job = Job(lambda ctx: block_commit(ctx, guest, "vda"), lambda m: None)
            job.run()
        drop_unused()
        assert live_disk(guest, "vda").source == base, "the guest is not back on its base"
        assert not any(path.exists() for path in made), "an overlay was left behind"
