"""Which image protocol the terminal speaks: replies parsed, tmux wrapping, the override order,
and the real round trip through a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import threading
import time

import pytest

from virttui.core.console.graphics_mode import (
    DA1_QUERY,
    KITTY_QUERY,
    XTVERSION_QUERY,
    GraphicsChoice,
    cell_pixel_size,
    choose,
    detect_terminal,
    detection_queries,
    is_tmux_version,
    parse_replies,
    reply_complete,
    tmux_wrap,
    validate_mode,
)

KITTY_OK = "\x1b_Gi=31;OK\x1b\\"
DA1_VT220_SIXEL = "\x1b[?62;4;6;22c"
DA1_PLAIN = "\x1b[?62;22c"


def test_the_queries_are_the_documented_ones() -> None:
    assert KITTY_QUERY == "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
    assert DA1_QUERY == "\x1b[c"
    assert detection_queries(False) == KITTY_QUERY + DA1_QUERY


@pytest.mark.parametrize(
    ("reply", "mode", "reason"),
    [
        (KITTY_OK + DA1_PLAIN, "kitty", "detected Kitty graphics"),
        (KITTY_OK + DA1_VT220_SIXEL, "kitty", "detected Kitty graphics"),  # Kitty first
        (DA1_VT220_SIXEL, "sixel", "detected Sixel"),
        (DA1_PLAIN, "halfblocks", "fallback: no Kitty or Sixel support reported"),
        ("", "halfblocks", "fallback: no reply from the terminal"),
        # An error reply to the Kitty query (e.g. a terminal that knows the protocol but not
        # the direct transmission): not Kitty.
        ("\x1b_Gi=31;ENOTSUPPORTED:nope\x1b\\" + DA1_PLAIN, "halfblocks", "fallback: no Kitty"),
        # Another image's reply does not count.
        ("\x1b_Gi=7;OK\x1b\\" + DA1_PLAIN, "halfblocks", "fallback: no Kitty"),
        # '4' must be an attribute of its own, not a digit of one ("64" is VT420 level 4).
        ("\x1b[?64;22c", "halfblocks", "fallback: no Kitty"),
    ],
)
def test_parse_replies(reply: str, mode: str, reason: str) -> None:
    choice = parse_replies(reply)
    assert choice.mode == mode
    assert choice.reason.startswith(reason)


# Recorded in tmux 3.3a (allow-passthrough on) under Xvfb: tmux answers its own DA1 at once,
# before the outer terminal's answers to what went through the passthrough.
TMUX_DA1 = "\x1b[?1;2c"
KITTY_IN_TMUX = TMUX_DA1 + KITTY_OK + "\x1b[?62;c"  # kitty 0.26.5
XTERM_IN_TMUX = TMUX_DA1 + "\x1b[?63;1;2;4;6;9;15;16;22;28c"  # xterm 379 -ti vt340
XTVERSION_XTERM_DA1 = XTERM_IN_TMUX[len(TMUX_DA1) :].encode()


def test_tmux_wraps_the_queries_and_marks_the_output() -> None:
    wrapped = tmux_wrap(KITTY_QUERY)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b_G") and wrapped.endswith("\x1b\x1b\\\x1b\\")
    # Every ESC inside is doubled; the outer terminal gets the Kitty query and a DA1 of its own
    # (its answer ends the wait), then tmux gets a plain DA1.
    assert detection_queries(True) == tmux_wrap(KITTY_QUERY + DA1_QUERY) + DA1_QUERY
    choice = parse_replies(KITTY_IN_TMUX, tmux=True)
    assert choice.mode == "kitty" and choice.tmux and "tmux passthrough" in choice.reason
    assert parse_replies(KITTY_OK + DA1_PLAIN, tmux=True).mode == "kitty"
    # xterm outside: its DA1 (the second answer) says Sixel: Sixel through the passthrough.
    choice = parse_replies(XTERM_IN_TMUX, tmux=True)
    assert choice == GraphicsChoice("sixel", "detected Sixel through tmux passthrough", True)
    # tmux's own DA1 is not the outer terminal's: a 4 there means tmux draws Sixel itself.
    assert parse_replies(DA1_VT220_SIXEL, tmux=True) == GraphicsChoice(
        "sixel", "detected Sixel (tmux)", False
    )
    assert parse_replies(TMUX_DA1 + DA1_PLAIN, tmux=True).mode == "halfblocks"
    # Passthrough off: the wrapped queries are dropped, only tmux's DA1 comes back.
    off = parse_replies(TMUX_DA1, tmux=True)
    assert off.mode == "halfblocks" and "allow-passthrough on" in off.reason
    # The wait ends with the outer terminal's DA1, not tmux's.
    assert not reply_complete(TMUX_DA1, tmux=True)
    assert not reply_complete(TMUX_DA1 + KITTY_OK, tmux=True)
    assert reply_complete(KITTY_IN_TMUX, tmux=True) and reply_complete(TMUX_DA1)


def test_an_override_in_tmux_wraps_only_kitty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    never = lambda: pytest.fail("detection must not run")  # noqa: E731
    assert choose("kitty", "auto", never).tmux
    assert not choose("sixel", "auto", never).tmux  # left to tmux (drawn if built with Sixel)
    assert choose(None, "kitty", never).tmux and not choose(None, "sixel", never).tmux


def test_command_line_overrides_config_which_overrides_detection() -> None:
    detected = GraphicsChoice("sixel", "detected Sixel")
    never = lambda: pytest.fail("detection must not run")  # noqa: E731
    assert choose("kitty", "sixel", never) == GraphicsChoice(
        "kitty", "override from the command line"
    )
    assert choose(None, "halfblocks", never).reason == "override from config"
    assert choose(None, "auto", lambda: detected) is detected
    assert choose("auto", "halfblocks", lambda: detected) is detected  # --graphics auto wins


def test_pending_choice_resolves_to_half_blocks() -> None:
    choice = GraphicsChoice("auto", "").resolved()
    assert choice.mode == "halfblocks" and "not queried" in choice.label
    assert validate_mode("sixel") == "sixel" and validate_mode("png") is None


def _answer(master: int, reply: bytes, seen: list[bytes]) -> None:
    data = b""
    while not data.endswith(DA1_QUERY.encode()):
        data += os.read(master, 1024)
    seen.append(data)
    if reply:
        os.write(master, reply)


@pytest.mark.parametrize(
    ("reply", "mode"),
    [(KITTY_OK + DA1_PLAIN, "kitty"), (DA1_VT220_SIXEL, "sixel"), ("", "halfblocks")],
)
def test_detect_through_a_real_pty(reply: str, mode: str) -> None:
    master, slave = pty.openpty()
    seen: list[bytes] = []
    try:
        worker = threading.Thread(target=_answer, args=(master, reply.encode(), seen))
        worker.start()
        choice = detect_terminal(slave, slave, timeout=0.3, environ={})
        worker.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert choice.mode == mode
    assert seen == [detection_queries(False).encode()]


def _answer_as_tmux(master: int, replies: list[bytes], seen: list[bytes]) -> None:
    """tmux's own DA1 at once, the outer terminal's answers a moment later."""
    data = b""
    while not data.endswith(DA1_QUERY.encode()):
        data += os.read(master, 1024)
    seen.append(data)
    for reply in replies:
        os.write(master, reply)
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("replies", "mode", "reason"),
    [
        ([TMUX_DA1, KITTY_OK + "\x1b[?62;c"], "kitty", "detected Kitty graphics through tmux"),
        ([TMUX_DA1, XTERM_IN_TMUX[len(TMUX_DA1) :]], "sixel", "detected Sixel through tmux"),
        ([TMUX_DA1], "halfblocks", "fallback: tmux passthrough is off"),
    ],
)
def test_detect_through_tmux_waits_for_the_outer_terminal(
    replies: list[str], mode: str, reason: str
) -> None:
    master, slave = pty.openpty()
    seen: list[bytes] = []
    try:
        encoded = [r.encode() for r in replies]
        worker = threading.Thread(target=_answer_as_tmux, args=(master, encoded, seen))
        worker.start()
        choice = detect_terminal(slave, slave, timeout=1.0, environ={"TMUX": "/tmp/t,1,0"})
        worker.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert choice.mode == mode and choice.reason.startswith(reason), choice
    assert choice.tmux == (mode != "halfblocks")
    assert seen == [detection_queries(True).encode()]


def _answer_rounds(master: int, rounds: list[list[bytes]], seen: list[bytes]) -> None:
    """One list of replies per query round (each round's queries end with a plain DA1)."""
    for replies in rounds:
        data = b""
        while not data.endswith(DA1_QUERY.encode()):
            data += os.read(master, 1024)
        seen.append(data)
        for reply in replies:
            os.write(master, reply)
            time.sleep(0.1)


@pytest.mark.parametrize(
    ("term", "rounds", "mode", "tmux"),
    [
        # tmux on this side of `ssh -t`: no $TMUX over there, but TERM is tmux's; tmux names
        # itself in XTVERSION, then the tmux queries follow (kitty outside).
        (
            "tmux-256color",
            [
                [b"\x1bP>|tmux 3.3a\x1b\\" + TMUX_DA1.encode()],
                [TMUX_DA1.encode(), KITTY_OK.encode() + b"\x1b[?62;c"],
            ],
            "kitty",
            True,
        ),
        (
            "screen-256color",
            [
                [b"\x1bP>|tmux 3.3a\x1b\\" + TMUX_DA1.encode()],
                [TMUX_DA1.encode(), XTVERSION_XTERM_DA1],
            ],
            "sixel",
            True,
        ),
        # GNU screen (no XTVERSION answer): asked as any terminal.
        ("screen", [[b"\x1b[?1;2c"], [DA1_VT220_SIXEL.encode()]], "sixel", False),
    ],
)
def test_tmux_over_ssh_is_found_by_xtversion(
    term: str, rounds: list[list[bytes]], mode: str, tmux: bool
) -> None:
    master, slave = pty.openpty()
    seen: list[bytes] = []
    try:
        worker = threading.Thread(target=_answer_rounds, args=(master, rounds, seen))
        worker.start()
        choice = detect_terminal(slave, slave, timeout=1.0, environ={"TERM": term})
        worker.join(10)
    finally:
        os.close(master)
        os.close(slave)
    assert choice.mode == mode and choice.tmux == tmux, choice
    assert seen == [(XTVERSION_QUERY + DA1_QUERY).encode(), detection_queries(tmux).encode()]


def test_xtversion_reply() -> None:
    assert is_tmux_version("\x1bP>|tmux 3.3a\x1b\\\x1b[?1;2c")
    assert not is_tmux_version("\x1bP>|XTerm(379)\x1b\\\x1b[?63;4c")
    assert not is_tmux_version("\x1b[?1;2c")


def test_detect_on_a_non_terminal_falls_back() -> None:
    read, write = os.pipe()
    try:
        choice = detect_terminal(read, write, timeout=0.1, environ={})
    finally:
        os.close(read)
        os.close(write)
    assert choice.mode == "halfblocks" and choice.reason.startswith("fallback: not a terminal")


def test_cell_pixel_size_from_the_window_size() -> None:
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 800, 480))
        assert cell_pixel_size(slave) == (10, 20)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        assert cell_pixel_size(slave) is None  # many terminals do not say
    finally:
        os.close(master)
        os.close(slave)
