"""Real fio runs on temp files (fio 3.33 from the Makefile's APT_PACKAGES), a few seconds each."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest

from virttui.core.fio.guard import Verdict, check_targets
from virttui.core.jobs import JobContext
from virttui.core.storage.used_by import StorageUsage

needs_fio = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")


def fio_stream(tmp_path: Path, *options: str, seconds: int = 3) -> bytes:
    """Run fio with `options` on a 4 MiB file in tmp_path for `seconds`; the json+ stream."""
    out = tmp_path / "out.json"
    argv = [
        "fio",
        f"--filename={tmp_path / 'data.bin'}",
        "--size=4M",
        "--ioengine=psync",
        "--time_based",
        f"--runtime={seconds}",
        "--output-format=json+",
        "--status-interval=1",
        f"--output={out}",
        *options,
    ]
    subprocess.run(argv, check=True, timeout=60, stdin=subprocess.DEVNULL)  # noqa: S603
    return out.read_bytes()


class Check(Protocol):
    def __call__(
        self, targets: Sequence[str], *, writes: bool, usage: StorageUsage, **kw: Any
    ) -> Verdict: ...


@pytest.fixture
def check() -> Check:
    """`check_targets` on this machine. tests/integration/test_fio_guard_ssh.py overrides this
    fixture to run the same guard tests on a `qemu+ssh` host."""

    def run(targets: Sequence[str], *, writes: bool, usage: StorageUsage, **kw: Any) -> Verdict:
        return check_targets(
            JobContext(0, lambda _m: None), targets, writes=writes, usage=usage, **kw
        )

    return run
