"""Read a saved fio output file (`--output-format=json` or `json+`, one or many documents) for
the report screen: the last document (the final one of a `--status-interval` stream), split by
the one stream parser (`core/fio/stream.py`).

`read_report_file(path)` raises `ReportFileError` with a plain sentence when the file cannot be
read, holds no JSON document, or its last document is not fio's (no `jobs` list of objects).
A stream with problems but a usable last document is accepted; `ReportFile.problem` says what
was skipped (the stream's `error`). No Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from virttui.core.fio.stream import parse_stream

MAX_FILE_BYTES = 512 * 1024 * 1024


class ReportFileError(Exception):
    """The file is not a readable fio JSON output; the message says why, in plain words."""

    plain_message = True  # describe_error shows the sentence without the class name


@dataclass(frozen=True, slots=True)
class ReportFile:
    path: Path
    doc: Mapping[str, Any]  # the last document
    documents: int  # how many documents the file holds
    problem: str | None  # the stream parser's summary of what it skipped, or None


def is_fio_document(doc: Mapping[str, Any]) -> bool:
    jobs = doc.get("jobs")
    return isinstance(jobs, list) and all(isinstance(j, Mapping) for j in jobs) and bool(jobs)


def read_report_file(path: Path | str) -> ReportFile:
    """The last fio JSON document of `path` (see module doc)."""
    where = Path(path).expanduser()
    try:
        size = where.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ReportFileError(
                f"{where}: {size} bytes is too large for a fio output file "
                f"(at most {MAX_FILE_BYTES})"
            )
        data = where.read_bytes()
    except OSError as exc:
        raise ReportFileError(f"cannot read {where}: {exc.strerror or exc}") from None
    if not data.strip():
        raise ReportFileError(f"{where} is empty")
    docs, stream = parse_stream(data)
    if not docs:
        reason = stream.error or "no JSON object starting with '{' at the start of a line"
        raise ReportFileError(f"{where} is not fio's JSON output: {reason}")
    doc = docs[-1]
    if not is_fio_document(doc):
        raise ReportFileError(
            f'{where} holds JSON, but not fio\'s output (no "jobs" list in its '
            "last document): run fio with --output-format=json or json+"
        )
    return ReportFile(where, doc, len(docs), stream.error)
