"""Presets in the wizard: the save/load functions (createrun's `core/create/presets.py`, looked
up when used; tests pass their own with `presets=`) and the path prompt."""

from __future__ import annotations

from typing import Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from virttui.core.create.presets import load_preset, save_preset
from virttui.core.create.spec import CreateSpec
from virttui.widgets.common.plain import plain


class PresetIO(Protocol):
    def save(self, spec: CreateSpec, path: str, overwrite: bool) -> None: ...

    def load(self, path: str) -> CreateSpec: ...


class _ModulePresets:
    """The preset functions of `core/create/presets.py`."""

    def save(self, spec: CreateSpec, path: str, overwrite: bool) -> None:
        save_preset(spec, path, overwrite=overwrite)

    def load(self, path: str) -> CreateSpec:
        return load_preset(path)


class PathPrompt(ModalScreen[str | None]):
    """Ask for a preset file path."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="create.path_cancel")]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog cw-prompt"):
            yield Static(plain(self.title_text), classes="dialog-title")
            yield Input(self.value, id="cw-prompt-path", placeholder="/path/preset.toml")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
