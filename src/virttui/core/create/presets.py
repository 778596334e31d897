"""Create-wizard presets: a `CreateSpec` as a TOML file and back.

- `save_preset(spec, path, overwrite=False)`: `spec.to_dict()` written with tomli-w through
  `core/common/atomic.write_atomically` (mode 0600: a preset may carry a VNC password or a
  password hash); an existing file is refused unless `overwrite`.
- `load_preset(path)`: tomllib, then `CreateSpec.from_dict`. Every problem is a `PresetError`
  with one sentence naming the file and, where there is one, the TOML line (a syntax error) or
  the field (``disks[0].source.size_bytes: expected a whole number``); `.field` holds the field.

A preset holds the answers only: fields the runner fills after creating things
(`CloudImageInstall.seed_iso`, `LocationInstall.fetched_kernel`/`fetched_initrd`,
`NewVolume.path`) are left out when saving, so a loaded preset creates everything again.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from virttui.core.common.atomic import write_atomically
from virttui.core.create.spec import (
    CloudImageInstall,
    CreateSpec,
    LocationInstall,
    NewVolume,
)
from virttui.core.jobs import JobError

PRESET_VERSION = 1
_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]]*): ")


class PresetError(JobError):
    """A preset that cannot be read or written; `field` is the spec field when it is one's."""

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        super().__init__(message)
        self.field = field
        self.line = line


def _answers_only(spec: CreateSpec) -> CreateSpec:
    inst = spec.install
    if isinstance(inst, CloudImageInstall):
        inst = dataclasses.replace(inst, seed_iso=None)
    elif isinstance(inst, LocationInstall):
        inst = dataclasses.replace(inst, fetched_kernel=None, fetched_initrd=None)
    disks = tuple(
        dataclasses.replace(d, source=dataclasses.replace(d.source, path=None))
        if isinstance(d.source, NewVolume)
        else d
        for d in spec.disks
    )
    return dataclasses.replace(spec, install=inst, disks=disks)


def preset_text(spec: CreateSpec) -> str:
    """The TOML text of a preset (what `save_preset` writes)."""
    data: dict[str, Any] = {"preset_version": PRESET_VERSION}
    data.update(_answers_only(spec).to_dict())
    return tomli_w.dumps(data)


def save_preset(spec: CreateSpec, path: str | Path, *, overwrite: bool = False) -> None:
    """Write the spec's answers as TOML to `path` (atomically, mode 0600)."""
    target = Path(path)
    text = preset_text(spec)
    try:
        write_atomically(target, text.encode("utf-8"), 0o600, overwrite=overwrite)
    except FileExistsError:
        raise PresetError(f"{target}: exists already (choose another name)") from None
    except OSError as exc:
        raise PresetError(f"{target}: cannot write the preset: {exc.strerror or exc}") from None


def load_preset(path: str | Path) -> CreateSpec:
    """The spec a preset file holds; PresetError with file, TOML line or field."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise PresetError(f"{source}: cannot read the preset: {exc.strerror or exc}") from None
    return parse_preset(raw, str(source))


def parse_preset(raw: bytes | str, where: str = "preset") -> CreateSpec:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise PresetError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _LINE.search(str(exc))
        line = int(m.group(1)) if m else None
        msg = _LINE.sub("", str(exc)).strip()
        at = f" line {line}" if line else ""
        raise PresetError(f"{where}:{at} not valid TOML: {msg}", line=line) from None
    version = data.pop("preset_version", PRESET_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > PRESET_VERSION:
        raise PresetError(
            f"{where}: preset_version {version!r} is newer than this virttui reads "
            f"({PRESET_VERSION})",
            field="preset_version",
        )
    try:
        return CreateSpec.from_dict(data)
    except ValueError as exc:
        msg = str(exc)
        m = _FIELD.match(msg)
        field = m.group(1) if m else None
        if field == "spec":
            field = None
        raise PresetError(f"{where}: {msg}", field=field) from None


__all__ = [
    "PRESET_VERSION",
    "PresetError",
    "load_preset",
    "parse_preset",
    "preset_text",
    "save_preset",
]
