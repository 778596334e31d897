"""Show a recorded guest screenshot (tests/data/console/guest-tty1.png, or the PNG given) in
the graphical console's view, drawn the way this terminal supports: the terminal is asked at
start exactly as `virttui` does. For trying a terminal by hand and for the README image
(scripts/terminal_shot.py runs it in xterm, kitty, mlterm, konsole or tmux under Xvfb). Ctrl+^
toggles 1:1, q quits. --toast: a notification over the image for 1.5 s; --leave=S: after S
seconds another screen is pushed over the console (a Kitty image must go), --graphics=MODE: the
override, as virttui's option. --domain=UUID [--connect=URI]: the real app instead (built and
asked exactly as `virttui -c URI` does, default qemu:///system), which opens that domain's
graphical console once the host is connected; --toast and --leave (Ctrl+] then) work there too."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from virttui.core.console.graphics_mode import (
    PENDING,
    GraphicsChoice,
    cell_pixel_size,
    choose,
    detect_terminal,
)
from virttui.core.console.screenshot import decode_frame
from virttui.widgets.console.framebuffer_view import FramebufferView

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PNG = ROOT / "tests" / "data" / "console" / "guest-tty1.png"


class Left(Screen[None]):
    """What --leave pushes over the console: text only, no image may stay above it."""

    def compose(self) -> ComposeResult:
        yield Static("left the console: no image should be visible here (q quits)")

    def on_key(self, event: object) -> None:
        if getattr(event, "key", "") == "q":
            self.app.exit()


class GraphicsDemo(App[None]):
    CSS = "Static { height: 1; background: $primary; }"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, png: Path, choice: GraphicsChoice, cell: tuple[int, int] | None) -> None:
        super().__init__()
        self.png = png
        self.view = FramebufferView(graphics=choice, cell_pixels=cell, key_hook=self._key)

    def compose(self) -> ComposeResult:
        yield Static("", id="status")
        yield self.view

    def on_mount(self) -> None:
        self.view.set_frame(decode_frame(self.png.read_bytes(), "image/png"))
        self.view.focus()
        self._status()
        if "--toast" in sys.argv:  # a notification over the image, gone after 1.5 s
            self.notify("a notification over the image " * 2, timeout=1.5)
        leave = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--leave=")), None)
        if leave is not None:
            self.set_timer(float(leave), lambda: self.push_screen(Left()))

    def _key(self, event: object) -> bool:
        if getattr(event, "key", "") == "q":
            self.exit()
        return True

    def _status(self) -> None:
        cell = self.view.cell_pixels
        self.query_one("#status", Static).update(
            f"virttui graphics demo · {self.view.describe()} · cell {cell[0]}x{cell[1]} px · q quits"
        )

    def on_framebuffer_view_mode_changed(self) -> None:
        self._status()


def real_console(argv: list[str]) -> None:
    """The real app on a real domain: the console opened as from the domain list."""
    from virttui import cli
    from virttui.screens.console.graphics import open_graphical_console

    uuid = next(a.split("=", 1)[1] for a in argv if a.startswith("--domain="))
    uri = next((a.split("=", 1)[1] for a in argv if a.startswith("--connect=")), "qemu:///system")
    forced = [a for a in argv if a.startswith("--graphics=")]
    app = cli.build_app(["-c", uri, *forced])
    cli._detect_graphics(app)

    def opened() -> bool:
        host = app.hosts.get(uri)
        if host is None or not host.connected:
            return False
        open_graphical_console(app, uri, uuid)
        if "--toast" in argv:
            app.notify("a notification over the image " * 2, timeout=4)
        leave = next((a.split("=", 1)[1] for a in argv if a.startswith("--leave=")), None)
        if leave is not None:
            app.set_timer(float(leave), lambda: app.screen.post_message(FramebufferView.Leave()))
        return True

    def poll() -> None:
        if not opened():
            app.set_timer(0.3, poll)

    app.call_later(lambda: app.set_timer(0.3, poll))
    app.run()


def main(argv: list[str]) -> None:
    if any(a.startswith("--domain=") for a in argv):
        real_console(argv)
        return
    png = Path(argv[0]) if argv and not argv[0].startswith("--") else DEFAULT_PNG
    forced = next((a.split("=", 1)[1] for a in argv if a.startswith("--graphics=")), None)
    choice = choose(forced, "auto", lambda: detect_terminal(0, 1))
    if choice is PENDING:
        choice = choice.resolved()
    GraphicsDemo(png, choice, cell_pixel_size(1)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
