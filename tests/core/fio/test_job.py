"""The fio job model: INI round trips, validation messages, presets, fio --parse-only."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from virttui.core.fio.job import (
    PRESETS,
    FioJob,
    FioOptionError,
    JobFile,
    JobFileError,
    check_jobfile,
    effective,
    load_jobfile,
    parse_jobfile,
    parse_only,
    preset,
    save_jobfile,
    split_filenames,
)
from virttui.core.jobs import JobContext

needs_fio = pytest.mark.skipif(shutil.which("fio") is None, reason="fio is not installed")

SAMPLE = """\
; virttui sample: two jobs sharing a global section
# second comment style

[global]
directory=/tmp
ioengine=libaio
direct=1
; size for every job
size=64m
time_based
runtime=5s
group_reporting

[rand-read]
rw=randread
bs=4k
iodepth=32
random_distribution=zipf:1.2
# a raw option the form does not type
norandommap

[seq write]
readwrite=write
blocksize=1M
numjobs=2
filename=/tmp/a\\:b:/tmp/c
ioengine=pvsync2
verify=crc32c
"""


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


def test_load_typed_fields_raw_options_and_comments() -> None:
    jf = parse_jobfile(SAMPLE)
    assert jf.header == (
        "; virttui sample: two jobs sharing a global section",
        "# second comment style",
    )
    g = jf.global_job
    assert g is not None and g.name == "global"
    assert (g.ioengine, g.direct, g.size, g.time_based, g.runtime, g.group_reporting) == (
        "libaio", True, "64m", True, "5s", True,
    )  # fmt: skip
    assert g.comments == ("; size for every job",)
    a, b = jf.jobs
    assert (a.name, a.rw, a.bs, a.iodepth, a.random_distribution) == (
        "rand-read", "randread", "4k", 32, "zipf:1.2",
    )  # fmt: skip
    assert a.extra == (("norandommap", None),)
    assert a.comments == ("# a raw option the form does not type",)
    # aliases become the typed field; a value the form cannot hold stays a raw option
    assert (b.name, b.rw, b.bs, b.numjobs) == ("seq write", "write", "1M", 2)
    assert b.ioengine == "" and ("ioengine", "pvsync2") in b.extra
    assert split_filenames(b.filename) == ["/tmp/a:b", "/tmp/c"]
    assert b.targets == ("/tmp/a:b", "/tmp/c")


def test_round_trip_several_jobs_and_global(tmp_path: Path) -> None:
    jf = parse_jobfile(SAMPLE)
    path = tmp_path / "sample.fio"
    save_jobfile(jf, str(path))
    again = load_jobfile(str(path))
    assert again == jf
    assert again.text() == jf.text() == path.read_text()
    text = path.read_text()
    assert "[global]\n" in text and "\ntime_based\n" in text and "\nnorandommap\n" in text
    assert "direct=1" in text and "; size for every job" in text
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_flags_written_without_value_and_false_with_zero() -> None:
    job = FioJob("j", filename="/tmp/f", size="1m", time_based=False, thread=True, direct=False)
    text = JobFile((job,)).text()
    assert "\nthread\n" in text and "time_based=0" in text and "direct=0" in text
    assert parse_jobfile(text).jobs[0] == job


def test_effective_and_writes() -> None:
    jf = parse_jobfile(SAMPLE)
    a, b = jf.effective_jobs()
    assert a.ioengine == "libaio" and a.size == "64m" and a.direct is True and not a.writes
    assert b.writes and jf.writes
    assert a.targets == ("/tmp",) and a.directory_files() == ("rand-read.0.0",)
    assert b.targets == ("/tmp/a:b", "/tmp/c") and b.directory_files() == ()
    assert FioJob("r").writes is False  # fio's default rw is read
    assert FioJob("t", rw="read", extra=(("rw", "trim"),)).writes  # a raw rw overrides
    assert FioJob("t", extra=(("readwrite", "randtrim"),)).writes
    assert effective(None, a) is a


def test_directory_targets_and_files() -> None:
    job = FioJob("d", directory="/srv/bench", numjobs=2, nrfiles=2)
    assert job.targets == ("/srv/bench",)
    assert job.directory_files() == ("d.0.0", "d.0.1", "d.1.0", "d.1.1")
    assert (
        FioJob("d", directory="/x", extra=(("filename_format", "f.$jobnum"),)).directory_files()
        is None
    )
    rel = FioJob("d", directory="/srv", filename="one:two")
    assert rel.targets == ("/srv/one", "/srv/two") and rel.directory_files() == ()


def test_bad_job_files_are_refused_with_the_line() -> None:
    with pytest.raises(JobFileError, match="line 1: an option before any"):
        parse_jobfile("rw=read\n[a]\n")
    with pytest.raises(JobFileError, match="line 2: a section header"):
        parse_jobfile("[a]\n[b\n")


GOOD = FioJob("good", filename="/tmp/x", size="1g", rw="randrw", rwmixread=70, runtime="30s",
              time_based=True, bs="4k,64k", bsrange="4k-64k", lockmem="1m", iodepth=8,
              random_distribution="pareto:0.5")  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "give the job a name"),
        ({"name": "global"}, "name", "not 'global'"),
        ({"name": "a]b"}, "name", "no brackets"),
        ({"filename": "rel/path"}, "filename", "not an absolute path"),
        ({"size": "lots"}, "size", "a size such as 1g"),
        ({"size": "150%"}, "size", "percentage"),
        ({"ioengine": "windowsaio"}, "ioengine", "one of libaio, io_uring, psync"),
        ({"iodepth": 0}, "iodepth", "from 1 to 65535"),
        ({"numjobs": 0}, "numjobs", "from 1"),
        ({"nrfiles": 0}, "nrfiles", "from 1"),
        ({"bs": "big"}, "bs", "block size such as 4k"),
        ({"bsrange": "4k"}, "bsrange", "range such as 4k-64k"),
        ({"rw": "sideways"}, "rw", "one of read, write"),
        ({"rwmixread": 101}, "rwmixread", "0 to 100"),
        ({"rw": "randread"}, "rwmixread", "only applies to rw"),
        ({"rwmixwrite": 40}, "rwmixwrite", "must make 100"),
        ({"runtime": "soon"}, "runtime", "a time such as 30"),
        ({"ramp_time": "5x"}, "ramp_time", "a time such as"),
        ({"runtime": ""}, "time_based", "needs a runtime"),
        ({"lockmem": "x"}, "lockmem", "a size such as 512m"),
        ({"random_distribution": "zipf:1"}, "random_distribution", "not 1.0"),
        ({"random_distribution": "zipf"}, "random_distribution", "needs a value"),
        ({"random_distribution": "pareto:1.5"}, "random_distribution", "between 0 and 1"),
        ({"random_distribution": "normal:150"}, "random_distribution", "percentage"),
        ({"random_distribution": "gauss:1"}, "random_distribution", "random, zipf"),
        ({"extra": (("bad key", "1"),)}, "extra", "not an option name"),
        ({"extra": (("k", "a\nb"),)}, "extra", "no line breaks"),
    ],
)
def test_validation_messages_per_field(changes: dict[str, object], field: str, words: str) -> None:
    assert GOOD.validate() == {}
    errors = dataclasses.replace(GOOD, **changes).validate()  # type: ignore[arg-type]
    assert field in errors, errors
    assert words in errors[field] and errors[field].startswith(f"{field}: ")


def test_job_file_validation_with_global_and_targets() -> None:
    jf = parse_jobfile(SAMPLE)
    assert jf.validate() == {}
    no_target = JobFile((FioJob("a", size="1m"),))
    assert "give a file, a device or a directory" in no_target.validate()["a"]["filename"]
    no_size = JobFile((FioJob("a", filename="/tmp/f"),))
    assert "size: needed for a file" in no_size.validate()["a"]["size"]
    assert JobFile((FioJob("a", filename="/dev/loop9"),)).validate() == {}
    dup = JobFile((GOOD, GOOD))
    assert "more than one job" in dup.validate()["good"]["name"]
    assert JobFile().validate() == {"": {"name": "the job file has no job"}}


def test_presets_point_at_a_test_file(tmp_path: Path) -> None:
    seen = set()
    for kind in PRESETS:
        job = preset(kind, str(tmp_path))  # type: ignore[arg-type]
        assert job.filename == str(tmp_path / "virttui-fio.test")
        assert job.direct is True and job.ioengine == "libaio" and job.time_based
        assert JobFile((job,)).validate() == {}, kind
        seen.add((job.rw, job.bs, job.rwmixread, job.writes))
    assert seen == {
        ("randread", "4k", None, False),
        ("randwrite", "4k", None, True),
        ("randrw", "4k", 70, True),
        ("write", "1m", None, True),
        ("read", "1m", None, False),
    }
    assert preset("randread", str(tmp_path)).iodepth == 32
    for bad in ("/dev", "/dev/shm", "relative", str(tmp_path / "missing")):
        with pytest.raises(ValueError):
            preset("randwrite", bad)


@needs_fio
def test_parse_only_accepts_good_and_the_presets(tmp_path: Path) -> None:
    jobs = tuple(preset(k, str(tmp_path)) for k in PRESETS)  # type: ignore[arg-type]
    check_jobfile(ctx(), JobFile(jobs), tmpdir=str(tmp_path))
    check_jobfile(ctx(), parse_jobfile(SAMPLE), tmpdir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # parse-only made no file, the temp file is gone


@needs_fio
def test_parse_only_rejects_bad_options_with_fios_message(tmp_path: Path) -> None:
    bad = FioJob("b", filename=str(tmp_path / "f"), size="1m", extra=(("bogus_option", "3"),))
    with pytest.raises(FioOptionError) as info:
        check_jobfile(ctx(), JobFile((bad,)), tmpdir=str(tmp_path))
    assert "Bad option <bogus_option=3>" in str(info.value)
    path = tmp_path / "z.fio"
    path.write_text("[z]\nrandom_distribution=zipf:1\n")
    with pytest.raises(FioOptionError, match="zipf theta must different than 1.0"):
        parse_only(ctx(), str(path))


@needs_fio
@pytest.mark.parametrize(
    "value",
    ["random", "normal", "normal:5", "zipf:1.2:0.5", "zipf:0.5", "pareto:0.3:0.2",
     "zipf:1", "pareto:1.5", "normal:150", "zipf:abc"],
)  # fmt: skip
def test_distribution_check_agrees_with_fio(value: str, tmp_path: Path) -> None:
    job = FioJob("d", filename=str(tmp_path / "f"), size="1m", random_distribution=value)
    ours = "random_distribution" not in job.validate()
    try:
        check_jobfile(ctx(), JobFile((job,)), tmpdir=str(tmp_path))
        fios = True
    except FioOptionError:
        fios = False
    assert ours == fios


def test_distribution_without_its_value_is_refused_although_fio_takes_it() -> None:
    # fio 3.33 accepts a bare "zipf"/"pareto" and uses no value we could show: the form asks.
    for value in ("zipf", "pareto"):
        errors = FioJob("d", random_distribution=value).validate()
        assert "needs a value" in errors["random_distribution"]


@needs_fio
@pytest.mark.parametrize(
    ("field", "value", "good"),
    [
        ("size", "1GiB", True), ("size", "1.5g", True), ("size", "4kb", True),
        ("size", "10%", True), ("size", "lots", False),
        ("bs", "4k,64k", True), ("bs", ",8k", True), ("bs", "4k,8k,16k", True),
        ("bs", "big", False),
        ("bsrange", "4k-64k", True), ("bsrange", "4k:64k", True), ("bsrange", "4k", False),
        ("runtime", "30", True), ("runtime", "500ms", True), ("runtime", "1h", True),
        ("runtime", "10us", True), ("runtime", "soon", False),
        ("lockmem", "512m", True), ("lockmem", "x", False),
    ],
)  # fmt: skip
def test_field_checks_agree_with_fio(field: str, value: str, good: bool, tmp_path: Path) -> None:
    job = dataclasses.replace(
        FioJob("v", filename=str(tmp_path / "f"), size="1m", runtime="1"), **{field: value}
    )
    assert (field not in job.validate()) == good
    if good:
        check_jobfile(ctx(), JobFile((job,)), tmpdir=str(tmp_path))
    else:
        with pytest.raises(FioOptionError):
            check_jobfile(ctx(), JobFile((job,)), tmpdir=str(tmp_path))
