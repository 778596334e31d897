"""ssh to the host of a `qemu+ssh://` libvirt URI with the options libvirt itself uses.

libvirt's ssh transport (virNetSocketNewConnectSSH) runs
`<command or ssh> -p PORT -l USER -i KEYFILE -T -e none -o BatchMode=yes(no_tty)
 -o StrictHostKeyChecking=no(no_verify) -- HOST <remote command>`.
We always add BatchMode=yes (ssh must never prompt on our terminal) and map `known_hosts=` to
`-o UserKnownHostsFile=` (libvirt's libssh transports read that parameter; for the ssh binary
it is the same file). The remote command is ONE string that the remote login shell parses:
build it with `shlex.join` only, so every argument arrives as it was.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

_TRUE = ("1", "yes", "true", "on")


@dataclass(frozen=True, slots=True)
class SshTarget:
    host: str
    user: str | None = None
    port: int | None = None
    keyfile: str | None = None
    no_verify: bool = False
    known_hosts: str | None = None
    binary: str = "ssh"

    def argv(self, remote_command: str) -> list[str]:
        """ssh argv running `remote_command` (a shell string) on the host."""
        args = [self.binary]
        if self.port is not None:
            args += ["-p", str(self.port)]
        if self.user:
            args += ["-l", self.user]
        if self.keyfile:
            args += ["-i", self.keyfile]
        args += ["-T", "-e", "none", "-o", "BatchMode=yes"]
        if self.no_verify:
            args += ["-o", "StrictHostKeyChecking=no"]
        if self.known_hosts:
            args += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return [*args, "--", self.host, remote_command]

    def command(self, argv: Sequence[str]) -> list[str]:
        """ssh argv running the program `argv` on the host, each argument quoted."""
        return self.argv(shlex.join(argv))


def ssh_target(uri: str) -> SshTarget | None:
    """The ssh target of a `<driver>+ssh://` URI; None for any other transport (local)."""
    parts = urlsplit(uri)
    if parts.scheme.partition("+")[2] != "ssh":
        return None
    if not parts.hostname:
        raise ValueError(f"{uri}: no host to ssh to")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return SshTarget(
        host=parts.hostname,
        user=unquote(parts.username) if parts.username else None,
        port=parts.port,
        keyfile=query.get("keyfile") or None,
        no_verify=query.get("no_verify", "").strip().lower() in _TRUE,
        known_hosts=query.get("known_hosts") or None,
        binary=query.get("command") or "ssh",
    )


_LOCAL_NAMES = ("", "localhost", "127.0.0.1", "::1")


def elsewhere_without_ssh(uri: str | None) -> str | None:
    """The host a URI reaches by a transport we cannot run programs over (tcp, tls, libssh,
    ...), else None: this machine or an ssh URI. A program (qemu-img, fio) for such a host must
    be refused, never run here on a path that belongs to that host."""
    if not uri:
        return None
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    if transport in ("ssh", "unix") or (parts.hostname or "") in _LOCAL_NAMES:
        return None
    return parts.hostname
