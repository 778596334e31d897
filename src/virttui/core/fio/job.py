"""fio jobs: the model behind the job form, `.fio` job files (INI), presets, `fio --parse-only`.

- `FioJob`: one section of a job file with the common parameters typed (name, filename or
  directory, size, direct, ioengine, iodepth, bs/bsrange, numjobs, thread, rw with
  rwmixread/rwmixwrite, runtime/time_based, ramp_time, group_reporting, lockmem, zero_buffers,
  random_distribution, nrfiles) and every other option kept as raw `extra` (key, value or None
  for a bare flag), in order. Values are fio's own strings ("4k", "1g", "30s", "zipf:1.2"):
  fio is the one who interprets them; `validate()` checks their shape field by field with a
  message for each, and `parse_only` lets fio itself check the whole file (the raw options).
- `JobFile`: an optional [global] section (a `FioJob` named "global") and several jobs;
  `load_jobfile` / `parse_jobfile` read standard INI (`;` and `#` comments, `key=value` and
  bare `key` flags, aliases such as readwrite=, blocksize=), `JobFile.text()` writes it back.
  Comments are kept with the section they are in (written at the top of it); a value that does
  not fit a typed field (ioengine=pvsync2, rw=trim) stays a raw option, so nothing is lost.
- `effective(jobfile, job)`: the job with [global]'s values filled in; `writes` says whether a
  job writes (rw, also given as a raw option; trims count as writes), `targets` and
  `directory_files` are what the guard (`guard.check_targets`) must check.
- `preset(kind, directory)`: random read / random write / mixed 70/30 / sequential write /
  sequential read, on a test file in `directory` (never a device).

Done here: the model, validation, INI load/save, presets, parse-only. The UI session still
needs: the form (fields ↔ `FioJob`, `validate()` messages under the fields), the file
dialogs, running the guard and then fio (fiostream's runner) with `Verdict.fio_args`.
No Textual, no libvirt.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from virttui.core.common.atomic import write_atomically
from virttui.core.jobs import JobContext, JobError, ProcessFailed, run_process

IOENGINES = ("libaio", "io_uring", "psync", "sync", "posixaio", "mmap")
RW_MODES = ("read", "write", "randread", "randwrite", "rw", "readwrite", "randrw")
WRITE_MODES = frozenset(
    ("write", "randwrite", "rw", "readwrite", "randrw")
    + ("trim", "randtrim", "trimwrite", "randtrimwrite")  # a trim destroys data too
)
DISTRIBUTIONS = ("random", "zipf", "pareto", "normal")
PresetKind = Literal["randread", "randwrite", "randrw70", "write", "read"]
PRESETS: dict[str, str] = {
    "randread": "Random read (4k)",
    "randwrite": "Random write (4k)",
    "randrw70": "Mixed 70/30 read/write (4k random)",
    "write": "Sequential write (1M)",
    "read": "Sequential read (1M)",
}
PRESET_FILE = "virttui-fio.test"
PARSE_ONLY_LINES = 20

# fio option aliases → the name used here.
ALIASES = {
    "readwrite": "rw",
    "blocksize": "bs",
    "blocksize_range": "bsrange",
    "ba": "blockalign",
    "iodepth_batch": "iodepth_batch_submit",
}

_SIZE = r"\d+(?:\.\d+)?\s*(?:[kmgtpe](?:i?b)?|b)?"
SIZE_RE = re.compile(rf"^{_SIZE}$", re.IGNORECASE)
PERCENT_RE = re.compile(r"^(?:100|[1-9]?\d)(?:\.\d+)?%$")
BS_RE = re.compile(rf"^(?:{_SIZE})?(?:,(?:{_SIZE})?){{0,2}}$", re.IGNORECASE)
RANGE_RE = re.compile(rf"^{_SIZE}[-:]{_SIZE}(?:,{_SIZE}[-:]{_SIZE}){{0,2}}$", re.IGNORECASE)
TIME_RE = re.compile(r"^\d+\s*(?:us|usec|ms|msec|s|sec|m|min|h|d)?$", re.IGNORECASE)
NAME_RE = re.compile(r"^[^\[\]\n\r\x00]+$")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Options = tuple[tuple[str, str | None], ...]


class FioOptionError(JobError):
    """fio rejected the job file; the message is fio's own."""


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True, slots=True)
class FioJob:
    """One job (or the [global] section): unset fields are "" / None (fio's default applies)."""

    name: str
    filename: str = ""
    directory: str = ""
    size: str = ""
    direct: bool | None = None
    ioengine: str = ""
    iodepth: int | None = None
    bs: str = ""
    bsrange: str = ""
    numjobs: int | None = None
    thread: bool | None = None
    rw: str = ""
    rwmixread: int | None = None
    rwmixwrite: int | None = None
    runtime: str = ""
    time_based: bool | None = None
    ramp_time: str = ""
    group_reporting: bool | None = None
    lockmem: str = ""
    zero_buffers: bool | None = None
    random_distribution: str = ""
    nrfiles: int | None = None
    extra: Options = ()
    comments: tuple[str, ...] = ()

    # ------------------------------------------------------------------ options
    def options(self) -> Options:
        """The job's options in file order: typed fields, then the raw ones."""
        out: list[tuple[str, str | None]] = []
        for name in TYPED_FIELDS:
            value = getattr(self, name)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                if name in FLAG_FIELDS:
                    out.append((name, None) if value else (name, "0"))
                else:
                    out.append((name, "1" if value else "0"))
            else:
                out.append((name, str(value)))
        out.extend(self.extra)
        return tuple(out)

    def extra_value(self, key: str) -> str | None:
        """The last raw option `key` (aliases resolved), "" for a bare flag, None if absent."""
        found: str | None = None
        for k, v in self.extra:
            if ALIASES.get(k, k) == key:
                found = "" if v is None else v
        return found

    @property
    def effective_rw(self) -> str:
        raw = self.extra_value("rw")
        rw = raw if raw else self.rw
        return (rw or "read").split(":", 1)[0]  # "randread:8" (rw with an offset modifier)

    @property
    def writes(self) -> bool:
        """Does this job write (or trim)? fio's default rw is read."""
        return self.effective_rw in WRITE_MODES

    @property
    def targets(self) -> tuple[str, ...]:
        """The paths the guard must check: each file of `filename` (fio's ':' list, '\\:'
        escaped) and the directory. Raw filename=/directory= options count too."""
        out: list[str] = []
        directory = self.extra_value("directory") or self.directory
        for spec in (self.filename, self.extra_value("filename") or ""):
            for name in split_filenames(spec):
                path = name if os.path.isabs(name) or not directory else f"{directory}/{name}"
                out.append(path)
        if directory and not out:
            out.append(directory)
        return tuple(dict.fromkeys(out))

    def directory_files(self) -> tuple[str, ...] | None:
        """The files fio makes in `directory` when no filename is given (its default
        `$jobname.$jobnum.$filenum`); None when a raw filename_format makes them unknown."""
        if self.extra_value("filename_format") is not None:
            return None
        if self.filename or self.extra_value("filename"):
            return ()
        jobs = self.numjobs or 1
        files = self.nrfiles or 1
        return tuple(f"{self.name}.{j}.{f}" for j in range(jobs) for f in range(files))

    # ------------------------------------------------------------------ validation
    def validate(self, *, is_global: bool = False) -> dict[str, str]:
        """Field → message for every field whose value fio would not accept (or that makes
        no sense with the others); {} when the job is fine. `is_global`: the [global]
        section (no name, no target needed)."""
        errors: dict[str, str] = {}
        if not is_global:
            if not self.name.strip():
                errors["name"] = "name: give the job a name"
            elif not NAME_RE.match(self.name) or self.name.strip().lower() == "global":
                errors["name"] = "name: no brackets or line breaks, and not 'global'"
        for key in ("filename", "directory"):
            value: str = getattr(self, key)
            if "\n" in value or "\x00" in value:
                errors[key] = f"{key}: no line breaks"
        for path in split_filenames(self.filename):
            if not os.path.isabs(path) and not self.directory:
                errors["filename"] = f"filename: {path!r} is not an absolute path"
                break
        if self.directory and not os.path.isabs(self.directory):
            errors["directory"] = "directory: must be an absolute path"
        if self.size and not (SIZE_RE.match(self.size) or PERCENT_RE.match(self.size)):
            errors["size"] = "size: a size such as 1g, 512m, 4k or a percentage such as 50%"
        if self.ioengine and self.ioengine not in IOENGINES:
            errors["ioengine"] = f"ioengine: one of {', '.join(IOENGINES)}"
        _int_range(errors, "iodepth", self.iodepth, 1, 65535)
        _int_range(errors, "numjobs", self.numjobs, 1, 4096)
        _int_range(errors, "nrfiles", self.nrfiles, 1, 1_000_000)
        if self.bs and not BS_RE.match(self.bs):
            errors["bs"] = "bs: a block size such as 4k, or read,write sizes such as 4k,64k"
        if self.bsrange and not RANGE_RE.match(self.bsrange):
            errors["bsrange"] = "bsrange: a range such as 4k-64k"
        if self.rw and self.rw not in RW_MODES:
            errors["rw"] = f"rw: one of {', '.join(RW_MODES)}"
        mixed = self.rw in ("rw", "readwrite", "randrw")
        for key in ("rwmixread", "rwmixwrite"):
            value_int: int | None = getattr(self, key)
            if value_int is None:
                continue
            if not 0 <= value_int <= 100:
                errors[key] = f"{key}: a percentage from 0 to 100"
            elif self.rw and not mixed:
                errors[key] = f"{key}: only applies to rw, readwrite and randrw"
        if (
            self.rwmixread is not None
            and self.rwmixwrite is not None
            and "rwmixread" not in errors
            and "rwmixwrite" not in errors
            and self.rwmixread + self.rwmixwrite != 100
        ):
            errors["rwmixwrite"] = "rwmixwrite: rwmixread + rwmixwrite must make 100"
        for key in ("runtime", "ramp_time"):
            value = getattr(self, key)
            if value and not TIME_RE.match(value):
                errors[key] = f"{key}: a time such as 30, 30s, 500ms, 2m or 1h"
        if self.time_based and not self.runtime and not is_global:
            errors["time_based"] = "time_based: needs a runtime"
        if self.lockmem and not SIZE_RE.match(self.lockmem):
            errors["lockmem"] = "lockmem: a size such as 512m"
        if self.random_distribution:
            message = _check_distribution(self.random_distribution)
            if message:
                errors["random_distribution"] = f"random_distribution: {message}"
        for i, (key, value_opt) in enumerate(self.extra):
            where = f"extra option {i + 1}"
            if not KEY_RE.match(key):
                errors.setdefault("extra", f"extra: {where}: {key!r} is not an option name")
            elif value_opt is not None and ("\n" in value_opt or "\r" in value_opt):
                errors.setdefault("extra", f"extra: {where} ({key}): no line breaks")
        return errors

    def checked_against(self, global_job: FioJob | None) -> dict[str, str]:
        """`validate()` of the job with [global] filled in, plus "this job has no target"."""
        eff = effective(global_job, self)
        errors = eff.validate()
        if not eff.targets:
            errors.setdefault("filename", "filename: give a file, a device or a directory")
        if (
            eff.filename
            and not eff.size
            and not all(p.startswith("/dev/") for p in split_filenames(eff.filename))
        ):
            errors.setdefault("size", "size: needed for a file (fio lays it out first)")
        if eff.directory and not eff.filename and not eff.size:
            errors.setdefault("size", "size: needed for the files fio makes in the directory")
        return errors


def _int_range(errors: dict[str, str], key: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        errors[key] = f"{key}: a whole number from {low} to {high}"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _check_distribution(text: str) -> str:
    """ "" when fio accepts it (same ranges as fio 3.33), else what is wrong."""
    kind, _, rest = text.partition(":")
    if kind not in DISTRIBUTIONS:
        return "random, zipf:θ, pareto:h or normal:σ"
    if kind == "random":
        return "" if not rest else "random takes no value"
    parts = rest.split(":") if rest else []
    if len(parts) > 2 or (kind != "normal" and not parts):
        return f"{kind} needs a value ({kind}:{'θ' if kind == 'zipf' else 'h'})"
    values = [_float(p) for p in parts]
    if any(v is None for v in values):
        return f"{kind}: {rest!r} is not a number"
    first = values[0] if values else None
    if kind == "zipf" and first is not None and (first <= 0 or first == 1.0):
        return "zipf θ must be above 0 and not 1.0"
    if kind == "pareto" and first is not None and not 0 < first < 1:
        return "pareto h must be between 0 and 1 (exclusive)"
    if kind == "normal" and first is not None and not 0 <= first < 100:
        return "normal σ is a percentage from 0 to below 100"
    if len(values) == 2 and values[1] is not None and not 0 <= values[1] <= 1:
        return "the centre (second value) must be between 0 and 1"
    return ""


TYPED_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(FioJob) if f.name not in ("name", "extra", "comments")
)
FLAG_FIELDS = frozenset({"thread", "time_based", "group_reporting", "zero_buffers"})
BOOL_FIELDS = FLAG_FIELDS | {"direct"}
INT_FIELDS = frozenset({"iodepth", "numjobs", "rwmixread", "rwmixwrite", "nrfiles"})
CHOICES: dict[str, tuple[str, ...]] = {"ioengine": IOENGINES, "rw": RW_MODES}


def split_filenames(spec: str) -> list[str]:
    """fio's filename list: ':' separates files, '\\:' is a colon in a name."""
    out: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(spec):
        ch = spec[i]
        if ch == "\\" and i + 1 < len(spec) and spec[i + 1] == ":":
            current.append(":")
            i += 2
            continue
        if ch == ":":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return [name for name in out if name]


def effective(global_job: FioJob | None, job: FioJob) -> FioJob:
    """`job` with the [global] section's values where the job sets none (fio's rule)."""
    if global_job is None:
        return job
    changes: dict[str, object] = {}
    for name in TYPED_FIELDS:
        if getattr(job, name) in (None, ""):
            changes[name] = getattr(global_job, name)
    changes["extra"] = global_job.extra + job.extra
    return dataclasses.replace(job, **changes)  # type: ignore[arg-type]  # fields by name


# ------------------------------------------------------------------------------------ options
def _bool(value: str | None) -> bool | None:
    if value is None or value.strip() == "":
        return True  # a bare flag
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    return None


def job_from_options(
    name: str, options: Iterable[tuple[str, str | None]], comments: Sequence[str] = ()
) -> FioJob:
    """A `FioJob` from a section's options: the typed fields that fit, the rest raw."""
    typed: dict[str, object] = {}
    extra: list[tuple[str, str | None]] = []

    def set_typed(key: str, value: object) -> None:
        typed[key] = value  # the last value wins, as in fio: drop an earlier raw one
        extra[:] = [(k, v) for k, v in extra if ALIASES.get(k, k) != key]

    for raw_key, value in options:
        key = ALIASES.get(raw_key, raw_key)
        if key in BOOL_FIELDS:
            flag = _bool(value)
            if flag is not None:
                set_typed(key, flag)
                continue
        elif key in INT_FIELDS:
            if value is not None and value.strip().isdigit():
                set_typed(key, int(value.strip()))
                continue
        elif key in CHOICES:
            if value is not None and value.strip() in CHOICES[key]:
                set_typed(key, value.strip())
                continue
        elif key in TYPED_FIELDS and value is not None:
            set_typed(key, value.strip())
            continue
        if key in typed:  # a second value for a typed field that does not fit: raw wins later
            del typed[key]
        extra.append((raw_key, value))
    extra_options, notes = tuple(extra), tuple(comments)
    return FioJob(name=name, extra=extra_options, comments=notes, **typed)  # type: ignore[arg-type]  # by name


# ------------------------------------------------------------------------------------ files
@dataclass(frozen=True, slots=True)
class JobFile:
    """A `.fio` job file: [global] (optional) and the jobs, in order."""

    jobs: tuple[FioJob, ...] = ()
    global_job: FioJob | None = None
    header: tuple[str, ...] = field(default=())  # comments before the first section

    def effective_jobs(self) -> tuple[FioJob, ...]:
        return tuple(effective(self.global_job, job) for job in self.jobs)

    @property
    def writes(self) -> bool:
        return any(job.writes for job in self.effective_jobs())

    def validate(self) -> dict[str, dict[str, str]]:
        """Section name → its field messages (only sections with problems)."""
        out: dict[str, dict[str, str]] = {}
        if self.global_job is not None:
            errors = self.global_job.validate(is_global=True)
            if errors:
                out["global"] = errors
        if not self.jobs:
            out[""] = {"name": "the job file has no job"}
        names = [job.name for job in self.jobs]
        for job in self.jobs:
            errors = job.checked_against(self.global_job)
            if names.count(job.name) > 1:
                errors.setdefault("name", f"name: {job.name!r} is used by more than one job")
            if errors:
                out[job.name] = errors
        return out

    def text(self) -> str:
        """The job file as fio reads it."""
        lines: list[str] = [*self.header]
        sections = ([self.global_job] if self.global_job is not None else []) + list(self.jobs)
        for job in sections:
            if lines:
                lines.append("")
            lines.append(f"[{job.name}]")
            lines.extend(job.comments)
            for key, value in job.options():
                lines.append(key if value is None else f"{key}={value}")
        return "\n".join(lines) + "\n"


class JobFileError(JobError):
    """A job file that is not INI as fio reads it."""


def parse_jobfile(text: str) -> JobFile:
    """Read a `.fio` job file (INI: [sections], key=value, bare flags, ; and # comments)."""
    header: list[str] = []
    pending: list[str] = []  # comments waiting for their section
    sections: list[tuple[str, list[tuple[str, str | None]], list[str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line[0] in ";#":
            if sections:
                sections[-1][2].append(line)
            else:
                pending.append(line)
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise JobFileError(f"line {number}: a section header is [name]: {raw!r}")
            if not sections:
                header.extend(pending)
                pending = []
            sections.append((line[1:-1].strip(), [], []))
            continue
        if not sections:
            raise JobFileError(f"line {number}: an option before any [section]: {raw!r}")
        key, sep, value = line.partition("=")
        key = key.strip()
        if not key:
            raise JobFileError(f"line {number}: no option name: {raw!r}")
        sections[-1][1].append((key, value.strip() if sep else None))
    if pending:
        header.extend(pending)
    global_job: FioJob | None = None
    jobs: list[FioJob] = []
    for name, options, comments in sections:
        job = job_from_options(name, options, comments)
        if name == "global":
            global_job = job if global_job is None else _merge_globals(global_job, job)
        else:
            jobs.append(job)
    return JobFile(tuple(jobs), global_job, tuple(header))


def _merge_globals(first: FioJob, second: FioJob) -> FioJob:
    """Two [global] sections (fio allows it; the later values win)."""
    options = first.options() + second.options()
    return job_from_options("global", options, first.comments + second.comments)


def load_jobfile(path: str) -> JobFile:
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_jobfile(f.read())


def save_jobfile(jobfile: JobFile, path: str) -> None:
    """Write the job file (atomically: a temp file renamed over `path`)."""
    write_atomically(Path(path), jobfile.text().encode("utf-8"), fsync=False)


# ------------------------------------------------------------------------------------ presets
def preset(kind: PresetKind, directory: str, *, size: str = "1g", runtime: str = "60") -> FioJob:
    """A preset job on `directory`/virttui-fio.test (a file, never a device): 4k random with
    iodepth 32, 1M sequential with iodepth 16; direct=1, libaio, time based."""
    if kind not in PRESETS:
        raise ValueError(f"unknown preset {kind!r}")
    if not os.path.isabs(directory):
        raise ValueError("the preset's directory must be an absolute path")
    real = os.path.realpath(directory)
    if real == "/dev" or real.startswith("/dev/") or not os.path.isdir(real):
        raise ValueError(f"{directory} is not a directory for a test file")
    random = kind.startswith("rand")
    rw = "randrw" if kind == "randrw70" else kind
    return FioJob(
        name=kind,
        filename=os.path.join(directory, PRESET_FILE),
        size=size,
        direct=True,
        ioengine="libaio",
        iodepth=32 if random else 16,
        bs="4k" if random else "1m",
        numjobs=1,
        rw=rw,
        rwmixread=70 if kind == "randrw70" else None,
        runtime=runtime,
        time_based=True,
        group_reporting=True,
    )


# ------------------------------------------------------------------------------------ parse-only
def parse_only(ctx: JobContext, jobfile: str, *, uri: str | None = None) -> None:
    """Let fio check a job file (`fio --parse-only`); raises FioOptionError with fio's own
    message when it refuses it. `jobfile` is a path where fio runs (`uri`: over ssh)."""
    out: list[str] = []
    try:
        run_process(ctx, ["fio", "--parse-only", jobfile], uri=uri, on_line=out.append)
    except ProcessFailed as exc:
        lines = [line for line in [*out, *exc.stderr_tail] if line.strip()]
        message = "\n".join(lines[-PARSE_ONLY_LINES:]) or str(exc)
        raise FioOptionError(f"fio refused the job file:\n{message}") from exc


def check_jobfile(ctx: JobContext, jobfile: JobFile, *, tmpdir: str | None = None) -> None:
    """`parse_only` on this job file written to a private temp file (removed after)."""
    fd, path = tempfile.mkstemp(prefix="virttui-parse-", suffix=".fio", dir=tmpdir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(jobfile.text())
        parse_only(ctx, path)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
