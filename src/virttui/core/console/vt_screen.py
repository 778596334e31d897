"""A pyte screen for serial consoles: bounded scrollback, terminal replies, fast plain text.

Differences from pyte's own screens, each for a reason:
- Scrollback is a `deque(maxlen=...)` of the lines that scrolled off the top, so memory stays
  bounded; pyte's HistoryScreen wraps every attribute access in Python (about 2x slower) and
  pages by rewriting the live buffer.
- Rows are a list, one per line and always there (`_Rows`): a scroll is one list delete and
  insert in C where pyte re-keys its dict of rows (a third of a plain flood's cost, offline).
  Every row being there also mends pyte's DL, which kept a deleted line above a row never
  written. A resize moves the cursor onto the screen, as xterm (pyte leaves it past the margin).
- Replies the terminal owes the guest (cursor position for `ESC[6n`, which busybox sends after
  each prompt, device attributes) go to a `reply` callback instead of being dropped.
- Runs of printable ASCII (floods, `yes`, logs) are drawn a line at a time with shared `Char`
  objects instead of one Python call per character: identical result, several times faster,
  and a full scrollback line costs one dict, not one tuple per cell.
- The alternate screen (`ESC[?1049h` / `ESC[?47h`), used by `vi` and `top`, is kept apart and
  restored on exit, like xterm.
- Hostile output stays cheap: a cell keeps at most MAX_COMBINING combining marks (pyte appends
  them without limit and renormalises the whole cell each time: a 120 KB flood took a minute),
  zero-width characters pyte cannot place are skipped instead of cutting off the rest of the
  text (pyte stops drawing at the first one), and a long line without autowrap costs one cell write, not one per character.
  Mixed text (random bytes: U+FFFD, C0 controls pyte passes as text, marks) is cut into runs
  of one width class at C speed (regex sets of the whole BMP's width classes, built on first
  use), not a Python step per character.
- Ground-state text (runs of one width class between the controls BS, HT, LF, VT, FF, CR) is
  taken by one loop on the screen (`draw_ground`, called by VtStream) instead of a draw() call
  chain per run and a dispatch per control: same screen, a quarter less CPU per byte of random
  output (a control every ~40 bytes).

`VtStream` is the parser to feed it with: pyte's ByteStream (incremental UTF-8 decoder with
replacement characters), except that an escape sequence pyte raises on, or one longer than
MAX_SEQUENCE characters, is dropped and counted and the parser goes on with the next byte.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from typing import Any
from unicodedata import combining

import pyte
from pyte import control as ctrl
from pyte import modes as mo
from pyte.charsets import LAT1_MAP
from pyte.screens import Char, StaticDefaultDict
from wcwidth import wcwidth

log = logging.getLogger(__name__)

DEFAULT_SCROLLBACK = 1000
DECCKM = 1 << 5  # private mode 1 (application cursor keys), shifted like pyte's private modes
_ALT_SCREEN_MODES = (1049, 1047, 47)
MAX_COMBINING = 4  # combining marks kept per cell (more are dropped)
MAX_SEQUENCE = 4096  # characters in one escape sequence (CSI parameters, OSC string)


# A complete CSI with at most 64 digits and semicolons, `?` first or not (what nearly every
# program sends): dispatched in one step from the ground state, bypassing pyte's generator.
_CSI = re.compile(r"(?:\x1b\[|\x9b)(\?)?([0-9;]{0,64})([@-~])")
# What may still become such a CSI when the next read comes: kept for it instead of going to pyte
# character by character (a 2 KB slice boundary falls inside a sequence in a flood of them).
_CSI_PREFIX = re.compile(r"\x1b(?:\[\??[0-9;]{0,64})?|\x9b\??[0-9;]{0,64}")
_CSI_CACHE_SIZE = 512  # distinct CSI strings remembered with their parsed arguments
_SHIFTS = "\x0e\x0f"  # SO / SI: pyte ignores them in UTF-8 mode
# What pyte's Stream does not take as plain text (its `_text_pattern` excludes these).
_PYTE_SPECIAL = frozenset(
    {ctrl.ESC, ctrl.CSI_C1, ctrl.NUL, ctrl.DEL, ctrl.OSC_C1, *pyte.Stream.basic}
)
# Plain text runs as pyte's `_text_pattern`, except that the controls that change nothing on
# the screen stay inside a run (VtScreen.draw skips them as zero-width): NUL, DEL and BEL
# (pyte's bell() is a stub), and SO / SI in UTF-8 mode. Random bytes hold one such control every
# 64 bytes: each cut the text into one more draw call. Keyed by `use_utf8`.
_QUIET = frozenset({ctrl.NUL, ctrl.DEL, ctrl.BEL})
_PLAIN_TEXT = {
    utf8: re.compile("[^" + "".join(map(re.escape, sorted(_PYTE_SPECIAL - _QUIET - shifts))) + "]+")
    for utf8, shifts in ((False, frozenset()), (True, frozenset(_SHIFTS)))
}


class VtStream(pyte.ByteStream):
    """pyte's ByteStream that survives any input, and stays fast on hostile input.

    pyte 0.8.2 raises on some sequences (`ESC[` + 5000 digits, `ESC[9J`, `ESC[6;1n`...) and keeps
    every parameter digit and OSC character it is given (an unterminated OSC grows forever).
    Here such a sequence is dropped, counted in `dropped_sequences` (logged at debug level,
    never drawn) and parsing resumes in the ground state with the next character. A CSI longer
    than MAX_SEQUENCE is skipped up to its final byte, like xterm; an OSC that long is given up
    (its terminator may never come) and what follows is drawn as text.

    Speed: pyte parses every character of an escape sequence through a generator, one Python
    call each (several times the cost of text per byte, so a flood of sequences backed up the
    console). From the ground state, the usual cases are handled here in one step with the same
    result as pyte's parser: a complete CSI matching `_CSI` (same parameters, same screen method,
    same `private` flag) and a single control character (CR, LF, BS...). A screen method
    raising on such a CSI drops it without rebuilding the parser (it never left the ground
    state). Anything else (other escapes, OSC, a CSI split across reads or with unusual bytes)
    goes through pyte's parser as before. Before all that, in UTF-8 mode, ground-state text goes
    to the screen's `draw_ground` if it has one (VtScreen), which takes what it can in one loop.
    """

    def __init__(self, screen: pyte.Screen) -> None:
        self._dropped = 0
        self.last_error = ""
        self._seq_len = 0
        self._seq_head = ""
        self._skipping_csi = False
        self._carry = ""
        self._csi_cache: dict[str, tuple[Callable[..., None], list[int], bool]] = {}
        super().__init__(screen)

    def attach(self, screen: pyte.Screen) -> None:
        super().attach(screen)
        # Bound once, like pyte's own dispatchers (see Stream: methods are bound at attach).
        debug = screen.debug
        self._csi_handlers: dict[str, Callable[..., None]] = {
            final: getattr(screen, name) for final, name in self.csi.items()
        }
        self._debug = debug
        self._controls: dict[str, Callable[[], None]] = {
            char: getattr(screen, name) for char, name in self.basic.items()
        }
        self._controls["\x00"] = self._controls["\x7f"] = _ignore

    def _send_to_parser(self, data: str) -> bool | None:
        if self._skipping_csi:
            if data == "\x1b":
                self._skipping_csi = False  # a new sequence: pyte takes it from here
            elif "@" <= data <= "~" or data in "\x18\x1a":
                self._skipping_csi = False  # the final byte (or CAN/SUB) ends the skipped CSI
                return True
            else:
                return False
        self._seq_len += 1
        if self._seq_len <= 2:
            self._seq_head += data
        if self._seq_len > MAX_SEQUENCE:
            csi = self._seq_head.startswith(("\x1b[", "\x9b"))
            self._drop(f"sequence longer than {MAX_SEQUENCE} characters")
            self._skipping_csi = csi
            return not csi
        try:
            assert self._parser is not None
            taking_plain_text = self._parser.send(data)
        except Exception as exc:  # noqa: BLE001 - any pyte failure drops one sequence, no more
            self._drop(f"{type(exc).__name__}: {exc}")
            return True
        if taking_plain_text:
            self._seq_len = 0
            self._seq_head = ""
        return taking_plain_text

    @property
    def dropped_sequences(self) -> int:
        """Sequences dropped here plus those the screen refused (VtScreen.rejected_sequences)."""
        return self._dropped + getattr(self.listener, "rejected_sequences", 0)

    def _drop(self, why: str) -> None:
        self._initialize_parser()  # a generator that raised cannot go on: a new one (costly)
        self._seq_len = 0
        self._seq_head = ""
        self._count_drop(why)

    def _count_drop(self, why: str) -> None:
        self._dropped += 1
        self.last_error = why[:200]
        log.debug("dropped an escape sequence: %s", self.last_error)

    def feed(self, data: bytes) -> None:  # type: ignore[override]  # bytes in, decoded here (pyte's takes str)
        text = self.utf8_decoder.decode(data) if self.use_utf8 else data.decode("latin-1")
        if self._carry:
            text, self._carry = self._carry + text, ""
        try:
            self._feed_text(text)
        except Exception as exc:  # noqa: BLE001 - drawing failed: drop the rest of this chunk
            self._drop(f"{type(exc).__name__}: {exc}")

    def _feed_text(self, data: str) -> None:
        """pyte's Stream.feed plus the ground-state shortcuts (see the class docstring)."""
        assert self.listener is not None
        draw = self.listener.draw
        match_text = _PLAIN_TEXT[self.use_utf8].match
        match_csi = _CSI.match
        csi_cache = self._csi_cache
        controls = self._controls
        send = self._send_to_parser
        taking_plain_text = self._taking_plain_text
        # Runs of width-1 text and simple controls, in one loop on the screen (VtScreen's).
        draw_ground = getattr(self.listener, "draw_ground", None)
        ground = draw_ground if self.use_utf8 else None
        length = len(data)
        offset = 0
        while offset < length:
            if not taking_plain_text:
                taking_plain_text = send(data[offset])
                offset += 1
                # ESC % G / ESC % @ (through pyte's parser) switch UTF-8 mode: SO / SI differ.
                match_text = _PLAIN_TEXT[self.use_utf8].match
                ground = draw_ground if self.use_utf8 else None
                continue
            if ground is not None and data[offset] != "\x1b":
                offset = ground(data, offset)
                if offset >= length:
                    break
            match = match_text(data, offset)
            if match:
                start, offset = match.span()
                draw(data[start:offset])
                continue
            char = data[offset]
            control = controls.get(char)
            if control is not None:
                offset += 1
                if char in _SHIFTS and self.use_utf8:
                    continue
                try:
                    control()
                except Exception as exc:  # noqa: BLE001 - as in _send_to_parser
                    self._count_drop(f"{type(exc).__name__}: {exc}")
                continue
            match = match_csi(data, offset)
            if match:
                offset = match.end()
                entry = csi_cache.get(match.group())
                if entry is None:
                    entry = self._parse_csi(match)
                handler, args, private = entry
                try:
                    if private:
                        handler(*args, private=True)
                    else:
                        handler(*args)
                except Exception as exc:  # noqa: BLE001 - refused: dropped, parser intact
                    self._count_drop(f"{type(exc).__name__}: {exc}")
                continue
            if length - offset <= 67 and _CSI_PREFIX.fullmatch(data, offset):
                self._carry = data[offset:]  # the rest of this CSI comes with the next read
                break
            taking_plain_text = False
        self._taking_plain_text = taking_plain_text

    def _parse_csi(self, match: re.Match[str]) -> tuple[Callable[..., None], list[int], bool]:
        # As pyte: each parameter is int(digits or 0) capped at 9999; `?` adds private=True.
        private, params, final = match.groups()
        args = [min(int(p or 0), 9999) for p in params.split(";")]
        entry = (self._csi_handlers.get(final, self._debug), args, bool(private))
        if len(self._csi_cache) >= _CSI_CACHE_SIZE:
            self._csi_cache.clear()
        self._csi_cache[match.group()] = entry
        return entry


def _ignore() -> None:
    """NUL and DEL: pyte's parser skips them."""


def _width_class(code: int) -> str:
    char = chr(code)
    width = wcwidth(char)
    if width > 0:
        return "2" if width > 1 else "1"
    if width == 0:
        return "c" if combining(char) else "0"
    return "-"


class _WidthClasses(dict[int, str]):
    """Code point -> its width class for `str.translate`: "1" / "2" (columns), "c" (a combining
    mark, width 0), "0" (other zero width) or "-" (unprintable). Bounded."""

    def __missing__(self, code: int) -> str:
        kind = _width_class(code)
        if len(self) >= 1 << 16:
            self.clear()
        self[code] = kind
        return kind


class _Visible(dict[int, int | None]):
    """Code point -> None (deleted by `str.translate`) for those of width class "0" or "-"."""

    def __missing__(self, code: int) -> int | None:
        kept = code if _WIDTH_CLASSES[code] in "12c" else None
        if len(self) >= 1 << 16:
            self.clear()
        self[code] = kept
        return kept


_WIDTH_CLASSES = _WidthClasses()
_VISIBLE = _Visible()
_CLASS_RUNS = re.compile(r"1+|2+|c+")


def _class_set(classes: str, kinds: str) -> str:
    """A regex character set of the code points whose width class (`kinds[code]`) is one of
    `classes`."""
    spans: list[str] = []
    first = last = -2
    for code, kind in enumerate(kinds):
        if kind not in classes:
            continue
        if code != last + 1:
            if first >= 0:
                spans.append(f"\\U{first:08x}-\\U{last:08x}")
            first = code
        last = code
    if first >= 0:
        spans.append(f"\\U{first:08x}-\\U{last:08x}")
    return "".join(spans)


class _BmpRuns:
    """Every code point of the Basic Multilingual Plane (all that random bytes decode to, and
    nearly all text) sorted into width classes once, with the same rule as _WIDTH_CLASSES (so
    these cannot disagree with it), as regex character sets: a run is classified and split at
    C speed (a regex costs a few ns per character, str.translate with the caching dicts ~70).
    Built on the first non-ASCII text (about 30 ms, on the feeder thread), not at import."""

    def __init__(self) -> None:
        kinds = "".join(map(_width_class, range(0x10000)))
        narrow, skipped = _class_set("1", kinds), _class_set("-0", kinds)
        wide, marks = _class_set("2", kinds), _class_set("c", kinds)
        # For draw_ground: what changes nothing without ending a text run, apart as printable
        # ("p": str.isprintable() cannot tell them from text) or not.
        ground = "".join(
            "e"
            if code in _GROUND_ENDS
            else "p"
            if kind in "-0" and chr(code).isprintable()
            else kind
            for code, kind in enumerate(kinds)
        )
        self.narrow, self.wide, self.marks = narrow, wide, marks
        self.quiet, self.hidden = _class_set("-0", ground), _class_set("p", ground)
        self.skipped = re.compile(f"[{skipped}]+")
        # One match per run: width 1 (skipped characters inside, removed when drawn), width 2,
        # combining marks, or beyond the BMP (classified one character at a time).
        self.runs = re.compile(
            f"([{narrow}{skipped}]+)|([{wide}]+)|([{marks}]+)|([\\U00010000-\\U0010ffff]+)"
        )

    def ground(self) -> _Ground:
        """draw_ground's tokens with these width classes."""
        return _Ground(self.narrow, self.quiet, self.wide, self.marks, self.hidden)


_BMP: _BmpRuns | None = None


def _bmp_runs() -> _BmpRuns:
    global _BMP, _GROUND  # noqa: PLW0603 - built once, on first use
    if _BMP is None:
        _BMP = _BmpRuns()
        _GROUND = _BMP.ground()
    return _BMP


# The controls VtScreen.draw_ground handles itself: BS, HT, LF, VT, FF, CR (pyte's `basic` but
# BEL, SO and SI, which change nothing in UTF-8 mode and stay inside a text run).
_GROUND_CONTROLS = r"\x08-\x0d"
# What ends a text run in the ground state besides those: ESC and the C1 CSI / OSC (pyte's).
_GROUND_ENDS = frozenset(range(0x08, 0x0E)) | {0x1B, 0x9B, 0x9D}
# C0 characters that change nothing on the screen in UTF-8 mode: those pyte passes as text
# (then skips as unprintable) and NUL, BEL, SO, SI, DEL (see _QUIET).
_ASCII_QUIET = r"\x00-\x07\x0e-\x1a\x1c-\x1f\x7f"


class _Ground:
    """The tokens of ground-state text that VtScreen.draw_ground takes in one loop (by group): a
    run of characters of width 1 with, inside it, characters that change nothing and that
    str.isprintable() calls unprintable (controls, format characters: removed with `quiet`)
    (1), a run of width-2 characters (2), a run of combining marks (3), CR LF (4: every line
    of text is one token), a run of other characters that change nothing (5: zero-width
    letters and marks pyte cannot place, `hidden`), or one of the controls BS, HT, LF, VT, FF,
    CR (no group). Anything else (ESC, C1 CSI / OSC, beyond the BMP) ends the loop.

    Until the BMP's width classes are built (_BmpRuns, on the first text that needs them), the
    width-1 characters are printable ASCII and U+FFFD (and there are no wide ones or marks): an
    ASCII console never pays for them."""

    def __init__(
        self, narrow: str, quiet: str, wide: str = "", marks: str = "", hidden: str = ""
    ) -> None:
        wide_run, marks_run, hidden_run = (
            f"([{chars}]+)" if chars else "((?!))" for chars in (wide, marks, hidden)
        )
        self.token = re.compile(
            f"([{narrow}{quiet}]+)|{wide_run}|{marks_run}|(\r\n)|{hidden_run}|[{_GROUND_CONTROLS}]"
        )
        self.quiet = re.compile(f"[{quiet}]+")


_GROUND = _Ground(r"\x20-\x7e\ufffd", _ASCII_QUIET)


# U+FFFD (invalid UTF-8: half of random bytes) is looked up in the cell cache as a C1 control,
# never drawn (skipped as unprintable), so never in drawn text: iterating a string makes a new
# object for every character beyond Latin-1, and hashes it, but reuses one for each Latin-1 one.
_FFFD, _FFFD_KEY = "\ufffd", "\x80"
_new_tuple = tuple.__new__  # what a namedtuple's own __new__ calls (Char._replace: ~10x slower)


class _CharCache(dict[str, Char]):
    """One shared Char per (character, attributes). Random bytes decode to thousands of distinct
    characters (a miss every ~90 bytes): a miss builds the Char in one C call."""

    def __init__(self, attrs: Char) -> None:
        super().__init__()
        self.attrs = attrs
        self._rest = tuple(attrs[1:])  # every field but `data`

    def __missing__(self, key: str) -> Char:
        char = _new_tuple(Char, (_FFFD if key == _FFFD_KEY else key, *self._rest))
        self[key] = char
        return char


_Row = StaticDefaultDict[int, Char]


class _Rows(list[_Row]):
    """The screen's rows in a list, one per line, each always there (an empty row is blank).

    pyte keeps a dict of line number -> row and scrolls by re-keying every row (a flood scrolls
    thousands of times a second: that was about half of a plain flood's cost); here a scroll
    is one list delete and one insert, in C. Indexing is list indexing (C speed); the dict
    methods pyte calls on its buffer are here with its meaning: `pop(y)` and `clear()` leave
    blank rows, `y in rows` asks whether y is a line of the screen.
    """

    __slots__ = ("new_row",)

    def __init__(self, new_row: Callable[[], _Row], lines: int) -> None:
        super().__init__(new_row() for _ in range(lines))
        self.new_row = new_row

    def get(self, y: int, default: _Row | None = None) -> _Row | None:
        return self[y] if 0 <= y < len(self) else default

    def pop(self, y: int, default: _Row | None = None) -> _Row | None:  # type: ignore[override]  # pyte's dict-style pop
        if not 0 <= y < len(self):
            return default
        row = self[y]
        self[y] = self.new_row()
        return row

    def __contains__(self, y: object) -> bool:
        return isinstance(y, int) and 0 <= y < len(self)

    def values(self) -> list[_Row]:
        return list(self)

    def clear(self) -> None:
        self[:] = [self.new_row() for _ in range(len(self))]

    def set_lines(self, lines: int) -> None:
        """Rows dropped or blank rows added at the bottom (pyte's resize already moved them)."""
        if lines < len(self):
            del self[lines:]
        else:
            self.extend(self.new_row() for _ in range(lines - len(self)))


class VtScreen(pyte.Screen):
    def __init__(
        self,
        columns: int,
        lines: int,
        *,
        scrollback: int = DEFAULT_SCROLLBACK,
        reply: Callable[[str], None] | None = None,
    ) -> None:
        self.scrollback: deque[dict[int, Char]] = deque(maxlen=max(0, scrollback))
        self._reply = reply
        self._char_caches: dict[Char, _CharCache] = {}
        self._last_attrs: Char | None = None
        self._last_char_cache: _CharCache | None = None
        self._saved_main: list[_Row] | None = None
        self.rejected_sequences = 0
        self.scrolled = 0  # lines scrolled off the top so far (the view's jump scroll reads it)
        self._blank = Char(data=" ", fg="default", bg="default", reverse=False)
        super().__init__(columns, lines)
        # Rows in a list (_Rows: a scroll is one C call); pyte's factory built a typing alias
        # instance and a new default Char for every row a scroll brought in; ours shares one.
        self.buffer: _Rows = _Rows(self._new_line, lines)  # type: ignore[assignment]  # pyte's dict-like buffer

    def _new_line(self) -> StaticDefaultDict[int, Char]:
        blank = self._blank
        reverse = mo.DECSCNM in self.mode
        if blank.reverse != reverse:  # pyte's default_char follows DECSCNM (reverse video)
            blank = self._blank = blank._replace(reverse=reverse)
        return StaticDefaultDict(blank)

    # ------------------------------------------------------------------ replies
    def write_process_input(self, data: str) -> None:
        if self._reply is not None:
            self._reply(data)

    @property
    def app_cursor_keys(self) -> bool:
        """DECCKM is set: cursor keys send SS3 sequences (vi, less, top)."""
        return DECCKM in self.mode

    # ------------------------------------------------------------------ scrollback
    @property
    def in_alternate_screen(self) -> bool:
        return self._saved_main is not None

    def index(self) -> None:
        # pyte's index, plus scrollback; the rows move in one list delete + insert.
        lines = self.lines
        margins = self.margins
        top, bottom = (0, lines - 1) if margins is None else margins
        if self.cursor.y != bottom:
            self.cursor_down()
            return
        rows = self.buffer
        if top == 0 and bottom == lines - 1 and self._saved_main is None:
            self.scrollback.append(rows[top] or {})
        self.scrolled += 1
        self.dirty.update(range(lines))
        del rows[top]
        rows.insert(bottom, self._new_line())

    def reverse_index(self) -> None:
        # pyte's reverse_index (ESC M, scroll down at the top margin), as one list delete + insert.
        top, bottom = (0, self.lines - 1) if self.margins is None else self.margins
        if self.cursor.y != top:
            self.cursor_up()
            return
        self.dirty.update(range(self.lines))
        rows = self.buffer
        del rows[bottom]
        rows.insert(top, self._new_line())

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        super().resize(lines, columns)
        self.buffer.set_lines(self.lines)
        # pyte leaves the cursor where it was, past the new margin or below the last line (the
        # next character went off screen, or to a row that is not there); xterm moves it in.
        self.ensure_hbounds()
        self.ensure_vbounds(use_margins=False)

    # pyte raises on these parameters (then VtStream has to rebuild its parser, which is slow
    # under a flood of them): refuse them here, counted like the dropped ones.
    def erase_in_line(self, how: int = 0, private: bool = False) -> None:
        if how not in (0, 1, 2):
            self.rejected_sequences += 1
            return
        super().erase_in_line(how, private)

    def report_device_status(self, *args: Any, **kwargs: Any) -> None:
        if len(args) != 1 or kwargs:
            self.rejected_sequences += 1
            return
        super().report_device_status(args[0])

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how not in (0, 1, 2, 3):
            self.rejected_sequences += 1
            return
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:
            self.scrollback.clear()

    def reset(self) -> None:
        super().reset()
        self._saved_main = None
        if hasattr(self, "scrollback"):
            self.scrollback.clear()

    # ------------------------------------------------------------------ alternate screen
    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_SCREEN_MODES for m in modes):
            self._enter_alternate()
            modes = tuple(m for m in modes if m not in _ALT_SCREEN_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and any(m in _ALT_SCREEN_MODES for m in modes):
            self._leave_alternate()
            modes = tuple(m for m in modes if m not in _ALT_SCREEN_MODES)
        super().reset_mode(*modes, **kwargs)

    def _enter_alternate(self) -> None:
        if self._saved_main is not None:
            return
        self.save_cursor()
        self._saved_main = list(self.buffer)
        self.buffer.clear()
        self.dirty.update(range(self.lines))

    def _leave_alternate(self) -> None:
        if self._saved_main is None:
            return
        saved, self._saved_main = self._saved_main, None
        self.buffer.clear()
        for y, line in enumerate(saved[: self.lines]):
            self.buffer[y] = line
        self.restore_cursor()
        self.dirty.update(range(self.lines))

    # ------------------------------------------------------------------ fast drawing
    def draw_ground(self, data: str, pos: int) -> int:
        """Take ground-state text from `data[pos:]` (decoded, UTF-8 mode) for as long as it is
        runs of characters of one width class (_Ground) and the controls BS, HT, LF, VT, FF,
        CR; return where it stopped (ESC, C1 CSI / OSC, beyond the BMP: the parser's).

        The same screen as the parser's path (draw() per run, a screen method per control) in
        one loop: a flood of lines or of random bytes (a control every ~40 characters) is one
        regex match and a row update per run instead of half a dozen Python calls. Only with
        the default character set, autowrap on, insert and new-line modes off; else nothing is
        taken."""
        if (
            not self._fills_rows()
            or mo.LNM in self.mode
            or (self.g1_charset if self.charset else self.g0_charset) is not LAT1_MAP
        ):
            return pos
        ground = _GROUND
        token, quiet = ground.token.match, ground.quiet.sub
        cursor = self.cursor
        getitem = self._char_cache(cursor.attrs).__getitem__
        buffer, columns, dirty_add = self.buffer, self.columns, self.dirty.add
        while True:
            match = token(data, pos)
            if match is None:
                return pos
            pos = match.end()
            kind = match.lastindex
            if kind is None:  # one control
                char = data[pos - 1]
                if char == "\r":
                    cursor.x = 0
                elif char == "\x08":
                    self.backspace()
                elif char == "\t":
                    self.tab()
                else:  # LF, VT, FF: pyte's linefeed with LNM off
                    self.index()
                continue
            if kind == 4:  # CR LF
                cursor.x = 0
                self.index()
                continue
            if kind == 5:  # zero width, nowhere to go: skipped, as draw() does
                continue
            text = match.group(kind)
            if kind == 2:
                self._draw_wide(text)
                continue
            if kind == 3:
                self._combine(text)
                continue
            if not text.isprintable():
                text = quiet("", text)
            if _FFFD in text:
                text = text.replace(_FFFD, _FFFD_KEY)
            x, length = cursor.x, len(text)
            # Fits in the row (the usual case): _fill's first case, inline (calling _fill per
            # run cost plain lines ~25 % more CPU per byte, random bytes ~9 %, offline A/B).
            if x + length <= columns:
                if length:
                    buffer[cursor.y].update(
                        zip(range(x, x + length), map(getitem, text), strict=True)
                    )
                    cursor.x = x + length
                    dirty_add(cursor.y)
            else:
                self._fill(text)

    def draw(self, data: str) -> None:
        charset = self.g1_charset if self.charset else self.g0_charset
        if charset is not LAT1_MAP:  # the default maps every character to itself
            data = data.translate(charset)
        if not (data.isascii() and data.isprintable()):
            self._draw_unicode(data)
            return
        if mo.IRM in self.mode:
            super().draw(data)
            return
        if mo.DECAWM not in self.mode:
            # Without autowrap every character past the margin overwrites the last column:
            # only the last one stays, so a 10 MB line costs one write, not ten million.
            # A cursor at the margin (room 0) draws as pyte does: each character lands in the
            # last column, so the last one stays.
            room = self.columns - self.cursor.x
            if len(data) > room:
                data = data[: room - 1] + data[-1] if room > 0 else data[0] + data[-1]
            super().draw(data)
            return
        self._fill(data)

    def _fill(self, data: str) -> None:
        """Draw characters of width 1 with autowrap on and insert mode off, a row at a time."""
        if _FFFD in data:
            data = data.replace(_FFFD, _FFFD_KEY)
        cursor = self.cursor
        cache = self._char_cache(cursor.attrs)
        columns = self.columns
        x, end = cursor.x, len(data)
        if x + end <= columns:  # the usual case: it fits in the row (random bytes: ~40 chars)
            self.buffer[cursor.y].update(
                zip(range(x, x + end), map(cache.__getitem__, data), strict=True)
            )
            cursor.x = x + end
            self.dirty.add(cursor.y)
            return
        pos = 0
        while pos < end:
            if cursor.x >= columns:
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            take = min(columns - x, end - pos)
            chunk = data[pos : pos + take]
            cells = zip(range(x, x + take), map(cache.__getitem__, chunk), strict=True)
            self.buffer[cursor.y].update(cells)
            cursor.x = x + take
            pos += take
        self.dirty.add(cursor.y)

    def _draw_unicode(self, data: str) -> None:
        """pyte's draw, except for zero-width characters: combining marks are capped per cell,
        other zero-width or unprintable ones are skipped (pyte would stop drawing there and
        lose the rest of the text).

        The text is cut into runs of one width class by a regex (_BmpRuns, C speed): mixed text
        (invalid UTF-8 turned into U+FFFD between ASCII and controls, random bytes) costs a few
        calls per run instead of a Python step per character; most runs are width 1 only."""
        bmp = _BMP or _bmp_runs()
        narrow = self._narrow_drawer()
        for run in bmp.runs.finditer(data):
            text = run.group()
            kind = run.lastindex
            if kind == 1:  # é, ж, U+FFFD, ASCII; C0 / C1 controls pyte passes as text dropped
                text = bmp.skipped.sub("", text)
                if text:
                    narrow(text)
            elif kind == 2:
                self._draw_wide(text)
            elif kind == 3:
                self._combine(text)
            else:
                self._draw_classified(text)

    def _draw_wide(self, data: str) -> None:
        """Characters of width 2 (CJK...): pyte's draw without its per-character wcwidth and
        Char building, when autowrap is on and insert mode off (else pyte's own)."""
        if not self._fills_rows():
            super().draw(data)
            return
        cursor = self.cursor
        cache = self._char_cache(cursor.attrs)
        stub = cache[""]  # pyte's empty cell after a wide character
        columns, buffer = self.columns, self.buffer
        for char in data:
            if cursor.x == columns:  # as pyte: wrap first, only at the margin
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            line = buffer[cursor.y]
            line[x] = cache[char]
            if x + 1 < columns:
                line[x + 1] = stub
            cursor.x = min(x + 2, columns)
        self.dirty.add(cursor.y)

    def _draw_classified(self, data: str) -> None:
        """Characters beyond the BMP (emoji...): width classes from _WIDTH_CLASSES."""
        classes = data.translate(_WIDTH_CLASSES)
        if "-" in classes or "0" in classes:
            data = data.translate(_VISIBLE)  # skipped anyway
            classes = classes.replace("-", "").replace("0", "")
        for run in _CLASS_RUNS.finditer(classes):
            start, end = run.span()
            kind = classes[start]
            if kind == "1":
                self._draw_widths(data[start:end], 1)
            elif kind == "2":
                super().draw(data[start:end])
            else:
                self._combine(data[start:end])

    def _draw_widths(self, data: str, widest: int) -> None:
        (self._narrow_drawer() if widest == 1 else super().draw)(data)

    def _narrow_drawer(self) -> Callable[[str], None]:
        """What draws characters of width 1: `_fill` (é, ж, U+FFFD...: as fast as ASCII) when
        autowrap is on and insert mode off, else pyte's draw."""
        return self._fill if self._fills_rows() else super().draw

    def _fills_rows(self) -> bool:
        """Autowrap on and insert mode off: the fast paths may write cells row by row."""
        return mo.DECAWM in self.mode and mo.IRM not in self.mode

    def _combine(self, marks: str) -> None:
        """Combining marks onto the previous cell, as pyte does, up to MAX_COMBINING per cell."""
        cursor = self.cursor
        if cursor.x == self.columns and mo.DECAWM in self.mode:
            self.dirty.add(cursor.y)
            self.carriage_return()
            self.linefeed()
        if cursor.x:
            cell = self.buffer[cursor.y][min(cursor.x, self.columns) - 1]
        elif cursor.y:
            cell = self.buffer[cursor.y - 1][self.columns - 1]
        else:
            return  # nothing to combine with: pyte drops it too
        room = MAX_COMBINING + 1 - len(cell.data)
        if room > 0:
            super().draw(marks[:room])

    def _char_cache(self, attrs: Char) -> _CharCache:
        """The shared cells of these attributes; a flood of distinct characters must not grow
        the cache without end."""
        cache = self._last_char_cache
        if attrs is not self._last_attrs or cache is None:  # else no hashing of the attributes
            cache = self._char_caches.get(attrs)
            if cache is None:
                if len(self._char_caches) > 64:
                    self._char_caches.clear()
                cache = self._char_caches[attrs] = _CharCache(attrs)
            self._last_attrs, self._last_char_cache = attrs, cache
        if len(cache) > 4096:
            cache.clear()
        return cache
