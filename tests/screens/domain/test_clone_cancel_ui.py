"""The clone dialog's Cancel (Escape): the running qemu-img copy of a plain-file disk is killed,
the partial copy removed, nothing defined, the dialog closed (test driver + real qemu-img, the
copy slowed with `qemu-img convert -r` so the cancel lands mid-way)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tests.pilot_utils import wait_until
from tests.screens.domain.test_actions_ui import (
    URI,
    call,
    choose,
    exists,
    make_app,
    on_screen,
    ready,
)
from virttui.core.domain import clone as clone_module
from virttui.screens.domain import actions as ui
from virttui.screens.domain.action_dialogs import CloneProgressScreen, PromptScreen


async def test_cancel_a_plain_file_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "data.raw"
    raw.write_bytes(os.urandom(16 << 20))
    disk = tmp_path / "src.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(disk)], check=True)
    raw.unlink()
    real = clone_module.run_process

    def slow(ctx: Any, argv: Sequence[str], **kw: Any) -> Any:
        argv = list(argv)
        if argv[:2] == ["qemu-img", "convert"]:
            argv[2:2] = ["-r", "1M"]  # 16 s for 16 MiB: the cancel lands first
        return real(ctx, argv, **kw)

    monkeypatch.setattr(clone_module, "run_process", slow)
    xml = f"""<domain type='test'><name>filesrc</name><memory>65536</memory><vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='{disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""
    async with make_app().run_test(size=(80, 24)) as pilot:
        app = await ready(pilot)
        src = call(app, lambda c: c.defineXML(xml).UUIDString())
        await choose(pilot, lambda: ui.open_actions_menu(app, URI, src), "c")
        prompt = await on_screen(pilot, PromptScreen)
        assert prompt.query_one(Input).value == "filesrc-clone"
        await pilot.press("enter")
        progress = await on_screen(pilot, CloneProgressScreen)
        new_file = tmp_path / "filesrc-clone-src.qcow2"
        await wait_until(pilot, new_file.exists, 10)  # qemu-img is writing it
        await pilot.press("escape")
        assert progress.cancelled
        await wait_until(pilot, lambda: not isinstance(app.screen, CloneProgressScreen), 10)
        await wait_until(pilot, lambda: not new_file.exists(), 10)
        assert not exists(app, "filesrc-clone")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["src.qcow2"]
