"""`virttui create PRESET.toml [--connect URI] [--print-xml] [--print-line]`: the create wizard's
work without the UI, from a preset the wizard saved (core/create/presets.py).

- `--print-xml`: read the host (only reads), check, and print what would be
  defined on stdout: with an install boot the install XML first, then the definition, as
  `virt-install --print-xml` does. Nothing is created. On a remote host the files of the
  preset's `uploads` appear as the volumes they will be (a note on stderr says so).
- `--print-line`: print the equivalent `virt-install` command line on stdout (after the XML
  when both are asked). Nothing is created.
- otherwise: create (core/create/runner.py), progress lines on stderr, the domain's name on
  stdout. Ctrl-C cancels: what was made so far is removed.

Exit status: 0 done; 1 the preset, the check or the create failed (the message, and what the
rollback removed, on stderr); 2 bad arguments or no connection.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping
from types import FrameType

import libvirt

from virttui.core.create.domain_xml import BuildError, build_domain_xmls
from virttui.core.create.presets import PresetError, load_preset
from virttui.core.create.runner import CreateFailed, check_for_create, create_domain
from virttui.core.create.uploads import planned_spec, read_upload_plan
from virttui.core.create.virt_install import upload_notes, virt_install_line
from virttui.core.host.connection import effective_uri, is_local_uri
from virttui.core.host.libvirt_runtime import error_message, silence_errors
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobMessage, JobProgress

DEFAULT_URI = "qemu:///system"
EXIT_FAILED = 1
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virttui create",
        description="Create a domain from a preset the create wizard saved (TOML). Exit status "
        "0: created (or printed); 1: the preset, the checks or the create failed (what was "
        "made is removed again); 2: bad arguments or no connection.",
    )
    parser.add_argument("preset", metavar="PRESET.toml", help="the preset file")
    parser.add_argument(
        "--connect",
        "-c",
        metavar="URI",
        help="libvirt URI (default: $LIBVIRT_DEFAULT_URI, else qemu:///system)",
    )
    parser.add_argument(
        "--print-xml",
        action="store_true",
        help="print the domain XML that would be defined (the install boot's first, when there "
        "is one) and create nothing",
    )
    parser.add_argument(
        "--print-line",
        action="store_true",
        help="print the equivalent virt-install command line and create nothing",
    )
    return parser


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help exits 0, a bad argument 2
        return int(exc.code or 0)
    try:
        spec = load_preset(args.preset)
    except PresetError as exc:
        _err(f"virttui create: {exc}")
        return EXIT_FAILED
    uri = args.connect or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
    silence_errors()
    printing = args.print_xml or args.print_line
    try:
        # read-write also for printing: libvirt refuses domain capabilities to read-only
        # connections; printing only reads
        conn = libvirt.open(effective_uri(uri))
    except libvirt.libvirtError as exc:
        _err(f"virttui create: cannot connect to {uri}: {error_message(exc)}")
        return EXIT_ERROR
    try:
        if printing:
            return _print(conn, spec, uri, xml=args.print_xml, line=args.print_line)
        return _create(conn, spec, uri)
    finally:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass


def _print(conn: libvirt.virConnect, spec: object, uri: str, *, xml: bool, line: bool) -> int:
    from virttui.core.create.spec import CreateSpec

    assert isinstance(spec, CreateSpec)
    box: list[JobMessage] = []
    ctx = JobContext(0, box.append)
    try:
        facts, errors = check_for_create(ctx, conn, spec, uri=uri, local_files_host=_local(uri))
    except libvirt.libvirtError as exc:
        _err(f"virttui create: {uri}: {error_message(exc)}")
        return EXIT_ERROR
    if errors:
        _report_errors(spec.name, errors)
        return EXIT_FAILED
    # on a remote host the files of spec.uploads are uploaded first: show their volumes' paths
    plan = read_upload_plan(ctx, conn, spec, local_files_host=_local(uri))
    for note in upload_notes(spec, remote=bool(plan.targets), targets=plan.targets):
        _err(f"virttui create: {note}")
    spec = planned_spec(spec, plan.targets)
    try:
        xmls = build_domain_xmls(spec, facts.caps)
    except BuildError as exc:
        _err(f"virttui create: {exc.field}: {exc.message}")
        return EXIT_FAILED
    out: list[str] = []
    if xml:
        if xmls.install is not None and spec.start_after:
            out.append(xmls.install)
        out.append(xmls.final)
    if line:
        out.append(virt_install_line(spec, facts.caps, uri=uri) + "\n")
    try:
        sys.stdout.write("".join(out))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _local(uri: str) -> bool:
    return is_local_uri(uri) and not uri.startswith("test:")


def _report_errors(name: str, errors: Mapping[str, str]) -> None:
    _err(f"virttui create: cannot create {name!r}:")
    for key, msg in errors.items():
        _err(f"  {key}: {msg}")


def _create(conn: libvirt.virConnect, spec: object, uri: str) -> int:
    from virttui.core.create.spec import CreateSpec

    assert isinstance(spec, CreateSpec)
    last: list[JobMessage] = []
    errors: list[BaseException] = []

    def sink(msg: JobMessage) -> None:
        if isinstance(msg, JobProgress):
            pct = f"{msg.fraction * 100:3.0f}% " if msg.fraction is not None else ""
            _err(f"virttui create: {pct}{msg.text}")
        else:
            last.append(msg)

    def body(ctx: JobContext) -> object:
        try:
            return create_domain(ctx, conn, spec, uri=uri, local_files_host=_local(uri))
        except BaseException as exc:
            errors.append(exc)
            raise

    job: Job[object] = Job(body, sink, name="create")

    def interrupt(_sig: int, _frame: FrameType | None) -> None:
        _err("virttui create: cancelling (removing what was made)")
        job.cancel(wait=False)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        job.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    result = last[-1] if last else None
    if isinstance(result, JobDone):
        print(getattr(result.result, "name", spec.name), flush=True)
        for note in getattr(result.result, "notes", ()):
            _err(f"virttui create: {note}")
        return 0
    failure = errors[-1] if errors else None
    if isinstance(failure, CreateFailed):
        if failure.errors:
            _report_errors(spec.name, failure.errors)
        else:
            _err(f"virttui create: {failure}")
    elif isinstance(result, JobFailed):
        _err(f"virttui create: {result.message}")
    return EXIT_FAILED


__all__ = ["main"]
