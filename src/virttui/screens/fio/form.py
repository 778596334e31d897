"""The fio job builder: a `.fio` job file edited section by section, checked by fio, guarded,
then run.

Left: the sections of the job file ([global] first, then the jobs; `n` new, `c` copy, `d`
delete while the list has the focus, or the palette). Right: the form of the highlighted
section (`widgets/fio/form_fields.JobForm`): every common fio option typed, the others as raw
`key=value` lines. `FioJob.validate` / `checked_against` messages appear under their field as
you type; Run and Save are refused while any section has one.

Keys: ctrl+r Run (validate → the guard in a job → refused: every reason, no way on; a raw
device: its name typed exactly → `start_run`), ctrl+t Check (`fio --parse-only` in a job:
fio's own message, or "fio accepts this job file"), ctrl+s Save / ctrl+o Load (`.fio` files on
this machine; overwriting asks; a failure keeps the form as it was), f2 Presets (a test file
in a directory the admin can write, never a device), f3 Runs (saved runs).

Entry point: `open_fio(app, uri=None)` (None: fio on this machine; a `qemu+ssh` URI: fio on
that host). Wiring points for the lead, one function each: `_default_start_run` (the live
screen), `_finished` (what happens with a finished run), `FioScreen._open_runs` (saved runs).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from virttui.core.fio.guard import Verdict, guard_jobfile
from virttui.core.fio.job import (
    PRESET_FILE,
    PRESETS,
    FioJob,
    JobFile,
    JobFileError,
    PresetKind,
    check_jobfile,
    load_jobfile,
    preset,
    save_jobfile,
)
from virttui.core.fio.runs import SavedRun
from virttui.core.jobs import JobContext, JobDone, JobFailed
from virttui.screens.common.confirm import ConfirmScreen, DialogScreen
from virttui.screens.common.jobs import start_job
from virttui.screens.common.services import services
from virttui.screens.domain.action_dialogs import PromptScreen
from virttui.screens.fio.live import FioLiveScreen
from virttui.screens.fio.report import open_finished_run
from virttui.screens.fio.runs import open_fio_runs, save_run
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.common.ticks import TickBox
from virttui.widgets.fio.form_fields import (
    FIELD_NAMES,
    JobForm,
    Values,
    empty_values,
    job_to_values,
    values_to_job,
)

if TYPE_CHECKING:
    from virttui.core.fio.finished import FinishedRun

StartRun = Callable[[str | None, JobFile, Verdict], None]
GLOBAL = "global"


# ------------------------------------------------------------------------------- entry points
def open_fio(app: App[Any], uri: str | None = None) -> None:
    """The job builder for fio on host `uri` (None: this machine)."""
    app.push_screen(FioScreen(uri))


def _finished(app: App[Any]) -> Callable[[FinishedRun], None]:
    """A finished run (also a stopped or failed one with documents) is saved in the store of
    runs (off the UI thread) and its report is shown."""

    def finished(run: FinishedRun) -> None:
        def saved(entry: SavedRun) -> None:
            app.notify(f"Saved as run {entry.run_id} (fio: saved runs)", title="fio", markup=False)

        save_run(app, run, saved)
        open_finished_run(app, run)

    return finished


def _default_start_run(app: App[Any], uri: str | None, jobfile: JobFile, verdict: Verdict) -> None:
    """The product path after the guard said yes: the live run screen."""
    app.push_screen(FioLiveScreen(uri, jobfile, verdict.fio_args, on_finished=_finished(app)))


def default_directory() -> str:
    """Where a preset's test file goes by default: the current directory when it is writable
    (and not under /dev), else the temp directory."""
    cwd = os.getcwd()
    real = os.path.realpath(cwd)
    if os.access(cwd, os.W_OK) and real != "/dev" and not real.startswith("/dev/") and real != "/":
        return cwd
    return tempfile.gettempdir()


def make_preset(kind: PresetKind, directory: str, *, local: bool) -> FioJob:
    """`job.preset` in `directory` (on another host the directory is not checked here: it
    must only be absolute and not under /dev)."""
    if local:
        return preset(kind, directory)
    if not os.path.isabs(directory):
        raise ValueError("the preset's directory must be an absolute path")
    norm = os.path.normpath(directory)
    if norm == "/dev" or norm.startswith("/dev/"):
        raise ValueError(f"{directory} is not a directory for a test file")
    job = preset(kind, "/")
    return dataclasses.replace(job, filename=os.path.join(norm, PRESET_FILE))


# ------------------------------------------------------------------------------- dialogs
class PresetScreen(DialogScreen[tuple[PresetKind, str, bool]]):
    """Pick a preset and the directory of its test file; returns (kind, directory, as new job)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fio.preset.cancel")]
    frame_classes = "fio-dialog"
    confirm_label = "Use preset"
    hint = "The job writes a 1 GiB test file there, never a device."

    def __init__(self, directory: str, *, new_job: bool, check: Callable[[str, str], str]) -> None:
        super().__init__(Text("fio preset", style="bold"))
        self.directory = directory
        self.new_job = new_job
        self.check = check  # (kind, directory) -> "" or why not

    def body(self) -> ComposeResult:
        yield Select(
            [(label, kind) for kind, label in PRESETS.items()],
            value="randread",
            allow_blank=False,
            id="preset-kind",
            compact=True,
        )
        yield Static(Text("Directory of the test file (virttui-fio.test):"))
        yield Input(self.directory, id="preset-dir", compact=True)
        yield TickBox("Add as a new job", self.new_job, id="preset-new", compact=True)

    def collect(self) -> tuple[PresetKind, str, bool]:
        kind = self.query_one("#preset-kind", Select).value
        directory = self.query_one("#preset-dir", Input).value.strip()
        if not isinstance(kind, str):
            raise ValueError("Pick a preset")  # not reached: the list has no blank
        problem = self.check(kind, directory)
        if problem:
            raise ValueError(problem)
        new = self.query_one("#preset-new", TickBox).value
        return kind, directory, new  # type: ignore[return-value]  # a PRESETS key


class RefusedScreen(DialogScreen[None]):
    """The guard refused: every reason, in plain text, and only a way back."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="fio.refused.close")]
    frame_classes = "fio-dialog"
    body_classes = "fio-reasons"
    destructive = True
    confirm_label = ""
    cancel_label = "Close"
    cancel_id = "close"
    hint = "Change the target (a test file on a filesystem) and run again."

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(Text("fio will not run this job", style="bold"))
        self.verdict = verdict

    def body(self) -> ComposeResult:
        text = Text()
        for reason in self.verdict.reasons or ("refused (no reason given)",):
            text.append("• ")
            append_plain(text, reason, multiline=True)
            text.append("\n")
        yield Static(text, id="refused-reasons")

    def action_close(self) -> None:
        self.action_cancel()


class ConfirmNamesScreen(DialogScreen[bool]):
    """A raw device: the admin types each device's name exactly (`Verdict.accepts`)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fio.confirm.cancel")]
    frame_classes = "fio-dialog"
    body_classes = "fio-reasons"
    destructive = True
    confirm_label = "Destroy and run"

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(Text("fio will write to a raw device", style="bold"))
        self.verdict = verdict

    def body(self) -> ComposeResult:
        note = Text()
        for reason in self.verdict.reasons:
            append_plain(note, reason, multiline=True)
            note.append("\n")
        note.append("Everything on it is destroyed. Type each device's name to go on.")
        yield Static(note, id="confirm-note")
        for i, name in enumerate(self.verdict.confirm_names):
            label = Text("Type ")
            append_plain(label, name, "bold")
            yield Static(label)
            yield Input(id=f"confirm-name-{i}", compact=True)

    def typed(self) -> list[str]:
        return [w.value for w in self.query(Input)]

    def collect(self) -> bool:
        if not self.verdict.accepts(self.typed()):
            raise ValueError("The names do not match: type each one exactly.")
        return True

    def action_cancel(self) -> None:
        self.dismiss(False)


# ------------------------------------------------------------------------------- sections
@dataclass(frozen=True, slots=True)
class FioAction:
    """One action of the job builder. Its keys (the screen's Bindings, the section list's) and
    its command-palette entry (`FioScreen.palette_commands`) all come from `FIO_ACTIONS`: an
    action added there has both, or says why it is not in the palette."""

    action: str  # FioScreen.action_<action>
    label: str  # the footer's word; the palette's title is "fio: <label in lower case>"
    # The palette's help ("": the tooltip), its keys appended; None: not in the palette.
    palette: str | None = ""
    key: str = ""  # the screen's key(s), binding id fio.<action>
    show: bool = True
    tooltip: str = ""
    list_key: str = ""  # the section list's key(s), acting on the highlighted section
    list_id: str = ""  # that binding's id: fio.sections.<list_id>

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.label,
            show=self.show,
            id=f"fio.{self.action}",
            tooltip=self.tooltip,
        )

    def list_binding(self) -> Binding:
        return Binding(
            self.list_key, f"screen.{self.action}", self.label, id=f"fio.sections.{self.list_id}"
        )

    def palette_help(self) -> str:
        """ "Run the job (ctrl+r)", "Remove the job (d on the list)" (the first key of each)."""
        keys = [k.split(",")[0] for k in (self.list_key, self.key) if k]
        where = " / ".join(keys) + ("" if self.key else " on the list")
        return f"{self.palette or self.tooltip} ({where})"


FIO_ACTIONS: tuple[FioAction, ...] = (
    FioAction("back", "Back", None, key="escape", show=False),  # escape leaves, as everywhere
    FioAction("run", "Run", key="ctrl+r", tooltip="Guard, then run the job file"),
    FioAction("check", "Check", key="ctrl+t", tooltip="fio --parse-only"),
    FioAction("save", "Save", "Save the job file", key="ctrl+s", tooltip="Save as a .fio file"),
    FioAction("load", "Load", "Load a .fio job file", key="ctrl+o", tooltip="Load a .fio file"),
    FioAction("preset", "Preset", key="f2", tooltip="Fill a job from a preset"),
    # The app's "fio: saved runs" opens them from every screen.
    FioAction("runs", "Runs", None, key="f3,R", tooltip="Saved runs"),
    FioAction(
        "add_job",
        "New job",
        "Add a job section",
        key="ctrl+n",
        show=False,
        list_key="n",
        list_id="new",
    ),
    FioAction("copy_job", "Copy job", "Duplicate the job", list_key="c", list_id="copy"),
    FioAction("delete_job", "Delete job", "Remove the job", list_key="d,delete", list_id="delete"),
)


class SectionList(OptionList):
    """[global] and the jobs of the file; the keys act on the highlighted one."""

    BINDINGS = [a.list_binding() for a in FIO_ACTIONS if a.list_key]


def _section_label(index: int, name: str) -> Text:
    if index == 0:
        return Text("[global]", style="dim italic")
    return plain(name or "(no name)", no_wrap=True, overflow="ellipsis")


# ------------------------------------------------------------------------------- the screen
class FioScreen(Screen[None]):
    """The job builder (see the module doc)."""

    BINDINGS = [a.binding() for a in FIO_ACTIONS if a.key]  # the keys of the list: SectionList

    def __init__(
        self,
        uri: str | None = None,
        *,
        jobfile: JobFile | None = None,
        start_run: StartRun | None = None,
    ) -> None:
        super().__init__()
        self.uri = uri
        self.start_run = start_run
        self.header: tuple[str, ...] = ()
        self.sections: list[Values] = []
        self.current = 1
        self.path = ""  # the file last loaded or saved
        self.busy = ""  # the job under way ("guard", "check", ...), "" when none
        self.last_verdict: Verdict | None = None
        self.status_text = ""
        self._set_jobfile(jobfile if jobfile is not None else self._first_jobfile())
        self._clean = self._snapshot()  # the form as last opened, loaded or saved

    # ------------------------------------------------------------------ model
    @property
    def local(self) -> bool:
        return self.uri is None or _is_local(self.uri)

    def _first_jobfile(self) -> JobFile:
        try:
            job = make_preset("randread", default_directory(), local=True)
        except ValueError:
            job = FioJob(name="job1")
        return JobFile((job,))

    def _set_jobfile(self, jobfile: JobFile) -> None:
        self.header = jobfile.header
        glob = jobfile.global_job or FioJob(name=GLOBAL)
        self.sections = [job_to_values(glob), *(job_to_values(j) for j in jobfile.jobs)]
        self.sections[0]["name"] = GLOBAL
        self.current = 1 if len(self.sections) > 1 else 0

    def _store_current(self) -> None:
        if self.is_mounted and self.sections:
            self.sections[self.current] = self.form.values()
            if self.current == 0:
                self.sections[0]["name"] = GLOBAL

    def _snapshot(self) -> list[Values]:
        return [dict(v) for v in self.sections]

    @property
    def modified(self) -> bool:
        """Has the job file changed since it was opened, loaded or saved?"""
        self._store_current()
        return self.sections != self._clean

    def build(self) -> tuple[JobFile, dict[int, dict[str, str]]]:
        """The job file the form describes, and the messages per section index."""
        self._store_current()
        glob, errors0 = values_to_job(self.sections[0], name=GLOBAL)
        jobs: list[FioJob] = []
        conversion: dict[int, dict[str, str]] = {0: errors0}
        for i, values in enumerate(self.sections[1:], 1):
            job, errs = values_to_job(values)
            jobs.append(job)
            conversion[i] = errs
        global_job = None if _is_empty(glob) else glob
        jobfile = JobFile(tuple(jobs), global_job, self.header)
        messages: dict[int, dict[str, str]] = {}
        messages[0] = {**glob.validate(is_global=True), **errors0}
        names = [j.name for j in jobs]
        for i, job in enumerate(jobs, 1):
            msgs = job.checked_against(global_job)
            if job.name and names.count(job.name) > 1:
                msgs.setdefault("name", f"name: {job.name!r} is used by more than one job")
            msgs.update(conversion[i])
            messages[i] = msgs
        return jobfile, {i: m for i, m in messages.items() if m}

    def jobfile(self) -> JobFile:
        return self.build()[0]

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="fio-title")
        with Horizontal(id="fio-body"):
            with Vertical(id="fio-side"):
                yield SectionList(id="fio-sections")
                yield Static(Text("n new  c copy\nd delete", style="dim"), id="fio-side-keys")
            yield JobForm(id="fio-job")
        yield Static(id="fio-status")
        yield Footer()

    def _title(self) -> Text:
        text = Text("fio job builder", style="bold")
        text.append(" · ")
        if self.uri is None:
            text.append("this machine")
        else:
            append_plain(text, _host_label(self, self.uri))
        if self.path:
            text.append(" · ")
            append_plain(text, self.path)
        return text

    def on_mount(self) -> None:
        self._fill_sections()
        self._show_section(self.current)
        self.form.focus_field("filename" if self.current else "size")

    @property
    def form(self) -> JobForm:
        return self.query_one(JobForm)

    @property
    def section_list(self) -> SectionList:
        return self.query_one(SectionList)

    def _fill_sections(self) -> None:
        options = self.section_list
        options.clear_options()
        options.add_options(
            [
                Option(_section_label(i, v.get("name", "")), id=f"s{i}")
                for i, v in enumerate(self.sections)
            ]
        )
        options.highlighted = self.current

    def _show_section(self, index: int) -> None:
        self.current = index
        self.form.load(self.sections[index], is_global=index == 0)
        self._validate_current()
        self.query_one("#fio-title", Static).update(self._title())

    def _validate_current(self) -> dict[str, str]:
        _jobfile, messages = self.build()
        errors = messages.get(self.current, {})
        self.form.show_errors(errors)
        return errors

    def status(self, message: str, *, error: bool = False) -> None:
        self.status_text = message
        style = "bold red" if error else ""
        self.query_one("#fio-status", Static).update(plain(message, style, multiline=True))

    # ------------------------------------------------------------------ events
    @on(OptionList.OptionHighlighted, "#fio-sections")
    def _section_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        if index != self.current and 0 <= index < len(self.sections):
            self._store_current()
            self._show_section(index)

    @on(OptionList.OptionSelected, "#fio-sections")
    def _section_selected(self, event: OptionList.OptionSelected) -> None:
        self.form.focus_field("name" if event.option_index else "filename")

    @on(JobForm.Edited)
    def _edited(self, event: JobForm.Edited) -> None:
        self._validate_current()
        if event.field == "name" and self.current:
            self.section_list.replace_option_prompt_at_index(
                self.current, _section_label(self.current, self.sections[self.current]["name"])
            )

    # ------------------------------------------------------------------ sections
    def _unique_name(self, base: str) -> str:
        names = {v.get("name", "") for v in self.sections}
        if base not in names:
            return base
        n = 2
        while f"{base}{n}" in names:
            n += 1
        return f"{base}{n}"

    def _insert(self, values: Values) -> None:
        self._store_current()
        self.sections.append(values)
        self.current = len(self.sections) - 1
        self._fill_sections()
        self._show_section(self.current)
        self.form.focus_field("name")

    def action_add_job(self) -> None:
        self._insert(empty_values(self._unique_name("job1")))

    def action_copy_job(self) -> None:
        self._store_current()
        if self.current == 0:
            self.status("[global] cannot be copied: add a new job (n)", error=True)
            return
        values = dict(self.sections[self.current])
        values["name"] = self._unique_name(values.get("name", "") or "job")
        self._insert(values)

    def action_delete_job(self) -> None:
        if self.current == 0:
            self.status("[global] stays: clear its fields to drop it", error=True)
            return
        name = self.sections[self.current].get("name", "")
        index = self.current

        def answered(ok: bool | None) -> None:
            if ok and index < len(self.sections):
                del self.sections[index]
                self.current = min(index, len(self.sections) - 1)
                self._fill_sections()
                self._show_section(self.current)

        question = Text("Delete the job ")
        append_plain(question, name, "bold")
        question.append(" from the job file?")
        self.app.push_screen(ConfirmScreen(question, confirm_label="Delete"), answered)

    # ------------------------------------------------------------------ checking
    def _refuse_on_errors(self, what: str) -> JobFile | None:
        """The job file, or None (with the messages shown) while a field is wrong."""
        jobfile, messages = self.build()
        if not jobfile.jobs:
            self.status(f"{what} refused: the job file has no job (ctrl+n adds one)", error=True)
            return None
        if not messages:
            return jobfile
        index = self.current if self.current in messages else min(messages)
        if index != self.current:
            self.section_list.highlighted = index
            self._show_section(index)
        errors = messages[index]
        self.form.show_errors(errors)
        first = next((f for f in FIELD_NAMES if f in errors), "")
        if first:
            self.form.focus_field(first)
        count = sum(len(m) for m in messages.values())
        where = _section_name(self.sections[index], index)
        detail = next(iter(errors.values()))
        self.status(f"{what} refused: {count} field(s) to fix ({where}: {detail})", error=True)
        return None

    def action_check(self) -> None:
        if self.busy:
            self.status(f"wait: {self.busy} is under way")
            return
        jobfile, messages = self.build()
        conversion = {
            i: m for i, m in messages.items() if any("whole number" in v for v in m.values())
        }
        if conversion:
            self._refuse_on_errors("Check")
            return
        self.busy = "check"
        self.status("fio --parse-only: checking...")

        where = "" if self.local else " (checked by this machine's fio)"

        def done(_message: JobDone) -> None:
            self.busy = ""
            self.status("fio accepts this job file" + where)

        def failed(message: JobFailed) -> None:
            self.busy = ""
            self.status(message.message, error=True)

        start_job(
            self,
            lambda ctx: check_jobfile(ctx, jobfile),
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
        )

    # ------------------------------------------------------------------ run
    def action_run(self) -> None:
        if self.busy:
            self.status(f"wait: {self.busy} is under way")
            return
        jobfile = self._refuse_on_errors("Run")
        if jobfile is None:
            return
        call = self._guard_call()
        self.busy = "the guard"
        self.status("checking the targets (mounts, swap, holders, signatures, domains)...")

        def done(message: JobDone) -> None:
            self.busy = ""
            verdict: Verdict = message.result
            self.last_verdict = verdict
            self._guarded(jobfile, verdict)

        def failed(message: JobFailed) -> None:
            self.busy = ""
            if message.cancelled:
                self.status("the guard was cancelled")
                return
            reason = f"the guard could not check the targets: {message.message}"
            self.status(reason, error=True)
            from virttui.core.fio.guard import TargetCheck

            refused = Verdict(jobfile.writes, (TargetCheck("", "unknown", "refuse", (reason,)),))
            self.last_verdict = refused
            self.app.push_screen(RefusedScreen(refused))

        start_job(
            self,
            lambda ctx: call(ctx, jobfile),
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
        )

    def _guard_call(self) -> Callable[[JobContext, JobFile], Verdict]:
        """The guard as a job body, with the open connections read here, on the UI thread:
        the host fio runs on (this machine: a local connection) scans itself and the others."""
        uri = self.uri
        try:
            hosts = dict(services(self).hosts)
            facades = services(self)
        except TypeError:  # an app without virttui's services (a bare test app)
            return lambda ctx, jf: guard_jobfile(ctx, jf, uri=uri)
        if uri is not None:
            home = uri
        else:
            home = next((u for u, h in hosts.items() if getattr(h, "is_local", False)), "")
            home = home or next(iter(hosts), "")
        facade = facades.facade(home) if home else None
        if facade is None:
            connections = list(hosts.values())
            return lambda ctx, jf: guard_jobfile(ctx, jf, connections=connections, uri=uri)
        others = [h for u, h in hosts.items() if u != home]
        return lambda ctx, jf: facade.fio_guard(ctx, jf, others=others, uri=uri)

    def _guarded(self, jobfile: JobFile, verdict: Verdict) -> None:
        if verdict.refused:
            self.status("refused by the guard: " + "; ".join(verdict.reasons), error=True)
            self.app.push_screen(RefusedScreen(verdict))
            return
        if verdict.confirm_names:
            self.status("a raw device: type its name to go on")

            def answered(ok: bool | None) -> None:
                if ok:
                    self._start(jobfile, verdict)
                else:
                    self.status("not run")

            self.app.push_screen(ConfirmNamesScreen(verdict), answered)
            return
        self._start(jobfile, verdict)

    def _start(self, jobfile: JobFile, verdict: Verdict) -> None:
        note = " (read-only: fio --readonly)" if verdict.fio_args else ""
        notes = [r for c in verdict.checks if c.decision == "ok" for r in c.reasons]
        self.status("running" + note + ("\n" + "\n".join(notes) if notes else ""))
        if self.start_run is not None:
            self.start_run(self.uri, jobfile, verdict)
        else:
            _default_start_run(self.app, self.uri, jobfile, verdict)

    # ------------------------------------------------------------------ files
    def _suggested_path(self) -> str:
        return self.path or os.path.join(os.getcwd(), "job.fio")

    def action_save(self) -> None:
        jobfile = self._refuse_on_errors("Save")
        if jobfile is None:
            return
        title = Text("Save the job file", style="bold")

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = os.path.abspath(os.path.expanduser(path))
            if os.path.exists(target):
                question = Text("Overwrite ")
                append_plain(question, target, "bold")
                question.append("?")

                def overwrite(ok: bool | None) -> None:
                    if ok:
                        self._save(jobfile, target)

                self.app.push_screen(ConfirmScreen(question, confirm_label="Overwrite"), overwrite)
                return
            self._save(jobfile, target)

        hint = "A path on this machine (the .fio file is INI: [global] and the jobs)."
        self.app.push_screen(
            PromptScreen(title, "Path", self._suggested_path(), confirm_label="Save", hint=hint),
            chosen,
        )

    def _save(self, jobfile: JobFile, path: str) -> None:
        saved = self._snapshot()

        def done(_message: JobDone) -> None:
            self.path = path
            self._clean = saved
            self.query_one("#fio-title", Static).update(self._title())
            self.status(f"saved {path}")

        def failed(message: JobFailed) -> None:
            self.status(f"cannot save {path}: {message.message}", error=True)

        start_job(
            self,
            lambda _ctx: save_jobfile(jobfile, path),
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
        )

    def action_load(self) -> None:
        title = Text("Load a job file", style="bold")

        def chosen(path: str | None) -> None:
            if path:
                self._load(os.path.abspath(os.path.expanduser(path)))

        hint = "A .fio file on this machine; the form is replaced only when it reads well."
        self.app.push_screen(
            PromptScreen(title, "Path", self._suggested_path(), confirm_label="Load", hint=hint),
            chosen,
        )

    def _load(self, path: str) -> None:
        def done(message: JobDone) -> None:
            jobfile: JobFile = message.result
            self._store_current()
            self._set_jobfile(jobfile)
            self._clean = self._snapshot()
            self.path = path
            self._fill_sections()
            self._show_section(self.current)
            self.status(f"loaded {path}: {len(jobfile.jobs)} job(s)")

        def failed(message: JobFailed) -> None:
            self.status(f"cannot load {path}: {message.message}", error=True)

        start_job(
            self,
            lambda _ctx: read_jobfile(path),
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
        )

    # ------------------------------------------------------------------ presets
    def action_preset(self) -> None:
        local = self.local
        directory = default_directory() if local else "/tmp"

        def check(kind: str, directory: str) -> str:
            try:
                make_preset(kind, directory, local=local)  # type: ignore[arg-type]  # a PRESETS key
            except ValueError as exc:
                return str(exc)
            return ""

        def chosen(answer: tuple[PresetKind, str, bool] | None) -> None:
            if answer is None:
                return
            kind, where, new = answer
            self.apply_preset(kind, where, new=new)

        self.app.push_screen(
            PresetScreen(directory, new_job=self.current == 0, check=check), chosen
        )

    def apply_preset(self, kind: PresetKind, directory: str, *, new: bool = False) -> None:
        """Fill the highlighted job (or a new one) from preset `kind` in `directory`."""
        job = make_preset(kind, directory, local=self.local)
        if new or self.current == 0:
            values = job_to_values(job)
            values["name"] = self._unique_name(job.name)
            self._insert(values)
        else:
            self._store_current()
            values = job_to_values(job)
            keep = self.sections[self.current].get("name", "")
            others = {v.get("name") for i, v in enumerate(self.sections) if i != self.current}
            values["name"] = keep if keep and keep not in others else self._unique_name(job.name)
            self.sections[self.current] = values
            self._show_section(self.current)
            self.section_list.replace_option_prompt_at_index(
                self.current, _section_label(self.current, values["name"])
            )
        self.status(f"preset: {PRESETS[kind]} on {job.filename}")

    # ------------------------------------------------------------------ other screens
    def palette_commands(self) -> list[SystemCommand]:
        """This screen's actions for the command palette, from `FIO_ACTIONS`."""
        return [
            SystemCommand(
                f"fio: {a.label.lower()}", a.palette_help(), getattr(self, f"action_{a.action}")
            )
            for a in FIO_ACTIONS
            if a.palette is not None
        ]

    def action_runs(self) -> None:
        self._open_runs()

    def _open_runs(self) -> None:
        """Saved runs."""
        open_fio_runs(self.app)

    def unsaved_text(self) -> str:
        """Asked by the app's quit: changes to the job file would be lost."""
        return "the fio job file has changes not saved" if self.modified else ""

    def action_back(self) -> None:
        if not self.modified:
            self.dismiss(None)
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.dismiss(None)

        question = Text("Leave the job builder? The changes not saved are lost.")
        self.app.push_screen(ConfirmScreen(question, confirm_label="Leave"), answered)


# ------------------------------------------------------------------------------- helpers
def read_jobfile(path: str) -> JobFile:
    """`load_jobfile`, refusing a file with no [section] at all (not a job file)."""
    jobfile = load_jobfile(path)
    if not jobfile.jobs and jobfile.global_job is None:
        raise JobFileError("no [section] in it: not a fio job file")
    return jobfile


def _is_empty(job: FioJob) -> bool:
    return not job.options() and not job.comments


def _section_name(values: Values, index: int) -> str:
    return "[global]" if index == 0 else (values.get("name", "") or f"job {index}")


def _is_local(uri: str) -> bool:
    from virttui.core.host.connection import is_local_uri

    return is_local_uri(uri)


def _host_label(node: Screen[Any], uri: str) -> str:
    try:
        host = services(node).hosts.get(uri)
    except TypeError:
        host = None
    return str(getattr(host, "label", "") or uri)
