"""Process-wide libvirt set-up: a silenced error printer and the default event loop thread.

libvirt prints every error to stderr by default, which corrupts a full-screen terminal UI, so the
handler is replaced and errors are surfaced through exceptions (`libvirtError.get_error_message()`).
Events, keepalive, close callbacks and non-blocking streams only work while something runs
`virEventRunDefaultImpl()`; one daemon thread does that for the whole process.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_loop_thread: threading.Thread | None = None


def _ignore_error(_ctx: object, _err: object) -> None:
    return None


def silence_errors() -> None:
    libvirt.registerErrorHandler(_ignore_error, None)


def ensure_event_loop() -> None:
    """Register the default event implementation once and run it in a daemon thread."""
    global _loop_thread
    with _lock:
        if _loop_thread is not None:
            return
        silence_errors()
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                try:
                    libvirt.virEventRunDefaultImpl()
                except Exception:  # noqa: BLE001 - the loop must never die
                    continue

        _loop_thread = threading.Thread(target=run, name="libvirt-event-loop", daemon=True)
        _loop_thread.start()


def error_message(exc: BaseException) -> str:
    """libvirt's own message for an exception, or its str()."""
    if isinstance(exc, libvirt.libvirtError):
        msg = exc.get_error_message()
        if msg:
            return str(msg)
    return str(exc) or exc.__class__.__name__
