"""The fio report screen: the final document of one run, read the way an admin reads fio's text.

`FioReportScreen(doc, *, title, jobfile_text)` builds `core/fio/report.build_report(doc)` and
shows the notes at the top (`! warning:` / `i note:`), a job selector (the computed group when
the document has several job entries, then each job; `[` / `]` step through them) and the
sections as tabs (`widgets/fio/report_view.py`; keys 1-6). Read-only: exporting belongs to the
saved runs screen. `escape` goes back.

Entry points (the lead wires them):
- `show_report(app, doc, title=..., jobfile_text=...)`: push the screen for a document;
- `open_finished_run(app, run)`: the report of a run the live screen just finished;
- `open_report_file(app, path)`: read a saved fio json / json+ output file (its last document,
  `core/fio/report_file.py`) in a job, then show it; errors are notified in plain words;
- `prompt_open_report(app)`: ask for that path (palette: "fio: open a report (JSON file)…").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static

from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.report import JobReport, Report, build_report
from virttui.core.fio.report_file import ReportFile, read_report_file
from virttui.core.jobs import JobContext, JobDone
from virttui.screens.common.jobs import start_job
from virttui.screens.storage.image_forms import Field, ImageFormScreen, Values
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.fio.report_view import (
    SECTIONS,
    FioReportView,
    job_label,
    notes_text,
    report_jobs,
)

OPEN_TITLE = "Open fio report"


class FioReportScreen(Screen[None]):
    """The full report of one fio run (see module doc)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="fio.report.back"),
        Binding("right_square_bracket", "next_job", "Next job", id="fio.report.next_job"),
        Binding("left_square_bracket", "prev_job", "Prev job", id="fio.report.prev_job"),
        *(
            Binding(str(n), f"section('{key}')", title, show=False, id=f"fio.report.section_{key}")
            for n, (key, title) in enumerate(SECTIONS, start=1)
        ),
    ]

    def __init__(
        self,
        doc: Mapping[str, Any],
        *,
        title: str = "fio report",
        jobfile_text: str | None = None,
        problem: str | None = None,
    ) -> None:
        """`problem`: what was skipped reading the output (shown as a warning note)."""
        super().__init__()
        self.doc = doc
        self.report: Report = build_report(doc)
        self.report_title = title
        self.jobfile_text = jobfile_text
        self.problem = problem
        self.choices: list[JobReport] = report_jobs(self.report)
        self.current = 0

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), id="fio-report-title")
        notes = notes_text(self.report.notes, problem=self.problem)
        with VerticalScroll(id="fio-report-notes"):
            yield Static(notes, id="fio-report-notes-text")
        with Horizontal(id="fio-report-jobbar"):
            yield Label("Job ", id="fio-report-job-label")
            yield Select(
                [(plain(job_label(self.report, j)), i) for i, j in enumerate(self.choices)],
                value=0,
                allow_blank=False,
                compact=True,
                id="fio-report-job",
                disabled=len(self.choices) < 2,
            )
        yield FioReportView(self.report, jobfile_text=self.jobfile_text, id="fio-report-view")
        yield Footer()

    def _title_text(self) -> Text:
        out = plain(self.report_title, "bold")
        if self.report.version or self.report.time:
            out.append("  ")
            append_plain(out, " ".join(p for p in (self.report.version, self.report.time) if p))
        return out

    def on_mount(self) -> None:
        self.query_one("#fio-report-notes").display = bool(self.report.notes or self.problem)
        if self.choices:
            self.view.show(self.choices[0])
        else:
            self.query_one("#fio-report-jobbar").display = False
        # After the first refresh: TabbedContent adds its tabs when it mounts, and under load
        # setting `active` before that raised "No Tab with id ..." (seen in CI).
        self.call_after_refresh(self.view.show_section, "summary")

    @property
    def view(self) -> FioReportView:
        return self.query_one(FioReportView)

    @property
    def job(self) -> JobReport | None:
        return self.choices[self.current] if self.choices else None

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_job", "prev_job"):
            return len(self.choices) > 1
        return True

    def select_job(self, index: int) -> None:
        if not self.choices:
            return
        self.current = index % len(self.choices)
        select = self.query_one("#fio-report-job", Select)
        if select.value != self.current:
            select.value = self.current
        self.view.show(self.choices[self.current])

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "fio-report-job" and isinstance(event.value, int):
            if event.value != self.current:
                self.select_job(event.value)

    def action_next_job(self) -> None:
        self.select_job(self.current + 1)

    def action_prev_job(self) -> None:
        self.select_job(self.current - 1)

    def action_section(self, key: str) -> None:
        self.view.show_section(key)

    def action_back(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------- entry points
def show_report(
    app: App[Any],
    doc: Mapping[str, Any],
    *,
    title: str = "fio report",
    jobfile_text: str | None = None,
    problem: str | None = None,
) -> FioReportScreen:
    screen = FioReportScreen(doc, title=title, jobfile_text=jobfile_text, problem=problem)
    app.push_screen(screen)
    return screen


def finished_title(run: FinishedRun) -> str:
    names = ", ".join(job.name for job in run.jobfile.jobs) or "fio"
    where = run.uri or "this machine"
    state = " (stopped: partial result)" if run.stopped else ""
    return f"fio report: {names} on {where}{state}"


def open_finished_run(app: App[Any], run: FinishedRun) -> FioReportScreen:
    """The report of a run the live screen finished (wiring point for `on_finished`)."""
    return show_report(
        app,
        run.final,
        title=finished_title(run),
        jobfile_text=run.jobfile.text(),
        problem=run.failure,
    )


def open_report_file(app: App[Any], path: Path | str) -> None:
    """Read `path` (this machine) off the UI thread, then show its last document's report."""
    where = Path(path).expanduser()

    def read(_ctx: JobContext) -> ReportFile:
        return read_report_file(where)

    def done(message: JobDone) -> None:
        result: ReportFile = message.result
        extra = f" (the last of {result.documents} documents)" if result.documents > 1 else ""
        show_report(
            app, result.doc, title=f"fio report: {result.path}{extra}", problem=result.problem
        )

    start_job(app, read, title=OPEN_TITLE, on_done=done)


def prompt_open_report(app: App[Any]) -> None:
    """Ask for the path of a fio JSON output file, then open it."""

    def build(values: Values) -> str:
        path = str(values["path"]).strip()
        if not path:
            raise ValueError("type the path of a fio --output-format=json or json+ file")
        return path

    def chosen(path: str | None) -> None:
        if path:
            open_report_file(app, path)

    app.push_screen(
        ImageFormScreen(
            OPEN_TITLE,
            [Field("path", "Path", placeholder="/tmp/fio-output.json")],
            build,
            hint="A file written by fio --output-format=json or json+ on this machine "
            "(the last document of a --status-interval stream is the final result).",
            confirm_label="Open",
        ),
        chosen,
    )
