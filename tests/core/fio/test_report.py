"""The report model: every number equal to fio's JSON, the computed group, the notes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from virttui.core.fio.intervals import DIRECTIONS, percentile_from_bins
from virttui.core.fio.report import LatStats, build_report, pool_lat
from virttui.core.fio.stream import parse_stream

DATA = Path(__file__).parent / "data"


def final(name: str) -> dict[str, Any]:
    docs, _ = parse_stream((DATA / name).read_bytes())
    return docs[-1]


RANDRW = final("randrw-2s.json")  # one job, randrw, psync, 2 s
TWO = final("randread-2jobs-final.json")  # numjobs=2, iodepth=8 with psync, no group_reporting


def assert_equal_to_json(doc: dict[str, Any]) -> None:
    report = build_report(doc)
    assert report.version == doc["fio version"] and report.time == doc["time"]
    assert len(report.jobs) == len(doc["jobs"])
    for job, raw in zip(report.jobs, doc["jobs"], strict=True):
        assert job.name == raw["jobname"] and job.groupid == raw["groupid"]
        assert job.error == raw["error"] and job.job_runtime_ms == raw["job_runtime"]
        assert job.options == raw["job options"]
        assert job.cpu is not None
        assert (job.cpu.usr, job.cpu.sys, job.cpu.ctx, job.cpu.majf, job.cpu.minf) == (
            raw["usr_cpu"],
            raw["sys_cpu"],
            raw["ctx"],
            raw["majf"],
            raw["minf"],
        )
        assert dict(job.iodepth_level) == raw["iodepth_level"]
        assert dict(job.iodepth_submit) == raw["iodepth_submit"]
        assert dict(job.iodepth_complete) == raw["iodepth_complete"]
        for unit in ("ns", "us", "ms"):
            assert dict(job.latency[unit]) == raw[f"latency_{unit}"]
        for name in DIRECTIONS:
            d, r = job.directions[name], raw[name]
            assert (d.io_bytes, d.bw_bytes, d.iops, d.runtime_ms, d.total_ios) == (
                r["io_bytes"],
                r["bw_bytes"],
                r["iops"],
                r["runtime"],
                r["total_ios"],
            )
            assert (d.short_ios, d.drop_ios) == (r["short_ios"], r["drop_ios"])
            for mine, key in ((d.slat, "slat_ns"), (d.clat, "clat_ns"), (d.lat, "lat_ns")):
                theirs = r[key]
                assert mine == LatStats(
                    theirs["min"], theirs["max"], theirs["mean"], theirs["stddev"], theirs["N"]
                )
            if d.active:
                assert {f"{p:f}": v for p, v in d.percentiles} == r["clat_ns"]["percentile"]
                assert d.bins == {int(k): v for k, v in r["clat_ns"]["bins"].items()}
            assert d.bw is not None and d.iops_stats is not None
            assert (d.bw.min, d.bw.max, d.bw.mean, d.bw.stddev, d.bw.samples) == (
                r["bw_min"],
                r["bw_max"],
                r["bw_mean"],
                r["bw_dev"],
                r["bw_samples"],
            )
            s = d.iops_stats
            assert (s.min, s.max, s.mean, s.stddev, s.samples) == (
                r["iops_min"],
                r["iops_max"],
                r["iops_mean"],
                r["iops_stddev"],
                r["iops_samples"],
            )
            assert d.bw_agg == r["bw_agg"]
    assert len(report.disks) == len(doc["disk_util"])
    for disk, raw_disk in zip(report.disks, doc["disk_util"], strict=True):
        assert {
            "name": disk.name,
            "read_ios": disk.read_ios,
            "write_ios": disk.write_ios,
            "read_merges": disk.read_merges,
            "write_merges": disk.write_merges,
            "read_ticks": disk.read_ticks,
            "write_ticks": disk.write_ticks,
            "in_queue": disk.in_queue,
            "util": disk.util,
        } == raw_disk


@pytest.mark.parametrize("doc", [RANDRW, TWO], ids=["randrw", "two-jobs"])
def test_numbers_equal_the_json(doc: dict[str, Any]) -> None:
    assert_equal_to_json(doc)


def test_one_job_has_no_computed_group() -> None:
    assert build_report(RANDRW).group is None


def test_computed_group_of_two_jobs() -> None:
    report = build_report(TWO)
    group = report.group
    assert group is not None and group.computed and group.index == -1
    read = group.directions["read"]
    jobs = [j.directions["read"] for j in report.jobs]
    assert read.total_ios == sum(j.total_ios for j in jobs)
    assert read.io_bytes == sum(j.io_bytes for j in jobs)
    assert read.iops == pytest.approx(sum(j.iops for j in jobs))
    assert read.runtime_ms == max(j.runtime_ms for j in jobs)
    assert read.clat is not None
    assert read.clat.samples == sum(j.clat.samples for j in jobs if j.clat)
    assert read.clat.min == min(j.clat.min for j in jobs if j.clat)
    assert read.clat.max == max(j.clat.max for j in jobs if j.clat)
    assert dict(read.percentiles) == percentile_from_bins(
        read.bins, [p for p, _ in jobs[0].percentiles]
    )
    assert group.cpu is None and read.bw is None  # not summable: left empty


def test_pooled_latency_equals_the_samples_pooled() -> None:
    a = [1.0, 2.0, 3.0, 10.0]
    b = [4.0, 5.0]

    def stats(xs: list[float]) -> LatStats:
        m = sum(xs) / len(xs)
        sd = (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5
        return LatStats(min(xs), max(xs), m, sd, len(xs))

    pooled = pool_lat([stats(a), stats(b), None])
    whole = stats(a + b)
    assert pooled is not None
    assert pooled.samples == whole.samples and pooled.min == 1.0 and pooled.max == 10.0
    assert pooled.mean == pytest.approx(whole.mean)
    assert pooled.stddev == pytest.approx(whole.stddev)


def texts(doc: dict[str, Any]) -> list[str]:
    return [n.text for n in build_report(doc).notes]


def with_read(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    read = doc["jobs"][0]["read"]
    for key, value in changes.items():
        if key == "percentile":
            read["clat_ns"]["percentile"].update(value)
        elif key == "clat_max":
            read["clat_ns"]["max"] = value
        else:
            read[key] = value
    return doc


def test_notes_on_recorded_runs() -> None:
    notes = texts(TWO)
    # psync ignores iodepth=8; buffered reads; 1 s run
    assert (
        "two #1: iodepth=8 has no effect with ioengine=psync (synchronous): use libaio or io_uring for a queue"
        in notes
    )
    assert "two #2: buffered reads (direct=0) may come from the page cache" in notes
    assert "short run (1.0 s): the figures are noisy" in notes


def test_long_tail_note() -> None:
    doc = with_read(RANDRW, percentile={"50.000000": 10_000, "99.000000": 400_000})
    assert "rec read: p99 is 40× p50: long tail" in texts(doc)
    doc = with_read(RANDRW, percentile={"50.000000": 10_000, "99.000000": 30_000})
    assert not any("long tail" in t for t in texts(doc))


def test_rare_slow_ios_and_outliers() -> None:
    doc = with_read(
        RANDRW,
        percentile={"50.000000": 10_000, "99.000000": 20_000, "99.900000": 500_000},
        clat_max=2_000_000_000,
    )
    notes = texts(doc)
    assert "rec read: p99.9 is 25× p99: rare slow IOs" in notes
    assert "rec read: slowest IO took 2.00 s, 4000× p99.9: outliers" in notes


def test_noisy_bandwidth_error_cpu_and_busy_disk() -> None:
    doc = with_read(RANDRW, bw_mean=1000.0, bw_dev=700.0, bw_samples=5)
    doc["jobs"][0]["error"] = 5
    doc["jobs"][0]["usr_cpu"], doc["jobs"][0]["sys_cpu"] = 10.0, 85.0
    doc["disk_util"][0]["util"] = 99.2
    notes = build_report(doc).notes
    by_text = {n.text: n.level for n in notes}
    assert by_text["rec: ended with error 5 (Input/output error)"] == "warning"
    assert by_text["rec read: bandwidth varied a lot (stdev 70% of the mean)"] == "info"
    assert "rec: used 95% CPU: the CPU may be the limit, not the disk" in by_text
    assert "disk vda busy 99%: the device is the limit" in by_text


def test_no_io_and_malformed_documents() -> None:
    doc = copy.deepcopy(RANDRW)
    for name in DIRECTIONS:
        doc["jobs"][0][name]["total_ios"] = 0
    assert "no IO completed" in texts(doc)
    for bad in (
        {},
        {"jobs": "x", "disk_util": 3},
        {"jobs": [1, {"read": []}]},
        json.loads('{"jobs": [{}]}'),
    ):
        report = build_report(bad)
        assert report.group is None or report.group.computed
