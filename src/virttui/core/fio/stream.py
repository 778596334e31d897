"""Incremental parser for fio's `--output-format=json+ --status-interval=1` output stream.

fio appends one whole JSON document per status interval (all counters cumulative) and a final
one at the end (also on SIGINT). Each document starts with `{` in column 0 and ends with `}` in
column 0; everything inside is indented by fio's JSON printer. fio writes its error messages to
the same file (`--output` sets both its output and error streams), so lines such as
`fio: terminating on signal 2` or `fio: io_u error on file ...` land between documents or even
inside one (fio issue #731), even in the middle of a line (another process's stdio buffer
flushed at an odd point).

`FioStream.feed(bytes)` takes any chunk (partial lines, partial documents) and returns the
documents completed by it. Nothing raises: a line outside a document is kept as noise, an
unindented line inside a document is taken out of it as noise, a `fio: ...` message cut into
the middle of a line is taken out when the document does not parse without that, a document that does not parse is
recorded as a `StreamProblem` and skipped, a document cut short by a new `{` or by the end of the
stream (`finish()`) is a `truncated` problem. Everything parsed before stays available
(`last`, `count`). `error` is a one-line plain-language summary for the UI, or None.

Done: the parser and its tests (tests/core/fio/test_stream.py, on recorded streams in
tests/core/fio/data plus truncated and garbage variants). The UI session only reads `error`,
`problems` and `noise` to show them.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

ProblemKind = Literal["invalid", "truncated", "too-large"]
NOISE_KEPT = 50
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024

Document = dict[str, Any]
# fio's error messages start with "fio: " and end the line; one written into the middle of a
# JSON line (another process's stdio buffer flushed at an odd point) is cut out at a retry
_FIO_MESSAGE = re.compile(r"fio: [^\n]*\n")


@dataclass(frozen=True, slots=True)
class StreamProblem:
    kind: ProblemKind
    line: int  # 1-based line of the stream where the document started
    message: str


class FioStream:
    """Feed bytes, get whole documents. Keeps the last document, not all of them."""

    def __init__(self) -> None:
        self._pending = b""  # an incomplete line
        self._doc: list[str] | None = None  # lines of the document being read
        self._raw: list[str] = []  # the same lines with the foreign ones left in
        self._doc_noise: list[str] = []  # the foreign lines taken out of it
        self._doc_size = 0
        self._doc_start = 0
        self._line_no = 0
        self._finished = False
        self.count = 0
        self.last: Document | None = None
        self.problems: list[StreamProblem] = []
        self.noise: deque[str] = deque(maxlen=NOISE_KEPT)  # the last foreign lines
        self.noise_lines = 0

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> list[Document]:
        """Take a chunk of the stream; return the documents it completed, in order."""
        if self._finished or not data:
            return []
        buf = self._pending + data
        lines = buf.split(b"\n")
        self._pending = lines.pop()
        out: list[Document] = []
        for raw in lines:
            self._line(raw, out)
        if len(self._pending) > MAX_LINE_BYTES:  # garbage without newlines: do not hoard it
            self._line(self._pending, out)
            self._pending = b""
        return out

    def finish(self) -> list[Document]:
        """The stream ended: take the last line; an open document is truncated."""
        if self._finished:
            return []
        out: list[Document] = []
        if self._pending:
            self._line(self._pending, out)
            self._pending = b""
        if self._doc is not None:
            self._problem(
                "truncated",
                f"the stream ends inside a document ({len(self._doc)} lines read)",
            )
            for line in self._doc_noise:
                self._noise(line)
            self._doc = None
        self._finished = True
        return out

    # ------------------------------------------------------------------ state
    @property
    def in_document(self) -> bool:
        return self._doc is not None

    @property
    def error(self) -> str | None:
        """A one-line summary of what went wrong, or None when every document parsed."""
        if not self.problems:
            return None
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        kept = (
            f"; {self.count} document{'s' if self.count != 1 else ''} parsed are kept"
            if self.count
            else "; no document parsed"
        )
        return f"fio output at line {first.line}: {first.message}{tail}{kept}"

    # ------------------------------------------------------------------ internals
    def _line(self, raw: bytes, out: list[Document]) -> None:
        self._line_no += 1
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if text.startswith("{"):
            if self._doc is not None:
                self._problem(
                    "truncated",
                    f"a document ends after {len(self._doc)} lines without its closing brace",
                )
                for line in self._doc_noise:
                    self._noise(line)
            self._doc = [text]
            self._raw = [text]
            self._doc_noise = []
            self._doc_size = len(text)
            self._doc_start = self._line_no
            if text.rstrip() == "{}" or (text.endswith("}") and len(text) > 1):
                self._close(out)  # a one-line document
            return
        if self._doc is None:
            if text.strip():
                self._noise(text)
            return
        self._raw.append(text)
        if text.startswith("}"):
            self._doc.append(text)
            self._close(out)
            return
        if text and not text[0].isspace():
            self._doc_noise.append(text)  # an error line fio wrote into a document
            return
        self._doc.append(text)
        self._doc_size += len(text) + 1
        if self._doc_size > MAX_DOCUMENT_BYTES:
            self._problem("too-large", f"a document is larger than {MAX_DOCUMENT_BYTES} bytes")
            self._doc = None
            self._raw = []

    def _close(self, out: list[Document]) -> None:
        assert self._doc is not None
        text = "\n".join(self._doc)
        raw = "\n".join(self._raw)
        taken_out = self._doc_noise
        self._doc = None
        self._raw = []
        self._doc_noise = []
        try:
            value = json.loads(text)
        except ValueError as exc:
            value = self._recover(raw)
            if value is None:
                for line in taken_out:
                    self._noise(line)
                self._problem("invalid", f"a document is not valid JSON ({_short(exc)})")
                return
        else:
            for line in taken_out:
                self._noise(line)
        if not isinstance(value, dict):
            self._problem("invalid", "a document is not a JSON object")
            return
        self.count += 1
        self.last = value
        out.append(value)

    def _recover(self, raw: str) -> Any:
        """A fio message cut into the middle of a line: take it out and try again."""
        found = _FIO_MESSAGE.findall(raw + "\n")
        if not found:
            return None
        try:
            value = json.loads(_FIO_MESSAGE.sub("", raw + "\n"))
        except ValueError:
            return None
        for message in found:
            self._noise(message.rstrip("\n"))
        return value

    def _problem(self, kind: ProblemKind, message: str) -> None:
        self.problems.append(StreamProblem(kind, self._doc_start, message))

    def _noise(self, text: str) -> None:
        self.noise_lines += 1
        self.noise.append(text[:500])


def _short(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at document line {exc.lineno} column {exc.colno}"
    return str(exc)[:200]


def parse_stream(data: bytes) -> tuple[list[Document], FioStream]:
    """Parse a whole stream at once (a saved output file): all documents and the parser."""
    stream = FioStream()
    docs = stream.feed(data)
    docs += stream.finish()
    return docs, stream
