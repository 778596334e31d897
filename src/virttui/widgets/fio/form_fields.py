"""The fio job form: one row per `FioJob` field, and the conversions form ↔ job.

The form keeps every field as the text the admin typed (`Values`: field name → string), so
switching between the sections of a job file never loses a half-typed value; `values_to_job`
turns them into a `FioJob` when it is needed (check, run, save), with a message per field that
is not even of the right type ("iodepth: a whole number"). `job_to_values` is the other way:
every typed field fills its widget, every raw option (and the section's comments) becomes one
line of the raw text (`key=value`, a bare `key`, `; comment`), so nothing of a loaded file is
lost. Messages (`FioJob.validate` / `checked_against`) go under the field they name
(`JobForm.show_errors`), in plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Select, Static, TextArea

from virttui.core.fio.job import DISTRIBUTIONS, IOENGINES, RW_MODES, FioJob
from virttui.widgets.common.plain import plain

Values = dict[str, str]
Kind = Literal["text", "int", "bool", "choice", "dist", "raw"]
BOOL_CHOICES: tuple[tuple[str, str], ...] = (("(default)", ""), ("yes", "1"), ("no", "0"))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str  # the FioJob field (and fio's option name)
    label: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()
    placeholder: str = ""


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "name", placeholder="the job's name"),
    FieldSpec("filename", "filename", placeholder="e.g. /srv/test/fio.file"),
    FieldSpec("directory", "directory", placeholder="e.g. /srv/test (fio makes the files)"),
    FieldSpec("size", "size", placeholder="e.g. 1g, 512m, 50%"),
    FieldSpec("direct", "direct", "bool"),
    FieldSpec("ioengine", "ioengine", "choice", IOENGINES),
    FieldSpec("iodepth", "iodepth", "int", placeholder="e.g. 32"),
    FieldSpec("bs", "bs", placeholder="e.g. 4k (or read,write: 4k,64k)"),
    FieldSpec("bsrange", "bsrange", placeholder="e.g. 4k-64k"),
    FieldSpec("numjobs", "numjobs", "int", placeholder="e.g. 1"),
    FieldSpec("thread", "thread", "bool"),
    FieldSpec("rw", "rw", "choice", RW_MODES),
    FieldSpec("rwmixread", "rwmixread %", "int", placeholder="e.g. 70"),
    FieldSpec("rwmixwrite", "rwmixwrite %", "int", placeholder="e.g. 30"),
    FieldSpec("runtime", "runtime", placeholder="e.g. 60s, 2m"),
    FieldSpec("time_based", "time_based", "bool"),
    FieldSpec("ramp_time", "ramp_time", placeholder="e.g. 5s"),
    FieldSpec("group_reporting", "group_reporting", "bool"),
    FieldSpec("lockmem", "lockmem", placeholder="e.g. 512m"),
    FieldSpec("zero_buffers", "zero_buffers", "bool"),
    FieldSpec("random_distribution", "distribution", "dist", DISTRIBUTIONS, "θ / h / σ"),
    FieldSpec("nrfiles", "nrfiles", "int", placeholder="e.g. 1"),
    FieldSpec("extra", "raw options", "raw"),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
SPECS: dict[str, FieldSpec] = {f.name: f for f in FIELDS}
DIST_PARAM = "random_distribution_param"  # the value after "kind:" in the values


# ------------------------------------------------------------------------------- conversions
def raw_text(job: FioJob) -> str:
    """The raw options and comments of a job, one per line."""
    lines = list(job.comments)
    lines.extend(key if value is None else f"{key}={value}" for key, value in job.extra)
    return "\n".join(lines)


def parse_raw(text: str) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...]]:
    """Raw text → (options, comments): `key=value`, a bare `key`, `;`/`#` comments."""
    options: list[tuple[str, str | None]] = []
    comments: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line[0] in ";#":
            comments.append(line)
            continue
        key, sep, value = line.partition("=")
        options.append((key.strip(), value.strip() if sep else None))
    return tuple(options), tuple(comments)


def job_to_values(job: FioJob) -> Values:
    """Every field of `job` as the text its widget shows."""
    values: Values = {}
    for spec in FIELDS:
        if spec.name == "extra":
            values["extra"] = raw_text(job)
            continue
        value = getattr(job, spec.name)
        if spec.kind == "bool":
            values[spec.name] = "" if value is None else ("1" if value else "0")
        elif spec.kind == "dist":
            kind, sep, param = str(value).partition(":")
            values[spec.name] = kind
            values[DIST_PARAM] = param if sep else ""
        else:
            values[spec.name] = "" if value is None else str(value)
    return values


def empty_values(name: str = "") -> Values:
    return job_to_values(FioJob(name=name))


def values_to_job(values: Mapping[str, str], *, name: str | None = None) -> tuple[FioJob, Values]:
    """The job the form describes, and a message per field whose text is not of its type
    (those fields are left unset in the job). `name` overrides the name field ([global])."""
    errors: Values = {}
    fields: dict[str, object] = {}
    for spec in FIELDS:
        text = values.get(spec.name, "")
        if spec.name in ("name", "extra"):
            continue
        if spec.kind == "int":
            stripped = text.strip()
            if stripped:
                if stripped.isdigit():
                    fields[spec.name] = int(stripped)
                else:
                    errors[spec.name] = f"{spec.name}: a whole number"
        elif spec.kind == "bool":
            if text in ("1", "0"):
                fields[spec.name] = text == "1"
        elif spec.kind == "dist":
            kind = text.strip()
            param = values.get(DIST_PARAM, "").strip()
            if kind:
                fields[spec.name] = f"{kind}:{param}" if param else kind
            elif param:
                errors[spec.name] = "random_distribution: choose the distribution for the value"
        else:
            fields[spec.name] = text.strip()
    extra, comments = parse_raw(values.get("extra", ""))
    job_name = name if name is not None else values.get("name", "").strip()
    job = FioJob(name=job_name, extra=extra, comments=comments, **fields)  # type: ignore[arg-type]  # fields by name
    return job, errors


# ------------------------------------------------------------------------------- the widget
class JobForm(VerticalScroll):
    """The fields of one section (a job or [global]), each with its message line under it."""

    class Edited(Message):
        """A field changed (by the admin, or by `load`)."""

        def __init__(self, form: JobForm, field: str) -> None:
            self.form = form
            self.field = field
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes="fio-form")

    def compose(self) -> ComposeResult:
        for spec in FIELDS:
            with Vertical(id=f"fio-row-{spec.name}", classes="fio-row"):
                with Horizontal(classes="fio-field"):
                    yield Static(Text(spec.label), classes="fio-label")
                    yield from self._widgets(spec)
                yield Static(id=f"fio-err-{spec.name}", classes="fio-error")

    def _widgets(self, spec: FieldSpec) -> ComposeResult:
        wid = f"fio-{spec.name}"
        if spec.kind == "bool":
            yield Select(BOOL_CHOICES, value="", allow_blank=False, id=wid, compact=True)
        elif spec.kind == "choice":
            options = (("(default)", ""), *((c, c) for c in spec.choices))
            yield Select(options, value="", allow_blank=False, id=wid, compact=True)
        elif spec.kind == "dist":
            options = (("(default)", ""), *((c, c) for c in spec.choices))
            yield Select(options, value="", allow_blank=False, id=wid, compact=True)
            yield Input(id=f"fio-{DIST_PARAM}", placeholder=spec.placeholder, compact=True)
        elif spec.kind == "raw":
            yield TextArea(id=wid, soft_wrap=False, compact=True)
        else:
            yield Input(id=wid, placeholder=spec.placeholder, compact=True)

    # ------------------------------------------------------------------ values
    def values(self) -> Values:
        out: Values = {}
        for spec in FIELDS:
            widget = self.query_one(f"#fio-{spec.name}")
            if isinstance(widget, Input):
                out[spec.name] = widget.value
            elif isinstance(widget, TextArea):
                out[spec.name] = widget.text
            elif isinstance(widget, Select):
                value = widget.value
                out[spec.name] = value if isinstance(value, str) else ""
        out[DIST_PARAM] = self.query_one(f"#fio-{DIST_PARAM}", Input).value
        return out

    def load(self, values: Mapping[str, str], *, is_global: bool = False) -> None:
        """Show `values` (a section's); the name field is fixed for [global]. The widgets'
        change events (hence `Edited`) follow, as for the admin's own edits."""
        for spec in FIELDS:
            text = values.get(spec.name, "")
            widget = self.query_one(f"#fio-{spec.name}")
            if isinstance(widget, Input):
                widget.value = text
            elif isinstance(widget, TextArea):
                widget.load_text(text)
            elif isinstance(widget, Select):
                self._select(widget, spec, text)
        self.query_one(f"#fio-{DIST_PARAM}", Input).value = values.get(DIST_PARAM, "")
        name = self.query_one("#fio-name", Input)
        name.disabled = is_global
        if is_global:
            name.value = "global"

    @staticmethod
    def _select(widget: Select[str], spec: FieldSpec, text: str) -> None:
        known = {"", *spec.choices} if spec.kind != "bool" else {"", "1", "0"}
        if text not in known:  # a distribution fio knows and we do not: shown, kept
            base = BOOL_CHOICES if spec.kind == "bool" else (("(default)", ""),)
            choices = tuple((c, c) for c in spec.choices) if spec.kind != "bool" else ()
            widget.set_options((*base, *choices, (plain(text), text)))
        widget.value = text

    # ------------------------------------------------------------------ messages
    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Each message under its field (plain text); the others cleared."""
        for spec in FIELDS:
            widget = self.query_one(f"#fio-err-{spec.name}", Static)
            message = errors.get(spec.name, "")
            widget.update(plain(message, multiline=True))
            widget.display = bool(message)
            self.query_one(f"#fio-row-{spec.name}").set_class(bool(message), "-error")

    def error_text(self, field: str) -> str:
        """The message shown under `field` ("" when none)."""
        widget = self.query_one(f"#fio-err-{field}", Static)
        return str(widget.content) if widget.display else ""

    def focus_field(self, field: str) -> None:
        wid = f"#fio-{field}"
        widgets = self.query(wid)
        if widgets:
            widgets.first().focus()

    # ------------------------------------------------------------------ events
    def _edited(self, field: str) -> None:
        self.post_message(self.Edited(self, field))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self._edited(event.input.id.removeprefix("fio-"))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id:
            self._edited(event.select.id.removeprefix("fio-"))

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        self._edited("extra")
