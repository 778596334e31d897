"""The storage screen with Pilot on private test-driver hosts (a copy of tests/core/data/
test_node.xml, pool `default-pool`): reached from the list and the palette, volumes listed with
their users, create / delete / clone / resize / pools through the dialogs, refusals that change
nothing, and a read-only connection that shows everything and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import libvirt
import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, TextArea

from tests.pilot_utils import click_on, wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.nodexml import node_uri
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.storage.dialogs import (
    CloneVolumeScreen,
    NewDirPoolScreen,
    NewVolumeScreen,
    PoolXmlScreen,
    RemovePoolScreen,
    ResizeRequest,
    ResizeVolumeScreen,
    VolumeProgressScreen,
)
from virttui.screens.storage.files import FileBrowserScreen
from virttui.screens.storage.image import ImageScreen
from virttui.screens.storage.storage import StorageScreen, open_storage
from virttui.widgets.common.glyphs import ASCII, UNICODE
from virttui.widgets.storage.pool_table import usage_bar

NODE = Path(__file__).parents[2] / "core" / "data" / "test_node.xml"
POOL = "default-pool"


def make_app(tmp_path: Path, *, readonly: bool = False) -> tuple[VirtTUIApp, str]:
    node = tmp_path / "node.xml"
    shutil.copy(NODE, node)
    uri = node_uri(node)
    return VirtTUIApp([HostSpec(uri, label="test node")], refresh=3600.0, readonly=readonly), uri


def connected(app: VirtTUIApp) -> bool:
    return bool(app.store.hosts) and all(h.state == "connected" for h in app.store.hosts.values())


async def open_screen(pilot: Pilot[Any], app: VirtTUIApp) -> StorageScreen:
    await wait_until(pilot, lambda: connected(app), 30)
    await pilot.pause(0.2)
    await pilot.press("S")
    await wait_until(
        pilot, lambda: isinstance(app.screen, StorageScreen) and bool(app.screen.pool_table.pools)
    )
    screen = app.screen
    assert isinstance(screen, StorageScreen)
    await settle(pilot)
    return screen


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)


def record_notifications(app: VirtTUIApp) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *, severity: str = "information", **kw: Any) -> None:
        seen.append((str(message), severity))
        original(message, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return seen


def volume_names(app: VirtTUIApp, uri: str) -> list[str]:
    return app.hosts[uri].call(
        lambda c: sorted(v.name() for v in c.storagePoolLookupByName(POOL).listAllVolumes(0))
    )


def make_volume(app: VirtTUIApp, uri: str, name: str, size: int = 1 << 30) -> str:
    xml = (
        f"<volume><name>{name}</name><capacity unit='bytes'>{size}</capacity>"
        "<target><format type='qcow2'/></target></volume>"
    )
    return app.hosts[uri].call(
        lambda c: str(c.storagePoolLookupByName(POOL).createXML(xml, 0).path())
    )


async def reload_volumes(pilot: Pilot[Any], screen: StorageScreen) -> None:
    screen.load_volumes()
    await settle(pilot)


def select_volume(screen: StorageScreen, name: str) -> None:
    names = [v.name for v in screen.volume_table.volumes]
    screen.volume_table.move_cursor(row=names.index(name))


# ---------------------------------------------------------------------------------- reading
async def test_lists_pools_and_volumes_with_users(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        path = make_volume(app, uri, "disk é 1")
        app.hosts[uri].call(
            lambda c: c.defineXML(
                "<domain type='test'><name>user-vm</name><memory>1024</memory>"
                "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                f"<source file='{path}'/><target dev='vda'/></disk></devices></domain>"
            )
        )
        await reload_volumes(pilot, screen)
        text = screen_text(app)
        assert "Storage test node" in text
        assert "default-pool" in text and "running" in text and "100G" in text
        assert "disk é 1" in text and "qcow2" in text and "user-vm" in text
        assert "/default-pool/disk é 1" in text and "used by user-vm" in text
        assert screen.image_actions_target() == (uri, "/default-pool/disk é 1")
        screen.volume_table.focus()
        await pilot.press("i")  # the image screen of the highlighted volume
        await wait_until(pilot, lambda: isinstance(app.screen, ImageScreen))
        assert isinstance(app.screen, ImageScreen)
        assert (app.screen.uri, app.screen.path) == (uri, "/default-pool/disk é 1")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, StorageScreen)
        await pilot.press("f")  # the file browser, in the pool's directory
        await wait_until(pilot, lambda: isinstance(app.screen, FileBrowserScreen))
        assert isinstance(app.screen, FileBrowserScreen)
        assert app.screen.directory == "/default-pool"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, StorageScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, StorageScreen)


async def test_palette_and_entry_point_open_it(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app), 30)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Storage: pools and volumes of test node" in titles
        open_storage(app, uri)
        await pilot.pause(0.2)
        assert isinstance(app.screen, StorageScreen) and app.screen.uri == uri
        screen = app.screen
        await settle(pilot)
        commands = {c.title for c in app.get_system_commands(screen)}
        assert {"Storage: new volume", "Storage: new dir pool", "Storage: stop pool"} <= commands
        assert "Storage: start pool" not in commands  # it runs
        notes = record_notifications(app)
        open_storage(app, "test:///nowhere")
        assert notes == [("test:///nowhere: no such connection", "error")]


def test_usage_bar_reads_without_colour() -> None:
    bar = usage_bar(0.5, UNICODE)
    assert bar.plain == "████░░░░  50%"
    assert usage_bar(0.5, ASCII).plain == "####----  50%"
    assert usage_bar(0.001, ASCII).plain.startswith("#-------")  # something used shows
    assert usage_bar(0.95, ASCII).plain == "########  95%"
    assert usage_bar(None).plain.strip() == "-"
    # the level is in the glyphs and digits; the colour only repeats it
    assert {s.style for s in bar.spans} >= {"green", "dim"}
    assert {s.style for s in usage_bar(0.85).spans} >= {"yellow"}
    assert {s.style for s in usage_bar(0.95).spans} >= {"red"}


# ---------------------------------------------------------------------------------- volumes
async def test_new_volume_refuses_bad_sizes_then_creates(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        await pilot.press("n")
        await pilot.pause(0.2)
        form = app.screen
        assert isinstance(form, NewVolumeScreen)
        form.query_one("#vol-name", Input).value = "new disk é"
        for bad, message in (("-1G", "must be above zero"), ("10Q", "unknown unit 'Q'")):
            form.query_one("#vol-size", Input).value = bad
            await pilot.press("ctrl+s")
            await pilot.pause(0.1)
            assert app.screen is form and message in screen_text(app)
        assert volume_names(app, uri) == []
        form.query_one("#vol-size", Input).value = "2G"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert volume_names(app, uri) == ["new disk é"]
        assert screen.current_volume() is not None
        assert screen.current_volume().name == "new disk é"  # type: ignore[union-attr]
        assert screen.current_volume().capacity == 2 << 30  # type: ignore[union-attr]


async def test_delete_used_volume_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        path = make_volume(app, uri, "in use")
        domain_xml = (
            "<domain type='test'><name>user-vm</name><memory>1024</memory>"
            "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
            f"<source file='{path}'/><target dev='vda'/></disk></devices></domain>"
        )
        app.hosts[uri].call(lambda c: c.defineXML(domain_xml))
        before = app.hosts[uri].call(lambda c: c.lookupByName("user-vm").XMLDesc(0))
        await reload_volumes(pilot, screen)
        notes = record_notifications(app)
        screen.volume_table.focus()
        await pilot.press("d")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        assert notes == [("in use: used by user-vm", "error")]
        # the core refuses too (a listing may be old): straight through the facade
        screen._volume_job(
            "Delete volume",
            lambda f: f.delete_volume(POOL, "in use", list(app.hosts.values())),
            "deleted",
        )
        await settle(pilot)
        failures = [m for m, s in notes if s == "error"]
        assert any(
            "cannot delete 'in use': used by user-vm (disk, shut off)" in m for m in failures
        )
        assert volume_names(app, uri) == ["in use"]
        after = app.hosts[uri].call(lambda c: c.lookupByName("user-vm").XMLDesc(0))
        assert after == before


async def test_delete_unused_volume_asks_first(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "spare")
        await reload_volumes(pilot, screen)
        screen.volume_table.focus()
        await pilot.press("d")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        assert "/default-pool/spare" in screen_text(app)
        await pilot.press("enter")  # Cancel is the default
        await settle(pilot)
        assert volume_names(app, uri) == ["spare"]
        await pilot.press("d")
        await pilot.pause(0.2)
        await pilot.press("y")
        await settle(pilot)
        assert volume_names(app, uri) == []


async def test_clone_shows_progress_and_the_copy_appears(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "base.qcow2")
        await reload_volumes(pilot, screen)
        shown: list[VolumeProgressScreen] = []
        await pilot.press("c")
        await pilot.pause(0.2)
        form = app.screen
        assert isinstance(form, CloneVolumeScreen)
        assert form.query_one("#clone-name", Input).value == "base-clone.qcow2"
        form.query_one("#clone-name", Input).value = "base.qcow2"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "already has a volume named 'base.qcow2'" in screen_text(app)
        form.query_one("#clone-name", Input).value = "copy é"
        original = app.push_screen

        def push(screen_: Any, *a: Any, **kw: Any) -> Any:
            if isinstance(screen_, VolumeProgressScreen):
                shown.append(screen_)
            return original(screen_, *a, **kw)

        app.push_screen = push  # type: ignore[method-assign]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "copy é" in volume_names(app, uri))
        await settle(pilot)
        assert shown and shown[0].last[0] == 1.0
        assert not isinstance(app.screen, VolumeProgressScreen)
        assert screen.current_volume() is not None
        assert screen.current_volume().name == "copy é"  # type: ignore[union-attr]


async def test_resize_form_grows_and_shrinks_only_when_typed(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "grow me", 2 << 30)
        await reload_volumes(pilot, screen)
        volume = screen.current_volume()
        assert volume is not None
        answers: list[ResizeRequest | None] = []
        app.push_screen(ResizeVolumeScreen(volume), answers.append)
        await pilot.pause(0.2)
        form = app.screen
        size = form.query_one("#resize-size", Input)
        size.value = "2G"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "already 2.0G" in screen_text(app)
        size.value = "1G"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "tick Shrink" in screen_text(app) and not answers
        form.query_one("#resize-shrink", Checkbox).value = True
        form.query_one("#resize-confirm", Input).value = "grow"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "type the volume's name exactly" in screen_text(app) and not answers
        form.query_one("#resize-confirm", Input).value = "grow me"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert answers == [ResizeRequest(1 << 30, True)]
        app.push_screen(ResizeVolumeScreen(volume), answers.append)
        await pilot.pause(0.2)
        app.screen.query_one("#resize-size", Input).value = "3G"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert answers[-1] == ResizeRequest(3 << 30, False)
        # the test driver cannot resize: libvirt's refusal is shown, nothing changes
        notes = record_notifications(app)
        await pilot.press("z")
        await pilot.pause(0.2)
        app.screen.query_one("#resize-size", Input).value = "3G"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("not supported" in m for m, s in notes if s == "error")
        assert screen.current_volume().capacity == 2 << 30  # type: ignore[union-attr]


async def test_resize_refused_for_a_running_user_names_it_and_the_live_route(
    tmp_path: Path,
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        path = make_volume(app, uri, "live disk")

        def define(c: libvirt.virConnect) -> None:
            dom = c.defineXML(
                "<domain type='test'><name>runner</name><memory>1024</memory>"
                "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                f"<source file='{path}'/><target dev='vda'/></disk></devices></domain>"
            )
            dom.create()

        app.hosts[uri].call(define)
        await reload_volumes(pilot, screen)
        notes = record_notifications(app)
        await pilot.press("z")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ResizeVolumeScreen)
        ((message, severity),) = notes
        assert severity == "error" and "running runner" in message and "blockResize" in message


# ---------------------------------------------------------------------------------- pools
async def test_pool_stop_start_autostart(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        assert screen.check_action("pool_start", ()) is None  # running already
        await pilot.press("x")
        await settle(pilot)
        pool = screen.current_pool()
        assert pool is not None and pool.state == "inactive"
        assert "press s to start it" in screen_text(app)
        assert screen.check_action("volume_new", ()) is None
        await pilot.press("s")
        await settle(pilot)
        assert screen.current_pool().state == "running"  # type: ignore[union-attr]
        await pilot.press("a")
        await settle(pilot)
        assert screen.current_pool().autostart  # type: ignore[union-attr]
        await pilot.press("r")
        await settle(pilot)
        assert screen.current_pool().autostart  # type: ignore[union-attr]


async def test_new_dir_pool_then_remove_it(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        await pilot.press("p")
        await pilot.pause(0.2)
        form = app.screen
        assert isinstance(form, NewDirPoolScreen)
        form.query_one("#pool-name", Input).value = "images é"
        form.query_one("#pool-dir", Input).value = "/default-pool"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [p.name for p in screen.pool_table.pools] == [POOL]  # refused: same target
        await pilot.press("p")
        await pilot.pause(0.2)
        form = app.screen
        form.query_one("#pool-name", Input).value = "images é"
        form.query_one("#pool-dir", Input).value = "/srv/images"
        form.query_one("#pool-mkdir", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [p.name for p in screen.pool_table.pools] == [POOL, "images é"]
        assert screen.current_pool().name == "images é"  # type: ignore[union-attr]
        assert screen.current_pool().autostart  # type: ignore[union-attr]
        await pilot.press("U")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RemovePoolScreen)
        assert "libvirt never deletes the volumes in it" in screen_text(app)
        await wait_until(pilot, lambda: app.focused is app.screen.query_one("#cancel"))
        await pilot.press("enter")  # Cancel is focused
        await settle(pilot)
        assert len(screen.pool_table.pools) == 2
        await pilot.press("U")
        await pilot.pause(0.2)
        await click_on(pilot, "#confirm")
        await settle(pilot)
        assert [p.name for p in screen.pool_table.pools] == [POOL]


async def test_define_pool_from_xml(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        await pilot.press("P")
        await pilot.pause(0.2)
        form = app.screen
        assert isinstance(form, PoolXmlScreen)
        form.query_one(
            TextArea
        ).text = "<pool type='dir'><name>xml pool</name><target><path>/xml</path></target></pool>"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "xml pool" in [p.name for p in screen.pool_table.pools]
        assert screen.current_pool().name == "xml pool"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------- read-only
async def test_read_only_shows_everything_and_changes_nothing(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    shutil.copy(NODE, node)
    uri = node_uri(node)
    app = VirtTUIApp([HostSpec(uri, label="test node")], refresh=3600.0, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        text = screen_text(app)
        assert "(read-only)" in text and "default-pool" in text
        footer = text.rstrip("\n").splitlines()[-1]
        for word in ("Start", "Stop", "New vol", "Delete", "Clone", "Resize"):
            assert word not in footer, footer
        assert "Refresh" in footer
        for key in ("s", "x", "a", "p", "P", "U", "n", "d", "c", "z", "u", "e", "k"):
            notes = record_notifications(app)
            await pilot.press(key)
            await wait_until(pilot, lambda n=notes: bool(n))
            assert notes == [("Read-only connection: actions are disabled", "warning")], key
            assert app.screen is screen, key
        assert [p.state for p in screen.pool_table.pools] == ["running"]
        notes = record_notifications(app)
        await pilot.press("r")  # re-reads what libvirt knows; no refresh of the pool
        await settle(pilot)
        assert notes == [] and app.screen is screen


async def test_transfer_luks_and_secrets_keys_open_their_dialogs(tmp_path: Path) -> None:
    from virttui.screens.storage.secrets import EncryptedVolumeDialog, SecretsScreen
    from virttui.screens.storage.transfer import TransferDialog

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "moved")
        await reload_volumes(pilot, screen)
        select_volume(screen, "moved")
        screen.volume_table.focus()
        await pilot.pause()
        for key, kind, direction in (
            ("u", TransferDialog, "upload"),
            ("D", TransferDialog, "download"),
        ):
            await pilot.press(key)
            await wait_until(pilot, lambda k=kind: isinstance(app.screen, k))
            dialog = app.screen
            assert isinstance(dialog, TransferDialog)
            assert (dialog.direction, dialog.pool, dialog.volume) == (direction, POOL, "moved")
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EncryptedVolumeDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("k")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
async def test_layout_fits(tmp_path: Path, size: tuple[int, int]) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "a-very-long-volume-name-" * 5 + ".qcow2")  # 126 characters
        await reload_volumes(pilot, screen)
        lines = screen_text(app).rstrip("\n").splitlines()
        assert len(lines) == size[1]
        assert all(len(line) <= size[0] for line in lines)
        assert any("Backing" in line for line in lines)  # the last column is on screen
        assert any("…" in line for line in lines)  # the long name is cut, not scrolled


async def test_hostile_volume_names_are_drawn_literally(tmp_path: Path) -> None:
    """Names from libvirt are not markup and their control characters show as escapes."""
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_screen(pilot, app)
        make_volume(app, uri, "[@click=app.quit]x")
        make_volume(app, uri, "red\x9b31mname")
        await reload_volumes(pilot, screen)
        text = screen_text(app)
        assert "[@click=app.quit]x" in text
        assert "red\\x9b31mname" in text
        select_volume(screen, "red\x9b31mname")
        await pilot.pause(0.2)
        assert "/default-pool/red\\x9b31mname" in screen_text(app)
        assert app.is_running


async def test_host_screen_opens_storage(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: connected(app), 30)
        await pilot.press("H")
        await pilot.pause(0.3)
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, StorageScreen))
        assert app.screen.uri == uri  # type: ignore[attr-defined]
        await settle(pilot)


async def test_stopping_a_pool_with_used_volumes_asks_first(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        path = make_volume(app, uri, "busy")
        app.hosts[uri].call(
            lambda c: c.defineXML(
                "<domain type='test'><name>user-vm</name><memory>1024</memory>"
                "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                f"<source file='{path}'/><target dev='vda'/></disk></devices></domain>"
            )
        )
        await reload_volumes(pilot, screen)
        await pilot.press("x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        assert "1 of its volumes are in use (busy)" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.current_pool().state == "running"  # type: ignore[union-attr]
        await pilot.press("x")
        await pilot.pause(0.2)
        await pilot.press("y")
        await settle(pilot)
        assert screen.current_pool().state == "inactive"  # type: ignore[union-attr]


async def test_progress_dialog_cancels_once(tmp_path: Path) -> None:
    app, _uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        cancels: list[int] = []
        dialog = VolumeProgressScreen(Text("Cloning x"), lambda: cancels.append(1))
        app.push_screen(dialog)
        await pilot.pause(0.2)
        dialog.update_progress(0.25, "1.0G of 4.0G copied")
        await pilot.pause(0.1)
        assert "1.0G of 4.0G copied" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.1)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert cancels == [1]
        dialog.update_progress(0.5, "2.0G of 4.0G copied")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "cancelling" in text and "2.0G of 4.0G" in text


async def test_clone_of_a_running_domains_disk_warns_first_and_resize_names_shut_off_users(
    tmp_path: Path,
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, app)
        running_path = make_volume(app, uri, "live")
        idle_path = make_volume(app, uri, "idle")

        def define(c: libvirt.virConnect) -> None:
            for name, path in (("runner", running_path), ("sleeper", idle_path)):
                dom = c.defineXML(
                    f"<domain type='test'><name>{name}</name><memory>1024</memory>"
                    "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                    f"<source file='{path}'/><target dev='vda'/></disk></devices></domain>"
                )
                if name == "runner":
                    dom.create()

        app.hosts[uri].call(define)
        await reload_volumes(pilot, screen)
        select_volume(screen, "live")
        await pilot.press("c")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConfirmScreen)
        assert "runner is running and writes to it" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is screen
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CloneVolumeScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        select_volume(screen, "idle")
        await pilot.pause(0.1)
        await pilot.press("z")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ResizeVolumeScreen)
        assert "Used by sleeper (shut off)" in screen_text(app)


def test_keys_can_be_checked_before_the_tables_exist() -> None:
    """Textual checks the footer's bindings as soon as the screen is pushed; under load that
    came before compose and raised NoMatches (seen in CI)."""
    screen = StorageScreen("test:///default")
    assert screen.current_pool() is None and screen.current_volume() is None
