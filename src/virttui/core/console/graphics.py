"""The graphical console's libvirt side: screenshots and an ordered key sender for one domain.

`GraphicsSession` holds the domain; the screen only holds the session (never a libvirt object).
Keys go through one sender thread per session, so they reach the guest in order;
`virDomainSendKey` errors are handed to `on_error` with libvirt's message.
"""

from __future__ import annotations

import queue
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable

import libvirt

from virttui.core.console.screenshot import Frame, grab_frame
from virttui.core.console.serial import ConsoleError
from virttui.core.host.libvirt_runtime import error_message

KEY_HOLD_MS = 30


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
        self._thread = threading.Thread(target=self._run, name="sendkey", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, dom: libvirt.virDomain, on_error: Callable[[str], None]) -> GraphicsSession:
        """Blocking: refuse a domain without a display or not running, else start the sender."""
        if not graphics_types(dom.XMLDesc(0)):
            raise ConsoleError("this domain has no graphics device (VNC or SPICE)")
        if not dom.isActive():
            raise ConsoleError("the domain is not running")
        return cls(dom, on_error)

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
        self._keys.put(None)
