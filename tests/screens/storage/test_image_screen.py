"""ImageScreen with Pilot on real qemu-img images in tmp_path (no libvirt host: the guard asks
no connection), at 80x24: the chain tree and internal snapshots, check, create through the form,
resize with a typed confirmation for a shrink, convert with progress and cancel, a refusal from
the guard shown plainly, the palette's path prompt; and one SVG snapshot."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Checkbox, Input, Static

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.core.storage.guard import Verdict, decide
from virttui.core.storage.used_by import User
from virttui.resources import stylesheets
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.storage.image import ImageScreen, open_image, prompt_open_image
from virttui.screens.storage.image_forms import ImageFormScreen


class ImageApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self.path = path

    def on_mount(self) -> None:
        if self.path:
            open_image(self, "", self.path)


def qcow2(path: Path, size: str = "64M", *extra: str) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *extra, str(path), size], check=True)
    return path


def info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


async def loaded(pilot: Any, app: ImageApp) -> ImageScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, ImageScreen) and app.screen.info, 30)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ImageScreen)
    return screen


async def fill(pilot: Any, values: dict[str, Any]) -> None:
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, ImageFormScreen)
    for name, value in values.items():
        widget = form.query_one(f"#field-{name}")
        if isinstance(widget, Input | Checkbox):
            widget.value = value
        else:
            widget.value = value  # type: ignore[attr-defined]
    await pilot.pause()


async def confirm(pilot: Any, words: str = "cannot tell whether a guest uses") -> None:
    """The guard's confirmation (no libvirt connection here: nobody could be asked): yes."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), 30)
    assert words in screen_text(pilot.app)
    await pilot.press("y")
    await pilot.pause()


async def test_chain_snapshots_and_check(tmp_path: Path) -> None:
    base = qcow2(tmp_path / "base image.qcow2", "32M")
    top = qcow2(tmp_path / "top.qcow2", "32M", "-b", str(base), "-F", "qcow2")
    subprocess.run(["qemu-img", "snapshot", "-c", "first", str(top)], check=True)
    app = ImageApp(str(top))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)
        assert [layer.filename for layer in screen.info.layers] == [str(top), str(base)]
        text = screen_text(app)
        assert "backing" in text and "compat: 1.1" in text
        assert "first" in text  # the snapshot table
        await pilot.press("k")
        await wait_until(pilot, lambda: screen.check_result is not None, 30)
        assert screen.check_result.clean
        assert "No errors" in str(screen.query_one("#image-check", Static).render())


async def test_missing_file_is_a_sentence(tmp_path: Path) -> None:
    app = ImageApp(str(tmp_path / "missing.qcow2"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "no such file" in screen_text(app), 30)


async def test_create_form_makes_the_image(tmp_path: Path) -> None:
    top = qcow2(tmp_path / "a.qcow2", "16M")
    target = tmp_path / "new é.qcow2"
    app = ImageApp(str(top))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"path": str(target), "size": "10Q"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ImageFormScreen)  # refused, still open
        assert "unknown unit" in screen_text(app)
        await fill(pilot, {"size": "48M", "cluster": "128K", "lazy": "on", "compat": "1.1"})
        await pilot.press("ctrl+s")
        await confirm(pilot)
        await wait_until(pilot, lambda: target.exists(), 30)
        await wait_until(pilot, lambda: "created" in screen_text(app), 30)
    data = info(target)
    assert data["virtual-size"] == 48 << 20 and data["cluster-size"] == 128 << 10
    assert data["format-specific"]["data"]["lazy-refcounts"] is True


async def test_shrink_needs_the_word_typed(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "r.qcow2", "64M")
    app = ImageApp(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)
        await pilot.press("z")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"size": "32M"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "tick Shrink" in screen_text(app)
        await fill(pilot, {"shrink": True})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Type shrink" in screen_text(app))
        await fill(pilot, {"typed": "yes"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "exactly" in screen_text(app)
        assert info(path)["virtual-size"] == 64 << 20
        await fill(pilot, {"typed": "shrink"})
        await pilot.press("ctrl+s")
        await confirm(pilot)
        await wait_until(pilot, lambda: info(path)["virtual-size"] == 32 << 20, 30)
        await wait_until(pilot, lambda: screen.info.top.virtual_size == 32 << 20, 30)


async def test_convert_progress_and_cancel_removes_partial(tmp_path: Path) -> None:
    src = qcow2(tmp_path / "src.qcow2", "64M")
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 48M", str(src)],
        check=True,
        capture_output=True,
    )
    target = tmp_path / "copy.qcow2"
    app = ImageApp(str(src))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"target": str(target), "rate": "2M"})
        await pilot.press("ctrl+s")
        await confirm(pilot)
        await wait_until(pilot, lambda: screen.job is not None, 30)
        bar = screen.query_one("#image-progress-row")
        await wait_until(pilot, lambda: target.exists() and "ETA" in screen_text(app), 60)
        assert bar.display
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.job is None, 60)
        assert "cancelled" in screen_text(app)
        assert not target.exists()


async def test_guard_refusal_is_shown_plainly(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "busy.qcow2", "16M")
    running = User("domain", "web[b]01", "qemu:///system", "disk", running=True)
    app = ImageApp(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)

        def refusing(checks: Any) -> Any:
            return lambda: [decide(a, list(p), [running]) for a, p in checks]

        screen.guard_call = refusing  # type: ignore[method-assign]
        await pilot.press("z")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"size": "+16M"})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.last_verdict is not None, 30)
        assert isinstance(screen.last_verdict, Verdict)
        text = screen_text(app)
        assert "Refused" in text and "web[b]01" in text and "blockResize" in text
        assert info(path)["virtual-size"] == 16 << 20


async def test_shut_off_user_asks_first_and_no_keeps_the_file(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "idle.qcow2", "16M")
    stopped = User("domain", "db", "qemu:///system", "disk", running=False)
    app = ImageApp(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)
        screen.guard_call = lambda checks: (  # type: ignore[method-assign]
            lambda: [decide(a, list(p), [stopped]) for a, p in checks]
        )
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"name": "snap1"})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 30)
        assert "shut off" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "snapshots" not in info(path)


async def test_palette_prompt_opens_the_image(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "p.qcow2", "16M")
    app = ImageApp()
    async with app.run_test(size=(80, 24)) as pilot:
        prompt_open_image(app)
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await fill(pilot, {"path": "relative.qcow2"})
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "absolute" in screen_text(app)
        await fill(pilot, {"path": str(path)})
        await pilot.press("ctrl+s")
        screen = await loaded(pilot, app)
        assert screen.path == str(path)


SNAP_DIR = Path("/tmp/virttui-image-snapshot")


@pytest.fixture
def snap_image() -> Any:
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    SNAP_DIR.mkdir()
    base = qcow2(SNAP_DIR / "base.qcow2", "1G")
    top = qcow2(SNAP_DIR / "vm disk.qcow2", "1G", "-b", str(base), "-F", "qcow2")
    yield top
    shutil.rmtree(SNAP_DIR, ignore_errors=True)


def test_image_screen_snapshot(snap_compare: Any, snap_image: Path) -> None:
    async def settle(pilot: Any) -> None:
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "info", None), 30)
        await pilot.pause()

    app = ImageApp(str(snap_image))
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


async def test_the_app_palette_offers_open_a_path() -> None:
    from virttui.app import HostSpec, VirtTUIApp

    app = VirtTUIApp([HostSpec("test:///default")], refresh=60.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        command = commands["Image: open a path…"]
        command.callback()
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await pilot.pause()
        assert "this machine" in screen_text(app)  # the test driver is not a host of files


async def test_repair_asks_then_fixes_a_leak(tmp_path: Path) -> None:
    import struct

    path = qcow2(tmp_path / "leaky.qcow2", "16M")
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", str(path)],
        check=True,
        capture_output=True,
    )
    with path.open("r+b") as fh:
        header = fh.read(104)
        fh.seek(struct.unpack(">Q", header[48:56])[0])
        block = struct.unpack(">Q", fh.read(8))[0]
        clusters = path.stat().st_size // 65536
        fh.seek(block + 2 * clusters)
        fh.write(struct.pack(">H", 1))
        fh.truncate((clusters + 1) * 65536)
    app = ImageApp(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app)
        await pilot.press("k")
        await wait_until(pilot, lambda: screen.check_result is not None, 30)
        assert screen.check_result.leaks == 1
        await pilot.press("K")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await pilot.press("ctrl+s")  # leaks (the default)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 30)
        assert "-r leaks" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.check_result.leaks_fixed == 1, 30)
        await pilot.pause()
        assert "repaired" in screen_text(app)


async def test_read_only_app_shows_the_image_and_writes_nothing(tmp_path: Path) -> None:
    """`--readonly`: info and check work, every writing key is hidden and says why; the image
    is byte for byte the same afterwards."""
    from virttui.app import HostSpec, VirtTUIApp

    image = qcow2(tmp_path / "ro.qcow2")
    before = image.read_bytes()
    app = VirtTUIApp([HostSpec("test:///default")], refresh=60.0, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        open_image(app, "", str(image))
        screen = await wait_for_image(pilot, app)
        assert "64" in screen_text(app)  # the info is shown
        seen: list[str] = []
        original = app.notify

        def notify(message: str, **kw: Any) -> None:
            seen.append(str(message))
            original(message, **kw)

        app.notify = notify  # type: ignore[method-assign]
        for key in ("n", "o", "z", "s", "K", "m", "b"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key  # no form opened
        assert len(seen) == 7 and all("Read-only" in m for m in seen)
        footer = screen_text(app).splitlines()[-1]
        assert "Convert" not in footer and "Resize" not in footer
    assert image.read_bytes() == before


async def wait_for_image(pilot: Any, app: App[Any]) -> ImageScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, ImageScreen) and app.screen.info, 30)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ImageScreen)
    return screen
