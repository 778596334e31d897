"""Forms of the Edit menu: notes, memory/vCPUs, boot order, CPU mode. They validate and return a
plain value; `domain_edit_ui` applies it through the core.

A form may also be given a `checker` (see `FormScreen.checker`): before it closes, the value is
checked against the host in a worker (`core.edit_checks`). A refusal is shown next to the field
it is about, Save is refused, and the admin may press "Save anyway" (config only) or, for an
inactive network, "Start network".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static, TextArea

from virttui.core.common.safe_text import visible
from virttui.core.common.units import MAX_MEMORY_MIB, parse_count
from virttui.core.domain import edit_checks as E
from virttui.core.domain.model import DomainDefinition
from virttui.core.domain.tuning import BOOT_DEVICES, CPU_MODES
from virttui.widgets.common.plain import plain

R = TypeVar("R")
MAX_VCPUS = 16384  # libvirt's own ceiling is lower on every driver; beyond this is a typo

# checker(value, done, failed): check `value` against the host in a worker, then call
# done(findings) or failed(message) on the UI thread.
Checker = Callable[[Any, Callable[[list[E.Finding]], None], Callable[[str], None]], None]
# starter(network, done): start the network in a worker, then done(None) or done(error message).
NetworkStarter = Callable[[str, Callable[[str | None], None]], None]


class FieldError(ValueError):
    """A value the form cannot take, shown next to the input `widget_id`."""

    def __init__(self, widget_id: str, message: str) -> None:
        super().__init__(message)
        self.widget_id = widget_id


def field(label: str, widget: Widget) -> Horizontal:
    return Horizontal(Static(Text(label), classes="field-label"), widget, classes="field")


class FormScreen(ModalScreen[R | None], Generic[R]):
    """A titled form with Cancel / confirm buttons. Subclasses yield fields and build the result
    in `collect()`, raising ValueError with a sentence the form shows."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Apply")]
    confirm_label = "Apply"
    # edit_checks field -> the input its findings are shown under
    finding_fields: dict[str, str] = {}

    def __init__(self, title: Text) -> None:
        super().__init__()
        self.form_title = title
        self.checker: Checker | None = None
        self.network_starter: NetworkStarter | None = None
        self.host_note = ""  # what this host cannot check, said up front
        self.forced = False  # "Save anyway" was pressed: apply to the config only
        self.not_checked: list[str] = []  # what the host could not check (for the report)
        self._checking = False
        self._refused: object = None  # the value the host checks refused
        self._start_network = ""
        self._bottom: list[str] = []  # findings without a field of their own

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def collect(self) -> R:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(self.form_title, classes="dialog-title")
            with VerticalScroll(classes="form-body"):
                yield from self.fields()
            if self.host_note:
                yield Static(Text(self.host_note), id="form-host-note", classes="dialog-hint")
            yield Static(id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                if self.checker is not None:
                    yield Button("Start network", id="start-network", compact=True)
                    yield Button("Save anyway", id="force", variant="warning", compact=True)
                yield Button(self.confirm_label, id="confirm", variant="success", compact=True)

    def on_mount(self) -> None:
        for button_id in ("#start-network", "#force"):
            for button in self.query(button_id):
                button.display = False
        focusable = self.query("Input, TextArea, Select, RadioSet, SelectionList").first()
        focusable.focus()

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message, multiline=True))

    # ---- findings next to their fields
    def clear_findings(self) -> None:
        for static in self.query(".field-finding"):
            static.remove()
        for row in self.query(".field.-has-finding"):
            row.remove_class("-has-finding")
        self._bottom = []
        self.show_error("")

    def show_at(self, widget_id: str, message: str, severity: str = E.BLOCKING) -> None:
        """`message` right under the input `widget_id` (at the bottom when there is none)."""
        text = Text(("cannot check: " if severity == E.UNVERIFIABLE else "") + visible(message))
        found = self.query(f"#{widget_id}") if widget_id else None
        if not found:
            self._bottom.append(str(text))
            self.show_error("\n".join(self._bottom))
            return
        row = found.first()
        while row.parent is not None and not row.has_class("field"):
            row = row.parent  # type: ignore[assignment]  # a DOMNode parent of a Widget is a Widget here
        if not row.has_class("field") or row.parent is None:
            row = found.first()
        row.add_class("-has-finding")
        kind = "-blocking" if severity == E.BLOCKING else "-unverifiable"
        row.parent.mount(  # type: ignore[union-attr]  # checked not None just above
            Static(text, classes=f"field-finding {kind}"), after=row
        )

    def show_findings(self, findings: list[E.Finding]) -> None:
        self.clear_findings()
        for f in findings:
            self.show_at(self.finding_fields.get(f.field, ""), f.message, f.severity)

    def _set_buttons(self, refused: bool, start_network: str = "") -> None:
        self._start_network = start_network
        for button in self.query("#force"):
            button.display = refused
        for button in self.query("#start-network").results(Button):
            button.display = bool(start_network)
            if start_network:
                name = visible(start_network)
                name = name if len(name) <= 24 else name[:23] + "…"
                button.label = Text(f"Start {name}")  # literal: a network name is untrusted

    # ---- submit, check, force
    def action_submit(self) -> None:
        if self._checking:
            return
        try:
            value = self.collect()
        except FieldError as exc:
            self.clear_findings()
            self.show_at(exc.widget_id, str(exc))
            return
        except ValueError as exc:
            self.clear_findings()
            self.show_error(str(exc))
            return
        if self.checker is None:
            self.dismiss(value)
            return
        self._checking = True
        self.clear_findings()
        self.show_error("Checking against the host...")
        self.checker(
            value,
            lambda findings: self._checked(value, findings),
            lambda message: self._check_failed(value, message),
        )

    def _checked(self, value: R, findings: list[E.Finding]) -> None:
        self._checking = False
        if not self.is_attached:
            return
        refused = E.blocking(findings)
        if not refused:
            self.not_checked = E.not_checked(findings)
            self.dismiss(value)
            return
        self._refused = value
        self.show_findings(findings)
        starts = [f.start_network for f in refused if f.start_network]
        self._set_buttons(True, starts[0] if starts else "")

    def _check_failed(self, value: R, message: str) -> None:
        self._checking = False
        if not self.is_attached:
            return
        self._refused = value
        self.clear_findings()
        self.show_error(f"Could not check against the host: {message}")
        self._set_buttons(True)

    def action_force(self) -> None:
        """Save anyway: the value the checks refused, into the persistent config only."""
        try:
            value = self.collect()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        if value != self._refused:  # edited since the refusal: check the new value first
            self.action_submit()
            return
        self.forced = True
        self.dismiss(value)

    def action_start_network(self) -> None:
        name = self._start_network
        if not name or self.network_starter is None:
            return

        def done(error: str | None) -> None:
            if not self.is_attached:
                return
            if error is not None:
                self.show_error(f"Could not start network {name}: {error}")
                return
            self.clear_findings()
            self._set_buttons(False)
            self.show_error(f"Network {name} started. Press {self.confirm_label} to go on.")

        self.show_error(f"Starting network {name}...")
        self.network_starter(name, done)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        elif event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "force":
            self.action_force()
        elif event.button.id == "start-network":
            self.action_start_network()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def value_of(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def select_value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value


def positive_int(text: str, what: str, *, maximum: int = MAX_VCPUS, widget_id: str = "") -> int:
    """A whole number 1..maximum, else FieldError next to `widget_id`."""
    try:
        return parse_count(text, what, maximum=maximum)
    except ValueError as exc:
        raise FieldError(widget_id, str(exc)) from None


# ---------------------------------------------------------------------------------- notes
class NotesScreen(FormScreen[tuple[str, str]]):
    """Title (one line) and description (free text). Returns (title, description)."""

    confirm_label = "Save"

    def __init__(self, title: Text, current_title: str, current_description: str) -> None:
        super().__init__(title)
        self.current_title = current_title
        self.current_description = current_description

    def fields(self) -> ComposeResult:
        yield field("Title", Input(self.current_title, id="notes-title", compact=True))
        yield Static(Text("Description (ctrl+s saves):"))
        yield TextArea(self.current_description, id="notes-description", soft_wrap=True)

    def collect(self) -> tuple[str, str]:
        title = self.value_of("#notes-title")
        description = self.query_one("#notes-description", TextArea).text
        return title, description


# ---------------------------------------------------------------------------------- resources
@dataclass(frozen=True)
class Resources:
    memory_mib: int
    max_memory_mib: int
    vcpus: int
    max_vcpus: int


class ResourcesScreen(FormScreen[Resources]):
    finding_fields = {E.MEMORY: "res-memory", E.MAX_MEMORY: "res-max-memory"}

    def __init__(self, title: Text, definition: DomainDefinition, active: bool) -> None:
        super().__init__(title)
        self.definition = definition
        self.active = active

    def fields(self) -> ComposeResult:
        d = self.definition
        yield field(
            "Memory MiB", Input(str(d.memory_current_kib // 1024), id="res-memory", compact=True)
        )
        yield field(
            "Max memory MiB",
            Input(str(d.memory_max_kib // 1024), id="res-max-memory", compact=True),
        )
        yield field("vCPUs", Input(str(d.cpu.vcpus_current), id="res-vcpus", compact=True))
        yield field("Max vCPUs", Input(str(d.cpu.vcpus_max), id="res-max-vcpus", compact=True))
        hint = "Maximums change the persistent config only (next boot)."
        if self.active:
            hint += " Memory and vCPUs apply live where the guest allows."
        yield Static(Text(hint), classes="dialog-hint")

    def collect(self) -> Resources:
        mib = MAX_MEMORY_MIB
        result = Resources(
            positive_int(
                self.value_of("#res-memory"), "Memory", maximum=mib, widget_id="res-memory"
            ),
            positive_int(
                self.value_of("#res-max-memory"),
                "Max memory",
                maximum=mib,
                widget_id="res-max-memory",
            ),
            positive_int(self.value_of("#res-vcpus"), "vCPUs", widget_id="res-vcpus"),
            positive_int(self.value_of("#res-max-vcpus"), "Max vCPUs", widget_id="res-max-vcpus"),
        )
        if result.memory_mib > result.max_memory_mib:
            raise FieldError("res-memory", "Memory cannot exceed the maximum")
        if result.vcpus > result.max_vcpus:
            raise FieldError("res-vcpus", "vCPUs cannot exceed the maximum")
        return result


# ---------------------------------------------------------------------------------- boot, CPU
def parse_boot_order(text: str) -> tuple[str, ...]:
    devices = tuple(part.strip() for part in text.replace(" ", ",").split(",") if part.strip())
    bad = [d for d in devices if d not in BOOT_DEVICES]
    if bad or not devices:
        raise ValueError(f"Use {', '.join(BOOT_DEVICES)}; not: {', '.join(bad) or 'nothing'}")
    if len(set(devices)) != len(devices):
        raise ValueError("Name each device once")
    return devices


class BootOrderScreen(FormScreen[tuple[str, ...]]):
    def __init__(self, title: Text, current: tuple[str, ...], per_device: bool) -> None:
        super().__init__(title)
        self.current = current
        self.per_device = per_device

    def fields(self) -> ComposeResult:
        value = ",".join(d for d in self.current if d in BOOT_DEVICES) or "hd"
        yield field("Boot order", Input(value, id="boot-order", compact=True))
        hint = f"Comma-separated, first tried first: {', '.join(BOOT_DEVICES)}."
        if self.per_device:
            hint += f" Replaces the per-device order ({', '.join(self.current)})."
        yield Static(plain(hint), classes="dialog-hint")

    def collect(self) -> tuple[str, ...]:
        return parse_boot_order(self.value_of("#boot-order"))


class CpuModeScreen(FormScreen[tuple[str, str]]):
    """Returns (mode, model)."""

    finding_fields = {E.CPU_MODE: "cpu-mode", E.CPU_MODEL: "cpu-model"}

    def __init__(self, title: Text, mode: str, model: str) -> None:
        super().__init__(title)
        self.mode = mode if mode in CPU_MODES else "custom"
        self.model = model

    def fields(self) -> ComposeResult:
        yield field(
            "Mode",
            Select(
                [(m, m) for m in CPU_MODES],
                value=self.mode,
                allow_blank=False,
                id="cpu-mode",
                compact=True,
            ),
        )
        yield field(
            "Model",
            Input(self.model, placeholder="custom only, e.g. qemu64", id="cpu-model", compact=True),
        )
        yield Static(
            Text("host-passthrough needs KVM; TCG guests want custom (qemu64) or maximum."),
            classes="dialog-hint",
        )

    def collect(self) -> tuple[str, str]:
        mode = str(self.select_value("#cpu-mode"))
        model = self.value_of("#cpu-model")
        if mode == "custom" and not model:
            raise FieldError("cpu-model", "custom mode needs a CPU model")
        return mode, model if mode == "custom" else ""
