"""The graphical console's libvirt side: where frames come from, and keys for one domain.

`GraphicsSession` holds the domain; the screen only holds the session (never a libvirt object).
Frames come one of two ways (`mode`):
- "rfb" (live frames): for a local connection and a domain with a VNC display,
  `virDomainOpenGraphicsFD` gives a socket to QEMU's VNC server (`attach_rfb`: SKIPAUTH first;
  when libvirt refuses that, the display's own VNC authentication with a password asked for
  through a callback, never stored). `core/console/rfb.RfbClient` reads incremental updates on
  its own thread and calls `on_update`; `rfb_frame()` makes a Frame of the framebuffer when it
  changed. Keys and the mouse go as RFB KeyEvents (X keysyms) and PointerEvents.
- "screenshots": `virDomainScreenshot` on demand (`grab`), for remote (`qemu+ssh`) connections,
  SPICE-only domains, or when RFB could not be attached (`rfb_note` says why).
Pasted text on the live path is typed as keysyms in paced chunks (`type_keysyms`, run in a
job). Linux keycodes (the screenshot path: keys, paste and the special combinations from the
menu) go through one sender thread per session, so they reach the guest in order;
`virDomainSendKey` errors are handed to `on_error` with libvirt's message.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import libvirt

from virttui.core.console.keyboard_layout import KeyLayout, load_layout
from virttui.core.console.keysyms import PASTE_CHUNK, PASTE_EVENT_SECONDS
from virttui.core.console.rfb import (
    RfbAuthError,
    RfbClient,
    RfbError,
    RfbNoPassword,
    bgrx_image,
)
from virttui.core.console.screenshot import Frame, frame_digest, grab_frame
from virttui.core.console.serial import ConsoleError
from virttui.core.host.libvirt_runtime import error_message

KEY_HOLD_MS = 30
MODE_RFB = "rfb"
MODE_SCREENSHOTS = "screenshots"


class AdaptiveRate:
    """The screenshot path's rate for remote hosts: `fast_fps` for `fast_seconds` after a key,
    `base_fps` while frames change, each unchanged frame stretching the interval by
    `slow_down` down to `slow_fps`."""

    def __init__(
        self,
        base_fps: float,
        *,
        fast_fps: float = 5.0,
        fast_seconds: float = 2.0,
        slow_fps: float = 0.5,
        slow_down: float = 1.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = 1 / base_fps
        self.fast = 1 / fast_fps
        self.slow = 1 / slow_fps
        self.fast_seconds = fast_seconds
        self.slow_down = slow_down
        self._clock = clock
        self._idle = self.base
        self._fast_until = 0.0

    def set_base(self, fps: float) -> None:
        self.base = self._idle = 1 / fps

    def key(self) -> None:
        self._fast_until = self._clock() + self.fast_seconds
        self._idle = self.base

    def frame(self, changed: bool) -> None:
        self._idle = self.base if changed else min(self.slow, self._idle * self.slow_down)

    def interval(self) -> float:
        """Seconds until the next grab."""
        if self._clock() < self._fast_until:
            return min(self.fast, self._idle)
        return self._idle


def passes_fds(uri: str) -> bool:
    """Can this connection hand out file descriptors (virDomainOpenGraphicsFD)? Only a local
    UNIX-socket connection can (`qemu:///system`, `qemu+unix://`); over ssh/tcp/tls the
    attempt breaks the connection, so it is never made. Any host part counts as remote."""
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    return transport in ("", "unix") and not parts.hostname


def vnc_keymap(xml: str) -> str | None:
    """The keymap of a domain's first VNC display (`<graphics type='vnc' keymap=...>`), if set."""
    for g in ET.fromstring(xml).findall("./devices/graphics"):
        if g.get("type") == "vnc":
            return g.get("keymap") or None
    return None


def graphics_types(xml: str) -> list[str]:
    """The display types (vnc, spice, ...) of a domain XML, in device order."""
    return [g.get("type", "") for g in ET.fromstring(xml).findall("./devices/graphics")]


class GraphicsSession:
    """An open graphical console: screenshots on demand and an ordered key sender thread."""

    def __init__(self, dom: libvirt.virDomain, on_error: Callable[[str], None]) -> None:
        self._dom = dom
        self._on_error = on_error
        self._keys: queue.Queue[list[int] | None] = queue.Queue()
        self.keys_sent = 0
        self.mode = MODE_SCREENSHOTS
        self.rfb: RfbClient | None = None
        self.rfb_note = ""  # why RFB is not used (empty: not tried or in use)
        self._rfb_seen = -1
        self._closed = False
        # The VNC display's keymap (None: QEMU's default, en-us) and, once RFB is attached (a
        # local connection: QEMU's keymap files are on this machine), its layout: which
        # modifiers a character needs as RFB key events. None: not read (the US rules apply).
        self.keymap: str | None = None
        self.layout: KeyLayout | None = None
        self._thread = threading.Thread(target=self._run, name="sendkey", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, dom: libvirt.virDomain, on_error: Callable[[str], None]) -> GraphicsSession:
        """Blocking: refuse a domain without a display or not running, else start the sender."""
        xml = dom.XMLDesc(0)
        if not graphics_types(xml):
            raise ConsoleError("this domain has no graphics device (VNC or SPICE)")
        if not dom.isActive():
            raise ConsoleError("the domain is not running")
        session = cls(dom, on_error)
        session.keymap = vnc_keymap(xml)
        return session

    # ------------------------------------------------------------------ RFB
    def attach_rfb(
        self,
        open_fd: Callable[[int], int],
        on_update: Callable[[], None],
        *,
        password: Callable[[], str | None] | None = None,
        max_fps: float = 30.0,
    ) -> bool:
        """Blocking: switch to live frames. `open_fd(flags)` is virDomainOpenGraphicsFD on the
        VNC display. SKIPAUTH first; refused -> flags 0 and the display's password (asked
        through `password`). Returns False (and sets `rfb_note`) when RFB is not possible or no
        password was given (screenshots need none); raises RfbAuthError for a refused
        password (the caller may ask again)."""
        fd: int | None = None
        try:
            fd = open_fd(libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
        except libvirt.libvirtError:
            pass
        if fd is None:
            try:
                fd = open_fd(0)
            except libvirt.libvirtError as exc:
                self.rfb_note = f"screenshots: {error_message(exc)}"
                return False
        sock = socket.socket(fileno=fd)
        try:
            client = RfbClient(
                sock,
                on_update=on_update,
                on_error=self._on_error,
                password=password,
                max_fps=max_fps,
            )
        except RfbNoPassword:
            self.rfb_note = "screenshots: no display password given"
            return False
        except RfbAuthError:
            raise  # a refused password: the console says so (Reconnect asks again)
        except RfbError as exc:
            self.rfb_note = f"screenshots: {exc}"
            return False
        except OSError as exc:
            sock.close()
            self.rfb_note = f"screenshots: {exc}"
            return False
        self.rfb = client
        self.mode = MODE_RFB
        self.rfb_note = ""
        self.layout = load_layout(self.keymap)
        return True

    def rfb_frame(self, *, force: bool = False) -> Frame | None:
        """The framebuffer as a Frame when it changed since the last call (or `force`)."""
        client = self.rfb
        if client is None:
            return None
        if not force and client.version == self._rfb_seen:
            return None
        version, data, width, height = client.snapshot()
        self._rfb_seen = version
        return Frame(bgrx_image(data, width, height), frame_digest(data), "image/x-rfb")

    def send_keysyms(self, keysyms: list[int]) -> None:
        """Press keysyms in order and release them in reverse (RFB mode); never blocks long."""
        if self.rfb is not None:
            self.rfb.keys(keysyms)
            self.keys_sent += 1

    def type_keysyms(
        self,
        groups: Sequence[Sequence[int]],
        *,
        wait: Callable[[float], bool],
        progress: Callable[[int], None] | None = None,
        chunk: int = PASTE_CHUNK,
        event_seconds: float = PASTE_EVENT_SECONDS,
    ) -> int:
        """Blocking (a job's thread): type key groups (RFB mode) in chunks of `chunk` groups,
        each chunk followed by `event_seconds` per key event it sent (`wait(seconds)` sleeps,
        True when cancelled), so QEMU's key queue (one event per 10 ms) never overflows. Stops
        when cancelled or when the console closes. Returns the number of groups sent;
        `progress(sent)` after each chunk."""
        sent = 0
        pause = 0.0
        for start in range(0, len(groups), max(1, chunk)):
            if pause and wait(pause):
                break
            client = self.rfb
            if client is None or not client.alive or self._closed:
                break
            part = groups[start : start + chunk]
            for group in part:
                client.keys(group)
            if not client.alive:  # the send failed: these may not have arrived
                break
            sent = start + len(part)
            self.keys_sent += len(part)
            pause = sum(2 * len(g) for g in part) * event_seconds
            if progress is not None:
                progress(sent)
        return sent

    def send_pointer(self, x: int, y: int, buttons: int) -> None:
        if self.rfb is not None:
            self.rfb.pointer(x, y, buttons)

    # ------------------------------------------------------------------ screenshots
    def grab(self) -> Frame:
        """One screenshot (blocking: worker thread)."""
        return grab_frame(self._dom)

    def send_keys(self, codes: list[int]) -> None:
        """Queue one key combination (Linux keycodes pressed together); never blocks."""
        self._keys.put(list(codes))

    def _run(self) -> None:
        while (codes := self._keys.get()) is not None:
            try:
                self._dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, KEY_HOLD_MS, codes, len(codes), 0)
                self.keys_sent += 1
            except libvirt.libvirtError as exc:
                self._on_error(error_message(exc))

    def idle(self) -> bool:
        return self._keys.empty()

    def close(self) -> None:
        self._closed = True
        self._keys.put(None)
        if self.rfb is not None:
            self.rfb.close()
