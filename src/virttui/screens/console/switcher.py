"""List the open consoles: Enter switches to one, x (or Delete) closes it, Esc cancels."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from virttui.screens.common import console_registry
from virttui.widgets.common.plain import plain


class ConsoleSwitcher(ModalScreen[tuple[str, str] | None]):
    """Dismisses with ("switch" | "close", screen name) or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("x,delete", "close_console", "Close console"),
    ]

    def compose(self) -> ComposeResult:
        options = [
            Option(plain(f"{e.title}  ({e.uri})"), id=e.screen_name)
            for e in console_registry.entries(self.app)
        ]
        with Vertical():
            yield Static(Text("Open consoles: Enter switches, x closes, Esc cancels", style="bold"))
            if options:
                yield OptionList(*options, id="console-list")
            else:
                yield Static(Text("No console is open."))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.dismiss(("switch", event.option.id))

    def action_close_console(self) -> None:
        lists = self.query(OptionList)
        if not lists:
            return
        option_list = lists.first()
        if option_list.highlighted is None:
            return
        option = option_list.get_option_at_index(option_list.highlighted)
        if option.id:
            self.dismiss(("close", option.id))


def open_console_switcher(app: App[Any]) -> None:
    """Show the switcher; act on the choice."""

    def chosen(choice: tuple[str, str] | None) -> None:
        if not choice:
            return
        verb, name = choice
        entry = console_registry.registry(app).get(name)
        if entry is None:
            return
        if verb == "close":
            console_registry.close(app, name)
        else:
            console_registry.show(app, entry)

    app.push_screen(ConsoleSwitcher(), chosen)
