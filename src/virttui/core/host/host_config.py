"""The connection manager's rules: URI shape checks, host list edits, and which hosts open at start.

Start-up precedence (what `virttui` opens):
1. `--connect URI` (repeatable) and/or `--demo` given: exactly those hosts, nothing from the config.
2. Otherwise: every config host with `autoconnect = true`.
3. None of those (or no config file): $LIBVIRT_DEFAULT_URI, else qemu:///system.

Config edits always re-read the file first and change only the hosts, so settings written by
another virttui (or by hand) survive. A broken file is copied aside before it is overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from virttui.core.common.atomic import write_atomically
from virttui.core.settings.config import (
    DEFAULT_HOST_URI,
    PASSWORD_HINT,
    Config,
    ConfigSaveError,
    HostEntry,
    LoadedConfig,
    config_path,
    file_mode,
    load_config,
    save_config,
)

URI_EXAMPLES = (
    ("qemu:///system", "this machine's system daemon"),
    ("qemu:///session", "your per-user daemon"),
    ("qemu+ssh://user@host/system", "remote, over ssh (key or agent auth)"),
    ("test:///default", "libvirt's test driver (fake host)"),
)

_SCHEME = re.compile(r"^(?P<driver>[a-z][a-z0-9]*)(?:\+(?P<transport>[a-z0-9]+))?$")
TRANSPORTS = ("unix", "ssh", "libssh", "libssh2", "tcp", "tls", "ext")
_NEEDS_HOST = ("ssh", "libssh", "libssh2", "tcp", "tls")
_QEMU_PATHS = ("/system", "/session", "/embed")


def validate_uri(text: str) -> str | None:
    """None when `text` looks like a libvirt URI, else a sentence saying what is wrong."""
    uri = text.strip()
    if not uri:
        return "Enter a libvirt URI, e.g. qemu:///system"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in uri):
        return "A URI cannot contain spaces or control characters"
    if "://" not in uri:
        return "A libvirt URI looks like driver[+transport]://[user@][host][:port]/path"
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        return f"Not a valid URI: {exc}"
    if parts.password is not None:
        return f"A URI cannot hold a password: {PASSWORD_HINT}"
    match = _SCHEME.match(parts.scheme)
    if match is None:
        return f"Unknown scheme {parts.scheme!r}: expected driver or driver+transport"
    driver, transport = match["driver"], match["transport"] or ""
    if transport and transport not in TRANSPORTS:
        return f"Unknown transport {transport!r}: one of {', '.join(TRANSPORTS)}"
    if transport in _NEEDS_HOST and not parts.hostname:
        return f"The {transport} transport needs a host name, e.g. {driver}+{transport}://user@host/system"
    if port is not None and not 0 < port < 65536:
        return "The port must be 1-65535"
    if driver == "qemu" and parts.path not in _QEMU_PATHS:
        return "A qemu URI ends in /system or /session, e.g. qemu:///system"
    if not parts.path.startswith("/"):
        return "The URI needs a path, e.g. /system or /default"
    return None


def normalize_uri(text: str) -> str:
    return text.strip()


# ---------------------------------------------------------------------- host list edits
def with_host(config: Config, entry: HostEntry) -> Config:
    """Add `entry`, or replace the host with the same URI in place."""
    hosts = list(config.hosts)
    for i, host in enumerate(hosts):
        if host.uri == entry.uri:
            hosts[i] = entry
            break
    else:
        hosts.append(entry)
    return replace(config, hosts=tuple(hosts))


def without_host(config: Config, uri: str) -> Config:
    return replace(config, hosts=tuple(h for h in config.hosts if h.uri != uri))


def with_autoconnect(config: Config, uri: str, on: bool, label: str = "") -> Config:
    for host in config.hosts:
        if host.uri == uri:
            return with_host(config, replace(host, autoconnect=on))
    return with_host(config, HostEntry(uri, label, on))


def find_host(config: Config, uri: str) -> HostEntry | None:
    return next((h for h in config.hosts if h.uri == uri), None)


# ---------------------------------------------------------------------- start-up
@dataclass(frozen=True)
class StartHost:
    uri: str
    label: str = ""


def startup_hosts(
    cli_uris: list[str], demo: bool, loaded: LoadedConfig, env_default: str | None
) -> list[StartHost]:
    """The hosts to open at start (the demo host is added by the caller); see the module doc."""
    if cli_uris or demo:
        labelled = []
        for uri in dict.fromkeys(cli_uris):
            known = find_host(loaded.config, uri) if loaded.exists else None
            labelled.append(StartHost(uri, known.label if known else ""))
        return labelled
    if loaded.exists:
        auto = [StartHost(h.uri, h.label) for h in loaded.config.hosts if h.autoconnect]
        if auto:
            return list({h.uri: h for h in auto}.values())
    return [StartHost(env_default or DEFAULT_HOST_URI)]


# ---------------------------------------------------------------------- saving
EditFn = Callable[[Config], Config]


@dataclass(frozen=True)
class SaveResult:
    path: Path
    backup: Path | None = None  # where a broken file was copied before being replaced


def update_config(edit: EditFn, path: Path | None = None) -> SaveResult:
    """Re-read the file, apply `edit` to it, write it atomically.

    When the file on disk is broken (its problems were reported), it is first copied to
    `<name>.broken`, with the original's permission bits, so a hand-edited file is never lost;
    when that copy cannot be made nothing is written. A symlinked config is written through the
    link. Raises ConfigSaveError.
    """
    path = path or config_path()
    loaded = load_config(path)
    backup: Path | None = None
    if loaded.exists and loaded.problems and path.is_file():
        backup = path.with_name(path.name + ".broken")
        try:
            write_atomically(backup, path.read_bytes(), file_mode(path))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigSaveError(
                f"cannot keep a copy of the broken {path} as {backup.name} ({reason}); "
                "nothing was written"
            ) from exc
    save_config(edit(loaded.config), path)
    return SaveResult(path, backup)
