"""Terminal image output for the graphical console: geometry (fit or 1:1 with a pan offset) and
the escape sequences for Kitty graphics and Sixel.

Encoding uses textual-image 0.12 (pinned): its Sixel encoder (`image_to_sixels`) and its PNG +
base64 step (`PixelData.to_base64`). Its renderables are not used as they are: importing
`textual_image.renderable` queries the terminal at import time (reading stdin), and its Kitty
renderable writes to `sys.__stdout__` directly (behind Textual's back, from the render path) and
needs Kitty's Unicode placeholders. Here the sequences go out through Textual's own output, as
control segments of the view's strips (see FramebufferView.render_lines), so they stay in order
with everything else Textual writes and tests can capture them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from PIL import Image
from textual_image._pixeldata import PixelData
from textual_image._sixel import image_to_sixels

from virttui.core.console.graphics_mode import tmux_wrap

DEFAULT_CELL_PIXELS = (10, 20)  # VT340-like cell when the terminal does not say
KITTY_CHUNK = 4096
KITTY_IMAGE_ID = 0x7654321  # one image id per process, replaced on every new frame
KITTY_PLACEMENT_ID = 1
# Below text and below cells with a non-default background (the protocol: z < INT32_MIN/2), so a
# toast, a tooltip or any overlay Textual draws over the view (with its own background) covers
# the image; the view writes its own cells with the default background, so the image shows there.
KITTY_Z = -(2**30) - 1
_TMUX_START = "\x1bPtmux;"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the guest's frame lands in the view.

    `source`: the part of the frame shown (left, top, right, bottom, guest pixels); `size`: the
    pixel size it is drawn at; `cells`: the columns x rows it covers (from the top-left cell);
    `cell`: pixels per cell (1x2 for half blocks)."""

    source: tuple[int, int, int, int]
    size: tuple[int, int]
    cells: tuple[int, int]
    cell: tuple[int, int]
    pan: tuple[int, int]

    @property
    def scale(self) -> float:
        return self.size[0] / max(1, self.source[2] - self.source[0])

    def guest_point(self, col: float, row: float) -> tuple[int, int] | None:
        """The guest pixel under the view position (col, row) in cells (fractions allowed);
        None outside the image."""
        vx, vy = col * self.cell[0], row * self.cell[1]
        if not (0 <= vx < self.size[0] and 0 <= vy < self.size[1]):
            return None
        left, top, right, bottom = self.source
        gx = left + int(vx * (right - left) / self.size[0])
        gy = top + int(vy * (bottom - top) / self.size[1])
        return (min(gx, right - 1), min(gy, bottom - 1))


def clamp_pan(
    pan: tuple[int, int], frame: tuple[int, int], view_pixels: tuple[int, int]
) -> tuple[int, int]:
    max_x = max(0, frame[0] - view_pixels[0])
    max_y = max(0, frame[1] - view_pixels[1])
    return (max(0, min(pan[0], max_x)), max(0, min(pan[1], max_y)))


def layout(
    frame: tuple[int, int],
    view: tuple[int, int],
    cell: tuple[int, int],
    *,
    one_to_one: bool = False,
    pan: tuple[int, int] = (0, 0),
) -> Layout | None:
    """Fit the frame (width, height) into the view (columns, rows) keeping its aspect ratio,
    or show it 1:1 from the pan offset. None when there is nothing to draw."""
    fw, fh = frame
    cols, rows = view
    cw, ch = cell
    if fw <= 0 or fh <= 0 or cols <= 0 or rows <= 0 or cw <= 0 or ch <= 0:
        return None
    vw, vh = cols * cw, rows * ch
    if one_to_one:
        px, py = clamp_pan(pan, frame, (vw, vh))
        w, h = min(fw, vw), min(fh, vh)
        source = (px, py, px + w, py + h)
        size = (w, h)
        pan = (px, py)
    else:
        scale = min(vw / fw, vh / fh)
        size = (max(1, min(vw, round(fw * scale))), max(1, min(vh, round(fh * scale))))
        source = (0, 0, fw, fh)
        pan = (0, 0)
    cells = (min(cols, math.ceil(size[0] / cw)), min(rows, math.ceil(size[1] / ch)))
    return Layout(source, size, cells, cell, pan)


def render_image(image: Image.Image, lay: Layout) -> Image.Image:
    """The frame cut and scaled as `lay` says (RGB)."""
    part = image if lay.source == (0, 0, image.width, image.height) else image.crop(lay.source)
    part = part.convert("RGB")
    if part.size != lay.size:
        part = part.resize(lay.size, Image.Resampling.LANCZOS)
    return part


def pad_to_cells(image: Image.Image, cell: tuple[int, int]) -> Image.Image:
    """The image with black added on the right and at the bottom up to whole cells (Sixel).

    mlterm 3.9 shows a Sixel image in whole cells and fills what the image leaves of its last
    cell row or column with the terminal's default background (white by default): a 700x389
    image in 7x14 cells had a 3-pixel white line under it (seen under Xvfb). Black, the colour
    around a guest's screen, is drawn instead."""
    cw, ch = cell
    if cw <= 0 or ch <= 0:
        return image
    width, height = math.ceil(image.width / cw) * cw, math.ceil(image.height / ch) * ch
    if (width, height) == image.size:
        return image
    padded = Image.new("RGB", (width, height), (0, 0, 0))
    padded.paste(image.convert("RGB"), (0, 0))
    return padded


def tmux_placed(sequence: str, x: int, y: int, tmux: bool) -> str:
    """The image `sequence` (already wrapped for tmux when `tmux`) drawn at the cell (x, y).

    The caller moves the cursor there first, but tmux (3.3a, seen in kitty and xterm) writes a
    passthrough wherever it left the outer terminal's cursor, and may move that cursor between
    two passthroughs (the image landed a row too high). So inside tmux the passthrough that
    places the image (the only one for Sixel, the last chunk for Kitty) saves the outer cursor,
    moves it to (x, y) and restores it, all in one: tmux's idea of the cursor stays true. The
    position is the pane's: right for a pane at the window's top-left (one full-window pane,
    tmux's status line at the bottom, as by default)."""
    if not tmux:
        return sequence
    last = sequence.rfind(_TMUX_START)
    if last < 0 or not sequence.endswith("\x1b\\"):
        return sequence
    body = sequence[last + len(_TMUX_START) : -2]
    placed = f"\x1b\x1b7\x1b\x1b[{y + 1};{x + 1}H{body}\x1b\x1b8"
    return sequence[:last] + _TMUX_START + placed + "\x1b\\"


def _kitty(control: str, payload: str = "", *, tmux: bool) -> str:
    seq = f"\x1b_G{control}{';' + payload if payload else ''}\x1b\\"
    return tmux_wrap(seq) if tmux else seq


def kitty_delete(image_id: int = KITTY_IMAGE_ID, *, tmux: bool = False) -> str:
    """Delete the image and free its data (`d=I`)."""
    return _kitty(f"a=d,d=I,i={image_id},q=2", tmux=tmux)


def kitty_sequence(
    image: Image.Image, image_id: int = KITTY_IMAGE_ID, *, tmux: bool = False
) -> str:
    """Kitty graphics: the old image with this id deleted, then the new one transmitted as PNG
    and placed at the cursor (C=1: the cursor does not move) under the text and the cells'
    backgrounds (z=KITTY_Z), in 4096-byte chunks."""
    data = PixelData(image).to_base64()
    chunks = [data[i : i + KITTY_CHUNK] for i in range(0, len(data), KITTY_CHUNK)] or [""]
    out = [kitty_delete(image_id, tmux=tmux)]
    for n, chunk in enumerate(chunks):
        more = 1 if n < len(chunks) - 1 else 0
        if n == 0:
            control = f"a=T,f=100,i={image_id},p={KITTY_PLACEMENT_ID},q=2,C=1,z={KITTY_Z},m={more}"
        else:
            control = f"m={more}"
        out.append(_kitty(control, chunk, tmux=tmux))
    return "".join(out)


_SIXEL_HEAD = re.compile(r'\x1bP[0-9;]*q(?:"[0-9;]*)?')
_SIXEL_DEFINE = re.compile(r"(#\d+);2;\d+;\d+;\d+")


def sixel_sequence(image: Image.Image, *, tmux: bool = False) -> str:
    """Sixel (DCS ... ST), at most 256 colours, by textual-image's encoder, with every colour
    register defined up front (as libsixel does). textual-image defines each register where it
    is first used; xterm 379 (-ti vt340) then paints the bands drawn before the later
    definitions in a wrong colour (seen under Xvfb: the top 24 pixel rows of a black text
    screen came out grey or green). `tmux`: wrapped in tmux's passthrough, for the terminal tmux
    runs in (tmux < 3.4 drops Sixel otherwise)."""
    data = image_to_sixels(image)
    head = _SIXEL_HEAD.match(data)
    if head is not None:
        body = data[head.end() :]
        palette = "".join(m.group(0) for m in _SIXEL_DEFINE.finditer(body))
        data = data[: head.end()] + palette + _SIXEL_DEFINE.sub(r"\1", body)
    return tmux_wrap(data) if tmux else data
