"""The graphical console screen: the guest's display drawn by FramebufferView, with frames from
one of two paths (`core.console.graphics.GraphicsSession`, opened through the host's facade):

- **live RFB** (local connection, VNC display): the session's RFB client reads incremental
  updates on its own thread and posts `RfbUpdated`; the screen turns the framebuffer into a
  Frame at most `LIVE_MAX_FPS` times a second (updates in between are coalesced), only while
  this screen is the visible one (hidden, the client asks QEMU for no updates at all). Keys go
  as X keysyms (`core/console/keysyms.py`, with the modifiers the display's keymap needs)
  through the view's `key_hook`; pasted text as keysyms typed in paced chunks by a job
  (`paste_hook`, `GraphicsSession.type_keysyms`: QEMU types one key event per 10 ms; at most
  PASTE_MAX_CHARS characters; stopped when the console closes); the special-keys menu's combos
  as their keysyms; the mouse as RFB pointer events through `send_pointer`. A display with a
  password that libvirt will not skip asks for it in a dialog (used once, never kept).
- **screenshots** (remote `qemu+ssh` connections, SPICE-only domains, or when RFB cannot
  attach): virDomainScreenshot on a worker, never two at a time, only while visible; an
  unchanged frame costs no redraw. Local: a fixed rate (default 2 per second, the menu changes
  it). Remote: adaptive until a rate is picked in the menu (`core.console.graphics.AdaptiveRate`):
  5 per second for 2 s after a key, the base rate while frames change, slowing down to 0.5 per
  second while they do not.
  Keys, paste and the menu's combos go through virDomainSendKey (Linux keycodes, US layout, in
  order, one sender thread).

The status line says which path is in use ("live RFB" / "screenshots every N s").
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from virttui.core.console.graphics import MODE_RFB, AdaptiveRate, GraphicsSession, passes_fds
from virttui.core.console.keycodes import COMBOS_BY_ID
from virttui.core.console.keysyms import (
    PASTE_CHUNK,
    PASTE_EVENT_SECONDS,
    PastePlan,
    key_keysyms,
    paste_plan,
)
from virttui.core.console.screenshot import Frame
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobDone, JobFailed, JobProgress
from virttui.screens.common import console_registry
from virttui.screens.common.console_entries import ConsoleEntry
from virttui.screens.common.jobs import start_job
from virttui.screens.common.services import services
from virttui.screens.console.base import ConsoleScreen
from virttui.screens.console.special_keys import SpecialKeysMenu
from virttui.widgets.common.plain import plain
from virttui.widgets.console.framebuffer_view import LEAVE_KEY, MENU_KEY, FramebufferView

DEFAULT_FPS = 2.0
AFTER_KEY_GRAB = 0.15  # seconds after a key before the next frame
LIVE_MAX_FPS = 30.0  # RFB: at most this many redraws a second
FAST_FPS = 5.0  # remote screenshots: the rate for 2 s after a key (AdaptiveRate)
SLOW_FPS = 0.5  # remote screenshots: the slowest rate while frames do not change
PASTE_NOTE_SECONDS = 5.0  # a paste typed for longer says so as it starts
PASSWORD_WAIT = 600.0  # seconds the open job waits for the password dialog

FRAMES_AUTO = "auto"
FRAMES_SCREENSHOTS = "screenshots"


class FrameGrabbed(Message):
    def __init__(self, token: int, frame: Frame | None) -> None:
        self.token, self.frame = token, frame
        super().__init__()


class RfbUpdated(Message):
    def __init__(self, token: int) -> None:
        self.token = token
        super().__init__()


class DisplayPasswordScreen(ModalScreen[str | None]):
    """Ask for a VNC display's password (libvirt refused to skip its authentication)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="console.password_cancel")]

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(plain(f"Password of the VNC display of {self.domain}"))
            yield Input(password=True, id="display-password", compact=True)
            yield Static("Used for this connection only, never stored.", classes="dim")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Connect", id="connect", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#display-password", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "connect":
            self.dismiss(self.query_one("#display-password", Input).value)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class GraphicsConsoleScreen(ConsoleScreen):
    KIND = "graphics"
    TITLE_WORD = "Graphical console"

    def __init__(
        self,
        host: HostFacade,
        uuid: str,
        name: str,
        *,
        fps: float = DEFAULT_FPS,
        frames: str = FRAMES_AUTO,
    ) -> None:
        super().__init__(host, uuid, name)
        self.view = FramebufferView(
            send_keys=self._send_keys,
            send_pointer=self._send_pointer,
            key_hook=self._key_hook,
            paste_hook=self._paste_hook,
            classes="console-view",
        )
        self.fps = fps
        self.frames = frames  # "auto": RFB when possible; "screenshots": never RFB
        # Remote (no FD passing, e.g. qemu+ssh): an adaptive screenshot rate until one is picked.
        self.adaptive = not passes_fds(host.uri)
        self._timer: Timer | None = None
        self._next: Timer | None = None
        self._grabbing = False
        self._grab_after = 0.0
        self.rate = AdaptiveRate(fps, fast_fps=FAST_FPS, slow_fps=SLOW_FPS)
        self.frames_grabbed = 0
        self.frames_live = 0  # RFB frames turned into Frames for the view
        self._rfb_pending = False
        self._rfb_dirty = False
        self._rfb_timer: Timer | None = None
        self._last_draw = 0.0
        self.last_error: str | None = None
        self.pasting: PastePlan | None = None  # live RFB: the paste being typed
        self.pasted = 0  # its groups typed so far
        self.paste_chunk = PASTE_CHUNK
        self.paste_event_seconds = PASTE_EVENT_SECONDS

    def compose_console(self) -> Widget:
        return self.view

    @property
    def live(self) -> bool:
        handle = self.handle
        return isinstance(handle, GraphicsSession) and handle.mode == MODE_RFB

    # ------------------------------------------------------------------ hooks
    def open_console(self, force: bool, token: int) -> GraphicsSession:
        return self.host.open_graphics_live(
            self.uuid,
            lambda msg: self.console_ended(token, msg),
            lambda: self._rfb_updated(token),
            password=self._ask_password,
            screenshots_only=self.frames == FRAMES_SCREENSHOTS,
        )

    def close_console(self, handle: Any) -> None:
        handle.close()

    def console_ready(self, handle: Any) -> None:
        self._stop_timers()
        self._rfb_pending = False
        if self.live:
            self._draw_rfb(force=True)
        else:
            self.rate.set_base(self.fps)
            self._restart_timer()
            self._poll(force=True)
        self.update_status()

    def path_text(self) -> str:
        """Which path frames come by, for the status line."""
        if self.live:
            return "live RFB"
        if self.adaptive:
            return f"screenshots every {1 / FAST_FPS:g}–{1 / SLOW_FPS:g} s (adaptive)"
        return f"screenshots every {1 / self.fps:g} s"

    def status_extra(self) -> str:
        parts = ["Ctrl+] leaves", "Ctrl+\\ keys/rate", self.path_text()]
        handle = self.handle
        note = handle.rfb_note if isinstance(handle, GraphicsSession) else ""
        if note and note != "password" and not self.live:
            parts.append(note.removeprefix("screenshots: "))
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

    # ------------------------------------------------------------------ password (job thread)
    def _ask_password(self) -> str | None:
        """Blocking, on the open job's thread: ask in a dialog, wait for the answer."""
        answer: Future[str | None] = Future()

        def show() -> None:
            self.app.push_screen(DisplayPasswordScreen(self.domain_name), answer.set_result)

        self.app.call_from_thread(show)
        try:
            return answer.result(timeout=PASSWORD_WAIT)
        except FutureTimeout:
            return None

    # ------------------------------------------------------------------ live frames (RFB)
    def _rfb_updated(self, token: int) -> None:
        """The RFB thread: the framebuffer changed. One message until it is drawn."""
        if self._rfb_pending:
            return
        self._rfb_pending = True
        self.post_message(RfbUpdated(token))

    def on_rfb_updated(self, message: RfbUpdated) -> None:
        if message.token != self._token or not self.live:
            self._rfb_pending = False
            return
        if not self.is_current:
            self._rfb_pending = False
            self._rfb_dirty = True
            return
        wait = 1 / LIVE_MAX_FPS - (time.monotonic() - self._last_draw)
        if wait > 0:
            if self._rfb_timer is None:
                self._rfb_timer = self.set_timer(wait, self._draw_rfb)
            return
        self._draw_rfb()

    def _draw_rfb(self, force: bool = False) -> None:
        self._rfb_timer = None
        self._rfb_pending = False  # updates from now on post a new message
        self._rfb_dirty = False
        handle = self.handle
        if not isinstance(handle, GraphicsSession):
            return
        frame = handle.rfb_frame(force=force)
        self._last_draw = time.monotonic()
        if frame is None:
            return
        old = self.view.frame
        self.frames_live += 1
        self.view.set_frame(frame)
        if old is None or old.image.size != frame.image.size:
            self.update_status()

    def on_screen_suspend(self, _event: events.ScreenSuspend) -> None:
        handle = self.handle
        if self.live and isinstance(handle, GraphicsSession) and handle.rfb is not None:
            handle.rfb.pause()  # hidden: QEMU keeps the changes until we ask again

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        handle = self.handle
        if self.live and isinstance(handle, GraphicsSession) and handle.rfb is not None:
            handle.rfb.resume()
        if self.live and self._rfb_dirty:
            self._draw_rfb()
        elif self.adaptive and not self.live and self.handle is not None:
            self._schedule(AFTER_KEY_GRAB)

    # ------------------------------------------------------------------ screenshots
    def set_fps(self, fps: float) -> None:
        self.fps = max(0.1, min(30.0, fps))
        self.adaptive = False
        self.rate.set_base(self.fps)
        if not self.live:
            self._restart_timer()
        self.update_status()

    def _stop_timers(self) -> None:
        for timer in (self._timer, self._next):
            if timer is not None:
                timer.stop()
        self._timer = self._next = None

    def _restart_timer(self) -> None:
        self._stop_timers()
        if not self.adaptive:
            self._timer = self.set_interval(1 / self.fps, self._poll, name="frame-grab")

    def _schedule(self, delay: float) -> None:
        """Adaptive rate: the one pending grab, `delay` seconds from now."""
        if self._next is not None:
            self._next.stop()
        self._next = self.set_timer(delay, self._poll, name="frame-grab")

    def _poll(self, force: bool = False) -> None:
        handle = self.handle
        if not isinstance(handle, GraphicsSession) or self._grabbing or self.live:
            return
        if not force and not self.is_current:
            return  # hidden: grab nothing (adaptive: resumed by on_screen_resume)
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
        old = self.view.frame
        self.frames_grabbed += 1
        self.view.set_frame(message.frame)
        if self.adaptive:
            self.rate.frame(old is None or old.digest != message.frame.digest)
            self._schedule(self.rate.interval())
        if old is None:
            self.update_status()

    # ------------------------------------------------------------------ keys and mouse
    def _key_hook(self, event: events.Key) -> bool:
        """Live RFB: keys as keysyms (the view's own keys, leave and menu, stay with it)."""
        handle = self.handle
        if not self.live or not isinstance(handle, GraphicsSession):
            return False
        if event.key in (LEAVE_KEY, MENU_KEY):
            return False
        syms = key_keysyms(event.key, event.character, handle.layout)
        if not syms:
            return False
        handle.send_keysyms(syms)
        return True

    def _paste_hook(self, text: str) -> bool:
        """Live RFB: type the pasted text as keysyms, paced, in a job that stops when the
        console closes (at most PASTE_MAX_CHARS characters; the rest is not typed)."""
        handle = self.handle
        if not self.live or not isinstance(handle, GraphicsSession):
            return False
        if self.pasting is not None:
            self.notify(
                f"Still typing the previous paste ({self.pasted} of {len(self.pasting.groups)}"
                " characters): paste again when it is done",
                severity="warning",
                timeout=4,
            )
            return True
        plan = paste_plan(text, layout=handle.layout)
        if not plan.groups:
            return True
        seconds = plan.seconds(self.paste_event_seconds)
        if plan.truncated:
            self.notify(plan.starting(seconds), severity="warning", timeout=8)
        elif seconds >= PASTE_NOTE_SECONDS:
            self.notify(f"Typing {len(plan.groups)} characters (about {seconds:.0f} s)", timeout=4)
        self.pasting, self.pasted = plan, 0

        def typing(ctx: JobContext) -> int:
            def progress(sent: int) -> None:
                ctx.progress(sent / len(plan.groups), f"typed {sent} of {len(plan.groups)}")

            return handle.type_keysyms(
                plan.groups,
                wait=ctx.wait,
                progress=progress,
                chunk=self.paste_chunk,
                event_seconds=self.paste_event_seconds,
            )

        def on_progress(message: JobProgress) -> None:
            if message.fraction is not None:
                self.pasted = round(message.fraction * len(plan.groups))

        def done(message: JobDone) -> None:
            self.pasting = None
            sent = int(message.result)
            self.pasted = sent
            if sent < len(plan.groups) or not plan.complete:
                self.notify(plan.summary(sent), severity="warning", timeout=8)

        def failed(_message: JobFailed) -> None:
            self.pasting = None

        start_job(
            self,
            typing,
            on_progress=on_progress,
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
            group="paste",
        )
        return True

    def _send_pointer(self, x: int, y: int, buttons: int) -> None:
        handle = self.handle
        if self.live and isinstance(handle, GraphicsSession):
            handle.send_pointer(x, y, buttons)

    def _send_keys(self, codes: list[int]) -> None:
        handle = self.handle
        if isinstance(handle, GraphicsSession):
            handle.send_keys(codes)
            if self.live:
                return
            self._grab_after = time.monotonic() + AFTER_KEY_GRAB
            if self.adaptive:
                self.rate.key()
                self._schedule(AFTER_KEY_GRAB)
            else:
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
        if combo is None:
            return
        handle = self.handle
        if self.live and isinstance(handle, GraphicsSession):
            handle.send_keysyms(list(combo.keysyms))  # keysyms through the display's keymap
        else:
            self._send_keys(list(combo.keycodes))
        self.notify(f"Sent {combo.title}", timeout=2)


def open_graphical_console(
    app: App[Any], uri: str, uuid: str, *, frames: str = FRAMES_AUTO
) -> GraphicsConsoleScreen:
    """Show the graphical console of a domain: its existing screen, or a new one. `frames`
    ("auto" or "screenshots") applies to a new screen only."""
    host = services(app).facade(uri)
    if host is None:
        raise LookupError(f"{uri}: no such connection")
    row = services(app).store.row(uri, uuid)
    name = uuid if row is None else row.name
    entry = ConsoleEntry("graphics", uri, uuid, name)
    screen = console_registry.show(
        app, entry, lambda: GraphicsConsoleScreen(host, uuid, name, frames=frames)
    )
    assert isinstance(screen, GraphicsConsoleScreen)
    return screen
