"""`virttui check [--connect URI] [--json]`: the host capability report without the UI.

Exit status: 0 when KVM is fully usable, 1 when guests would only run under emulation or a
check failed, 2 on error (cannot connect, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import libvirt

from virttui.core.host.connection import effective_uri, is_local_uri
from virttui.core.host.libvirt_runtime import error_message, silence_errors
from virttui.core.host.probe import collect_host_report
from virttui.core.host.probe.present import build_sections
from virttui.core.host.probe.textreport import render_text

DEFAULT_URI = "qemu:///system"
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virttui check",
        description="Can this host run KVM guests, and how is it built? Exit status 0: KVM "
        "usable; 1: emulation only or a failed check; 2: error.",
    )
    parser.add_argument(
        "--connect",
        "-c",
        metavar="URI",
        help="libvirt URI (default: $LIBVIRT_DEFAULT_URI, else qemu:///system)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    # Tests point the local probes at a fixture tree instead of the real /proc and /sys.
    parser.add_argument("--root", type=Path, default=Path("/"), help=argparse.SUPPRESS)
    return parser


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help exits 0, a bad argument 2
        return int(exc.code or 0)
    uri = args.connect or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
    silence_errors()
    try:
        # A report reads; it never needs (or should hold) a read-write connection.
        conn = libvirt.openReadOnly(effective_uri(uri))
    except libvirt.libvirtError as exc:
        print(f"virttui check: cannot connect to {uri}: {error_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    try:
        report = collect_host_report(conn, local=is_local_uri(uri), root=args.root)
    except libvirt.libvirtError as exc:
        print(f"virttui check: {uri}: {error_message(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
    try:
        if args.json:
            json.dump(report.to_json_dict(), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render_text(build_sections(report)))
        sys.stdout.flush()
    except BrokenPipeError:  # `virttui check | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return report.verdict.exit_code
