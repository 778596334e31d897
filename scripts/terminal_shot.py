"""The graphical console as a real terminal draws it: TERMINAL (xterm, kitty, mlterm, konsole or
tmux, which is tmux inside xterm) runs scripts/graphics_demo.py under Xvfb; the demo asks the
terminal what it supports exactly as virttui does (no override); the X screen is captured with
xwd at the times given and written as PNG (cropped to the terminal's window).

Needs Xvfb and xwd (`apt-get install --no-install-recommends xvfb x11-apps`) and the terminal;
kitty needs OpenGL 3.3, which Mesa's llvmpipe gives under Xvfb (`libgl1-mesa-dri`; the script
sets LIBGL_ALWAYS_SOFTWARE=1). Not part of `make test`.

Usage: python scripts/terminal_shot.py TERMINAL OUT.png [IMAGE.png] [demo options]
    [--seconds N[,N...]] [--passthrough on|off] [--ssh USER@HOST:PORT] [--scale F]
  --seconds: when to take the shots (default 6); with several, OUT-1.png, OUT-2.png, ...
  --passthrough: tmux's allow-passthrough (default on; tmux only)
  --outer: the terminal tmux runs in (default xterm; kitty, mlterm)
  --ssh: run the demo through `ssh -t` (the repository must be at the same path over there;
    extra ssh options in $TERMINAL_SHOT_SSH_OPTS, split on spaces)
  --scale: scale the PNG down by this factor (default 1)
  --guest: boot the tiny test guest (tests/guestlib.py, VNC display, on qemu:///system; removed
    afterwards) and show its real graphical console in the real app instead of a recorded PNG
Other options (--toast, --leave=S, --graphics=MODE) go to graphics_demo.py.
"""

from __future__ import annotations

import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
COLS, ROWS = 100, 32
TERMINALS = ("xterm", "kitty", "mlterm", "konsole", "tmux")
OWN_OPTIONS = ("--seconds", "--passthrough", "--ssh", "--scale", "--outer")
OWN_FLAGS = ("--guest",)


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
    # Xvfb writes 32 bits per pixel, but once a GL client (kitty on llvmpipe) has run, xwd may
    # get packed 24-bit pixels in lines still padded to 4 bytes a pixel: the header says which.
    pixel_bytes = bits_per_pixel // 8
    if pixmap_format != 2 or pixel_bytes not in (3, 4):
        raise ValueError(f"unsupported XWD: format {pixmap_format}, {bits_per_pixel} bpp")
    offset = header_size + ncolors * 12
    raw = data[offset : offset + bytes_per_line * height]
    if pixel_bytes == 4:
        mode = "BGRX" if byte_order == 0 else "XRGB"
    else:
        mode = "BGR" if byte_order == 0 else "RGB"
    return Image.frombuffer("RGB", (width, height), raw, "raw", mode, bytes_per_line, 1)


def option(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else default


def demo_args(argv: list[str]) -> list[str]:
    """argv without OUT and without this script's own options (and their values)."""
    out: list[str] = []
    skip = False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg in OWN_OPTIONS:
            skip = True
        elif arg in OWN_FLAGS:
            pass
        else:
            out.append(arg)
    return out


def demo_command(passed: list[str], ssh: str | None) -> list[str]:
    demo = [sys.executable, str(ROOT / "scripts" / "graphics_demo.py"), *passed]
    if ssh is None:
        return demo
    target, _, port = ssh.rpartition(":")
    extra = os.environ.get("TERMINAL_SHOT_SSH_OPTS", "").split()
    remote = shlex.join(["env", f"PYTHONPATH={ROOT / 'src'}", *demo])
    return ["ssh", "-t", "-p", port, *extra, target, remote]


def terminal_command(
    terminal: str, command: list[str], tmp: Path, passthrough: str, outer: str = "xterm"
) -> list[str]:
    if terminal == "xterm":
        return [
            "xterm",
            "-ti", "vt340",
            "-xrm", "XTerm*numColorRegisters: 256",
            "-xrm", "XTerm*decGraphicsID: vt340",
            "-fa", "Monospace", "-fs", "9",
            "-geometry", f"{COLS}x{ROWS}+0+0",
            *(["-l", "-lf", os.environ["XTERM_LOG"]] if os.environ.get("XTERM_LOG") else []),
            "-e", *command,
        ]  # fmt: skip
    if terminal == "kitty":
        return [
            "kitty",
            "--config", "NONE",
            "-o", "font_size=9",
            "-o", f"initial_window_width={COLS}c",
            "-o", f"initial_window_height={ROWS}c",
            "-o", "remember_window_size=no",
            "-o", "window_padding_width=0",
            *command,
        ]  # fmt: skip
    if terminal == "mlterm":
        return [
            "mlterm",
            "--geometry", f"{COLS}x{ROWS}+0+0",
            "--fontsize", "12",
            "-e", *command,
        ]  # fmt: skip
    if terminal == "konsole":
        return ["konsole", "--nofork", "--hide-menubar", "--hide-tabbar", "-e", *command]
    if terminal == "tmux":
        conf = tmp / "tmux.conf"
        conf.write_text(
            f"set -g allow-passthrough {passthrough}\n"
            "set -g default-terminal tmux-256color\n"
            "set -g status off\n"
        )
        tmux = ["tmux", "-L", f"shot{os.getpid()}", "-f", str(conf), "new-session", *command]
        return terminal_command(outer, tmux, tmp, passthrough, "xterm")
    raise ValueError(f"unknown terminal {terminal!r}; one of {', '.join(TERMINALS)}")


def shot(display: str) -> Image.Image:
    data = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    image = xwd_to_image(data)
    box = image.convert("L").point(lambda v: 255 if v else 0).getbbox()
    return image.crop(box) if box is not None else image


def main(argv: list[str]) -> int:
    if "--guest" in argv:
        return with_guest(argv)
    return shoot(argv)


def with_guest(argv: list[str]) -> int:
    """Boot the tiny guest, write a few lines on its VGA console, and shoot the real app's
    graphical console of it."""
    sys.path.insert(0, str(ROOT))
    from tests.guestlib import SerialConsole, open_system_conn, running_guest, wait_for_shell

    conn = open_system_conn()
    try:
        with running_guest(conn, "vt-shot") as dom, SerialConsole(dom) as console:
            wait_for_shell(console, timeout=180)
            console.run(
                r"printf '\033[2J\033[H' >/dev/tty1; for i in 1 2 3 4 5 6; do "
                "echo '#### virttui graphical console: the tiny guest ####'; done >/dev/tty1"
            )
            rest = [a for a in argv if a != "--guest"]
            return shoot([*rest, f"--domain={dom.UUIDString()}"])
    finally:
        conn.close()


def shoot(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in TERMINALS:
        print(__doc__, file=sys.stderr)
        return 2
    terminal, out = argv[0], Path(argv[1])
    rest = argv[1:]
    times = [float(s) for s in option(rest, "--seconds", "6").split(",")]
    passthrough = option(rest, "--passthrough", "on")
    ssh = option(rest, "--ssh", "") or None
    scale = float(option(rest, "--scale", "1"))
    outer = option(rest, "--outer", "xterm")
    program = outer if terminal == "tmux" else terminal
    for tool in ("Xvfb", "xwd", program, *(["tmux"] if terminal == "tmux" else [])):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    display = f":{90 + os.getpid() % 100}"
    env = {**os.environ, "DISPLAY": display, "TERM": "xterm-256color"}
    env["LIBGL_ALWAYS_SOFTWARE"] = "1"
    for name in ("TMUX", "TMUX_PANE", "KITTY_WINDOW_ID", "TERM_PROGRAM"):
        env.pop(name, None)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1100x720x24", "-nolisten", "tcp"])
    term = None
    with tempfile.TemporaryDirectory(prefix="terminal-shot-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            time.sleep(1.5)
            command = demo_command(demo_args(rest), ssh)
            argv_term = terminal_command(terminal, command, tmp, passthrough, outer)
            term = subprocess.Popen(argv_term, env=env, start_new_session=True)
            start = time.monotonic()
            for n, when in enumerate(times, 1):
                time.sleep(max(0.0, start + when - time.monotonic()))
                image = shot(display)
                if scale != 1:
                    size = (round(image.width / scale), round(image.height / scale))
                    image = image.resize(size, Image.Resampling.LANCZOS)
                path = out if len(times) == 1 else out.with_stem(f"{out.stem}-{n}")
                path.parent.mkdir(parents=True, exist_ok=True)
                image.save(path, optimize=True)
                print(f"{path}: {image.width}x{image.height} at {when:g} s")
            return 0
        finally:
            if term is not None:
                term.terminate()
                try:
                    term.wait(10)
                except subprocess.TimeoutExpired:
                    term.kill()
                    term.wait(10)
            if terminal == "tmux":
                subprocess.run(
                    ["tmux", "-L", f"shot{os.getpid()}", "kill-server"],
                    capture_output=True,
                    check=False,
                )
            xvfb.terminate()
            xvfb.wait(10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
