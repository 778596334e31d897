"""What the serial and graphical console screens share: a status line, a notice with buttons
(Force / Reconnect / Leave), the domain lookup and the "why did it end" wording.

Subclasses compose the console widget (`compose_console`), open the console on a worker
thread (`open_console`, blocking) and close it (`close_console`, blocking, off the UI thread).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Static

from virttui.core.console.serial import ConsoleBusy
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobDone
from virttui.screens.common import console_registry
from virttui.screens.common.jobs import start_job
from virttui.widgets.common.plain import append_plain, plain

SEPARATOR = " · "
NAME_KEEP = 32  # cells of the domain name kept whole before optional status fields are dropped


def status_line(title: str, name: str, fields: list[str], width: int) -> Text:
    """` title  name · field · field`, fitted to `width` cells (0: no limit).

    The first two fields (the state and the most useful hint, e.g. the `stty` command) always
    stay whole; later fields are dropped from the end while the line (with up to NAME_KEEP cells
    of name) is too long, then the name is cut with an ellipsis. Fields never touch: each one is
    preceded by " · ".
    """
    head = Text(f" {title} ", style="reverse bold")
    head.append(" ")
    label = plain(name, "bold")
    keep = len(fields)

    def tail_len(count: int) -> int:
        return sum(cell_len(SEPARATOR + f) for f in fields[:count])

    if width > 0:
        while keep > 2 and head.cell_len + min(label.cell_len, NAME_KEEP) + tail_len(keep) > width:
            keep -= 1
        room = width - head.cell_len - tail_len(keep)
        if label.cell_len > room:
            label.truncate(max(1, room), overflow="ellipsis")
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append_text(head)
    text.append_text(label)
    for field in fields[:keep]:
        text.append(SEPARATOR)
        text.append_text(plain(field))
    return text


class ConsoleOpened(Message):
    def __init__(self, token: int, handle: Any) -> None:
        self.token, self.handle = token, handle
        super().__init__()


class ConsoleEnded(Message):
    def __init__(self, token: int, reason: str) -> None:
        self.token, self.reason = token, reason
        super().__init__()


class ConsoleProblem(Message):
    """kind: "busy" (offer Force), "failed" or "ended" (offer Reconnect)."""

    def __init__(self, token: int, kind: str, text: str) -> None:
        self.token, self.kind, self.text = token, kind, text
        super().__init__()


def describe_end(host: HostFacade, uuid: str, reason: str, handle: object = None) -> str:
    """Turn a stream's end into words the admin can act on (blocking: worker thread).
    `handle` is the console's session (a serial one knows the connection it was opened on)."""
    return host.explain_console_end(uuid, reason, handle).text


class ConsoleScreen(Screen[None]):
    """Base class: subclasses set KIND and TITLE and implement the console hooks."""

    KIND: ClassVar[str] = "serial"
    TITLE_WORD: ClassVar[str] = "Console"
    BINDINGS = [
        Binding("escape", "leave", "Leave", id="console.leave"),
    ]

    def __init__(self, host: HostFacade, uuid: str, name: str) -> None:
        super().__init__(classes="console-screen")
        self.host = host
        self.uuid = uuid
        self.domain_name = name
        self.state = "connecting"
        self.handle: Any = None
        self._token = 0
        self._hint = ""

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(id="console-status")
        with Horizontal(id="console-notice"):
            yield Static(id="console-notice-text")
            yield Button("Force", id="console-force", variant="warning")
            yield Button("Reconnect", id="console-reconnect", variant="primary")
            yield Button("Leave", id="console-leave")
        yield self.compose_console()

    def compose_console(self) -> Widget:
        raise NotImplementedError

    @property
    def console_widget(self) -> Widget:
        return self.query_one(".console-view", Widget)

    def on_mount(self) -> None:
        self._show_notice(None)
        self.connect()

    def on_unmount(self) -> None:
        self._token += 1
        handle, self.handle = self.handle, None
        if handle is not None:
            self._close_later(handle)

    def _close_later(self, handle: Any) -> None:
        """Close `handle` in a job (blocking libvirt calls); the app owns it, so it runs even
        when this screen is gone. A failure to close is not worth a notification."""
        start_job(self.app, lambda _ctx: self.close_console(handle), group="console-close")

    # ------------------------------------------------------------------ hooks
    def open_console(self, force: bool, token: int) -> Any:
        """Blocking: open and return a handle; raise ConsoleBusy / other errors."""
        raise NotImplementedError

    def close_console(self, handle: Any) -> None:
        """Blocking, off the UI thread."""

    def console_ready(self, handle: Any) -> None:
        """UI thread: the console is open."""

    def status_extra(self) -> str:
        return ""

    # ------------------------------------------------------------------ connecting
    def connect(self, force: bool = False) -> None:
        self._token += 1
        self.state = "forcing" if force else "connecting"
        self._show_notice(None)
        self.update_status()
        self._open_worker(force, self._token)

    def _open_worker(self, force: bool, token: int) -> None:
        """Open in a job owned by the app: its outcome always comes back, so a handle opened
        for a stale attempt (or after the screen closed) is closed, never leaked. A console in
        use comes back as a result ("busy"), anything else as the job's failure message."""

        def run(_ctx: JobContext) -> tuple[str, Any]:
            if token != self._token:
                # A newer attempt was started before this one ran (Textual calls on_mount of
                # each class in the MRO, so a subclass's super().on_mount() connects twice):
                # opening now would only make the newer one find the console busy.
                return ("stale", None)
            try:
                return ("opened", self.open_console(force, token))
            except ConsoleBusy as exc:
                return ("busy", str(exc))

        def done(message: JobDone) -> None:
            kind, value = message.result
            if kind == "opened":
                self.on_console_opened(ConsoleOpened(token, value))
            elif kind == "busy":
                self.on_console_problem(ConsoleProblem(token, "busy", value))

        start_job(
            self.app,
            run,
            on_done=done,
            on_failed=lambda m: self.on_console_problem(ConsoleProblem(token, "failed", m.message)),
            group="console-open",
        )

    def console_ended(self, token: int, reason: str) -> None:
        """Any thread (the libvirt event loop): the console stream ended by itself."""
        self.post_message(ConsoleEnded(token, reason))

    def on_console_ended(self, message: ConsoleEnded) -> None:
        if message.token == self._token:
            self.state = "ending"
            self.update_status()
            self._explain_end(message.token, message.reason, self.handle)

    def _explain_end(self, token: int, reason: str, handle: object) -> None:
        host, uuid = self.host, self.uuid
        start_job(
            self.app,
            lambda _ctx: describe_end(host, uuid, reason, handle),
            on_done=lambda m: self.on_console_problem(ConsoleProblem(token, "ended", m.result)),
            on_failed=lambda m: self.on_console_problem(
                ConsoleProblem(token, "ended", f"{reason} ({m.message})")
            ),
            group="console-end",
        )

    def on_console_opened(self, message: ConsoleOpened) -> None:
        if message.token != self._token or not self.is_mounted:
            self._close_later(message.handle)
            return
        self.handle = message.handle
        self.state = "connected"
        self._show_notice(None)
        self.update_status()
        self.console_ready(message.handle)
        self.console_widget.focus()

    def on_console_problem(self, message: ConsoleProblem) -> None:
        if message.token != self._token:
            return
        handle, self.handle = self.handle, None
        if handle is not None:
            self._close_later(handle)
        self.state = message.kind
        self.update_status()
        text = Text()
        if message.kind == "busy":
            text.append("The console is in use by another client ", style="bold")
            text.append("(virsh console, virt-manager or another virttui). ")
            text.append("Force takes it over and disconnects the other client.")
        elif message.kind == "ended":
            text.append("Console ended: ", style="bold")
            append_plain(text, message.text, multiline=True)
        else:
            text.append("Cannot open the console: ", style="bold")
            append_plain(text, message.text, multiline=True)
        self._show_notice(text, force=message.kind == "busy")

    # ------------------------------------------------------------------ notice and status
    def _show_notice(self, text: Text | None, *, force: bool = False) -> None:
        notice = self.query_one("#console-notice")
        notice.display = text is not None
        if text is None:
            return
        self.query_one("#console-notice-text", Static).update(text)
        self.query_one("#console-force").display = force
        self.query_one("#console-reconnect").display = not force
        self.query_one("#console-force" if force else "#console-reconnect", Button).focus()

    def update_status(self) -> None:
        width = self.size.width if self.is_mounted else 0
        extra = [part for part in self.status_extra().split(" · ") if part]
        line = status_line(self.TITLE_WORD, self.domain_name, [self.state, *extra], width)
        self.query_one("#console-status", Static).update(line)

    def on_resize(self, _event: events.Resize) -> None:
        if self.is_mounted and self.query("#console-status"):
            self.update_status()

    def notice_text(self) -> str:
        """The notice currently shown ('' when none), for tests and tools."""
        if not self.query_one("#console-notice").display:
            return ""
        return str(self.query_one("#console-notice-text", Static).render())

    # ------------------------------------------------------------------ actions
    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "console-force":
            self.connect(force=True)
        elif event.button.id == "console-reconnect":
            self.connect()
        elif event.button.id == "console-leave":
            self.action_leave()

    def keeps_app_keys(self) -> bool:
        """In a connected console, Ctrl+P (shell history) and Ctrl+Q belong to the guest: the app
        asks this before its own priority bindings (command palette, quit) act."""
        return self.state == "connected" and self.app.focused is self.console_widget

    def registry_name(self) -> str | None:
        """This screen's name in the console registry (None when not registered)."""
        for name in console_registry.registry(self.app):
            if self.app.is_screen_installed(name) and self.app.get_screen(name) is self:
                return name
        return None

    def action_leave(self) -> None:
        console_registry.leave(self.app, self)
