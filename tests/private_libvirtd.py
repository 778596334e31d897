"""A private, unprivileged libvirtd serving only the test driver, for tests that SIGSTOP it.

The system daemon (qemu:///system) is never touched: this one runs as `nobody` (when the tests run
as root; else as the current user) in session mode with its own temporary XDG directories, so its
socket, pid file and state live in a temp dir, and with LIBVIRT_DRIVER_DIR pointing at an empty
directory, so no hypervisor driver (qemu, network, storage...) is even loaded: it can only serve
the in-daemon test driver, reached with `test+unix:///default?socket=<dir>/run/libvirt/libvirt-sock`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt

LIBVIRTD = "/usr/sbin/libvirtd"
# Started through a symlink of this name, so the process is not called "libvirtd": `pgrep -x
# libvirtd` (scripts/ensure-libvirtd.sh, the daemon-restart test) must never mistake it for the
# system daemon, nor kill it.
PROCESS_NAME = "vt-test-libvirtd"


@dataclass
class PrivateDaemon:
    root: Path
    process: subprocess.Popen[bytes]
    uri: str

    def pause(self) -> None:
        """SIGSTOP: the daemon stops answering but its socket stays open (a hung host)."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "libvirtd.log").read_text(errors="replace")
        return ""


def missing_reason() -> str | None:
    """Why a private daemon cannot be started here, or None."""
    if not os.access(LIBVIRTD, os.X_OK):
        return f"{LIBVIRTD} not installed"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) not found: needed to run libvirtd unprivileged"
    return None


@contextlib.contextmanager
def private_libvirtd(timeout: float = 60.0) -> Iterator[PrivateDaemon]:
    """Start the daemon, wait until it answers, yield it; always SIGCONT + kill + clean up."""
    root = Path(tempfile.mkdtemp(prefix="vt-ld-"))  # short: unix socket paths max 107 bytes
    binary = root / PROCESS_NAME
    binary.symlink_to(LIBVIRTD)
    # KILL when the test process dies without its teardown: a SIGSTOPped daemon ignores TERM.
    argv = ["setpriv", "--pdeathsig", "KILL"]
    uid = gid = -1
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        uid, gid = user.pw_uid, user.pw_gid
        argv += [f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    argv += ["--", str(binary)]
    dirs = {name: root / name for name in ("run", "config", "cache", "drivers", "home")}
    for path in dirs.values():
        path.mkdir()
    if uid >= 0:
        for path in (root, *dirs.values()):
            os.chown(path, uid, gid)
    root.chmod(0o755)
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(dirs["home"]),
        "XDG_RUNTIME_DIR": str(dirs["run"]),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "LIBVIRT_DRIVER_DIR": str(dirs["drivers"]),  # empty: no qemu/network/storage driver
    }
    socket = dirs["run"] / "libvirt" / "libvirt-sock"
    uri = f"test+unix:///default?socket={socket}"
    log = open(root / "libvirtd.log", "wb")  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        argv, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
    )
    daemon = PrivateDaemon(root, process, uri)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"private libvirtd exited ({process.returncode}): {daemon.log()}"
                )
            try:
                conn = libvirt.open(uri)
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"private libvirtd never answered: {daemon.log()}") from None
                time.sleep(0.1)
                continue
            conn.close()
            break
        yield daemon
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
