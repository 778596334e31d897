"""The file browser screen (Pilot + one SVG snapshot): rows appear and fill in with real qemu-img,
navigation (Enter, Backspace, the path prompt), sorting, names drawn literally, the palette."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.pilot_utils import hosts_settled, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.storage.files import FileBrowserScreen, open_file_browser

URI = "test:///default"
HOSTILE = "[bold]x[@click=app.quit] \x1b[31mred"
SNAP_DIR = Path("/tmp/virttui-file-browser-snapshot")


def qcow2(path: Path, size: str, backing: Path | None = None) -> None:
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing is not None:
        argv += ["-b", str(backing), "-F", "qcow2"]
    subprocess.run([*argv, str(path), size], check=True, capture_output=True)


def make_tree(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    qcow2(root / "base.qcow2", "64M")
    qcow2(root / "overlay.qcow2", "64M", backing=root / "base.qcow2")
    qcow2(root / "big disk é.qcow2", "10G")
    (root / "disk.raw").write_bytes(b"\0" * (2 << 20))
    (root / "notes.txt").write_text("not an image\n")
    (root / "isos").mkdir()
    (root / "isos" / "inner.qcow2").touch()


def app() -> VirtTUIApp:
    return VirtTUIApp([HostSpec(URI)], refresh=3600.0)


def browser(pilot: Pilot[Any]) -> FileBrowserScreen:
    screen = pilot.app.screen
    assert isinstance(screen, FileBrowserScreen)
    return screen


async def open_at(pilot: Pilot[Any], path: Path) -> FileBrowserScreen:
    await wait_until(pilot, lambda: hosts_settled(pilot.app), 10)
    open_file_browser(pilot.app, URI, str(path))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FileBrowserScreen))
    screen = browser(pilot)
    await wait_until(pilot, lambda: not screen.loading and screen._listed, 30)
    await pilot.pause()
    return screen


def table_text(screen: FileBrowserScreen) -> list[str]:
    table: DataTable[Any] = screen.table
    return [" | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_rows_fill_in_and_names_are_literal(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / HOSTILE).write_text("x")
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        assert screen.error == ""
        rows = screen.rows
        assert rows["overlay.qcow2"].status == "image"
        assert rows["overlay.qcow2"].info is not None
        assert rows["overlay.qcow2"].info.backing == str(tmp_path / "base.qcow2")
        assert rows["big disk é.qcow2"].info.virtual_size == 10 << 30  # type: ignore[union-attr]
        assert rows["disk.raw"].status == "raw" and rows["notes.txt"].status == "file"
        lines = table_text(screen)
        assert lines[0].startswith("../")
        assert lines[1].startswith("isos/")  # directories first
        big = next(line for line in lines if line.startswith("big disk"))
        assert "qcow2" in big and "10G" in big
        hostile = next(line for line in lines if line.startswith("[bold]"))
        assert "\\e[31mred" in hostile and "\x1b" not in hostile  # literal, escape visible
        assert "7 entries, 4 images" in str(screen.query_one("#files-status", Static).render())


async def test_navigate_enter_backspace_and_path_prompt(tmp_path: Path) -> None:
    make_tree(tmp_path)
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        screen.table.move_cursor(row=1)  # isos/
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.directory == str(tmp_path / "isos"))
        await wait_until(pilot, lambda: not screen.loading)
        assert list(screen.rows) == ["inner.qcow2"]
        assert screen.rows["inner.qcow2"].status == "file"  # empty: not an image
        await pilot.press("backspace")
        await wait_until(pilot, lambda: screen.directory == str(tmp_path) and not screen.loading)
        row = screen.current_row()
        assert row is not None and row.name == "isos"  # the cursor comes back to where we were
        # Enter on "../" goes up too.
        screen.table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.directory == str(tmp_path.parent))
        await wait_until(pilot, lambda: not screen.loading)
        # The path prompt.
        await pilot.press("g")
        path_input = screen.query_one("#files-path", Input)
        assert path_input.display and path_input.has_focus
        path_input.value = str(tmp_path / "isos")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.directory == str(tmp_path / "isos"))
        assert not path_input.display
        # A directory that does not exist: said, the view stays.
        await pilot.press("g")
        path_input.value = str(tmp_path / "missing")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.error != "" and not screen.loading)
        assert "No such file" in screen.error
        assert screen.directory == str(tmp_path / "isos")
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, FileBrowserScreen)


async def test_sort_by_virtual_size(tmp_path: Path) -> None:
    make_tree(tmp_path)
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        await pilot.press("o", "o")  # name -> format -> virtual size
        assert screen.sort_column == "virtual"
        files = [n for n in screen.order if n != "isos"]
        assert files[-1] == "big disk é.qcow2"
        assert screen.order[0] == "isos"
        await pilot.press("O")
        assert [n for n in screen.order if n != "isos"][0] == "big disk é.qcow2"


async def test_i_opens_the_image_screen_of_the_highlighted_image(tmp_path: Path) -> None:
    from virttui.screens.storage.image import ImageScreen

    make_tree(tmp_path)
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        screen.table.move_cursor(row=0)  # ../ is not an image: said, nothing opens
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert pilot.app.screen is screen
        index = screen.order.index("base.qcow2")
        screen.table.move_cursor(row=1 + index)
        await pilot.pause()
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ImageScreen))
        image = pilot.app.screen
        assert isinstance(image, ImageScreen)
        assert (image.uri, image.path) == (URI, str(tmp_path / "base.qcow2"))
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_p_makes_the_directory_a_pool(tmp_path: Path) -> None:
    from virttui.screens.storage.dialogs import NewDirPoolScreen

    make_tree(tmp_path)
    name = f"files-pool-{os.getpid()}"
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, NewDirPoolScreen))
        form = pilot.app.screen
        assert form.query_one("#pool-dir", Input).value == str(tmp_path)
        form.query_one("#pool-name", Input).value = name
        await pilot.press("ctrl+s")
        facade = pilot.app.facade(URI)
        assert facade is not None

        def made() -> bool:
            return any(p.name == name for p in facade.pools())

        try:
            await wait_until(pilot, made, 20)
            pool = next(p for p in facade.pools() if p.name == name)
            assert pool.target_path == str(tmp_path) and pool.active
            assert pilot.app.screen is screen
        finally:
            if made():
                facade.remove_pool(name)
        assert not made()


async def test_reachable_from_the_palette(tmp_path: Path) -> None:
    async with app().run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(pilot.app), 10)
        commands = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        assert "Storage: browse files" in commands


@pytest.fixture
def snap_dir() -> Any:
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    make_tree(SNAP_DIR)
    yield SNAP_DIR
    shutil.rmtree(SNAP_DIR, ignore_errors=True)


def test_file_browser_snapshot_80x24(snap_compare: Any, snap_dir: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_at(pilot, snap_dir)
        screen.table.move_cursor(row=1 + screen.order.index("overlay.qcow2"))
        await pilot.pause(0.3)

    assert snap_compare(app(), terminal_size=(80, 24), run_before=run_before)


async def test_used_by_shows_the_domain_on_the_open_connection(tmp_path: Path) -> None:
    qcow2(tmp_path / "vm disk.qcow2", "8M")
    qcow2(tmp_path / "free.qcow2", "8M")
    xml = f"""<domain type='test'><name>[b]user-vm</name><memory>65536</memory><vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='{tmp_path / "vm disk.qcow2"}'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>"""
    async with app().run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(pilot.app), 10)
        host = pilot.app.hosts[URI]  # type: ignore[attr-defined]
        host.call(lambda c: c.defineXML(xml))
        try:
            await _check_used_by(pilot, tmp_path)
        finally:  # test:///default is shared by the whole test process
            host.call(lambda c: c.lookupByName("[b]user-vm").undefine())


async def _check_used_by(pilot: Pilot[Any], tmp_path: Path) -> None:
    screen = await open_at(pilot, tmp_path)
    await wait_until(pilot, lambda: bool(screen.rows["vm disk.qcow2"].users), 10)
    (user,) = screen.rows["vm disk.qcow2"].users
    assert user.name == "[b]user-vm" and user.how == "disk" and not user.running
    assert screen.rows["free.qcow2"].users == ()
    line = next(t for t in table_text(screen) if t.startswith("vm disk"))
    assert line.endswith("[b]user-vm")  # literal, not markup
    screen.table.move_cursor(row=1 + screen.order.index("vm disk.qcow2"))
    await pilot.pause()
    detail = str(screen.query_one("#files-detail", Static).render())
    assert "[b]user-vm (disk, shut off)" in detail


async def test_a_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    os.mkdir(os.fsencode(tmp_path) + b"/dir-\xff")
    (tmp_path / "plain").write_text("x")
    async with app().run_test(size=(80, 24)) as pilot:
        screen = await open_at(pilot, tmp_path)
        lines = table_text(screen)
        assert any(line.startswith("dir-\\xff/") for line in lines), lines
        screen.table.move_cursor(row=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.directory.endswith("dir-\udcff"))
        await wait_until(pilot, lambda: not screen.loading)
        assert screen.error == ""
        title = str(screen.query_one("#files-title", Static).render())
        assert title.endswith("dir-\\xff")
