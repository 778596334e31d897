"""A menu of the actions that apply to one domain: arrows + Enter, or the entry's own key."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from virttui.widgets.common.plain import append_plain, plain


class ActionMenuScreen(ModalScreen[str | None]):
    """Dismisses with the chosen entry id, or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, title: Text, entries: list[tuple[str, str, str, str]]) -> None:
        """`entries`: (id, key, label, help) in menu order."""
        super().__init__()
        self.menu_title = title
        self.entries = entries
        self.keys = {key: entry_id for entry_id, key, _label, _help in entries}

    def compose(self) -> ComposeResult:
        with Vertical(id="menu-dialog"):
            yield Static(self.menu_title, id="menu-title")
            options = []
            for entry_id, key, label, _help in self.entries:
                line = Text()
                line.append(f" {key} ", style="bold reverse")
                line.append(" ")
                append_plain(line, label)
                options.append(Option(line, id=entry_id))
            yield OptionList(*options, id="menu-options")
            yield Static(id="menu-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if self.entries:
            options.highlighted = 0

    @on(OptionList.OptionHighlighted)
    def _show_help(self, event: OptionList.OptionHighlighted) -> None:
        helps = {entry_id: text for entry_id, _k, _l, text in self.entries}
        self.query_one("#menu-help", Static).update(plain(helps.get(event.option.id or "", "")))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event: events.Key) -> None:
        entry_id = self.keys.get(event.character or "")
        if entry_id is not None:
            event.stop()
            event.prevent_default()
            self.dismiss(entry_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
