"""The fio safety guard: may this job write to these targets?

fio's own check only compares a filename literally with /etc/mtab. This one looks at what the
target really is, on the host fio runs on, before any job that writes (`check_targets`):

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

Another host: with the `uri` of a `qemu+ssh` host (where `run_fio` runs fio, over ssh even to
localhost) the same rules apply to that host (`RemoteHostView`): its /proc/self/mountinfo,
/proc/swaps, /sys/class/block (dev, partitions, holders, dm/md names, loop backing files), its
block device nodes under /dev, and a stat and `realpath -m` of every path the guard may look at
(the targets, their directories, the files fio makes in a directory target, the paths of the
images in use) are read in ONE ssh round trip: a constant `sh -c` script, every path a
positional argument, its output NUL-separated and hex-encoded by `od` (no byte of a path can
break it). wipefs and blkid run there too (`probe_signatures(uri=)`). The domains' disks come
from the same `scan_usage` of the open connections, matched by the path as spelled and as
resolved on that host. Anything that could not be read there refuses the target ("could not
read X on HOST: ..."); an ssh that fails refuses every target. Other remote transports (tcp,
tls) are refused: fio runs on another host only over ssh.

`guard_jobfile` applies it to a whole `.fio` job file (`core/fio/job.py`; on a remote host all
its jobs in the same one round trip).

Done: the checks above, here and over ssh (tests/core/fio/test_guard_*.py; the same device and
file tests through a real sshd: tests/integration/test_fio_guard_ssh.py), the typed verdict.
The UI session still needs: run `guard_jobfile` in a job before starting fio (with the app's
open connections and the host's URI), show the reasons (untrusted text: `plain.py`), the
typed-name confirmation dialog, and pass `Verdict.fio_args` to fio.

Blocking (libvirt, wipefs, blkid): call it from a job.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from virttui.core.fio.job import JobFile
from virttui.core.host.connection import is_local_uri
from virttui.core.jobs import JobCancelled, JobContext, ProcessFailed, run_process, ssh_target
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


@dataclass(frozen=True, slots=True)
class PathStat:
    """What the guard needs of a stat: the file type, a device node's number, the file's id."""

    mode: int
    rdev: tuple[int, int]
    dev: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> PathStat:
        return cls(st.st_mode, (os.major(st.st_rdev), os.minor(st.st_rdev)), st.st_dev, st.st_ino)


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
        return _mount_of(self.mounts(), path)

    # Paths, device nodes and files: always looked at on this machine (also with a recorded
    # tree as `root`).
    host = ""  # where the paths are: "" for this machine (see RemoteHostView)

    def stat(self, path: str) -> PathStat | None:
        """`os.stat` (symlinks followed); None when it does not exist, OSError otherwise."""
        try:
            return PathStat.of(os.stat(path))
        except FileNotFoundError:
            return None

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def resolve(self, path: str) -> str:
        """`os.path.realpath`."""
        return os.path.realpath(path)

    def block_devnum(self, path: str) -> tuple[int, int] | None:
        """The device number of the block device node `path` (None: not one, or unreadable)."""
        return _source_devnum(path)

    def users_of(self, usage: StorageUsage, path: str) -> tuple[User, ...]:
        return usage.users_of(path)


def _mount_of(mounts: Iterable[Mount], path: str) -> Mount | None:
    """The mount a path sits on (the longest mount point above it)."""
    best: Mount | None = None
    for mount in mounts:
        mp = mount.mount_point
        inside = path == mp or path.startswith(mp.rstrip("/") + "/")
        if inside and (best is None or len(mp) >= len(best.mount_point)):
            best = mount
    return best


# ------------------------------------------------------------------------------------ remote host
# RemoteHostView's one look at a host: every answer in one run of this constant script (the
# paths are its positional arguments, never part of it). Its whole output goes through `od`, so
# any byte of a path or a file arrives intact through the line-based ssh stream; inside, every
# field ends with a NUL. Records (a tag, then fixed fields; a "grab" is two fields: ok VALUE or
# err MESSAGE, one trailing newline of VALUE dropped):
#   F key grab                     /proc/self/mountinfo, /proc/swaps, the /sys/class/block list
#   B name grab(realpath) grab(dev) 0|1(partition) grab(holders, one per line)
#   A name attribute grab          dm/name, dm/uuid, md/level, loop/backing_file when present
#   D path major:minor(hex)        every block device node under /dev (and link to one)
#   F devnodes ok|err ""           whether that listing was complete
#   P path grab(stat) grab(realpath -m)       each positional argument
#   E end
REMOTE_SCRIPT = r"""
LC_ALL=C
export LC_ALL
nl='
'
out() { printf '%s\0' "$@"; }
grab() {
  if v=$("$@" 2>&1 && printf .); then v=${v%.}; out ok "${v%"$nl"}"; else out err "$v"; fi
}
{
  out F mountinfo; grab cat /proc/self/mountinfo
  out F swaps; grab cat /proc/swaps
  out F classblock; grab ls -A /sys/class/block
  for d in /sys/class/block/*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    out B "$n"; grab realpath -e -- "$d"; grab cat -- "$d/dev"
    if [ -f "$d/partition" ]; then out 1; else out 0; fi
    if [ -d "$d/holders" ]; then grab ls -A -- "$d/holders"; else out ok ""; fi
    for a in dm/name dm/uuid md/level loop/backing_file; do
      if [ -f "$d/$a" ]; then out A "$n" "$a"; grab cat -- "$d/$a"; fi
    done
  done
  if find /dev \( -type b -o \( -type l -xtype b \) \) \
      -exec stat -L --printf 'D\0%n\0%t:%T\0' -- {} + 2>/dev/null; then
    out F devnodes ok ""
  else
    out F devnodes err ""
  fi
  for p do
    out P "$p"; grab stat -L -c '%f %t %T %d %i' -- "$p"; grab realpath -m -- "$p"
  done
  out E end
} | od -An -v -tx1
"""
_MISSING = "No such file or directory"  # the end of stat's message under LC_ALL=C


@dataclass(frozen=True, slots=True)
class _Grab:
    ok: bool
    value: str


@dataclass(frozen=True, slots=True)
class _Dev:
    sys_path: _Grab
    dev: _Grab
    partition: bool
    holders: _Grab


def _remote_fields(lines: Iterable[str]) -> list[str]:
    """The NUL-terminated fields of the script's od output."""
    try:
        data = bytes.fromhex("".join("".join(lines).split()))
    except ValueError as exc:
        raise GuardError(f"unreadable answer: {exc}") from exc
    if not data.endswith(b"\0"):
        raise GuardError("the answer was cut short")
    return [f.decode("utf-8", "surrogateescape") for f in data[:-1].split(b"\0")]


@dataclass
class RemoteHostView:
    """/proc and /sys of another host, and the paths the guard asks about, read over ssh in one
    round trip (`load`). The same questions as `HostView`; what could not be read there refuses
    the target ("could not read X on HOST: ..."), and a path that was not looked at is an error.
    Paths the kernel gave (mount points, swap areas, loop backing files) are already canonical:
    `resolve` leaves a path it did not look at as it is."""

    host: str
    files: dict[str, _Grab]
    devices: dict[str, _Dev]
    attributes: dict[tuple[str, str], _Grab]
    nodes: dict[str, tuple[int, int]]
    paths: dict[str, tuple[_Grab, _Grab]]
    _mounts: list[Mount] | None = field(default=None, repr=False)

    real = True  # device numbers of paths can be looked up (on that host)

    @classmethod
    def load(cls, ctx: JobContext, uri: str, paths: Iterable[str]) -> RemoteHostView:
        """Run the one script over ssh to `uri`'s host. GuardError when it cannot."""
        try:
            target = ssh_target(uri)
        except ValueError as exc:  # qemu+ssh:///system: no host
            raise GuardError(str(exc)) from exc
        if target is None:
            raise GuardError(f"{uri} is not a qemu+ssh URI")
        host = target.host
        asked = list(dict.fromkeys(p for p in paths if p.startswith("/")))
        lines: list[str] = []
        try:
            run_process(
                ctx, ["sh", "-c", REMOTE_SCRIPT, "sh", *asked], uri=uri, on_line=lines.append
            )
        except ProcessFailed as exc:
            raise GuardError(f"could not read /proc and /sys on {host}: {exc}") from exc
        try:
            view = cls._parse(host, _remote_fields(lines))
        except GuardError as exc:
            raise GuardError(f"could not read /proc and /sys on {host}: {exc}") from exc
        missing = [p for p in asked if p not in view.paths]
        if missing:
            raise GuardError(f"could not look at {missing[0]} on {host}: no answer")
        return view

    @classmethod
    def _parse(cls, host: str, fields: list[str]) -> RemoteHostView:
        view = cls(host, {}, {}, {}, {}, {})
        it = iter(fields)

        def take() -> str:
            try:
                return next(it)
            except StopIteration:
                raise GuardError("the answer was cut short") from None

        def grab() -> _Grab:
            status = take()
            if status not in ("ok", "err"):
                raise GuardError(f"unexpected field {status[:40]!r}")
            return _Grab(status == "ok", take())

        while True:
            tag = take()
            if tag == "E":
                if take() != "end" or next(it, None) is not None:
                    raise GuardError("unexpected data after the end")
                return view
            if tag == "F":
                key = take()
                view.files[key] = grab()
            elif tag == "B":
                name = take()
                sys_path, dev, part, holders = grab(), grab(), take(), grab()
                view.devices[name] = _Dev(sys_path, dev, part == "1", holders)
            elif tag == "A":
                name, attr = take(), take()
                view.attributes[(name, attr)] = grab()
            elif tag == "D":
                path, number = take(), take()
                major, _, minor = number.partition(":")
                try:
                    view.nodes[path] = (int(major, 16), int(minor, 16))
                except ValueError:
                    raise GuardError(f"unreadable device number {number[:40]!r}") from None
            elif tag == "P":
                path = take()
                view.paths[path] = (grab(), grab())
            else:
                raise GuardError(f"unexpected record {tag[:40]!r}")

    # ---- /proc and /sys
    def _failed(self, what: str, message: str) -> GuardError:
        return GuardError(f"could not read {what} on {self.host}: {message.strip()}")

    def _file(self, key: str, what: str) -> str:
        got = self.files.get(key)
        if got is None:
            raise self._failed(what, "no answer")
        if not got.ok:
            raise self._failed(what, got.value)
        return got.value

    def mounts(self) -> list[Mount]:
        if self._mounts is None:
            self._mounts = parse_mountinfo(self._file("mountinfo", "/proc/self/mountinfo"))
        return self._mounts

    def swaps(self) -> list[str]:
        return parse_swaps(self._file("swaps", "/proc/swaps"))

    def _device(self, name: str) -> _Dev:
        if not name or "/" in name or name in (".", ".."):
            raise GuardError(f"not a block device name: {name!r}")
        self._file("classblock", "/sys/class/block")
        dev = self.devices.get(name)
        if dev is None:
            raise self._failed(f"/sys/class/block/{name}", _MISSING)
        return dev

    def _sys_path(self, name: str) -> str:
        got = self._device(name).sys_path
        if not got.ok:
            raise self._failed(f"/sys/class/block/{name}", got.value)
        return got.value

    def block_name(self, devnum: tuple[int, int]) -> str:
        self._file("classblock", "/sys/class/block")
        wanted = f"{devnum[0]}:{devnum[1]}"
        unread: GuardError | None = None
        for name in sorted(self.devices):
            try:
                if self.devnum(name) == devnum:
                    return name
            except GuardError as exc:
                unread = unread or exc
        if unread is not None:  # it may be the one whose number could not be read
            raise unread
        raise GuardError(f"block device {wanted} is not in /sys/dev/block on {self.host}")

    def exists(self, name: str) -> bool:
        self._file("classblock", "/sys/class/block")
        return name in self.devices

    def devnum(self, name: str) -> tuple[int, int]:
        got = self._device(name).dev
        if not got.ok:
            raise self._failed(f"/sys/class/block/{name}/dev", got.value)
        text = got.value.strip()
        major, _, minor = text.partition(":")
        if not (major.isdigit() and minor.isdigit()):
            raise GuardError(f"unreadable /sys/class/block/{name}/dev on {self.host}: {text!r}")
        return int(major), int(minor)

    def partitions(self, name: str) -> list[str]:
        base = self._sys_path(name)
        found = []
        for other, dev in sorted(self.devices.items()):
            if not dev.partition:
                continue
            if not dev.sys_path.ok:  # it may be one of them
                raise self._failed(f"/sys/class/block/{other}", dev.sys_path.value)
            if os.path.dirname(dev.sys_path.value) == base:
                found.append(other)
        return found

    def parent(self, name: str) -> str:
        if not self._device(name).partition:
            return ""
        return os.path.basename(os.path.dirname(self._sys_path(name)))

    def holders(self, name: str) -> list[str]:
        got = self._device(name).holders
        if not got.ok:
            raise self._failed(f"/sys/class/block/{name}/holders", got.value)
        return sorted(h for h in got.value.split("\n") if h)

    def _attribute(self, name: str, attr: str) -> str | None:
        got = self.attributes.get((name, attr))
        if got is None:
            return None
        if not got.ok:
            raise self._failed(f"/sys/class/block/{name}/{attr}", got.value)
        return got.value

    def loop_backing(self) -> dict[str, str]:
        self._file("classblock", "/sys/class/block")
        out: dict[str, str] = {}
        for name in sorted(self.devices):
            backing = self._attribute(name, "loop/backing_file")
            if backing is not None:
                out[name] = backing.rstrip("\n").removesuffix(" (deleted)")
        return out

    def describe(self, name: str) -> str:
        label = self._attribute(name, "dm/name")
        if label is not None:
            uuid = self._attribute(name, "dm/uuid") or ""
            what = "LVM logical volume" if uuid.startswith("LVM-") else "device-mapper"
            if uuid.startswith("CRYPT-"):
                what = "dm-crypt"
            return f"{name} ({what} {label.strip()})"
        level = self._attribute(name, "md/level")
        if level is not None:
            return f"{name} (MD RAID {level.strip() or 'array'})"
        return name

    def mount_of(self, path: str) -> Mount | None:
        return _mount_of(self.mounts(), path)

    # ---- paths
    def _looked_at(self, path: str) -> tuple[_Grab, _Grab]:
        got = self.paths.get(path)
        if got is None:
            raise GuardError(f"{path} was not looked at on {self.host}")
        return got

    def stat(self, path: str) -> PathStat | None:
        got, _real = self._looked_at(path)
        if not got.ok:
            if got.value.rstrip().endswith(_MISSING):
                return None
            raise self._failed(path, got.value)
        parts = got.value.split()
        try:
            mode, major, minor, dev, ino = parts
            return PathStat(int(mode, 16), (int(major, 16), int(minor, 16)), int(dev), int(ino))
        except ValueError:
            raise GuardError(f"unreadable stat of {path} on {self.host}: {got.value!r}") from None

    def isdir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISDIR(st.mode)

    def resolve(self, path: str) -> str:
        got = self.paths.get(path)
        if got is None:  # a path the kernel gave: already canonical
            return os.path.normpath(path)
        real = got[1]
        if not real.ok:
            raise self._failed(f"where {path} leads", real.value)
        return real.value

    def block_devnum(self, path: str) -> tuple[int, int] | None:
        if path in self.paths:
            try:
                st = self.stat(path)
            except GuardError:
                return None  # as locally: a source that cannot be looked at is not a device
            return st.rdev if st is not None and stat.S_ISBLK(st.mode) else None
        if path in self.nodes:
            return self.nodes[path]
        if not path.startswith("/dev/"):
            return None
        devnodes = self.files.get("devnodes")
        if devnodes is None or not devnodes.ok:
            raise self._failed("the block devices in /dev", "the listing failed")
        return None

    def users_of(self, usage: StorageUsage, path: str) -> tuple[User, ...]:
        """Users of `path` on that host: its spelling and where it leads there (never resolved
        on this machine)."""
        found = usage.users_of(path, local=False) + usage.users_of(self.resolve(path), local=False)
        return tuple(dict.fromkeys(found))


View: TypeAlias = HostView | RemoteHostView


def paths_to_look_at(
    targets: Iterable[str], directory_files: Sequence[str], usage: StorageUsage
) -> list[str]:
    """Every path the guard may look at for `targets` (each target, its directory, the files fio
    makes in a directory target) and the paths of the users found (a hard link to an image)."""
    out: list[str] = []
    for target in targets:
        if not target or not os.path.isabs(target):
            continue
        out += [target, os.path.dirname(target)]
        for name in directory_files:
            if name and "/" not in name and name not in (".", ".."):
                out.append(os.path.join(target, name))
    out += [form for use in usage.uses for form in sorted(use.forms) if os.path.isabs(form)]
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------------------------ signatures
def _blkid_exit_nothing(exc: ProcessFailed) -> bool:
    return exc.returncode == 2  # blkid: nothing found


def probe_signatures(ctx: JobContext, device: str, *, uri: str | None = None) -> list[str]:
    """The partition tables / filesystem signatures on `device` (`wipefs -n -J`, `blkid -p`),
    on the host of `uri` (over ssh for a `qemu+ssh` URI)."""
    lines: list[str] = []
    try:
        run_process(ctx, ["wipefs", "--no-act", "--json", device], uri=uri, on_line=lines.append)
    except ProcessFailed as exc:
        raise GuardError(f"wipefs failed on {device}{_on_host(uri)}: {exc}") from exc
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
        run_process(ctx, ["blkid", "-p", "-o", "export", device], uri=uri, on_line=export.append)
    except ProcessFailed as exc:
        if not _blkid_exit_nothing(exc):
            raise GuardError(f"blkid failed on {device}{_on_host(uri)}: {exc}") from exc
    for line in export:
        key, _, value = line.partition("=")
        if key in ("TYPE", "PTTYPE") and value and value not in found:
            found.append(value)
    return found


def _on_host(uri: str | None) -> str:
    try:
        target = ssh_target(uri) if uri else None
    except ValueError:
        return ""
    return f" on {target.host}" if target is not None else ""


def _signature_words(kinds: Iterable[str]) -> str:
    return ", ".join(SIGNATURE_WORDS.get(k, f"a {k} signature") for k in kinds)


# ------------------------------------------------------------------------------------ checks
def _path_forms(view: View, path: str) -> set[str]:
    return {os.path.normpath(path), view.resolve(path)}


def _device_family(view: View, name: str) -> tuple[list[str], list[str]]:
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


def _which(view: View, name: str, own: Sequence[str], hit: str) -> str:
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


def _swap_devnum(view: View, path: str) -> tuple[int, int] | None:
    if view.real:
        return view.block_devnum(path)
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
    view: View,
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
    view: View,
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
            src = view.block_devnum(mount.source)
            hit = numbers.get(src) if src is not None else None
        if hit is not None:
            which = _which(view, name, own, hit)
            reasons.append(f"{which} is mounted on {mount.mount_point} ({mount.fstype})")

    for swap in view.swaps():
        num = _swap_devnum(view, swap)
        hit = numbers.get(num) if num is not None else None
        if hit is not None:
            reasons.append(f"{_which(view, name, own, hit)} is in use as swap ({swap})")

    target_forms = _path_forms(view, path) | set(dev_paths.values())
    for loop, backing in view.loop_backing().items():
        if backing in target_forms or (view.real and view.resolve(backing) in target_forms):
            reasons.append(f"it backs the loop device {loop}")

    reported: set[User] = set()
    for dev_path in dict.fromkeys([path, *(dev_paths[n] for n in own)]):
        users = view.users_of(usage, dev_path)
        reported.update(users)
        if users:
            text = ", ".join(u.describe() for u in users)
            reasons.append(f"{dev_path} is a disk of a domain or an image in use: {text}")
    if view.real:  # the same devices under other names (/dev/disk/by-id/..., /dev/mapper/...)
        for use in usage.uses:
            if use.user in reported:
                continue
            devnums = map(view.block_devnum, use.forms)
            hit = next((numbers[n] for n in devnums if n in numbers), "")
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


def _same_file_users(view: View, path: str, usage: StorageUsage) -> tuple[User, ...]:
    """Users of the same file under another name (a hard link, a bind mount)."""
    st = view.stat(path)
    if st is None:
        return ()
    found: list[User] = []
    for use in usage.uses:
        for form in use.forms:
            try:
                other = view.stat(form)
            except (OSError, GuardError):
                continue
            if other is None:
                continue
            if (other.dev, other.ino) == (st.dev, st.ino):
                found.append(use.user)
                break
    return tuple(found)


def _file_check(
    path: str, kind: TargetKind, *, writes: bool, usage: StorageUsage, view: View
) -> TargetCheck:
    reasons: list[str] = []
    real = view.resolve(path)
    forms = _path_forms(view, path)
    mount = view.mount_of(real)
    if mount is not None and mount.fstype in PSEUDO_FS:
        reasons.append(f"it is on the kernel filesystem {mount.fstype} ({mount.mount_point})")
    if kind == "file" and any(m.mount_point in forms for m in view.mounts()):
        reasons.append("it is a mount point (a bind-mounted file)")
    for swap in view.swaps():
        if swap in forms or (view.real and view.resolve(swap) in forms):
            reasons.append("it is in use as swap")
    for loop, backing in view.loop_backing().items():
        if backing in forms or view.resolve(backing) in forms:
            reasons.append(f"it backs the loop device {loop}")
    users = view.users_of(usage, path) + _same_file_users(view, path, usage)
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
    view: View | None = None,
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
            st = view.stat(path)
        except OSError as exc:
            raise GuardError(f"cannot look at it: {exc.strerror or exc}") from exc
        if st is None:
            parent = os.path.dirname(path)
            if not view.isdir(parent):
                raise GuardError(f"its directory {parent} does not exist") from None
            return _file_check(path, "new file", writes=writes, usage=usage, view=view)
        if stat.S_ISBLK(st.mode):
            name = view.block_name(st.rdev)
            return check_block_device(
                ctx, path, name, writes=writes, usage=usage, view=view, probe=probe
            )
        if stat.S_ISREG(st.mode):
            return _file_check(path, "file", writes=writes, usage=usage, view=view)
        if stat.S_ISDIR(st.mode):
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
    view: View,
) -> TargetCheck:
    reasons: list[str] = []
    mount = view.mount_of(view.resolve(path))
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
    view: View | None = None,
) -> Verdict:
    """The guard's verdict for a job on `targets` (files, directories, block devices).

    `connections`: every open connection (the domains' disks and images in use are read once
    with `scan_usage`); `usage`: an existing scan instead. A failed scan refuses every target.
    `uri`: the host fio runs on: this machine, or over ssh the host of a `qemu+ssh` URI (its
    /proc, /sys and paths read in one ssh round trip, `RemoteHostView`; wipefs and blkid run
    there); any other remote URI is refused. `view`: an existing view of that host instead.
    Blocking: call from a job."""
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
    if view is None:
        try:
            view = _view_for(ctx, uri, root, paths_to_look_at(targets, directory_files, usage))
        except GuardError as exc:
            reason = f"cannot check it: {exc}"
            return Verdict(
                writes, tuple(TargetCheck(t, "unknown", "refuse", (reason,)) for t in targets)
            )
    probe = _probe_for(probe, uri)
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


def _over_ssh(uri: str | None) -> bool:
    """fio runs over ssh on `uri`'s host (as `run_fio` does: even for ssh to localhost)."""
    if not uri:
        return False
    try:
        return ssh_target(uri) is not None
    except ValueError:  # an ssh URI without a host: RemoteHostView.load refuses it
        return True


def _remote_refusal(uri: str | None) -> tuple[str, ...]:
    if uri is None or is_local_uri(uri) or _over_ssh(uri):
        return ()
    return (f"fio runs on another host only over qemu+ssh (the guard reads it over ssh): {uri}",)


def _view_for(ctx: JobContext, uri: str | None, root: str, paths: Sequence[str]) -> View:
    """The view of the host fio runs on (blocking: one ssh round trip for a qemu+ssh URI)."""
    if uri is not None and _over_ssh(uri):
        return RemoteHostView.load(ctx, uri, paths)
    return HostView(root)


def _probe_for(probe: Probe, uri: str | None) -> Probe:
    """The default probe runs wipefs and blkid where fio runs; a given probe is used as it is."""
    if probe is probe_signatures and uri is not None and _over_ssh(uri):
        return functools.partial(probe_signatures, uri=uri)
    return probe


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
    """The guard's verdict for a whole job file (each job with [global] filled in), on the host
    of `uri` (see `check_targets`; on a `qemu+ssh` host every path of every job is read in the
    same one ssh round trip).

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
    jobs = [(job, job.directory_files()) for job in jobfile.effective_jobs()]
    view: View | None = None
    if uri is not None and _over_ssh(uri):
        paths = [
            p for job, files in jobs for p in paths_to_look_at(job.targets, files or (), usage)
        ]
        try:
            view = _view_for(ctx, uri, root, list(dict.fromkeys(paths)))
        except GuardError as exc:
            reason = f"cannot check it: {exc}"
            targets = dict.fromkeys(t for job, _files in jobs for t in job.targets) or {"": None}
            return Verdict(
                writes, tuple(TargetCheck(t, "unknown", "refuse", (reason,)) for t in targets)
            )
    checks: list[TargetCheck] = []
    for job, files in jobs:
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
            uri=uri,
            view=view,
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
    "PathStat",
    "RemoteHostView",
    "TargetCheck",
    "Verdict",
    "View",
    "check_block_device",
    "check_target",
    "check_targets",
    "guard_jobfile",
    "parse_mountinfo",
    "parse_swaps",
    "paths_to_look_at",
    "probe_signatures",
    "reasons_text",
]
