"""SVG snapshot of the fio job builder at 80x24 (copied to screenshots/ by `make snapshots`):
[global] and two jobs in the list, the first job's form (a 4k random read on a test file)
with a message under a wrong field, the footer's main keys."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.pilot_utils import wait_until
from virttui.app import VirtTUIApp
from virttui.core.fio.job import FioJob, JobFile
from virttui.screens.fio.form import FioScreen
from virttui.widgets.fio.form_fields import JobForm

JOBFILE = JobFile(
    (
        FioJob(
            name="randread",
            filename="/srv/fio/virttui-fio.test",
            size="1g",
            direct=True,
            ioengine="libaio",
            iodepth=32,
            bs="4k",
            numjobs=1,
            rw="randread",
            runtime="60",
            time_based=True,
            group_reporting=True,
        ),
        FioJob(name="seqwrite", filename="/srv/fio/seq.test", size="1g", rw="write", bs="1m"),
    ),
    FioJob(name="global", ioengine="libaio", extra=(("norandommap", None),)),
)


def test_fio_form_snapshot_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        screen = FioScreen(jobfile=JOBFILE)
        app.push_screen(screen)
        await wait_until(pilot, lambda: screen.is_current and bool(screen.query(JobForm)), 10)
        for field in screen.query(Input):
            field.cursor_blink = False  # the focused field's cursor: the same in every run
        for area in screen.query(TextArea):
            area.cursor_blink = False
        screen.query_one("#fio-iodepth", Input).value = "deep"
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(
        VirtTUIApp([], refresh=3600.0), terminal_size=(80, 24), run_before=run_before
    )
