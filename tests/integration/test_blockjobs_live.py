"""The live routes of core/domain/blockjobs.py on the running tiny guest (qemu:///system): grow its
disk with blockResize (checked in blockInfo and with `qemu-img info -U`), commit and pull an
overlay made by an external disk-only snapshot created here, abort a slowed blockCopy (its
partial file is removed). One booted guest for the module; every file made here is removed."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.guestlib import IMAGES_DIR, running_guest, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.domain.blockjobs import (
    BlockJobError,
    BlockJobResult,
    block_commit,
    block_copy,
    block_job_info,
    block_pull,
    block_resize,
    capacity,
    live_disk,
)
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage, JobProgress

MIB = 1 << 20


def qemu_info(path: str) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)
    assert isinstance(info, dict)
    return info


DEBRIS: list[Path] = []  # files the guest may run on: removed after the guest is gone


@pytest.fixture(scope="module")
def guest(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    """The tiny guest, its disk holding 24 MiB of data (so a copy has something to copy)."""
    try:
        with running_guest(conn, "vt-blockjob", start=False) as dom:
            disk = live_disk_path(dom)
            subprocess.run(
                ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 24M", disk],
                check=True,
                capture_output=True,
            )
            dom.create()
            yield dom
    finally:
        for path in DEBRIS:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        DEBRIS.clear()


def new_image_path(prefix: str) -> Path:
    path = IMAGES_DIR / f"{unique_name(prefix)}.qcow2"
    DEBRIS.append(path)
    return path


def live_disk_path(dom: libvirt.virDomain) -> str:
    import xml.etree.ElementTree as ET

    el = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/source")
    assert el is not None
    return el.get("file", "")


def run(
    fn: Callable[..., Any], *, cancel_when: Callable[[JobProgress], bool] | None = None
) -> list[JobMessage]:
    messages: list[JobMessage] = []
    job: Job[Any]

    def sink(message: JobMessage) -> None:
        messages.append(message)
        if cancel_when is not None and isinstance(message, JobProgress) and cancel_when(message):
            threading.Thread(target=job.cancel, daemon=True).start()

    job = Job(fn, sink)
    job.run()
    return messages


def result(messages: list[JobMessage]) -> BlockJobResult:
    last = messages[-1]
    assert isinstance(last, JobDone), last
    assert isinstance(last.result, BlockJobResult)
    return last.result


@contextlib.contextmanager
def overlay(dom: libvirt.virDomain) -> Iterator[Path]:
    """An external disk-only snapshot of vda (no libvirt metadata): a new overlay file on top of
    the current disk (removed with the guest, at the end of the module)."""
    path = new_image_path("vt-overlay")
    xml = (
        "<domainsnapshot><disks><disk name='vda' snapshot='external'>"
        f"<source file='{path}'/></disk></disks></domainsnapshot>"
    )
    dom.snapshotCreateXML(
        xml,
        libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
        | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA,
    )
    yield path


def test_live_resize_grows_and_refuses_shrink(guest: libvirt.virDomain) -> None:
    before = capacity(guest, "vda")
    path = live_disk(guest, "vda").source
    resized = block_resize(guest, "vda", "+16M")
    assert (resized.old_bytes, resized.new_bytes) == (before, before + 16 * MIB)
    assert guest.blockInfo("vda", 0)[0] == before + 16 * MIB
    # the top image of the chain (what QEMU writes) has the new virtual size
    assert qemu_info(live_disk(guest, "vda").source)["virtual-size"] == before + 16 * MIB
    if path == live_disk(guest, "vda").source:
        assert qemu_info(path)["virtual-size"] == before + 16 * MIB
    for bad in (str(before), "1M", "-1G", "10Q", ""):
        with pytest.raises((BlockJobError, ValueError)):
            block_resize(guest, "vda", bad)
    assert capacity(guest, "vda") == before + 16 * MIB
    with pytest.raises(BlockJobError, match="no disk"):
        block_resize(guest, "vdz", "+1M")


def test_active_commit_of_an_overlay_pivots_back(guest: libvirt.virDomain) -> None:
    base = live_disk(guest, "vda").source
    with overlay(guest) as top:
        disk = live_disk(guest, "vda")
        assert disk.source == str(top) and disk.chain[0] == base
        messages = run(lambda ctx: block_commit(ctx, guest, "vda"))
        done = result(messages)
        assert any(isinstance(m, JobProgress) for m in messages)
        assert live_disk(guest, "vda").source == base
        assert done.unused == (str(top),)
        assert done.chain[0] == base
        chain = json.loads(
            subprocess.run(
                ["qemu-img", "info", "-U", "--backing-chain", "--output=json", base],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        assert [c["filename"] for c in chain] == [base]
        assert block_job_info(guest, "vda") is None


def test_pull_makes_the_overlay_stand_alone(guest: libvirt.virDomain) -> None:
    base = live_disk(guest, "vda").source
    with overlay(guest) as top:
        messages = run(lambda ctx: block_pull(ctx, guest, "vda"))
        done = result(messages)
        disk = live_disk(guest, "vda")
        assert disk.source == str(top) and disk.chain == ()
        assert done.unused == (base,)
        assert "backing-filename" not in qemu_info(str(top))


def test_copy_with_pivot_moves_the_disk(guest: libvirt.virDomain) -> None:
    source = live_disk(guest, "vda").source
    dest = new_image_path("vt-copied")
    messages = run(lambda ctx: block_copy(ctx, guest, "vda", str(dest)))
    done = result(messages)
    assert live_disk(guest, "vda").source == str(dest)
    assert done.unused == (source,)
    assert qemu_info(str(dest))["format"] == "qcow2"
    # the saved definition (persistent domain, transient job) is named when it differs
    saved = guest.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    if str(dest) not in saved:
        assert "saved definition" in done.config_note


def test_commit_and_pull_refuse_without_backing(guest: libvirt.virDomain) -> None:
    if live_disk(guest, "vda").chain:  # an earlier test left a chain: flatten it first
        result(run(lambda ctx: block_pull(ctx, guest, "vda")))
    assert live_disk(guest, "vda").chain == ()
    with pytest.raises(BlockJobError, match="no backing image"):
        block_commit(Job(lambda c: None, lambda m: None).context, guest, "vda")
    with pytest.raises(BlockJobError, match="no backing image"):
        block_pull(Job(lambda c: None, lambda m: None).context, guest, "vda")


def test_aborted_copy_keeps_the_disk_and_removes_the_partial_file(
    guest: libvirt.virDomain,
) -> None:
    source = live_disk(guest, "vda").source
    dest = new_image_path("vt-copy")
    try:
        messages = run(
            lambda ctx: block_copy(ctx, guest, "vda", str(dest), bandwidth=1 * MIB),
            cancel_when=lambda p: (p.fraction or 0) > 0,
        )
        last = messages[-1]
        assert isinstance(last, JobFailed) and last.cancelled, last
        assert any(isinstance(m, JobProgress) and (m.fraction or 0) > 0 for m in messages)
        assert live_disk(guest, "vda").source == source
        assert block_job_info(guest, "vda") is None
        assert not dest.exists()
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            guest.blockJobAbort("vda", 0)
        with contextlib.suppress(FileNotFoundError):
            dest.unlink()


def test_copy_refuses_an_existing_file(guest: libvirt.virDomain, tmp_path: Path) -> None:
    existing = tmp_path / "existing.qcow2"
    existing.write_bytes(b"keep")
    ctx = Job(lambda c: None, lambda m: None).context
    with pytest.raises(BlockJobError, match="already exists"):
        block_copy(ctx, guest, "vda", str(existing))
    assert existing.read_bytes() == b"keep"


def test_intermediate_commit_ends_on_its_own(guest: libvirt.virDomain) -> None:
    base = live_disk(guest, "vda").source
    with overlay(guest) as middle, overlay(guest) as top:
        disk = live_disk(guest, "vda")
        assert disk.images[:3] == (str(top), str(middle), base)
        done = result(run(lambda ctx: block_commit(ctx, guest, "vda", top=str(middle))))
        after = live_disk(guest, "vda")
        assert after.source == str(top)
        assert after.chain[0] == base  # the middle image is out of the chain
        assert done.unused == (str(middle),)
        info = qemu_info(str(top))
        assert info["backing-filename"] == base
        with pytest.raises(BlockJobError, match="not in the backing chain"):
            block_commit(Job(lambda c: None, lambda m: None).context, guest, "vda", top="/nope")


def test_copy_finish_keeps_the_copy_and_the_disk(guest: libvirt.virDomain) -> None:
    source = live_disk(guest, "vda").source
    dest = new_image_path("vt-kept")
    done = result(run(lambda ctx: block_copy(ctx, guest, "vda", str(dest), finish="finish")))
    assert live_disk(guest, "vda").source == source
    assert dest.exists()
    assert qemu_info(str(dest))["format"] == "qcow2"
    assert "stays on its disk" in done.text
    # the copy holds the guest's data (the 0x5a pattern written before boot)
    out = subprocess.run(
        ["qemu-io", "-r", "-U", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", str(dest)],
        capture_output=True,
        text=True,
    )
    assert "Pattern verification failed" not in out.stdout + out.stderr, out.stdout
    assert out.returncode == 0, out.stderr


def test_find_disk_using_names_target_and_depth(guest: libvirt.virDomain) -> None:
    from virttui.core.domain.blockjobs import find_disk_using

    conn = guest.connect()
    base = live_disk(guest, "vda").source
    with overlay(guest) as top:
        ref = find_disk_using(conn, guest.name(), str(top))
        assert (ref.uuid, ref.target, ref.depth) == (guest.UUIDString(), "vda", 0)
        ref = find_disk_using(conn, guest.UUIDString(), base)
        assert (ref.target, ref.depth) == ("vda", 1)
        with pytest.raises(BlockJobError, match="has no disk using"):
            find_disk_using(conn, guest.name(), "/var/lib/libvirt/images/not-used.qcow2")
        # leave the chain flat again for the other tests
        result(run(lambda ctx: block_commit(ctx, guest, "vda")))


def test_commit_into_a_shared_base_is_refused(
    guest: libvirt.virDomain, conn: libvirt.virConnect
) -> None:
    """Another domain's overlay is built on the same base: committing into that base would
    change what the other domain reads. Refused, naming it; nothing started."""
    from tests.guestlib import defined_guest

    base = live_disk(guest, "vda").source
    other_overlay = new_image_path("vt-other-overlay")
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", str(other_overlay)],
        check=True,
        capture_output=True,
    )
    with defined_guest(conn, str(other_overlay), prefix="vt-sharer") as other:
        with overlay(guest):
            ctx = Job(lambda c: None, lambda m: None).context
            with pytest.raises(BlockJobError, match="also used by") as err:
                block_commit(ctx, guest, "vda")
            assert other.name() in str(err.value)
            assert block_job_info(guest, "vda") is None
            assert live_disk(guest, "vda").chain[0] == base
            # a pull writes only into the guest's own overlay: nobody else reads it
            result(run(lambda ctx: block_pull(ctx, guest, "vda")))
            assert live_disk(guest, "vda").chain == ()


def test_cancel_crossing_the_pivot_never_deletes_the_new_disk(guest: libvirt.virDomain) -> None:
    """The cancel lands as the copy is ready and pivoted in the same step: the job ends
    cancelled, but the file the domain now runs on is kept."""
    dest = new_image_path("vt-crossed")
    messages: list[JobMessage] = []
    job: Job[Any]

    def sink(message: JobMessage) -> None:
        messages.append(message)
        if isinstance(message, JobProgress) and message.text.endswith("ready"):
            job.cancel()  # in the job's thread, right before the pivot call

    job = Job(lambda ctx: block_copy(ctx, guest, "vda", str(dest)), sink)
    job.run()
    last = messages[-1]
    assert isinstance(last, JobFailed) and last.cancelled
    assert live_disk(guest, "vda").source == str(dest)
    assert dest.exists()


def test_copy_over_qemu_ssh_asks_when_the_target_cannot_be_checked(
    guest: libvirt.virDomain,
    local_sshd: LocalSshd,  # noqa: F811 - the fixture
) -> None:
    """Through qemu+ssh the destination is not a local file: unless it is a pool volume, its
    existence cannot be told, and the copy needs the admin's word (`unchecked_ok`)."""
    # "127.1": this machine, but not a name virttui takes for a local host (as a remote one)
    conn = libvirt.open(local_sshd.uri(host="127.1"))
    try:
        dom = conn.lookupByUUIDString(guest.UUIDString())
        ctx = Job(lambda c: None, lambda m: None).context
        dest = new_image_path("vt-remote-copy")
        with pytest.raises(BlockJobError, match="Cannot check whether"):
            block_copy(ctx, dom, "vda", str(dest))
        assert block_job_info(dom, "vda") is None
        # resize and the chain work the same through the ssh connection
        before = capacity(dom, "vda")
        assert block_resize(dom, "vda", "+1M").new_bytes == before + MIB
    finally:
        conn.close()
