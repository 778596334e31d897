"""Every lifecycle action of virttui.core on a real tiny guest (qemu:///system, TCG).

The guest runs busybox acpid, so an ACPI power-button press really powers it off: shutdown is
tested end to end (shut off, reason "shut down"), not just delivered. Storage for clone and
undefine lives in a transient dir pool over a temporary directory, created and destroyed here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import (
    READY_BANNER,
    SerialConsole,
    defined_guest,
    qcow2_volume,
    remove_domain,
    running_guest,
    wait_for_shell,
)
from virttui.core.domain import actions as A
from virttui.core.domain import devices as D
from virttui.core.domain import tuning as T
from virttui.core.domain.action_result import DomainActionError
from virttui.core.domain.clone import clone_domain
from virttui.core.domain.info import collect_domain_details, parse_domain_xml
from virttui.core.domain.undefine import storage_choices, undefine

PREFIX = "vt-life"
S = libvirt


def wait_state(dom: libvirt.virDomain, state: int, timeout: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        current = dom.state()
        if current[0] == state or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


@contextlib.contextmanager
def shell(dom: libvirt.virDomain) -> Iterator[SerialConsole]:
    with SerialConsole(dom) as console:
        wait_for_shell(console, timeout=120)
        yield console


def _wait_banner_again(console: SerialConsole, mark: int) -> None:
    console.wait_for(READY_BANNER, 120, start=mark)


def test_start_and_acpi_shutdown(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX, start=False) as dom:
        A.start(dom)
        assert dom.state() == [S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_RUNNING_BOOTED]
        with shell(dom):
            pass  # acpid is up once the shell answers
        A.shutdown(dom)  # ACPI power button by default
        assert wait_state(dom, S.VIR_DOMAIN_SHUTOFF) == [
            S.VIR_DOMAIN_SHUTOFF,
            S.VIR_DOMAIN_SHUTOFF_SHUTDOWN,
        ]
        with pytest.raises(DomainActionError, match="not running"):
            A.shutdown(dom)


def test_reboot_reset_pause_resume_force_off(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom, shell(dom) as console:
        console.run("echo alive > /root/marker")
        mark = console.mark()
        A.reboot(dom)  # ACPI: acpid powers off, libvirt's fake reboot starts it again
        _wait_banner_again(console, mark)
        wait_for_shell(console, timeout=120, banner=False)
        assert dom.isActive()
        assert "No such file" in console.run("cat /root/marker 2>&1")  # RAM root: fresh boot

        mark = console.mark()
        A.reset(dom)
        _wait_banner_again(console, mark)
        wait_for_shell(console, timeout=120, banner=False)

        A.pause(dom)
        assert dom.state() == [S.VIR_DOMAIN_PAUSED, S.VIR_DOMAIN_PAUSED_USER]
        A.resume(dom)
        assert dom.state() == [S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_RUNNING_UNPAUSED]
        assert console.run("echo back").strip() == "back"

        A.force_off(dom)
        assert dom.state() == [S.VIR_DOMAIN_SHUTOFF, S.VIR_DOMAIN_SHUTOFF_DESTROYED]


def test_save_restore_round_trip(system_conn: libvirt.virConnect) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="vt-life-save-", dir="/var/tmp"))
    image = workdir / "guest.save"
    try:
        with running_guest(system_conn, PREFIX) as dom:
            with shell(dom) as console:
                console.run("echo kept-in-ram > /root/marker")
            A.save_to_file(dom, str(image))
            assert dom.state() == [S.VIR_DOMAIN_SHUTOFF, S.VIR_DOMAIN_SHUTOFF_SAVED]
            assert image.stat().st_size > 1 << 20
            restored = A.restore_from_file(system_conn, str(image))
            assert restored.UUIDString() == dom.UUIDString()
            assert restored.state() == [S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_RUNNING_RESTORED]
            with SerialConsole(restored) as console:
                console.send("\n")
                assert console.run("cat /root/marker").strip() == "kept-in-ram"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_managed_save_start_and_remove(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom:
        with shell(dom) as console:
            console.run("echo managed > /root/marker")
        A.managed_save(dom)
        assert dom.state() == [S.VIR_DOMAIN_SHUTOFF, S.VIR_DOMAIN_SHUTOFF_SAVED]
        assert collect_domain_details(dom).has_managed_save is True
        A.start(dom)  # resumes from the image
        assert dom.state() == [S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_RUNNING_RESTORED]
        assert not dom.hasManagedSaveImage(0)
        with SerialConsole(dom) as console:
            console.send("\n")
            assert console.run("cat /root/marker").strip() == "managed"
        A.managed_save(dom)
        A.remove_managed_save(dom)
        assert not dom.hasManagedSaveImage(0)
        A.start(dom)  # a fresh boot now
        assert dom.state() == [S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_RUNNING_BOOTED]


def test_autostart_on_off(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX, start=False) as dom:
        link = Path("/etc/libvirt/qemu/autostart") / f"{dom.name()}.xml"
        A.set_autostart(dom, True)
        assert dom.autostart() == 1 and link.is_symlink()
        A.set_autostart(dom, False)
        assert dom.autostart() == 0 and not link.exists()


def test_rename_only_while_shut_off(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom:
        original = dom.name()
        with pytest.raises(DomainActionError, match="shut the domain off first"):
            A.rename(dom, original + "-x")
        A.force_off(dom)
        renamed = A.rename(dom, original + "-x")
        try:
            assert renamed.name() == original + "-x"
            assert renamed.UUIDString() == dom.UUIDString()
            with pytest.raises(libvirt.libvirtError):
                system_conn.lookupByName(original)
        finally:
            A.rename(renamed, original)  # so the fixture's clean-up finds its files
            with contextlib.suppress(FileNotFoundError):
                Path(f"/var/log/libvirt/qemu/{original}-x.log").unlink()


def test_clone_copies_the_disk_through_the_pool(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    pool_dir = Path(ET.fromstring(temp_pool.XMLDesc(0)).findtext("target/path") or "")
    raw = pool_dir / "pattern.raw"
    raw.write_bytes(os.urandom(3 << 20) + b"\0" * (5 << 20))
    src_disk = pool_dir / "src.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(src_disk)], check=True
    )
    raw.unlink()
    temp_pool.refresh(0)
    with defined_guest(system_conn, str(src_disk), PREFIX) as src:
        seen: list[tuple[int, int]] = []
        new_name = src.name() + "-clone"
        result = clone_domain(src, new_name, progress=lambda d, t: seen.append((d, t)))
        clone = system_conn.lookupByName(new_name)
        try:
            (vol,) = result.volumes
            assert vol.source_path == str(src_disk) and Path(vol.path).parent == pool_dir
            assert seen and seen[-1][0] == seen[-1][1] > 0
            compare = subprocess.run(
                ["qemu-img", "compare", str(src_disk), vol.path], capture_output=True, text=True
            )
            assert compare.returncode == 0, compare.stdout + compare.stderr
            a, b = collect_domain_details(src), collect_domain_details(clone)
            assert b.definition.uuid != a.definition.uuid
            assert b.definition.nics[0].mac != a.definition.nics[0].mac
            assert b.definition.disks[0].source_file == vol.path
            A.start(clone)  # the copy is a bootable, valid definition
            assert clone.isActive()
        finally:
            remove_domain(clone)
            with contextlib.suppress(FileNotFoundError):
                Path(f"/var/log/libvirt/qemu/{new_name}.log").unlink()


def test_undefine_deletes_exactly_the_ticked_volume(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    ticked = qcow2_volume(temp_pool, "ticked.qcow2")
    kept = qcow2_volume(temp_pool, "kept.qcow2")
    extra = (
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{kept}'/><target dev='vdb' bus='virtio'/></disk>"
    )
    with defined_guest(system_conn, ticked, PREFIX, extra) as dom:
        assert [(c.path, c.default_ticked) for c in storage_choices(dom)] == [
            (ticked, True),
            (kept, True),
        ]
        result = undefine(dom, managed_save=True, snapshots_metadata=True, delete_volumes=[ticked])
        assert result.all_ok and [v.path for v in result.volumes] == [ticked]
        with pytest.raises(libvirt.libvirtError):
            system_conn.lookupByUUIDString(dom.UUIDString())
    temp_pool.refresh(0)
    assert temp_pool.listVolumes() == ["kept.qcow2"]
    assert Path(kept).exists() and not Path(ticked).exists()


def test_live_tuning_and_devices(system_conn: libvirt.virConnect) -> None:
    cdrom = "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
    workdir = Path(tempfile.mkdtemp(prefix="vt-life-dev-", dir="/var/tmp"))
    workdir.chmod(0o755)
    iso = workdir / "media.iso"
    iso.write_bytes(b"\0" * (1 << 20))
    extra = workdir / "extra.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(extra), "16M"], check=True)
    try:
        with running_guest(system_conn, PREFIX, extra_devices=cdrom) as dom, shell(dom) as con:
            applied = T.set_title(dom, "notes & <title>")
            assert applied.live and applied.config
            applied = T.set_memory(dom, 96 * 1024)  # balloon target
            assert applied.live and applied.config
            with pytest.raises(DomainActionError) as err:
                T.set_vcpus(dom, 2)  # above the maximum of 1
            assert err.value.message  # libvirt's own words

            applied = D.insert_media(dom, "hdc", str(iso))
            assert applied.live and applied.config
            live = collect_domain_details(dom)  # the guest kernel has no ATA driver: ask QEMU
            assert live.definition.disks[1].source_file == str(iso)
            assert live.usage_for("hdc") is not None and live.usage_for("hdc").capacity == 1 << 20
            applied = D.eject_media(dom, "hdc")
            assert applied.live and applied.config
            assert collect_domain_details(dom).definition.disks[1].source_label == ""
            inactive_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            assert str(iso) not in inactive_xml

            applied, target = D.add_disk_path(dom, str(extra), fmt="qcow2")
            assert target == "vdb" and applied.live and applied.config
            deadline = time.monotonic() + 30
            while "vdb" not in con.run("ls /sys/block") and time.monotonic() < deadline:
                time.sleep(0.5)
            assert "vdb" in con.run("ls /sys/block")

            applied = D.add_serial(dom)  # ISA serial ports cannot be hot-plugged
            assert applied.config and not applied.live and applied.note
            applied = D.add_graphics(dom, "spice")
            assert applied.config and not applied.live
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            config = parse_domain_xml(xml)
            assert sorted(d.target for d in config.disks) == ["hdc", "vda", "vdb"]
            assert [g.type for g in config.graphics] == ["vnc", "spice"]
            assert [c.target_port for c in config.chardevs if c.kind == "serial"] == [0, 1]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
