"""The graphical console screen: virDomainScreenshot frames drawn with half blocks, keys through
virDomainSendKey (both in `core.console.graphics.GraphicsSession`, opened through the host's
facade). Works over any libvirt connection (no VNC port or tunnel needed).

Frames are grabbed on a worker thread at an adjustable rate (default 2 per second), only while
this screen is the visible one, and never two at a time; a frame equal to the last one costs no
redraw. Keys go through one sender thread per console, so they reach the guest in order; a frame
is grabbed shortly after each key, so typing shows up quickly.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from virttui.core.console.graphics import GraphicsSession
from virttui.core.console.keycodes import COMBOS_BY_ID
from virttui.core.console.screenshot import Frame
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobFailed
from virttui.screens.common import console_registry
from virttui.screens.common.console_entries import ConsoleEntry
from virttui.screens.common.jobs import start_job
from virttui.screens.common.services import services
from virttui.screens.console.base import ConsoleScreen
from virttui.screens.console.special_keys import SpecialKeysMenu
from virttui.widgets.console.framebuffer_view import FramebufferView

DEFAULT_FPS = 2.0
AFTER_KEY_GRAB = 0.15  # seconds after a key before the next frame


class FrameGrabbed(Message):
    def __init__(self, token: int, frame: Frame | None) -> None:
        self.token, self.frame = token, frame
        super().__init__()


class GraphicsConsoleScreen(ConsoleScreen):
    KIND = "graphics"
    TITLE_WORD = "Graphical console"

    def __init__(self, host: HostFacade, uuid: str, name: str, *, fps: float = DEFAULT_FPS) -> None:
        super().__init__(host, uuid, name)
        self.view = FramebufferView(send_keys=self._send_keys, classes="console-view")
        self.fps = fps
        self._timer: Timer | None = None
        self._grabbing = False
        self._grab_after = 0.0
        self.frames_grabbed = 0
        self.last_error: str | None = None

    def compose_console(self) -> Widget:
        return self.view

    # ------------------------------------------------------------------ hooks
    def open_console(self, force: bool, token: int) -> GraphicsSession:
        return self.host.open_graphics(self.uuid, lambda msg: self.console_ended(token, msg))

    def close_console(self, handle: Any) -> None:
        handle.close()

    def console_ready(self, handle: Any) -> None:
        self._restart_timer()
        self._poll(force=True)

    def status_extra(self) -> str:
        parts = ["Ctrl+] leaves", "Ctrl+\\ keys/rate", f"{self.fps:g} fps"]
        frame = self.view.frame
        if frame is not None:
            parts.append(f"guest {frame.image.width}x{frame.image.height}")
        if self.view.is_mounted and self.view.mode != "halfblocks":
            parts.append(self.view.describe())  # gfxproto: the mode and why, fit or 1:1
            return " · ".join(parts)
        parts.append(
            "true colour" if self.view.is_mounted and self.view.truecolor else "256 colours"
        )
        if self.view.is_mounted:
            parts.append(self.view.describe())  # gfxproto: why half blocks, fit or 1:1
        return " · ".join(parts)

    def on_framebuffer_view_mode_changed(self, event: FramebufferView.ModeChanged) -> None:
        event.stop()  # gfxproto: 1:1 toggled
        self.update_status()

    # ------------------------------------------------------------------ frames
    def set_fps(self, fps: float) -> None:
        self.fps = max(0.1, min(30.0, fps))
        self._restart_timer()
        self.update_status()

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / self.fps, self._poll, name="frame-grab")

    def _poll(self, force: bool = False) -> None:
        handle = self.handle
        if not isinstance(handle, GraphicsSession) or self._grabbing:
            return
        if not force and not self.is_current:
            return  # hidden: grab nothing
        self._grabbing = True
        self._grab_worker(handle, self._token)

    def _grab_worker(self, handle: GraphicsSession, token: int) -> None:
        """Grab one frame in a job (after the post-key delay); a failed grab ends the console,
        quietly. Nothing comes back once the screen is gone."""
        grab_after, host = self._grab_after, self.host

        def grab(ctx: JobContext) -> Frame:
            delay = grab_after - time.monotonic()
            if delay > 0:
                ctx.wait(delay)
            ctx.check()
            return host.grab_frame(handle)

        def failed(message: JobFailed) -> None:
            self.post_message(FrameGrabbed(token, None))
            if not message.cancelled:
                self.console_ended(token, message.message)

        start_job(
            self,
            grab,
            on_done=lambda done: self.post_message(FrameGrabbed(token, done.result)),
            on_failed=failed,
            cancel_on_close=True,
            group="frame-grab",
        )

    def on_frame_grabbed(self, message: FrameGrabbed) -> None:
        self._grabbing = False
        if message.token != self._token or message.frame is None:
            return
        first = self.view.frame is None
        self.frames_grabbed += 1
        self.view.set_frame(message.frame)
        if first:
            self.update_status()

    # ------------------------------------------------------------------ keys
    def _send_keys(self, codes: list[int]) -> None:
        handle = self.handle
        if isinstance(handle, GraphicsSession):
            handle.send_keys(codes)
            self._grab_after = time.monotonic() + AFTER_KEY_GRAB
            self.set_timer(AFTER_KEY_GRAB, self._poll)

    def on_framebuffer_view_leave(self, event: FramebufferView.Leave) -> None:
        event.stop()
        self.action_leave()

    def on_framebuffer_view_menu_requested(self, event: FramebufferView.MenuRequested) -> None:
        event.stop()
        self.app.push_screen(SpecialKeysMenu(self.fps), self._menu_chosen)

    def _menu_chosen(self, choice: str | None) -> None:
        self.view.focus()
        if not choice:
            return
        if choice.startswith("fps:"):
            self.set_fps(float(choice[4:]))
            return
        combo = COMBOS_BY_ID.get(choice)
        if combo is not None:
            self._send_keys(list(combo.keycodes))
            self.notify(f"Sent {combo.title}", timeout=2)


def open_graphical_console(app: App[Any], uri: str, uuid: str) -> GraphicsConsoleScreen:
    """Show the graphical console of a domain: its existing screen, or a new one."""
    host = services(app).facade(uri)
    if host is None:
        raise LookupError(f"{uri}: no such connection")
    row = services(app).store.row(uri, uuid)
    name = uuid if row is None else row.name
    entry = ConsoleEntry("graphics", uri, uuid, name)
    screen = console_registry.show(app, entry, GraphicsConsoleScreen, host, uuid, name)
    assert isinstance(screen, GraphicsConsoleScreen)
    return screen
