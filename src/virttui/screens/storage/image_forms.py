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
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Select, Static

from virttui.screens.common.confirm import DialogScreen
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


class ImageFormScreen(DialogScreen[R], Generic[R]):
    """A titled form (`screens/common/confirm.DialogScreen`) of `fields`; `build(values)`
    turns the typed values into the result or raises ValueError with a sentence (shown, the
    form stays open). `danger`: a red frame and confirm button (Cancel stays plain)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="image.form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="image.form.submit"),
    ]
    frame_classes = "form image-form"
    body_classes = "form-body image-form-body"

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
        super().__init__(plain(title, "bold"))
        self.form_fields = list(fields)
        self.build = build
        self.hint = hint
        self.confirm_label = confirm_label
        self.destructive = danger
        self.cancel_variant = "default"

    def body(self) -> ComposeResult:
        for f in self.form_fields:
            yield Horizontal(
                Static(Text(f.label), classes="field-label"),
                self._widget(f),
                classes="field image-field",
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

    def collect(self) -> R:
        return self.build(self.values())


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
