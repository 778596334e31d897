"""Files on this machine uploaded into a pool of a remote host (issue 12 "Remote hosts"): the
spec's `uploads` (validate, presets), the runner's checks, the summary's note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from virttui.core.create.presets import PresetError, parse_preset, preset_text
from virttui.core.create.runner import upload_problems, upload_volume_name
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CreateSpec,
    KernelBoot,
    LocalUpload,
    field_path,
    with_field_path,
)
from virttui.core.create.virt_install import upload_notes, virt_install_line

MIB = 1 << 20


def _kernel_spec(kernel: str = "/home/me/vmlinuz", initrd: str = "/home/me/initrd") -> CreateSpec:
    return CreateSpec(
        "up",
        256 * MIB,
        install=KernelBoot(kernel, initrd, "console=ttyS0"),
        driver_iso="/home/me/virtio-win.iso",
        uploads=(
            LocalUpload("install.kernel", "boot"),
            LocalUpload("install.initrd", "boot"),
            LocalUpload("driver_iso", "isos"),
        ),
    )


def test_presets_round_trip_uploads() -> None:
    spec = _kernel_spec()
    text = preset_text(spec)
    assert "uploads" in text and '"install.kernel"' in text
    assert parse_preset(text) == spec


def test_preset_with_unknown_upload_field_is_refused() -> None:
    text = preset_text(_kernel_spec()).replace('"install.kernel"', '"install.cmdline"')
    with pytest.raises((PresetError, ValueError), match="install.cmdline"):
        parse_preset(text)


def test_validate_uploads() -> None:
    assert _kernel_spec().validate() == {}
    no_pool = CreateSpec(
        "up",
        256 * MIB,
        install=CdromInstall(iso_path="/home/me/x.iso"),
        uploads=(LocalUpload("install.iso_path", " "),),
    )
    assert no_pool.validate() == {"install.iso_path": "choose the pool the file is uploaded into"}
    wrong_method = CreateSpec(
        "up", 256 * MIB, install=CdromInstall(pool="p", volume="v"),
        uploads=(LocalUpload("install.iso_path", "p"),),
    )  # fmt: skip
    assert "install.iso_path" in wrong_method.validate()
    twice = CreateSpec(
        "up",
        256 * MIB,
        install=CloudImageInstall("/home/me/base.qcow2"),
        uploads=(LocalUpload("install.base_image", "p"), LocalUpload("install.base_image", "q")),
    )
    assert twice.validate().get("install.base_image") == "this file is uploaded once"


def test_field_path_and_replacement() -> None:
    spec = _kernel_spec()
    assert field_path(spec, "install.kernel") == "/home/me/vmlinuz"
    assert field_path(spec, "install.iso_path") is None
    moved = with_field_path(spec, "install.initrd", "/var/lib/libvirt/boot/initrd")
    assert isinstance(moved.install, KernelBoot)
    assert moved.install.initrd == "/var/lib/libvirt/boot/initrd"
    assert moved.install.kernel == "/home/me/vmlinuz"
    assert with_field_path(spec, "driver_iso", "/p/w.iso").driver_iso == "/p/w.iso"
    with pytest.raises(ValueError):
        with_field_path(spec, "install.base_image", "/x")


def test_summary_says_the_file_is_uploaded_first() -> None:
    spec = _kernel_spec()
    notes = upload_notes(spec, remote=True)
    assert len(notes) == 3
    assert notes[0].startswith("install.kernel: /home/me/vmlinuz")
    assert "uploaded first into pool 'boot'" in notes[0]
    assert upload_notes(spec, remote=False) == []
    # the line itself stays what virt-install is given: the path as written
    assert "kernel=/home/me/vmlinuz" in virt_install_line(spec)


@pytest.fixture
def test_conn() -> Iterator[libvirt.virConnect]:
    conn = libvirt.open("test:///default")
    try:
        yield conn
    finally:
        conn.close()


def test_upload_problems(test_conn: libvirt.virConnect, tmp_path: Path) -> None:
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"k")
    pool = str(test_conn.listAllStoragePools(0)[0].name())
    spec = CreateSpec(
        "up",
        256 * MIB,
        install=KernelBoot(str(kernel), str(tmp_path / "missing-initrd")),
        uploads=(LocalUpload("install.kernel", pool), LocalUpload("install.initrd", pool)),
    )
    # local host: only "is it a file here"
    assert upload_problems(test_conn, spec, local_files_host=True) == {
        "install.initrd": f"{tmp_path / 'missing-initrd'}: no such file on this machine"
    }
    (tmp_path / "missing-initrd").write_bytes(b"i")
    assert upload_problems(test_conn, spec, local_files_host=False) == {}
    # a volume of the file's name in the pool: refused, never overwritten
    test_conn.storagePoolLookupByName(pool).createXML(
        "<volume><name>vmlinuz</name><capacity>1</capacity></volume>", 0
    )
    errors = upload_problems(test_conn, spec, local_files_host=False)
    assert set(errors) == {"install.kernel"}
    assert "already has a volume named 'vmlinuz'" in errors["install.kernel"]
    assert upload_problems(test_conn, spec, local_files_host=True) == {}
    gone = CreateSpec(
        "up", 256 * MIB, install=KernelBoot(str(kernel)),
        uploads=(LocalUpload("install.kernel", "no-such-pool"),),
    )  # fmt: skip
    assert upload_problems(test_conn, gone, local_files_host=False) == {
        "install.kernel": "no storage pool named 'no-such-pool' on this host"
    }
    assert upload_volume_name("/a/b/c.iso") == "c.iso"
