"""The cloud image overlay over ssh (the throwaway sshd of test_qemu_ssh): qemu-img probes and
creates on the "remote" host, a hostile file name stays one argument, the base is not written."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.create import cloudinit as C
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage

HOSTILE = "cloud a b'; touch x"


def _run(fn):  # type: ignore[no-untyped-def]
    messages: list[JobMessage] = []
    Job(fn, messages.append).run()
    return messages[-1]


def test_overlay_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    uri = local_sshd.uri()
    home_x = Path.home() / "x"
    existed = home_x.exists()
    work = tmp_path / "work"  # the fixture keeps its sshd files in tmp_path
    work.mkdir()
    base = work / f"{HOSTILE}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "16M"], check=True)
    before = hashlib.sha256(base.read_bytes()).hexdigest()
    target = work / f"{HOSTILE} vm.qcow2"
    done = _run(lambda ctx: C.overlay_for_cloud_image(ctx, str(base), str(target), uri=uri))
    assert isinstance(done, JobDone), done
    assert done.result.backing_format == "qcow2"
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", str(target)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert info["backing-filename"] == str(base) and info["virtual-size"] == 16 << 20
    again = _run(lambda ctx: C.overlay_for_cloud_image(ctx, str(base), str(target), uri=uri))
    assert isinstance(again, JobFailed) and "exists" in again.message
    same = _run(lambda ctx: C.overlay_for_cloud_image(ctx, str(base), str(base), uri=uri))
    assert isinstance(same, JobFailed) and "itself" in same.message
    assert hashlib.sha256(base.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in work.iterdir()) == sorted([base.name, target.name])
    assert home_x.exists() == existed  # no shell ran any part of the name
