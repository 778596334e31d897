"""The graphical console's menu: special key combinations and the refresh rate."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from virttui.core.console.keycodes import SPECIAL_COMBOS

RATES = (0.5, 1.0, 2.0, 5.0, 10.0)


class SpecialKeysMenu(ModalScreen[str | None]):
    """Dismisses with a combo id (see keymap.SPECIAL_COMBOS), "fps:<rate>", or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current_fps: float) -> None:
        super().__init__()
        self.current_fps = current_fps

    def compose(self) -> ComposeResult:
        options: list[Option] = [Option(Text(c.title), id=c.id) for c in SPECIAL_COMBOS]
        for rate in RATES:
            label = Text(f"Refresh rate: {rate:g} frames/s")
            if abs(rate - self.current_fps) < 1e-6:
                label.append("  (current)", style="dim")
            options.append(Option(label, id=f"fps:{rate:g}"))
        with Vertical():
            yield Static(Text("Send keys / settings (Esc closes)", style="bold"))
            yield OptionList(*options, id="special-keys")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
