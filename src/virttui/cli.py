"""Command line entry point. Imports stay lazy: `--version` and argument errors never load Textual."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from virttui import __version__

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp

DEFAULT_URI = "qemu:///system"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virttui",
        description="Terminal UI for libvirt/KVM hosts. `virttui check` prints a host capability report.",
        epilog="Remote hosts: --connect qemu+ssh://user@host/system (key or agent auth; ssh never prompts).",
    )
    parser.add_argument(
        "--connect",
        "-c",
        action="append",
        metavar="URI",
        default=[],
        help="libvirt URI; repeat to open several hosts (default: the config's autoconnect hosts, "
        "else $LIBVIRT_DEFAULT_URI, else qemu:///system)",
    )
    parser.add_argument(
        "--readonly", "-r", action="store_true", help="open read-only; every action is disabled"
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the bundled demo host (libvirt test driver)"
    )
    parser.add_argument(
        "--demo-fallback",
        action="store_true",
        help="when the default host cannot be reached, open the demo host automatically (make run)",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stats refresh interval (default: settings.refresh_seconds in the config, else 1)",
    )
    parser.add_argument(
        "--ascii",
        action="store_true",
        default=None,
        help="ASCII glyphs only (automatic on TERM=linux; settings.ascii_glyphs in the config)",
    )
    parser.add_argument("--version", action="version", version=f"virttui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["check"]:
        from virttui.check import main as check_main

        return check_main(args_list[1:])
    app = build_app(args_list)
    app.run()
    if app.terminal_gone is not None:
        from virttui.core.common.terminal_watch import detach_from_terminal

        detach_from_terminal()  # the final flush of stdout/stderr must not hit the dead terminal
    return app.return_code or 0


def build_app(args_list: list[str]) -> VirtTUIApp:
    """The app `virttui ARGS` runs: hosts and settings from the command line and the config."""
    args = build_parser().parse_args(args_list)
    if args.refresh is not None and args.refresh <= 0:
        build_parser().error("--refresh must be positive")
    from virttui.core.settings.config import PASSWORD_HINT, uri_has_password

    if any(uri_has_password(uri) for uri in args.connect):
        build_parser().error(f"--connect: a URI cannot hold a password; {PASSWORD_HINT}")

    from virttui.app import HostSpec, VirtTUIApp
    from virttui.core.host.host_config import startup_hosts
    from virttui.core.settings.config import load_config

    loaded = load_config()
    env_default = os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
    start = startup_hosts(args.connect, args.demo, loaded, env_default)
    specs: list[HostSpec] = [HostSpec(h.uri, h.label or None) for h in start]
    if args.demo:
        from virttui.demo import demo_uri

        specs.append(HostSpec(demo_uri(), demo=True))
    settings = loaded.config.settings
    app = VirtTUIApp(
        specs,
        readonly=args.readonly,
        # The command line overrides the config, which overrides the one default.
        refresh=settings.refresh_seconds if args.refresh is None else args.refresh,
        demo_fallback=args.demo_fallback or (not args.connect and not args.demo),
        # --ascii or the setting force ASCII; otherwise it is chosen from the terminal.
        ascii_glyphs=True if args.ascii or settings.ascii_glyphs else None,
        config_problems=[str(p) for p in loaded.problems],
        shutdown_grace=settings.shutdown_grace,
        cpu_mode=settings.cpu_mode,
        keymap=dict(loaded.config.keys),
    )
    return app
