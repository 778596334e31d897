"""The fio safety guard: may this job write to these targets?

fio's own check only compares a filename literally with /etc/mtab. This one looks at what the
target really is, on this machine, before any job that writes (`check_targets`):

- a block device is refused when it, one of its partitions or anything stacked on them
  (holders, recursively: device-mapper, LVM, MD, ...) is mounted (/proc/self/mountinfo, by
  device number and by source), is swap (/proc/swaps), has holders (/sys/class/block/*/holders,
  also of its partitions, and of its parent disk when it is a partition), backs a loop device,
  is a disk of any domain on any open connection or an image in use (`core/storage/used_by`
  `scan_usage`, the one check), or carries a partition table or filesystem signature
  (`wipefs --no-act --json` and `blkid -p`, argv lists through `core/jobs.run_process`): it
  holds data. A raw device in none of these needs its name typed to confirm
  (`Decision` "confirm", `TargetCheck.confirm_name`). A domain's disk named otherwise
  (/dev/disk/by-id/..., a symlink) is matched by device number.
- a file (existing or to be created) is fine inside a mounted filesystem (the normal case)
  unless it is a domain's disk or an image in use, swap, a mount point itself, the backing file
  of a loop device, not a regular file (a character device, a FIFO), or sits on a kernel pseudo
  filesystem (/proc, /sys, /dev, cgroup, ...). An image in use reached by another name (a hard
  link, a bind mount) is matched by inode.
- a directory (fio's `directory=`): refused on a pseudo filesystem; the files fio will make in it
  (`<name>.<job>.<file>`, given by the caller) are checked as files.

Any error while checking (an unreadable /proc or /sys file, wipefs failing, libvirt failing
during the scan) refuses the target with the error: unknown is unsafe.

Reads: a job that only reads is not refused, but when a target is a block device or a file in
use fio runs with `--readonly` (`Verdict.fio_args`), so no option (layout, verify, a typo in
the raw options) can write there.

`root` (default "/") is where /proc and /sys are read from, so layouts that cannot be built here
(MD: no mdadm on the test machines; stacked device-mapper/LVM volumes: the test kernel has no
device-mapper) are tested with a recorded tree. Device nodes and files are
always looked at on this machine.

`guard_jobfile` applies it to a whole `.fio` job file (`core/fio/job.py`).

Done: the checks above, the typed verdict. The UI session still needs: run `check_targets` in a
job before starting fio (with the app's open connections), show the reasons (untrusted text:
`plain.py`), the typed-name confirmation dialog, and pass `Verdict.fio_args` to fio. Remote
(`qemu+ssh`) hosts are not covered: the guard reads this machine only, so with the `uri` of
another host it refuses (reading the remote /proc, /sys and wipefs over ssh is still to do).

Blocking (libvirt, wipefs, blkid): call it from a job.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from virttui.core.fio.job import JobFile
from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobCancelled, JobContext, ProcessFailed, run_process
from virttui.core.storage.used_by import Connection, StorageUsage, User, scan_usage

Decision = Literal["ok", "confirm", "refuse"]
TargetKind = Literal["file", "new file", "directory", "device", "other", "unknown"]
Probe = Callable[[JobContext, str], list[str]]

_RANK: dict[str, int] = {"ok": 0, "confirm": 1, "refuse": 2}
MAX_DEPTH = 16  # holders stacked deeper than this are a loop or a mistake

# Kernel filesystems whose files are not data: writing there acts on the kernel.
PSEUDO_FS = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "debugfs",
        "tracefs",
        "securityfs",
        "configfs",
        "efivarfs",
        "bpf",
        "pstore",
        "fusectl",
        "hugetlbfs",
        "mqueue",
        "binfmt_misc",
        "autofs",
        "rpc_pipefs",
        "nsfs",
    }
)

# What a signature means, for the reason shown.
SIGNATURE_WORDS: dict[str, str] = {
    "dos": "an MBR (dos) partition table",
    "gpt": "a GPT partition table",
    "PMBR": "a protective MBR (GPT)",
    "LVM2_member": "an LVM physical volume (LVM2_member)",
    "linux_raid_member": "an MD RAID member (linux_raid_member)",
    "swap": "a swap signature",
    "crypto_LUKS": "a LUKS encrypted volume",
    "zfs_member": "a ZFS pool member",
}


class GuardError(Exception):
    """A check could not be made (the target is then refused with this message)."""


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """The guard's answer for one target path."""

    path: str
    kind: TargetKind
    decision: Decision
    reasons: tuple[str, ...] = ()
    confirm_name: str = ""  # "confirm": the text the admin must type (the device's path)
    readonly: bool = False  # a read-only job on it runs with fio's --readonly


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's answer for a whole job (all its targets)."""

    writes: bool
    checks: tuple[TargetCheck, ...]

    @property
    def decision(self) -> Decision:
        worst: Decision = "ok"
        for check in self.checks:
            if _RANK[check.decision] > _RANK[worst]:
                worst = check.decision
        return worst

    @property
    def refused(self) -> bool:
        return self.decision == "refuse"

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every reason, each prefixed by its target."""
        return tuple(f"{c.path}: {r}" for c in self.checks for r in c.reasons)

    @property
    def confirm_names(self) -> tuple[str, ...]:
        """The names to type before the job may run (one per raw device)."""
        return tuple(c.confirm_name for c in self.checks if c.decision == "confirm")

    def accepts(self, typed: Sequence[str]) -> bool:
        """May the job run, given what the admin typed (one entry per `confirm_names`)?"""
        if self.refused:
            return False
        names = self.confirm_names
        return len(typed) == len(names) and all(
            t.strip() == n for t, n in zip(typed, names, strict=True)
        )

    @property
    def readonly(self) -> bool:
        return not self.writes and any(c.readonly for c in self.checks)

    @property
    def fio_args(self) -> tuple[str, ...]:
        """Extra fio command-line options the guard requires."""
        return ("--readonly",) if self.readonly else ()


# ------------------------------------------------------------------------------------ /proc, /sys
@dataclass(frozen=True, slots=True)
class Mount:
    devnum: tuple[int, int]
    mount_point: str
    fstype: str
    source: str


def _unescape(text: str) -> str:
    """mountinfo / swaps escape space, tab, newline and backslash as \\ooo."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 4 <= len(text) and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a /proc/<pid>/mountinfo text."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, sep, right = line.partition(" - ")
        fields = left.split()
        tail = right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            raise GuardError(f"unreadable mountinfo line: {line!r}")
        major, _, minor = fields[2].partition(":")
        if not (major.isdigit() and minor.isdigit()):
            raise GuardError(f"unreadable mountinfo line: {line!r}")
        mounts.append(
            Mount((int(major), int(minor)), _unescape(fields[4]), tail[0], _unescape(tail[1]))
        )
    return mounts


def parse_swaps(text: str) -> list[str]:
    """The swap areas (paths) of a /proc/swaps text."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if parts:
            out.append(_unescape(parts[0]))
    return out


@dataclass
class HostView:
    """/proc and /sys of this machine (or of a recorded tree under `root`)."""

    root: str = "/"
    _mounts: list[Mount] | None = field(default=None, repr=False)

    def _path(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _read(self, path: str) -> str:
        try:
            with open(self._path(path), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError as exc:
            raise GuardError(f"cannot read {path}: {exc.strerror or exc}") from exc

    @property
    def real(self) -> bool:
        return os.path.realpath(self.root) == "/"

    def mounts(self) -> list[Mount]:
        if self._mounts is None:
            self._mounts = parse_mountinfo(self._read("/proc/self/mountinfo"))
        return self._mounts

    def swaps(self) -> list[str]:
        return parse_swaps(self._read("/proc/swaps"))

    def block_name(self, devnum: tuple[int, int]) -> str:
        """The kernel name (sda1, dm-0, loop3) of a block device number."""
        link = self._path(f"/sys/dev/block/{devnum[0]}:{devnum[1]}")
        if not os.path.exists(link):
            raise GuardError(f"block device {devnum[0]}:{devnum[1]} is not in /sys/dev/block")
        return os.path.basename(os.path.realpath(link))

    def _class(self, name: str) -> str:
        if not name or "/" in name or name in (".", ".."):
            raise GuardError(f"not a block device name: {name!r}")
        return self._path(f"/sys/class/block/{name}")

    def exists(self, name: str) -> bool:
        return os.path.exists(self._class(name))

    def devnum(self, name: str) -> tuple[int, int]:
        text = self._read(f"/sys/class/block/{name}/dev").strip()
        major, _, minor = text.partition(":")
        if not (major.isdigit() and minor.isdigit()):
            raise GuardError(f"unreadable /sys/class/block/{name}/dev: {text!r}")
        return int(major), int(minor)

    def _listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise GuardError(f"cannot list {path}: {exc.strerror or exc}") from exc

    def partitions(self, name: str) -> list[str]:
        base = os.path.realpath(self._class(name))
        return [
            entry
            for entry in self._listdir(base)
            if os.path.isfile(os.path.join(base, entry, "partition"))
        ]

    def parent(self, name: str) -> str:
        """The disk a partition is on ("" for a whole disk)."""
        base = os.path.realpath(self._class(name))
        if not os.path.isfile(os.path.join(base, "partition")):
            return ""
        return os.path.basename(os.path.dirname(base))

    def holders(self, name: str) -> list[str]:
        return self._listdir(os.path.join(os.path.realpath(self._class(name)), "holders"))

    def loop_backing(self) -> dict[str, str]:
        """loop device name → its backing file (" (deleted)" dropped)."""
        out: dict[str, str] = {}
        for name in self._listdir(self._path("/sys/block")):
            path = self._path(f"/sys/block/{name}/loop/backing_file")
            if os.path.isfile(path):
                backing = self._read(f"/sys/block/{name}/loop/backing_file").rstrip("\n")
                out[name] = backing.removesuffix(" (deleted)")
        return out

    def describe(self, name: str) -> str:
        """ "dm-0 (LVM logical volume vg-lv)", "md0 (MD RAID raid1)", "loop1"."""
        base = os.path.realpath(self._class(name))
        dm_name = os.path.join(base, "dm", "name")
        if os.path.isfile(dm_name):
            label = self._read_abs(dm_name)
            uuid = self._read_abs(os.path.join(base, "dm", "uuid"))
            what = "LVM logical volume" if uuid.startswith("LVM-") else "device-mapper"
            if uuid.startswith("CRYPT-"):
                what = "dm-crypt"
            return f"{name} ({what} {label})"
        level = os.path.join(base, "md", "level")
        if os.path.isfile(level):
            return f"{name} (MD RAID {self._read_abs(level) or 'array'})"
        return name

    def _read_abs(self, path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read().strip()
        except OSError as exc:
            raise GuardError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def mount_of(self, path: str) -> Mount | None:
        """The mount a path sits on (the longest mount point above it)."""
        best: Mount | None = None
        for mount in self.mounts():
            mp = mount.mount_point
            inside = path == mp or path.startswith(mp.rstrip("/") + "/")
            if inside and (best is None or len(mp) >= len(best.mount_point)):
                best = mount
        return best


# ------------------------------------------------------------------------------------ signatures
def _blkid_exit_nothing(exc: ProcessFailed) -> bool:
    return exc.returncode == 2  # blkid: nothing found


def probe_signatures(ctx: JobContext, device: str) -> list[str]:
    """The partition tables / filesystem signatures on `device` (`wipefs -n -J`, `blkid -p`)."""
    lines: list[str] = []
    try:
        run_process(ctx, ["wipefs", "--no-act", "--json", device], on_line=lines.append)
    except ProcessFailed as exc:
        raise GuardError(f"wipefs failed on {device}: {exc}") from exc
    found: list[str] = []
    text = "\n".join(lines).strip()
    if text:  # wipefs prints nothing at all on some versions when there is nothing
        try:
            data = json.loads(text)
            signatures = data.get("signatures", [])
            for sig in signatures:
                kind = str(sig.get("type") or "unknown")
                if kind not in found:
                    found.append(kind)
        except (ValueError, AttributeError, TypeError) as exc:
            raise GuardError(f"unreadable wipefs output for {device}: {text[:200]!r}") from exc
    export: list[str] = []
    try:
        run_process(ctx, ["blkid", "-p", "-o", "export", device], on_line=export.append)
    except ProcessFailed as exc:
        if not _blkid_exit_nothing(exc):
            raise GuardError(f"blkid failed on {device}: {exc}") from exc
    for line in export:
        key, _, value = line.partition("=")
        if key in ("TYPE", "PTTYPE") and value and value not in found:
            found.append(value)
    return found


def _signature_words(kinds: Iterable[str]) -> str:
    return ", ".join(SIGNATURE_WORDS.get(k, f"a {k} signature") for k in kinds)


# ------------------------------------------------------------------------------------ checks
def _path_forms(path: str) -> set[str]:
    return {os.path.normpath(path), os.path.realpath(path)}


def _device_family(view: HostView, name: str) -> tuple[list[str], list[str]]:
    """(the device and its partitions, everything stacked on them: holders, recursively)."""
    own = [name, *view.partitions(name)]
    stacked: list[str] = []
    todo = [(h, 1) for n in own for h in view.holders(n)]
    while todo:
        holder, depth = todo.pop(0)
        if holder in stacked or holder in own:
            continue
        if depth > MAX_DEPTH:
            raise GuardError(f"holders of {name} nest deeper than {MAX_DEPTH}")
        stacked.append(holder)
        for part in view.partitions(holder):
            todo.append((part, depth + 1))
        todo.extend((h, depth + 1) for h in view.holders(holder))
    return own, stacked


def _which(view: HostView, name: str, own: Sequence[str], hit: str) -> str:
    if hit == name:
        return "it"
    return f"its partition {hit}" if hit in own else view.describe(hit)


def _source_devnum(source: str) -> tuple[int, int] | None:
    if not source.startswith("/"):
        return None
    try:
        st = os.stat(source)
    except OSError:
        return None
    if not stat.S_ISBLK(st.st_mode):
        return None
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def _swap_devnum(view: HostView, path: str) -> tuple[int, int] | None:
    if view.real:
        return _source_devnum(path)
    name = os.path.basename(path)
    if path.startswith("/dev/") and view.exists(name):
        return view.devnum(name)
    return None


def check_block_device(
    ctx: JobContext,
    path: str,
    name: str,
    *,
    writes: bool,
    usage: StorageUsage,
    view: HostView,
    probe: Probe = probe_signatures,
) -> TargetCheck:
    """The checks of a block device `path` whose kernel name is `name` (see the module doc).
    Never raises: an error refuses the device."""
    try:
        return _check_block_device(
            ctx, path, name, writes=writes, usage=usage, view=view, probe=probe
        )
    except JobCancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - any error while checking is unsafe
        return TargetCheck(path, "device", "refuse", (f"cannot check it: {exc}",), readonly=True)


def _check_block_device(
    ctx: JobContext,
    path: str,
    name: str,
    *,
    writes: bool,
    usage: StorageUsage,
    view: HostView,
    probe: Probe,
) -> TargetCheck:
    reasons: list[str] = []
    own, stacked = _device_family(view, name)
    family = own + stacked
    numbers = {view.devnum(n): n for n in family}

    parent = view.parent(name)
    if parent:
        for holder in view.holders(parent):
            reasons.append(f"its disk {parent} is held by {view.describe(holder)}")

    for member in own:
        for holder in view.holders(member):
            which = "it" if member == name else f"its partition {member}"
            reasons.append(f"{which} is held by {view.describe(holder)} (in use)")

    dev_paths = {n: f"/dev/{n}" for n in family}
    for mount in view.mounts():
        hit = numbers.get(mount.devnum)
        if hit is None and view.real:
            src = _source_devnum(mount.source)
            hit = numbers.get(src) if src is not None else None
        if hit is not None:
            which = _which(view, name, own, hit)
            reasons.append(f"{which} is mounted on {mount.mount_point} ({mount.fstype})")

    for swap in view.swaps():
        num = _swap_devnum(view, swap)
        hit = numbers.get(num) if num is not None else None
        if hit is not None:
            reasons.append(f"{_which(view, name, own, hit)} is in use as swap ({swap})")

    target_forms = _path_forms(path) | set(dev_paths.values())
    for loop, backing in view.loop_backing().items():
        if backing in target_forms or (view.real and os.path.realpath(backing) in target_forms):
            reasons.append(f"it backs the loop device {loop}")

    reported: set[User] = set()
    for dev_path in dict.fromkeys([path, *(dev_paths[n] for n in own)]):
        users = usage.users_of(dev_path)
        reported.update(users)
        if users:
            text = ", ".join(u.describe() for u in users)
            reasons.append(f"{dev_path} is a disk of a domain or an image in use: {text}")
    if view.real:  # the same devices under other names (/dev/disk/by-id/..., /dev/mapper/...)
        for use in usage.uses:
            if use.user in reported:
                continue
            hit = next((numbers[n] for n in map(_source_devnum, use.forms) if n in numbers), "")
            if hit:
                reported.add(use.user)
                which = _which(view, name, own, hit)
                reasons.append(f"{which} is a disk of a domain: {use.user.describe()}")

    if writes:
        kinds = probe(ctx, path)
        if kinds:
            reasons.append(f"it holds data: {_signature_words(kinds)}")

    if not writes:  # reads are never refused: fio runs with --readonly
        return TargetCheck(path, "device", "ok", tuple(reasons), readonly=True)
    if reasons:
        return TargetCheck(path, "device", "refuse", tuple(reasons), readonly=True)
    note = f"a raw device ({name}) with no partition table, filesystem or user found"
    return TargetCheck(path, "device", "confirm", (note,), confirm_name=path, readonly=True)


def _same_file_users(path: str, usage: StorageUsage) -> tuple[User, ...]:
    """Users of the same file under another name (a hard link, a bind mount)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    found: list[User] = []
    for use in usage.uses:
        for form in use.forms:
            try:
                other = os.stat(form)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                found.append(use.user)
                break
    return tuple(found)


def _file_check(
    path: str, kind: TargetKind, *, writes: bool, usage: StorageUsage, view: HostView
) -> TargetCheck:
    reasons: list[str] = []
    real = os.path.realpath(path)
    forms = _path_forms(path)
    mount = view.mount_of(real)
    if mount is not None and mount.fstype in PSEUDO_FS:
        reasons.append(f"it is on the kernel filesystem {mount.fstype} ({mount.mount_point})")
    if kind == "file" and any(m.mount_point in forms for m in view.mounts()):
        reasons.append("it is a mount point (a bind-mounted file)")
    for swap in view.swaps():
        if swap in forms or (view.real and os.path.realpath(swap) in forms):
            reasons.append("it is in use as swap")
    for loop, backing in view.loop_backing().items():
        if backing in forms or os.path.realpath(backing) in forms:
            reasons.append(f"it backs the loop device {loop}")
    users = usage.users_of(path) + _same_file_users(path, usage)
    if users:
        text = ", ".join(u.describe() for u in dict.fromkeys(users))
        reasons.append(f"it is a disk of a domain or an image in use: {text}")
    in_use = bool(reasons)
    if reasons and writes:
        return TargetCheck(path, kind, "refuse", tuple(reasons), readonly=True)
    return TargetCheck(path, kind, "ok", tuple(reasons), readonly=in_use)


def check_target(
    ctx: JobContext,
    path: str,
    *,
    writes: bool,
    usage: StorageUsage,
    view: HostView | None = None,
    probe: Probe = probe_signatures,
    directory_files: Sequence[str] = (),
) -> TargetCheck:
    """The guard's answer for one target path (`directory_files`: for a directory, the names
    of the files fio will make in it). Never raises: an error refuses the target."""
    view = view if view is not None else HostView()
    try:
        ctx.check()
        if not path or not os.path.isabs(path):
            raise GuardError("the target must be an absolute path")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                raise GuardError(f"its directory {parent} does not exist") from None
            return _file_check(path, "new file", writes=writes, usage=usage, view=view)
        except OSError as exc:
            raise GuardError(f"cannot look at it: {exc.strerror or exc}") from exc
        if stat.S_ISBLK(st.st_mode):
            name = view.block_name((os.major(st.st_rdev), os.minor(st.st_rdev)))
            return check_block_device(
                ctx, path, name, writes=writes, usage=usage, view=view, probe=probe
            )
        if stat.S_ISREG(st.st_mode):
            return _file_check(path, "file", writes=writes, usage=usage, view=view)
        if stat.S_ISDIR(st.st_mode):
            return _directory_check(
                ctx, path, directory_files, writes=writes, usage=usage, view=view
            )
        return TargetCheck(
            path, "other", "refuse", ("not a regular file, a directory or a block device",)
        )
    except JobCancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - any error while checking is unsafe
        return TargetCheck(path, "unknown", "refuse", (f"cannot check it: {exc}",))


def _directory_check(
    ctx: JobContext,
    path: str,
    files: Sequence[str],
    *,
    writes: bool,
    usage: StorageUsage,
    view: HostView,
) -> TargetCheck:
    reasons: list[str] = []
    mount = view.mount_of(os.path.realpath(path))
    if mount is not None and mount.fstype in PSEUDO_FS:
        reasons.append(f"it is on the kernel filesystem {mount.fstype} ({mount.mount_point})")
    readonly = False
    for name in files:
        if not name or "/" in name or name in (".", ".."):
            reasons.append(f"not a plain file name: {name!r}")
            continue
        sub = check_target(ctx, os.path.join(path, name), writes=writes, usage=usage, view=view)
        if sub.kind not in ("file", "new file") or sub.decision != "ok":
            reasons.extend(f"{name}: {r}" for r in sub.reasons)
            if sub.kind not in ("file", "new file"):
                reasons.append(f"{name}: is a {sub.kind}, not a file")
        readonly = readonly or sub.readonly
    if reasons and writes:
        return TargetCheck(path, "directory", "refuse", tuple(reasons), readonly=True)
    return TargetCheck(path, "directory", "ok", tuple(reasons), readonly=readonly or bool(reasons))


def check_targets(
    ctx: JobContext,
    targets: Sequence[str],
    *,
    writes: bool,
    connections: Iterable[Connection] = (),
    usage: StorageUsage | None = None,
    root: str = "/",
    probe: Probe = probe_signatures,
    directory_files: Sequence[str] = (),
    uri: str | None = None,
) -> Verdict:
    """The guard's verdict for a job on `targets` (files, directories, block devices).

    `connections`: every open connection (the domains' disks and images in use are read once
    with `scan_usage`); `usage`: an existing scan instead. A failed scan refuses every target.
    `uri`: the host fio would run on; another machine than this one is refused (the guard
    reads this machine's /proc and /sys only). Blocking: call from a job."""
    if not targets:
        return Verdict(writes, (TargetCheck("", "unknown", "refuse", ("no target given",)),))
    remote = _remote_refusal(uri)
    if remote:
        return Verdict(writes, tuple(TargetCheck(t, "unknown", "refuse", remote) for t in targets))
    if usage is None:
        try:
            usage = scan_usage(connections)
        except Exception as exc:  # noqa: BLE001 - unknown users are not "no users"
            reason = f"cannot read the domains' disks: {exc}"
            checks = tuple(TargetCheck(t, "unknown", "refuse", (reason,)) for t in targets)
            return Verdict(writes, checks)
    view = HostView(root)
    checks = tuple(
        check_target(
            ctx,
            t,
            writes=writes,
            usage=usage,
            view=view,
            probe=probe,
            directory_files=directory_files,
        )
        for t in targets
    )
    return Verdict(writes, checks)


def _remote_refusal(uri: str | None) -> tuple[str, ...]:
    if uri is None or is_local_uri(uri):
        return ()
    return (f"fio on another host ({uri}) is not guarded yet: the guard reads this machine only",)


def guard_jobfile(
    ctx: JobContext,
    jobfile: JobFile,
    *,
    connections: Iterable[Connection] = (),
    usage: StorageUsage | None = None,
    root: str = "/",
    probe: Probe = probe_signatures,
    uri: str | None = None,
) -> Verdict:
    """The guard's verdict for a whole job file (each job with [global] filled in).

    fio's `--readonly` is one switch for the whole run: when any job writes, every target of
    every job is checked as written (a read of a mounted device in the same file is refused:
    run it separately, read-only). A job whose files cannot be known (a raw
    `filename_format`, no target at all) is refused when the file writes."""
    writes = jobfile.writes
    remote = _remote_refusal(uri)
    if remote:
        return Verdict(writes, (TargetCheck("", "unknown", "refuse", remote),))
    if usage is None:
        try:
            usage = scan_usage(connections)
        except Exception as exc:  # noqa: BLE001 - unknown users are not "no users"
            reason = f"cannot read the domains' disks: {exc}"
            return Verdict(writes, (TargetCheck("", "unknown", "refuse", (reason,)),))
    checks: list[TargetCheck] = []
    for job in jobfile.effective_jobs():
        files = job.directory_files()
        if not job.targets:
            checks.append(TargetCheck("", "unknown", "refuse", (f"job {job.name}: no target",)))
            continue
        if files is None and writes:
            reason = f"job {job.name}: filename_format hides which files fio writes"
            checks.append(TargetCheck(job.targets[0], "unknown", "refuse", (reason,)))
            continue
        verdict = check_targets(
            ctx,
            job.targets,
            writes=writes,
            usage=usage,
            root=root,
            probe=probe,
            directory_files=files or (),
        )
        checks.extend(c for c in verdict.checks if c not in checks)
    return Verdict(writes, tuple(checks))


def reasons_text(verdict: Verdict) -> str:
    """One line per reason (for a dialog or a JobFailed message)."""
    return "\n".join(verdict.reasons)


__all__ = [
    "Decision",
    "GuardError",
    "HostView",
    "Mount",
    "TargetCheck",
    "Verdict",
    "check_block_device",
    "check_target",
    "check_targets",
    "guard_jobfile",
    "parse_mountinfo",
    "parse_swaps",
    "probe_signatures",
    "reasons_text",
]
