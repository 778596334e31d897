"""Domain snapshots over `qemu+ssh` (the throwaway sshd of test_qemu_ssh): the facade creates an
external snapshot of a shut-off tiny guest through libvirt and the manual revert's qemu-img runs
over ssh (sshd logs one more login for it), every path one argument even with a space and a
quote in the file names."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import libvirt

from tests.guestlib import IMAGES_DIR, create_qcow2, defined_guest, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.domain import snapshots as S
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.core.jobs import JobContext


def _logins(sshd: LocalSshd) -> int:
    log = sshd.client_key.parent / "sshd.log"
    return log.read_text(errors="replace").count("Accepted publickey")


def test_manual_revert_over_ssh(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
) -> None:
    name = unique_name("vt-snapssh")
    base = IMAGES_DIR / f"{name} it's.qcow2"
    create_qcow2(base)
    made: list[Path] = [base]
    host = HostConnection(local_sshd.uri(), refresh=30.0)
    host.start()
    try:
        deadline = time.monotonic() + 30
        while not host.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert host.connected, host.last_error
        facade = HostFacade(host)
        with defined_guest(system_conn, str(base), prefix="vt-snapssh") as dom:
            uuid = dom.UUIDString()
            snap = facade.create_snapshot(uuid, S.CreateRequest("ssh snap", kind="external"))
            overlay = snap.disks[0].overlay
            made.append(Path(overlay))
            assert overlay == str(IMAGES_DIR / f"{name} it's.ssh_snap.qcow2")
            before = _logins(local_sshd)
            plan = facade.snapshot_manual_revert_job(
                JobContext(1, lambda _m: None), uuid, "ssh snap"
            )
            new = plan.disks[0].overlay
            made.append(Path(new))
            assert _logins(local_sshd) > before  # qemu-img went over ssh
            info = json.loads(
                subprocess.run(
                    ["qemu-img", "info", "-U", "--output=json", new],
                    capture_output=True,
                    check=True,
                ).stdout
            )
            assert info["backing-filename"] == str(base)
            assert facade.snapshot_tree(uuid).disks[0].source == new
            assert Path(overlay).exists()  # kept
            facade.delete_snapshot(uuid, "ssh snap", metadata_only=True)
    finally:
        host.stop()
        for path in made:
            path.unlink(missing_ok=True)
