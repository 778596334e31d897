"""Forms of the Edit menu: notes, memory/vCPUs, boot order, CPU mode. They validate and return a
plain value; `domain_edit_ui` applies it through the core."""

from __future__ import annotations

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

from virttui.core.domain_model import DomainDefinition
from virttui.core.domain_tuning import BOOT_DEVICES, CPU_MODES
from virttui.widgets.plain import plain

R = TypeVar("R")


def field(label: str, widget: Widget) -> Horizontal:
    return Horizontal(Static(Text(label), classes="field-label"), widget, classes="field")


class FormScreen(ModalScreen[R | None], Generic[R]):
    """A titled form with Cancel / confirm buttons. Subclasses yield fields and build the result
    in `collect()`, raising ValueError with a sentence the form shows."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Apply")]
    confirm_label = "Apply"

    def __init__(self, title: Text) -> None:
        super().__init__()
        self.form_title = title

    def fields(self) -> ComposeResult:
        raise NotImplementedError

    def collect(self) -> R:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(self.form_title, classes="dialog-title")
            with VerticalScroll(classes="form-body"):
                yield from self.fields()
            yield Static(id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self.confirm_label, id="confirm", variant="success", compact=True)

    def on_mount(self) -> None:
        focusable = self.query("Input, TextArea, Select, RadioSet, SelectionList").first()
        focusable.focus()

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message, multiline=True))

    def action_submit(self) -> None:
        try:
            value = self.collect()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        elif event.button.id == "cancel":
            self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def value_of(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def select_value(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value


def positive_int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what}: a whole number, please") from None
    if value <= 0:
        raise ValueError(f"{what} must be above zero")
    return value


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
        result = Resources(
            positive_int(self.value_of("#res-memory"), "Memory"),
            positive_int(self.value_of("#res-max-memory"), "Max memory"),
            positive_int(self.value_of("#res-vcpus"), "vCPUs"),
            positive_int(self.value_of("#res-max-vcpus"), "Max vCPUs"),
        )
        if result.memory_mib > result.max_memory_mib:
            raise ValueError("Memory cannot exceed the maximum")
        if result.vcpus > result.max_vcpus:
            raise ValueError("vCPUs cannot exceed the maximum")
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
            raise ValueError("custom mode needs a CPU model")
        return mode, model if mode == "custom" else ""
