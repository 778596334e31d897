"""The fio job builder with Pilot at 80x24 (screens/fio/form.py): every field round-trips through
`FioJob` and the .fio text; validation messages under their field refuse Run and Save; presets
fill the form; sections are added, copied, deleted; .fio files load and save (overwrite asks,
errors keep the form); Check shows fio's own message (real fio); Run asks the real guard: a
refusal lists the reasons and never runs, a blank loop device needs its name typed (root and
losetup, else skipped; the loop device is detached afterwards); the entry points open it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import VirtTUIApp
from virttui.core.fio.guard import Verdict
from virttui.core.fio.job import FioJob, JobFile, parse_jobfile
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain.action_dialogs import PromptScreen
from virttui.screens.fio.form import (
    FIO_ACTIONS,
    ConfirmNamesScreen,
    FioScreen,
    PresetScreen,
    RefusedScreen,
    SectionList,
    open_fio,
)
from virttui.widgets.fio.form_fields import DIST_PARAM, JobForm, job_to_values

SIZE = (80, 24)
Call = tuple[str | None, JobFile, Verdict]


def make_app() -> VirtTUIApp:
    return VirtTUIApp([], refresh=3600.0)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.1)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def open_form(pilot: Pilot[Any], calls: list[Call] | None = None, **kw: Any) -> FioScreen:
    def record(uri: str | None, jobfile: JobFile, verdict: Verdict) -> None:
        assert calls is not None
        calls.append((uri, jobfile, verdict))

    screen = FioScreen(start_run=record if calls is not None else None, **kw)
    pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: screen.is_current and bool(screen.query(JobForm)), 10)
    await settle(pilot)
    return screen


def form_shown(app: VirtTUIApp) -> bool:
    screen = app.screen
    return isinstance(screen, FioScreen) and bool(screen.query(JobForm)) and screen.is_current


def set_values(form: JobForm, values: dict[str, str]) -> None:
    for name, text in values.items():
        widget = form.query_one(f"#fio-{name}")
        if isinstance(widget, Input):
            widget.value = text
        elif isinstance(widget, Select):
            widget.value = text
        elif isinstance(widget, TextArea):
            widget.load_text(text)


def one_job(path: Path, **kw: Any) -> JobFile:
    fields: dict[str, Any] = {"name": "t", "filename": str(path), "size": "8m", "rw": "randwrite"}
    fields.update(kw)
    return JobFile((FioJob(**fields),))


# ---------------------------------------------------------------------------- fields
def every_field(tmp_path: Path) -> dict[str, str]:
    return {
        "name": "every field",
        "filename": str(tmp_path / "fio.test"),
        "directory": str(tmp_path),
        "size": "64m",
        "direct": "1",
        "ioengine": "psync",
        "iodepth": "4",
        "bs": "4k,64k",
        "bsrange": "4k-16k",
        "numjobs": "2",
        "thread": "0",
        "rw": "randrw",
        "rwmixread": "60",
        "rwmixwrite": "40",
        "runtime": "3s",
        "time_based": "1",
        "ramp_time": "1s",
        "group_reporting": "1",
        "lockmem": "1m",
        "zero_buffers": "0",
        "random_distribution": "zipf",
        DIST_PARAM: "1.2",
        "nrfiles": "2",
        "extra": "; a comment kept\nverify=crc32c\nnorandommap",
    }


async def test_every_field_round_trips_through_the_job_and_its_text(tmp_path: Path) -> None:
    """Fields set in the widgets → FioJob → .fio text → parsed → the same fields."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=JobFile((FioJob(name="x"),)))
        values = every_field(tmp_path)
        set_values(screen.form, values)
        await settle(pilot)
        jobfile, messages = screen.build()
        assert messages == {}
        assert screen.form.values() == values
        parsed = parse_jobfile(jobfile.text())
        assert parsed == jobfile
        assert job_to_values(parsed.jobs[0]) == values
        text = jobfile.text()
        for line in ("ioengine=psync", "thread=0", "random_distribution=zipf:1.2", "norandommap"):
            assert line in text.splitlines()


async def test_a_loaded_job_shows_every_value_and_gives_it_back(tmp_path: Path) -> None:
    """FioJob → fields → FioJob: nothing lost, raw options and comments in the raw text, a
    value no select offers (a distribution fio knows) kept."""
    job = FioJob(
        name="loaded",
        filename=str(tmp_path / "f"),
        size="1g",
        direct=False,
        thread=True,
        rw="read",
        random_distribution="normal:5:0.5",
        extra=(("ioengine", "pvsync2"), ("hipri", None), ("bssplit", "4k/50:64k/50")),
        comments=("# from the lab",),
    )
    glob = FioJob(name="global", runtime="10", time_based=True, extra=(("unknown_opt", "7"),))
    jobfile = JobFile((job,), glob, ("; header",))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=jobfile)
        form = screen.form
        assert form.query_one("#fio-extra", TextArea).text == (
            "# from the lab\nioengine=pvsync2\nhipri\nbssplit=4k/50:64k/50"
        )
        assert form.query_one("#fio-random_distribution", Select).value == "normal"
        assert form.query_one(f"#fio-{DIST_PARAM}", Input).value == "5:0.5"
        assert screen.jobfile() == jobfile
        # the [global] section shows its own values, its name fixed
        screen.section_list.highlighted = 0
        await settle(pilot)
        assert form.query_one("#fio-name", Input).disabled
        assert form.query_one("#fio-runtime", Input).value == "10"
        assert form.query_one("#fio-extra", TextArea).text == "unknown_opt=7"
        assert screen.jobfile() == jobfile


async def test_a_distribution_no_select_offers_is_kept(tmp_path: Path) -> None:
    job = FioJob(name="g", filename=str(tmp_path / "f"), size="1m", random_distribution="gauss:3")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=JobFile((job,)))
        assert screen.jobfile().jobs[0].random_distribution == "gauss:3"
        assert screen.form.error_text("random_distribution").startswith("random_distribution:")


# ---------------------------------------------------------------------------- validation
async def test_messages_under_their_field_refuse_run_and_save(tmp_path: Path) -> None:
    calls: list[Call] = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=one_job(tmp_path / "f"))
        form = screen.form
        assert form.error_text("size") == ""
        set_values(form, {"size": "lots", "iodepth": "deep", "rwmixread": "70", "rw": "read"})
        await settle(pilot)
        assert form.error_text("size").startswith("size: a size such as")
        assert form.error_text("iodepth") == "iodepth: a whole number"
        assert form.error_text("rwmixread").startswith("rwmixread: only applies")
        assert form.query_one("#fio-err-size").display
        assert "size: a size such as" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert calls == []
        assert "Run refused: 3 field(s) to fix" in screen.status_text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen  # no path asked
        assert "Save refused" in screen.status_text
        # fixed: the messages go
        set_values(form, {"size": "8m", "iodepth": "8", "rwmixread": ""})
        await settle(pilot)
        assert form.error_text("size") == "" and form.error_text("iodepth") == ""
        assert screen.build()[1] == {}


async def test_a_wrong_field_in_another_section_is_shown_there(tmp_path: Path) -> None:
    jobfile = JobFile(
        (
            FioJob(name="a", filename=str(tmp_path / "a"), size="1m"),
            FioJob(name="b", filename="relative/path", size="1m"),
        )
    )
    calls: list[Call] = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=jobfile)
        assert screen.current == 1
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert calls == [] and screen.current == 2
        assert "is not an absolute path" in screen.form.error_text("filename")


# ---------------------------------------------------------------------------- sections
async def test_sections_add_copy_delete(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        screen.section_list.focus()
        await pilot.press("c")
        await settle(pilot)
        assert [v["name"] for v in screen.sections] == ["global", "t", "t2"]
        assert screen.sections[2]["filename"] == str(tmp_path / "f")
        screen.section_list.focus()
        await pilot.press("n")
        await settle(pilot)
        assert [v["name"] for v in screen.sections] == ["global", "t", "t2", "job1"]
        assert screen.form.query_one("#fio-name", Input).has_focus
        await pilot.press("end", "x")
        await settle(pilot)
        assert screen.sections[3]["name"] == "job1x"
        assert "job1x" in screen_text(app)  # the list follows the name
        screen.section_list.focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("y")
        await settle(pilot)
        assert [v["name"] for v in screen.sections] == ["global", "t", "t2"]
        assert [j.name for j in screen.jobfile().jobs] == ["t", "t2"]
        # [global] is never deleted
        screen.section_list.highlighted = 0
        await settle(pilot)
        screen.section_list.focus()
        await pilot.press("d")
        await settle(pilot)
        assert app.screen is screen and len(screen.sections) == 3


# ---------------------------------------------------------------------------- presets
async def test_a_preset_fills_the_form(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, PresetScreen), 5)
        dialog = app.screen
        dialog.query_one("#preset-kind", Select).value = "write"
        dialog.query_one("#preset-dir", Input).value = "/dev"
        dialog.query_one("#confirm").press()
        await settle(pilot)
        assert app.screen is dialog  # never a device directory
        assert "/dev is not a directory for a test file" in str(
            dialog.query_one("#form-error").content
        )
        dialog.query_one("#preset-dir", Input).value = str(tmp_path)
        dialog.query_one("#confirm").press()
        await settle(pilot)
        assert app.screen is screen
        values = screen.form.values()
        assert values["name"] == "t"  # the job keeps its name
        assert values["filename"] == str(tmp_path / "virttui-fio.test")
        assert (values["rw"], values["bs"], values["direct"]) == ("write", "1m", "1")
        assert (values["ioengine"], values["iodepth"]) == ("libaio", "16")
        assert screen.build()[1] == {}
        # mixed 70/30 as a new job
        screen.apply_preset("randrw70", str(tmp_path), new=True)
        await settle(pilot)
        values = screen.form.values()
        assert values["name"] == "randrw70" and values["rwmixread"] == "70"
        assert len(screen.sections) == 3


def test_the_default_job_is_a_preset_on_a_test_file() -> None:
    screen = FioScreen()
    job = screen.jobfile().jobs[0]
    assert job.filename.endswith("/virttui-fio.test")
    assert not job.filename.startswith("/dev/")


# ---------------------------------------------------------------------------- files
JOBFILE = """; lab job file
[global]
ioengine=psync
runtime=3
time_based
some_future_option=5

[reader]
; reads
filename={dir}/r.test
size=8m
rw=randread
bs=4k

[writer]
filename={dir}/w.test
size=8m
rw=write
bs=1m
iodepth=4
"""


async def answer_prompt(pilot: Pilot[Any], path: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), 5)
    field = app.screen.query_one("#prompt-input", Input)
    field.value = path
    await pilot.press("enter")
    await settle(pilot)


async def test_load_then_save_elsewhere_gives_the_same_job_file(tmp_path: Path) -> None:
    source = tmp_path / "lab.fio"
    source.write_text(JOBFILE.format(dir=tmp_path))
    target = tmp_path / "copy.fio"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot)
        await pilot.press("ctrl+o")
        await answer_prompt(pilot, str(source))
        await wait_until(pilot, lambda: screen.path == str(source), 10)
        assert [v["name"] for v in screen.sections] == ["global", "reader", "writer"]
        screen.section_list.highlighted = 0
        await settle(pilot)
        assert "some_future_option=5" in screen.form.query_one("#fio-extra", TextArea).text
        assert "lab.fio" in screen_text(app)
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(target))
        await wait_until(pilot, lambda: target.exists(), 10)
        assert parse_jobfile(target.read_text()) == parse_jobfile(source.read_text())
        assert screen.path == str(target)


async def test_save_asks_before_overwriting(tmp_path: Path) -> None:
    target = tmp_path / "exists.fio"
    target.write_text("[old]\nrw=read\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("n")  # Cancel is the default
        await settle(pilot)
        assert target.read_text() == "[old]\nrw=read\n"
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, str(target))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.path == str(target), 10)
        assert parse_jobfile(target.read_text()) == screen.jobfile()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("this is not ini\n", "an option before any [section]"),
        ("[broken\nrw=read\n", "a section header is [name]"),
        ("; only a comment\n", "no [section] in it"),
    ],
)
async def test_a_bad_file_is_refused_and_the_form_kept(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "bad.fio"
    if content is not None:
        path.write_text(content)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        before = screen.jobfile()
        await pilot.press("ctrl+o")
        await answer_prompt(pilot, str(path))
        await wait_until(pilot, lambda: "cannot load" in screen.status_text, 10)
        assert message in screen.status_text
        assert screen.jobfile() == before and screen.path == ""


# ---------------------------------------------------------------------------- check (real fio)
needs_fio = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")


@needs_fio
async def test_check_shows_fios_message(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: not screen.busy, 60)
        assert screen.status_text == "fio accepts this job file"
        set_values(screen.form, {"extra": "bogus_option_xyz=1"})
        await settle(pilot)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: not screen.busy, 60)
        assert "fio refused the job file" in screen.status_text
        assert "bogus_option_xyz" in screen.status_text
        assert not list(tmp_path.iterdir())  # a check writes nothing


# ---------------------------------------------------------------------------- run: the guard
async def test_a_refused_target_lists_the_reasons_and_never_runs(tmp_path: Path) -> None:
    calls: list[Call] = []
    jobfile = JobFile(
        (
            FioJob(name="proc", filename="/proc/virttui-fio-x", size="1m", rw="write"),
            FioJob(name="fine", filename=str(tmp_path / "ok.test"), size="1m", rw="write"),
        )
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=jobfile)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RefusedScreen), 30)
        dialog = app.screen
        reasons = str(dialog.query_one("#refused-reasons").content)
        assert "/proc/virttui-fio-x: it is on the kernel filesystem proc" in reasons
        assert screen.last_verdict is not None and screen.last_verdict.refused
        assert "kernel filesystem proc" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and calls == []
        assert "refused by the guard" in screen.status_text


async def test_a_plain_test_file_runs_at_once(tmp_path: Path) -> None:
    calls: list[Call] = []
    jobfile = one_job(tmp_path / "fio.test")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, calls, jobfile=jobfile)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: bool(calls), 30)
        uri, ran, verdict = calls[0]
        assert uri is None and ran == jobfile
        assert verdict.decision == "ok" and verdict.fio_args == ()


async def test_an_unreachable_remote_host_is_refused_with_the_reason(tmp_path: Path) -> None:
    """The remote guard looks at the host over ssh: a host it cannot reach is unsafe, said so
    (`.invalid` never resolves, RFC 2606: ssh fails at once)."""
    calls: list[Call] = []
    uri = "qemu+ssh://root@unreachable.invalid/system"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, uri=uri, jobfile=one_job(tmp_path / "f"))
        assert uri in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.last_verdict is not None, 60)
        await settle(pilot)
        verdict = screen.last_verdict
        assert verdict is not None and verdict.refused
        await wait_until(pilot, lambda: isinstance(app.screen, RefusedScreen), 10)
        assert "unreachable.invalid" in " ".join(verdict.reasons)
        assert calls == []


@pytest.fixture
def blank_loop(tmp_path: Path) -> Iterator[str]:
    """A loop device over a 32 MiB sparse temp file, nothing on it (detached afterwards)."""
    if os.geteuid() != 0 or shutil.which("losetup") is None:
        pytest.skip("a loop device needs root and losetup")
    backing = tmp_path / f"fioform-{uuid.uuid4().hex[:8]}.img"
    with open(backing, "wb") as f:
        f.truncate(32 << 20)
    proc = subprocess.run(
        ["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, timeout=60
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot attach a loop device here: {proc.stderr.strip()}")
    device = proc.stdout.strip()
    assert device.startswith("/dev/loop"), device
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], capture_output=True, timeout=60)


async def test_a_blank_device_needs_its_name_typed(blank_loop: str) -> None:
    calls: list[Call] = []
    jobfile = JobFile((FioJob(name="raw", filename=blank_loop, rw="randwrite", bs="4k"),))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=jobfile)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmNamesScreen), 30)
        dialog = app.screen
        await wait_until(pilot, lambda: blank_loop in screen_text(app), 10)  # drawn (under load)
        # a wrong name (another device, or the name without /dev/) does not run it
        for wrong in ("/dev/sda", os.path.basename(blank_loop)):
            dialog.query_one(Input).value = wrong
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is dialog and calls == []
            assert "do not match" in str(dialog.query_one("#form-error").content)
        dialog.query_one(Input).value = blank_loop
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(calls), 10)
        assert app.screen is screen
        _uri, ran, verdict = calls[0]
        assert ran == jobfile and verdict.confirm_names == (blank_loop,)
        assert verdict.accepts([blank_loop])


async def test_cancelling_the_typed_name_never_runs(blank_loop: str) -> None:
    calls: list[Call] = []
    jobfile = JobFile((FioJob(name="raw", filename=blank_loop, rw="write"),))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=jobfile)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmNamesScreen), 30)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and calls == [] and screen.status_text == "not run"


async def test_a_file_backing_a_loop_device_is_refused(tmp_path: Path, blank_loop: str) -> None:
    backing = next(tmp_path.glob("fioform-*.img"))
    calls: list[Call] = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, calls, jobfile=one_job(backing))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, RefusedScreen), 30)
        reasons = str(app.screen.query_one("#refused-reasons").content)
        assert f"it backs the loop device {os.path.basename(blank_loop)}" in reasons
        assert calls == []


# ---------------------------------------------------------------------------- entry points
async def test_open_fio_and_the_palette_command() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        open_fio(app)
        await wait_until(pilot, lambda: form_shown(app), 5)
        await settle(pilot)
        assert app.screen.uri is None  # type: ignore[attr-defined]
        assert "this machine" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, FioScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "fio: disk benchmark" in titles
        commands = app.get_system_commands(app.screen)
        command = next(c for c in commands if c.title == "fio: disk benchmark")
        command.callback()
        await wait_until(pilot, lambda: form_shown(app), 5)
        await settle(pilot)
        form_titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"fio: run", "fio: check", "fio: save", "fio: load", "fio: preset"} <= set(
            form_titles
        )


def test_the_palette_and_the_keys_come_from_one_table() -> None:
    """`FIO_ACTIONS` gives the screen's and the section list's keys and the palette entries:
    every action bound to a key is offered in the palette (but leaving and the saved runs,
    which the app offers everywhere), with the texts it had when they were listed by hand."""
    screen = FioScreen()
    commands = [(c.title, c.help, c.callback) for c in screen.palette_commands()]
    assert [(t, h) for t, h, _ in commands] == [
        ("fio: run", "Guard, then run the job file (ctrl+r)"),
        ("fio: check", "fio --parse-only (ctrl+t)"),
        ("fio: save", "Save the job file (ctrl+s)"),
        ("fio: load", "Load a .fio job file (ctrl+o)"),
        ("fio: preset", "Fill a job from a preset (f2)"),
        ("fio: new job", "Add a job section (n / ctrl+n)"),
        ("fio: copy job", "Duplicate the job (c on the list)"),
        ("fio: delete job", "Remove the job (d on the list)"),
    ]
    offered = {getattr(callback, "__name__", "") for _t, _h, callback in commands}
    bound = {b.action.removeprefix("screen.") for b in [*FioScreen.BINDINGS, *SectionList.BINDINGS]}
    assert bound - {a.removeprefix("action_") for a in offered} == {"back", "runs"}
    assert {a.action for a in FIO_ACTIONS} == bound
    ids = [b.id for b in [*FioScreen.BINDINGS, *SectionList.BINDINGS]]
    assert ids == [
        "fio.back",
        "fio.run",
        "fio.check",
        "fio.save",
        "fio.load",
        "fio.preset",
        "fio.runs",
        "fio.add_job",
        "fio.sections.new",
        "fio.sections.copy",
        "fio.sections.delete",
    ]


async def test_key_b_on_the_domain_list_opens_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        await pilot.press("B")
        await wait_until(pilot, lambda: form_shown(app), 5)
        await settle(pilot)
        assert app.screen.uri is None  # type: ignore[attr-defined]


async def test_runs_key_opens_the_saved_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from virttui.screens.fio.runs import FioRunsScreen

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, FioRunsScreen), 10)


async def test_everything_fits_80x24(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        for word in ("[global]", "filename", "^r Run", "^t Check", "^s Save", "^o Load"):
            assert word in text, word
        # the form scrolls to its last field, the raw options
        screen.form.focus_field("extra")
        await settle(pilot)
        assert "raw options" in screen_text(app)
        assert "[global]" in screen_text(app)  # the list stays beside it


async def test_leaving_with_changes_asks(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=one_job(tmp_path / "f"))
        assert not screen.modified
        set_values(screen.form, {"bs": "64k"})
        await settle(pilot)
        assert screen.modified
        screen.section_list.focus()
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, FioScreen)


async def test_run_end_to_end_live_then_saved_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product path (no start_run given): the guard accepts a test file, the live screen
    runs real fio (3 s), the finished run is saved in the store of runs and its report shown."""
    from virttui.core.fio.runs import RunStore
    from virttui.screens.fio.live import FioLiveScreen
    from virttui.screens.fio.report import FioReportScreen

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    jobfile = one_job(
        tmp_path / "fio.test", runtime="3", time_based=True, ioengine="psync", bs="4k"
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, jobfile=jobfile)
        await pilot.press("ctrl+r")
        # (generous waits: the guard and fio's start are slow on a loaded 2-core CI machine)
        await wait_until(
            pilot, lambda: isinstance(app.screen, (FioLiveScreen, FioReportScreen)), 90
        )
        await wait_until(pilot, lambda: isinstance(app.screen, FioReportScreen), 120)
        assert any(isinstance(s, FioLiveScreen) for s in app.screen_stack)  # under the report
        await wait_until(pilot, lambda: len(RunStore().list()) == 1, 60)
        saved = RunStore().list()[0]
        assert saved.error is None and saved.job_names == ("t",)
        loaded = RunStore().load(saved.run_id)
        assert loaded.final["jobs"][0]["jobname"] == "t"
        assert loaded.final["jobs"][0]["write"]["total_ios"] > 0
        assert len(loaded.series) >= 2


async def test_a_job_file_without_jobs_is_refused(tmp_path: Path) -> None:
    calls: list[Call] = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, calls, jobfile=one_job(tmp_path / "f"))
        screen.section_list.focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("y")
        await settle(pilot)
        assert len(screen.sections) == 1
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert calls == [] and "the job file has no job" in screen.status_text


async def test_names_and_values_from_a_file_are_drawn_literally(tmp_path: Path) -> None:
    hostile = "[@click=app.quit]x"
    job = FioJob(
        name=hostile,
        filename=str(tmp_path / "f"),
        size="1m",
        random_distribution="[reverse]odd:1",
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_form(pilot, jobfile=JobFile((job,)))
        assert hostile in screen_text(app)
        screen.form.focus_field("random_distribution")
        await settle(pilot)
        assert "[reverse]od" in screen_text(app)
        assert screen.form.query_one("#fio-random_distribution", Select).value == "[reverse]odd"
        assert screen.jobfile().jobs[0] == job
