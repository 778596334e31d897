"""Dialogs of the domain actions: a one-line prompt, a device picker, the undefine choices and the
clone progress. They only collect answers; `domain_actions_ui` runs the libvirt calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from virttui.core.domain.undefine import StorageChoice
from virttui.screens.common.ui_jobs import show_fraction
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.common.ticks import TickBox, TickList


def _buttons(confirm: str, *, destructive: bool = False) -> Horizontal:
    return Horizontal(
        Button("Cancel", id="cancel", variant="primary" if destructive else "default"),
        Button(confirm, id="confirm", variant="error" if destructive else "success"),
        classes="dialog-buttons",
    )


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line (a path, a name). Enter or the confirm button answers; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: Text, label: str, value: str = "", *, confirm_label: str = "OK", hint: str = ""
    ) -> None:
        super().__init__()
        self.prompt_title = title
        self.label = label
        self.value = value
        self.confirm_label = confirm_label
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.prompt_title, classes="dialog-title")
            yield Static(plain(self.label))
            yield Input(self.value, id="prompt-input")
            yield Static(plain(self.hint, multiline=True), classes="dialog-hint")
            yield Static(id="prompt-error", classes="dialog-error")
            yield _buttons(self.confirm_label)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _answer(self) -> None:
        value = self.query_one(Input).value.strip()
        if not value:
            self.query_one("#prompt-error", Static).update(Text("Please enter a value."))
            return
        self.dismiss(value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._answer()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._answer()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen[str | None]):
    """Choose one of several items (a disk, a NIC, a port); dismisses with the item's id."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: Text, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.pick_title = title
        self.items = items

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.pick_title, classes="dialog-title")
            yield OptionList(
                *(Option(plain(label), id=item_id) for item_id, label in self.items),
                id="pick-options",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if self.items:
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _device_note(device: str) -> str:
    return "" if device == "disk" else f"  ({device})"


def storage_row(choice: StorageChoice) -> Selection[str]:
    """One checklist row: a path another domain or image uses reads "used by NAME" and is
    disabled (never ticked)."""
    text = plain(f"{choice.target:<5} {choice.path}{_device_note(choice.device)}")
    if not choice.tickable:
        append_plain(text, f"  {choice.used_text}", "bold")
    ticked = choice.default_ticked and choice.tickable
    return Selection(text, choice.path, ticked, disabled=not choice.tickable)


@dataclass(frozen=True)
class UndefineFacts:
    """What the undefine dialog offers, read from libvirt before it opens."""

    name: str
    active: bool
    has_managed_save: bool
    snapshot_count: int
    has_nvram: bool
    storage: tuple[StorageChoice, ...]


@dataclass(frozen=True)
class UndefineChoice:
    managed_save: bool
    snapshots_metadata: bool
    nvram: bool
    delete_volumes: tuple[str, ...]


class UndefineScreen(ModalScreen[UndefineChoice | None]):
    """Undefine with virt-manager's choices; the default button is Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, facts: UndefineFacts) -> None:
        super().__init__()
        self.facts = facts

    def compose(self) -> ComposeResult:
        f = self.facts
        title = Text()
        title.append("Undefine ", style="bold")
        append_plain(title, f.name, "bold")
        title.append("?")
        with Vertical(classes="dialog danger", id="undefine-dialog"):
            yield Static(title, classes="dialog-title")
            note = "The definition is removed"
            note += " (it keeps running as a transient domain)." if f.active else "."
            yield Static(plain(note, multiline=True))
            yield TickBox(
                "Also delete the managed save image",
                f.has_managed_save,
                id="undefine-managed-save",
                disabled=not f.has_managed_save,
                compact=True,
            )
            yield TickBox(
                f"Also delete snapshot metadata ({f.snapshot_count})",
                f.snapshot_count > 0,
                id="undefine-snapshots",
                disabled=f.snapshot_count == 0,
                compact=True,
            )
            yield TickBox(
                "Also delete the NVRAM file",
                f.has_nvram,
                id="undefine-nvram",
                disabled=not f.has_nvram,
                compact=True,
            )
            if f.storage:
                label = "Delete these storage volumes:"
                if f.active:
                    label = "Force the domain off first to delete its storage."
                yield Static(plain(label))
                yield TickList[str](
                    *(storage_row(c) for c in f.storage),
                    id="undefine-volumes",
                    disabled=f.active,
                    compact=True,
                )
            else:
                yield Static(Text("No local storage to delete."))
            yield _buttons("Undefine", destructive=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def choice(self) -> UndefineChoice:
        volumes: tuple[str, ...] = ()
        if self.facts.storage and not self.facts.active:
            tickable = {c.path for c in self.facts.storage if c.tickable}
            ticked = self.query_one("#undefine-volumes", TickList).selected
            volumes = tuple(p for p in ticked if p in tickable)
        return UndefineChoice(
            managed_save=self.query_one("#undefine-managed-save", TickBox).value,
            snapshots_metadata=self.query_one("#undefine-snapshots", TickBox).value,
            nvram=self.query_one("#undefine-nvram", TickBox).value,
            delete_volumes=volumes,
        )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.choice() if event.button.id == "confirm" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloneProgressScreen(ModalScreen[None]):
    """Shows the clone's copy progress; `domain_actions_ui` feeds it and closes it when done.
    Cancel (button or Escape) calls `on_cancel` once: the job removes what it made."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, source: str, new_name: str) -> None:
        super().__init__()
        self.source = source
        self.new_name = new_name
        self.updates = 0
        self.last: tuple[float | None, str] = (None, "")
        self.on_cancel: Callable[[], None] | None = None
        self.cancelled = False

    def compose(self) -> ComposeResult:
        title = Text()
        title.append("Cloning ", style="bold")
        append_plain(title, self.source)
        title.append(" to ", style="bold")
        append_plain(title, self.new_name)
        with Vertical(classes="dialog", id="clone-dialog"):
            yield Static(title, classes="dialog-title")
            yield ProgressBar(total=None, show_eta=False, id="clone-progress")
            yield Static(Text("reading the disks..."), id="clone-status")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="clone-cancel")

    @on(Button.Pressed, "#clone-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self.query_one("#clone-status", Static).update(
            Text("cancelling: the copies made so far are removed...")
        )
        self.query_one("#clone-cancel", Button).disabled = True
        if self.on_cancel is not None:
            self.on_cancel()

    def on_screen_resume(self) -> None:
        if self.has_class("-finished"):  # finished while another dialog covered it
            self.dismiss()

    def update_progress(self, fraction: float | None, text: str) -> None:
        """A clone job's progress (`core/domain/clone.clone_progress_text`)."""
        self.updates += 1
        self.last = (fraction, text)
        show_fraction(self.query_one(ProgressBar), fraction, steps=1000)
        self.query_one("#clone-status", Static).update(plain(text, multiline=True))
