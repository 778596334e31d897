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
