"""The modal dialogs every screen shares.

- `ConfirmScreen`: the yes/no question for destructive actions; Cancel is the default button.
- `DialogScreen`: the one frame of a titled dialog (a scrolling body, a hint, an error line,
  Cancel / confirm buttons, escape) that forms and messages build on: the storage screen's
  forms (`screens/storage/dialogs.StorageForm`), the fio guard's refusal and typed-name
  dialogs and the fio preset (`screens/fio/form.py`).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Static
from textual.widgets.button import ButtonVariant

from virttui.widgets.common.plain import plain

R = TypeVar("R")

# What a dialog focuses first (the first of these in its body); with none, its Cancel button.
FIELDS = "Input, TextArea, Select, Checkbox"


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel"),
        Binding("y", "confirm", "Confirm", show=False),
    ]

    def __init__(self, question: Text | str, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self.question = question if isinstance(question, Text) else plain(question, multiline=True)
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)


class DialogScreen(ModalScreen[R | None], Generic[R]):
    """A titled dialog: `body()` in a scrolling box, `hint`, an error line, Cancel / confirm.

    The confirm button and Enter in an input submit: `collect()` gives the value the dialog
    returns, or raises ValueError with a sentence shown in the error line (the dialog stays).
    Escape and Cancel call `action_cancel` (returns None). `destructive`: a red frame, Cancel
    the primary button. With no `confirm_label` the dialog only tells: its one button
    (`cancel_label`, id `cancel_id`) closes it, and there is no error line.

    The title and the body are Rich `Text` the subclass builds with `plain` / `append_plain`
    (untrusted names, paths and messages drawn literally); `hint` and error sentences are
    plain strings, drawn the same way. The CSS: `.dialog`, `.dialog-title`, `.dialog-hint`,
    `.dialog-error`, `.dialog-buttons` (styles/actions.tcss); `frame_classes` add the width,
    `body_classes` the body's height.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    frame_classes = ""
    body_classes = "form-body"
    confirm_label = "Apply"
    cancel_label = "Cancel"
    cancel_id = "cancel"
    destructive = False
    cancel_variant: ButtonVariant | None = None  # None: "primary" when destructive
    hint = ""

    def __init__(self, title: Text) -> None:
        super().__init__()
        self.form_title = title

    def body(self) -> ComposeResult:
        raise NotImplementedError

    def collect(self) -> R:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        classes = ["dialog", self.frame_classes, "danger" if self.destructive else ""]
        with Vertical(classes=" ".join(c for c in classes if c)):
            yield Static(self.form_title, classes="dialog-title")
            with VerticalScroll(classes=self.body_classes):
                yield from self.body()
            if self.hint:
                yield Static(plain(self.hint, multiline=True), classes="dialog-hint")
            if self.confirm_label:
                yield Static(id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.cancel_label,
                    id=self.cancel_id,
                    compact=True,
                    variant=self.cancel_variant or ("primary" if self.destructive else "default"),
                )
                if self.confirm_label:
                    yield Button(
                        self.confirm_label,
                        id="confirm",
                        compact=True,
                        variant="error" if self.destructive else "success",
                    )

    def on_mount(self) -> None:
        self.initial_focus().focus()

    def initial_focus(self) -> Widget:
        """The first field of the body; with none, the Cancel (Close) button."""
        fields = self.query(FIELDS)
        return fields.first() if fields else self.query_one(f"#{self.cancel_id}", Button)

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message, multiline=True))

    def action_submit(self) -> None:
        if not self.confirm_label:
            return
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
        else:
            self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()
