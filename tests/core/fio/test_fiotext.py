"""fio's text formatting rebuilt from its JSON equals fio's own normal output of the same run."""

from __future__ import annotations

import dataclasses
import itertools
import math
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.core.fio.conftest import needs_fio
from virttui.core.fio import fiotext as T
from virttui.core.fio.report import DirReport, LatStats, Report, build_report
from virttui.core.fio.stream import parse_stream


def both_outputs(tmp_path: Path, *options: str) -> tuple[str, dict[str, object]]:
    """One real fio run (2 jobs, randrw, 3 s) with `--output-format=normal,json+`: fio's text
    and its final JSON document, from the same file."""
    out = tmp_path / "out.txt"
    argv = [
        "fio",
        "--name=both",
        f"--filename={tmp_path / 'data.bin'}",
        "--size=4M",
        "--rw=randrw",
        "--bs=4k",
        "--ioengine=psync",
        "--numjobs=2",
        "--time_based",
        "--runtime=3",
        "--output-format=normal,json+",
        f"--output={out}",
        *options,
    ]
    subprocess.run(argv, check=True, timeout=60, stdin=subprocess.DEVNULL)  # noqa: S603
    data = out.read_bytes()
    docs, _ = parse_stream(data)
    assert docs, data[:500]
    return data.decode(), docs[-1]


def fio_lines(report_text: str) -> set[str]:
    return {line.rstrip() for line in report_text.splitlines()}


def sides(value: float, div: int = 1) -> tuple[float, ...]:
    """`value` as fio's JSON wrote it (6 decimals), printed by fio as `value / div` with "%.2f":
    when those 6 decimals sit on a tie (73.585000), fio's double was on one side or the other of
    it and its text may read 73.58 or 73.59; then both sides, else the value alone."""
    printed = value / div * 100
    if abs(printed - math.floor(printed) - 0.5) > 1e-6 / div * 100:
        return (value,)
    return (value - 1e-6, value + 1e-6)


def lat_line_variants(name: str, stats: LatStats | None) -> set[str | None]:
    if stats is None or stats.samples <= 0:
        return {T.lat_line(name, stats)}
    _, div = T.lat_unit(stats)
    return {
        T.lat_line(name, dataclasses.replace(stats, mean=mean, stddev=dev))
        for mean in sides(float(stats.mean or 0), div)
        for dev in sides(float(stats.stddev or 0), div)
    }


def latency_line_variants(
    latency: Mapping[str, Sequence[tuple[str, float]]],
) -> Iterator[list[str]]:
    """`T.latency_lines` for every way fio may have rounded the buckets on a tie."""
    keys = [(key, i) for key in latency for i in range(len(latency[key]))]
    choices = [sides(float(latency[key][i][1])) for key, i in keys]
    for combo in itertools.islice(itertools.product(*choices), 64):
        values = dict(zip(keys, combo, strict=True))
        yield T.latency_lines(
            {
                key: [(b, values[key, i]) for i, (b, _) in enumerate(rows)]
                for key, rows in latency.items()
            }
        )


def tie_rounded(report: Report, theirs: set[str]) -> set[str]:
    """Our latency lines (`lat_line`, `latency_lines`) that fio printed rounded the other way
    on a tie in its JSON (see `sides`): fio's own line is one of the line's variants."""
    ok: set[str] = set()
    for job in report.jobs:
        for d in job.active:
            for name, stats in (("slat", d.slat), ("clat", d.clat), (" lat", d.lat)):
                line = T.lat_line(name, stats)
                if line is not None and lat_line_variants(name, stats) & theirs:
                    ok.add(line)
        base = T.latency_lines(job.latency)
        for lines in latency_line_variants(job.latency):
            ok.update(mine for mine, fios in zip(base, lines, strict=True) if fios in theirs)
    return ok


def test_a_tie_in_fios_json_accepts_either_rounding() -> None:
    # fio printed 73.59 for a bucket its JSON wrote as 73.585000 (the double was 73.58500...01)
    assert sides(73.585) == (73.585 - 1e-6, 73.585 + 1e-6)
    assert sides(73.586) == (73.586,)
    assert sides(45675.0, 1000) == (45675.0 - 1e-6, 45675.0 + 1e-6)
    assert sides(45676.0, 1000) == (45676.0,)
    lines = {tuple(v) for v in latency_line_variants({"us": [("250", 73.585), ("500", 1.07)]})}
    assert lines == {
        ("  lat (usec)   : 250=73.58%, 500=1.07%",),
        ("  lat (usec)   : 250=73.59%, 500=1.07%",),
    }


@needs_fio
@pytest.mark.parametrize("direct", ["0", "1"], ids=["buffered", "direct"])
def test_lines_equal_fios_own_text(tmp_path: Path, direct: str) -> None:
    text, doc = both_outputs(tmp_path, f"--direct={direct}")
    theirs = fio_lines(text)
    report = build_report(doc)
    assert len(report.jobs) == 2
    ties = tie_rounded(report, theirs)  # a tie in the JSON: fio's text may round either way
    checked = 0
    for job in report.jobs:
        mine: list[str] = []
        for d in job.active:
            status = T.status_line(d)
            # fio appends "; 0 zone resets" to the write line
            assert status in theirs or f"{status}; 0 zone resets" in theirs, status
            checked += 1
            for name, stats in (("slat", d.slat), ("clat", d.clat), (" lat", d.lat)):
                line = T.lat_line(name, stats)
                if line is not None:
                    mine.append(line)
            precision = T.percentile_precision(d.percentiles, job.options)
            mine += T.percentile_lines(d.percentiles, precision=precision)
        mine += T.latency_lines(job.latency)
        for line in mine:
            assert line in theirs or line in ties, f"{line!r} is not in fio's text:\n{text}"
            checked += 1
    assert checked > 20


@pytest.mark.parametrize(
    ("num", "maxlen", "pow2", "unit", "expected"),
    [
        (550, 6, False, "", "550"),
        (906517, 6, False, "", "906517"),
        (1276617, 6, False, "", "1276.6k"),
        (18601, 4, False, "", "18.6k"),
        (8746, 4, False, "", "8746"),
        (76143616, 4, True, "B/s", "72.6MiB/s"),
        (76143616, 4, False, "B/s", "76.1MB/s"),
        (152043520, 4, True, "B", "145MiB"),
        (0, 4, False, "", "0"),
    ],
)
def test_num2str(num: int, maxlen: int, pow2: bool, unit: str, expected: str) -> None:
    assert T.num2str(num, maxlen, pow2=pow2, unit=unit) == expected


def test_units_and_rounding_up() -> None:
    # usec when the smallest percentile is above 2000 ns and the largest above 99999 ns;
    # values are rounded up (fio: (v + 999) / 1000)
    table = ((1.0, 45056), (50.0, 57001), (99.99, 816128))
    assert T.percentile_lines(table) == [
        "    clat percentiles (usec):",
        "     |  1.00th=[   46], 50.00th=[   58], 99.99th=[  817]",
    ]
    # the exact table in ns keeps fio's layout
    assert T.percentile_lines(table, unit="nsec") == [
        "    clat percentiles (nsec):",
        "     |  1.00th=[ 45056], 50.00th=[ 57001], 99.99th=[816128]",
    ]
    msec = ((50.0, 3_000_000), (99.0, 150_000_001))
    assert T.percentile_lines(msec)[0] == "    clat percentiles (msec):"
    assert "99.00th=[  151]" in T.percentile_lines(msec)[1]
    usec = LatStats(39_001, 818_999, 59_790.5, 25_280.0, 10)
    assert T.lat_line("clat", usec) == ("    clat (usec): min=39, max=818, avg=59.79, stdev=25.28")
    assert T.lat_line("slat", LatStats(0, 0, 0.0, 0.0, 0)) is None


def test_precision_follows_the_percentile_list() -> None:
    table = ((50.0, 1), (99.0, 2))
    assert T.percentile_precision(table, {"percentile_list": "50:99"}) == 0
    assert T.percentile_lines(table, precision=0)[1] == "     |  50th=[    1],  99th=[    2]"
    assert T.percentile_precision(table, {"percentile_list": "50:99.995"}) == 3
    assert T.percentile_precision(((99.995, 5),)) == 3
    assert T.percentile_precision(table) == 2


def test_status_line_without_runtime() -> None:
    d = DirReport("read", 0, 0, 0, 0, 0, 0, 0, None, None, None, (), {})
    assert T.status_line(d) == "  read: IOPS=0, BW=0B/s (0B/s)(0B/0msec)"
