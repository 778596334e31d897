"""The create runner on the real qemu:///system (core/create/runner.py, through HostFacade where
a facade is at hand): kernel boot of the tiny guest with a new qcow2 disk, an ISO install, a
cloud image with its seed ISO, a location install from a local tree, failure injection with
the rollback checked by listing volumes and domains before and after. Unique names, temp pools,
everything removed afterwards (also on failure)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pycdlib
import pytest

from tests.guestlib import (
    GUEST_CMDLINE,
    READY_BANNER,
    guest_initrd,
    guest_kernel,
    remove_domain,
    unique_name,
    wait_for_serial_text,
)
from virttui.core.create import domain_xml as DX
from virttui.core.create.runner import BOOT_DIR_SYSTEM, CreateFailed, CreateResult, create_domain
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CloudSeed,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Graphics,
    ImportInstall,
    KernelBoot,
    LocationInstall,
    NewVolume,
)
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobMessage, JobProgress

MIB = 1 << 20
PW_HASH = "$6$saltsalt$" + "a" * 86


class _Host:
    uri = "qemu:///system"
    is_local = True

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn

    def call(self, fn):  # type: ignore[no-untyped-def]
        return fn(self.conn)


def _ctx(messages: list[JobMessage] | None = None) -> JobContext:
    box: list[JobMessage] = messages if messages is not None else []
    return JobContext(1, box.append)


def _pool_dir(pool: libvirt.virStoragePool) -> Path:
    return Path(ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or "")


def _volumes(pool: libvirt.virStoragePool) -> set[str]:
    pool.refresh(0)
    return set(pool.listVolumes())


def _domains(conn: libvirt.virConnect) -> set[str]:
    return {d.name() for d in conn.listAllDomains(0)}


def _boot_files() -> set[str]:
    try:
        return set(os.listdir(BOOT_DIR_SYSTEM))
    except FileNotFoundError:
        return set()


@pytest.fixture
def cleanup(system_conn: libvirt.virConnect) -> Iterator[list[str]]:
    """Names of domains a test may create: removed afterwards whatever happened."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


def _base(name: str, pool: libvirt.virStoragePool, **kw: object) -> CreateSpec:
    pool_name = pool.name()
    args: dict[str, object] = {
        "name": name,
        "memory_bytes": 128 * MIB,
        "domain_type": "qemu",
        "disks": (Disk(NewVolume(pool_name, f"{name}.qcow2", 64 * MIB)),),
        "graphics": Graphics("none"),
        "video": "none",
        "usb": "none",
    }
    args.update(kw)
    return CreateSpec(**args)  # type: ignore[arg-type]


def _kernel_boot() -> KernelBoot:
    return KernelBoot(str(guest_kernel().resolve()), str(guest_initrd().resolve()), GUEST_CMDLINE)


def _iso(path: Path, files: dict[str, bytes]) -> None:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, vol_ident="VTTEST")
    try:
        for i, (name, data) in enumerate(files.items()):
            iso.add_fp(io.BytesIO(data), len(data), f"/F{i}.;1", joliet_path=f"/{name}")
        iso.write(str(path))
    finally:
        iso.close()


def _read_iso(path: str) -> dict[str, bytes]:
    iso = pycdlib.PyCdlib()
    iso.open(path)
    try:
        out: dict[str, bytes] = {}
        for name in ("user-data", "meta-data"):
            buf = io.BytesIO()
            iso.get_file_from_iso_fp(buf, rr_path=f"/{name}")
            out[name] = buf.getvalue()
        return out
    finally:
        iso.close()


# ---- success paths --------------------------------------------------------------------------


def test_kernel_boot_with_new_disk_runs(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    name = unique_name("vt-create")
    cleanup.append(name)
    spec = _base(name, temp_pool, install=_kernel_boot(), start_after=True)
    messages: list[JobMessage] = []
    result = HostFacade(_Host(system_conn)).create_domain(_ctx(messages), spec)
    assert isinstance(result, CreateResult)
    assert result.name == name and result.started
    dom = system_conn.lookupByName(name)
    assert dom.isActive() and dom.isPersistent()
    assert result.uuid == dom.UUIDString()
    path = str(_pool_dir(temp_pool) / f"{name}.qcow2")
    assert result.created == (f"volume {path}", f"definition of {name!r}")
    progress = [m for m in messages if isinstance(m, JobProgress)]
    assert progress and progress[-1].fraction == 1.0
    wait_for_serial_text(dom, READY_BANNER, timeout=180)
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    disk = root.find("devices/disk")
    assert disk is not None and disk.find("source").get("file") == path  # type: ignore[union-attr]
    assert disk.find("target").get("bus") == "virtio"  # type: ignore[union-attr]
    info = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", path], capture_output=True, text=True
    )
    assert '"format": "qcow2"' in info.stdout
    remove_domain(dom)
    temp_pool.storageVolLookupByName(f"{name}.qcow2").delete(0)
    assert name not in _domains(system_conn) and f"{name}.qcow2" not in _volumes(temp_pool)


def test_iso_install_defines_cdrom_and_runs_transient_install(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
    tmp_path: Path,
) -> None:
    name = unique_name("vt-create-iso")
    cleanup.append(name)
    iso_path = _pool_dir(temp_pool) / f"{name}-install.iso"
    _iso(iso_path, {"README": b"virttui test install medium\n"})
    spec = _base(name, temp_pool, install=CdromInstall(iso_path=str(iso_path)), start_after=True)
    result = create_domain(_ctx(), system_conn, spec)
    dom = system_conn.lookupByName(name)
    try:
        assert result.started and dom.isActive() and dom.isPersistent()
        live = ET.fromstring(dom.XMLDesc(0))
        cds = [d for d in live.iter("disk") if d.get("device") == "cdrom"]
        assert cds[0].find("source").get("file") == str(iso_path)  # type: ignore[union-attr]
        assert [b.get("dev") for b in live.findall("os/boot")] == ["cdrom", "hd"]
        assert live.findtext("on_reboot") == "destroy"
        final = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        fcds = [d for d in final.iter("disk") if d.get("device") == "cdrom"]
        assert len(fcds) == 1 and fcds[0].find("source") is None  # ejected, as virt-install
        assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]
    finally:
        remove_domain(dom)
    assert iso_path.exists()  # the admin's ISO is never removed


def test_cloud_image_overlay_and_seed_volume(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    name = unique_name("vt-create-cloud")
    cleanup.append(name)
    folder = _pool_dir(temp_pool)
    base = folder / f"{name}-base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "32M"], check=True)
    temp_pool.refresh(0)
    seed = CloudSeed(hostname="cloudy", user="admin", password_hash=PW_HASH, packages=("htop",))
    spec = _base(
        name,
        temp_pool,
        install=CloudImageInstall(str(base), seed=seed),
        start_after=False,
    )
    result = create_domain(_ctx(), system_conn, spec)
    dom = system_conn.lookupByName(name)
    try:
        assert not result.started and not dom.isActive()
        overlay = str(folder / f"{name}.qcow2")
        info = subprocess.run(
            ["qemu-img", "info", "--output=json", overlay], capture_output=True, text=True
        )
        assert f'"backing-filename": "{base}"' in info.stdout
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        cds = [d for d in root.iter("disk") if d.get("device") == "cdrom"]
        seed_path = cds[0].find("source").get("file")  # type: ignore[union-attr]
        assert seed_path == str(folder / f"{name}-cidata.iso")
        assert cds[0].find("readonly") is not None
        files = _read_iso(seed_path)
        assert b"hostname: cloudy" in files["user-data"]
        assert b"hashed_passwd: " + PW_HASH.encode() in files["user-data"]
        assert b"local-hostname: cloudy" in files["meta-data"]
        assert result.created == (
            f"volume {overlay}",
            f"seed ISO {seed_path}",
            f"definition of {name!r}",
        )
    finally:
        remove_domain(dom)


def test_location_install_fetches_kernel_into_boot_dir(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
    tmp_path: Path,
) -> None:
    name = unique_name("vt-create-loc")
    cleanup.append(name)
    tree = tmp_path / "tree"
    (tree / "install").mkdir(parents=True)
    (tree / "install" / "vmlinuz").write_bytes(guest_kernel().read_bytes())
    (tree / "install" / "initrd.gz").write_bytes(guest_initrd().read_bytes())
    before = _boot_files()
    spec = _base(
        name,
        temp_pool,
        install=LocationInstall(
            str(tree), "install/vmlinuz", "install/initrd.gz", extra_args=GUEST_CMDLINE
        ),
        start_after=True,
    )
    result = create_domain(_ctx(), system_conn, spec)
    dom = system_conn.lookupByName(name)
    try:
        live = ET.fromstring(dom.XMLDesc(0))
        kernel = live.findtext("os/kernel") or ""
        assert kernel.startswith(BOOT_DIR_SYSTEM + "/virttui-"), kernel
        assert (live.findtext("os/initrd") or "").startswith(BOOT_DIR_SYSTEM + "/virttui-")
        assert live.findtext("os/cmdline") == GUEST_CMDLINE
        # as virt-install: removed once the install boot has them in memory
        assert _boot_files() == before
        assert not any("fetched" in c for c in result.created)
        final = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert final.find("os/kernel") is None
        wait_for_serial_text(dom, READY_BANNER, timeout=180)
    finally:
        remove_domain(dom)
    assert system_conn.listAllStoragePools(0)  # our transient boot pool is gone:
    assert not [p for p in system_conn.listStoragePools() if p.startswith("virttui-boot-")]


def test_location_rollback_removes_fetched_files(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique_name("vt-create-locfail")
    cleanup.append(name)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "vmlinuz").write_bytes(guest_kernel().read_bytes())
    (tree / "initrd.gz").write_bytes(guest_initrd().read_bytes())
    before_boot, before_vols = _boot_files(), _volumes(temp_pool)
    spec = _base(
        name,
        temp_pool,
        install=LocationInstall(str(tree), "vmlinuz", "initrd.gz"),
        start_after=True,
    )
    _break_emulator(monkeypatch)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    err = info.value
    assert any(r.startswith("fetched kernel " + BOOT_DIR_SYSTEM) for r in err.removed)
    assert any(r.startswith("fetched initrd ") for r in err.removed)
    assert any(r.startswith("volume ") for r in err.removed)
    assert err.left == ()
    assert _boot_files() == before_boot
    assert _volumes(temp_pool) == before_vols
    assert name not in _domains(system_conn)


# ---- failure injection ----------------------------------------------------------------------


def _break_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The XML gets an emulator that does not exist: libvirt refuses the define/start, after
    the volumes were made (the check reads the real caps; the build then uses these)."""
    real = DX.build_domain_xmls

    def bogus(spec: CreateSpec, caps: DX.CreateCaps) -> DX.DomainXmls:
        from dataclasses import replace

        return real(spec, replace(caps, emulator="/nonexistent/qemu-system-x86_64"))

    monkeypatch.setattr("virttui.core.create.runner.build_domain_xmls", bogus)


def test_name_taken(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    name = unique_name("vt-create-dup")
    cleanup.append(name)
    create_domain(
        _ctx(), system_conn, _base(name, temp_pool, install=_kernel_boot(), start_after=False)
    )
    before = _volumes(temp_pool)
    spec = _base(
        name,
        temp_pool,
        install=_kernel_boot(),
        disks=(Disk(NewVolume(temp_pool.name(), "other.qcow2", MIB)),),
        start_after=False,
    )
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.field == "name"
    assert "already exists" in str(info.value)
    assert _volumes(temp_pool) == before


def test_pool_missing(system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool) -> None:
    name = unique_name("vt-create-nopool")
    spec = _base(
        name,
        temp_pool,
        install=_kernel_boot(),
        disks=(Disk(NewVolume(unique_name("vt-no-pool"), "x.qcow2", MIB)),),
    )
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.field == "disks[0].source.pool"
    assert "no pool" in str(info.value) or "no storage pool" in str(info.value)
    assert name not in _domains(system_conn)


def test_disk_larger_than_pool(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    name = unique_name("vt-create-big")
    temp_pool.refresh(0)
    available = temp_pool.info()[3]
    size = (available // MIB + 1024) * MIB
    spec = _base(
        name,
        temp_pool,
        install=_kernel_boot(),
        disks=(Disk(NewVolume(temp_pool.name(), f"{name}.qcow2", size)),),
    )
    before = _volumes(temp_pool)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.field == "disks[0].source.size_bytes"
    assert "available" in str(info.value)
    assert _volumes(temp_pool) == before


def test_invalid_kernel_path(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    name = unique_name("vt-create-nokernel")
    spec = _base(name, temp_pool, install=KernelBoot(f"/nonexistent/{name}/vmlinuz"))
    before = _volumes(temp_pool)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.field == "install.kernel"
    assert "no such file" in str(info.value)
    assert _volumes(temp_pool) == before


def test_failure_mid_way_rolls_back_only_what_it_made(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique_name("vt-create-mid")
    cleanup.append(name)
    pool_name = temp_pool.name()
    folder = _pool_dir(temp_pool)
    existing = folder / f"{name}-existing.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(existing), "16M"], check=True)
    spec = _base(
        name,
        temp_pool,
        install=_kernel_boot(),
        disks=(
            Disk(NewVolume(pool_name, f"{name}-a.qcow2", 16 * MIB)),
            Disk(NewVolume(pool_name, f"{name}-b.raw", 16 * MIB, format="raw")),
            Disk(ExistingPath(str(existing))),
        ),
        start_after=True,
    )
    before_vols, before_doms = _volumes(temp_pool), _domains(system_conn)
    _break_emulator(monkeypatch)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    err = info.value
    assert err.removed == (
        f"volume {folder / f'{name}-b.raw'}",
        f"volume {folder / f'{name}-a.qcow2'}",
    )
    assert err.left == ()
    assert "Removed what this run made" in str(err)
    assert _volumes(temp_pool) == before_vols
    assert existing.exists()
    assert _domains(system_conn) == before_doms


def test_failure_after_define_undefines(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The definition exists, then the start fails (a kernel path swapped after the check):
    the definition and the volume go."""
    name = unique_name("vt-create-start")
    cleanup.append(name)
    before_vols = _volumes(temp_pool)
    spec = _base(name, temp_pool, install=_kernel_boot(), start_after=True)
    real = DX.build_domain_xmls

    def gone_kernel(s: CreateSpec, caps: DX.CreateCaps) -> DX.DomainXmls:
        from dataclasses import replace

        return real(replace(s, install=KernelBoot(f"/nonexistent/{name}")), caps)

    monkeypatch.setattr("virttui.core.create.runner.build_domain_xmls", gone_kernel)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.removed[0] == f"definition of {name!r}"
    assert info.value.removed[1].startswith("volume ")
    assert name not in _domains(system_conn)
    assert _volumes(temp_pool) == before_vols


def test_cancel_rolls_back(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    name = unique_name("vt-create-cancel")
    cleanup.append(name)
    before = _volumes(temp_pool)
    ctx: JobContext

    def sink(msg: JobMessage) -> None:
        if isinstance(msg, JobProgress) and msg.text.startswith("defining"):
            ctx._trigger(ctx._cancelled, [])  # noqa: SLF001 - cancel as Job.cancel does

    ctx = JobContext(1, sink)
    spec = _base(name, temp_pool, install=_kernel_boot(), start_after=False)
    with pytest.raises(CreateFailed) as info:
        create_domain(ctx, system_conn, spec)
    assert info.value.cancelled
    assert "cancelled" in str(info.value)
    assert _volumes(temp_pool) == before
    assert name not in _domains(system_conn)


# ---- UEFI and TPM (Debian packages ovmf, swtpm: in the Makefile's APT_PACKAGES) ------------


def _uefi_tpm_offered(conn: libvirt.virConnect) -> str | None:
    """Why not (None: both offered) for a q35 TCG guest, from the domain capabilities."""
    caps = ET.fromstring(conn.getDomainCapabilities(None, "x86_64", "q35", "qemu", 0))
    if "efi" not in [v.text for v in caps.findall("os/enum[@name='firmware']/value")]:
        return "this host offers no UEFI firmware (Debian package ovmf)"
    backends = [v.text for v in caps.findall("devices/tpm/enum[@name='backendModel']/value")]
    if "emulator" not in backends:
        return "this host offers no emulated TPM (Debian package swtpm)"
    return None


def test_uefi_tpm_domain_and_its_rollback(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    """Defined with UEFI (libvirt's firmware auto-selection) and an emulated TPM, started (the
    NVRAM file and the TPM state appear), then cancelled: the rollback removes the run, the
    definition with its NVRAM file and TPM state, and the volume."""
    why = _uefi_tpm_offered(system_conn)
    if why is not None:
        pytest.skip(why)
    from virttui.core.create.spec import Firmware

    name = unique_name("vt-create-uefi")
    cleanup.append(name)
    spec = _base(
        name,
        temp_pool,
        machine="q35",
        firmware=Firmware("uefi"),
        tpm=True,
        install=_kernel_boot(),
        start_after=True,
    )
    ctx: JobContext

    def sink(msg: JobMessage) -> None:
        if isinstance(msg, JobProgress) and msg.text == "starting":
            ctx._trigger(ctx._cancelled, [])  # noqa: SLF001 - cancel as Job.cancel does

    ctx = JobContext(1, sink)
    before_vols = _volumes(temp_pool)
    with pytest.raises(CreateFailed) as info:
        create_domain(ctx, system_conn, spec)
    assert info.value.cancelled
    assert info.value.removed[0] == f"running {name!r}"
    assert info.value.removed[1] == f"definition of {name!r}"
    assert info.value.left == ()
    assert name not in _domains(system_conn)
    assert _volumes(temp_pool) == before_vols
    assert not Path(f"/var/lib/libvirt/qemu/nvram/{name}_VARS.fd").exists()


def test_uefi_tpm_domain_defined(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    why = _uefi_tpm_offered(system_conn)
    if why is not None:
        pytest.skip(why)
    from virttui.core.create.spec import Firmware

    name = unique_name("vt-create-uefi-def")
    cleanup.append(name)
    spec = _base(
        name,
        temp_pool,
        machine="q35",
        firmware=Firmware("uefi"),
        tpm=True,
        install=_kernel_boot(),
        start_after=True,
    )
    result = create_domain(_ctx(), system_conn, spec)
    dom = system_conn.lookupByName(name)
    try:
        assert result.started and dom.isActive()
        live = ET.fromstring(dom.XMLDesc(0))
        assert "OVMF" in (live.findtext("os/loader") or "")
        nvram = live.findtext("os/nvram") or ""
        assert nvram and Path(nvram).exists()
        tpm = live.find("devices/tpm")
        assert tpm is not None and tpm.find("backend").get("type") == "emulator"  # type: ignore[union-attr]
        assert Path(f"/var/lib/libvirt/swtpm/{result.uuid}").exists()
    finally:
        from virttui.core.create.runner import undefine_with_state

        undefine_with_state(dom)
    assert not Path(nvram).exists()
    assert not Path(f"/var/lib/libvirt/swtpm/{result.uuid}").exists()


def test_inactive_network_is_started_and_stays(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    from tests.guestlib import isolated_network
    from virttui.core.create.spec import Nic

    name = unique_name("vt-create-net")
    cleanup.append(name)
    with isolated_network(system_conn, start=False) as (net, _base_ip):
        assert not net.isActive()
        spec = _base(
            name,
            temp_pool,
            install=_kernel_boot(),
            nics=(Nic("network", net.name()),),
            start_after=False,
        )
        result = create_domain(_ctx(), system_conn, spec)
        assert result.notes == (f"network {net.name()!r} was started and stays running",)
        assert net.isActive()
        remove_domain(system_conn.lookupByName(name))
        net.destroy()
        # a failure mid-way (libvirt refuses the define): the network stays running and the
        # message says so
        before = _volumes(temp_pool)
        broken = _base(
            name + "-2",
            temp_pool,
            install=_kernel_boot(),
            nics=(Nic("network", net.name()),),
            start_after=True,
        )
        with pytest.MonkeyPatch.context() as mp:
            _break_emulator(mp)
            with pytest.raises(CreateFailed) as info:
                create_domain(_ctx(), system_conn, broken)
        assert info.value.notes == (f"network {net.name()!r} was started and stays running",)
        assert "stays running" in str(info.value)
        assert net.isActive()
        assert _volumes(temp_pool) == before


def test_cloud_image_that_is_a_guest_disk_is_refused(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, cleanup: list[str]
) -> None:
    owner = unique_name("vt-create-owner")
    cleanup.append(owner)
    create_domain(
        _ctx(), system_conn, _base(owner, temp_pool, install=_kernel_boot(), start_after=False)
    )
    base = str(_pool_dir(temp_pool) / f"{owner}.qcow2")
    name = unique_name("vt-create-cloud2")
    spec = _base(
        name,
        temp_pool,
        install=CloudImageInstall(base, seed=CloudSeed(password_hash=PW_HASH)),
        start_after=False,
    )
    before = _volumes(temp_pool)
    with pytest.raises(CreateFailed) as info:
        create_domain(_ctx(), system_conn, spec)
    assert info.value.field == "install.base_image"
    assert owner in str(info.value)
    assert _volumes(temp_pool) == before


def test_existing_images_are_attached_in_their_own_format(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    cleanup: list[str],
) -> None:
    """An imported qcow2 image (by path or as a pool volume) is defined as qcow2 and a raw one as
    raw when the spec names no format (it used to be raw always: a qcow2 import booted its
    metadata); a format the spec names is kept."""
    name = unique_name("vt-create-fmt")
    cleanup.append(name)
    folder = _pool_dir(temp_pool)
    images = {}
    for tag, fmt in (("q", "qcow2"), ("r", "raw"), ("v", "qcow2"), ("k", "qcow2")):
        images[tag] = folder / f"{name}-{tag}.img"
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(images[tag]), "16M"], check=True)
    temp_pool.refresh(0)
    spec = _base(
        name,
        temp_pool,
        install=ImportInstall(),
        disks=(
            Disk(ExistingPath(str(images["q"]))),
            Disk(ExistingPath(str(images["r"])), bus="sata"),
            Disk(ExistingVolume(temp_pool.name(), images["v"].name), bus="scsi"),
            Disk(ExistingPath(str(images["k"])), bus="sata", format="raw"),  # stated: kept
        ),
        start_after=False,
    )
    result = create_domain(_ctx(), system_conn, spec)
    assert not result.started
    root = ET.fromstring(system_conn.lookupByName(name).XMLDesc(0))
    types = {
        d.find("source").get("file"): d.find("driver").get("type")  # type: ignore[union-attr]
        for d in root.iter("disk")
    }
    assert types == {
        str(images["q"]): "qcow2",
        str(images["r"]): "raw",
        str(images["v"]): "qcow2",
        str(images["k"]): "raw",
    }
    assert all(p.exists() for p in images.values())
