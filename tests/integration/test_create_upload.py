"""Local files for a remote host are uploaded into a pool, never assumed there (issue 12): over
`qemu+ssh://` (the throwaway sshd of test_qemu_ssh) a kernel-boot create whose kernel and initrd
are local temporary files uploads them into a temp pool and defines the domain with the volumes'
paths; a failure after the upload removes the uploaded volumes; a taken name is refused; an
uploaded qcow2 cloud image backs the overlay as qcow2."""

from __future__ import annotations

import contextlib
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import guest_initrd, guest_kernel, remove_domain, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.create.runner import CreateFailed, create_domain
from virttui.core.create.spec import (
    CreateSpec,
    Graphics,
    KernelBoot,
    LocalUpload,
    Nic,
)
from virttui.core.host.connection import effective_uri
from virttui.core.jobs import JobContext, JobMessage

MIB = 1 << 20


def _spec(name: str, pool: str, kernel: Path, initrd: Path, **kw: object) -> CreateSpec:
    return CreateSpec(
        name=name,
        memory_bytes=128 * MIB,
        domain_type="qemu",
        install=KernelBoot(str(kernel), str(initrd)),
        graphics=Graphics("none"),
        video="none",
        usb="none",
        start_after=False,
        uploads=(LocalUpload("install.kernel", pool), LocalUpload("install.initrd", pool)),
        **kw,  # type: ignore[arg-type]
    )


def _vol_names(pool: libvirt.virStoragePool) -> set[str]:
    pool.refresh(0)
    return {str(v.name()) for v in pool.listAllVolumes(0)}


def test_local_kernel_uploaded_over_ssh(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    uri = local_sshd.uri()
    conn = libvirt.open(effective_uri(uri))
    box: list[JobMessage] = []
    pool = temp_pool.name()
    tag = unique_name("vt-up")
    kernel = tmp_path / f"{tag}-vmlinuz"
    initrd = tmp_path / f"{tag}-initrd.gz"
    kernel.write_bytes(guest_kernel().read_bytes())
    initrd.write_bytes(guest_initrd().read_bytes())
    names: list[str] = []
    try:
        before = _vol_names(temp_pool)
        # a problem the check finds: refused before anything is uploaded
        bad = unique_name("vt-up-bad")
        with pytest.raises(CreateFailed) as info:
            create_domain(
                JobContext(1, box.append),
                conn,
                _spec(bad, pool, kernel, initrd, nics=(Nic("network", f"{bad}-nonet"),)),
                uri=uri,
                local_files_host=False,
            )
        assert info.value.field == "nics[0].source"
        assert _vol_names(temp_pool) == before

        name = unique_name("vt-up")
        names.append(name)
        result = create_domain(
            JobContext(1, box.append),
            conn,
            _spec(name, pool, kernel, initrd),
            uri=uri,
            local_files_host=False,
        )
        assert result.name == name
        assert _vol_names(temp_pool) == before | {kernel.name, initrd.name}
        xml = ET.fromstring(system_conn.lookupByName(name).XMLDesc(0))
        kvol = temp_pool.storageVolLookupByName(kernel.name)
        ivol = temp_pool.storageVolLookupByName(initrd.name)
        assert xml.findtext("os/kernel") == kvol.path()
        assert xml.findtext("os/initrd") == ivol.path()
        assert kvol.path() != str(kernel)
        assert Path(kvol.path()).read_bytes() == kernel.read_bytes()
        # the local files stay as they were (they are the admin's)
        assert kernel.is_file() and initrd.is_file()

        # the same names again: refused, the admin's (here: the first run's) volumes untouched
        again = unique_name("vt-up-again")
        with pytest.raises(CreateFailed) as info:
            create_domain(
                JobContext(1, box.append),
                conn,
                _spec(again, pool, kernel, initrd),
                uri=uri,
                local_files_host=False,
            )
        assert info.value.field == "install.kernel"
        assert "already has a volume" in info.value.errors["install.kernel"]
        assert Path(kvol.path()).read_bytes() == kernel.read_bytes()
        with pytest.raises(libvirt.libvirtError):
            system_conn.lookupByName(again)
    finally:
        for n in names:
            with contextlib.suppress(libvirt.libvirtError):
                remove_domain(system_conn.lookupByName(n))
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


def test_failure_after_upload_removes_volumes(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    uri = local_sshd.uri()
    conn = libvirt.open(effective_uri(uri))
    box: list[JobMessage] = []
    pool = temp_pool.name()
    tag = unique_name("vt-upf")
    kernel = tmp_path / f"{tag}-vmlinuz"
    initrd = tmp_path / f"{tag}-initrd.gz"
    kernel.write_bytes(guest_kernel().read_bytes())
    initrd.write_bytes(guest_initrd().read_bytes())
    name = unique_name("vt-upf")
    try:
        before = _vol_names(temp_pool)
        # start_after with a kernel that is no kernel: define works, starting QEMU fails after
        # the upload; the rollback removes the uploaded volumes and the definition
        kernel.write_bytes(b"not a kernel")
        spec = dataclasses.replace(_spec(name, pool, kernel, initrd), start_after=True)
        with pytest.raises(CreateFailed) as info:
            create_domain(JobContext(1, box.append), conn, spec, uri=uri, local_files_host=False)
        assert not info.value.cancelled, info.value.reason
        assert any(kernel.name in r for r in info.value.removed), info.value.removed
        assert any(initrd.name in r for r in info.value.removed), info.value.removed
        assert _vol_names(temp_pool) == before
        with pytest.raises(libvirt.libvirtError):
            system_conn.lookupByName(name)
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


def test_local_cloud_image_uploaded_and_backs_the_overlay(
    local_sshd: LocalSshd,  # noqa: F811
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    import subprocess

    from tests.core.create.test_cloudinit import ssh_key
    from virttui.core.create.spec import CloudImageInstall, CloudSeed, Disk, NewVolume

    uri = local_sshd.uri()
    conn = libvirt.open(effective_uri(uri))
    pool = temp_pool.name()
    base = tmp_path / f"{unique_name('vt-upc')}-base.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(base), "16M"], check=True
    )  # a test fixture, not product code
    name = unique_name("vt-upc")
    spec = CreateSpec(
        name=name,
        memory_bytes=128 * MIB,
        domain_type="qemu",
        install=CloudImageInstall(
            str(base),
            seed=CloudSeed(user="u", ssh_keys=(ssh_key(),)),
        ),
        disks=(Disk(NewVolume(pool, f"{name}.qcow2", 32 * MIB)),),
        graphics=Graphics("none"),
        video="none",
        usb="none",
        start_after=False,
        uploads=(LocalUpload("install.base_image", pool),),
    )
    try:
        create_domain(JobContext(1, lambda _m: None), conn, spec, uri=uri, local_files_host=False)
        uploaded = temp_pool.storageVolLookupByName(base.name).path()
        overlay = ET.fromstring(temp_pool.storageVolLookupByName(f"{name}.qcow2").XMLDesc(0))
        assert overlay.findtext("backingStore/path") == uploaded
        assert overlay.find("backingStore/format").get("type") == "qcow2"  # type: ignore[union-attr]
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()
