"""The run store, compare and export (core/fio/runs.py): real 3 s fio runs saved and reloaded,
damaged and foreign entries, delete refusing paths outside the store, ratios and differing
options of two real runs, JSON round trip and CSV rows."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from tests.core.fio.conftest import needs_fio
from virttui.core.fio.finished import FinishedRun
from virttui.core.fio.intervals import IntervalTracker
from virttui.core.fio.job import FioJob, JobFile, parse_jobfile
from virttui.core.fio.run import FioRun, run_fio
from virttui.core.fio.runs import (
    ID_RE,
    LoadedRun,
    RunStore,
    RunStoreError,
    compare,
    default_root,
    export_comparison_csv,
    export_csv,
    export_json,
    read_export,
    verdict,
)
from virttui.core.fio.stream import parse_stream
from virttui.core.jobs import Job, JobDone, JobMessage

DATA = Path(__file__).parent / "data"
T0 = 1796083200.25  # 2026-12-01 00:00:00.250 UTC


def recorded_run(
    tmp_path: Path,
    name: str = "randrw-2s.json",
    *,
    text: str = "[rec]\nfilename=/tmp/rec.bin\nsize=4M\nrw=randrw\nbs=64k\nioengine=psync\n",
    started: float = T0,
    uri: str | None = None,
) -> FinishedRun:
    """A FinishedRun from a recorded stream (tests/core/fio/data) fed to the tracker."""
    stream = tmp_path / f"stream-{name}"
    stream.write_bytes((DATA / name).read_bytes())
    docs, _ = parse_stream(stream.read_bytes())
    tracker = IntervalTracker(keep_bins=False)
    intervals = tuple(tracker.update(d) for d in docs)
    return FinishedRun(
        uri=uri,
        jobfile=parse_jobfile(text),
        fio_args=(),
        output_path=stream,
        final=docs[-1],
        intervals=intervals,
        stopped=False,
        failure=None,
        started=started,
        ended=started + 2.5,
    )


def real_run(tmp_path: Path, tag: str, job: FioJob) -> FinishedRun:
    """Run `job` for real (3 s) through run_fio, as the live screen does."""
    jobfile = JobFile((job,))
    path = tmp_path / f"{tag}.fio"
    path.write_text(jobfile.text(), encoding="utf-8")
    out = tmp_path / f"{tag}.json"
    messages: list[JobMessage] = []
    started = 1796083200.0 + len(tag)
    job_ = Job(lambda ctx: run_fio(ctx, path, out), messages.append)
    job_.run()
    done = messages[-1]
    assert isinstance(done, JobDone), done
    result = done.result
    assert isinstance(result, FioRun) and result.final is not None
    return FinishedRun(
        None, jobfile, (), out, result.final, result.intervals, False, None, started, started + 3
    )


def base_job(tmp_path: Path, name: str, **kw: Any) -> FioJob:
    values: dict[str, Any] = dict(
        filename=str(tmp_path / "data.bin"),
        size="4M",
        ioengine="psync",
        rw="randread",
        bs="4k",
        runtime="3",
        time_based=True,
    )
    values.update(kw)
    return FioJob(name=name, **values)


@pytest.fixture(scope="module")
def two_real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[FinishedRun, FinishedRun]:
    if needs_fio.args[0]:
        pytest.skip("fio is not installed")
    tmp = tmp_path_factory.mktemp("fio-runs")
    a = real_run(tmp, "small", base_job(tmp, "small", bs="4k"))
    b = real_run(tmp, "large", base_job(tmp, "large", bs="64k", direct=True))
    return a, b


# ------------------------------------------------------------------------------------ store
def test_default_root_honours_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_root() == tmp_path / "data" / "virttui" / "fio-runs"
    assert RunStore().root == default_root()
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # not absolute: ignored (XDG spec)
    assert default_root() == Path.home() / ".local/share/virttui/fio-runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_root() == Path.home() / ".local/share/virttui/fio-runs"


def test_save_real_run_and_reload_equals(
    tmp_path: Path, two_real_runs: tuple[FinishedRun, FinishedRun]
) -> None:
    run = two_real_runs[0]
    store = RunStore(tmp_path / "store")
    saved = store.save(run, label="ext4 on nvme")
    assert ID_RE.match(saved.run_id) and saved.run_id.startswith("20261201T000005000Z-")
    assert saved.label == "ext4 on nvme" and saved.host == "this machine"
    assert saved.job_names == ("small",) and saved.targets == (str(run.jobfile.jobs[0].filename),)
    assert saved.fio_version == run.final["fio version"]
    read = run.final["jobs"][0]["read"]
    assert saved.headline["read"].iops == read["iops"]
    assert saved.headline["read"].bw_bytes == read["bw_bytes"]
    assert saved.headline["read"].p99_ns == read["clat_ns"]["percentile"]["99.000000"]
    assert "write" not in saved.headline

    loaded = store.load(saved.run_id)
    assert loaded.saved == saved
    assert loaded.jobfile_text == run.jobfile.text() and loaded.jobfile == run.jobfile
    assert loaded.final == run.final
    assert loaded.series == run.intervals and len(loaded.series) >= 2
    assert (saved.path / "output.json").read_bytes() == run.output_path.read_bytes()
    # private: the run's directory 0700, every file 0600, nothing else left in the store
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    for entry in saved.path.iterdir():
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600, entry
    assert sorted(p.name for p in saved.path.iterdir()) == sorted(
        ["jobfile.fio", "output.json", "final.json", "intervals.json", "intervals.csv", "meta.json"]
    )
    assert [p.name for p in store.root.iterdir()] == [saved.run_id]


def test_label_is_data_never_a_path(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    hostile = "../../etc/passwd\x1b[31m[bold]x"
    saved = store.save(recorded_run(tmp_path), label=hostile)
    assert saved.label == hostile
    assert saved.path.parent == store.root and ID_RE.match(saved.path.name)
    assert not (tmp_path / "etc").exists()
    again = store.relabel(saved.run_id, "  second  ")
    assert again.label == "second" and store.list()[0].label == "second"
    assert stat.S_IMODE((saved.path / "meta.json").stat().st_mode) == 0o600


def test_list_newest_first_with_damaged_and_foreign(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    old = store.save(recorded_run(tmp_path, started=T0), label="old")
    new = store.save(recorded_run(tmp_path, started=T0 + 3600), label="new")
    damaged = store.save(recorded_run(tmp_path, started=T0 + 7200), label="damaged")
    (damaged.path / "meta.json").write_text("{not json", encoding="utf-8")
    (store.root / "holiday-photos").mkdir()  # foreign directory
    (store.root / "notes.txt").write_text("x")  # foreign file
    os.symlink("/etc", store.root / "20261201T000000000Z-abcdef")  # a link out of the store
    (store.root / ".tmp-inprogress").mkdir()  # a save in progress: not listed
    runs = store.list()
    assert [r.label for r in runs if r.error is None] == ["new", "old"]
    errors = {r.run_id: r.error for r in runs if r.error is not None}
    assert set(errors) == {
        damaged.run_id,
        "holiday-photos",
        "notes.txt",
        "20261201T000000000Z-abcdef",
    }
    assert "damaged" in (errors[damaged.run_id] or "")
    assert "symbolic link" in (errors["20261201T000000000Z-abcdef"] or "")
    with pytest.raises(RunStoreError, match="damaged"):
        store.load(damaged.run_id)
    (old.path / "final.json").unlink()
    with pytest.raises(RunStoreError, match="final.json is missing"):
        store.load(old.run_id)
    assert store.load(new.run_id).saved.label == "new"


def test_list_of_a_missing_store_is_empty(tmp_path: Path) -> None:
    assert RunStore(tmp_path / "nothing").list() == []


def test_delete_only_inside_the_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    saved = store.save(recorded_run(tmp_path))
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "file").write_text("keep")
    os.symlink(outside, store.root / "20261201T000000000Z-aaaaaa")
    for bad in (
        "",
        ".",
        "..",
        "../precious",
        str(outside),
        "a/b",
        "20261201T000000000Z-aaaaaa",  # a symbolic link leading outside
    ):
        with pytest.raises(RunStoreError):
            store.delete(bad)
    assert (outside / "file").read_text() == "keep"
    with pytest.raises(RunStoreError):
        store.load("../precious")
    (store.root / "foreign").mkdir()
    store.delete("foreign")  # a foreign entry inside the store may go
    store.delete(saved.run_id)
    assert not saved.path.exists() and (outside / "file").exists()
    with pytest.raises(RunStoreError, match="no such run"):
        store.delete(saved.run_id)


def test_failed_save_leaves_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    run = recorded_run(tmp_path)
    bad = dataclasses.replace(run, final={"x": {1, 2}})  # not JSON: the save fails midway
    with pytest.raises(TypeError):
        store.save(bad)
    assert list(store.root.iterdir()) == []


def test_sweep_removes_only_old_temp_directories(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    saved = store.save(recorded_run(tmp_path))
    old = store.root / ".tmp-crashed"
    old.mkdir()
    (old / "final.json").write_text("{}")
    os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    fresh = store.root / ".tmp-saving-now"
    fresh.mkdir()
    other = store.root / ".hidden-by-someone"
    other.mkdir()
    os.utime(other, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert store.sweep() == 1
    assert not old.exists() and fresh.exists() and other.exists() and saved.path.exists()
    store.save(recorded_run(tmp_path))  # a save sweeps too
    assert fresh.exists()


# ------------------------------------------------------------------------------------ compare
def test_compare_two_real_runs(
    tmp_path: Path, two_real_runs: tuple[FinishedRun, FinishedRun]
) -> None:
    store = RunStore(tmp_path / "store")
    a = store.load(store.save(two_real_runs[0], label="4k").run_id)
    b = store.load(store.save(two_real_runs[1], label="64k direct").run_id)
    comp = compare(a, b)
    rows = {(r.section, r.metric): r for r in comp.rows}
    ra, rb = a.final["jobs"][0]["read"], b.final["jobs"][0]["read"]
    iops = rows[("read", "IOPS")]
    assert (iops.a, iops.b) == (ra["iops"], rb["iops"])
    assert iops.ratio == rb["iops"] / ra["iops"]
    bw = rows[("read", "bandwidth")]
    assert bw.ratio == rb["bw_bytes"] / ra["bw_bytes"]
    p99 = rows[("read", "clat p99")]
    pa, pb = ra["clat_ns"]["percentile"]["99.000000"], rb["clat_ns"]["percentile"]["99.000000"]
    assert (p99.a, p99.b, p99.ratio) == (pa, pb, pb / pa)
    assert rows[("read", "lat mean")].ratio == rb["lat_ns"]["mean"] / ra["lat_ns"]["mean"]
    usr = rows[("cpu", "usr")]
    ja, jb = a.final["jobs"][0], b.final["jobs"][0]
    assert (usr.a, usr.b) == (ja["usr_cpu"], jb["usr_cpu"])
    assert not any(r.section == "write" for r in comp.rows)  # neither run wrote
    # the verdict follows the ratio and the direction of "better"
    assert iops.verdict == verdict(iops.ratio, "speed")
    assert p99.verdict == verdict(p99.ratio, "latency")
    diffs = {(d.section, d.option): (d.a, d.b) for d in comp.options}
    assert diffs[("job 1: small", "bs")] == ("4k", "64k")
    assert diffs[("job 1: small", "direct")] == ("(default)", "1")
    assert diffs[("job 1: small", "name")] == ("small", "large")
    assert ("job 1: small", "ioengine") not in diffs  # the same: not listed
    keys = [d.option for d in comp.options if d.section.startswith("job")]
    assert keys.index("direct") < keys.index("bs")  # the key options in their order


def test_verdict_words() -> None:
    assert verdict(1.8, "speed") == "1.8× faster"
    assert verdict(0.5, "speed") == "2.0× slower"
    assert verdict(2.1, "latency") == "2.1× higher latency"
    assert verdict(0.25, "latency") == "4.0× lower latency"
    assert verdict(12.0, "cpu") == "12× more CPU"
    assert verdict(1.03, "speed") == "about the same"
    assert verdict(None, "speed") == ""


def test_compare_zero_and_differences_in_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    a = store.load(store.save(recorded_run(tmp_path)).run_id)
    b_run = recorded_run(
        tmp_path,
        "randread-sigint.json",
        text="[stop]\nfilename=/tmp/rec.bin\nsize=4M\nrw=randread\nioengine=libaio\n",
        uri="qemu+ssh://root@kvm2/system",
    )
    b = store.load(store.save(b_run).run_id)
    comp = compare(a, b)
    rows = {(r.section, r.metric): r for r in comp.rows}
    write = rows[("write", "IOPS")]
    assert write.a and write.b is not None and write.b == 0 and write.ratio == 0.0
    assert compare(b, a).rows[0].section == "read"
    back = {(r.section, r.metric): r for r in compare(b, a).rows}[("write", "IOPS")]
    assert back.a == 0 and back.ratio is None and back.verdict == ""  # no ratio against zero
    diffs = {(d.section, d.option): (d.a, d.b) for d in comp.options}
    assert diffs[("run", "host")] == ("this machine", "root@kvm2")
    assert diffs[("job 1: rec", "ioengine")] == ("psync", "libaio")
    assert diffs[("job 1: rec", "bs")] == ("64k", "(default)")


# ------------------------------------------------------------------------------------ export
def test_export_json_round_trips(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    run = store.load(store.save(recorded_run(tmp_path), label='lab,"=1+1"').run_id)
    out = tmp_path / "export.json"
    export_json(run, out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "virttui-fio-run" and doc["meta"]["label"] == run.saved.label
    assert doc["final"] == run.final and len(doc["series"]) == len(run.series)
    back = read_export(out)
    assert isinstance(back, LoadedRun)
    assert back.final == run.final and back.series == run.series
    assert back.jobfile_text == run.jobfile_text
    assert back.saved.headline == run.saved.headline and back.saved.label == run.saved.label
    with pytest.raises(FileExistsError):
        export_json(run, out)
    out.write_text("old")
    export_json(run, out, overwrite=True)
    assert read_export(out).final == run.final
    with pytest.raises(IsADirectoryError):
        export_json(run, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".virttui-export")]


def test_export_csv_one_row_per_interval(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    run = store.load(store.save(recorded_run(tmp_path)).run_id)
    out = tmp_path / "series.csv"
    export_csv(run, out)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert len(body) == len(run.series) == 3
    assert header[:3] == ["interval", "time_s", "length_s"]
    assert "all.read.iops" in header and "job1.write.p99.9_ns" in header
    assert all(len(r) == len(header) for r in body)
    col = header.index("all.read.iops")
    assert [float(r[col]) for r in body] == [iv.group.directions["read"].iops for iv in run.series]
    col = header.index("all.write.p99_ns")
    assert [int(r[col]) for r in body] == [
        iv.group.directions["write"].percentiles[99.0] for iv in run.series
    ]
    # the copy written into the store is the same table
    assert (run.saved.path / "intervals.csv").read_text(encoding="utf-8") == out.read_text(
        encoding="utf-8"
    )
    with pytest.raises(FileExistsError):
        export_csv(run, out)


def test_export_comparison_csv(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store")
    a = store.load(store.save(recorded_run(tmp_path)).run_id)
    b = store.load(
        store.save(
            recorded_run(
                tmp_path,
                text="[=HYPERLINK(1)]\nfilename=/tmp/rec.bin\nsize=4M\nrw=randrw\nbs=4k\n",
            )
        ).run_id
    )
    comp = compare(a, b)
    out = tmp_path / "cmp.csv"
    export_comparison_csv(comp, out)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["section", "metric", "unit", "a", "b", "ratio_b_over_a", "verdict"]
    metrics = [r for r in rows[1:] if not r[0].startswith("option")]
    assert len(metrics) == len(comp.rows)
    options = [r for r in rows[1:] if r[0].startswith("option")]
    assert ["option: job 1: rec", "bs", "", "64k", "4k", "", ""] in options
    name_row = next(r for r in options if r[1] == "name")
    assert name_row[4] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
