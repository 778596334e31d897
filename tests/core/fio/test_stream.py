"""The incremental parser of fio's json+ status stream, on recorded streams (tests/core/fio/data,
recorded with fio 3.33 `--output-format=json+ --status-interval=1 --output=FILE`) and on
truncated / garbage / interleaved variants of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from virttui.core.fio.stream import FioStream, parse_stream

DATA = Path(__file__).parent / "data"
RANDRW = (DATA / "randrw-2s.json").read_bytes()  # 3 documents, 2 s randrw, one job
SIGINT = (DATA / "randread-sigint.json").read_bytes()  # stopped by SIGINT after 1.5 s


def reference(data: bytes) -> list[dict[str, object]]:
    """The documents, split by hand at the `{` lines (independent of the parser)."""
    text = data.decode()
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while (j := text.find("\n{", i - 1 if i else 0)) >= 0 or (i == 0 and text.startswith("{")):
        start = 0 if i == 0 and text.startswith("{") else j + 1
        doc, end = decoder.raw_decode(text, start)
        docs.append(doc)
        i = end + 1
    return docs


def test_whole_recorded_stream() -> None:
    docs, stream = parse_stream(RANDRW)
    assert len(docs) == 3 == stream.count
    assert docs == reference(RANDRW)
    assert stream.last == docs[-1]
    assert stream.error is None and stream.problems == []
    runtimes = [d["jobs"][0]["read"]["runtime"] for d in docs]
    assert runtimes == sorted(runtimes)


@pytest.mark.parametrize("size", [1, 7, 100, 4096, 65536])
def test_any_chunking_gives_the_same_documents(size: int) -> None:
    stream = FioStream()
    docs = []
    for i in range(0, len(RANDRW), size):
        docs += stream.feed(RANDRW[i : i + size])
    docs += stream.finish()
    assert docs == reference(RANDRW)
    assert stream.problems == []


def test_documents_arrive_as_soon_as_they_are_complete() -> None:
    first_end = RANDRW.index(b"\n}\n") + 3
    stream = FioStream()
    assert stream.feed(RANDRW[: first_end - 2]) == []  # closing brace not yet there
    assert stream.in_document
    got = stream.feed(RANDRW[first_end - 2 : first_end])
    assert len(got) == 1 and not stream.in_document


def test_sigint_message_between_documents_is_noise() -> None:
    docs, stream = parse_stream(SIGINT)
    assert len(docs) == 2
    assert stream.problems == [] and stream.error is None
    assert list(stream.noise) == ["fio: terminating on signal 2"]


def test_error_lines_inside_a_document_are_taken_out() -> None:
    lines = RANDRW.split(b"\n")
    # fio issue #731: an error line in the middle of the JSON, in column 0
    lines.insert(40, b"fio: io_u error on file /tmp/x: Input/output error: read offset=0")
    lines.insert(3, b"fio: pid=123, err=5/file:io_u.c:1845, func=io_u error, error=EIO")
    data = b"\n".join(lines)
    docs, stream = parse_stream(data)
    assert docs == reference(RANDRW)
    assert stream.problems == []
    assert stream.noise_lines == 2
    assert list(stream.noise)[0].startswith("fio: pid=123")


def test_error_message_in_the_middle_of_a_line_is_cut_out() -> None:
    text = RANDRW.decode()
    at = text.index('"iops" : ') + len('"iops" : ') + 2  # inside the first IOPS number
    message = "fio: pid=77, err=5/file:io_u.c:1845, func=io_u error, error=Input/output error\n"
    data = (text[:at] + message + text[at:]).encode()
    docs, stream = parse_stream(data)
    assert docs == reference(RANDRW)
    assert stream.problems == []
    assert list(stream.noise) == [message.rstrip("\n")]
    # a cut that is not a fio message is an invalid document; the others are kept
    data = (text[:at] + "garbage\n" + text[at:]).encode()
    docs, stream = parse_stream(data)
    assert docs == reference(RANDRW)[1:]
    assert [p.kind for p in stream.problems] == ["invalid"]


def test_truncated_stream_keeps_what_was_parsed() -> None:
    cut = RANDRW[: len(RANDRW) - 5000]
    docs, stream = parse_stream(cut)
    assert docs == reference(RANDRW)[:2]
    assert [p.kind for p in stream.problems] == ["truncated"]
    assert stream.last == docs[-1]
    assert stream.error is not None
    assert (
        "ends inside a document" in stream.error and "2 documents parsed are kept" in stream.error
    )


def test_document_cut_by_the_next_one() -> None:
    docs_ref = reference(RANDRW)
    second = RANDRW.index(b"\n{\n", 10) + 1
    third = RANDRW.index(b"\n{\n", second + 2) + 1
    data = RANDRW[: second + 3000] + b"\n" + RANDRW[third:]
    docs, stream = parse_stream(data)
    assert docs == [docs_ref[0], docs_ref[2]]
    assert [p.kind for p in stream.problems] == ["truncated"]
    assert stream.problems[0].line == RANDRW[:second].count(b"\n") + 1


def test_garbage_never_raises() -> None:
    garbage = bytes(range(256)) * 50 + b"\n{\n  not json\n}\n" + b"\xff\xfe{[" * 1000
    docs, stream = parse_stream(garbage + b"\n" + RANDRW)
    assert docs == reference(RANDRW)
    assert stream.count == 3
    assert stream.problems[0].kind == "invalid"
    assert stream.error is not None and "not valid JSON" in stream.error
    # garbage glued to the first `{` line costs that document, not the next ones
    docs, stream = parse_stream(garbage + RANDRW)
    assert docs == reference(RANDRW)[1:]
    assert "truncated" not in [p.kind for p in stream.problems[:1]]
    docs, stream = parse_stream(garbage)
    assert docs == [] and stream.last is None
    assert stream.error is not None and "no document parsed" in stream.error


def test_a_document_that_is_not_an_object() -> None:
    docs, stream = parse_stream(b'{"a": 1}\n[\n]\n{\n  "b": [1,\n}\n{"c": 2}\n')
    assert docs == [{"a": 1}, {"c": 2}]
    assert [p.kind for p in stream.problems] == ["invalid"]


def test_nothing_after_finish() -> None:
    stream = FioStream()
    stream.feed(RANDRW[:100])
    stream.finish()
    assert stream.feed(RANDRW) == [] and stream.finish() == []
