"""core/domain/blockjobs.py without a daemon: sizes typed for a live resize, the disk and its
backing chain read from live XML, the copy's destination XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from virttui.core.domain.blockjobs import BlockJobInfo, copy_xml, parse_disk, parse_new_size

G = 1 << 30
M = 1 << 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20G", 20 * G),
        ("20g", 20 * G),
        ("20GiB", 20 * G),
        ("20 GB", 20 * G),
        ("1.5T", int(1.5 * (1 << 40))),
        ("512M", 512 * M),
        ("1073741824", G),
        ("+5G", 15 * G),
        ("+512M", 10 * G + 512 * M),
    ],
)
def test_sizes(text: str, expected: int) -> None:
    assert parse_new_size(text, 10 * G) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "give a size"),
        ("-1G", "negative"),
        ("10Q", "not a size"),
        ("abc", "not a size"),
        ("0", "above zero"),
        ("+0G", "above zero"),
        ("1E", "absurdly large"),
        ("1e3G", "not a size"),
        ("nan", "not a size"),
    ],
)
def test_bad_sizes(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_new_size(text, 10 * G)


LIVE_XML = """<domain type='qemu'><name>d</name><devices>
  <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda' bus='sata'/></disk>
  <disk type='file' device='disk'>
    <driver name='qemu' type='qcow2'/>
    <source file='/img/top é.qcow2'/>
    <backingStore type='file' index='1'>
      <format type='qcow2'/><source file='/img/mid.qcow2'/>
      <backingStore type='file' index='2'>
        <format type='raw'/><source file='/img/base.raw'/><backingStore/>
      </backingStore>
    </backingStore>
    <target dev='vda' bus='virtio'/>
  </disk>
</devices></domain>"""


def test_parse_disk_chain() -> None:
    disk = parse_disk(LIVE_XML, "vda")
    assert disk is not None
    assert (disk.source, disk.fmt, disk.device) == ("/img/top é.qcow2", "qcow2", "disk")
    assert disk.chain == ("/img/mid.qcow2", "/img/base.raw")
    assert disk.images == ("/img/top é.qcow2", "/img/mid.qcow2", "/img/base.raw")
    cd = parse_disk(LIVE_XML, "sda")
    assert cd is not None and cd.device == "cdrom" and cd.chain == ()
    assert parse_disk(LIVE_XML, "vdb") is None


def test_copy_xml_quotes_the_path() -> None:
    root = ET.fromstring(copy_xml("/img/a b'\"<c>.qcow2", "raw"))
    assert root.find("source").get("file") == "/img/a b'\"<c>.qcow2"  # type: ignore[union-attr]
    assert root.find("driver").get("type") == "raw"  # type: ignore[union-attr]


def test_job_info_ready_and_text() -> None:
    info = BlockJobInfo("copy", 5 * M, 10 * M, M)
    assert info.fraction == 0.5 and not info.ready
    assert "limit 1.0M/s" in info.describe()
    assert BlockJobInfo("copy", 10 * M, 10 * M, 0).ready
    assert not BlockJobInfo("pull", 0, 0, 0).ready
    assert BlockJobInfo("pull", 0, 0, 0).fraction is None


def test_suggested_routes() -> None:
    from virttui.core.domain.blockjobs import suggest_route

    assert suggest_route("grow", 0) == "resize"  # the guard's action names
    assert suggest_route("convert-source", 0) == "copy"
    for action in ("convert-target", "create", "shrink", "repair", "snapshot-create"):
        assert suggest_route(action, 0) is None
    assert suggest_route("resize", 0) == "resize"
    assert suggest_route("resize", 1) is None  # a backing image cannot grow under QEMU
    assert suggest_route("commit", 0) == "commit"
    assert suggest_route("commit", 2) == "commit"
    assert suggest_route("rebase", 0) == "pull"
    assert suggest_route("rebase", 1) is None
    assert suggest_route("convert", 0) == "copy"
    assert suggest_route("convert", 1) is None
    for action in ("check", "snapshot", "shrink", "create"):
        assert suggest_route(action, 0) is None
