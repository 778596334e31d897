"""The "add a connection" dialog: a libvirt URI (with examples), a label, connect/autoconnect."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from virttui.core.host.host_config import URI_EXAMPLES, normalize_uri, validate_uri
from virttui.core.settings.config import HostEntry
from virttui.widgets.common.plain import plain


@dataclass(frozen=True, slots=True)
class NewHost:
    entry: HostEntry
    connect_now: bool


class AddHostScreen(ModalScreen[NewHost | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, existing: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.existing = existing

    def compose(self) -> ComposeResult:
        # Compact fields: the whole dialog, buttons included, fits an 80x24 terminal.
        with Vertical(id="add-host-dialog"):
            yield Static(Text("Add a connection", style="bold"), id="add-host-title")
            yield Label("libvirt URI")
            yield Input(placeholder="qemu:///system", id="add-host-uri", compact=True)
            yield Label("Examples (Enter copies one into the field)")
            yield OptionList(
                *(
                    Option(Text.assemble((uri, "bold"), "  ", (why, "dim")), id=uri)
                    for uri, why in URI_EXAMPLES
                ),
                id="add-host-examples",
            )
            yield Label("Label (optional)")
            yield Input(placeholder="e.g. rack 3 hypervisor", id="add-host-label", compact=True)
            with Horizontal(id="add-host-flags"):
                yield Checkbox("Connect now", True, id="add-host-connect", compact=True)
                yield Checkbox("Autoconnect at start", False, id="add-host-auto", compact=True)
            yield Static(id="add-host-error")
            with Horizontal(id="add-host-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Add", id="add", variant="success")

    def on_mount(self) -> None:
        self.query_one("#add-host-uri", Input).focus()

    @on(OptionList.OptionSelected, "#add-host-examples")
    def _example(self, event: OptionList.OptionSelected) -> None:
        box = self.query_one("#add-host-uri", Input)
        box.value = event.option.id or ""
        box.focus()

    @on(Input.Changed, "#add-host-uri")
    def _changed(self, _event: Input.Changed) -> None:
        self._show_error(None)

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self._add()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self._add()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def problem(self) -> str | None:
        uri = normalize_uri(self.query_one("#add-host-uri", Input).value)
        error = validate_uri(uri)
        if error is None and uri in self.existing:
            error = f"{uri} is already in the list"
        return error

    def _show_error(self, message: str | None) -> None:
        self.query_one("#add-host-error", Static).update(
            plain(message or "", style="bold", multiline=True)
        )

    def _add(self) -> None:
        error = self.problem()
        if error is not None:
            self._show_error(error)
            self.query_one("#add-host-uri", Input).focus()
            return
        uri = normalize_uri(self.query_one("#add-host-uri", Input).value)
        label = self.query_one("#add-host-label", Input).value.strip()
        auto = self.query_one("#add-host-auto", Checkbox).value
        now = self.query_one("#add-host-connect", Checkbox).value
        self.dismiss(NewHost(HostEntry(uri, label, auto), now))
