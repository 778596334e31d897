"""A domain's serial console over a non-blocking libvirt stream (never `virsh console`).

Threads: `open()` and `close()` make RPCs and block, so they run on worker threads. Everything
else happens on the libvirt event loop thread (see libvirt_runtime): the stream callback reads
what the guest prints and hands it to `on_data` (bytes), and flushes the input that `write()`
queued. A keystroke (DIRECT_MAX bytes at most, nothing queued before it) is sent by `write()`
itself: an echo does not wait for the event loop thread to wake up and get the GIL. Anything
longer (a paste) or behind queued input is appended and sent by the event loop thread.
When the stream ends (guest stopped, another client forced the console away, daemon gone)
`on_ended` is called once with what the stream said; `core.console_end.explain_end` (given
`conn`, the connection the console runs on) tells those three apart. Both callbacks run on the event loop thread:
they must return quickly (the console view emulates a read there only while it keeps up, for
at most a couple of milliseconds, and hands a backlog to its own thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import libvirt

from virttui.core.host.libvirt_runtime import ensure_event_loop, error_message

READ_CHUNK = 256 * 1024
# A flood reaches the client as thousands of stream packets a second of a few bytes each
# (7,500/s, median 7 bytes, from the tiny guest under TCG): one event, one Python callback and one
# GIL hand-off each, which cost libvirt's event loop thread more CPU than the terminal emulator.
# While output keeps coming, a read is followed by a pause of GATHER_MS in which libvirt queues
# the packets; the next read takes them all at once. A read after a quiet spell (an echo) is
# never delayed.
GATHER_MS = 2
WRITE_CHUNK = 64 * 1024
# A write this small with nothing queued is sent by the caller at once (libvirt queues a stream
# packet on the connection's socket: no wait for the daemon, which may be stopped; only a socket
# buffer filled by hundreds of KB of unread input could make it wait, and pastes are queued).
DIRECT_MAX = 64
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
        self._paused = False  # READABLE left out for GATHER_MS (see GATHER_MS)
        self._sending = False  # write() is sending directly: the event loop's flush waits
        self._resume_timer: int | None = None
        self._last_read = 0.0
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
        """Send a keystroke at once, or queue bytes for the event loop thread to send (see
        DIRECT_MAX); the daemon is never waited for. What does not fit in MAX_OUT queued bytes
        (a guest that stopped reading) is dropped and counted."""
        if not data or self._done:
            return
        with self._lock:
            stream = self._stream
            if (
                stream is not None
                and not self._out
                and not self._sending
                and len(data) <= DIRECT_MAX
            ):
                self._sending = True
            else:
                room = MAX_OUT - len(self._out)
                if len(data) > room:
                    self.bytes_refused += len(data) - max(0, room)
                    data = data[: max(0, room)]
                    if not data:
                        return
                self._out += data
                self._set_events_locked(True)
                return
        self._send_direct(stream, data)

    def _send_direct(self, stream: libvirt.virStream, data: bytes) -> None:
        sent = 0
        try:
            sent = stream.send(data)
        except libvirt.libvirtError:
            pass  # all of it queued below: the event loop's flush meets the error, reports it
        finally:
            with self._lock:
                self._sending = False
                sent = max(0, sent)  # -2: would block, all of it queued
                self.bytes_out += sent
                if sent < len(data):
                    self._out[:0] = data[sent:]  # before anything queued meanwhile
                if self._out:
                    self._set_events_locked(True)

    # ------------------------------------------------------------------ event loop thread
    def _set_events_locked(self, writable: bool) -> None:
        events = _READ_EVENTS | (libvirt.VIR_STREAM_EVENT_WRITABLE if writable else 0)
        if self._paused:
            events &= ~libvirt.VIR_STREAM_EVENT_READABLE
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
            hangup = bool(events & libvirt.VIR_STREAM_EVENT_HANGUP)
            if not self._read_all(stream, to_the_end=hangup):
                return
            if not hangup:
                self._gather()
        if events & libvirt.VIR_STREAM_EVENT_WRITABLE:
            self._flush(stream)
        if events & libvirt.VIR_STREAM_EVENT_ERROR:
            self._shutdown("the console stream failed", finish=False)
        elif events & libvirt.VIR_STREAM_EVENT_HANGUP:
            self._shutdown("the console was hung up", finish=True)

    def _read_all(self, stream: libvirt.virStream, *, to_the_end: bool = False) -> bool:
        """Read what the stream holds; False when it ended.

        One recv takes every packet libvirt has queued (up to READ_CHUNK), and libvirt calls
        back as long as more is queued: reading on until EAGAIN would only add a call, and a
        GIL hand-off, per event (a flood arrives as ~7,500 events a second of a few bytes each).
        So a second recv only when the first filled the buffer, or on a hangup (read it all)."""
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
            if len(data) < READ_CHUNK and not to_the_end:
                return True

    def _gather(self) -> None:
        """After a read: if the previous one, or the end of a pause, was less than GATHER_MS ago
        (output is flowing), stop reading for GATHER_MS so that libvirt queues what comes
        meanwhile. The read that ends a pause counts as flowing: else every second read of a
        flood came at once after it and took a single packet."""
        now = time.monotonic()
        flowing = now - self._last_read < GATHER_MS / 1000
        self._last_read = now
        if not flowing:
            return
        with self._lock:
            if self._done:
                return
            self._paused = True
            self._set_events_locked(bool(self._out))
            try:
                if self._resume_timer is None:
                    self._resume_timer = libvirt.virEventAddTimeout(GATHER_MS, self._resume, None)
                else:
                    libvirt.virEventUpdateTimeout(self._resume_timer, GATHER_MS)
            except libvirt.libvirtError:
                self._paused = False  # no timer: read as before
                self._set_events_locked(bool(self._out))

    def _resume(self, timer: int, _opaque: object) -> None:
        """GATHER_MS later: read again (libvirt calls back at once if packets are queued)."""
        try:
            libvirt.virEventUpdateTimeout(timer, -1)
        except libvirt.libvirtError:
            pass
        self._last_read = time.monotonic()  # a read now is the same flow: pause after it too
        with self._lock:
            self._paused = False
            self._set_events_locked(bool(self._out))

    def _flush(self, stream: libvirt.virStream) -> None:
        while True:
            with self._lock:
                chunk = bytes(self._out[:WRITE_CHUNK])
                if not chunk or self._sending:  # after a direct send, it asks again
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
            timer, self._resume_timer = self._resume_timer, None
        if timer is not None:
            try:
                libvirt.virEventRemoveTimeout(timer)
            except libvirt.libvirtError:
                pass
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
