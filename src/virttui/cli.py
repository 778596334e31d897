"""Command line entry point. Imports stay lazy: `--version` and argument errors never load Textual.

Start-up overlaps the two slow parts: `main` starts the hosts' connections (core only: libvirt and
threads) before it imports Textual and the app, so the daemon opens the connection and answers the
first stats call while the UI is imported and composed; the app takes the started connections over
(see core/host/early.py) and shows the rows on its first frame when they are already there.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from virttui import __version__

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp
    from virttui.core.host.early import EarlyHosts
    from virttui.core.host.spec import HostSpec
    from virttui.core.settings.config import LoadedConfig

DEFAULT_URI = "qemu:///system"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virttui",
        description="Terminal UI for libvirt/KVM hosts. `virttui check` prints a host capability report; `virttui create PRESET.toml` creates a domain from a wizard preset.",
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
    parser.add_argument(
        "--graphics",
        choices=("auto", "kitty", "sixel", "halfblocks"),
        default=None,
        metavar="MODE",
        help="how the graphical console draws: auto (ask the terminal), kitty, sixel or "
        "halfblocks (default: console.graphics in the config, else auto)",
    )
    parser.add_argument("--version", action="version", version=f"virttui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["check"]:
        from virttui.check import main as check_main

        return check_main(args_list[1:])
    if args_list[:1] == ["create"]:
        from virttui.create_cli import main as create_main

        return create_main(args_list[1:])
    plan = plan_start(args_list)
    from virttui.core.host.early import EarlyHosts

    # Before Textual is imported: connecting overlaps importing and composing the UI.
    early = EarlyHosts.start(
        plan.hosts,
        readonly=plan.args.readonly,
        refresh=plan.refresh,
        demo_setup=_demo_extras,
    )
    try:
        app = build_app(args_list, plan=plan, early=early)
        # Textual and the app are imported and live for the whole session: keep them out of the
        # cyclic GC's full collections, one of which otherwise lands in the first frames (tens of
        # ms, over 100 on a busy machine; it holds the GIL the poller needs as well).
        gc.freeze()
        _detect_graphics(app)
        app.run()
    finally:
        early.close()  # only the connections the app never took (it stops its own)
    if app.terminal_gone is not None:
        from virttui.core.common.terminal_watch import detach_from_terminal

        detach_from_terminal()  # the final flush of stdout/stderr must not hit the dead terminal
    return app.return_code or 0


@dataclass(frozen=True, slots=True)
class StartPlan:
    """What `virttui ARGS` opens, worked out without Textual: the parsed arguments, the config,
    the hosts to connect to and the refresh interval they poll at (the early connections and the
    app use the same)."""

    args: argparse.Namespace
    loaded: LoadedConfig
    hosts: list[HostSpec]
    refresh: float


def plan_start(args_list: list[str]) -> StartPlan:
    """Parse the arguments (usage errors exit here) and read the config: core only."""
    args = build_parser().parse_args(args_list)
    if args.refresh is not None and args.refresh <= 0:
        build_parser().error("--refresh must be positive")
    from virttui.core.settings.config import PASSWORD_HINT, uri_has_password

    if any(uri_has_password(uri) for uri in args.connect):
        build_parser().error(f"--connect: a URI cannot hold a password; {PASSWORD_HINT}")

    from virttui.core.host.host_config import startup_hosts
    from virttui.core.host.spec import HostSpec
    from virttui.core.settings.config import load_config

    loaded = load_config()
    env_default = os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
    start = startup_hosts(args.connect, args.demo, loaded, env_default)
    specs: list[HostSpec] = [HostSpec(h.uri, h.label or None) for h in start]
    if args.demo:
        from virttui.demo import demo_uri

        specs.append(HostSpec(demo_uri(), demo=True))
    # The command line overrides the config, which overrides the one default.
    refresh = loaded.config.settings.refresh_seconds if args.refresh is None else args.refresh
    return StartPlan(args, loaded, specs, refresh=refresh)


def build_app(
    args_list: list[str], *, plan: StartPlan | None = None, early: EarlyHosts | None = None
) -> VirtTUIApp:
    """The app `virttui ARGS` runs: hosts and settings from the command line and the config.
    `plan`: already worked out from the same arguments; `early`: its hosts, already started."""
    if plan is None:
        plan = plan_start(args_list)
    args, loaded, specs = plan.args, plan.loaded, plan.hosts
    from virttui.app import VirtTUIApp

    settings = loaded.config.settings
    from virttui.core.console.graphics_mode import PENDING, choose

    # "auto" stays pending until main() asks the terminal (never from tests or a pipe).
    graphics = choose(args.graphics, loaded.config.graphics, lambda: PENDING)
    app = VirtTUIApp(
        specs,
        readonly=args.readonly,
        refresh=plan.refresh,
        demo_fallback=args.demo_fallback or (not args.connect and not args.demo),
        # --ascii or the setting force ASCII; otherwise it is chosen from the terminal.
        ascii_glyphs=True if args.ascii or settings.ascii_glyphs else None,
        config_problems=[str(p) for p in loaded.problems],
        shutdown_grace=settings.shutdown_grace,
        cpu_mode=settings.cpu_mode,
        keymap=dict(loaded.config.keys),
        early=early,
    )
    if graphics.mode != "auto":
        app.graphics_choice = graphics
    return app


def _detect_graphics(app: VirtTUIApp) -> None:
    """ "auto": ask the terminal what it can draw, once, before Textual owns stdin (afterwards
    its input thread would swallow the replies). Only when stdin and stdout are a terminal."""
    from virttui.core.console.graphics_mode import cell_pixel_size, detect_terminal

    try:
        fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    if not (os.isatty(fd_in) and os.isatty(fd_out)):
        return
    app.cell_pixels = cell_pixel_size(fd_out)
    if app.graphics_choice.mode == "auto":
        app.graphics_choice = detect_terminal(fd_in, fd_out)


def _demo_extras(conn: object) -> None:
    """The demo host's set-up once connected (imported only when a demo host connects)."""
    from virttui.demo import apply_demo_extras

    apply_demo_extras(conn)
