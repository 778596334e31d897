"""The fio report screen: every number shown equals fio's JSON (recorded documents and a real
3 s, 2-job randrw run), fio's own table lines, untrusted text shown literally, navigation at
80x24, opening a saved output file, the palette entry, and an SVG snapshot."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Select

from tests.core.fio.conftest import needs_fio
from tests.core.fio.test_fiotext import both_outputs, fio_lines, tie_rounded
from tests.pilot_utils import wait_until
from tests.screens.domain.test_readonly_ui import record_notifications
from tests.textshot import screen_text
from virttui.core.fio.report import DIRECTIONS, build_report
from virttui.core.fio.stream import parse_stream
from virttui.resources import stylesheets
from virttui.screens.fio.report import (
    FioReportScreen,
    open_report_file,
    prompt_open_report,
)
from virttui.screens.storage.image_forms import ImageFormScreen
from virttui.widgets.fio.report_view import FioReportView, exact

DATA = Path(__file__).resolve().parents[2] / "core" / "fio" / "data"


def final(name: str) -> dict[str, Any]:
    docs, _ = parse_stream((DATA / name).read_bytes())
    return docs[-1]


RANDRW = final("randrw-2s.json")  # one job, randrw
TWO = final("randread-2jobs-final.json")  # two job entries: a computed group


class ReportApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, doc: Mapping[str, Any] | None = None, **kw: Any) -> None:
        super().__init__()
        self.doc = doc
        self.kw = kw

    def on_mount(self) -> None:
        if self.doc is not None:
            self.push_screen(FioReportScreen(self.doc, **self.kw))


async def report_screen(pilot: Pilot[Any]) -> FioReportScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FioReportScreen))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, FioReportScreen)
    return screen


def section(screen: FioReportScreen, key: str) -> str:
    return screen.query_one(FioReportView).section_text(key).plain


def same(text: str, value: Any) -> None:
    """A figure read back from the screen is the JSON's value, exactly."""
    if isinstance(value, bool) or value is None:
        raise AssertionError(f"not a number: {value!r}")
    if isinstance(value, int):
        assert int(text) == value, (text, value)
    else:
        assert float(text) == value, (text, value)


def per_direction(text: str) -> dict[str, str]:
    """Split a section's text at fio's direction lines ("  read: IOPS=" or "read")."""
    parts: dict[str, str] = {}
    pattern = re.compile(r"^ {0,2}(read|write|trim)(?::| *$)", re.M)
    marks = list(pattern.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        parts[m.group(1)] = text[m.start() : end]
    return parts


NUM = r"(-?[0-9.]+)"


def check_job(screen: FioReportScreen, raw: Mapping[str, Any]) -> int:
    """Every figure of one job entry shown in the sections equals `raw`; returns how many."""
    checked = 0
    summary = per_direction(section(screen, "summary"))
    latency = per_direction(section(screen, "latency"))
    for name in DIRECTIONS:
        r = raw[name]
        if not r["total_ios"]:
            assert name not in summary
            continue
        s = summary[name]
        m = re.search(rf"IOPS={NUM}, bw={NUM} KiB/s \({NUM} B/s\)", s)
        assert m, s
        same(m.group(1), r["iops"])
        same(m.group(2), r["bw"])
        same(m.group(3), r["bw_bytes"])
        m = re.search(rf"io={NUM} B, runtime={NUM} msec, ios={NUM}, short={NUM}, dropped={NUM}", s)
        assert m, s
        for got, key in zip(
            m.groups(), ("io_bytes", "runtime", "total_ios", "short_ios", "drop_ios"), strict=True
        ):
            same(got, r[key])
        m = re.search(
            rf"bw \(KiB/s\): min={NUM}, max={NUM}, avg={NUM}, stdev={NUM}, samples={NUM}\s+"
            rf"per={NUM}%",
            s,
        )
        assert m, s
        for got, key in zip(
            m.groups(),
            ("bw_min", "bw_max", "bw_mean", "bw_dev", "bw_samples", "bw_agg"),
            strict=True,
        ):
            same(got, r[key])
        m = re.search(
            rf"iops      : min={NUM}, max={NUM}, avg={NUM}, stdev={NUM}, samples={NUM}", s
        )
        assert m, s
        for got, key in zip(
            m.groups(),
            ("iops_min", "iops_max", "iops_mean", "iops_stddev", "iops_samples"),
            strict=True,
        ):
            same(got, r[key])
        checked += 17
        lat = latency[name]
        for label, key in (("slat", "slat_ns"), ("clat", "clat_ns"), (" lat", "lat_ns")):
            m = re.search(rf"{label}: min={NUM} max={NUM} avg={NUM} stdev={NUM} N={NUM}", lat)
            assert m, (label, lat)
            for got, field in zip(m.groups(), ("min", "max", "mean", "stddev", "N"), strict=True):
                same(got, r[key][field])
            checked += 5
        # the exact percentile table (nsec): fio's own when it is in nsec, else the second one
        exact_table = lat.split("(nsec, exact)", 1)[1] if "(nsec, exact)" in lat else lat
        exact_table = exact_table.split("percentiles (nsec", 1)[-1]
        shown = {
            f"{float(p):f}": int(v)
            for p, v in re.findall(r"([0-9.]+)th=\[\s*([0-9]+)\]", exact_table)
        }
        assert shown == r["clat_ns"]["percentile"]
        checked += len(shown)
    cpu = section(screen, "cpu")
    m = re.search(rf"usr={NUM}%, sys={NUM}%, ctx={NUM}, majf={NUM}, minf={NUM}", cpu)
    assert m, cpu
    for got, key in zip(m.groups(), ("usr_cpu", "sys_cpu", "ctx", "majf", "minf"), strict=True):
        same(got, raw[key])
    for label, key in (
        ("IO depths", "iodepth_level"),
        ("submit", "iodepth_submit"),
        ("complete", "iodepth_complete"),
    ):
        line = next(x for x in cpu.splitlines() if x.strip().startswith(label))
        shown = dict(re.findall(r"(>?=?[0-9]+)=([0-9.]+)%", line.split(":", 1)[1]))
        assert {k: float(v) for k, v in shown.items()} == raw[key]
    checked += 5
    dist = section(screen, "distribution")
    rows = re.findall(r"lat \((nsec|usec|msec)\)\s+(>?=?[0-9]+)=\s+([0-9.]+)%  ", dist)
    expected = {
        (unit, bucket): value
        for unit, key in (("nsec", "latency_ns"), ("usec", "latency_us"), ("msec", "latency_ms"))
        for bucket, value in raw[key].items()
        if value > 0
    }
    assert {(u, b): float(v) for u, b, v in rows} == expected
    checked += len(rows)
    return checked


def check_disks(screen: FioReportScreen, doc: Mapping[str, Any]) -> None:
    text = section(screen, "disks")
    for disk in doc["disk_util"]:
        m = re.search(
            rf"{re.escape(disk['name'])}: ios={NUM}/{NUM}, merge={NUM}/{NUM}, "
            rf"ticks={NUM}/{NUM}, in_queue={NUM}, util={NUM}%",
            text,
        )
        assert m, text
        keys = (
            "read_ios",
            "write_ios",
            "read_merges",
            "write_merges",
            "read_ticks",
            "write_ticks",
            "in_queue",
            "util",
        )
        for got, key in zip(m.groups(), keys, strict=True):
            same(got, disk[key])


async def check_every_job(pilot: Pilot[Any], doc: Mapping[str, Any]) -> int:
    screen = await report_screen(pilot)
    report = build_report(doc)
    checked = 0
    if report.group is not None:
        assert "computed" in section(screen, "summary")
        await pilot.press("right_square_bracket")
        await pilot.pause()
    for i, raw in enumerate(doc["jobs"]):
        assert screen.job is not None and screen.job.index == i
        checked += check_job(screen, raw)
        await pilot.press("right_square_bracket")
        await pilot.pause()
    check_disks(screen, doc)
    return checked


@pytest.mark.parametrize("doc", [RANDRW, TWO], ids=["randrw", "two-jobs"])
async def test_numbers_equal_the_json(doc: dict[str, Any]) -> None:
    app = ReportApp(doc)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await check_every_job(pilot, doc) > 40


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """A real fio run: 2 jobs, randrw, 3 s, direct IO (latencies in usec on a disk), with fio's
    normal text and its json+ in one file."""
    return both_outputs(tmp_path_factory.mktemp("fio-report"), "--direct=1")


@needs_fio
async def test_real_run_numbers_and_fio_lines(real_run: tuple[str, dict[str, Any]]) -> None:
    text, doc = real_run
    theirs = fio_lines(text)
    # a figure on a tie in fio's JSON may be rounded the other way in fio's text
    ties = tie_rounded(build_report(doc), theirs)
    app = ReportApp(doc)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await check_every_job(pilot, doc) > 80
        screen = await report_screen(pilot)
        # back on the group; each job's fio lines (status, lat, percentile table, buckets) are
        # the very lines fio printed
        for _ in doc["jobs"]:
            await pilot.press("right_square_bracket")
            await pilot.pause()
            summary = section(screen, "summary")
            latency = section(screen, "latency")
            fio_style = [
                line
                for line in summary.splitlines()
                if re.match(r"  (read|write): IOPS=|    (clat|slat| lat) \(", line)
            ]
            in_table = False
            for line in latency.splitlines():
                if line.startswith("    clat percentiles ("):
                    in_table = "exact" not in line
                    if in_table:
                        fio_style.append(line)
                elif line.startswith("     |") and in_table:
                    fio_style.append(line)
            fio_style += [
                x
                for x in section(screen, "distribution").splitlines()
                if x.startswith("  lat (") and "%  " not in x
            ]
            assert len(fio_style) > 10
            for line in fio_style:
                assert line in theirs or f"{line}; 0 zone resets" in theirs or line in ties, line


async def test_rendered_screen_shows_the_exact_figures() -> None:
    read = RANDRW["jobs"][0]["read"]
    app = ReportApp(RANDRW, title="fio report: recorded")
    async with app.run_test(size=(80, 24)) as pilot:
        await report_screen(pilot)
        shown = screen_text(app)
        assert "fio report: recorded" in shown and "fio-3.33" in shown
        assert f"IOPS={exact(read['iops'])}, bw={read['bw']} KiB/s ({read['bw_bytes']} B/s)" in (
            shown
        )
        assert "IOPS=9794, BW=612MiB/s (642MB/s)(1225MiB/2001msec)" in shown  # fio's own line
        await pilot.press("2")
        await pilot.pause()
        shown = screen_text(app)
        clat = read["clat_ns"]
        assert f"clat: min={clat['min']} max={clat['max']} avg={exact(clat['mean'])}" in shown
        # fio's table in usec (rounded up, as fio does) and the exact one in nsec
        assert "clat percentiles (usec):" in shown
        assert "50.00th=[  104]" in shown  # 103936 ns
        await pilot.press("4")
        await pilot.pause()
        shown = screen_text(app)
        job = RANDRW["jobs"][0]
        assert f"usr={exact(job['usr_cpu'])}%, sys={exact(job['sys_cpu'])}%" in shown
        await pilot.press("5")
        await pilot.pause()
        assert f"util={exact(RANDRW['disk_util'][0]['util'])}%" in screen_text(app)


def test_exact_never_rounds() -> None:
    for value in (0, 7, 78379.911573, 1e-06, 0.0204, 97.943184, 1.5e16, 123456789.123456):
        text = exact(value)
        assert "e" not in text.lower()
        assert float(text) == value
    assert exact(None) == "-"


HOSTILE = "[b]x[/b]\x1b[31m"


def hostile_doc() -> dict[str, Any]:
    doc = copy.deepcopy(RANDRW)
    job = doc["jobs"][0]
    job["jobname"] = HOSTILE
    job["job options"]["filename"] = "/tmp/[red]f\x07"
    job["error"] = 5
    doc["disk_util"][0]["name"] = "vd\x9ba[/]"
    return doc


async def test_untrusted_text_is_shown_literally() -> None:
    app = ReportApp(hostile_doc(), title="t [i]x[/i]\x1b]0;pwned\x07", jobfile_text="[g]\n\x1b[2J")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await report_screen(pilot)
        shown = screen_text(app)
        assert "[b]x[/b]\\e[31m" in shown  # the job name, markup and ESC visible
        assert "t [i]x[/i]\\e]0;pwned\\a" in shown
        assert "filename=/tmp/[red]f\\a" in section(screen, "summary")
        assert "! error: error 5 (Input/output error)" in section(screen, "summary")
        assert "! warning: [b]x[/b]\\e[31m: ended with error 5" in shown
        await pilot.press("5")
        await pilot.pause()
        assert "vd\\x9ba[/]" in screen_text(app)
        await pilot.press("6")
        await pilot.pause()
        shown = screen_text(app)
        assert "[g]" in shown and "\\e[2J" in shown
        for raw in ("\x1b", "\x07", "\x9b"):
            assert raw not in shown


async def test_navigation_at_80x24() -> None:
    app = ReportApp(TWO, jobfile_text="[two]\nrw=randread\n")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await report_screen(pilot)
        shown = screen_text(app)
        for word in ("Summary", "Latency", "Distribution", "CPU & depth", "Disks", "Job file"):
            assert word in shown
        assert "Back" in shown and "Next job" in shown
        assert "! warning: two #1 read: p99 is 12× p50: long tail" in shown
        assert "i note: two #1: iodepth=8 has no effect" in shown
        select = screen.query_one("#fio-report-job", Select)
        labels = [screen.choices[i] for i in range(3)]
        assert labels[0].computed and [j.index for j in labels[1:]] == [0, 1]
        assert screen.job is labels[0]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert screen.job is labels[2] and select.value == 2
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.job is labels[0]
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.job is labels[2]
        assert "#2 two" in screen_text(app)
        select.value = 1  # the selector drives the sections too
        await pilot.pause()
        assert screen.job is labels[1]
        for key, section_id in (
            ("2", "latency"),
            ("3", "distribution"),
            ("4", "cpu"),
            ("5", "disks"),
            ("6", "jobfile"),
            ("1", "summary"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert screen.view.active_section == section_id
        # the group has no per-job sample stats or cpu: said so, not zeros
        screen.select_job(0)
        await pilot.pause()
        assert "per job only" in section(screen, "cpu")
        assert "per job only" in section(screen, "distribution")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FioReportScreen)


async def test_one_job_without_job_file() -> None:
    app = ReportApp(RANDRW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await report_screen(pilot)
        assert screen.query_one("#fio-report-job", Select).disabled
        assert screen.check_action("next_job", ()) is False
        shown = screen_text(app)
        assert "Job file" not in shown and "Next job" not in shown
        await pilot.press("6")  # no job file: nothing happens
        await pilot.pause()
        assert screen.view.active_section == "summary"


async def test_open_report_file_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "run.json"
    good.write_bytes((DATA / "randrw-2s.json").read_bytes())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": "world"}, indent=2) + "\n")
    app = ReportApp()
    async with app.run_test(size=(80, 24)) as pilot:
        notes = record_notifications(app)  # type: ignore[arg-type]
        open_report_file(app, bad)
        await wait_until(pilot, lambda: bool(notes))
        assert "not fio's output" in notes[0][0] and notes[0][1] == "error"
        open_report_file(app, tmp_path / "missing.json")
        await wait_until(pilot, lambda: len(notes) == 2)
        assert "cannot read" in notes[1][0]
        assert not isinstance(app.screen, FioReportScreen)
        open_report_file(app, good)
        screen = await report_screen(pilot)
        assert screen.doc == RANDRW
        assert "(the last of 3 documents)" in screen.report_title


async def test_prompt_opens_the_file(tmp_path: Path) -> None:
    good = tmp_path / "run.json"
    good.write_bytes((DATA / "randread-sigint.json").read_bytes())
    app = ReportApp()
    async with app.run_test(size=(80, 24)) as pilot:
        prompt_open_report(app)
        await wait_until(pilot, lambda: isinstance(app.screen, ImageFormScreen))
        await pilot.press("ctrl+s")  # empty: refused, the form stays
        await pilot.pause()
        assert isinstance(app.screen, ImageFormScreen)
        assert "type the path" in screen_text(app)
        app.screen.query_one("#field-path").value = str(good)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        screen = await report_screen(pilot)
        assert screen.doc == final("randread-sigint.json")


async def test_palette_entry() -> None:
    from virttui.app import HostSpec, VirtTUIApp
    from virttui.demo import demo_uri

    app = VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "fio: open a report (JSON file)…" in titles
        app.push_screen(FioReportScreen(TWO))
        screen = await report_screen(pilot)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        assert {"fio report: Latency", "fio report: next job"} <= set(commands)
        assert "fio report: Job file" not in commands  # no job file given
        commands["fio report: Disks"].callback()
        await pilot.pause()
        assert screen.view.active_section == "disks"


def test_fio_report_snapshot_80x24(snap_compare: Any) -> None:
    """The report of the recorded two-job document at 80x24 (the group, Summary)."""
    assert snap_compare(
        ReportApp(TWO, title="fio report: two jobs", jobfile_text="[two]\nrw=randread\n"),
        terminal_size=(80, 24),
    )


GROUPED = json.loads((Path(__file__).parent / "data" / "grouped-json.json").read_text())


async def test_fios_own_group_from_plain_json() -> None:
    """group_reporting: one entry for three jobs, plain json (no bins): labelled as fio's group,
    numbers still equal the JSON, no computed group."""
    app = ReportApp(GROUPED)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await report_screen(pilot)
        assert screen.report.group is None and len(screen.choices) == 1
        assert "grouped (fio's group of 3 jobs)" in screen_text(app)
        assert "grouped: (groupid=0, jobs=3): err= 0" in section(screen, "summary")
        assert check_job(screen, GROUPED["jobs"][0]) > 40


async def test_open_finished_run(tmp_path: Path) -> None:
    from virttui.core.fio.finished import FinishedRun
    from virttui.core.fio.job import parse_jobfile
    from virttui.screens.fio.report import open_finished_run

    jobfile = parse_jobfile("[rec]\nrw=randrw\nbs=64k\n")
    run = FinishedRun(
        uri=None,
        jobfile=jobfile,
        fio_args=(),
        output_path=tmp_path / "out.json",
        final=RANDRW,
        intervals=(),
        stopped=True,
        failure="fio: io_u error on file /tmp/x\x1b[2J",
        started=0.0,
        ended=2.0,
    )
    app = ReportApp()
    async with app.run_test(size=(80, 24)) as pilot:
        open_finished_run(app, run)
        screen = await report_screen(pilot)
        assert screen.report_title == "fio report: rec on this machine (stopped: partial result)"
        shown = screen_text(app)
        assert "! warning: fio: io_u error on file /tmp/x\\e[2J" in shown
        await pilot.press("6")
        await pilot.pause()
        assert "rw=randrw" in section(screen, "jobfile")
