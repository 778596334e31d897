"""Snapshots of both console views, fed recorded data (a serial session, a VGA screenshot)."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot

from tests import paths
from tests.pilot_utils import wait_until
from virttui.core.console.screenshot import decode_frame
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.resources import stylesheets
from virttui.screens.console.graphics import GraphicsConsoleScreen
from virttui.screens.console.serial import SerialConsoleScreen

DATA = paths.DATA / "console"
SIZE = (100, 30)


class _Recorded:
    """A console handle that was opened already: keys go nowhere, close does nothing."""

    is_open = True

    def write(self, data: bytes) -> None:
        pass

    def send_keys(self, codes: list[int]) -> None:
        pass

    def close(self) -> None:
        pass


class RecordedSerial(SerialConsoleScreen):
    def open_console(self, force: bool, token: int) -> Any:
        return _Recorded()

    def console_ready(self, handle: Any) -> None:
        self.terminal.feed((DATA / "serial-session.txt").read_bytes())


class RecordedGraphics(GraphicsConsoleScreen):
    def open_console(self, force: bool, token: int) -> Any:
        return _Recorded()

    def console_ready(self, handle: Any) -> None:
        self.view.set_frame(decode_frame((DATA / "guest-tty1.png").read_bytes(), "image/png"))
        self.update_status()


class ConsoleApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, screen_type: type[SerialConsoleScreen | GraphicsConsoleScreen]) -> None:
        super().__init__()
        self.screen_type = screen_type

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        host = HostFacade(HostConnection("test:///default"))  # never started: recorded handle
        self.push_screen(
            self.screen_type(host, "00000000-0000-0000-0000-000000000001", "web-01 [b]x[/b]")
        )


async def _settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, SerialConsoleScreen | GraphicsConsoleScreen)
    )
    screen = app.screen
    if isinstance(screen, SerialConsoleScreen):
        # The feeder thread takes the recording in slices and the view draws at its own rate:
        # wait until the emulator has every byte and the view has drawn the last of them
        # (a fixed pause was short on a loaded machine).
        view = screen.terminal
        await wait_until(
            pilot,
            lambda: (
                view.bytes_fed > 0 and view.bytes_consumed == view.bytes_fed and not view._changed
            ),  # noqa: SLF001 - drawn since the last byte
            timeout=20,
        )
    for _ in range(20):
        await pilot.pause(0.05)
    await pilot.wait_for_scheduled_animations()


def test_serial_console_snapshot(snap_compare: Any) -> None:
    assert snap_compare(ConsoleApp(RecordedSerial), terminal_size=SIZE, run_before=_settle)


def test_graphical_console_snapshot(snap_compare: Any) -> None:
    assert snap_compare(ConsoleApp(RecordedGraphics), terminal_size=SIZE, run_before=_settle)
