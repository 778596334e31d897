"""The connection manager's hosts and a few settings, kept in a TOML file.

Location: $VIRTTUI_CONFIG_FILE if set (tests), else $XDG_CONFIG_HOME/virttui/config.toml, else
~/.config/virttui/config.toml. Reading never raises: a missing file gives the defaults, a broken
or unreadable one gives the defaults plus a `ConfigProblem` saying what is wrong and where.
Writing is atomic (a temporary file in the same directory, then os.replace).
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from virttui.core.common.atomic import write_atomically

CPU_MODES = ("host", "vcpu")  # CPU% relative to the whole host, or to the guest's vCPUs
DEFAULT_HOST_URI = "qemu:///system"
# The one default stats refresh interval: `--refresh` overrides settings.refresh_seconds, which
# overrides this.
DEFAULT_REFRESH = 1.0
# Mirrors core/console/graphics_mode.MODES (settings sits below console in the layers).
GRAPHICS_MODES = ("auto", "kitty", "sixel", "halfblocks")


@dataclass(frozen=True)
class HostEntry:
    uri: str
    label: str = ""
    autoconnect: bool = False

    @property
    def display_name(self) -> str:
        return self.label or self.uri


@dataclass(frozen=True)
class Settings:
    refresh_seconds: float = DEFAULT_REFRESH
    cpu_mode: str = "host"
    ascii_glyphs: bool = False
    # Seconds a guest may take to act on a shutdown/reboot request before the list says it
    # ignored it and offers force off / reset.
    shutdown_grace: float = 60.0


@dataclass(frozen=True)
class Config:
    hosts: tuple[HostEntry, ...] = (HostEntry(DEFAULT_HOST_URI, "This host", True),)
    settings: Settings = field(default_factory=Settings)
    # [keys]: binding id -> key names ("ctrl+s", "s,f5"), in file order. Which ids exist is the
    # UI's business: it reports unknown ones at start-up.
    keys: tuple[tuple[str, str], ...] = ()
    # [console] graphics: how the graphical console draws (GRAPHICS_MODES); "auto" asks the
    # terminal once at start-up. `--graphics` overrides it.
    graphics: str = "auto"


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    problems: tuple[ConfigProblem, ...] = ()
    exists: bool = False


class ConfigSaveError(OSError):
    """The file could not be written; the old file, if any, is untouched."""


def config_path() -> Path:
    override = os.environ.get("VIRTTUI_CONFIG_FILE")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "virttui" / "config.toml"


def _hosts(raw: Any, problems: list[str]) -> tuple[HostEntry, ...]:
    if not isinstance(raw, list):
        problems.append("[[hosts]] must be an array of tables; using the default host")
        return Config().hosts
    hosts: list[HostEntry] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        uri = item.get("uri") if isinstance(item, dict) else None
        if not isinstance(uri, str) or not uri.strip():
            problems.append(f"host #{number} has no uri; skipped")
            continue
        if uri_has_password(uri):
            problems.append(
                f"host #{number}: the uri contains a password; skipped ({PASSWORD_HINT})"
            )
            continue
        first = seen.setdefault(uri.strip(), number)
        if first != number:
            problems.append(
                f"host #{number} repeats the uri of host #{first} ({uri.strip()}); "
                "only the first one is used"
            )
            continue
        label = item.get("label", "")
        auto = item.get("autoconnect", False)
        if not isinstance(label, str):
            problems.append(f"host {uri}: label must be a string")
            label = ""
        if not isinstance(auto, bool):
            problems.append(f"host {uri}: autoconnect must be true or false")
            auto = False
        hosts.append(HostEntry(uri.strip(), label, auto))
    return tuple(hosts)


PASSWORD_HINT = (
    "never put a password in a URI: use ssh keys (or ssh-agent), or a libvirt auth file "
    "(~/.config/libvirt/auth.conf)"
)


def uri_has_password(uri: str) -> bool:
    """True for `driver+transport://user:secret@host/...` (the secret would sit in plain text)."""
    try:
        return urlsplit(uri.strip()).password is not None
    except ValueError:
        return False


def _settings(raw: Any, problems: list[str]) -> Settings:
    default = Settings()
    if not isinstance(raw, dict):
        problems.append("[settings] must be a table; using defaults")
        return default
    refresh = raw.get("refresh_seconds", default.refresh_seconds)
    if (
        isinstance(refresh, bool)
        or not isinstance(refresh, int | float)
        or not 0.2 <= refresh <= 3600
    ):
        problems.append("settings.refresh_seconds must be a number from 0.2 to 3600")
        refresh = default.refresh_seconds
    cpu_mode = raw.get("cpu_mode", default.cpu_mode)
    if cpu_mode not in CPU_MODES:
        problems.append(f"settings.cpu_mode must be one of {', '.join(CPU_MODES)}")
        cpu_mode = default.cpu_mode
    ascii_glyphs = raw.get("ascii_glyphs", default.ascii_glyphs)
    if not isinstance(ascii_glyphs, bool):
        problems.append("settings.ascii_glyphs must be true or false")
        ascii_glyphs = default.ascii_glyphs
    grace = raw.get("shutdown_grace", default.shutdown_grace)
    if isinstance(grace, bool) or not isinstance(grace, int | float) or not 1 <= grace <= 3600:
        problems.append("settings.shutdown_grace must be a number of seconds from 1 to 3600")
        grace = default.shutdown_grace
    return Settings(float(refresh), cpu_mode, ascii_glyphs, float(grace))


KEYS_HINT = 'like "ctrl+s" or "s,f5" (comma-separated alternatives)'


def _keys(raw: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """[keys]: every value a non-empty string of key names; a bad entry is skipped with a
    message, the others still apply."""
    if not isinstance(raw, dict):
        problems.append('[keys] must be a table of binding id = "key"; no key is remapped')
        return ()
    keys: list[tuple[str, str]] = []
    for binding_id, value in raw.items():
        if not isinstance(value, str):
            problems.append(f"keys.{binding_id} must be a string of key names {KEYS_HINT}; skipped")
            continue
        names = [part.strip() for part in value.split(",")]
        if not value.strip() or any(not name or " " in name for name in names):
            problems.append(
                f"keys.{binding_id} = {value!r} is not a list of key names {KEYS_HINT}; skipped"
            )
            continue
        keys.append((binding_id, ",".join(names)))
    return tuple(keys)


def _console_graphics(raw: Any, problems: list[str]) -> str:
    """[console] graphics: one of GRAPHICS_MODES; anything else falls back to "auto"."""
    if not isinstance(raw, dict):
        problems.append('[console] must be a table; using graphics = "auto"')
        return "auto"
    value = raw.get("graphics", "auto")
    if not isinstance(value, str) or value not in GRAPHICS_MODES:
        choices = ", ".join(f'"{m}"' for m in GRAPHICS_MODES)
        problems.append(f'console.graphics = {value!r} is not one of {choices}; using "auto"')
        return "auto"
    return value


def parse_config(document: dict[str, Any]) -> tuple[Config, list[str]]:
    """Build a Config from parsed TOML; bad values fall back to their default with a message."""
    problems: list[str] = []
    hosts = _hosts(document["hosts"], problems) if "hosts" in document else Config().hosts
    settings = _settings(document.get("settings", {}), problems)
    keys = _keys(document.get("keys", {}), problems)
    graphics = _console_graphics(document.get("console", {}), problems)
    return Config(hosts, settings, keys, graphics), problems


def load_config(path: Path | None = None) -> LoadedConfig:
    """Read the config file. Never raises."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedConfig(Config())
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return LoadedConfig(Config(), (ConfigProblem(str(path), f"cannot read: {reason}"),), True)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = ConfigProblem(str(path), f"not valid TOML ({exc}); using the defaults")
        return LoadedConfig(Config(), (problem,), True)
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: "a = [[[[...]]]]"
        problem = ConfigProblem(
            str(path), "arrays or inline tables are nested too deeply to read; using the defaults"
        )
        return LoadedConfig(Config(), (problem,), True)
    config, problems = parse_config(document)
    return LoadedConfig(config, tuple(ConfigProblem(str(path), p) for p in problems), True)


def to_document(config: Config) -> dict[str, Any]:
    document: dict[str, Any] = {
        "settings": {
            "refresh_seconds": float(config.settings.refresh_seconds),
            "cpu_mode": config.settings.cpu_mode,
            "ascii_glyphs": config.settings.ascii_glyphs,
            "shutdown_grace": float(config.settings.shutdown_grace),
        },
        "hosts": [
            {"uri": h.uri, "label": h.label, "autoconnect": h.autoconnect} for h in config.hosts
        ],
    }
    if config.keys:
        document["keys"] = dict(config.keys)  # the user's keymap survives a rewrite
    if config.graphics != "auto":
        document["console"] = {"graphics": config.graphics}
    return document


def file_mode(path: Path) -> int:
    """Permission bits of the file `path` names (following a symlink)."""
    return stat.S_IMODE(os.stat(path).st_mode)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write atomically (through a symlink, if the config is one); raises ConfigSaveError with
    the reason when it cannot."""
    path = path or config_path()
    try:
        text = "# virttui configuration, rewritten by virttui.\n" + tomli_w.dumps(
            to_document(config)
        )
        write_atomically(path, text.encode("utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigSaveError(f"cannot write {path}: {reason}") from exc
    return path
