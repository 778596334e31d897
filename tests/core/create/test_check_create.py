"""check_create / HostFacade.create_check on the real qemu:///system (reads only: nothing is
created but the module's own empty transient pool; pools and domain names are only listed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TypeVar, cast

import libvirt
import pytest

from tests.guestlib import SYSTEM_URI, transient_dir_pool, unique_name
from virttui.core.create.spec import (
    CdromInstall,
    CreateSpec,
    Disk,
    ExistingVolume,
    Firmware,
    Graphics,
    KernelBoot,
    NewVolume,
)
from virttui.core.create.validate import check_create
from virttui.core.facade.host import HostFacade
from virttui.core.host.libvirt_runtime import silence_errors

pytestmark = pytest.mark.integration
R = TypeVar("R")
MIB = 1 << 20
GIB = 1 << 30
# The kernel-boot files the spec names must exist on the host (the runner's checks look):
# made once per module (kernel_files).
KERNEL = "/nonexistent/vmlinuz"
INITRD = "/nonexistent/initrd.img"


@pytest.fixture(scope="module", autouse=True)
def kernel_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    global KERNEL, INITRD
    root = tmp_path_factory.mktemp("kernel")
    (root / "vmlinuz").write_bytes(b"kernel")
    (root / "initrd.img").write_bytes(b"initrd")
    KERNEL, INITRD = str(root / "vmlinuz"), str(root / "initrd.img")


class ConnHost:
    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.uri = SYSTEM_URI
        self.is_local = True

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        return fn(self.conn)


@pytest.fixture(scope="module")
def facade() -> Iterator[HostFacade]:
    silence_errors()
    try:
        conn = libvirt.open(SYSTEM_URI)
    except libvirt.libvirtError as e:
        pytest.skip(f"no qemu:///system: {e}")
    yield HostFacade(ConnHost(conn))
    conn.close()


@pytest.fixture(scope="module")
def a_pool(facade: HostFacade) -> Iterator[str]:
    """An empty transient directory pool of this module's own (a fresh host has none active:
    these tests skipped in CI), removed afterwards with its directory."""
    conn = cast(ConnHost, facade.host).conn
    with transient_dir_pool(conn, "vt-checkpool") as (pool, _path):
        assert pool.name() in {p.name for p in facade.pools() if p.active and p.type == "dir"}
        yield pool.name()


def spec(pool: str, **kw: object) -> CreateSpec:
    base = CreateSpec(
        name=unique_name("vt-createspec"),
        memory_bytes=256 * MIB,
        install=KernelBoot(KERNEL, INITRD, "console=ttyS0"),
        disks=(Disk(NewVolume(pool, unique_name("vt-createspec") + ".qcow2", GIB)),),
        graphics=Graphics("vnc"),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_good_spec_passes_every_check(facade: HostFacade, a_pool: str) -> None:
    assert facade.create_check(spec(a_pool)) == {}
    assert facade.create_check(spec(a_pool, machine="q35", cdrom_bus="sata")) == {}


def test_each_host_problem_on_its_field(facade: HostFacade, a_pool: str) -> None:
    s = spec(a_pool)
    facts = facade.create_facts(s)
    assert facts.machines is not None and "pc" in facts.machines
    assert check_create(s, replace(facts, domain_names=frozenset({s.name}))) == {
        "name": f"a domain named {s.name!r} already exists on this host"
    }
    missing_pool = spec(a_pool, disks=(Disk(NewVolume(unique_name("nopool"), "a.qcow2", GIB)),))
    assert set(facade.create_check(missing_pool)) == {"disks[0].source.pool"}
    missing_vol = spec(a_pool, disks=(Disk(ExistingVolume(a_pool, unique_name("novol"))),))
    assert set(facade.create_check(missing_vol)) == {"disks[0].source.volume"}
    missing_iso = spec(a_pool, install=CdromInstall(pool=a_pool, volume=unique_name("noiso")))
    assert set(facade.create_check(missing_iso)) == {"install.volume"}
    assert "machine" in facade.create_check(spec(a_pool, machine="no-such-machine"))
    errors = facade.create_check(spec(a_pool, firmware=Firmware("uefi")))
    if "efi" not in facts.caps.domcaps.firmware:  # type: ignore[union-attr]
        assert "firmware.kind" in errors


def test_the_wizards_check_has_the_runners_host_checks(facade: HostFacade, a_pool: str) -> None:
    """The summary's check is the one Create makes first: a disk larger than the pool's free
    space and a kernel missing on the host are named on their fields before anything is made."""
    huge = spec(a_pool, disks=(Disk(NewVolume(a_pool, unique_name("huge") + ".qcow2", 1 << 60)),))
    errors = facade.create_check(huge)
    assert any(key.startswith("disks[0]") for key in errors), errors
    gone = spec(a_pool, install=KernelBoot("/nonexistent/vmlinuz", INITRD, "console=ttyS0"))
    assert any("kernel" in key for key in facade.create_check(gone))
