"""Every `qemu-img` action on a disk image: info, check, create, convert, resize, internal
snapshots, commit, rebase.

Each call runs `qemu-img` through the one job mechanism (`core/jobs.run_process`): an argv list,
on this machine or, for a `qemu+ssh` URI, on that host over ssh with every argument quoted. JSON
output is read where qemu-img has it (`info`, `check`). Long actions (convert, commit, rebase)
report progress from `-p` (`(NN.NN/100%)` lines) to `ctx.progress` with an ETA; cancel kills
qemu-img and removes the partial target of a convert.

Paths must be absolute: a relative name could be read as an option (`-x`) or a protocol
(`nbd:...`, `json:{...}`) by qemu-img. Values inside `-o` and `--object` option strings have
their commas doubled (QEMU's escape), so a backing file named `a,b` stays one value.

qemu-img's own errors are turned into sentences (`ImageError`); input that cannot be right
(a size like `-1G` or `10Q`, a missing file, a directory, an existing target without
`overwrite`) is refused before anything runs. Blocking: call from a job.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from virttui.core.common.units import human_bytes, parse_bytes
from virttui.core.jobs import (
    Job,
    JobContext,
    JobDone,
    JobError,
    JobFailed,
    JobMessage,
    ProcessFailed,
    current_context,
    run_process,
    ssh_target,
)

QEMU_IMG = "qemu-img"
STALE_NOTE = (
    "the image is in use: read with -U (force share), so the data may be stale or inconsistent"
)
FORMATS = ("qcow2", "raw")
COMPAT_LEVELS = ("0.10", "1.1")
PREALLOCATION = {
    "qcow2": ("off", "metadata", "falloc", "full"),
    "raw": ("off", "falloc", "full"),
}
REPAIR_MODES = ("", "leaks", "all")
AES_REFUSED = (
    "qcow2's built-in AES encryption (encryption=on) is refused by modern QEMU: it is weak and "
    "can no longer be created. Use LUKS encryption instead (encrypt.format=luks, a passphrase "
    "held in a secret)."
)

_PERCENT = re.compile(r"\(\s*(\d+(?:\.\d+)?)/100%\)")


class ImageError(JobError):
    """An image action refused or failed; the message is a sentence for the admin."""


# ------------------------------------------------------------------------------------ input
def parse_image_size(text: str, what: str = "size") -> int:
    """A size as qemu-img takes it ("10G", "512M", "1.5T", "4096" bytes, "10GiB") in bytes: the
    one size parser (`core/common/units.parse_bytes`), a bare number meaning bytes as in
    qemu-img. ValueError with a sentence for empty, negative, zero, unknown units ("10Q")."""
    return parse_bytes(text, what, default_unit="B")


def check_path(path: str, what: str = "image") -> str:
    """`path` when it is usable as a qemu-img file name: absolute, no NUL, not empty."""
    if not path:
        raise ImageError(f"{what}: no path given")
    if "\0" in path:
        raise ImageError(f"{what}: a path cannot contain a NUL character")
    if not path.startswith("/"):
        raise ImageError(f"{what}: not an absolute path: {path!r}")
    return path


def opt_value(value: str) -> str:
    """A value inside a QEMU option string (`-o a=b,c=d`): commas doubled."""
    return value.replace(",", ",,")


def _is_remote(uri: str | None) -> bool:
    return bool(uri) and ssh_target(uri or "") is not None


def _refuse_aes(options: str) -> None:
    low = options.replace(" ", "").lower()
    if re.search(r"(^|,)encryption=(on|true|yes)", low) or "encrypt.format=aes" in low:
        raise ImageError(AES_REFUSED)


# ------------------------------------------------------------------------------------ running
@dataclass(frozen=True, slots=True)
class Output:
    returncode: int
    stdout: str
    stderr: tuple[str, ...]


def readable_error(stderr: Sequence[str], path: str = "") -> str:
    """qemu-img's last error line as a sentence (the common causes named plainly)."""
    lines = [line for line in stderr if line.strip()]
    lines = [line for line in lines if not line.startswith("Warning: Permanently added")]
    if not lines:
        return "qemu-img failed without a message"
    text = " ".join(line.removeprefix("qemu-img: ").strip() for line in lines[-3:])
    low = text.lower()
    if "no such file or directory" in low:
        return f"no such file: {path}" if path else text
    if "requires" in low and "regular file" in low:
        return f"{path or 'the path'} is a directory, not an image file"
    if "no space left on device" in low:
        return f"the target's filesystem is full (no space left on device): {text}"
    if 'failed to get "write" lock' in low or 'failed to get shared "write" lock' in low:
        return (
            f"{path or 'the image'} is in use (another process, a running guest, holds its "
            f"lock): {text}"
        )
    if "image is not in qcow2 format" in low or "could not open backing" in low:
        return text
    if "permission denied" in low:
        return f"permission denied: {text}"
    return text


def run_qemu_img(
    ctx: JobContext,
    args: Sequence[str],
    *,
    uri: str | None = None,
    ok_codes: Sequence[int] = (0,),
    on_line: Callable[[str], None] | None = None,
    cleanup: Callable[[], None] | None = None,
    path: str = "",
) -> Output:
    """Run `qemu-img ARGS` (locally or on `uri`'s host); ImageError with a sentence when it
    exits with a code outside `ok_codes`."""
    lines: list[str] = []

    def line(text: str) -> None:
        lines.append(text)
        if on_line is not None:
            on_line(text)

    argv = [QEMU_IMG, *args]
    try:
        result = run_process(ctx, argv, uri=uri, on_line=line, cleanup=cleanup)
        code, tail = result.returncode, result.stderr_tail
    except ProcessFailed as exc:
        code, tail = exc.returncode, tuple(exc.stderr_tail)
        if exc.returncode == 127 and not _is_remote(uri):
            raise ImageError("qemu-img is not installed") from None
    except FileNotFoundError:
        raise ImageError("qemu-img is not installed (apt install qemu-utils)") from None
    if code not in ok_codes:
        raise ImageError(readable_error(tail, path))
    return Output(code, "\n".join(lines), tuple(tail))


def run_once(fn: Callable[[JobContext], object], *, timeout: float | None = None) -> object:
    """Run `fn(ctx)` now, inside the current job when there is one, else as a job of its own
    (cancelled after `timeout` seconds). Its exception is raised again."""
    ctx = current_context()
    if ctx is not None:
        return fn(ctx)
    box: list[JobMessage] = []
    error: list[BaseException] = []

    def wrapped(c: JobContext) -> object:
        try:
            return fn(c)
        except BaseException as exc:
            error.append(exc)
            raise

    job: Job[object] = Job(wrapped, box.append, name="qemu-img")
    timer = threading.Timer(timeout, job.cancel) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        job.run()
    finally:
        if timer is not None:
            timer.cancel()
    last = box[-1] if box else None
    if isinstance(last, JobDone):
        return last.result
    if isinstance(last, JobFailed) and last.cancelled:
        raise ImageError(f"qemu-img gave no answer within {timeout:g}s")
    if error:
        raise error[0]
    raise ImageError(last.message if isinstance(last, JobFailed) else "qemu-img failed")


def _shell(ctx: JobContext, argv: Sequence[str], uri: str | None) -> int:
    """A small helper program (test, rm) where the image lives; its exit code."""
    try:
        return run_process(ctx, argv, uri=uri).returncode
    except ProcessFailed as exc:
        return exc.returncode


def path_exists(ctx: JobContext, path: str, uri: str | None = None) -> bool:
    """Does `path` exist on the image's host (a broken symlink counts)?"""
    if not _is_remote(uri):
        return os.path.lexists(path)
    return _shell(ctx, ["test", "-e", path], uri) == 0 or (
        _shell(ctx, ["test", "-L", path], uri) == 0
    )


def target_kind(ctx: JobContext, path: str, uri: str | None = None) -> str:
    """ "" (nothing there), "file" (a regular file) or "other" (a directory, a device, a
    symlink...) on the image's host."""
    if not _is_remote(uri):
        if not os.path.lexists(path):
            return ""
        return "file" if os.path.isfile(path) and not os.path.islink(path) else "other"
    if _shell(ctx, ["test", "-e", path], uri) != 0 and _shell(ctx, ["test", "-L", path], uri):
        return ""
    if _shell(ctx, ["test", "-f", path], uri) == 0 and _shell(ctx, ["test", "-L", path], uri):
        return "file"
    return "other"


def remove_file(path: str, uri: str | None = None) -> None:
    """Remove the regular file `path` (a partial target) where it lives; quiet when it is gone.
    Never a directory, device or symlink. Runs outside the (cancelled) job that calls it."""
    if not _is_remote(uri):
        if os.path.isfile(path) and not os.path.islink(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        return
    # `find -type f -delete` removes it only when it is a regular file (never follows links).
    argv = ["find", path, "-maxdepth", "0", "-type", "f", "-delete"]
    job: Job[int] = Job(lambda c: _shell(c, argv, uri), lambda _m: None)
    job.run()


def _precheck_source(path: str, uri: str | None) -> None:
    """Refuse a missing file or a directory before qemu-img runs (locally; remotely qemu-img's
    own message is made readable)."""
    check_path(path)
    if _is_remote(uri):
        return
    if os.path.isdir(path):
        raise ImageError(f"{path} is a directory, not an image file")
    if not os.path.exists(path):
        raise ImageError(f"no such file: {path}")


# ------------------------------------------------------------------------------------ info
@dataclass(frozen=True, slots=True)
class InternalSnapshot:
    id: str
    name: str
    vm_state_size: int
    date_sec: int
    vm_clock_nsec: int

    @property
    def date_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.date_sec))

    @property
    def clock_text(self) -> str:
        total_ms = self.vm_clock_nsec // 1_000_000
        secs, ms = divmod(total_ms, 1000)
        hours, rest = divmod(secs, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


@dataclass(frozen=True, slots=True)
class ImageLayer:
    """One image of a backing chain, from `qemu-img info --output=json`."""

    filename: str
    format: str
    virtual_size: int
    disk_size: int | None = None
    cluster_size: int | None = None
    compat: str = ""
    lazy_refcounts: bool | None = None
    encrypted: bool = False
    encryption_format: str = ""
    dirty: bool = False
    corrupt: bool = False
    backing_filename: str = ""
    full_backing_filename: str = ""
    backing_format: str = ""
    snapshots: tuple[InternalSnapshot, ...] = ()

    @property
    def backing(self) -> str:
        return self.full_backing_filename or self.backing_filename

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs for display (values are untrusted text: render them plainly)."""
        out = [
            ("format", self.format),
            ("virtual size", f"{human_bytes(self.virtual_size)} ({self.virtual_size} bytes)"),
            ("disk size", human_bytes(self.disk_size) if self.disk_size is not None else "?"),
        ]
        if self.cluster_size:
            out.append(("cluster size", human_bytes(self.cluster_size)))
        if self.compat:
            out.append(("compat", self.compat))
        if self.lazy_refcounts is not None:
            out.append(("lazy refcounts", "on" if self.lazy_refcounts else "off"))
        enc = self.encryption_format or ("yes" if self.encrypted else "no")
        out.append(("encryption", enc))
        out.append(("dirty flag", "set" if self.dirty else "clear"))
        if self.corrupt:
            out.append(("corrupt", "marked corrupt: run check with repair"))
        if self.backing:
            fmt = f" ({self.backing_format})" if self.backing_format else ""
            out.append(("backing file", self.backing + fmt))
        out.append(("internal snapshots", str(len(self.snapshots))))
        return out


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """The image and its backing chain, top first. `shared`: read with -U (stale_note says so)."""

    layers: tuple[ImageLayer, ...]
    shared: bool = False

    @property
    def top(self) -> ImageLayer:
        return self.layers[0]

    @property
    def stale_note(self) -> str:
        return STALE_NOTE if self.shared else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_layer(data: dict[str, object]) -> ImageLayer:
    specific = data.get("format-specific")
    spec: dict[str, object] = {}
    if isinstance(specific, dict):
        inner = specific.get("data")
        if isinstance(inner, dict):
            spec = inner
    encrypt = spec.get("encrypt")
    enc_format = ""
    if isinstance(encrypt, dict):
        enc_format = _str(encrypt.get("format"))
    lazy = spec.get("lazy-refcounts")
    snaps = []
    listed = data.get("snapshots")
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, dict):
            snaps.append(
                InternalSnapshot(
                    id=str(item.get("id", "")),
                    name=_str(item.get("name")),
                    vm_state_size=_int(item.get("vm-state-size")) or 0,
                    date_sec=_int(item.get("date-sec")) or 0,
                    vm_clock_nsec=(_int(item.get("vm-clock-sec")) or 0) * 1_000_000_000
                    + (_int(item.get("vm-clock-nsec")) or 0),
                )
            )
    fmt = _str(data.get("format"))
    if fmt == "luks":
        enc_format = "luks"
    return ImageLayer(
        filename=_str(data.get("filename")),
        format=fmt,
        virtual_size=_int(data.get("virtual-size")) or 0,
        disk_size=_int(data.get("actual-size")),
        cluster_size=_int(data.get("cluster-size")),
        compat=_str(spec.get("compat")),
        lazy_refcounts=lazy if isinstance(lazy, bool) else None,
        encrypted=bool(data.get("encrypted")) or bool(enc_format),
        encryption_format=enc_format,
        dirty=bool(data.get("dirty-flag")),
        corrupt=bool(spec.get("corrupt")),
        backing_filename=_str(data.get("backing-filename")),
        full_backing_filename=_str(data.get("full-backing-filename")),
        backing_format=_str(data.get("backing-filename-format")),
        snapshots=tuple(snaps),
    )


def parse_info(text: str, *, shared: bool = False) -> ImageInfo:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImageError(f"qemu-img info printed no JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    layers = tuple(parse_layer(item) for item in items if isinstance(item, dict))
    if not layers:
        raise ImageError("qemu-img info printed no image")
    return ImageInfo(layers, shared)


def info_args(path: str, *, chain: bool, force_share: bool, fmt: str = "") -> list[str]:
    args = ["info", "--output=json"]
    if chain:
        args.append("--backing-chain")
    if force_share:
        args.append("-U")
    if fmt:
        args += ["-f", fmt]
    return [*args, path]


def info(
    ctx: JobContext,
    path: str,
    *,
    uri: str | None = None,
    chain: bool = True,
    force_share: bool = False,
    fmt: str = "",
) -> ImageInfo:
    """`qemu-img info --output=json [--backing-chain] [-U]`. Without `force_share`, an image a
    running guest holds is read again with -U (and `shared` set: the data may be stale)."""
    _precheck_source(path, uri)
    args = info_args(path, chain=chain, force_share=force_share, fmt=fmt)
    try:
        out = run_qemu_img(ctx, args, uri=uri, path=path)
    except ImageError as exc:
        if force_share or "lock" not in str(exc):
            raise
        args = info_args(path, chain=chain, force_share=True, fmt=fmt)
        out = run_qemu_img(ctx, args, uri=uri, path=path)
        force_share = True
    return parse_info(out.stdout, shared=force_share)


def info_dict(path: str, *, uri: str | None = None, timeout: float = 30.0) -> dict[str, object]:
    """The raw JSON object of `qemu-img info --output=json -U PATH` (no chain), outside or inside
    a job. ImageError on failure."""

    def run(ctx: JobContext) -> dict[str, object]:
        check_path(path)
        out = run_qemu_img(ctx, info_args(path, chain=False, force_share=True), uri=uri, path=path)
        try:
            data = json.loads(out.stdout)
        except json.JSONDecodeError as exc:
            raise ImageError(f"qemu-img info printed no JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ImageError("qemu-img info printed no JSON object")
        return data

    result = run_once(run, timeout=timeout)
    assert isinstance(result, dict)
    return result


# ------------------------------------------------------------------------------------ check
@dataclass(frozen=True, slots=True)
class CheckResult:
    filename: str
    format: str
    returncode: int
    check_errors: int = 0
    corruptions: int = 0
    leaks: int = 0
    corruptions_fixed: int = 0
    leaks_fixed: int = 0
    allocated_clusters: int | None = None
    total_clusters: int | None = None
    fragmented_clusters: int | None = None
    compressed_clusters: int | None = None
    image_end_offset: int | None = None
    shared: bool = False
    messages: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.check_errors or self.corruptions or self.leaks)

    @property
    def readable(self) -> bool:
        """qemu-img could read the whole image (no check errors)."""
        return self.check_errors == 0

    @property
    def fragmentation(self) -> float | None:
        if self.fragmented_clusters is None or not self.allocated_clusters:
            return None
        return 100.0 * self.fragmented_clusters / self.allocated_clusters

    def lines(self) -> list[str]:
        out = []
        if self.clean:
            out.append("No errors were found on the image.")
        if self.corruptions:
            out.append(f"{self.corruptions} corruption(s): data may be lost; repair with -r all")
        if self.leaks:
            out.append(f"{self.leaks} leaked cluster(s): wasted space only; repair with -r leaks")
        if self.check_errors:
            out.append(f"{self.check_errors} error(s) while checking: the image is not readable")
        if self.corruptions_fixed or self.leaks_fixed:
            out.append(
                f"repaired: {self.corruptions_fixed} corruption(s), {self.leaks_fixed} leak(s)"
            )
        if self.allocated_clusters is not None and self.total_clusters:
            share = 100.0 * self.allocated_clusters / self.total_clusters
            out.append(
                f"{self.allocated_clusters}/{self.total_clusters} clusters allocated ({share:.2f}%)"
            )
        frag = self.fragmentation
        if frag is not None:
            out.append(f"{frag:.2f}% fragmented")
        if self.image_end_offset is not None:
            out.append(
                f"image end offset: {self.image_end_offset} ({human_bytes(self.image_end_offset)})"
            )
        if self.shared:
            out.append(f"Note: {STALE_NOTE}")
        return out


def check(
    ctx: JobContext,
    path: str,
    *,
    uri: str | None = None,
    repair: Literal["", "leaks", "all"] = "",
    force_share: bool = False,
    fmt: str = "",
) -> CheckResult:
    """`qemu-img check --output=json [-r leaks|all]`. Exit 2 (corruptions) and 3 (leaks) are
    results, not failures; 63 means the format has no consistency checks (raw)."""
    _precheck_source(path, uri)
    if repair not in REPAIR_MODES:
        raise ImageError(f"repair: {repair!r} is not one of leaks, all")
    if repair and force_share:
        raise ImageError("an image in use cannot be repaired: shut the guest off first")
    args = ["check", "--output=json"]
    if repair:
        args += ["-r", repair]
    if force_share:
        args.append("-U")
    if fmt:
        args += ["-f", fmt]
    args.append(path)
    out = run_qemu_img(ctx, args, uri=uri, ok_codes=(0, 1, 2, 3, 63), path=path)
    if out.returncode == 63:
        raise ImageError(f"{path}: this image format (raw, or not an image) has no checks")
    start = out.stdout.find("{")
    if start < 0:
        raise ImageError(readable_error(out.stderr, path))
    try:
        data = json.loads(out.stdout[start:])
    except json.JSONDecodeError:
        raise ImageError(readable_error(out.stderr, path)) from None
    if not isinstance(data, dict):
        raise ImageError("qemu-img check printed no JSON object")

    def n(key: str) -> int:
        return _int(data.get(key)) or 0

    return CheckResult(
        filename=_str(data.get("filename")),
        format=_str(data.get("format")),
        returncode=out.returncode,
        check_errors=n("check-errors"),
        corruptions=n("corruptions"),
        leaks=n("leaks"),
        corruptions_fixed=n("corruptions-fixed"),
        leaks_fixed=n("leaks-fixed"),
        allocated_clusters=_int(data.get("allocated-clusters")),
        total_clusters=_int(data.get("total-clusters")),
        fragmented_clusters=_int(data.get("fragmented-clusters")),
        compressed_clusters=_int(data.get("compressed-clusters")),
        image_end_offset=_int(data.get("image-end-offset")),
        shared=force_share,
        messages=out.stderr,
    )


# ------------------------------------------------------------------------------------ create
@dataclass(frozen=True)
class CreateOptions:
    """What `qemu-img create` is asked for. `passphrase` (LUKS) never appears in argv or repr."""

    format: str = "qcow2"
    size: int | None = None  # bytes; None: the backing file's size
    compat: str = ""
    cluster_size: int | None = None
    preallocation: str = ""
    lazy_refcounts: bool | None = None
    backing_file: str = ""
    backing_format: str = ""
    luks: bool = False
    passphrase: str = field(default="", repr=False)
    extra_options: str = ""  # more `-o` options, as typed

    def validate(self) -> None:
        fmt = self.format
        if fmt not in FORMATS:
            raise ImageError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
        _refuse_aes(self.extra_options)
        if self.size is None and not self.backing_file:
            raise ImageError("a size is needed (only an overlay on a backing file may omit it)")
        if self.size is not None and self.size <= 0:
            raise ImageError("size: must be above zero")
        if self.compat and self.compat not in COMPAT_LEVELS:
            raise ImageError(f"compat {self.compat!r}: choose 0.10 or 1.1")
        if self.preallocation and self.preallocation not in PREALLOCATION[fmt]:
            choices = ", ".join(PREALLOCATION[fmt])
            raise ImageError(f"preallocation {self.preallocation!r} for {fmt}: one of {choices}")
        if fmt == "raw":
            for what, given in (
                ("compat", self.compat),
                ("cluster size", self.cluster_size),
                ("lazy refcounts", self.lazy_refcounts),
                ("backing file", self.backing_file),
            ):
                if given:
                    raise ImageError(f"{what} is a qcow2 option; raw images have none")
        if self.cluster_size is not None:
            c = self.cluster_size
            if c < 512 or c > 2 << 20 or c & (c - 1):
                raise ImageError("cluster size: a power of two from 512 bytes to 2 MiB")
        if self.lazy_refcounts and self.compat == "0.10":
            raise ImageError("lazy refcounts need compat 1.1 (qcow2 v3)")
        if self.backing_file:
            check_path(self.backing_file, "backing file")
            if not self.backing_format:
                raise ImageError(
                    "a backing file needs its format (qcow2, raw...): qemu-img would probe it, "
                    "and a probed raw image can name a file of its choosing as its backing file"
                )
        if self.luks and not self.passphrase:
            raise ImageError("LUKS encryption needs a passphrase")
        if self.passphrase and not self.luks:
            raise ImageError("a passphrase is only used with LUKS encryption")


SECRET_ID = "virttui-sec0"
# QEMU times its LUKS key derivation (PBKDF) on the thread's CPU clock before it writes anything;
# on a busy VM that clock can read 0 ms ("Unable to get accurate CPU usage", up to 40% of tries
# here, in bursts). Creating again is safe and cheap: 12 tries with a short pause between them
# (used here and by secrets.create_encrypted_volume).
LUKS_ATTEMPTS = 12
LUKS_RETRY_PAUSE = 0.1  # seconds, times the attempt number
PBKDF_CLOCK = "Unable to get accurate CPU usage"


def create_args(path: str, opts: CreateOptions, secret_file: str = "") -> list[str]:
    """The argv after `qemu-img` (validated options; `secret_file` holds the LUKS passphrase)."""
    opts.validate()
    check_path(path)
    args = ["create", "-q"]
    fmt = opts.format
    o: list[str] = []
    if opts.luks:
        args += ["--object", f"secret,id={SECRET_ID},file={opt_value(secret_file)},format=raw"]
        if fmt == "raw":
            fmt = "luks"
            o.append(f"key-secret={SECRET_ID}")
        else:
            o += ["encrypt.format=luks", f"encrypt.key-secret={SECRET_ID}"]
    args += ["-f", fmt]
    if opts.compat:
        o.append(f"compat={opts.compat}")
    if opts.cluster_size:
        o.append(f"cluster_size={opts.cluster_size}")
    if opts.preallocation:
        o.append(f"preallocation={opts.preallocation}")
    if opts.lazy_refcounts is not None and fmt == "qcow2":
        o.append(f"lazy_refcounts={'on' if opts.lazy_refcounts else 'off'}")
    if opts.extra_options.strip():
        o.append(opts.extra_options.strip())
    if o:
        args += ["-o", ",".join(o)]
    if opts.backing_file:
        args += ["-b", opts.backing_file, "-F", opts.backing_format]
    args.append(path)
    if opts.size is not None:
        args.append(str(opts.size))
    return args


@contextlib.contextmanager
def secret_file(passphrase: str) -> Iterator[str]:
    """A private temporary file (0600 in a 0700 directory) holding `passphrase`, removed after."""
    folder = tempfile.mkdtemp(prefix="virttui-secret-")
    try:
        name = os.path.join(folder, "passphrase")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(passphrase)
        yield name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _refuse_existing(ctx: JobContext, path: str, uri: str | None, overwrite: bool) -> str:
    """The target's kind ("" or "file", see `target_kind`); an existing target is refused
    without `overwrite`, and anything but a regular file always (a directory, a device)."""
    kind = target_kind(ctx, path, uri)
    if kind == "other":
        raise ImageError(
            f"{path} exists and is not a regular file (a directory, device or link): "
            "choose a new file name"
        )
    if kind and not overwrite:
        raise ImageError(f"{path} exists: it is not overwritten unless you ask to overwrite")
    return kind


def create(
    ctx: JobContext,
    path: str,
    opts: CreateOptions,
    *,
    uri: str | None = None,
    overwrite: bool = False,
) -> None:
    """`qemu-img create` with validated options; an existing file is kept unless `overwrite`."""
    opts.validate()
    check_path(path)
    existed = _refuse_existing(ctx, path, uri, overwrite)
    if opts.luks:
        if _is_remote(uri):
            raise ImageError(
                "LUKS images over ssh: the passphrase would have to be written to a file on the "
                "remote host. Create the encrypted volume through libvirt (a volume with a "
                "secret) instead."
            )
        with secret_file(opts.passphrase) as name:
            for attempt in range(LUKS_ATTEMPTS):
                try:
                    run_qemu_img(ctx, create_args(path, opts, name), uri=uri, path=path)
                    return
                except ImageError as exc:
                    # QEMU times its PBKDF on the thread's CPU clock; on a busy machine that
                    # clock can read 0 ms ("Unable to get accurate CPU usage"): just try again.
                    if PBKDF_CLOCK not in str(exc) or attempt == LUKS_ATTEMPTS - 1:
                        raise
                    if not existed:
                        remove_file(path, uri)
                    time.sleep(LUKS_RETRY_PAUSE * (attempt + 1))
        return
    run_qemu_img(ctx, create_args(path, opts), uri=uri, path=path)


# ------------------------------------------------------------------------------------ progress
def parse_percent(line: str) -> float | None:
    """The fraction in a `-p` progress line `    (42.00/100%)`, None for other lines."""
    match = _PERCENT.search(line)
    return float(match.group(1)) / 100.0 if match else None


def eta_text(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class ProgressReporter:
    """Turns `-p` lines into `ctx.progress(fraction, "NN.N% · ETA ...")`."""

    def __init__(self, ctx: JobContext, label: str, clock: Callable[[], float] = time.monotonic):
        self.ctx = ctx
        self.label = label
        self.clock = clock
        self.start = clock()
        self.last = -1.0

    def __call__(self, line: str) -> None:
        fraction = parse_percent(line)
        if fraction is None or fraction <= self.last:
            return
        self.last = fraction
        elapsed = self.clock() - self.start
        text = f"{self.label} {fraction * 100:.1f}%"
        if 0 < fraction < 1 and elapsed > 0:
            text += f" · ETA {eta_text(elapsed * (1 - fraction) / fraction)}"
        self.ctx.progress(fraction, text)


# ------------------------------------------------------------------------------------ convert
@dataclass(frozen=True, slots=True)
class ConvertOptions:
    out_format: str = "qcow2"
    src_format: str = ""
    compress: bool = False
    sparse_size: str = ""  # -S, e.g. "4k"; "0" writes every zero
    options: str = ""  # -o, as typed
    rate_limit: int | None = None  # -r, bytes per second
    force_share: bool = False  # -U: read a source in use (stale data)


def convert_args(src: str, dst: str, opts: ConvertOptions) -> list[str]:
    check_path(src, "source")
    check_path(dst, "target")
    if os.path.normpath(src) == os.path.normpath(dst):
        raise ImageError("source and target are the same file")
    _refuse_aes(opts.options)
    if not re.fullmatch(r"[a-z0-9_-]+", opts.out_format or ""):
        raise ImageError(f"output format {opts.out_format!r} is not a format name")
    args = ["convert", "-p", "-O", opts.out_format]
    if opts.src_format:
        args += ["-f", opts.src_format]
    if opts.compress:
        if opts.out_format not in ("qcow2", "vmdk", "qcow"):
            raise ImageError(f"compression (-c) needs qcow2 output, not {opts.out_format}")
        args.append("-c")
    if opts.sparse_size:
        text = opts.sparse_size.strip()
        if text != "0":
            parse_image_size(text, "sparse size (-S)")
        args += ["-S", text]
    if opts.options.strip():
        args += ["-o", opts.options.strip()]
    if opts.rate_limit is not None:
        if opts.rate_limit <= 0:
            raise ImageError("rate limit: must be above zero bytes per second")
        args += ["-r", str(opts.rate_limit)]
    if opts.force_share:
        args.append("-U")
    return [*args, src, dst]


def convert(
    ctx: JobContext,
    src: str,
    dst: str,
    opts: ConvertOptions = ConvertOptions(),  # noqa: B008 - frozen
    *,
    uri: str | None = None,
    overwrite: bool = False,
) -> None:
    """`qemu-img convert -p`: progress with ETA; an existing target is kept unless `overwrite`;
    cancel (or a failure) removes the partial target."""
    args = convert_args(src, dst, opts)
    _precheck_source(src, uri)
    _refuse_existing(ctx, dst, uri, overwrite)
    report = ProgressReporter(ctx, "converted")
    ctx.progress(0.0, "converting")
    try:
        run_qemu_img(
            ctx,
            args,
            uri=uri,
            on_line=report,
            cleanup=lambda: remove_file(dst, uri),
            path=src,
        )
    except ImageError:
        remove_file(dst, uri)
        raise
    ctx.progress(1.0, "converted 100%")


# ------------------------------------------------------------------------------------ resize
def resize(
    ctx: JobContext,
    path: str,
    size: int,
    *,
    uri: str | None = None,
    shrink: bool = False,
    fmt: str = "",
) -> ImageLayer:
    """Grow `path` to `size` bytes, or shrink it with `shrink`. Returns the image before."""
    if size <= 0:
        raise ImageError("size: must be above zero")
    before = info(ctx, path, uri=uri, chain=False, fmt=fmt).top
    if before.encrypted and before.format == "luks":
        raise ImageError("a raw LUKS image is resized through libvirt with its secret")
    fmt = fmt or before.format
    if size == before.virtual_size:
        raise ImageError(f"the image is already {human_bytes(size)}")
    smaller = size < before.virtual_size
    if smaller and not shrink:
        raise ImageError(
            f"{human_bytes(size)} is smaller than the image ({human_bytes(before.virtual_size)}): "
            "shrinking deletes the data at its end; ask for a shrink explicitly (--shrink)"
        )
    if before.snapshots and before.format == "qcow2" and before.compat == "0.10":
        raise ImageError(
            "this qcow2 image is version 2 (compat 0.10) and has internal snapshots: QEMU cannot "
            "resize it. Delete the snapshots or convert it to compat 1.1 first"
        )
    args = ["resize", "-f", fmt]
    if smaller:
        args.append("--shrink")
    run_qemu_img(ctx, [*args, path, str(size)], uri=uri, path=path)
    return before


# ------------------------------------------------------------------------------------ snapshots
def snapshot_list(
    ctx: JobContext, path: str, *, uri: str | None = None, force_share: bool = False
) -> tuple[InternalSnapshot, ...]:
    """The internal snapshots (from info JSON: date, VM state size, VM clock)."""
    return info(ctx, path, uri=uri, chain=False, force_share=force_share).top.snapshots


def _snapshot_name(name: str) -> str:
    if not name.strip():
        raise ImageError("snapshot: a name is needed")
    if name.startswith("-"):
        raise ImageError("snapshot: a name cannot start with '-'")
    if any(ord(c) < 32 for c in name):
        raise ImageError("snapshot: control characters are not allowed in a name")
    return name


def snapshot(
    ctx: JobContext,
    path: str,
    op: Literal["create", "apply", "delete"],
    name: str,
    *,
    uri: str | None = None,
    fmt: str = "",
) -> None:
    """`qemu-img snapshot -c|-a|-d NAME`."""
    _precheck_source(path, uri)
    flag = {"create": "-c", "apply": "-a", "delete": "-d"}.get(op)
    if flag is None:
        raise ImageError(f"snapshot: unknown operation {op!r}")
    name = _snapshot_name(name)
    args = ["snapshot", flag, name]
    if fmt:
        args += ["-f", fmt]
    run_qemu_img(ctx, [*args, path], uri=uri, path=path)


# ------------------------------------------------------------------------------------ commit/rebase
def commit(
    ctx: JobContext,
    path: str,
    *,
    uri: str | None = None,
    base: str = "",
    drop: bool = False,
    fmt: str = "",
) -> None:
    """`qemu-img commit -p [-b BASE] [-d]`: write the overlay's changes into its backing file."""
    _precheck_source(path, uri)
    args = ["commit", "-p"]
    if fmt:
        args += ["-f", fmt]
    if base:
        args += ["-b", check_path(base, "base")]
    if drop:
        args.append("-d")
    run_qemu_img(ctx, [*args, path], uri=uri, on_line=ProgressReporter(ctx, "committed"), path=path)


def rebase(
    ctx: JobContext,
    path: str,
    backing: str,
    backing_format: str,
    *,
    uri: str | None = None,
    unsafe: bool = False,
    fmt: str = "",
) -> None:
    """`qemu-img rebase -p [-u] -b BACKING -F FMT`; `backing` "" makes the image standalone
    (safe mode only: the data of the old chain is copied in)."""
    _precheck_source(path, uri)
    if backing:
        check_path(backing, "new backing file")
        if not backing_format:
            raise ImageError("the new backing file needs its format")
    elif unsafe:
        raise ImageError("removing the backing file needs a safe rebase (the data is copied in)")
    args = ["rebase", "-p"]
    if unsafe:
        args.append("-u")
    if fmt:
        args += ["-f", fmt]
    args += ["-b", backing]
    if backing:
        args += ["-F", backing_format]
    run_qemu_img(ctx, [*args, path], uri=uri, on_line=ProgressReporter(ctx, "rebased"), path=path)
