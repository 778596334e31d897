"""Frames to half-block cells and the 256-colour fallback."""

from __future__ import annotations

import io

from PIL import Image

from virttui.core.console.screenshot import (
    decode_frame,
    fit_cells,
    half_block_rows,
    palette_256_rgb,
    quantize_rows,
    rgb_to_256,
)


def _ppm(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PPM")
    return out.getvalue()


def test_half_blocks_pair_top_and_bottom_pixels() -> None:
    img = Image.new("RGB", (4, 4), (0, 0, 0))
    for x in range(4):
        img.putpixel((x, 0), (255, 0, 0))
        img.putpixel((x, 1), (0, 0, 255))
    rows = half_block_rows(img, 4, 2)
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    assert rows[0][0] == ((255, 0, 0), (0, 0, 255))
    assert rows[1][3] == ((0, 0, 0), (0, 0, 0))


def test_fit_keeps_aspect_with_two_pixels_per_cell() -> None:
    assert fit_cells(720, 400, 120, 38) == (120, 33)
    assert fit_cells(720, 400, 80, 100) == (80, 22)
    assert fit_cells(640, 480, 200, 20) == (53, 20)
    assert fit_cells(0, 480, 10, 10) == (0, 0)


def test_digest_tracks_content() -> None:
    a = Image.new("RGB", (8, 8), (10, 20, 30))
    b = a.copy()
    b.putpixel((3, 3), (200, 0, 0))
    fa, fa2, fb = decode_frame(_ppm(a)), decode_frame(_ppm(a.copy())), decode_frame(_ppm(b))
    assert fa.digest == fa2.digest != fb.digest
    assert fa.image.size == (8, 8)


def test_256_colour_quantisation() -> None:
    assert rgb_to_256((0, 0, 0)) == 16
    assert rgb_to_256((255, 255, 255)) == 231
    assert rgb_to_256((255, 0, 0)) == 196
    assert rgb_to_256((128, 128, 128)) == 244
    assert 232 <= rgb_to_256((30, 30, 30)) <= 255
    for index in (16, 100, 196, 231, 232, 255):
        assert rgb_to_256(palette_256_rgb(index)) == index
    assert quantize_rows([[((255, 0, 0), (0, 0, 0))]]) == [[(196, 16)]]
