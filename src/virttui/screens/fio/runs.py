"""Saved fio runs (core/fio/runs.py): the list, comparing two side by side, export.

`FioRunsScreen(store, open_report=...)`: a table of the runs in the store (newest first; date,
label, read/write IOPS, bandwidth and p99 of the group; the highlighted run's host, jobs,
targets and state below). enter opens the run's report (`open_report(loaded)`), space/m marks a
run, c compares the two marked (or the marked one with the highlighted one), l labels, d deletes
(asks first), e exports (asks for a path, asks before overwriting; .csv: the interval series,
else JSON). A damaged or foreign entry is listed with its error; only delete applies to it.

`FioCompareScreen(comparison)`: the metrics of both runs with b/a and a word ("1.8× faster",
"2.1× higher latency"), and the options that differ; e exports the comparison as CSV.

Every store operation runs as a job (`start_job`); every label, job name, path and host comes
from a file or a user and is drawn literally (`plain`).

Entry points: `open_fio_runs(app)`; `save_run(app, finished_run, done)` (the live screen's
`on_finished`: save off the UI thread); `show_report(app, run)` is the one wiring point to the
report screen (fioreport's `FioReportScreen`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from virttui.core.common.safe_text import visible
from virttui.core.common.units import human_bytes, human_rate
from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.report import human_ns
from virttui.core.fio.runs import (
    CompareRow,
    LoadedRun,
    RunStore,
    SavedRun,
    compare,
    export_comparison_csv,
    export_csv,
    export_json,
)
from virttui.core.jobs import JobContext, JobDone, JobFailed
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import start_job
from virttui.screens.common.ui_jobs import show_status
from virttui.screens.domain.action_dialogs import PromptScreen
from virttui.screens.fio.report import show_report as show_fio_report
from virttui.widgets.common.mounting import when_mounted
from virttui.widgets.common.plain import append_plain, plain

__all__ = [
    "FioCompareScreen",
    "FioRunsScreen",
    "format_date",
    "open_fio_runs",
    "save_run",
    "show_report",
]

T = TypeVar("T")
MARK = "✓"
LABEL_WIDTH = 18


def show_report(app: App[Any], run: LoadedRun) -> None:
    """Open the report of a saved run."""
    show_fio_report(
        app,
        run.final,
        title=f"fio report: {run_title(run.saved)}",
        jobfile_text=run.jobfile_text,
        problem=run.saved.failure,
    )


def save_run(
    owner: App[Any] | Screen[Any],
    run: FinishedRun,
    done: Callable[[SavedRun], None] | None = None,
    *,
    store: RunStore | None = None,
    label: str = "",
) -> None:
    """Save a finished run (the live screen's `on_finished`) as a job: copies fio's stream into
    the store off the UI thread, then `done(saved)`; a failure is notified ("Save fio run
    failed"). Wiring point: `on_finished=lambda run: save_run(app, run, ...)`."""
    target = store if store is not None else RunStore()

    def job(_ctx: JobContext) -> SavedRun:
        return target.save(run, label=label)

    def saved(message: JobDone) -> None:
        if done is not None:
            done(message.result)

    start_job(owner, job, title="Save fio run", on_done=saved)


def open_fio_runs(app: App[Any], store: RunStore | None = None) -> None:
    """The saved runs screen (palette: "fio: saved runs"; the form's "Runs" key)."""
    app.push_screen(FioRunsScreen(store, open_report=lambda run: show_report(app, run)))


# ------------------------------------------------------------------------------------ text
def format_date(ts: float | None) -> str:
    """Local time, "26-12-01 00:00"; "-" when unknown."""
    if ts is None:
        return "-"
    return time.strftime("%y-%m-%d %H:%M", time.localtime(ts))


def run_title(saved: SavedRun) -> str:
    """Label, else the job names; with the date."""
    name = saved.label or ", ".join(saved.job_names) or saved.run_id
    return f"{name} ({format_date(saved.started)})"


def _si(value: float) -> str:
    """12345 -> '12.3k' (IOPS: decimal)."""
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            v = value / limit
            return f"{v:.1f}{unit}" if abs(v) < 100 else f"{v:.0f}{unit}"
    return f"{value:.0f}"


def pair_text(saved: SavedRun, fmt: Callable[[str], str]) -> Text:
    """ "read/write" figures of the list: only the directions that did IO."""
    parts = [fmt(d) if d in saved.headline else "-" for d in ("read", "write")]
    if parts[1] == "-":  # read only (or nothing): one figure
        return Text(parts[0], justify="right")
    return Text("/".join(parts), justify="right")  # "-/9.4k": write only


def short_ns(value: int | float | None) -> str:
    """A latency in at most 5 characters: '850ns', '25µs', '2.1ms', '1.2s'."""
    if value is None:
        return "-"
    for limit, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")):
        if value >= limit or unit == "ns":
            v = value / limit
            return f"{v:.1f}{unit}" if v < 10 else f"{v:.0f}{unit}"
    raise AssertionError("unreachable")


def value_text(row: CompareRow, value: float | None) -> str:
    if value is None:
        return "-"
    if row.unit == "IOPS":
        return f"{value:,.0f}"
    if row.unit == "B/s":
        return human_rate(value)
    if row.unit == "ns":
        return human_ns(value)
    if row.unit == "%":
        return f"{value:.1f}%"
    return f"{value:g}"


def verdict_text(row: CompareRow) -> Text:
    if row.ratio is None or not row.verdict:
        return Text(row.verdict or "-", style="dim")
    if row.verdict == "about the same":
        return Text(row.verdict, style="dim")
    better = row.ratio > 1 if row.higher_is_better else row.ratio < 1
    return Text(row.verdict, style="green" if better else "red")


# ------------------------------------------------------------------------------------ list
class FioRunsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="fio_runs.back"),
        Binding(
            "enter",
            "open",
            "Report",
            id="fio_runs.open",
            tooltip="The run's full report",
            priority=True,  # before the table's own enter, so the footer shows it
        ),
        Binding(
            "space,m",
            "mark",
            "Mark",
            id="fio_runs.mark",
            tooltip="Mark the run for a comparison (two at most)",
        ),
        Binding(
            "c",
            "compare",
            "Compare",
            id="fio_runs.compare",
            tooltip="Compare the two marked runs (or the marked one with this one)",
        ),
        Binding("l", "label", "Label", show=False, id="fio_runs.label", tooltip="Name the run"),
        Binding("d,delete", "delete", "Delete", id="fio_runs.delete", tooltip="Asks first"),
        Binding(
            "e",
            "export",
            "Export",
            id="fio_runs.export",
            tooltip="JSON (meta, final document, series) or CSV (the interval series)",
        ),
        Binding("r", "reload", "Reload", show=False, id="fio_runs.reload"),
    ]

    def __init__(
        self,
        store: RunStore | None = None,
        *,
        open_report: Callable[[LoadedRun], None] | None = None,
    ) -> None:
        super().__init__()
        self.store = store if store is not None else RunStore()
        self.open_report = open_report
        self.runs: list[SavedRun] = []
        self.marked: list[str] = []  # run ids, in the order marked
        self.loaded = False  # the first listing arrived (tests wait for it)
        self.busy = 0  # store jobs running (tests wait for 0)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(Text("fio: saved runs", style="bold"), id="fio-runs-title")
        yield DataTable(id="fio-runs-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="fio-runs-detail")
        yield Static(id="fio-runs-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#fio-runs-table", DataTable)
        table.add_column(" ", key="mark", width=1)
        table.add_column("Date", key="date")
        table.add_column("Label / jobs", key="label", width=LABEL_WIDTH)
        table.add_column(Text("IOPS r/w", justify="right"), key="iops")
        table.add_column(Text("B/s r/w", justify="right"), key="bw")
        table.add_column(Text("p99 r/w", justify="right"), key="p99")
        table.focus()
        self.status("reading the saved runs…")
        self.action_reload()

    def status(self, text: str, *, error: bool = False) -> None:
        show_status(self.query_one("#fio-runs-status", Static), text, error=error)

    # ------------------------------------------------------------------ jobs
    def _job(
        self,
        title: str,
        fn: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """`fn()` off the UI thread (a store operation), then `done(result)` on it."""
        self.busy += 1

        def run(_ctx: JobContext) -> T:
            return fn()

        def on_done(message: JobDone) -> None:
            self.busy -= 1
            when_mounted(self, lambda: done(message.result))

        def on_failed(message: JobFailed) -> None:
            self.busy -= 1
            when_mounted(
                self, lambda: (failed or (lambda m: self.status(m, error=True)))(message.message)
            )

        start_job(self, run, title=title, on_done=on_done, on_failed=on_failed)

    # ------------------------------------------------------------------ data
    def action_reload(self) -> None:
        self._job("List saved fio runs", self.store.list, self.show)

    def show(self, runs: list[SavedRun]) -> None:
        self.runs = runs
        ids = {r.run_id for r in runs}
        self.marked = [m for m in self.marked if m in ids]
        table = self.query_one("#fio-runs-table", DataTable)
        row = table.cursor_row
        table.clear()
        for saved in runs:
            table.add_row(*self._cells(saved), key=saved.run_id or None)
        if runs:
            table.move_cursor(row=min(max(row, 0), len(runs) - 1))
        self.loaded = True
        if not runs:
            self.status(
                f"No saved runs in {self.store.root}.\n"
                "A finished run from the fio screen is saved here."
            )
        else:
            damaged = sum(1 for r in runs if r.error)
            text = f"{len(runs)} run(s)"
            if damaged:
                text += f", {damaged} unreadable"
            self.status(text + "  ·  space: mark two, c: compare")
        self._detail()
        self.refresh_bindings()

    def _cells(self, saved: SavedRun) -> list[Text]:
        mark = Text(MARK if saved.run_id in self.marked else "", style="bold green")
        if saved.error is not None:
            label = plain(saved.run_id, "red")
            return [mark, Text("-"), label, Text("damaged", style="red"), Text(""), Text("")]
        label = plain(saved.label) if saved.label else plain(", ".join(saved.job_names), "dim")
        h = saved.headline
        return [
            mark,
            Text(format_date(saved.started)),
            label,
            pair_text(saved, lambda d: _si(h[d].iops)),
            pair_text(saved, lambda d: human_bytes(h[d].bw_bytes)),
            pair_text(saved, lambda d: short_ns(h[d].p99_ns)),
        ]

    def current(self) -> SavedRun | None:
        tables = self.query("#fio-runs-table").results(DataTable)
        table = next(iter(tables), None)
        if table is None or not self.runs or not 0 <= table.cursor_row < len(self.runs):
            return None
        return self.runs[table.cursor_row]

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()
        self.refresh_bindings()  # a damaged entry offers only delete

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def _detail(self) -> None:
        saved = self.current()
        text = Text()
        if saved is None:
            pass
        elif saved.error is not None:
            append_plain(text, saved.run_id, "bold")
            text.append("\n")
            append_plain(text, saved.error, "red")
            text.append("\nOnly delete (d) applies to this entry.", style="dim")
        else:
            text.append("Host ", style="dim")
            append_plain(text, saved.host)
            text.append("  fio ", style="dim")
            append_plain(text, saved.fio_version or "?")
            duration = saved.duration
            if duration is not None:
                text.append(f"  {duration:.0f} s", style="dim")
            if saved.stopped:
                text.append("  stopped (partial)", style="yellow")
            text.append("\nJobs ", style="dim")
            append_plain(text, ", ".join(saved.job_names) or "-")
            text.append("\nOn ", style="dim")
            append_plain(text, ", ".join(saved.targets) or "-")
            if saved.fio_args:
                text.append("  args ", style="dim")
                append_plain(text, " ".join(saved.fio_args))
            if saved.failure:
                text.append("\nfio failed: ", style="red")
                append_plain(text, saved.failure, "red")
        self.query_one("#fio-runs-detail", Static).update(text)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "mark", "label", "export"):
            saved = self.current()
            return saved is not None and saved.error is None
        if action == "delete":
            return self.current() is not None
        if action == "compare":
            return len(self.runs) >= 2
        return True

    def _usable(self) -> SavedRun | None:
        saved = self.current()
        if saved is None:
            self.status("No run highlighted", error=True)
            return None
        if saved.error is not None:
            self.status("This entry is unreadable: only delete applies", error=True)
            return None
        return saved

    def action_open(self) -> None:
        saved = self._usable()
        if saved is None:
            return
        opener = self.open_report or (lambda run: show_report(self.app, run))
        run_id = saved.run_id
        self._job("Open saved fio run", lambda: self.store.load(run_id), opener)

    def action_mark(self) -> None:
        saved = self._usable()
        if saved is None:
            return
        if saved.run_id in self.marked:
            self.marked.remove(saved.run_id)
        else:
            self.marked.append(saved.run_id)
            del self.marked[:-2]  # two at most: the oldest mark goes
        table = self.query_one("#fio-runs-table", DataTable)
        for r in self.runs:
            if r.error is None:
                table.update_cell(
                    r.run_id,
                    "mark",
                    Text(MARK if r.run_id in self.marked else "", style="bold green"),
                )
        self.status(f"{len(self.marked)} marked" + ("  ·  c: compare" if self.marked else ""))

    def compare_pair(self) -> tuple[SavedRun, SavedRun] | None:
        """The two runs to compare, older first: the two marked, or the marked one and the
        highlighted one."""
        by_id = {r.run_id: r for r in self.runs if r.error is None}
        chosen = [by_id[m] for m in self.marked if m in by_id]
        if len(chosen) < 2:
            here = self.current()
            if here is not None and here.error is None and here not in chosen:
                chosen.append(here)
        if len(chosen) != 2:
            return None
        first, second = sorted(chosen, key=lambda r: (r.started or 0.0, r.run_id))
        return first, second

    def action_compare(self) -> None:
        pair = self.compare_pair()
        if pair is None:
            self.status("Mark a run (space), then highlight another one or mark it too", error=True)
            return
        a_id, b_id = pair[0].run_id, pair[1].run_id

        def load() -> tuple[LoadedRun, LoadedRun]:
            return self.store.load(a_id), self.store.load(b_id)

        def show(pair: tuple[LoadedRun, LoadedRun]) -> None:
            self.app.push_screen(FioCompareScreen(*pair))

        self._job("Compare fio runs", load, show)

    def action_label(self) -> None:
        saved = self._usable()
        if saved is None:
            return
        run_id = saved.run_id
        title = Text("Label of the run of ", style="bold")
        append_plain(title, format_date(saved.started))

        def answered(label: str | None) -> None:
            if label is not None:
                self._job(
                    "Label fio run",
                    lambda: self.store.relabel(run_id, label),
                    lambda _saved: self.action_reload(),
                )

        self.app.push_screen(
            PromptScreen(title, "Label", saved.label, confirm_label="Save"), answered
        )

    def action_delete(self) -> None:
        saved = self.current()
        if saved is None:
            self.status("No run highlighted", error=True)
            return
        question = Text("Delete the saved run ", style="bold")
        append_plain(question, run_title(saved) if saved.error is None else saved.run_id)
        question.append("?\n\nIts job file, fio's output and the series are removed from ")
        append_plain(question, str(self.store.root))
        question.append(".")
        run_id = saved.run_id

        def answered(ok: bool | None) -> None:
            if ok:
                self.marked = [m for m in self.marked if m != run_id]
                self._job(
                    "Delete saved fio run",
                    lambda: self.store.delete(run_id),
                    lambda _none: self.action_reload(),
                )

        self.app.push_screen(ConfirmScreen(question, confirm_label="Delete"), answered)

    def action_export(self) -> None:
        saved = self._usable()
        if saved is None:
            return
        run_id = saved.run_id
        store = self.store

        def write(path: Path, overwrite: bool) -> Path:
            run = store.load(run_id)
            if path.suffix.lower() == ".csv":
                export_csv(run, path, overwrite=overwrite)
            else:
                export_json(run, path, overwrite=overwrite)
            return path

        ask_export_path(
            self,
            f"Export the run of {format_date(saved.started)}",
            str(Path.home() / f"fio-{run_id}.json"),
            "Ends in .csv: the interval series (one row per second). Anything else: JSON "
            "(meta, job file, final document, series).",
            write,
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> list[SystemCommand]:
        """This screen's actions for the command palette."""
        return [
            SystemCommand(
                "fio runs: report", "The highlighted run's report (enter)", self.action_open
            ),
            SystemCommand("fio runs: mark", "Mark for a comparison (space)", self.action_mark),
            SystemCommand(
                "fio runs: compare", "The two marked runs side by side (c)", self.action_compare
            ),
            SystemCommand("fio runs: label", "Name the highlighted run (l)", self.action_label),
            SystemCommand("fio runs: delete", "Asks first (d)", self.action_delete),
            SystemCommand("fio runs: export", "JSON or CSV (e)", self.action_export),
            SystemCommand("fio runs: reload", "Read the store again (r)", self.action_reload),
        ]


# ------------------------------------------------------------------------------------ export
def ask_export_path(
    screen: FioRunsScreen | FioCompareScreen,
    heading: str,
    default: str,
    hint: str,
    write: Callable[[Path, bool], Path],
) -> None:
    """Ask for a path; if it exists ask before overwriting; then `write(path, overwrite)` as a
    job and say where it went."""
    app = screen.app

    def run(path: Path, overwrite: bool) -> None:
        def job(_ctx: JobContext) -> Path:
            return write(path, overwrite)

        def done(message: JobDone) -> None:
            app.notify(visible(str(message.result)), title="Exported", markup=False)
            if screen.is_mounted:
                screen.status(f"exported to {message.result}")

        def failed(message: JobFailed) -> None:
            if screen.is_mounted:
                screen.status(message.message, error=True)

        start_job(screen, job, title="Export", on_done=done, on_failed=failed)

    def chosen(answer: str | None) -> None:
        if not answer:
            return
        path = Path(answer).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        if path.is_dir():
            screen.status(f"{path} is a directory: give a file name", error=True)
            return
        if path.exists() or path.is_symlink():
            question = Text("Overwrite ", style="bold")
            append_plain(question, str(path))
            question.append("?\n\nThe file exists; it is replaced by the export.")

            def answered(ok: bool | None) -> None:
                if ok:
                    run(path, True)

            app.push_screen(ConfirmScreen(question, confirm_label="Overwrite"), answered)
            return
        run(path, False)

    title = Text()
    append_plain(title, heading, "bold")
    app.push_screen(PromptScreen(title, "File", default, confirm_label="Export", hint=hint), chosen)


# ------------------------------------------------------------------------------------ compare
class FioCompareScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="fio_runs.compare_back"),
        Binding(
            "e",
            "export",
            "Export CSV",
            id="fio_runs.compare_export",
            tooltip="The comparison as CSV (metrics, then the differing options)",
        ),
        Binding("tab", "switch", "Switch table", show=False, id="fio_runs.compare_switch"),
    ]

    def __init__(self, a: LoadedRun, b: LoadedRun) -> None:
        super().__init__()
        self.runs = (a, b)
        self.comparison = compare(a, b)  # figures from two loaded documents: no IO

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="fio-compare-title")
        yield DataTable(id="fio-compare-table", cursor_type="row", zebra_stripes=True)
        yield Static(self._options_heading(), id="fio-compare-options-heading")
        yield DataTable(id="fio-compare-options", cursor_type="row", zebra_stripes=True)
        yield Static(id="fio-compare-status")
        yield Footer()

    def _header(self) -> Text:
        comp = self.comparison
        text = Text()
        for tag, saved in (("A", comp.a), ("B", comp.b)):
            if text:
                text.append("\n")
            text.append(f"{tag} ", style="bold")
            append_plain(text, run_title(saved))
            text.append(" on ", style="dim")
            append_plain(text, saved.host)
        return text

    def _options_heading(self) -> Text:
        n = len(self.comparison.options)
        if not n:
            return Text("Same options in both job files", style="bold")
        return Text(f"Options that differ ({n})", style="bold")

    def on_mount(self) -> None:
        table = self.query_one("#fio-compare-table", DataTable)
        table.add_column("", key="section")
        table.add_column("Metric", key="metric")
        table.add_column(Text("A", justify="right"), key="a")
        table.add_column(Text("B", justify="right"), key="b")
        table.add_column(Text("B/A", justify="right"), key="ratio")
        table.add_column("", key="verdict")
        last = ""
        for row in self.comparison.rows:
            table.add_row(
                Text(row.section if row.section != last else "", style="bold"),
                Text(row.metric),
                Text(value_text(row, row.a), justify="right"),
                Text(value_text(row, row.b), justify="right"),
                Text("-" if row.ratio is None else f"{row.ratio:.2f}", justify="right"),
                verdict_text(row),
            )
            last = row.section
        options = self.query_one("#fio-compare-options", DataTable)
        options.add_columns("Where", "Option", "A", "B")
        for diff in self.comparison.options:
            options.add_row(plain(diff.section), plain(diff.option), plain(diff.a), plain(diff.b))
        options.display = bool(self.comparison.options)
        table.focus()
        self.status("B/A: above 1, B has more; the word says whether that is better")

    def status(self, text: str, *, error: bool = False) -> None:
        show_status(self.query_one("#fio-compare-status", Static), text, error=error)

    def action_switch(self) -> None:
        table = self.query_one("#fio-compare-table", DataTable)
        options = self.query_one("#fio-compare-options", DataTable)
        (options if table.has_focus and options.display else table).focus()

    def action_export(self) -> None:
        comp = self.comparison

        def write(path: Path, overwrite: bool) -> Path:
            export_comparison_csv(comp, path, overwrite=overwrite)
            return path

        ask_export_path(
            self,
            "Export the comparison",
            str(Path.home() / f"fio-compare-{comp.a.run_id}-{comp.b.run_id}.csv"),
            "CSV: one row per metric (A, B, B/A, verdict), then the options that differ.",
            write,
        )

    def action_back(self) -> None:
        self.app.pop_screen()
