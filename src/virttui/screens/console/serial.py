"""The serial console screen: a TerminalView attached to `virDomainOpenConsole`.

Keys: everything goes to the guest; Ctrl+] leaves (the console stays attached in the
background, see console_registry); Shift+PgUp/PgDn scroll back. The guest does not learn the
widget's size over a serial line: the status line shows the `stty cols N rows M` to run.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widget import Widget

from virttui.core.console.serial import SerialSession
from virttui.core.console.vt_screen import DEFAULT_SCROLLBACK
from virttui.core.facade.host import HostFacade
from virttui.screens.common import console_registry
from virttui.screens.common.console_entries import ConsoleEntry
from virttui.screens.common.services import services
from virttui.screens.console.base import ConsoleScreen
from virttui.widgets.console.terminal_view import TerminalView, stty_command


class SerialConsoleScreen(ConsoleScreen):
    KIND = "serial"
    TITLE_WORD = "Serial console"

    def __init__(
        self, host: HostFacade, uuid: str, name: str, *, scrollback: int | None = None
    ) -> None:
        super().__init__(host, uuid, name)
        self.terminal = TerminalView(
            send=self._send,
            classes="console-view",
            scrollback=DEFAULT_SCROLLBACK if scrollback is None else scrollback,
        )

    def compose_console(self) -> Widget:
        return self.terminal

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1.0, self._check_connection, name="console-connection-check")

    def _check_connection(self) -> None:
        """Notice that the host's connection is no longer the one the console was opened on
        (the host lost it and maybe reconnected already): when the socket is closed under it,
        libvirt 9.0 never reports the stream's end (seen in the daemon-lost test: this check,
        about a second after the close, ended the console in every instrumented run). No RPC:
        attribute reads only."""
        session = self.handle
        if self.state != "connected" or not isinstance(session, SerialSession):
            return
        if self.host.serial_connection_replaced(session):
            self.console_ended(self._token, "the connection the console ran on was closed")

    # ------------------------------------------------------------------ hooks
    def open_console(self, force: bool, token: int) -> SerialSession:
        return self.host.open_serial(
            self.uuid,
            self.terminal.feed_inline,
            lambda reason: self.console_ended(token, reason),
            force=force,
        )

    def close_console(self, handle: Any) -> None:
        handle.close()

    def console_ready(self, handle: Any) -> None:
        handle.write(b"\r")  # ask the shell for a fresh prompt: the old one was printed unseen

    def status_extra(self) -> str:
        vt = self.terminal.vt
        # Most useful first: when the line is too narrow the console screen drops fields from the
        # end, never the stty command (at 80 columns it is the one that must stay whole).
        parts = [stty_command(vt.columns, vt.lines)]
        if self.terminal.history_offset:
            parts.append(f"scrolled back {self.terminal.history_offset} lines")
        parts += ["Ctrl+] leaves", "Shift+PgUp/PgDn scrollback"]
        return " · ".join(parts)

    # ------------------------------------------------------------------ events
    def _send(self, data: bytes) -> None:
        session = self.handle
        if isinstance(session, SerialSession):
            session.write(data)

    def on_terminal_view_leave(self, event: TerminalView.Leave) -> None:
        event.stop()
        self.action_leave()

    def on_terminal_view_resized(self, event: TerminalView.Resized) -> None:
        self.update_status()

    def on_terminal_view_scrolled(self, event: TerminalView.Scrolled) -> None:
        self.update_status()


def open_serial_console(app: App[Any], uri: str, uuid: str) -> SerialConsoleScreen:
    """Show the serial console of a domain: its existing screen, or a new one."""
    host = services(app).facade(uri)
    if host is None:
        raise LookupError(f"{uri}: no such connection")
    entry = ConsoleEntry("serial", uri, uuid, _domain_name(app, uri, uuid))
    screen = console_registry.show(app, entry, SerialConsoleScreen, host, uuid, entry.name)
    assert isinstance(screen, SerialConsoleScreen)
    return screen


def _domain_name(app: App[Any], uri: str, uuid: str) -> str:
    row = services(app).store.row(uri, uuid)
    return uuid if row is None else row.name
