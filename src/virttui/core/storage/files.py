"""Browse a directory of the libvirt host for disk images that are in no storage pool.

`list_directory(ctx, path, uri=...)` lists one directory: with `os.scandir` when the host is this
machine, over ssh for a `qemu+ssh` host (`ls -lAL --quoting-style=c`, run through `run_process`
as an argv list: every name comes back C-quoted on one line and is decoded here, so names with
spaces, quotes, newlines, carriage returns or any non-UTF-8 byte come out exactly as they are).
Other remote transports (tls, tcp) give us no way to run a program on the host: refused.

`browse(ctx, path, ...)` lists the directory, hands every row at once to `on_rows` (pending),
then probes each regular file with `qemu-img info --output=json -U` (read-only, works on images
a running guest holds) and hands each probed row to `on_rows` as soon as it is known, so a
screen shows the listing at once and fills the image columns in. The files are dealt
round-robin into a few batches (the top of the list fills first); each batch is one `sh` process
(here, or one ssh connection) running qemu-img on its files in turn, `PROBE_WORKERS` batches at
a time: qemu-img's start-up, not our process handling, is then what the time is spent on. The
"used by" column comes from one `scan_usage` of the open connections per directory (given as a
callable, run alongside the probes).

What a row says about a file:
- `image`: qemu-img named a format with a header (qcow2, vmdk, luks, ...);
- `raw`: qemu-img reads it as raw. Every file reads as raw, so a raw file is only called a raw
  *image* when it is at least `RAW_MIN_BYTES` and a whole number of 512-byte sectors; smaller or
  odd-sized files are `file` (not an image);
- `error`: qemu-img could not open it (the reason is in `note`);
- `dir`, `special` (FIFO, socket, device: never opened, a FIFO would block qemu-img), `broken`
  (a symbolic link to nothing).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal

from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import (
    JobCancelled,
    JobContext,
    JobError,
    ProcessFailed,
    describe_error,
    run_process,
)
from virttui.core.jobs.ssh import ssh_target
from virttui.core.storage.used_by import StorageUsage, User

QEMU_IMG = "qemu-img"
PROBE_WORKERS = 6  # probing processes at a time, each running qemu-img on a batch of files
RAW_MIN_BYTES = 1 << 20
SECTOR = 512

Kind = Literal["dir", "file", "special", "broken"]
Status = Literal["pending", "image", "raw", "file", "error", "dir", "special", "broken"]


class FilesError(JobError):
    """A directory that cannot be listed (the message says why)."""


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One name in a directory; symbolic links are followed (`kind` of what they point at)."""

    name: str
    path: str
    kind: Kind
    size: int | None = None  # bytes (apparent size) of a file
    link: bool = False  # the name is a symbolic link


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What `qemu-img info --output=json` says about one image."""

    format: str
    virtual_size: int | None
    disk_size: int | None
    backing: str = ""  # the backing file as recorded in the image
    encrypted: bool = False


@dataclass(frozen=True, slots=True)
class FileRow:
    """One row of the file browser: the entry, what the probe found, who uses it."""

    entry: DirEntry
    status: Status
    info: ImageInfo | None = None
    note: str = ""
    users: tuple[User, ...] = ()

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def is_image(self) -> bool:
        return self.status in ("image", "raw")


# ---------------------------------------------------------------------------------- listing
def is_remote(uri: str | None) -> bool:
    """Files of `uri`'s host are reached over ssh (a `<driver>+ssh://` URI, even to localhost:
    the ssh user's view is the one that counts), as `run_process` runs programs there."""
    return bool(uri) and ssh_target(uri or "") is not None


def check_browsable(uri: str | None) -> None:
    """Raise FilesError when files of `uri`'s host cannot be reached (a remote host without ssh)."""
    if uri and not is_local_uri(uri) and not is_remote(uri):
        raise FilesError(
            f"{uri}: files can only be browsed on this machine or on a qemu+ssh host "
            "(other transports give no way to run qemu-img there)"
        )


def shown(text: str) -> str:
    """`text` for the screen: a byte that was not UTF-8 in a file name (kept as a lone surrogate
    by surrogateescape, which no terminal can print) becomes a visible `\\xNN`."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        # A relative name could be read as an option or as "protocol:..." by ls or qemu-img.
        raise FilesError(f"not an absolute path: {path!r}")
    return os.path.normpath(path) if path != "/" else "/"


def join(directory: str, name: str) -> str:
    return directory.rstrip("/") + "/" + name if directory != "/" else "/" + name


def _local_entries(directory: str) -> list[DirEntry]:
    try:
        scanner = os.scandir(directory)
    except OSError as exc:
        raise FilesError(f"{directory}: {exc.strerror or exc}") from None
    out: list[DirEntry] = []
    with scanner:
        for item in scanner:
            path = join(directory, item.name)
            link = item.is_symlink()
            try:
                st = item.stat(follow_symlinks=True)
            except OSError:
                out.append(DirEntry(item.name, path, "broken", None, link))
                continue
            if stat.S_ISDIR(st.st_mode):
                out.append(DirEntry(item.name, path, "dir", None, link))
            elif stat.S_ISREG(st.st_mode):
                out.append(DirEntry(item.name, path, "file", st.st_size, link))
            else:
                out.append(DirEntry(item.name, path, "special", None, link))
    return out


_C_ESCAPES = {
    "a": 7,
    "b": 8,
    "f": 12,
    "n": 10,
    "r": 13,
    "t": 9,
    "v": 11,
    "\\": 92,
    '"': 34,
    "'": 39,
    "?": 63,
    " ": 32,
}


def decode_c_quoted(text: str) -> str:
    """The name inside `"..."` as GNU ls prints it with `--quoting-style=c` in the C locale
    (octal escapes for every byte that is not printable ASCII), as a str that maps back to the
    same bytes (undecodable bytes kept by `surrogateescape`, like os.fsdecode)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a C-quoted name: {text!r}")
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _C_ESCAPES:
            out.append(_C_ESCAPES[nxt])
            i += 2
        elif nxt.isdigit():
            digits = body[i + 1 : i + 4]
            j = 0
            while j < len(digits) and digits[j] in "01234567":
                j += 1
            if j == 0:
                raise ValueError(f"bad escape in {text!r}")
            out.append(int(digits[:j], 8) & 0xFF)
            i += 1 + j
        else:
            raise ValueError(f"bad escape in {text!r}")
    return out.decode("utf-8", "surrogateescape")


def parse_ls_line(directory: str, line: str) -> DirEntry | None:
    """One line of `ls -lAL -n --time-style=+%s --quoting-style=c`; None for other lines."""
    quote = line.find('"')
    if quote < 0:
        return None  # "total N", or an error line
    fields = line[:quote].split()
    try:
        name = decode_c_quoted(line[quote:].rstrip())
    except ValueError:
        return None
    if not fields or name in (".", "..") or "/" in name:
        return None
    mode = fields[0][:1]
    path = join(directory, name)
    if mode == "d":
        return DirEntry(name, path, "dir")
    if mode == "-":
        size = int(fields[-2]) if len(fields) >= 2 and fields[-2].isdigit() else None
        return DirEntry(name, path, "file", size)
    if mode == "l":  # -L: only a link that leads nowhere stays a link
        return DirEntry(name, path, "broken", None, True)
    return DirEntry(name, path, "special")


def _remote_entries(ctx: JobContext, directory: str, uri: str) -> list[DirEntry]:
    lines: list[str] = []
    argv = [
        "env",
        "LC_ALL=C",
        "ls",
        "-lAL",
        "-n",
        "--time-style=+%s",
        "--quoting-style=c",
        "--",
        directory.rstrip("/") + "/",  # the trailing slash: a file is refused, not listed
    ]
    try:
        run_process(ctx, argv, uri=uri, on_line=lines.append)
    except ProcessFailed as exc:
        # ls says 1 for "a name could not be read" (a broken link) and lists the rest.
        if exc.returncode != 1 or not lines:
            detail = exc.stderr_tail[-1] if exc.stderr_tail else str(exc)
            raise FilesError(f"{directory}: {detail}") from None
    out = [parse_ls_line(directory, line) for line in lines]
    return [e for e in out if e is not None]


def list_directory(ctx: JobContext, directory: str, *, uri: str | None = None) -> list[DirEntry]:
    """The names in `directory` on `uri`'s host, sorted by name (blocking)."""
    check_browsable(uri)
    directory = _absolute(directory)
    ctx.check()
    if is_remote(uri):
        entries = _remote_entries(ctx, directory, uri or "")
    else:
        entries = _local_entries(directory)
    return sorted(entries, key=lambda e: e.name)


def parent_of(directory: str) -> str:
    return os.path.dirname(directory.rstrip("/")) or "/"


# ---------------------------------------------------------------------------------- probing
def parse_info(text: str) -> ImageInfo:
    """`qemu-img info --output=json` output as ImageInfo (ValueError when it is not that)."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("format"), str):
        raise ValueError("qemu-img info printed no image")

    def number(key: str) -> int | None:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    backing = data.get("backing-filename")
    if not isinstance(backing, str):
        backing = ""
    return ImageInfo(
        format=data["format"],
        virtual_size=number("virtual-size"),
        disk_size=number("actual-size"),
        backing=backing,
        encrypted=bool(data.get("encrypted")),
    )


def probe_image(ctx: JobContext, path: str, *, uri: str | None = None) -> ImageInfo:
    """`qemu-img info --output=json -U PATH` on `uri`'s host. Raises ProcessFailed / ValueError."""
    path = _absolute(path)
    lines: list[str] = []
    run_process(ctx, [QEMU_IMG, "info", "--output=json", "-U", path], uri=uri, on_line=lines.append)
    return parse_info("\n".join(lines))


def classify(entry: DirEntry, info: ImageInfo) -> tuple[Status, str]:
    """A probed regular file: an image with a header, a raw image, or just a file."""
    if info.format != "raw":
        return "image", ""
    size = entry.size if entry.size is not None else info.virtual_size
    if size is not None and size >= RAW_MIN_BYTES and size % SECTOR == 0:
        return "raw", "no image header: read as raw"
    return "file", "not a disk image (no header, not a whole number of sectors or tiny)"


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, ProcessFailed):
        tail = [line for line in exc.stderr_tail if line.strip()]
        text = tail[-1] if tail else str(exc)
        return text.removeprefix("qemu-img: ")
    return str(exc) or type(exc).__name__


def initial_row(entry: DirEntry) -> FileRow:
    if entry.kind == "file":
        return FileRow(entry, "pending")
    return FileRow(entry, entry.kind)


# One process probes a batch of files: far fewer processes from us (and one ssh connection per
# batch on a remote host instead of one per file). The script is constant; the files are its
# positional arguments (never parsed by a shell); each file's output is framed by lines holding
# a random marker that no file name can forge.
_BATCH_SCRIPT = (
    'm=$1; shift; i=0; for f in "$@"; do echo "$m start $i"; '
    'qemu-img info --output=json -U "$f" 2>&1; echo "$m end $i $?"; i=$((i+1)); done'
)
BATCH_FILES = 50  # files per process at most
BATCH_CHARS = 32 << 10  # bytes of paths per process at most (one remote shell argument)


def batches(rows: Sequence[FileRow], workers: int) -> list[list[FileRow]]:
    """Rows dealt round-robin into batches (so the top of the list fills in first), at least
    `workers` of them when there are that many rows, none too long."""
    if not rows:
        return []
    count = max(min(workers, len(rows)), -(-len(rows) // BATCH_FILES))
    total = sum(len(r.path.encode("utf-8", "surrogateescape")) + 1 for r in rows)
    count = max(count, -(-total // BATCH_CHARS))
    count = min(count, len(rows))
    return [list(rows[i::count]) for i in range(count)]


def _parse_probe(row: FileRow, lines: list[str], status: int) -> FileRow:
    text = "\n".join(lines)
    if status == 0:
        start = text.find("{")
        try:
            data, _end = json.JSONDecoder().raw_decode(text[start:] if start >= 0 else text)
            info = parse_info(json.dumps(data))
        except ValueError:
            return replace(row, status="error", note="qemu-img info printed no image")
        kind, note = classify(row.entry, info)
        return replace(row, status=kind, info=info, note=note)
    tail = [line for line in lines if line.strip()]
    note = tail[-1].removeprefix("qemu-img: ") if tail else f"qemu-img exited with {status}"
    return replace(row, status="error", note=note)


def probe_batch(
    ctx: JobContext,
    rows: Sequence[FileRow],
    on_row: Callable[[FileRow], None],
    *,
    uri: str | None = None,
) -> None:
    """`qemu-img info --output=json -U` of each row's file, in one process (here or over ssh);
    `on_row` gets each probed row as soon as its output is complete. A file the batch never
    reached (the process died) is reported as an error row."""
    if not rows:
        return
    marker = f"@virttui-{secrets.token_hex(8)}"
    paths = [_absolute(r.path) for r in rows]
    current: list[int] = []
    lines: list[str] = []
    done: set[int] = set()

    def on_line(line: str) -> None:
        word, _sep, rest = line.partition(" ")
        if word == marker:
            parts = rest.split()
            if len(parts) >= 2 and parts[0] == "start" and parts[1].isdigit():
                current[:] = [int(parts[1])]
                lines.clear()
                return
            if len(parts) == 3 and parts[0] == "end" and current and parts[1].isdigit():
                index = int(parts[1])
                status = int(parts[2]) if parts[2].lstrip("-").isdigit() else 1
                if index == current[0] and 0 <= index < len(rows):
                    done.add(index)
                    on_row(_parse_probe(rows[index], list(lines), status))
                current.clear()
                lines.clear()
                return
        if current:
            lines.append(line)

    argv = ["sh", "-c", _BATCH_SCRIPT, "sh", marker, *paths]
    try:
        run_process(ctx, argv, uri=uri, on_line=on_line)
    except JobCancelled:
        raise
    except (JobError, OSError) as exc:
        if ctx.cancelled:
            raise JobCancelled() from None
        for index, row in enumerate(rows):
            if index not in done:
                on_row(replace(row, status="error", note=_failure_text(exc)))
        return
    for index, row in enumerate(rows):
        if index not in done:
            on_row(replace(row, status="error", note="qemu-img gave no answer"))


RowsCallback = Callable[[Sequence[FileRow]], None]


class _Rows:
    """The rows of one browse, merged under a lock (probes and the usage scan race)."""

    def __init__(self, rows: Iterable[FileRow], on_rows: RowsCallback | None) -> None:
        self._lock = threading.Lock()
        self._rows = {r.name: r for r in rows}
        self._on_rows = on_rows

    def all(self) -> list[FileRow]:
        with self._lock:
            return list(self._rows.values())

    def emit(self, rows: Sequence[FileRow]) -> None:
        if self._on_rows is not None and rows:
            self._on_rows(rows)

    # Each change is handed on under the lock: the order rows are handed on in is the order
    # they were merged in, so a row's last version handed on is its latest.
    def probed(self, row: FileRow) -> None:
        with self._lock:
            users = self._rows[row.name].users
            merged = replace(row, users=users)
            self._rows[row.name] = merged
            self.emit([merged])

    def _add_users(self, name: str, users: Sequence[User]) -> FileRow | None:
        """Under the lock: `users` added to row `name`; the new row, None when unchanged."""
        row = self._rows[name]
        merged = tuple(dict.fromkeys((*row.users, *users)))
        if merged == row.users:
            return None
        self._rows[name] = replace(row, users=merged)
        return self._rows[name]

    def used(self, usage: StorageUsage, local: bool) -> None:
        changed: list[FileRow] = []
        with self._lock:
            for name, row in list(self._rows.items()):
                new = self._add_users(name, usage.users_of(row.path, local=local))
                if new is not None:
                    changed.append(new)
            self.emit(changed)

    def backed(self, directory: str, label: str) -> None:
        """Images of this directory built on another one of it (qemu-img named the backing
        file): the base is used by the overlay, whether or not a pool or domain knows it."""
        changed: dict[str, FileRow] = {}
        with self._lock:
            by_path = {row.path: name for name, row in self._rows.items()}
            for row in list(self._rows.values()):
                backing = row.info.backing if row.info is not None else ""
                if not backing:
                    continue
                if not backing.startswith("/"):  # relative to the overlay's directory
                    backing = join(directory, backing)
                base = by_path.get(os.path.normpath(backing))
                if base is None or base == row.name:
                    continue
                user = User("image", row.path, label, "backing file")
                new = self._add_users(base, [user])
                if new is not None:
                    changed[base] = new
            self.emit(list(changed.values()))


@dataclass(frozen=True, slots=True)
class Listing:
    """The result of one browse: the directory, its rows sorted by name, and why "used by" is
    unknown when the scan of the connections failed ("" when it ran)."""

    directory: str
    rows: tuple[FileRow, ...]
    usage_note: str = ""


def browse(
    ctx: JobContext,
    directory: str,
    *,
    uri: str | None = None,
    on_rows: RowsCallback | None = None,
    usage: Callable[[], StorageUsage] | None = None,
    workers: int = PROBE_WORKERS,
    label: str = "",
) -> Listing:
    """List `directory` and probe its files concurrently (see the module doc). `on_rows` gets
    the whole listing first, then each row again as it changes (from worker threads). `usage`
    (blocking: one scan of the open connections) fills in "used by", alongside the probes; when
    it fails `Listing.usage_note` says why. An image of the directory whose backing file is
    another file of it counts as a user of that file too (`label` names the host there)."""
    directory = _absolute(directory)
    entries = list_directory(ctx, directory, uri=uri)
    rows = _Rows([initial_row(e) for e in entries], on_rows)
    rows.emit(rows.all())  # before any probe starts
    local = not uri or is_local_uri(uri)  # paths compared through realpath too
    usage_error: list[str] = []

    def scan() -> None:
        assert usage is not None
        try:
            rows.used(usage(), local)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            usage_error.append(describe_error(exc)[0])

    scanner = None
    if usage is not None:
        scanner = threading.Thread(target=scan, name="browse used_by", daemon=True)
        scanner.start()
    todo = sorted((r for r in rows.all() if r.status == "pending"), key=lambda r: r.name)
    if todo:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="probe") as pool:
            jobs = [pool.submit(_probe_into, ctx, b, uri, rows) for b in batches(todo, workers)]
            for future in jobs:
                future.result()
        rows.backed(directory, label or uri or "")
    if scanner is not None:
        while scanner.is_alive():
            scanner.join(0.2)
            ctx.check()
    ctx.check()
    note = f"used by unknown: {usage_error[0]}" if usage_error else ""
    return Listing(directory, tuple(sorted(rows.all(), key=lambda r: r.name)), note)


def _probe_into(ctx: JobContext, batch: list[FileRow], uri: str | None, rows: _Rows) -> None:
    if ctx.cancelled:
        return
    try:
        probe_batch(ctx, batch, rows.probed, uri=uri)
    except JobCancelled:
        return


# ---------------------------------------------------------------------------------- new images
NEW_IMAGE_FORMATS = ("qcow2", "raw")


def remove_file_quietly(path: str, uri: str | None) -> None:
    """Delete a file we made (a fresh context: the job's may be cancelled already)."""
    if not is_remote(uri):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    try:
        run_process(JobContext(0, lambda _m: None), ["rm", "-f", "--", path], uri=uri)
    except (JobError, OSError):
        pass


def create_image(
    ctx: JobContext, path: str, fmt: str, size_bytes: int, *, uri: str | None = None
) -> None:
    """`qemu-img create -f FMT PATH SIZE` on `uri`'s host; never over an existing file.

    Here the name is taken first with O_CREAT|O_EXCL (no race with another writer), then
    qemu-img writes the image into it; over ssh the directory is listed first. A failure or a
    cancel removes the file again. Raises FilesError for a bad request."""
    check_browsable(uri)
    path = _absolute(path)
    if fmt not in NEW_IMAGE_FORMATS:
        raise FilesError(f"format {fmt!r}: qcow2 or raw")
    if size_bytes <= 0:
        raise FilesError("the size must be more than 0 bytes")
    directory, name = parent_of(path), path.rstrip("/").rsplit("/", 1)[-1]
    if not name or name in (".", ".."):
        raise FilesError(f"not a file name: {path!r}")
    if is_remote(uri):
        names = {e.name: e for e in list_directory(ctx, directory, uri=uri)}
        if name in names:
            raise FilesError(f"{path} exists: choose another name (nothing was overwritten)")
    else:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise FilesError(
                f"{path} exists: choose another name (nothing was overwritten)"
            ) from None
        except OSError as exc:
            raise FilesError(f"{path}: {exc.strerror or exc}") from None
        os.close(fd)
    argv = [QEMU_IMG, "create", "-q", "-f", fmt, path, str(size_bytes)]
    try:
        run_process(ctx, argv, uri=uri, cleanup=lambda: remove_file_quietly(path, uri))
    except BaseException:
        remove_file_quietly(path, uri)
        raise
