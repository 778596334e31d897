"""The guard applied to whole job files (`guard_jobfile`): writes, --readonly, unknown files."""

from __future__ import annotations

from pathlib import Path

from virttui.core.fio.guard import check_targets, guard_jobfile
from virttui.core.fio.job import FioJob, JobFile, parse_jobfile, preset
from virttui.core.jobs import JobContext
from virttui.core.storage.used_by import StorageUsage, User, _Use, path_forms

NOBODY = StorageUsage(())


def ctx() -> JobContext:
    return JobContext(0, lambda _message: None)


def in_use(path: Path) -> StorageUsage:
    user = User("domain", "web", "local", "disk", running=True)
    return StorageUsage((_Use(path_forms(str(path), True), user),))


def test_preset_on_a_test_file_is_ok(tmp_path: Path) -> None:
    v = guard_jobfile(ctx(), JobFile((preset("randwrite", str(tmp_path)),)), usage=NOBODY)
    assert v.writes and v.decision == "ok" and v.fio_args == ()


def test_read_only_file_on_an_image_in_use_runs_readonly(tmp_path: Path) -> None:
    image = tmp_path / "vm.qcow2"
    image.write_bytes(b"\0" * 4096)
    reader = FioJob("r", filename=str(image), rw="randread", size="4k")
    v = guard_jobfile(ctx(), JobFile((reader,)), usage=in_use(image))
    assert not v.writes and v.decision == "ok" and v.fio_args == ("--readonly",)
    # With a writing job in the same file --readonly cannot apply: every target counts as
    # written, so the image is refused.
    writer = preset("write", str(tmp_path))
    v = guard_jobfile(ctx(), JobFile((reader, writer)), usage=in_use(image))
    assert v.writes and v.refused and "web (disk, running)" in "\n".join(v.reasons)


def test_directory_files_and_global(tmp_path: Path) -> None:
    image = tmp_path / "d.0.0"
    image.write_bytes(b"")
    text = f"[global]\ndirectory={tmp_path}\nsize=1m\nrw=write\n[d]\n[other]\nnumjobs=1\n"
    jf = parse_jobfile(text)
    v = guard_jobfile(ctx(), jf, usage=in_use(image))
    assert v.refused and v.reasons == (
        f"{tmp_path}: d.0.0: it is a disk of a domain or an image in use: web (disk, running)",
    )
    assert guard_jobfile(ctx(), jf, usage=NOBODY).decision == "ok"


def test_unknown_files_or_no_target_refuse_writes(tmp_path: Path) -> None:
    fmt = FioJob("f", directory=str(tmp_path), rw="write", size="1m",
                 extra=(("filename_format", "/var/lib/x.$jobnum"),))  # fmt: skip
    v = guard_jobfile(ctx(), JobFile((fmt,)), usage=NOBODY)
    assert v.refused and "filename_format" in v.reasons[0]
    v = guard_jobfile(ctx(), JobFile((FioJob("n", rw="write", size="1m"),)), usage=NOBODY)
    assert v.refused and "no target" in v.reasons[0]


def test_another_host_is_read_over_ssh_and_refused_when_it_cannot_be(tmp_path: Path) -> None:
    jf = JobFile((preset("randread", str(tmp_path)),))
    # ssh that fails at once (the URI's command=): the host cannot be read, so refused
    uri = "qemu+ssh://root@far.example/system?command=/bin/false"
    v = guard_jobfile(ctx(), jf, usage=NOBODY, uri=uri)
    assert v.refused and v.checks[0].path.startswith(str(tmp_path))
    assert "could not read /proc and /sys on far.example" in v.reasons[0]
    assert guard_jobfile(ctx(), jf, usage=NOBODY, uri="qemu:///system").decision == "ok"
    v2 = check_targets(ctx(), [str(tmp_path)], writes=True, usage=NOBODY, uri=uri)
    assert v2.refused and "could not read /proc and /sys on far.example" in v2.reasons[0]
    # another transport than ssh: fio cannot run there, refused without trying
    v3 = guard_jobfile(ctx(), jf, usage=NOBODY, uri="qemu+tls://far.example/system")
    assert v3.refused and "only over qemu+ssh" in v3.reasons[0]
    # an ssh URI without a host: refused, not an exception
    v4 = check_targets(ctx(), [str(tmp_path)], writes=True, usage=NOBODY, uri="qemu+ssh:///system")
    assert v4.refused and "no host" in v4.reasons[0]
