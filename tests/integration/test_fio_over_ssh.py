"""run_fio on a `qemu+ssh` host (the throwaway sshd of test_qemu_ssh, this machine): the json+
stream comes back on fio's stdout, is parsed live and saved to the local output file; Stop over
ssh keeps the partial final report. Temp files only."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.fio.intervals import Interval
from virttui.core.fio.run import FioRun, run_fio
from virttui.core.fio.stream import parse_stream
from virttui.core.jobs import Job, JobDone, JobMessage

pytestmark = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")


def argv(tmp_path: Path, seconds: int) -> list[str]:
    return [
        "fio",
        "--name=ssh",
        f"--filename={tmp_path / 'data.bin'}",
        "--size=4M",
        "--bs=4k",
        "--rw=randread",
        "--ioengine=psync",
        "--time_based",
        f"--runtime={seconds}",
    ]


def test_run_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "run.json"
    seen: list[Interval] = []
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    Job(
        lambda ctx: run_fio(ctx, argv(tmp_path, 3), out, seen.append, uri=uri), messages.append
    ).run()
    done = messages[-1]
    assert isinstance(done, JobDone), done
    run: FioRun = done.result
    assert run.complete and len(seen) >= 2 and run.report is not None
    docs, stream = parse_stream(out.read_bytes())  # the saved stream is the whole stream
    assert stream.problems == [] and docs[-1] == run.final


def test_stop_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "run.json"
    first = threading.Event()
    messages: list[JobMessage] = []
    uri = local_sshd.uri()
    job = Job(
        lambda ctx: run_fio(ctx, argv(tmp_path, 30), out, lambda _: first.set(), uri=uri),
        messages.append,
    )
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    assert first.wait(60)
    job.stop()
    thread.join(120)
    done = messages[-1]
    assert isinstance(done, JobDone), done
    assert done.result.stopped and done.result.report is not None
    assert 0 < done.result.report.jobs[0].directions["read"].runtime_ms < 30_000
