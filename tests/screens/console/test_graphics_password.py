"""The display password dialog: asked from the open job's thread, answered in the UI, handed
back to the job (and never kept by the screen)."""

from __future__ import annotations

from typing import Any

from textual.app import App

from tests.pilot_utils import wait_until
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.screens.console.graphics import DisplayPasswordScreen, GraphicsConsoleScreen


class _Handle:
    def send_keys(self, codes: list[int]) -> None:
        pass

    def close(self) -> None:
        pass


class AskingGraphics(GraphicsConsoleScreen):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.answers: list[str | None] = []

    def open_console(self, force: bool, token: int) -> Any:
        self.answers.append(self._ask_password())
        return _Handle()

    def console_ready(self, handle: Any) -> None:
        pass


class PwApp(App[None]):
    def on_mount(self) -> None:
        host = HostFacade(HostConnection("test:///default"))  # never started
        self.screen_under_test = AskingGraphics(host, "00000000-0000-0000-0000-000000000001", "vm")
        self.push_screen(self.screen_under_test)


async def test_password_dialog_answer_and_cancel() -> None:
    app = PwApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen_under_test
        await wait_until(pilot, lambda: isinstance(app.screen, DisplayPasswordScreen), 10)
        await pilot.press(*"pw-1", "enter")
        await wait_until(pilot, lambda: screen.state == "connected", 10)
        assert screen.answers == ["pw-1"]
        kept = {k: v for k, v in vars(screen).items() if k != "answers"}
        assert "pw-1" not in repr(kept)  # the screen keeps no copy

        screen.connect()  # Reconnect: asked again; Escape cancels
        await wait_until(pilot, lambda: isinstance(app.screen, DisplayPasswordScreen), 10)
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(screen.answers) == 2, 10)
        assert screen.answers[1] is None
