"""qemu-img actions with the real qemu-img on temp files: every create option verified through
info JSON, check finds a corrupted and a leaking qcow2, convert progress and cancel, resize,
internal snapshots, commit, rebase, bad input refused with a sentence and nothing changed."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobMessage, JobProgress
from virttui.core.storage import qemu_img as Q


def run(fn: Any) -> Any:
    """Run `fn(ctx)` as a job; the result, or raise the failure message as ImageError."""
    messages: list[JobMessage] = []
    Job(fn, messages.append).run()
    last = messages[-1]
    if isinstance(last, JobFailed):
        raise Q.ImageError(last.message)
    assert isinstance(last, JobDone)
    return last.result


def raw_info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def qcow2(path: Path, size: str = "64M", *extra: str) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", *extra, str(path), size], check=True)
    return path


def write_data(path: Path, offset: int, length: int, pattern: int = 0x5A) -> None:
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern} {offset} {length}", str(path)],
        check=True,
        capture_output=True,
    )


# ------------------------------------------------------------------------------------ sizes
@pytest.mark.parametrize(
    ("text", "expected"),
    [("10G", 10 << 30), ("512M", 512 << 20), ("1.5G", 3 << 29), ("4096", 4096), ("2GiB", 2 << 30)],
)
def test_sizes_with_units(text: str, expected: int) -> None:
    assert Q.parse_image_size(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [("-1G", "negative"), ("10Q", "unknown unit"), ("0", "zero"), ("", "empty"), ("ten", "not a")],
)
def test_bad_sizes_are_refused_with_a_sentence(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Q.parse_image_size(text)


# ------------------------------------------------------------------------------------ create
def test_create_qcow2_with_every_option(tmp_path: Path) -> None:
    path = tmp_path / "every option.qcow2"
    opts = Q.CreateOptions(
        format="qcow2",
        size=Q.parse_image_size("100M"),
        compat="1.1",
        cluster_size=128 * 1024,
        preallocation="metadata",
        lazy_refcounts=True,
    )
    run(lambda ctx: Q.create(ctx, str(path), opts))
    data = raw_info(path)
    assert data["format"] == "qcow2"
    assert data["virtual-size"] == 100 << 20
    assert data["cluster-size"] == 128 * 1024
    spec = data["format-specific"]["data"]
    assert spec["compat"] == "1.1" and spec["lazy-refcounts"] is True
    assert data["actual-size"] > 200 * 1024  # metadata preallocated
    info = run(lambda ctx: Q.info(ctx, str(path)))
    assert info.top.compat == "1.1" and info.top.lazy_refcounts is True
    assert info.top.cluster_size == 128 * 1024 and not info.shared


def test_create_compat_010_and_raw_preallocation(tmp_path: Path) -> None:
    old = tmp_path / "old.qcow2"
    run(lambda ctx: Q.create(ctx, str(old), Q.CreateOptions(size=1 << 20, compat="0.10")))
    assert raw_info(old)["format-specific"]["data"]["compat"] == "0.10"
    raw = tmp_path / "full.raw"
    opts = Q.CreateOptions(format="raw", size=1 << 20, preallocation="full")
    run(lambda ctx: Q.create(ctx, str(raw), opts))
    data = raw_info(raw)
    assert data["format"] == "raw" and data["actual-size"] >= 1 << 20
    falloc = tmp_path / "falloc.qcow2"
    run(
        lambda ctx: Q.create(
            ctx, str(falloc), Q.CreateOptions(size=1 << 20, preallocation="falloc")
        )
    )
    assert raw_info(falloc)["actual-size"] >= 1 << 20


def test_create_overlay_needs_backing_format(tmp_path: Path) -> None:
    base = qcow2(tmp_path / "base.qcow2", "32M")
    top = tmp_path / "top.qcow2"
    with pytest.raises(Q.ImageError, match="needs its format"):
        Q.CreateOptions(backing_file=str(base)).validate()
    opts = Q.CreateOptions(backing_file=str(base), backing_format="qcow2")
    run(lambda ctx: Q.create(ctx, str(top), opts))
    info = run(lambda ctx: Q.info(ctx, str(top)))
    assert [layer.filename for layer in info.layers] == [str(top), str(base)]
    assert info.top.backing == str(base) and info.top.backing_format == "qcow2"
    assert info.top.virtual_size == 32 << 20


def test_create_luks_passphrase_never_on_argv(tmp_path: Path) -> None:
    path = tmp_path / "secret.qcow2"
    opts = Q.CreateOptions(size=16 << 20, luks=True, passphrase="hunter2-very-secret")
    assert "hunter2" not in repr(opts)
    args = Q.create_args(str(path), opts, "/nowhere/file")
    assert not any("hunter2" in a for a in args)
    seen: list[list[str]] = []
    real = Q.run_process

    def spy(ctx: JobContext, argv: Any, **kw: Any) -> Any:
        seen.append(list(argv))
        return real(ctx, argv, **kw)

    Q.run_process = spy  # type: ignore[assignment]
    try:
        run(lambda ctx: Q.create(ctx, str(path), opts))
    finally:
        Q.run_process = real  # type: ignore[assignment]
    assert seen and not any("hunter2" in a for argv in seen for a in argv)
    data = raw_info(path)
    assert data["format-specific"]["data"]["encrypt"]["format"] == "luks"
    info = run(lambda ctx: Q.info(ctx, str(path)))
    assert info.top.encryption_format == "luks"
    assert not any(
        p.name.startswith("virttui-secret-")
        for p in Path("/tmp").iterdir()
        if p.stat().st_uid == os.getuid() and p.stat().st_mtime > time.time() - 5
    )


def test_aes_encryption_is_refused_offering_luks(tmp_path: Path) -> None:
    path = tmp_path / "aes.qcow2"
    opts = Q.CreateOptions(size=1 << 20, extra_options="encryption=on")
    with pytest.raises(Q.ImageError, match="LUKS"):
        run(lambda ctx: Q.create(ctx, str(path), opts))
    assert not path.exists()


@pytest.mark.parametrize(
    ("opts", "words"),
    [
        (Q.CreateOptions(size=1 << 20, compat="0.10", lazy_refcounts=True), "compat 1.1"),
        (Q.CreateOptions(size=1 << 20, cluster_size=1000), "power of two"),
        (Q.CreateOptions(format="raw", size=1 << 20, preallocation="metadata"), "preallocation"),
        (Q.CreateOptions(format="raw", size=1 << 20, compat="1.1"), "qcow2 option"),
        (Q.CreateOptions(format="vmdk", size=1 << 20), "format"),
        (Q.CreateOptions(), "size is needed"),
        (Q.CreateOptions(size=1 << 20, luks=True), "passphrase"),
    ],
)
def test_create_bad_options(tmp_path: Path, opts: Q.CreateOptions, words: str) -> None:
    path = tmp_path / "x.qcow2"
    with pytest.raises(Q.ImageError, match=words):
        run(lambda ctx: Q.create(ctx, str(path), opts))
    assert not path.exists()


def test_create_never_overwrites_without_asking(tmp_path: Path) -> None:
    path = tmp_path / "keep.qcow2"
    path.write_bytes(b"precious")
    with pytest.raises(Q.ImageError, match="exists"):
        run(lambda ctx: Q.create(ctx, str(path), Q.CreateOptions(size=1 << 20)))
    assert path.read_bytes() == b"precious"
    run(lambda ctx: Q.create(ctx, str(path), Q.CreateOptions(size=1 << 20), overwrite=True))
    assert raw_info(path)["format"] == "qcow2"


def test_names_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    path = tmp_path / "disque été a b'; touch x.qcow2"
    run(lambda ctx: Q.create(ctx, str(path), Q.CreateOptions(size=1 << 20)))
    assert path.is_file() and not (tmp_path / "x.qcow2").exists()
    assert run(lambda ctx: Q.info(ctx, str(path))).top.filename == str(path)
    assert run(lambda ctx: Q.check(ctx, str(path))).clean


# ------------------------------------------------------------------------------------ bad input
def test_bad_inputs_are_sentences(tmp_path: Path) -> None:
    with pytest.raises(Q.ImageError, match="no such file"):
        run(lambda ctx: Q.info(ctx, str(tmp_path / "missing.qcow2")))
    with pytest.raises(Q.ImageError, match="is a directory"):
        run(lambda ctx: Q.info(ctx, str(tmp_path)))
    with pytest.raises(Q.ImageError, match="absolute"):
        run(lambda ctx: Q.info(ctx, "json:{}"))
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    assert run(lambda ctx: Q.info(ctx, str(text))).top.format == "raw"
    with pytest.raises(Q.ImageError, match="no checks"):
        run(lambda ctx: Q.check(ctx, str(text)))
    assert text.read_text() == "hello\n"


def test_target_on_a_full_filesystem_is_explained(tmp_path: Path) -> None:
    full = tmp_path / "small fs"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        src = qcow2(tmp_path / "src.qcow2", "8M")
        write_data(src, 0, 4 << 20)
        dst = full / "copy.raw"
        opts = Q.ConvertOptions(out_format="raw", sparse_size="0")
        with pytest.raises(Q.ImageError, match="filesystem is full"):
            run(lambda ctx: Q.convert(ctx, str(src), str(dst), opts))
        assert not dst.exists()  # the partial target is removed
    finally:
        subprocess.run(["umount", str(full)], check=False)


def test_devices_and_directories_are_never_targets(tmp_path: Path) -> None:
    src = qcow2(tmp_path / "src.qcow2", "1M")
    for target in ("/dev/null", str(tmp_path)):
        with pytest.raises(Q.ImageError, match="not a regular file"):
            run(lambda ctx, t=target: Q.convert(ctx, str(src), t, overwrite=True))
    assert Path("/dev/null").exists()
    Q.remove_file("/dev/null")
    assert Path("/dev/null").exists()


def test_readable_error_names_full_filesystem() -> None:
    text = Q.readable_error(["qemu-img: error while writing at byte 0: No space left on device"])
    assert "filesystem is full" in text


# ------------------------------------------------------------------------------------ check
def _refcount_block(path: Path) -> int:
    with path.open("rb") as fh:
        header = fh.read(104)
        table = struct.unpack(">Q", header[48:56])[0]
        fh.seek(table)
        return struct.unpack(">Q", fh.read(8))[0]


def test_check_finds_corruption_and_leaks_and_repairs(tmp_path: Path) -> None:
    clean = qcow2(tmp_path / "clean.qcow2", "64M")
    write_data(clean, 0, 1 << 20)
    result = run(lambda ctx: Q.check(ctx, str(clean)))
    assert result.clean and result.readable and result.image_end_offset
    assert any("No errors" in line for line in result.lines())

    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(clean.read_bytes())
    block = _refcount_block(broken)
    with broken.open("r+b") as fh:  # cluster 5 (data) gets refcount 0: a corruption
        fh.seek(block + 2 * 5)
        fh.write(struct.pack(">H", 0))
    result = run(lambda ctx: Q.check(ctx, str(broken)))
    assert result.corruptions > 0 and not result.clean
    assert any("corruption" in line for line in result.lines())

    leaky = tmp_path / "leaky.qcow2"
    leaky.write_bytes(clean.read_bytes())
    clusters = leaky.stat().st_size // 65536
    with leaky.open("r+b") as fh:  # a cluster past the end counted as used: a leak
        fh.seek(block + 2 * clusters)
        fh.write(struct.pack(">H", 1))
        fh.truncate((clusters + 1) * 65536)
    result = run(lambda ctx: Q.check(ctx, str(leaky)))
    assert result.leaks == 1 and result.corruptions == 0
    fixed = run(lambda ctx: Q.check(ctx, str(leaky), repair="leaks"))
    assert fixed.leaks_fixed == 1
    assert run(lambda ctx: Q.check(ctx, str(leaky))).clean


def test_repair_of_an_image_in_use_is_refused(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "a.qcow2", "1M")
    with pytest.raises(Q.ImageError, match="in use"):
        run(lambda ctx: Q.check(ctx, str(path), repair="all", force_share=True))


# ------------------------------------------------------------------------------------ convert
def test_convert_reports_progress_and_keeps_targets(tmp_path: Path) -> None:
    src = qcow2(tmp_path / "src.qcow2", "64M")
    write_data(src, 0, 32 << 20)
    dst = tmp_path / "dst.raw"
    messages: list[JobMessage] = []
    opts = Q.ConvertOptions(out_format="raw")
    Job(lambda ctx: Q.convert(ctx, str(src), str(dst), opts), messages.append).run()
    assert isinstance(messages[-1], JobDone), messages[-1]
    progress = [m for m in messages if isinstance(m, JobProgress)]
    assert progress[-1].fraction == 1.0
    assert len({m.fraction for m in progress}) >= 3
    assert raw_info(dst)["format"] == "raw"
    before = dst.stat().st_mtime_ns
    with pytest.raises(Q.ImageError, match="exists"):
        run(lambda ctx: Q.convert(ctx, str(src), str(dst), opts))
    assert dst.stat().st_mtime_ns == before
    comp = tmp_path / "comp.qcow2"
    copts = Q.ConvertOptions(compress=True, sparse_size="4k", options="cluster_size=65536")
    run(lambda ctx: Q.convert(ctx, str(src), str(comp), copts))
    assert raw_info(comp)["format"] == "qcow2"


def test_progress_lines_and_eta() -> None:
    assert Q.parse_percent("    (42.50/100%)") == pytest.approx(0.425)
    assert Q.parse_percent("nothing") is None
    seen: list[JobMessage] = []
    ctx = JobContext(1, seen.append)
    clock = iter([0.0, 10.0, 20.0])
    report = Q.ProgressReporter(ctx, "converted", clock=lambda: next(clock))
    report("    (25.00/100%)")
    report("    (50.00/100%)")
    texts = [m.text for m in seen if isinstance(m, JobProgress)]
    assert texts == ["converted 25.0% · ETA 30s", "converted 50.0% · ETA 20s"]


def test_convert_cancel_removes_the_partial_target(tmp_path: Path) -> None:
    src = qcow2(tmp_path / "src.qcow2", "64M")
    write_data(src, 0, 48 << 20)
    dst = tmp_path / "partial target.qcow2"
    messages: list[JobMessage] = []
    started = threading.Event()

    def sink(message: JobMessage) -> None:
        messages.append(message)
        if isinstance(message, JobProgress) and (message.fraction or 0) > 0:
            started.set()

    opts = Q.ConvertOptions(rate_limit=4 << 20)  # 4 MiB/s: about 12 s for 48 MiB
    job = Job(lambda ctx: Q.convert(ctx, str(src), str(dst), opts), sink)
    thread = threading.Thread(target=job.run)
    thread.start()
    assert started.wait(60), messages
    assert dst.exists()
    job.cancel()
    thread.join(60)
    assert isinstance(messages[-1], JobFailed) and messages[-1].cancelled
    assert not dst.exists()
    assert src.exists()


# ------------------------------------------------------------------------------------ resize
def test_resize_grow_and_shrink(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "r.qcow2", "64M")
    run(lambda ctx: Q.resize(ctx, str(path), 128 << 20))
    assert raw_info(path)["virtual-size"] == 128 << 20
    with pytest.raises(Q.ImageError, match="shrink"):
        run(lambda ctx: Q.resize(ctx, str(path), 32 << 20))
    assert raw_info(path)["virtual-size"] == 128 << 20
    run(lambda ctx: Q.resize(ctx, str(path), 32 << 20, shrink=True))
    assert raw_info(path)["virtual-size"] == 32 << 20


def test_resize_v2_with_snapshots_is_explained(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "v2.qcow2", "64M", "-o", "compat=0.10")
    run(lambda ctx: Q.snapshot(ctx, str(path), "create", "s1"))
    with pytest.raises(Q.ImageError, match="internal snapshots"):
        run(lambda ctx: Q.resize(ctx, str(path), 32 << 20, shrink=True))
    assert raw_info(path)["virtual-size"] == 64 << 20


# ------------------------------------------------------------------------------------ snapshots
def test_internal_snapshot_round_trip(tmp_path: Path) -> None:
    path = qcow2(tmp_path / "snap.qcow2", "16M")
    write_data(path, 0, 65536, 0x11)
    run(lambda ctx: Q.snapshot(ctx, str(path), "create", "before été"))
    write_data(path, 0, 65536, 0x22)
    (snap,) = run(lambda ctx: Q.snapshot_list(ctx, str(path)))
    assert snap.name == "before été" and snap.date_sec > 0
    assert snap.clock_text == "00:00:00.000" and snap.date_text[:2] == "20"
    run(lambda ctx: Q.snapshot(ctx, str(path), "apply", "before été"))
    check = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "read -P 0x11 0 65536", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Pattern verification failed" not in check.stdout
    run(lambda ctx: Q.snapshot(ctx, str(path), "delete", "before été"))
    assert run(lambda ctx: Q.snapshot_list(ctx, str(path))) == ()
    with pytest.raises(Q.ImageError):
        run(lambda ctx: Q.snapshot(ctx, str(path), "apply", "nope"))
    with pytest.raises(Q.ImageError, match="start with"):
        run(lambda ctx: Q.snapshot(ctx, str(path), "create", "-x"))


# ------------------------------------------------------------------------------------ commit/rebase
def test_commit_and_rebase(tmp_path: Path) -> None:
    base = qcow2(tmp_path / "base.qcow2", "16M")
    top = qcow2(tmp_path / "top.qcow2", "16M", "-b", str(base), "-F", "qcow2")
    write_data(top, 0, 65536, 0x33)
    run(lambda ctx: Q.commit(ctx, str(top)))
    out = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "read -P 0x33 0 65536", str(base)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Pattern verification failed" not in out.stdout
    other = qcow2(tmp_path / "other.qcow2", "16M")
    run(lambda ctx: Q.rebase(ctx, str(top), str(other), "qcow2", unsafe=True))
    assert raw_info(top)["backing-filename"] == str(other)
    run(lambda ctx: Q.rebase(ctx, str(top), "", ""))
    assert "backing-filename" not in raw_info(top)
    with pytest.raises(Q.ImageError, match="format"):
        run(lambda ctx: Q.rebase(ctx, str(top), str(base), ""))


def test_raw_luks_image(tmp_path: Path) -> None:
    path = tmp_path / "raw.luks"
    opts = Q.CreateOptions(format="raw", size=8 << 20, luks=True, passphrase="a b,c")
    run(lambda ctx: Q.create(ctx, str(path), opts))
    info = run(lambda ctx: Q.info(ctx, str(path)))
    assert info.top.format == "luks" and info.top.encrypted


def test_luks_create_retries_only_qemus_pbkdf_clock_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    failures = [Q.PBKDF_CLOCK, Q.PBKDF_CLOCK]

    def fake(ctx: JobContext, args: Any, **kw: Any) -> Q.Output:
        calls.append(list(args))
        if failures:
            raise Q.ImageError(f"x: {failures.pop()}")
        return Q.Output(0, "", ())

    monkeypatch.setattr(Q, "run_qemu_img", fake)
    monkeypatch.setattr(Q, "LUKS_RETRY_PAUSE", 0.0)
    opts = Q.CreateOptions(size=1 << 20, luks=True, passphrase="pw")
    run(lambda ctx: Q.create(ctx, str(tmp_path / "a.qcow2"), opts))
    assert len(calls) == 3
    failures[:] = ["Permission denied"]
    calls.clear()
    with pytest.raises(Q.ImageError, match="Permission denied"):
        run(lambda ctx: Q.create(ctx, str(tmp_path / "b.qcow2"), opts))
    assert len(calls) == 1
