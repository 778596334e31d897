"""The image screen's forms: one generic modal form (inputs, choices, check boxes) that returns
the values typed, validated by a core function before it closes, and a typed confirmation.

Values are handed to the core as typed; the core (core/storage/qemu_img) refuses what cannot be
right with a sentence, which the form shows under its fields (the form stays open).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from virttui.widgets.common.plain import plain

R = TypeVar("R")
Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Field:
    """One field: `kind` "text" (an Input), "secret" (a password Input), "choice" (a Select of
    `choices`), "flag" (a Checkbox)."""

    name: str
    label: str
    kind: Literal["text", "secret", "choice", "flag"] = "text"
    default: Any = ""
    choices: Sequence[tuple[str, str]] = ()
    placeholder: str = ""


class ImageFormScreen(ModalScreen[R | None], Generic[R]):
    """A titled form; `build(values)` turns the typed values into the result or raises
    ValueError with a sentence (shown, the form stays open)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="image.form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="image.form.submit"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        build: Callable[[Values], R],
        *,
        hint: str = "",
        confirm_label: str = "OK",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.form_title = title
        self.form_fields = list(fields)
        self.build = build
        self.hint = hint
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        classes = "dialog form image-form" + (" danger" if self.danger else "")
        with Vertical(classes=classes):
            yield Static(plain(self.form_title, "bold"), classes="dialog-title")
            with VerticalScroll(classes="form-body image-form-body"):
                for f in self.form_fields:
                    yield Horizontal(
                        Static(Text(f.label), classes="field-label"),
                        self._widget(f),
                        classes="field image-field",
                    )
            if self.hint:
                yield Static(plain(self.hint, multiline=True), classes="dialog-hint")
            yield Static(id="image-form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if self.danger else "success",
                    compact=True,
                )

    def _widget(self, f: Field) -> Input | Select[str] | Checkbox:
        wid = f"field-{f.name}"
        if f.kind == "choice":
            return Select(
                [(label, value) for label, value in f.choices],
                value=f.default,
                allow_blank=False,
                id=wid,
                compact=True,
            )
        if f.kind == "flag":
            return Checkbox(value=bool(f.default), id=wid, compact=True)
        return Input(
            value=str(f.default),
            placeholder=f.placeholder,
            password=f.kind == "secret",
            id=wid,
            compact=True,
        )

    def on_mount(self) -> None:
        found = self.query("Input, Select, Checkbox")
        if found:
            found.first().focus()

    def values(self) -> Values:
        out: Values = {}
        for f in self.form_fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Input):
                out[f.name] = widget.value
            elif isinstance(widget, Checkbox):
                out[f.name] = widget.value
            elif isinstance(widget, Select):
                out[f.name] = widget.value
        return out

    def show_error(self, message: str) -> None:
        self.query_one("#image-form-error", Static).update(plain(message, multiline=True))

    def action_submit(self) -> None:
        try:
            result = self.build(self.values())
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()


def typed_confirmation(title: str, question: str, word: str, button: str) -> ImageFormScreen[bool]:
    """A confirmation that needs `word` typed exactly (shrink, repair -r all)."""

    def build(values: Values) -> bool:
        if values.get("typed", "") != word:
            raise ValueError(f"type {word!r} exactly to go on")
        return True

    return ImageFormScreen(
        title,
        [Field("typed", f"Type {word}", placeholder=word)],
        build,
        hint=question,
        confirm_label=button,
        danger=True,
    )
