"""qemu+ssh to this machine: a throwaway sshd on 127.0.0.1 (random port, key auth, its own host
key), the virttui HostConnection lists domains through it. Skipped when sshd/ssh are missing.

Nothing outside the test's temp dir is touched: ssh runs through a wrapper (the URI's `command=`)
that uses a temporary known_hosts file, so ~/.ssh stays as it was. The sshd is killed and the keys
deleted afterwards.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import running_guest
from virttui.core.host.connection import HostConnection
from virttui.core.host.host_config import validate_uri

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class LocalSshd:
    port: int
    user: str
    client_key: Path
    ssh_wrapper: Path

    def uri(self, host: str = "localhost") -> str:
        return (
            f"qemu+ssh://{self.user}@{host}:{self.port}/system"
            f"?keyfile={self.client_key}&no_verify=1&command={self.ssh_wrapper}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def local_sshd(tmp_path: Path) -> Iterator[LocalSshd]:
    missing = [n for n in ("ssh", "ssh-keygen") if shutil.which(n) is None]
    if not SSHD.is_file() or missing:
        pytest.skip(f"needs {SSHD} and ssh/ssh-keygen (apt-get install openssh-server)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
    keys = tmp_path / "ssh"
    keys.mkdir()
    _keygen(keys / "host_key")
    _keygen(keys / "client_key")
    shutil.copyfile(keys / "client_key.pub", keys / "authorized_keys")
    wrapper = keys / "ssh"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec ssh -F /dev/null -o UserKnownHostsFile={keys}/known_hosts "
        '-o GlobalKnownHostsFile=/dev/null -o BatchMode=yes "$@"\n'
    )
    wrapper.chmod(0o700)
    port = _free_port()
    log = keys / "sshd.log"  # a file, not a pipe: sshd -e never blocks on a full pipe
    log_file = log.open("w")
    proc = subprocess.Popen(
        [
            str(SSHD), "-D", "-e", "-f", "/dev/null",
            "-h", str(keys / "host_key"),
            "-p", str(port),
            "-o", "ListenAddress=127.0.0.1",
            "-o", f"AuthorizedKeysFile={keys}/authorized_keys",
            "-o", "StrictModes=no",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "PermitRootLogin=prohibit-password",
            "-o", "UsePAM=no",
            "-o", "PidFile=none",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.skip(f"sshd did not start: {log.read_text().strip()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                pytest.skip("sshd did not listen within 10 s")
            time.sleep(0.05)
        yield LocalSshd(port, getpass.getuser(), keys / "client_key", wrapper)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log_file.close()
        shutil.rmtree(keys, ignore_errors=True)


def _known_hosts_state() -> tuple[bool, bytes]:
    path = Path.home() / ".ssh" / "known_hosts"
    return (path.exists(), path.read_bytes() if path.exists() else b"")


def test_qemu_ssh_to_localhost_lists_domains(
    local_sshd: LocalSshd, system_conn: libvirt.virConnect
) -> None:
    before = _known_hosts_state()
    uri = local_sshd.uri()
    assert validate_uri(uri) is None
    with running_guest(system_conn, "vt-ssh", start=False) as dom:
        host = HostConnection(uri, refresh=0.5)
        host.start()
        try:
            deadline = time.monotonic() + 30
            while not host.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert host.connected, host.last_error
            assert host.is_local  # localhost over ssh: the host checks may read /proc
            names = host.call(lambda c: {d.name() for d in c.listAllDomains()})
            local = {d.name() for d in system_conn.listAllDomains()}
            assert dom.name() in names
            assert names == local
            remote_uri = host.call(lambda c: c.getURI())
            assert remote_uri.startswith(f"qemu+ssh://{local_sshd.user}@localhost:")
            assert host.call(lambda c: c.lookupByName(dom.name()).isPersistent()) == 1
        finally:
            host.stop()
    assert _known_hosts_state() == before  # ~/.ssh untouched


def test_qemu_ssh_with_a_wrong_key_reports_the_error(local_sshd: LocalSshd, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    _keygen(other)
    uri = local_sshd.uri().replace(str(local_sshd.client_key), str(other))
    host = HostConnection(uri, refresh=0.5)
    host.start()
    try:
        deadline = time.monotonic() + 30
        while host.last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not host.connected
        assert host.last_error and "Permission denied" in host.last_error, host.last_error
    finally:
        host.stop()
