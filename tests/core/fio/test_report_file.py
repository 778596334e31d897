"""Opening a saved fio output file for the report: the last document, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from virttui.core.fio.report_file import ReportFileError, read_report_file
from virttui.core.fio.stream import parse_stream

DATA = Path(__file__).parent / "data"


def test_last_document_of_a_stream() -> None:
    got = read_report_file(DATA / "randrw-2s.json")
    docs, _ = parse_stream((DATA / "randrw-2s.json").read_bytes())
    assert got.documents == 3 and got.doc == docs[-1] and got.problem is None


def test_stream_with_a_fio_message_and_a_truncated_tail(tmp_path: Path) -> None:
    raw = (DATA / "randread-sigint.json").read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(raw + b'{\n  "fio version" : "fio-3.33",\n')
    got = read_report_file(path)
    docs, _ = parse_stream(raw)
    assert got.doc == docs[-1]
    assert got.problem is not None and "ends inside a document" in got.problem


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"hello world\n", "is not fio's JSON output"),
        (b'{\n  "a": [1,\n', "is not fio's JSON output"),
        (b'{"name": "x"}\n', 'no "jobs" list'),
        (b'{\n  "jobs": []\n}\n', 'no "jobs" list'),
        (b"[1, 2]\n", "is not fio's JSON output"),
    ],
)
def test_not_fio(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ReportFileError, match=words):
        read_report_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportFileError, match="cannot read .*No such file"):
        read_report_file(tmp_path / "nope.json")
    with pytest.raises(ReportFileError, match="cannot read"):
        read_report_file(tmp_path)  # a directory
