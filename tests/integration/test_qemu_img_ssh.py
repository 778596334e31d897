"""qemu-img over ssh (the throwaway sshd of test_qemu_ssh): a file named `a b'; touch x` is one
argument in every call; no shell runs any part of it."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage, JobProgress
from virttui.core.storage import qemu_img as Q

HOSTILE = "a b'; touch x"


def _run(fn):  # type: ignore[no-untyped-def]
    messages: list[JobMessage] = []
    Job(fn, messages.append).run()
    return messages


def test_hostile_name_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    uri = local_sshd.uri()
    home_x = Path.home() / "x"
    existed = home_x.exists()
    tmp_path = tmp_path / "work"  # the fixture keeps its sshd files in tmp_path
    tmp_path.mkdir()
    path = tmp_path / HOSTILE
    done = _run(lambda ctx: Q.create(ctx, str(path), Q.CreateOptions(size=8 << 20), uri=uri))
    assert isinstance(done[-1], JobDone), done
    assert path.is_file()
    info = _run(lambda ctx: Q.info(ctx, str(path), uri=uri))[-1]
    assert isinstance(info, JobDone) and info.result.top.filename == str(path)
    again = _run(lambda ctx: Q.create(ctx, str(path), Q.CreateOptions(size=8 << 20), uri=uri))
    assert isinstance(again[-1], JobFailed) and "exists" in again[-1].message
    copy = tmp_path / (HOSTILE + " copy")
    messages = _run(lambda ctx: Q.convert(ctx, str(path), str(copy), uri=uri))
    assert isinstance(messages[-1], JobDone), messages[-1]
    assert any(isinstance(m, JobProgress) for m in messages)
    assert copy.is_file()
    checked = _run(lambda ctx: Q.check(ctx, str(copy), uri=uri))[-1]
    assert isinstance(checked, JobDone) and checked.result.clean
    missing = _run(lambda ctx: Q.info(ctx, str(tmp_path / "missing"), uri=uri))[-1]
    assert isinstance(missing, JobFailed) and "no such file" in missing.message
    Q.remove_file(str(copy), uri)
    assert not copy.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [HOSTILE]
    assert home_x.exists() == existed
