"""Test helpers: decode what the graphical console writes to the terminal (Kitty graphics PNG
payloads, Sixel data) back into Pillow images, and compare images."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image, ImageChops, ImageStat

KITTY_APC = re.compile(r"\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\")
SIXEL_DCS = re.compile(r"\x1bP([0-9;]*)q(.*?)\x1b\\", re.S)
CUP = re.compile(r"\x1b\[(\d+);(\d+)H")


def kitty_commands(output: str) -> list[tuple[dict[str, str], str]]:
    """Every Kitty graphics command in `output`: (control keys, payload)."""
    out = []
    for match in KITTY_APC.finditer(output):
        keys = dict(kv.split("=", 1) for kv in match.group(1).split(",") if "=" in kv)
        out.append((keys, match.group(2) or ""))
    return out


def kitty_images(output: str) -> list[tuple[dict[str, str], Image.Image]]:
    """The images transmitted (a=T, f=100 PNG, chunked with m=1 ... m=0), decoded."""
    images: list[tuple[dict[str, str], Image.Image]] = []
    current: dict[str, str] | None = None
    payload = ""
    for keys, data in kitty_commands(output):
        if keys.get("a") == "T":
            assert keys.get("f") == "100", keys
            current, payload = keys, ""
        if current is None or keys.get("a") == "d":
            continue
        payload += data
        if keys.get("m", "0") == "0":
            png = base64.b64decode(payload)
            images.append((current, Image.open(io.BytesIO(png)).convert("RGB")))
            current = None
    return images


def decode_sixel(output: str) -> Image.Image:
    """A small Sixel decoder: raster attributes, colour registers (RGB percentages; defining
    one selects it), `#n` selection, `!n` repeats, `$` carriage return, `-` next band."""
    match = SIXEL_DCS.search(output)
    assert match is not None, "no Sixel DCS in the output"
    body = match.group(2)
    pos = 0
    width = height = 0
    if body.startswith('"'):
        raster = re.match(r'"(\d+);(\d+);(\d+);(\d+)', body)
        assert raster is not None
        width, height = int(raster.group(3)), int(raster.group(4))
        pos = raster.end()
    pixels: dict[tuple[int, int], tuple[int, int, int]] = {}
    palette: dict[int, tuple[int, int, int]] = {}
    colour = 0
    x = band = 0
    number = re.compile(r"\d+")
    while pos < len(body):
        ch = body[pos]
        if ch == "#":
            params = re.match(r"#(\d+)((?:;\d+)*)", body[pos:])
            assert params is not None
            n = int(params.group(1))
            rest = [int(v) for v in params.group(2).split(";")[1:]]
            if len(rest) == 4 and rest[0] == 2:
                palette[n] = tuple(round(v * 255 / 100) for v in rest[1:])  # type: ignore[assignment]
            colour = n  # a definition selects the register too
            pos += params.end()
            continue
        count = 1
        if ch == "!":
            m = number.match(body, pos + 1)
            assert m is not None
            count = int(m.group())
            pos = m.end()
            ch = body[pos]
        if ch == "$":
            x = 0
        elif ch == "-":
            x = 0
            band += 1
        elif "?" <= ch <= "~":
            bits = ord(ch) - 63
            for dx in range(count):
                for bit in range(6):
                    if bits & (1 << bit):
                        pixels[(x + dx, band * 6 + bit)] = palette[colour]
            x += count
        pos += 1
    width = width or max(p[0] for p in pixels) + 1
    height = height or max(p[1] for p in pixels) + 1
    image = Image.new("RGB", (width, height))
    for (px, py), rgb in pixels.items():
        if px < width and py < height:
            image.putpixel((px, py), rgb)
    return image


def mean_abs_error(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0-255) of two same-sized images."""
    assert a.size == b.size, (a.size, b.size)
    stat = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    return max(stat.mean)
