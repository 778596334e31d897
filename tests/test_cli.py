"""The command line: version, argument errors, module entry point; no Textual import for --version."""

from __future__ import annotations

import subprocess
import sys

from virttui import __version__
from virttui.cli import build_parser


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virttui", *args], capture_output=True, text=True, timeout=60
    )


def test_version_via_module_entry_point() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"virttui {__version__}"


def test_version_does_not_import_textual_or_libvirt() -> None:
    code = "import sys; from virttui.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\nprint('textual' in sys.modules, 'libvirt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split()[-2:] == ["False", "False"]


def test_bad_refresh_is_a_usage_error() -> None:
    out = run("--refresh", "0")
    assert out.returncode == 2
    assert "--refresh must be positive" in out.stderr


def test_password_in_connect_uri_is_a_usage_error() -> None:
    out = run("--connect", "qemu+ssh://root:hunter2@kvm01/system")
    assert out.returncode == 2
    assert "password" in out.stderr and "ssh keys" in out.stderr
    assert "hunter2" not in out.stderr


def test_several_connect_options_accumulate() -> None:
    args = build_parser().parse_args(
        ["-c", "qemu:///system", "--connect", "test:///default", "--readonly"]
    )
    assert args.connect == ["qemu:///system", "test:///default"]
    assert args.readonly
