"""VtScreen: same picture as pyte's Screen, bounded scrollback, replies, alternate screen."""

from __future__ import annotations

import random

import pyte

from virttui.core.vt_screen import VtScreen


def _feed(screen: pyte.Screen, data: bytes) -> None:
    pyte.ByteStream(screen).feed(data)


def test_fast_text_path_matches_pyte() -> None:
    rnd = random.Random(7)
    parts = []
    for i in range(2000):
        parts.append(f"line {i} ".encode() + b"x" * rnd.randint(0, 200))
        parts.append(
            rnd.choice(
                [b"\r\n", b"\x1b[1;31mred\x1b[0m", b"\t", b"\x1b[2K", b"\x1b[5;10H", "é漢".encode()]
            )
        )
    data = b"".join(parts)
    ref, ours = pyte.Screen(80, 24), VtScreen(80, 24)
    _feed(ref, data)
    _feed(ours, data)
    assert ref.display == ours.display
    for y in range(24):
        for x in range(80):
            assert ref.buffer[y][x] == ours.buffer[y][x]
    assert (ref.cursor.x, ref.cursor.y) == (ours.cursor.x, ours.cursor.y)


def test_scrollback_is_capped() -> None:
    screen = VtScreen(20, 5, scrollback=50)
    _feed(screen, b"".join(f"row {i}\r\n".encode() for i in range(500)))
    assert len(screen.scrollback) == 50
    last = "".join(screen.scrollback[-1][x].data for x in range(7))
    assert last.startswith("row 495")
    _feed(screen, b"\x1b[3J")
    assert len(screen.scrollback) == 0


def test_cursor_position_and_device_attribute_replies() -> None:
    replies: list[str] = []
    screen = VtScreen(80, 24, reply=replies.append)
    _feed(screen, b"\x1b[5;7H\x1b[6n\x1b[5n\x1b[c")
    assert replies == ["\x1b[5;7R", "\x1b[0n", "\x1b[?6c"]


def test_alternate_screen_restores_main_screen() -> None:
    screen = VtScreen(20, 4)
    _feed(screen, b"shell$ vi")
    _feed(screen, b"\x1b[?1049h\x1b[H~\r\n~\r\n")
    assert screen.in_alternate_screen
    assert screen.display[0].startswith("~")
    _feed(screen, b"\x1b[?1049l")
    assert not screen.in_alternate_screen
    assert screen.display[0].startswith("shell$ vi")


def test_application_cursor_mode() -> None:
    screen = VtScreen(20, 4)
    assert not screen.app_cursor_keys
    _feed(screen, b"\x1b[?1h")
    assert screen.app_cursor_keys
    _feed(screen, b"\x1b[?1l")
    assert not screen.app_cursor_keys
