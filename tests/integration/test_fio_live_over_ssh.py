"""FioLiveScreen on a `qemu+ssh` host (the throwaway sshd of test_qemu_ssh, this machine): the
job file does not exist there, so its sections go to fio as command-line options; the stream
comes back over ssh, is plotted live and handed on as a FinishedRun. Temp files only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App

from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.job import parse_jobfile
from virttui.resources import stylesheets
from virttui.screens.fio.live import FioLiveScreen
from virttui.widgets.fio.plots import FioPlots

pytestmark = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")


class LiveApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, screen: FioLiveScreen) -> None:
        super().__init__()
        self.live = screen

    def on_mount(self) -> None:
        self.push_screen(self.live)


async def test_live_run_over_ssh(local_sshd: LocalSshd, tmp_path: Path) -> None:  # noqa: F811
    uri = local_sshd.uri()
    jobfile = parse_jobfile(
        f"[global]\nfilename={tmp_path / 'data.bin'}\nsize=8m\nbs=4k\nioengine=psync\n"
        "time_based\nruntime=3\n[first]\nrw=randread\n[second]\nrw=randrw\n"
    )
    finished: list[FinishedRun] = []
    screen = FioLiveScreen(uri, jobfile, on_finished=finished.append)
    app = LiveApp(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.plots.received >= 2, 60)
        assert screen.jobfile_path is None  # nothing written here for the remote fio
        assert screen.query_one(FioPlots).job_names == ("first", "second")
        assert "qemu+ssh://" in screen_text(app)
        await wait_until(pilot, lambda: bool(finished), 60)
        run = finished[0]
        assert run.uri == uri and not run.stopped and run.failure is None
        assert [j["jobname"] for j in run.final["jobs"]] == ["first", "second"]
        assert len(run.intervals) >= 2 and run.output_path.is_file()
