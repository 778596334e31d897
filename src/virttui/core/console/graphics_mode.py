"""Which image protocol the terminal speaks: Kitty graphics, Sixel, or none (half blocks).

Detection is one round trip, done once before Textual owns the terminal (the CLI calls
`detect_terminal()` when stdin and stdout are a terminal and the mode is "auto"): the Kitty
graphics query and Primary Device Attributes (DA1) are written together; every terminal answers
DA1, so the DA1 reply ends the wait. A Kitty reply before it ("OK") means Kitty graphics; a `4`
among DA1's attributes means Sixel. No DA1 reply within the timeout: half blocks.

Inside tmux ($TMUX set) tmux answers DA1 itself, at once, before anything written through its
DCS passthrough reaches the outer terminal and comes back (seen with tmux 3.3a in kitty and
xterm). So the Kitty query *and a second DA1* go wrapped in the passthrough, then a plain DA1:
tmux's own answer comes first (a `4` there means tmux draws Sixel itself, tmux >= 3.4 built with
Sixel), then, only when `allow-passthrough` is on, the outer terminal's answers: a Kitty "OK"
(Kitty output wrapped in the passthrough), and its DA1 (a `4`: Sixel wrapped in the passthrough).
With passthrough off the outer answers never come: the wait ends at the timeout and the reason
says to turn it on. On the far side of `ssh -t` from a tmux, $TMUX is not set but TERM is
tmux's (screen*, tmux*): then XTVERSION is asked first (with DA1 to end the wait), and tmux
naming itself there means the tmux queries above.

Pure functions except `detect_terminal()` (raw fd I/O, never after Textual has started).
"""

from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

MODES = ("auto", "kitty", "sixel", "halfblocks")
DRAW_MODES = ("kitty", "sixel", "halfblocks")

KITTY_QUERY_ID = 31
KITTY_QUERY = f"\x1b_Gi={KITTY_QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
DA1_QUERY = "\x1b[c"
DETECT_TIMEOUT = 0.5  # seconds for the DA1 reply (a remote terminal over SSH answers in one RTT)

XTVERSION_QUERY = "\x1b[>0q"
# TERM inside tmux (its default-terminal: screen, screen-256color, tmux-256color); ssh sends TERM
# but not $TMUX, so on the far side of `ssh -t` such a TERM is the hint to ask XTVERSION.
_MULTIPLEXER_TERMS = ("screen", "tmux")
_XTVERSION_REPLY = re.compile(r"\x1bP>\|([^\x1b]*)\x1b\\")
_KITTY_REPLY = re.compile(r"\x1b_G([^;\x1b]*);([^\x1b]*)\x1b\\")
_DA1_REPLY = re.compile(r"\x1b\[\?([0-9;]*)c")


@dataclass(frozen=True, slots=True)
class GraphicsChoice:
    """The drawing mode and why it was chosen (shown in the console's status line)."""

    mode: str  # one of DRAW_MODES
    reason: str
    tmux: bool = False  # Kitty / Sixel output wrapped in tmux's DCS passthrough

    def resolved(self) -> GraphicsChoice:
        """ "auto" never asked (no terminal, tests): half blocks."""
        if self.mode in DRAW_MODES:
            return self
        return GraphicsChoice("halfblocks", "fallback: terminal not queried")

    @property
    def label(self) -> str:
        if self.mode not in DRAW_MODES:
            return self.resolved().label
        names = {"kitty": "Kitty graphics", "sixel": "Sixel", "halfblocks": "half blocks"}
        return f"{names[self.mode]} ({self.reason})"


PENDING = GraphicsChoice("auto", "")  # the app's default until the CLI asks the terminal


def validate_mode(value: object) -> str | None:
    """The mode, or None when `value` is not one of MODES."""
    return value if isinstance(value, str) and value in MODES else None


def in_tmux(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("TMUX"))


def tmux_wrap(sequence: str) -> str:
    """tmux DCS passthrough: `ESC P tmux; <sequence, every ESC doubled> ESC \\`."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def detection_queries(tmux: bool) -> str:
    """What `detect_terminal` writes: the Kitty query then DA1; inside tmux both wrapped in the
    passthrough for the outer terminal, then DA1 for tmux itself."""
    if tmux:
        return tmux_wrap(KITTY_QUERY + DA1_QUERY) + DA1_QUERY
    return KITTY_QUERY + DA1_QUERY


def reply_complete(reply: str, *, tmux: bool = False) -> bool:
    """True once the last DA1 answer is in (it comes after any Kitty answer); inside tmux, the
    outer terminal's DA1 after tmux's own."""
    return len(_DA1_REPLY.findall(reply)) >= (2 if tmux else 1)


def _has_sixel(da1: re.Match[str]) -> bool:
    return "4" in da1.group(1).split(";")


def parse_replies(reply: str, *, tmux: bool = False) -> GraphicsChoice:
    """The mode the terminal's answer to `detection_queries()` allows."""
    for match in _KITTY_REPLY.finditer(reply):
        keys = dict(kv.split("=", 1) for kv in match.group(1).split(",") if "=" in kv)
        if keys.get("i") == str(KITTY_QUERY_ID) and match.group(2) == "OK":
            where = " through tmux passthrough" if tmux else ""
            return GraphicsChoice("kitty", f"detected Kitty graphics{where}", tmux)
    answers = list(_DA1_REPLY.finditer(reply))
    if not answers:
        return GraphicsChoice("halfblocks", "fallback: no reply from the terminal")
    if not tmux:
        if _has_sixel(answers[0]):
            return GraphicsChoice("sixel", "detected Sixel")
        return GraphicsChoice("halfblocks", "fallback: no Kitty or Sixel support reported")
    if _has_sixel(answers[0]):
        return GraphicsChoice("sixel", "detected Sixel (tmux)")
    if len(answers) < 2:
        return GraphicsChoice(
            "halfblocks", "fallback: tmux passthrough is off (set -g allow-passthrough on)"
        )
    if _has_sixel(answers[1]):
        return GraphicsChoice("sixel", "detected Sixel through tmux passthrough", True)
    return GraphicsChoice("halfblocks", "fallback: no Kitty or Sixel support reported")


def choose(
    cli_mode: str | None, config_mode: str, detect: Callable[[], GraphicsChoice]
) -> GraphicsChoice:
    """The command line overrides the config, which overrides detection ("auto")."""
    # An overridden Kitty mode inside tmux goes through the passthrough; an overridden Sixel
    # mode is left to tmux (drawn by a tmux built with Sixel; only detection knows better).
    tmux = in_tmux()
    if cli_mode and cli_mode != "auto":
        return GraphicsChoice(
            cli_mode, "override from the command line", tmux and cli_mode == "kitty"
        )
    if not cli_mode and config_mode != "auto":
        return GraphicsChoice(config_mode, "override from config", tmux and config_mode == "kitty")
    return detect()


def detect_terminal(
    fd_in: int,
    fd_out: int,
    *,
    timeout: float = DETECT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
) -> GraphicsChoice:
    """Ask the terminal on fd_in/fd_out (a tty, before Textual starts) what it can draw.

    The terminal is put in cbreak/no-echo mode for the exchange and restored after; the reply is
    read until DA1 arrives or `timeout` passes. Any OS error gives half blocks with the reason."""
    import termios
    import tty

    env = os.environ if environ is None else environ
    tmux = in_tmux(env)
    try:
        saved = termios.tcgetattr(fd_in)
    except (termios.error, OSError) as exc:
        return GraphicsChoice("halfblocks", f"fallback: not a terminal ({exc})")
    try:
        tty.setcbreak(fd_in, termios.TCSANOW)
        if not tmux and env.get("TERM", "").startswith(_MULTIPLEXER_TERMS):
            # tmux on the other side of `ssh -t` ($TMUX is not sent): tmux answers XTVERSION.
            answer = _exchange(fd_in, fd_out, XTVERSION_QUERY + DA1_QUERY, reply_complete, timeout)
            tmux = is_tmux_version(answer)
        done = partial(reply_complete, tmux=tmux)
        reply = _exchange(fd_in, fd_out, detection_queries(tmux), done, timeout)
    except OSError as exc:
        return GraphicsChoice("halfblocks", f"fallback: terminal query failed ({exc})")
    finally:
        try:
            termios.tcsetattr(fd_in, termios.TCSANOW, saved)
        except (termios.error, OSError):
            pass
    return parse_replies(reply, tmux=tmux)


def _exchange(
    fd_in: int, fd_out: int, query: str, done: Callable[[str], bool], timeout: float
) -> str:
    """Write `query`, read until `done(reply)` or `timeout` passes."""
    os.write(fd_out, query.encode())
    reply = ""
    deadline = time.monotonic() + timeout
    while not done(reply):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        readable, _, _ = select.select([fd_in], [], [], left)
        if not readable:
            break
        chunk = os.read(fd_in, 1024)
        if not chunk:
            break
        reply += chunk.decode("latin-1")
    return reply


def is_tmux_version(reply: str) -> bool:
    """True when the XTVERSION answer in `reply` names tmux (`DCS > | tmux 3.3a ST`)."""
    match = _XTVERSION_REPLY.search(reply)
    return match is not None and match.group(1).lower().startswith("tmux")


def cell_pixel_size(fd: int) -> tuple[int, int] | None:
    """The terminal's cell size in pixels from TIOCGWINSZ, or None when it does not say
    (many terminals report 0 pixels; then the view assumes 10x20)."""
    import fcntl
    import struct
    import termios

    try:
        packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols, xpix, ypix = struct.unpack("HHHH", packed)
    if not rows or not cols or not xpix or not ypix:
        return None
    width, height = xpix // cols, ypix // rows
    return (width, height) if width > 0 and height > 0 else None
