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


# `main` with the app's run stubbed (no terminal here): the order in which things happen.
START_ORDER = """
import sys, threading
from virttui.core.host import connection
events = []
real_start = connection.HostConnection.start
def start(self):
    events.append(("start", self.uri, "textual" in sys.modules))
    real_start(self)
connection.HostConnection.start = start
import virttui.cli as cli
real_build = cli.build_app
def build_app(args, **kw):
    early = kw["early"]
    refresh = [h.refresh for h in early.hosts.values()]
    events.append(("build", "textual" in sys.modules, sorted(early.hosts), refresh))
    app = real_build(args, **kw)
    events.append(("app", app.refresh_seconds, app.readonly))
    app.run = lambda: events.append(("run", sorted(app.hosts)))
    return app
cli.build_app = build_app
code = cli.main(sys.argv[1:])
alive = [t.name for t in threading.enumerate() if t.name.startswith("virttui-host")]
print(repr((events, code, alive)))
"""


def test_main_starts_the_connections_before_importing_textual() -> None:
    out = subprocess.run(
        [sys.executable, "-c", START_ORDER, "--connect", "test:///default", "--refresh", "7"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    events, code, alive = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    assert events == [
        ("start", "test:///default", False),  # connecting before Textual is imported
        # The app is built with the started connection, both polling at the same interval.
        ("build", False, ["test:///default"], [7.0]),
        ("app", 7.0, False),
        ("run", []),  # (not taken yet: the app takes it over when it mounts)
    ]
    assert code == 0
    assert alive == []  # the app never ran: main stopped the connection it had started


def test_graphics_option_takes_only_known_modes() -> None:
    assert build_parser().parse_args(["--graphics", "sixel"]).graphics == "sixel"
    assert build_parser().parse_args([]).graphics is None
    out = run("--graphics", "png")
    assert out.returncode == 2 and "--graphics" in out.stderr
