"""A domain's serial console over a non-blocking libvirt stream (never `virsh console`).

Threads: `open()` and `close()` make RPCs and block, so they run on worker threads. Everything
else happens on the libvirt event loop thread (see libvirt_runtime): the stream callback reads
what the guest prints and hands it to `on_data` (bytes), and flushes the keystrokes that
`write()` queued (write itself only appends and asks for a WRITABLE event, it never blocks).
When the stream ends (guest stopped, another client forced the console away, daemon gone)
`on_ended` is called once with what the stream said; `core.console_end.explain_end` (given
`conn`, the connection the console runs on) tells those three apart. Both callbacks run on the event loop thread:
they must hand the work to their own thread and return quickly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import libvirt

from virttui.core.host.libvirt_runtime import ensure_event_loop, error_message

READ_CHUNK = 256 * 1024
WRITE_CHUNK = 64 * 1024
MAX_OUT = 1 << 20  # keystrokes/paste queued for a guest that does not read: beyond, dropped
_READ_EVENTS = (
    libvirt.VIR_STREAM_EVENT_READABLE
    | libvirt.VIR_STREAM_EVENT_ERROR
    | libvirt.VIR_STREAM_EVENT_HANGUP
)
_EAGAIN = -2


class ConsoleError(RuntimeError):
    """The console could not be opened; the message is libvirt's."""

    plain_message = True  # shown as it is (core/jobs/errors.describe_error)


class ConsoleBusy(ConsoleError):
    """Another client holds the console: opening again with force=True takes it over."""


def is_console_busy(exc: libvirt.libvirtError) -> bool:
    """libvirt's "Active console session exists for this domain" (qemu, lxc, libxl, ch)."""
    return (
        exc.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
        and "console session" in (exc.get_error_message() or "").lower()
    )


class SerialSession:
    """One open console stream. Not reusable: after it ended or was closed, make a new one."""

    def __init__(
        self,
        on_data: Callable[[bytes], None],
        on_ended: Callable[[str], None],
        *,
        device: str | None = None,
    ) -> None:
        self._on_data = on_data
        self._on_ended = on_ended
        self.device = device
        self._lock = threading.Lock()
        self._out = bytearray()
        self._stream: libvirt.virStream | None = None
        self.conn: libvirt.virConnect | None = None  # the connection the console runs on
        self._events = _READ_EVENTS
        self._done = False
        self.end_reason: str | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.bytes_refused = 0

    # ------------------------------------------------------------------ worker-thread API
    def open(self, dom: libvirt.virDomain, *, force: bool = False) -> None:
        """Attach to the console (blocking RPC). Raises ConsoleBusy or ConsoleError."""
        ensure_event_loop()
        self.conn = dom.connect()
        stream = self.conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        flags = libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0
        try:
            dom.openConsole(self.device, stream, flags)
        except libvirt.libvirtError as exc:
            _discard(stream, abort=True)
            if is_console_busy(exc):
                raise ConsoleBusy(error_message(exc)) from exc
            raise ConsoleError(error_message(exc)) from exc
        with self._lock:
            self._stream = stream
            if self._out:
                self._events |= libvirt.VIR_STREAM_EVENT_WRITABLE
            try:
                stream.eventAddCallback(self._events, self._on_event, None)
            except libvirt.libvirtError as exc:
                self._stream = None
                _discard(stream, abort=True)
                raise ConsoleError(error_message(exc)) from exc

    def close(self) -> None:
        """Detach cleanly (blocking RPC); `on_ended` is not called for a close we asked for."""
        self._shutdown(None, finish=False)

    # ------------------------------------------------------------------ any-thread API
    @property
    def is_open(self) -> bool:
        return self._stream is not None and not self._done

    def write(self, data: bytes) -> None:
        """Queue bytes for the guest; the event loop thread sends them. Never blocks. What does
        not fit in MAX_OUT queued bytes (a guest that stopped reading) is dropped and counted."""
        if not data or self._done:
            return
        with self._lock:
            room = MAX_OUT - len(self._out)
            if len(data) > room:
                self.bytes_refused += len(data) - max(0, room)
                data = data[: max(0, room)]
                if not data:
                    return
            self._out += data
            self._set_events_locked(True)

    # ------------------------------------------------------------------ event loop thread
    def _set_events_locked(self, writable: bool) -> None:
        events = _READ_EVENTS | (libvirt.VIR_STREAM_EVENT_WRITABLE if writable else 0)
        stream = self._stream
        if stream is None or self._done or events == self._events:
            return
        self._events = events
        try:
            stream.eventUpdateCallback(events)
        except libvirt.libvirtError:
            pass  # the stream is going away; the ended path reports it

    def _on_event(self, stream: libvirt.virStream, events: int, _opaque: object) -> None:
        if self._done:
            return
        if events & (libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_HANGUP):
            if not self._read_all(stream):
                return
        if events & libvirt.VIR_STREAM_EVENT_WRITABLE:
            self._flush(stream)
        if events & libvirt.VIR_STREAM_EVENT_ERROR:
            self._shutdown("the console stream failed", finish=False)
        elif events & libvirt.VIR_STREAM_EVENT_HANGUP:
            self._shutdown("the console was hung up", finish=True)

    def _read_all(self, stream: libvirt.virStream) -> bool:
        """Read until EAGAIN; False when the stream ended."""
        while True:
            try:
                data = stream.recv(READ_CHUNK)
            except libvirt.libvirtError as exc:
                self._shutdown(error_message(exc), finish=False)
                return False
            if data == _EAGAIN or not isinstance(data, bytes):
                return True
            if not data:
                self._shutdown("end of file", finish=True)
                return False
            self.bytes_in += len(data)
            try:
                self._on_data(data)
            except Exception:  # noqa: BLE001 - a consumer bug must not kill the event loop
                pass

    def _flush(self, stream: libvirt.virStream) -> None:
        while True:
            with self._lock:
                chunk = bytes(self._out[:WRITE_CHUNK])
                if not chunk:
                    self._set_events_locked(False)
                    return
            try:
                sent = stream.send(chunk)
            except libvirt.libvirtError as exc:
                self._shutdown(error_message(exc), finish=False)
                return
            if sent == _EAGAIN or sent <= 0:
                return  # still WRITABLE-subscribed: called again when there is room
            with self._lock:
                del self._out[:sent]
            self.bytes_out += sent

    def _shutdown(self, reason: str | None, *, finish: bool) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            stream, self._stream = self._stream, None
            self._out.clear()
        self.end_reason = reason
        if stream is not None:
            _discard(stream, abort=not finish, remove_callback=True)
        if reason is not None:
            try:
                self._on_ended(reason)
            except Exception:  # noqa: BLE001 - same as on_data
                pass


def _discard(stream: libvirt.virStream, *, abort: bool, remove_callback: bool = False) -> None:
    if remove_callback:
        try:
            stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
    try:
        if abort:
            stream.abort()
        else:
            stream.finish()
    except libvirt.libvirtError:
        if not abort:
            try:
                stream.abort()
            except libvirt.libvirtError:
                pass
