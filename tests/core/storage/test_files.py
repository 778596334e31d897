"""The file browser's core: listing a directory (locally and through the `ls` path used over ssh),
decoding C-quoted names, probing images with real qemu-img, concurrent delivery, used by."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from virttui.core.jobs import Job, JobContext, JobFailed, JobMessage
from virttui.core.storage import files as F
from virttui.core.storage.used_by import StorageUsage, User, _Use, path_forms

WEIRD = ["a b", "new\nline", "cr\rx", "qu'o\"te", "é ü", "tab\tx", "back\\slash", "-dash"]


def ctx() -> JobContext:
    return JobContext(0, lambda _m: None)


def qcow2(path: Path, size: str = "1M", backing: Path | None = None) -> Path:
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing is not None:
        argv += ["-b", str(backing), "-F", "qcow2"]
    subprocess.run([*argv, str(path), size], check=True, capture_output=True)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in WEIRD:
        (tmp_path / name).write_bytes(b"hello")
    os.mkdir(tmp_path / "sub dir")
    os.symlink("nowhere", tmp_path / "broken")
    os.symlink("sub dir", tmp_path / "dirlink")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "bad-bytes-\udcff").write_bytes(b"x")  # a name that is not UTF-8
    return tmp_path


def by_name(entries: Sequence[F.DirEntry]) -> dict[str, F.DirEntry]:
    return {e.name: e for e in entries}


@pytest.mark.parametrize("how", ["local", "ls"])
def test_listing_keeps_every_name_intact(tree: Path, how: str) -> None:
    if how == "local":
        entries = F.list_directory(ctx(), str(tree))
    else:  # the parser used over ssh, on the same directory (run here)
        entries = sorted(
            F._remote_entries(ctx(), str(tree), "qemu:///system"), key=lambda e: e.name
        )
    got = by_name(entries)
    names = set(os.listdir(tree))
    assert set(got) == names
    for name in WEIRD:
        assert got[name].kind == "file" and got[name].size == 5
        assert got[name].path == str(tree / name)
        assert os.path.exists(got[name].path)
    assert os.path.exists(got["bad-bytes-\udcff"].path)
    assert got["sub dir"].kind == "dir"
    assert got["dirlink"].kind == "dir"
    assert got["broken"].kind == "broken"
    assert got["fifo"].kind == "special"


def test_listing_refuses_relative_missing_and_file(tmp_path: Path) -> None:
    with pytest.raises(F.FilesError, match="absolute"):
        F.list_directory(ctx(), "relative/dir")
    with pytest.raises(F.FilesError, match="No such file"):
        F.list_directory(ctx(), str(tmp_path / "missing"))
    (tmp_path / "f").write_text("x")
    with pytest.raises(F.FilesError):
        F.list_directory(ctx(), str(tmp_path / "f"))
    with pytest.raises(F.FilesError):
        F._remote_entries(ctx(), str(tmp_path / "f"), "qemu:///system")
    with pytest.raises(F.FilesError):
        F._remote_entries(ctx(), str(tmp_path / "missing"), "qemu:///system")


def test_remote_transport_without_ssh_is_refused() -> None:
    with pytest.raises(F.FilesError, match="qemu\\+ssh"):
        F.list_directory(ctx(), "/tmp", uri="qemu+tls://far.example/system")


def test_decode_c_quoted() -> None:
    assert F.decode_c_quoted(r'"a\nb\r\"q\"\\\303\251"') == 'a\nb\r"q"\\é'
    assert F.decode_c_quoted(r'"\377"') == "\udcff"
    with pytest.raises(ValueError):
        F.decode_c_quoted("no quotes")
    assert F.parse_ls_line("/d", "total 8") is None
    entry = F.parse_ls_line("/d", '-rw-r--r-- 1 0 0 1024 1795990712 "x y"')
    assert entry == F.DirEntry("x y", "/d/x y", "file", 1024)
    dev = F.parse_ls_line("/d", 'brw-rw---- 1 0 6 8, 0 1795990712 "sda"')
    assert dev is not None and dev.kind == "special"


def test_probe_classifies_images_raw_and_plain_files(tmp_path: Path) -> None:
    base = qcow2(tmp_path / "base image.qcow2", "2M")
    qcow2(tmp_path / "overlay é.qcow2", "2M", backing=base)
    (tmp_path / "disk.raw").write_bytes(b"\0" * (2 << 20))
    (tmp_path / "notes.txt").write_text("not an image\n")
    (tmp_path / "empty").write_bytes(b"")
    os.mkdir(tmp_path / "dir")
    os.mkfifo(tmp_path / "fifo")  # never opened: qemu-img would block on it
    seen: list[list[F.FileRow]] = []
    lock = threading.Lock()

    def on_rows(rows: Sequence[F.FileRow]) -> None:
        with lock:
            seen.append(list(rows))

    listing = F.browse(ctx(), str(tmp_path), on_rows=on_rows)
    rows = {r.name: r for r in listing.rows}
    assert listing.directory == str(tmp_path)
    assert len(seen[0]) == 7  # the whole listing first, pending
    assert {r.status for r in seen[0] if r.entry.kind == "file"} == {"pending"}
    assert all(len(batch) == 1 for batch in seen[1:])  # then each probed row,
    assert len(seen) == 1 + 5 + 1  # then the base image, used by its overlay
    assert seen[-1][0].name == "base image.qcow2" and seen[-1][0].users[0].kind == "image"
    overlay = rows["overlay é.qcow2"]
    assert overlay.status == "image" and overlay.info is not None
    assert overlay.info.format == "qcow2" and overlay.info.virtual_size == 2 << 20
    assert overlay.info.backing == str(base)
    assert overlay.info.disk_size is not None and overlay.info.disk_size > 0
    assert rows["disk.raw"].status == "raw" and rows["disk.raw"].is_image
    assert rows["notes.txt"].status == "file" and not rows["notes.txt"].is_image
    assert rows["empty"].status == "file"
    assert rows["dir"].status == "dir" and rows["fifo"].status == "special"


def test_probe_failure_is_a_row_not_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qcow2"
    bad.write_bytes(b"QFI\xfb" + b"\xff" * 200)  # a qcow2 magic with a broken header
    listing = F.browse(ctx(), str(tmp_path))
    (row,) = listing.rows
    assert row.status == "error" and row.note


def test_used_by_is_filled_in_and_a_failed_scan_is_noted(tmp_path: Path) -> None:
    disk = qcow2(tmp_path / "vm.qcow2")
    qcow2(tmp_path / "free.qcow2")
    user = User("domain", "guest-1", "host", "disk", True)
    usage = StorageUsage((_Use(path_forms(str(disk), True), user),))
    listing = F.browse(ctx(), str(tmp_path), usage=lambda: usage)
    rows = {r.name: r for r in listing.rows}
    assert rows["vm.qcow2"].users == (user,) and rows["vm.qcow2"].status == "image"
    assert rows["free.qcow2"].users == ()
    assert listing.usage_note == ""

    def broken() -> StorageUsage:
        raise RuntimeError("libvirt went away")

    listing = F.browse(ctx(), str(tmp_path), usage=broken)
    assert "libvirt went away" in listing.usage_note
    assert all(r.status == "image" for r in listing.rows)


def test_cancel_ends_the_browse(tmp_path: Path) -> None:
    for i in range(20):
        qcow2(tmp_path / f"img{i}.qcow2")
    messages: list[JobMessage] = []
    job: Job[F.Listing]
    first = threading.Event()

    def on_rows(_rows: Sequence[F.FileRow]) -> None:
        first.set()
        job.cancel()

    job = Job(lambda c: F.browse(c, str(tmp_path), on_rows=on_rows), messages.append)
    job.run()
    assert first.is_set()
    assert isinstance(messages[-1], JobFailed) and messages[-1].cancelled


def test_batches_are_dealt_round_robin_and_bounded() -> None:
    rows = [F.initial_row(F.DirEntry(f"f{i:03d}", f"/d/f{i:03d}", "file", 1)) for i in range(10)]
    got = F.batches(rows, 4)
    assert [[r.name for r in b] for b in got][:2] == [
        ["f000", "f004", "f008"],
        ["f001", "f005", "f009"],
    ]
    assert sorted(r.name for b in got for r in b) == [r.name for r in rows]
    assert len(F.batches(rows[:2], 6)) == 2
    assert F.batches([], 4) == []
    many = [F.initial_row(F.DirEntry(f"{i}", f"/d/{i}", "file", 1)) for i in range(500)]
    assert all(len(b) <= F.BATCH_FILES for b in F.batches(many, 4))
    long = [
        F.initial_row(F.DirEntry("x" * 200, "/d/" + "x" * 200 + str(i), "file", 1))
        for i in range(400)
    ]
    assert all(sum(len(r.path) + 1 for r in b) <= F.BATCH_CHARS for b in F.batches(long, 4))


def test_a_name_cannot_forge_the_batch_framing(tmp_path: Path) -> None:
    forged = 'x\n@virttui-0000000000000000 end 0 0\n{"format": "qcow2"}'
    (tmp_path / forged).write_text("not an image")
    qcow2(tmp_path / "real.qcow2")
    listing = F.browse(ctx(), str(tmp_path))
    rows = {r.name: r for r in listing.rows}
    assert rows[forged].status == "file" and rows[forged].info is not None
    assert rows[forged].info.format == "raw"
    assert rows["real.qcow2"].status == "image"


def test_a_batch_whose_process_fails_reports_every_row(tmp_path: Path) -> None:
    rows = [F.initial_row(F.DirEntry("a", str(tmp_path / "a"), "file", 1))]
    got: list[F.FileRow] = []
    F.probe_batch(ctx(), rows, got.append, uri="qemu+ssh://nobody@127.0.0.1:1/system")
    assert [r.status for r in got] == ["error"] and got[0].note


def test_a_base_image_is_used_by_its_overlays_in_the_directory(tmp_path: Path) -> None:
    base = qcow2(tmp_path / "base.qcow2")
    qcow2(tmp_path / "top.qcow2", backing=base)
    subprocess.run(  # a relative backing file name
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
         str(tmp_path / "rel.qcow2")],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    domain = User("domain", "vm", "host", "disk", False)
    usage = StorageUsage((_Use(path_forms(str(base), True), domain),))
    listing = F.browse(ctx(), str(tmp_path), usage=lambda: usage, label="here")
    rows = {r.name: r for r in listing.rows}
    users = rows["base.qcow2"].users
    assert domain in users
    images = sorted(u.name for u in users if u.kind == "image")
    assert images == [str(tmp_path / "rel.qcow2"), str(tmp_path / "top.qcow2")]
    assert all(u.how == "backing file" and u.host == "here" for u in users if u.kind == "image")
    assert rows["top.qcow2"].users == () and rows["rel.qcow2"].users == ()
