"""A small RFB 3.8 (VNC) client for a socket QEMU hands out through virDomainOpenGraphicsFD.

Why our own client: vncdotool is Twisted-based and opens its own TCP connections, asyncvnc wants
an asyncio stream it opens itself and neither does DesktopSize plus an existing socket FD
cleanly; what QEMU needs from a client is small (handshake, one pixel format, raw / CopyRect /
zlib rectangles, key and pointer events), so it lives here, tested against recorded messages
and QEMU's real server.

- `Framebuffer`: the guest's pixels, 32 bpp little-endian BGRX in a bytearray; the decoders write
  only the rectangles the server sends (`raw`, `copyrect`, `zlib` with one zlib stream for the
  whole connection, the `DesktopSize` pseudo-encoding for mode changes such as BIOS 720x400 ->
  1024x768). `image()` makes a Pillow image of it.
- `RfbClient`: the handshake (security None, or VNC authentication with a password asked for
  through a callback, used once and never stored or logged), then a reader thread: it asks for
  incremental updates (at most `max_fps` a second; none while paused), decodes them and calls
  `on_update`; key and
  pointer events are sent from any thread (one lock). `close()` stops the thread and closes the
  socket; an error ends the client once, through `on_error`, with a clear message.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from virttui.core.console.vnc_des import vnc_auth_response

ENC_RAW = 0
ENC_COPYRECT = 1
ENC_ZLIB = 6
ENC_DESKTOP_SIZE = -223
# Local sockets: raw costs both sides least CPU (no compression); zlib is offered after it.
DEFAULT_ENCODINGS: tuple[int, ...] = (ENC_COPYRECT, ENC_RAW, ENC_ZLIB, ENC_DESKTOP_SIZE)

SEC_NONE = 1
SEC_VNC = 2
BPP = 4
MAX_DIMENSION = 16384
MAX_CUT_TEXT = 1 << 20
MAX_ZLIB_CHUNK = 64 << 20

# 32 bpp, depth 24, little endian, true colour, 8 bits per channel: bytes B, G, R, X in memory.
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)


CLOSED = "the display closed the connection"


class RfbError(Exception):
    """The RFB conversation failed; the message is for the user."""


class RfbAuthError(RfbError):
    """The server refused the password (or needs one and none was given)."""


class RfbNoPassword(RfbAuthError):
    """The server needs a password and none was given (the prompt was cancelled)."""


class Framebuffer:
    """The guest's screen as BGRX bytes; decoders update rectangles in place."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.data = bytearray(width * height * BPP)
        self._zlib = zlib.decompressobj()

    def resize(self, width: int, height: int) -> None:
        if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
            raise RfbError(f"the display announced an impossible size {width}x{height}")
        self.width, self.height = width, height
        self.data = bytearray(width * height * BPP)

    def _check(self, x: int, y: int, w: int, h: int) -> None:
        if x + w > self.width or y + h > self.height:
            raise RfbError(
                f"the display sent a rectangle {w}x{h}+{x}+{y} outside its "
                f"{self.width}x{self.height} screen"
            )

    def put_raw(self, x: int, y: int, w: int, h: int, pixels: bytes | memoryview) -> None:
        """Copy w*h BGRX pixels (row by row) to (x, y)."""
        self._check(x, y, w, h)
        if len(pixels) != w * h * BPP:
            raise RfbError("a raw rectangle has the wrong length")
        stride, row = self.width * BPP, w * BPP
        if x == 0 and w == self.width:
            self.data[y * stride : (y + h) * stride] = pixels
            return
        for i in range(h):
            start = (y + i) * stride + x * BPP
            self.data[start : start + row] = pixels[i * row : (i + 1) * row]

    def copy_rect(self, x: int, y: int, w: int, h: int, src_x: int, src_y: int) -> None:
        """CopyRect: the w x h block at (src_x, src_y) moves to (x, y) (regions may overlap)."""
        self._check(x, y, w, h)
        self._check(src_x, src_y, w, h)
        stride, row = self.width * BPP, w * BPP
        rows = [bytes(self.data[(src_y + i) * stride + src_x * BPP :][:row]) for i in range(h)]
        for i, pixels in enumerate(rows):
            start = (y + i) * stride + x * BPP
            self.data[start : start + row] = pixels

    def put_zlib(self, x: int, y: int, w: int, h: int, compressed: bytes) -> None:
        """zlib encoding: raw pixels through the connection's one zlib stream."""
        self._check(x, y, w, h)
        try:
            pixels = self._zlib.decompress(compressed, w * h * BPP + 1)
        except zlib.error as exc:
            raise RfbError(f"the display sent bad zlib data: {exc}") from exc
        if len(pixels) != w * h * BPP:
            raise RfbError("a zlib rectangle has the wrong length")
        self.put_raw(x, y, w, h, pixels)

    def image(self) -> Image.Image:
        """An RGB Pillow image of the current pixels (a copy)."""
        return bgrx_image(bytes(self.data), self.width, self.height)


def bgrx_image(data: bytes, width: int, height: int) -> Image.Image:
    return Image.frombytes("RGB", (width, height), data, "raw", "BGRX")


@dataclass(frozen=True, slots=True)
class ServerInit:
    width: int
    height: int
    name: str


class _Reader:
    """Exact reads from a blocking socket with a timeout; `stop` ends a wait between reads."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self._sock = sock
        self._stop = stop

    def read(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if self._stop.is_set():
                raise _Stopped
            try:
                chunk = self._sock.recv(min(n - len(buf), 1 << 20))
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError) as exc:
                raise RfbError(CLOSED) from exc
            except OSError as exc:
                if self._stop.is_set():
                    raise _Stopped from exc
                raise RfbError(f"the display connection failed: {exc}") from exc
            if not chunk:
                raise RfbError(CLOSED)
            buf += chunk
        return bytes(buf)

    def u8(self) -> int:
        return self.read(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.read(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.read(4))[0])


class _Stopped(Exception):
    pass


PasswordPrompt = Callable[[], str | None]


def handshake(
    reader: _Reader,
    send: Callable[[bytes], None],
    password: PasswordPrompt | None,
) -> ServerInit:
    """RFB 3.8 up to ServerInit (blocking)."""
    version = reader.read(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"not a VNC server (it said {version!r})")
    minor = int(version[8:11]) if version[8:11].isdigit() else 0
    if minor < 8:
        raise RfbError(f"the VNC server speaks RFB 3.{minor}, 3.8 is needed")
    send(b"RFB 003.008\n")
    count = reader.u8()
    if count == 0:
        reason = reader.read(reader.u32()).decode("utf-8", "replace")
        raise RfbError(f"the display refused the connection: {reason}")
    types = reader.read(count)
    if SEC_NONE in types:
        send(bytes([SEC_NONE]))
    elif SEC_VNC in types:
        send(bytes([SEC_VNC]))
        challenge = reader.read(16)
        secret = password() if password is not None else None
        if secret is None:
            raise RfbNoPassword("the display needs a password")
        send(vnc_auth_response(secret, challenge))
        del secret
    else:
        raise RfbError(f"no supported VNC security type (server offers {list(types)})")
    if reader.u32() != 0:
        reason = reader.read(min(reader.u32(), 4096)).decode("utf-8", "replace")
        if SEC_NONE not in types:
            raise RfbAuthError(f"the display refused the password ({reason or 'no reason'})")
        raise RfbError(f"the display refused the connection: {reason}")
    send(b"\x01")  # ClientInit: shared
    width, height = reader.u16(), reader.u16()
    reader.read(16)  # the server's pixel format; we set ours next
    name = reader.read(min(reader.u32(), 4096)).decode("utf-8", "replace")
    return ServerInit(width, height, name)


def set_encodings_message(encodings: Sequence[int]) -> bytes:
    return struct.pack(">BxH", 2, len(encodings)) + b"".join(
        struct.pack(">i", e) for e in encodings
    )


def update_request(incremental: bool, width: int, height: int) -> bytes:
    return struct.pack(">BBHHHH", 3, int(incremental), 0, 0, width, height)


def key_message(keysym: int, down: bool) -> bytes:
    return struct.pack(">BBxxI", 4, int(down), keysym)


def pointer_message(x: int, y: int, buttons: int) -> bytes:
    return struct.pack(">BBHH", 5, buttons & 0xFF, max(0, x), max(0, y))


def read_update(reader: _Reader, fb: Framebuffer) -> tuple[int, bool]:
    """Decode one FramebufferUpdate's rectangles (the message type already read): returns
    (rectangles, resized)."""
    reader.read(1)
    count = reader.u16()
    resized = False
    for _ in range(count):
        x, y, w, h, enc = struct.unpack(">HHHHi", reader.read(12))
        if enc == ENC_RAW:
            fb.put_raw(x, y, w, h, reader.read(w * h * BPP))
        elif enc == ENC_COPYRECT:
            src_x, src_y = reader.u16(), reader.u16()
            fb.copy_rect(x, y, w, h, src_x, src_y)
        elif enc == ENC_ZLIB:
            size = reader.u32()
            if size > MAX_ZLIB_CHUNK:
                raise RfbError("the display sent an oversized zlib rectangle")
            fb.put_zlib(x, y, w, h, reader.read(size))
        elif enc == ENC_DESKTOP_SIZE:
            fb.resize(w, h)
            resized = True
        else:
            raise RfbError(f"the display sent an encoding that was not asked for ({enc})")
    return count, resized


def read_server_message(reader: _Reader, fb: Framebuffer) -> tuple[bool, bool]:
    """Read one server message: (framebuffer updated, resized)."""
    kind = reader.u8()
    if kind == 0:
        _count, resized = read_update(reader, fb)
        return True, resized
    if kind == 1:  # SetColourMapEntries (not used in true colour): skip
        reader.read(1)
        _first, n = reader.u16(), reader.u16()
        reader.read(6 * n)
        return False, False
    if kind == 2:  # Bell
        return False, False
    if kind == 3:  # ServerCutText: skipped
        reader.read(3)
        length = reader.u32()
        if length > MAX_CUT_TEXT:
            raise RfbError("the display sent an oversized clipboard text")
        reader.read(length)
        return False, False
    raise RfbError(f"the display sent an unknown message type {kind}")


class RfbClient:
    """One RFB connection on a connected socket (taken over: closed by `close()`)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        on_update: Callable[[], None],
        on_error: Callable[[str], None],
        password: PasswordPrompt | None = None,
        encodings: Sequence[int] = DEFAULT_ENCODINGS,
        max_fps: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        self._sock = sock
        self._on_update = on_update
        self._on_error = on_error
        self._stop = threading.Event()
        self._wanted = threading.Event()  # cleared by pause(): no further update requests
        self._wanted.set()
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()  # the framebuffer, against snapshots
        self._min_interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self.updates = 0
        self.version = 0  # bumped on every change of the framebuffer
        self.error: str | None = None
        sock.settimeout(timeout)
        reader = _Reader(sock, self._stop)
        try:
            init = handshake(reader, self._send, password)
        except _Stopped as exc:
            raise RfbError("closed during the handshake") from exc
        except BaseException:
            sock.close()
            raise
        self.name = init.name
        self.fb = Framebuffer(init.width, init.height)
        self._send(b"\x00\x00\x00\x00" + PIXEL_FORMAT)
        self._send(set_encodings_message(encodings))
        self._send(update_request(False, init.width, init.height))
        sock.settimeout(0.5)  # the reader checks `_stop` between reads
        self._reader = reader
        self._thread = threading.Thread(target=self._run, name="rfb", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ sending
    def _send(self, data: bytes) -> None:
        with self._send_lock:
            try:
                self._sock.sendall(data)
            except (ConnectionResetError, BrokenPipeError) as exc:
                raise RfbError(CLOSED) from exc
            except OSError as exc:
                raise RfbError(f"the display connection failed: {exc}") from exc

    def _send_quiet(self, data: bytes) -> None:
        if self._stop.is_set():
            return
        try:
            self._send(data)
        except RfbError as exc:
            self._fail(str(exc))

    def key(self, keysym: int, down: bool) -> None:
        self._send_quiet(key_message(keysym, down))

    def keys(self, keysyms: Sequence[int]) -> None:
        """Press keysyms in order, release them in reverse (one message batch)."""
        msg = b"".join(key_message(k, True) for k in keysyms)
        msg += b"".join(key_message(k, False) for k in reversed(keysyms))
        self._send_quiet(msg)

    def pointer(self, x: int, y: int, buttons: int) -> None:
        self._send_quiet(pointer_message(x, y, buttons))

    # ------------------------------------------------------------------ frames
    def snapshot(self) -> tuple[int, bytes, int, int]:
        """(version, BGRX bytes, width, height) of the framebuffer now (a copy)."""
        with self._lock:
            return self.version, bytes(self.fb.data), self.fb.width, self.fb.height

    @property
    def size(self) -> tuple[int, int]:
        return self.fb.width, self.fb.height

    def _run(self) -> None:
        last_request = time.monotonic()
        try:
            while not self._stop.is_set():
                kind_updated, resized = self._read_message()
                if not kind_updated:
                    continue
                self.updates += 1
                self._on_update()
                wait = self._min_interval - (time.monotonic() - last_request)
                if wait > 0 and self._stop.wait(wait):
                    break
                while not self._wanted.wait(0.5):  # paused: ask for nothing until resumed
                    if self._stop.is_set():
                        raise _Stopped
                last_request = time.monotonic()
                w, h = self.size
                self._send(update_request(not resized, w, h))
        except _Stopped:
            pass
        except RfbError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a decoder bug must not kill the app silently
            self._fail(f"the display connection failed: {exc}")

    def _read_message(self) -> tuple[bool, bool]:
        # Read the type byte without the lock (it may wait), the rest under it.
        kind = self._reader.u8()
        with self._lock:
            updated, resized = read_server_message(_Prefixed(self._reader, kind), self.fb)
            if updated:
                self.version += 1
            return updated, resized

    def _fail(self, message: str) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self.error = message
        try:
            self._sock.close()
        except OSError:
            pass
        self._on_error(message)

    def pause(self) -> None:
        """Ask for no more updates (the one already requested still comes): nobody looks."""
        self._wanted.clear()

    def resume(self) -> None:
        """Ask again: the next incremental update brings everything changed meanwhile."""
        self._wanted.set()

    @property
    def alive(self) -> bool:
        return not self._stop.is_set()

    def close(self) -> None:
        """Stop the reader and close the socket (no error reported); idempotent."""
        self._stop.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)


class _Prefixed(_Reader):
    """A reader whose first byte was already read."""

    def __init__(self, inner: _Reader, first: int) -> None:
        self._inner = inner
        self._first: bytes | None = bytes([first])

    def read(self, n: int) -> bytes:
        if self._first is not None and n > 0:
            head, self._first = self._first, None
            return head + self._inner.read(n - 1) if n > 1 else head
        return self._inner.read(n)
