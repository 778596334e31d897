"""The RFB client against constructed server messages: handshake, raw / CopyRect / zlib (one
zlib stream across rectangles and updates), DesktopSize, errors; and VNC authentication's DES."""

from __future__ import annotations

import socket
import struct
import threading
import zlib

import pytest

from virttui.core.console.rfb import (
    BPP,
    ENC_COPYRECT,
    ENC_DESKTOP_SIZE,
    ENC_RAW,
    ENC_ZLIB,
    Framebuffer,
    RfbAuthError,
    RfbClient,
    RfbError,
    _Reader,
    read_server_message,
)
from virttui.core.console.vnc_des import des_encrypt_block, vnc_auth_response


def px(r: int, g: int, b: int) -> bytes:
    return bytes((b, g, r, 0))


def rect(x: int, y: int, w: int, h: int, enc: int) -> bytes:
    return struct.pack(">HHHHi", x, y, w, h, enc)


def update(*rects: bytes) -> bytes:
    return struct.pack(">BxH", 0, len(rects)) + b"".join(rects)


class BytesReader(_Reader):
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise RfbError("the display closed the connection")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def feed(fb: Framebuffer, data: bytes) -> list[tuple[bool, bool]]:
    reader = BytesReader(data)
    out = []
    while reader.pos < len(data):
        out.append(read_server_message(reader, fb))
    return out


def pixel(fb: Framebuffer, x: int, y: int) -> tuple[int, int, int]:
    return fb.image().getpixel((x, y))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- decoders
def test_raw_rect_updates_only_its_rectangle() -> None:
    fb = Framebuffer(8, 4)
    red = px(255, 0, 0)
    feed(fb, update(rect(2, 1, 3, 2, ENC_RAW) + red * 6))
    assert pixel(fb, 2, 1) == (255, 0, 0)
    assert pixel(fb, 4, 2) == (255, 0, 0)
    assert pixel(fb, 1, 1) == (0, 0, 0)
    assert pixel(fb, 5, 1) == (0, 0, 0)
    assert pixel(fb, 2, 3) == (0, 0, 0)
    # A full-width rectangle takes the fast path.
    feed(fb, update(rect(0, 3, 8, 1, ENC_RAW) + px(0, 0, 255) * 8))
    assert pixel(fb, 7, 3) == (0, 0, 255)


def test_copyrect_overlapping() -> None:
    fb = Framebuffer(4, 4)
    rows = b"".join(px(10 * y, 0, 0) * 4 for y in range(4))
    feed(fb, update(rect(0, 0, 4, 4, ENC_RAW) + rows))
    # Scroll up by one row: rows 1..3 move to 0..2 (overlapping source and destination).
    feed(fb, update(rect(0, 0, 4, 3, ENC_COPYRECT) + struct.pack(">HH", 0, 1)))
    assert [pixel(fb, 0, y)[0] for y in range(4)] == [10, 20, 30, 30]
    # Sideways overlap.
    fb2 = Framebuffer(4, 1)
    feed(fb2, update(rect(0, 0, 4, 1, ENC_RAW) + b"".join(px(i, 0, 0) for i in range(4))))
    feed(fb2, update(rect(1, 0, 3, 1, ENC_COPYRECT) + struct.pack(">HH", 0, 0)))
    assert [pixel(fb2, x, 0)[0] for x in range(4)] == [0, 0, 1, 2]


def test_zlib_one_stream_across_rects_and_updates() -> None:
    fb = Framebuffer(6, 3)
    z = zlib.compressobj()

    def zrect(x: int, y: int, w: int, h: int, colour: bytes) -> bytes:
        data = z.compress(colour * (w * h)) + z.flush(zlib.Z_SYNC_FLUSH)
        return rect(x, y, w, h, ENC_ZLIB) + struct.pack(">I", len(data)) + data

    green, blue, white = px(0, 255, 0), px(0, 0, 255), px(255, 255, 255)
    feed(fb, update(zrect(0, 0, 3, 3, green), zrect(3, 0, 3, 1, blue)))
    # The second update's data refers back to the first's dictionary (same stream).
    feed(fb, update(zrect(3, 1, 3, 2, green), zrect(0, 2, 2, 1, white)))
    assert pixel(fb, 0, 0) == (0, 255, 0)
    assert pixel(fb, 5, 0) == (0, 0, 255)
    assert pixel(fb, 5, 2) == (0, 255, 0)
    assert pixel(fb, 1, 2) == (255, 255, 255)
    assert pixel(fb, 2, 2) == (0, 255, 0)
    # A fresh stream's data on a used stream is refused, not drawn.
    fresh = zlib.compress(green * 4)
    with pytest.raises(RfbError):
        feed(fb, update(rect(0, 0, 2, 2, ENC_ZLIB) + struct.pack(">I", len(fresh)) + fresh))


def test_desktop_size_then_full_frame() -> None:
    fb = Framebuffer(720, 400)
    msgs = feed(fb, update(rect(0, 0, 1024, 768, ENC_DESKTOP_SIZE)))
    assert msgs == [(True, True)]
    assert (fb.width, fb.height) == (1024, 768)
    assert len(fb.data) == 1024 * 768 * BPP
    assert fb.image().size == (1024, 768)


def test_other_messages_and_bad_input() -> None:
    fb = Framebuffer(2, 2)
    bell = b"\x02"
    cut = b"\x03\x00\x00\x00" + struct.pack(">I", 5) + b"hello"
    cmap = b"\x01\x00" + struct.pack(">HH", 0, 1) + b"\x00" * 6
    assert feed(fb, bell + cut + cmap) == [(False, False)] * 3
    with pytest.raises(RfbError, match="outside"):
        feed(fb, update(rect(1, 1, 2, 2, ENC_RAW) + b"\x00" * 16))
    with pytest.raises(RfbError, match="encoding"):
        feed(fb, update(rect(0, 0, 1, 1, 16)))
    with pytest.raises(RfbError, match="unknown message"):
        feed(fb, b"\x7f")
    with pytest.raises(RfbError, match="impossible size"):
        feed(fb, update(rect(0, 0, 0, 10, ENC_DESKTOP_SIZE)))


# ----------------------------------------------------------------------------- DES
def test_des_known_vectors() -> None:
    key = bytes.fromhex("133457799BBCDFF1")
    assert des_encrypt_block(key, bytes.fromhex("0123456789ABCDEF")).hex() == "85e813540f0ab405"
    # FIPS 81 / NBS validation vector.
    key = bytes.fromhex("0123456789ABCDEF")
    assert des_encrypt_block(key, b"Now is t").hex() == "3fa40e8a984d4815"


def test_vnc_auth_response_reverses_key_bits_and_truncates() -> None:
    challenge = bytes(range(16))
    # "pass" -> bytes with reversed bits, zero padded.
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in b"pass") + b"\0" * 4
    expected = des_encrypt_block(key, challenge[:8]) + des_encrypt_block(key, challenge[8:])
    assert vnc_auth_response("pass", challenge) == expected
    assert vnc_auth_response("12345678", challenge) == vnc_auth_response("123456789", challenge)
    assert vnc_auth_response("secret", challenge) != vnc_auth_response("secreT", challenge)


# ----------------------------------------------------------------------------- a fake server
def fake_server(
    sock: socket.socket, sec_types: bytes, *, result: int = 0, password: str | None = None
) -> threading.Thread:
    def run() -> None:
        try:
            sock.sendall(b"RFB 003.008\n")
            assert sock.recv(12) == b"RFB 003.008\n"
            sock.sendall(bytes([len(sec_types)]) + sec_types)
            chosen = sock.recv(1)[0]
            ok = result
            if chosen == 2:
                challenge = bytes(range(100, 116))
                sock.sendall(challenge)
                answer = b""
                while len(answer) < 16:
                    answer += sock.recv(16 - len(answer))
                assert password is not None
                ok = 0 if answer == vnc_auth_response(password, challenge) else 1
            if ok:
                sock.sendall(struct.pack(">II", 1, 14) + b"Authentication")
                return
            sock.sendall(struct.pack(">I", 0))
            assert sock.recv(1) == b"\x01"
            sock.sendall(struct.pack(">HH", 4, 2) + b"\x00" * 16 + struct.pack(">I", 4) + b"test")
            # SetPixelFormat, SetEncodings, FramebufferUpdateRequest: then one raw update.
            sock.recv(4096)
            sock.sendall(update(rect(0, 0, 4, 2, ENC_RAW) + px(1, 2, 3) * 8))
            sock.recv(4096)
        except OSError:
            pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_client_handshake_none_and_first_update() -> None:
    ours, theirs = socket.socketpair()
    fake_server(theirs, b"\x01\x02")
    got = threading.Event()
    errors: list[str] = []
    client = RfbClient(ours, on_update=got.set, on_error=errors.append)
    try:
        assert client.name == "test"
        assert got.wait(10)
        version, data, w, h = client.snapshot()
        assert (w, h) == (4, 2) and version >= 1
        assert data[:4] == px(1, 2, 3)
        client.keys([0xFFE3, ord("c")])
        client.pointer(1, 1, 1)
    finally:
        client.close()
        theirs.close()
    assert errors == []
    assert not client.alive


def test_client_vnc_auth_right_and_wrong_password() -> None:
    ours, theirs = socket.socketpair()
    fake_server(theirs, b"\x02", password="s3cret")
    asked: list[int] = []

    def prompt() -> str:
        asked.append(1)
        return "s3cret"

    client = RfbClient(ours, on_update=lambda: None, on_error=lambda m: None, password=prompt)
    client.close()
    theirs.close()
    assert asked == [1]

    ours, theirs = socket.socketpair()
    fake_server(theirs, b"\x02", password="s3cret")
    with pytest.raises(RfbAuthError, match="refused the password"):
        RfbClient(ours, on_update=lambda: None, on_error=lambda m: None, password=lambda: "nope")
    theirs.close()

    ours, theirs = socket.socketpair()
    fake_server(theirs, b"\x02", password="s3cret")
    with pytest.raises(RfbAuthError, match="needs a password"):
        RfbClient(ours, on_update=lambda: None, on_error=lambda m: None, password=lambda: None)
    theirs.close()


def test_server_gone_is_reported_once() -> None:
    ours, theirs = socket.socketpair()
    thread = fake_server(theirs, b"\x01")
    errors: list[str] = []
    done = threading.Event()

    def on_error(msg: str) -> None:
        errors.append(msg)
        done.set()

    client = RfbClient(ours, on_update=lambda: None, on_error=on_error)
    thread.join(10)
    theirs.close()
    assert done.wait(10)
    client.keys([ord("a")])  # after the end: no second report
    client.close()
    assert errors == ["the display closed the connection"]
