"""The file browser's core over a real ssh to this machine (the throwaway sshd of test_qemu_ssh):
names with spaces, quotes, newlines and non-ASCII come back intact, qemu-img runs remotely."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.jobs import JobContext
from virttui.core.storage import files as F

NAMES = ["a b'; touch x.qcow2", "new\nline.qcow2", "é.qcow2", 'q"uote.qcow2']


def test_browse_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    tmp_path = tmp_path / "browse"  # the fixture keeps its keys in tmp_path/ssh
    tmp_path.mkdir()
    for name in NAMES:
        subprocess.run(
            ["qemu-img", "create", "-q", "-f", "qcow2", str(tmp_path / name), "3M"], check=True
        )
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes").write_text("hello\n")
    assert F.is_remote(local_sshd.uri())  # the ls path, over ssh
    listing = F.browse(JobContext(0, lambda _m: None), str(tmp_path), uri=local_sshd.uri())
    rows = {r.name: r for r in listing.rows}
    assert set(rows) == {*NAMES, "sub", "notes"}
    for name in NAMES:
        info = rows[name].info
        assert rows[name].status == "image", rows[name]
        assert info is not None and info.format == "qcow2" and info.virtual_size == 3 << 20
    assert rows["sub"].status == "dir" and rows["notes"].status == "file"
    assert not (tmp_path / "x.qcow2").exists() and not Path.home().joinpath("x.qcow2").exists()


def test_create_image_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "create"
    work.mkdir()
    ctx = JobContext(0, lambda _m: None)
    target = work / "new b'; touch x.qcow2"
    F.create_image(ctx, str(target), "qcow2", 4 << 20, uri=local_sshd.uri())
    info = F.probe_image(ctx, str(target))
    assert info.format == "qcow2" and info.virtual_size == 4 << 20
    taken = work / "taken.raw"
    taken.write_bytes(b"keep")
    with pytest.raises(F.FilesError, match="exists"):
        F.create_image(ctx, str(taken), "raw", 1 << 20, uri=local_sshd.uri())
    assert taken.read_bytes() == b"keep"
    assert sorted(p.name for p in work.iterdir()) == sorted([target.name, "taken.raw"])
