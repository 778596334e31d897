"""The create runner through `qemu+ssh://` (the throwaway sshd of test_qemu_ssh): file checks run
over ssh (argv, quoted), a location install's kernel/initrd reach the host through libvirt's
volume stream, a kernel-boot create with a new volume is defined; everything removed."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import GUEST_CMDLINE, guest_initrd, guest_kernel, remove_domain, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.create.runner import BOOT_DIR_SYSTEM, CreateFailed, create_domain
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    Graphics,
    KernelBoot,
    LocationInstall,
    NewVolume,
)
from virttui.core.host.connection import effective_uri
from virttui.core.jobs import JobContext, JobMessage

MIB = 1 << 20


def _spec(name: str, pool: str, install: object, start: bool) -> CreateSpec:
    return CreateSpec(
        name=name,
        memory_bytes=128 * MIB,
        domain_type="qemu",
        install=install,  # type: ignore[arg-type]
        disks=(Disk(NewVolume(pool, f"{name}.qcow2", 16 * MIB)),),
        graphics=Graphics("none"),
        video="none",
        usb="none",
        start_after=start,
    )


def test_create_over_ssh(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    uri = local_sshd.uri()
    conn = libvirt.open(effective_uri(uri))
    box: list[JobMessage] = []
    pool = temp_pool.name()
    names: list[str] = []
    try:
        # a missing kernel is found over ssh (test -e as argv), before anything is made
        bad = unique_name("vt-create-ssh-bad")
        with pytest.raises(CreateFailed) as info:
            create_domain(
                JobContext(1, box.append),
                conn,
                _spec(bad, pool, KernelBoot(f"/nonexistent/{bad} 'x'/vmlinuz"), False),
                uri=uri,
                local_files_host=False,
            )
        assert info.value.field == "install.kernel"

        # kernel boot with a new volume, defined only
        name = unique_name("vt-create-ssh")
        names.append(name)
        kernel = KernelBoot(str(guest_kernel().resolve()), str(guest_initrd().resolve()))
        result = create_domain(
            JobContext(1, box.append),
            conn,
            _spec(name, pool, kernel, False),
            uri=uri,
            local_files_host=False,
        )
        assert result.name == name and not result.started
        assert system_conn.lookupByName(name).isPersistent()

        # a location install: the tree is read here, the files reach the host as volumes
        tree = tmp_path / "tree"
        tree.mkdir()
        (tree / "linux").write_bytes(guest_kernel().read_bytes())
        (tree / "initrd.gz").write_bytes(guest_initrd().read_bytes())
        loc = unique_name("vt-create-ssh-loc")
        names.append(loc)
        inst = LocationInstall(str(tree), "linux", "initrd.gz", extra_args=GUEST_CMDLINE)
        result = create_domain(
            JobContext(1, box.append),
            conn,
            _spec(loc, pool, inst, True),
            uri=uri,
            local_files_host=False,
        )
        assert result.started
        live = ET.fromstring(system_conn.lookupByName(loc).XMLDesc(0))
        assert (live.findtext("os/kernel") or "").startswith(BOOT_DIR_SYSTEM + "/virttui-")
    finally:
        for n in names:
            with contextlib.suppress(libvirt.libvirtError):
                remove_domain(system_conn.lookupByName(n))
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()
