"""FramebufferView's sharp paths: what Textual would write to the terminal is decoded (Kitty PNG
payloads, Sixel data) and compared with the source frame scaled the same way; redraws only on
change; Kitty images replaced, never stacked; 1:1 with Shift+arrow panning; the pointer and key
hooks."""

from __future__ import annotations

import re
from typing import Any

from PIL import Image, ImageChops, ImageDraw
from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from tests.widgets.console.sixel_decode import (
    CUP,
    decode_sixel,
    kitty_commands,
    kitty_images,
    mean_abs_error,
)
from virttui.core.console.graphics_mode import GraphicsChoice
from virttui.core.console.screenshot import Frame, frame_digest
from virttui.widgets.console.framebuffer_view import FramebufferView
from virttui.widgets.console.graphics_protocols import KITTY_IMAGE_ID, layout, sixel_sequence

CELL = (10, 20)


def make_frame(width: int = 720, height: int = 400, seed: int = 0) -> Frame:
    """A VGA-text-like frame: dark background, coloured bars, 'text' blocks, a gradient."""
    image = Image.new("RGB", (width, height), (0, 0, 40))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 4):
        draw.line(
            [(x, height - 60), (x, height - 1)],
            fill=(x * 255 // width, 128, 255 - x * 255 // width),
        )
    for row in range(10):
        for col in range(0, width - 40, 27):
            if (row * 7 + col + seed) % 3:
                draw.rectangle(
                    [col + 4, 10 + row * 30, col + 20, 28 + row * 30], fill=(200, 200, 200)
                )
    draw.rectangle([0, 0, width - 1, height - 1], outline=(255, 0, 0), width=3)
    return Frame(image, frame_digest(image.tobytes() + bytes([seed])), "image/png")


class ViewApp(App[None]):
    def __init__(self, view: FramebufferView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


class Modal(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("menu")


def terminal_output(app: App[Any]) -> str:
    """What Textual writes for a full repaint of the current screen (headless apps write
    nothing, so the compositor's update is rendered here, as App._display does)."""
    update = app.screen._compositor.render_update(full=True)
    assert update is not None
    return update.render_segments(app.console)  # type: ignore[attr-defined,no-any-return]


def reference(frame: Frame, view: FramebufferView, **kw: Any) -> Image.Image:
    """The frame scaled independently of the view's code (bilinear; the view uses Lanczos) to
    the layout's size."""
    lay = layout(frame.image.size, (view.size.width, view.size.height), CELL, **kw)
    assert lay is not None
    return frame.image.crop(lay.source).resize(lay.size, Image.Resampling.BILINEAR)


def sixel_image(out: str, view: FramebufferView) -> Image.Image:
    """The Sixel image in `out`: padded with black to whole cells (mlterm fills a partly covered
    cell with its default background), returned without the padding (the layout's size)."""
    lay = view.frame_layout
    assert lay is not None
    image = decode_sixel(out)
    cw, ch = lay.cell
    assert image.size == (-(-lay.size[0] // cw) * cw, -(-lay.size[1] // ch) * ch)
    assert image.width % cw == 0 and image.height % ch == 0
    pad = Image.new("RGB", image.size)
    pad.paste(image.crop((0, 0, *lay.size)), (0, 0))
    assert image.tobytes() == pad.tobytes()  # outside the layout's size: black only
    return image.crop((0, 0, *lay.size))


def _view(mode: str, **kw: Any) -> FramebufferView:
    return FramebufferView(
        graphics=GraphicsChoice(mode, "test"), cell_pixels=CELL, colors="truecolor", **kw
    )


async def test_kitty_output_decodes_to_the_scaled_frame() -> None:
    view = _view("kitty")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        frame = make_frame()
        assert view.set_frame(frame)
        await pilot.pause()
        out = terminal_output(app)
        images = kitty_images(out)
        assert len(images) == 1
        keys, image = images[0]
        assert keys["i"] == str(KITTY_IMAGE_ID) and keys["C"] == "1" and keys["q"] == "2"
        # Aspect kept: 720x400 into 80x24 cells of 10x20 px = 800x480 -> 800x444.
        assert image.size == (800, 444)
        assert mean_abs_error(image, reference(frame, view)) < 4
        # The tolerance means something: 3 pixels off, or the next frame, are far outside it.
        assert mean_abs_error(image, ImageChops.offset(reference(frame, view), 3, 0)) > 15
        assert mean_abs_error(image, reference(make_frame(seed=1), view)) > 15
        # The old image with this id is deleted first: replaced, not stacked.
        commands = kitty_commands(out)
        assert commands[0][0] == {"a": "d", "d": "I", "i": str(KITTY_IMAGE_ID), "q": "2"}
        # Placed at the view's top-left cell, and no cell is drawn under the image.
        before = out[: out.index("\x1b_G")]
        assert CUP.findall(before)[-1] == ("1", "1")
        assert "\u2580" not in out
        assert "Kitty graphics (test) · fit" == view.describe()


async def test_sixel_output_decodes_to_the_scaled_frame() -> None:
    view = _view("sixel")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        frame = make_frame()
        view.set_frame(frame)
        await pilot.pause()
        out = terminal_output(app)
        assert out.count("\x1bP") == 1  # one image per repaint
        image = sixel_image(out, view)
        assert image.size == (800, 444)
        # 256 colours at most (textual-image quantizes): a little more error than PNG.
        assert mean_abs_error(image, reference(frame, view)) < 8
        assert "\u2580" not in out


async def test_redraw_only_when_the_frame_or_the_view_changes() -> None:
    view = _view("kitty")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        assert view.set_frame(make_frame())
        assert not view.set_frame(make_frame())  # same digest: nothing
        assert view.redraws == 1
        assert view.set_frame(make_frame(seed=1))
        assert view.redraws == 2
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert view.redraws == 3
        images = kitty_images(terminal_output(app))
        assert len(images) == 1 and images[0][1].size == (1000, 556)
        assert {keys["i"] for keys, _ in images} == {str(KITTY_IMAGE_ID)}


async def test_kitty_image_is_deleted_when_a_modal_covers_the_view() -> None:
    view = _view("kitty")
    app = ViewApp(view)
    written: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        terminal_output(app)
        assert view._kitty_shown
        app.push_screen(Modal())
        await pilot.pause()
        # Textual repainted the view under the modal: the image went with a delete.
        assert not view._kitty_shown
        view._kitty_shown = True
        lines = view.image_lines(view.region)
        raw = "".join(seg.text for strip in lines for seg in strip)
        assert raw.strip(" ") == f"\x1b_Ga=d,d=I,i={KITTY_IMAGE_ID},q=2\x1b\\"
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign]
        view._kitty_shown = True
        view.remove()
        await pilot.pause()
    assert any("a=d" in w for w in written)


async def test_one_to_one_and_panning_with_shift_arrows() -> None:
    keys: list[list[int]] = []
    view = _view("kitty", send_keys=keys.append)
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        frame = make_frame(1024, 768)
        view.set_frame(frame)
        await pilot.pause()
        view.focus()
        await pilot.press("shift+right")  # fit mode: goes to the guest
        assert keys and view.pan == (0, 0)
        keys.clear()
        await pilot.press("ctrl+circumflex_accent")
        assert view.one_to_one and "1:1" in view.describe()
        assert view.frame_layout is not None and view.frame_layout.source == (0, 0, 800, 480)
        await pilot.press("shift+right", "shift+down")
        assert keys == []  # panning, not typing
        assert view.pan == (200, 120)
        await pilot.press("shift+right", "shift+right", "shift+down", "shift+down")
        assert view.pan == (224, 288)  # clamped to the frame's edge
        await pilot.pause()
        ((_, image),) = kitty_images(terminal_output(app))
        assert image.size == (800, 480)
        expected = frame.image.crop((224, 288, 1024, 768))
        assert mean_abs_error(image, expected) < 1  # 1:1: the guest's own pixels
        await pilot.press("ctrl+circumflex_accent")
        assert not view.one_to_one and view.pan == (0, 0)


async def test_half_blocks_one_to_one_shows_the_guest_pixels() -> None:
    view = _view("halfblocks")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        view.action_one_to_one()
        assert view.frame_layout is not None
        assert view.frame_layout.source == (0, 0, 80, 48)  # one pixel per half cell
        assert len(view._strips) == 24


async def test_pointer_is_mapped_to_guest_pixels_through_scale_and_pan() -> None:
    pointer: list[tuple[int, int, int]] = []
    view = _view("sixel", send_pointer=lambda x, y, b: pointer.append((x, y, b)))
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())  # 720x400 shown at 800x444
        await pilot.pause()
        await pilot.click(view, offset=(40, 10))
        # Cell centre (40.5, 10.5) x (10, 20) px = (405, 210) -> guest (364, 189).
        assert (364, 189, 1) in pointer
        assert pointer[-1] == (364, 189, 0)  # released
        pointer.clear()
        await pilot.click(view, offset=(10, 23))  # below the image: nothing sent
        assert pointer == []
        view.action_one_to_one()
        view.pan = (0, 0)
        await pilot.click(view, offset=(2, 3), button=3)
        assert (25, 70, 4) in pointer  # 1:1: right button, no scaling


async def test_key_hook_comes_first_but_leave_and_menu_stay_the_views() -> None:
    sent: list[list[int]] = []
    hooked: list[str] = []

    def hook(event: Any) -> bool:
        hooked.append(event.key)
        return event.key != "x"

    view = _view("halfblocks", send_keys=sent.append, key_hook=hook)
    left: list[object] = []
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        app.on_framebuffer_view_leave = left.append  # type: ignore[attr-defined]
        view.focus()
        await pilot.press("a", "x")
        assert hooked == ["a", "x"]
        assert len(sent) == 1  # only "x", which the hook declined
        await pilot.press("ctrl+right_square_bracket")
        await pilot.pause()
        assert hooked == ["a", "x"]


async def test_console_screen_status_and_a_real_guest_frame() -> None:
    """The graphical console screen with the tiny guest's recorded VGA screenshot, Sixel chosen
    by the config: the status line says so, the output decodes to that screenshot."""
    from tests.screens.console.test_console_snapshots import DATA, ConsoleApp, RecordedGraphics
    from tests.textshot import screen_text
    from virttui.core.console.screenshot import decode_frame

    app = ConsoleApp(RecordedGraphics)
    app.graphics_choice = GraphicsChoice("sixel", "override from config")  # type: ignore[attr-defined]
    app.cell_pixels = CELL  # type: ignore[attr-defined]
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordedGraphics)
        await pilot.pause()
        assert "Sixel (override from config) · fit" in screen_text(app)
        frame = decode_frame((DATA / "guest-tty1.png").read_bytes(), "image/png")
        view = screen.view
        image = sixel_image(terminal_output(app), view)
        assert view.frame_layout is not None and image.size == view.frame_layout.size
        expected = frame.image.convert("RGB").resize(image.size, Image.Resampling.BILINEAR)
        # A text screen is mostly black: the error is measured against what a blank image or
        # one shifted by 2 pixels would score (about 2.5 and 2.2 here; the decoded one ~0.4).
        error = mean_abs_error(image, expected)
        blank = mean_abs_error(Image.new("RGB", image.size), expected)
        shifted = mean_abs_error(ImageChops.offset(expected, 2, 0), expected)
        assert error < 0.3 * min(blank, shifted)
        screen.view.focus()
        await pilot.press("ctrl+circumflex_accent")
        await pilot.pause()
        assert "Sixel (override from config) · 1:1 (Shift+arrows pan)" in screen_text(app)


async def test_switching_the_mode_at_run_time() -> None:
    """The palette's "Console: draw with ..." commands: half blocks -> Kitty -> half blocks."""
    view = _view("halfblocks")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        assert "\u2580" in terminal_output(app) and not kitty_images(terminal_output(app))
        view.set_graphics(GraphicsChoice("kitty", "chosen in the palette"))
        await pilot.pause()
        assert len(kitty_images(terminal_output(app))) == 1
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign]
        view.set_graphics(GraphicsChoice("halfblocks", "chosen in the palette"))
        await pilot.pause()
        assert written == [f"\x1b_Ga=d,d=I,i={KITTY_IMAGE_ID},q=2\x1b\\"]  # the image goes
        assert "\u2580" in terminal_output(app)


def test_sixel_palette_is_defined_before_any_pixel() -> None:
    """xterm paints bands drawn before a later register definition in a wrong colour: every
    register is defined right after the raster attributes, and the image is unchanged."""
    import re

    from textual_image._sixel import image_to_sixels

    from virttui.widgets.console.graphics_protocols import sixel_sequence

    image = make_frame(240, 120).image
    ours = sixel_sequence(image)
    head = re.match(r'\x1bP[0-9;]*q"[0-9;]*((?:#\d+;2;\d+;\d+;\d+)*)', ours)
    assert head is not None
    body = ours[head.end() :]
    assert ";2;" not in body  # no definition after the first pixel
    assert len(re.findall(r"#\d+;2;", head.group(1))) > 5
    assert decode_sixel(ours).tobytes() == decode_sixel(image_to_sixels(image)).tobytes()


def test_sixel_image_is_padded_to_whole_cells_with_black() -> None:
    """mlterm 3.9 fills the part of the last cell row (or column) a Sixel image leaves with its
    default background (a white line under a 700x389 image in 7x14 cells): whole cells, black."""
    from virttui.widgets.console.graphics_protocols import pad_to_cells

    image = Image.new("RGB", (700, 389), (200, 100, 50))
    padded = pad_to_cells(image, (7, 14))
    assert padded.size == (700, 392)
    assert padded.crop((0, 0, 700, 389)).tobytes() == image.tobytes()
    assert padded.crop((0, 389, 700, 392)).getcolors() == [(2100, (0, 0, 0))]
    narrow = pad_to_cells(image.crop((0, 0, 695, 14)), (7, 14))
    assert narrow.size == (700, 14) and narrow.getpixel((697, 5)) == (0, 0, 0)
    assert pad_to_cells(image.crop((0, 0, 700, 392)), (7, 14)).size == (700, 392)
    assert decode_sixel(sixel_sequence(padded)).size == (700, 392)


async def test_kitty_image_goes_when_another_screen_comes_and_returns_after() -> None:
    from textual.screen import Screen

    class Other(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Static("other")

    view = _view("kitty")
    app = ViewApp(view)
    written: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        assert len(kitty_images(terminal_output(app))) == 1
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign]
        app.push_screen(Other())
        await pilot.pause()
        assert f"\x1b_Ga=d,d=I,i={KITTY_IMAGE_ID},q=2\x1b\\" in written
        app.pop_screen()
        await pilot.pause()
        assert len(kitty_images(terminal_output(app))) == 1


async def test_mouse_moves_do_not_resend_the_image() -> None:
    """The pointer goes to the guest on every move; the image is painted again only for a new
    frame (Textual's style look-ups under the mouse ask for single lines: not paints)."""
    pointer: list[tuple[int, int, int]] = []
    view = _view("sixel", send_pointer=lambda x, y, b: pointer.append((x, y, b)))
    app = ViewApp(view)
    async with app.run_test(size=(80, 24)) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        writes = view.image_writes
        assert writes >= 1
        for i in range(8):
            await pilot.hover(view, offset=(10 + i, 5))
        await pilot.pause()
        assert len(pointer) == 8 and view.image_writes == writes
        view.set_frame(make_frame(seed=2))
        await pilot.pause()
        assert view.image_writes == writes + 1


def _record_updates(app: App[Any]) -> list[str]:
    """What Textual would write for every update from now on (headless apps write nothing)."""
    from textual._compositor import CompositorUpdate

    written: list[str] = []
    display = app._display

    def record(screen: Any, renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate):
            written.append(renderable.render_segments(app.console))
        display(screen, renderable)

    app._display = record  # type: ignore[method-assign]
    return written


async def test_sixel_image_goes_out_again_when_a_toast_goes() -> None:
    """A toast over a Sixel image: when it expires Textual repaints only its cells (erasing
    those pixels); the view repaints itself with the cached sequence (nothing re-encoded).
    A new frame while the toast shows goes out and the toast is then drawn over it again."""
    from textual.widgets._toast import Toast

    view = _view("sixel")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        written = _record_updates(app)
        app.notify("a notification over the image", timeout=60)
        await pilot.pause()
        await pilot.pause()
        assert view.overlay_regions() and view._covered == view.overlay_regions()
        out = "".join(written)
        # The toast is on top: written after any image that went out meanwhile.
        assert "notification" in out[out.rfind("\x1bP") + 1 :]
        # A new frame while the toast shows: image first, then the toast again on top.
        written.clear()
        view.set_frame(make_frame(seed=3))
        await pilot.pause()
        await pilot.pause()
        out = "".join(written)
        assert "\x1bP" in out and "notification" in out[out.rindex("\x1bP") :]
        written.clear()
        await pilot.pause()
        await pilot.pause()
        assert written == []  # settled: the overlay's repaint does not ask for another
        redraws = view.redraws
        written.clear()
        for toast in app.screen.query(Toast):
            toast._expire()
        await pilot.pause()
        await pilot.pause()
        assert not view.overlay_regions()
        out = "".join(written)
        assert out.count("\x1bP") == 1  # the image went out again
        image = sixel_image(out[out.index("\x1bP") :], view)
        assert image.size == (800, 444)
        assert mean_abs_error(image, reference(make_frame(seed=3), view)) < 8
        assert view.redraws == redraws  # the cached sequence, not re-encoded


async def test_kitty_image_is_placed_below_text_and_cell_backgrounds() -> None:
    """Kitty: z below INT32_MIN/2 (under cells with a non-default background, so a toast's box
    covers the image) and the view's own cells have the default background."""
    view = _view("kitty")
    app = ViewApp(view)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        view.set_frame(make_frame())
        await pilot.pause()
        out = terminal_output(app)
        ((keys, _),) = kitty_images(out)
        assert int(keys["z"]) < -(2**31) // 2
        lines = view.image_lines(view.region)
        assert len(lines) == 24
        for strip in lines:
            cells = [seg for seg in strip if seg.text.strip(" ") == "" and seg.text]
            assert cells and all(
                seg.style is not None
                and seg.style.bgcolor is not None
                and seg.style.bgcolor.is_default
                for seg in cells
            )
        app.notify("a notification over the image", timeout=60)
        await pilot.pause()
        await pilot.pause()
        assert "notification" in terminal_output(app)


_PASSTHROUGH = r"\x1bPtmux;((?:\x1b\x1b|[^\x1b])*)\x1b\\"


def _unwrap_tmux(out: str) -> str:
    """The outer terminal's view of tmux passthroughs: `ESC P tmux; ... ESC \\` with every inner
    ESC doubled becomes its content."""
    return re.sub(_PASSTHROUGH, lambda m: m.group(1).replace("\x1b\x1b", "\x1b"), out)


async def test_through_tmux_the_image_is_placed_by_the_outer_cursor() -> None:
    """tmux 3.3a writes a passthrough wherever it left the outer cursor (the image came out a
    row too high in kitty and xterm): the cursor is saved, moved to the view and restored inside
    the passthrough, around the wrapped image (Sixel and Kitty)."""
    from textual.containers import Vertical

    class TwoRows(App[None]):
        def __init__(self, view: FramebufferView) -> None:
            super().__init__()
            self.view = view

        def compose(self) -> ComposeResult:
            with Vertical():
                yield Static("status line")
                yield self.view

    for mode in ("sixel", "kitty"):
        view = FramebufferView(
            graphics=GraphicsChoice(mode, "detected through tmux passthrough", True),
            cell_pixels=CELL,
            colors="truecolor",
        )
        app = TwoRows(view)
        async with app.run_test(size=(80, 24)) as pilot:
            frame = make_frame()
            view.set_frame(frame)
            await pilot.pause()
            out = terminal_output(app)
            start = out.index("\x1bPtmux;")
            end = out.rindex("\x1b\x1b8\x1b\\") + len("\x1b\x1b8\x1b\\")
            part = out[start:end]
            assert re.sub(_PASSTHROUGH, "", part) == ""  # all of it for the outer terminal
            # The passthrough that places the image (the only Sixel one, the last Kitty chunk)
            # saves the outer cursor, moves it to the view's top-left (row 2, column 1) and
            # restores it, all in one passthrough.
            placing = part[part.rindex("\x1bPtmux;") :]
            assert placing.startswith("\x1bPtmux;\x1b\x1b7\x1b\x1b[2;1H")
            assert placing.count("\x1bPtmux;") == 1
            outer = _unwrap_tmux(part)
            if mode == "sixel":
                assert part == placing
                image = sixel_image(outer, view)
                assert mean_abs_error(image, reference(frame, view)) < 8
            else:
                assert "m=0" in _unwrap_tmux(placing)  # the final chunk: kitty places it then
                ((_keys, image),) = kitty_images(outer)
                assert mean_abs_error(image, reference(frame, view)) < 4
            assert "\x1b_G" not in out.replace(part, "")
