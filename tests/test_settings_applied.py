"""[settings] in config.toml reaches the running app; the command line overrides it."""

from __future__ import annotations

import os
from pathlib import Path

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.cli import build_app
from virttui.widgets.common.glyphs import ASCII, UNICODE


def _config(text: str) -> Path:
    path = Path(os.environ["VIRTTUI_CONFIG_FILE"])  # the autouse fixture's private file
    path.write_text(text)
    return path


SETTINGS = """
[settings]
refresh_seconds = 5
cpu_mode = "vcpu"
ascii_glyphs = true
shutdown_grace = 7
"""


async def test_config_settings_reach_the_running_app() -> None:
    _config(SETTINGS)
    app = build_app(["--connect", "test:///default"])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "test:///default" in app.hosts)
        host = app.hosts["test:///default"]
        assert app.refresh_seconds == 5.0 and host.refresh == 5.0
        assert app.store.cpu_mode == "vcpu"
        assert app.glyphs is ASCII
        assert app.store.shutdowns.grace == 7.0
        await wait_until(pilot, lambda: "every 5s" in screen_text(app))
        assert "CPU% of own vCPUs" in screen_text(app)


async def test_command_line_overrides_the_config() -> None:
    _config(SETTINGS)
    app = build_app(["--connect", "test:///default", "--refresh", "0.5"])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "test:///default" in app.hosts)
        assert app.refresh_seconds == 0.5 and app.hosts["test:///default"].refresh == 0.5
        await wait_until(pilot, lambda: "every 0.5s" in screen_text(app))
        assert app.store.cpu_mode == "vcpu"  # not on the command line: the config's


def test_without_config_or_option_the_one_default_applies() -> None:
    app = build_app(["--connect", "test:///default"])
    assert app.refresh_seconds == 1.0 and app.store.cpu_mode == "host"
    assert app.glyphs is UNICODE  # TERM is not linux in the tests


def test_graphics_mode_from_config_and_command_line() -> None:
    # gfxproto: [console] graphics, overridden by --graphics; never a terminal query from here.
    assert build_app(["--connect", "test:///default"]).graphics_choice.mode == "auto"
    _config('[console]\ngraphics = "sixel"\n')
    app = build_app(["--connect", "test:///default"])
    assert (app.graphics_choice.mode, app.graphics_choice.reason) == (
        "sixel",
        "override from config",
    )
    app = build_app(["--connect", "test:///default", "--graphics", "kitty"])
    assert (app.graphics_choice.mode, app.graphics_choice.reason) == (
        "kitty",
        "override from the command line",
    )
    _config('[console]\ngraphics = "png"\n')
    app = build_app(["--connect", "test:///default"])
    assert app.graphics_choice.mode == "auto"
    assert any("console.graphics" in p and '"halfblocks"' in p for p in app.config_problems)


def test_main_asks_the_terminal_only_for_auto_and_only_on_a_tty(monkeypatch) -> None:
    """cli._detect_graphics, as main() calls it before app.run(): a pty answering DA1 with
    Sixel; a forced mode is not overridden (no query written); a pipe is never queried."""
    import fcntl
    import pty
    import struct
    import sys
    import termios
    import threading

    from virttui.cli import _detect_graphics

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 900, 600))
    tty_file = os.fdopen(slave, "r+b", buffering=0)
    monkeypatch.setattr(sys, "stdin", tty_file)
    monkeypatch.setattr(sys, "stdout", tty_file)
    seen: list[bytes] = []

    def answer() -> None:
        data = b""
        while not data.endswith(b"\x1b[c"):
            data += os.read(master, 1024)
        seen.append(data)
        os.write(master, b"\x1b[?62;4;22c")

    try:
        worker = threading.Thread(target=answer)
        worker.start()
        app = build_app(["--connect", "test:///default"])
        _detect_graphics(app)
        worker.join(10)
        assert (app.graphics_choice.mode, app.graphics_choice.reason) == (
            "sixel",
            "detected Sixel",
        )
        assert app.cell_pixels == (9, 20)
        assert len(seen) == 1 and seen[0].startswith(b"\x1b_Gi=31,")
        forced = build_app(["--connect", "test:///default", "--graphics", "halfblocks"])
        _detect_graphics(forced)
        assert forced.graphics_choice.mode == "halfblocks" and len(seen) == 1
    finally:
        tty_file.close()
        os.close(master)
    read, write = os.pipe()
    with os.fdopen(read, "rb") as r, os.fdopen(write, "wb") as w:
        monkeypatch.setattr(sys, "stdin", r)
        monkeypatch.setattr(sys, "stdout", w)
        piped = build_app(["--connect", "test:///default"])
        _detect_graphics(piped)
    assert piped.graphics_choice.mode == "auto" and piped.cell_pixels is None
