"""when_mounted / after_mount: a job result that arrives while the screen is still mounting is
shown once it is mounted (not dropped), and a result for a screen that has gone is dropped."""

from __future__ import annotations

import asyncio
import threading

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.pilot_utils import wait_until
from virttui.widgets.common.mounting import after_mount, when_mounted


class SlowMount(Screen[None]):
    async def on_mount(self) -> None:
        # A Mount handler further up the hierarchy that yields: the job below ends meanwhile.
        await asyncio.sleep(0.3)


class Dialog(SlowMount):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bool] = []  # is_mounted at each call

    def compose(self) -> ComposeResult:
        yield Static("…", id="out")

    def on_mount(self) -> None:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        threading.Thread(target=lambda: loop.call_soon_threadsafe(self.show, "read")).start()

    @after_mount
    def show(self, text: str) -> None:
        self.calls.append(self.is_mounted)
        self.query_one("#out", Static).update(text)


class Dropping(Dialog):
    def show(self, text: str) -> None:  # type: ignore[override]
        # What the dialogs did before: a result that comes while mounting is lost.
        if self.is_mounted:
            self.calls.append(True)


async def test_a_result_during_mount_is_shown_once_mounted() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        dialog = Dialog()
        app.push_screen(dialog)
        await wait_until(pilot, lambda: bool(dialog.calls), timeout=5)
        assert dialog.calls == [True]
        assert str(dialog.query_one("#out", Static).render()) == "read"


async def test_the_race_is_real_without_it() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        dialog = Dropping()
        app.push_screen(dialog)
        await wait_until(pilot, lambda: dialog.is_mounted, timeout=5)
        await pilot.pause(0.2)
        assert dialog.calls == []  # the result came while mounting, and was dropped


async def test_a_node_that_left_gets_nothing() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        widget = Static("x")
        await app.screen.mount(widget)
        await widget.remove()
        called: list[int] = []
        widget._is_mounted = False  # noqa: SLF001 - as a node that never finished mounting
        when_mounted(widget, lambda: called.append(1))
        await pilot.pause(0.1)
        assert called == []
