"""The README image of the sharp graphical console as a real terminal draws it: xterm (Sixel,
`-ti vt340`) under Xvfb runs scripts/graphics_demo.py, which asks the terminal what it supports
exactly as virttui does; the X screen is then captured with xwd and written as PNG.

Needs Xvfb, xterm and xwd (`apt-get install --no-install-recommends xvfb xterm x11-apps`);
not part of `make test`. Usage: python scripts/xterm_shot.py OUT.png [IMAGE.png] [--toast]
[--seconds N] (IMAGE and --toast are passed to graphics_demo.py).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
GEOMETRY = "100x32"


def xwd_to_image(data: bytes) -> Image.Image:
    """A 24/32-bit ZPixmap XWD (what `xwd -root` writes on Xvfb) as an RGB image."""
    fields = struct.unpack(">25I", data[:100])
    header_size, _version, pixmap_format, _depth, width, height = fields[:6]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = (
        fields[7],
        fields[11],
        fields[12],
        fields[19],
    )
    if pixmap_format != 2 or bits_per_pixel != 32:
        raise ValueError(f"unsupported XWD: format {pixmap_format}, {bits_per_pixel} bpp")
    offset = header_size + ncolors * 12
    raw = data[offset : offset + bytes_per_line * height]
    mode = "BGRX" if byte_order == 0 else "XRGB"
    return Image.frombuffer("RGB", (width, height), raw, "raw", mode, bytes_per_line, 1)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "screenshots" / "graphical-console-xterm-sixel.png"
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 6.0
    for tool in ("Xvfb", "xterm", "xwd"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    display = f":{90 + os.getpid() % 100}"
    env = {**os.environ, "DISPLAY": display, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1100x720x24", "-nolisten", "tcp"])
    xterm = None
    try:
        time.sleep(1.5)
        passed = [a for i, a in enumerate(argv[1:], 1) if "--seconds" not in argv[i - 1 : i + 1]]
        demo = [sys.executable, str(ROOT / "scripts" / "graphics_demo.py"), *passed]
        xterm = subprocess.Popen(
            [
                "xterm",
                "-ti", "vt340",
                "-xrm", "XTerm*numColorRegisters: 256",
                "-xrm", "XTerm*decGraphicsID: vt340",
                "-fa", "Monospace", "-fs", "9",
                "-geometry", f"{GEOMETRY}+0+0",
                *(["-l", "-lf", os.environ["XTERM_LOG"]] if os.environ.get("XTERM_LOG") else []),
                "-e", *demo,
            ],
            env=env,
        )  # fmt: skip
        time.sleep(seconds)
        shot = subprocess.run(
            ["xwd", "-root", "-silent", "-display", display],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        image = xwd_to_image(shot)
        box = image.convert("L").point(lambda v: 255 if v else 0).getbbox()
        if box is not None:
            image = image.crop(box)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out)
        print(f"{out}: {image.width}x{image.height}")
        return 0
    finally:
        if xterm is not None:
            xterm.terminate()
            xterm.wait(10)
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
