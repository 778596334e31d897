"""Graphical console frames: `virDomainScreenshot` -> Pillow image -> half-block cell rows.

`grab_frame` blocks (an RPC plus a stream read) and runs on a worker thread. The cell data is
plain tuples, so the widget only turns colours into styles: each terminal cell shows two pixels
stacked, drawn as an upper half block with the top pixel as foreground and the bottom pixel as
background.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import libvirt
from PIL import Image

RGB = tuple[int, int, int]
CellRow = list[tuple[RGB, RGB]]

# xterm's 256-colour palette: 16 system colours, a 6x6x6 cube, 24 greys.
_CUBE_LEVELS = (0, 95, 135, 175, 215, 255)


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image.Image
    digest: str  # of the raw image bytes: equal digests mean an unchanged guest screen
    mime: str


def frame_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode_frame(data: bytes, mime: str = "image/x-portable-pixmap") -> Frame:
    image = Image.open(io.BytesIO(data))
    image.load()
    return Frame(image.convert("RGB"), frame_digest(data), mime)


def grab_frame(dom: libvirt.virDomain, screen: int = 0) -> Frame:
    """Take one screenshot of `screen` (blocking: call from a worker thread)."""
    stream = dom.connect().newStream(0)
    chunks: list[bytes] = []

    def sink(_st: libvirt.virStream, data: bytes, _opaque: object) -> int:
        chunks.append(data)
        return len(data)

    try:
        mime = dom.screenshot(stream, screen, 0)
        stream.recvAll(sink, None)
        stream.finish()
    except BaseException:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise
    return decode_frame(b"".join(chunks), str(mime or ""))


def fit_cells(width: int, height: int, columns: int, rows: int) -> tuple[int, int]:
    """Largest (columns, rows) showing a width x height image with its aspect ratio, two pixels
    per cell vertically (a cell is about twice as tall as wide, so pixels stay square)."""
    if width <= 0 or height <= 0 or columns <= 0 or rows <= 0:
        return (0, 0)
    scale = min(columns / width, (2 * rows) / height)
    return (
        max(1, min(columns, round(width * scale))),
        max(1, min(rows, round(height * scale / 2))),
    )


def half_block_rows(image: Image.Image, columns: int, rows: int) -> list[CellRow]:
    """Scale `image` to exactly columns x (2*rows) pixels and pair the pixels up per cell."""
    if columns <= 0 or rows <= 0:
        return []
    small = image.convert("RGB").resize((columns, rows * 2), Image.Resampling.BOX)
    raw = small.tobytes()
    stride = columns * 3
    out: list[CellRow] = []
    for y in range(rows):
        top = raw[2 * y * stride : (2 * y + 1) * stride]
        bottom = raw[(2 * y + 1) * stride : (2 * y + 2) * stride]
        out.append(
            [
                ((top[i], top[i + 1], top[i + 2]), (bottom[i], bottom[i + 1], bottom[i + 2]))
                for i in range(0, stride, 3)
            ]
        )
    return out


def rgb_to_256(rgb: RGB) -> int:
    """Nearest xterm-256 palette index (cube or grey ramp; the 16 system colours vary by terminal)."""
    r, g, b = rgb

    def level(v: int) -> int:
        return min(range(6), key=lambda i: abs(_CUBE_LEVELS[i] - v))

    ri, gi, bi = level(r), level(g), level(b)
    cube = (_CUBE_LEVELS[ri], _CUBE_LEVELS[gi], _CUBE_LEVELS[bi])
    grey_i = max(0, min(23, round(((r + g + b) / 3 - 8) / 10)))
    grey_v = 8 + 10 * grey_i

    def dist(c: RGB) -> int:
        return (c[0] - r) ** 2 + (c[1] - g) ** 2 + (c[2] - b) ** 2

    if dist((grey_v, grey_v, grey_v)) < dist(cube):
        return 232 + grey_i
    return 16 + 36 * ri + 6 * gi + bi


def palette_256_rgb(index: int) -> RGB:
    """The RGB value of a cube/grey palette index (16..255)."""
    if index >= 232:
        v = 8 + 10 * (index - 232)
        return (v, v, v)
    i = index - 16
    return (_CUBE_LEVELS[i // 36], _CUBE_LEVELS[(i // 6) % 6], _CUBE_LEVELS[i % 6])


def quantize_rows(rows: list[CellRow]) -> list[list[tuple[int, int]]]:
    """The same cells as 256-colour palette indices, for terminals without true colour."""
    cache: dict[RGB, int] = {}

    def q(c: RGB) -> int:
        idx = cache.get(c)
        if idx is None:
            idx = cache[c] = rgb_to_256(c)
        return idx

    return [[(q(top), q(bottom)) for top, bottom in row] for row in rows]
