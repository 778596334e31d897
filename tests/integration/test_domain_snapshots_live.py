"""libvirt snapshots of the running tiny guest on qemu:///system (libvirt 9.0), through the
facade, with the images' chain checked by `qemu-img info -U --backing-chain --output=json` after
every step: internal create -> write in the guest -> revert -> delete; external create -> write
-> the refused libvirt revert (with its explanation) -> manual revert (shut off) -> delete (the
record only: libvirt cannot merge an overlay the domain no longer runs on, and the kept overlay
still needs the base); and an external leaf deleted by libvirt (merged into its base).

One booted guest for the module; every overlay file is named after the guest and removed."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import libvirt
import pytest

from tests.guestlib import (
    IMAGES_DIR,
    SYSTEM_URI,
    SerialConsole,
    create_qcow2,
    defined_guest,
    running_guest,
    unique_name,
    wait_for_shell,
)
from virttui.core.domain import snapshots as S
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext

R = TypeVar("R")


class _Host:
    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.uri = SYSTEM_URI
        self.label = "system"
        self.is_local = True

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        return fn(self.conn)


def chain(path: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(file, backing file, internal snapshot names) of each layer, top first."""
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--backing-chain", "--output=json", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        (
            layer["filename"],
            layer.get("full-backing-filename") or layer.get("backing-filename") or "",
            tuple(s["name"] for s in layer.get("snapshots", [])),
        )
        for layer in json.loads(out.stdout)
    ]


def first_bytes(path: str, n: int = 8) -> bytes:
    """The first bytes the guest would read from the image (through its backing chain)."""
    out = subprocess.run(
        ["qemu-io", "-r", "-U", "-f", "qcow2", "-c", f"read -v 0 {n}", path],
        capture_output=True,
        text=True,
        check=True,
    )
    hexes = out.stdout.split(":", 1)[1].split()[:n]
    return bytes(int(h, 16) for h in hexes)


def disk_source(dom: libvirt.virDomain) -> str:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    source = root.find("devices/disk/source")
    assert source is not None
    return source.get("file", "")


@pytest.fixture(scope="module")
def guest(conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(conn, "vt-snap") as dom:
        name = dom.name()
        try:
            with SerialConsole(dom) as console:
                wait_for_shell(console, timeout=180)
            yield dom
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                for snap in dom.listAllSnapshots(0):
                    snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
            for leftover in IMAGES_DIR.glob(f"{name}.*"):
                if leftover.name != f"{name}.qcow2":
                    leftover.unlink(missing_ok=True)


def write_mark(console: SerialConsole, mark: str) -> None:
    console.run(f"printf {mark} | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null; sync")


def read_mark(console: SerialConsole) -> str:
    return console.run("dd if=/dev/vda bs=8 count=1 2>/dev/null").strip()


def test_internal_create_write_revert_delete(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    dom = guest
    facade = HostFacade(_Host(conn))  # type: ignore[arg-type]
    uuid = dom.UUIDString()
    booted = not dom.isActive()
    if booted:  # the external test ran first (random order) and shut it off
        dom.create()
    disk = disk_source(dom)
    console = SerialConsole(dom)
    wait_for_shell(console, timeout=180, banner=booted)
    write_mark(console, "MARK-AAA")
    made = facade.create_snapshot(uuid, S.CreateRequest("int one", "before B"))
    assert made.kind == "internal" and made.has_memory
    assert chain(disk)[0][2] == ("int one",) and chain(disk)[0][1] == ""
    tree = facade.snapshot_tree(uuid)
    assert tree.current is not None and tree.current.name == "int one"
    assert tree.current.state == "running" and tree.caps.version == 9_000_000
    write_mark(console, "MARK-BBB")
    assert read_mark(console) == "MARK-BBB"
    console.close()
    facade.revert_snapshot(uuid, "int one")
    assert dom.isActive()
    assert chain(disk)[0][2] == ("int one",)
    with SerialConsole(dom) as console:  # libvirt restarted QEMU: a new console stream
        wait_for_shell(console, timeout=60, banner=False)
        assert read_mark(console) == "MARK-AAA"
    plan = facade.plan_snapshot_delete(uuid, "int one")
    assert plan.refusal is None and not plan.removes
    facade.delete_snapshot(uuid, "int one")
    assert chain(disk) == [(disk, "", ())]
    assert facade.snapshot_tree(uuid).snapshots == ()


def test_external_create_write_manual_revert_delete(
    conn: libvirt.virConnect, guest: libvirt.virDomain
) -> None:
    dom = guest
    facade = HostFacade(_Host(conn))  # type: ignore[arg-type]
    uuid = dom.UUIDString()
    if not dom.isActive():
        pytest.skip("the guest is not running")
    base = disk_source(dom)
    console = SerialConsole(dom)
    wait_for_shell(console, timeout=60, banner=False)
    write_mark(console, "MARK-CCC")
    snap = facade.create_snapshot(uuid, S.CreateRequest("ext one", kind="external"))
    overlay = snap.disks[0].overlay
    assert snap.kind == "external" and not snap.has_memory
    assert overlay == str(Path(base).with_name(Path(base).stem + ".ext_one.qcow2"))
    assert disk_source(dom) == overlay
    assert [c[:2] for c in chain(overlay)] == [(overlay, base), (base, "")]
    write_mark(console, "MARK-DDD")
    assert read_mark(console) == "MARK-DDD"
    console.close()
    dom.destroy()

    # libvirt 9.0 cannot revert it: refused with the reason and the route, nothing changed
    with pytest.raises(S.SnapshotRefused) as refused:
        facade.revert_snapshot(uuid, "ext one")
    assert "libvirt 9.0.0 cannot revert an external snapshot" in refused.value.reason
    assert "9.9.0" in refused.value.reason and "Manual revert" in refused.value.route
    with pytest.raises(libvirt.libvirtError, match="not supported"):  # libvirt agrees
        dom.revertToSnapshot(dom.snapshotLookupByName("ext one", 0), 0)
    assert disk_source(dom) == overlay

    plan = facade.plan_snapshot_manual_revert(uuid, "ext one")
    assert plan.refusal is None and plan.kept == (overlay,)
    new = plan.disks[0].overlay
    assert plan.disks[0].base == base and new.startswith(str(Path(base).with_suffix("")))
    ctx = JobContext(1, lambda _m: None)
    # The overlay names the plan showed (as the screen passes them: a name made again here
    # carries the next second's time stamp when the clock ticks in between; failed once in CI).
    chosen = {d.target: d.overlay for d in plan.disks}
    done = facade.snapshot_manual_revert_job(ctx, uuid, "ext one", chosen)
    assert done.disks[0].overlay == new
    assert disk_source(dom) == new
    assert [c[:2] for c in chain(new)] == [(new, base), (base, "")]
    assert [c[:2] for c in chain(overlay)] == [(overlay, base), (base, "")]  # kept as it was
    assert first_bytes(new) == b"MARK-CCC" and first_bytes(overlay) == b"MARK-DDD"
    tree = facade.snapshot_tree(uuid)
    assert tree.current is not None and tree.current.name == "ext one"

    # deleting it through libvirt would merge into the base the kept overlay needs: refused
    plan_del = facade.plan_snapshot_delete(uuid, "ext one")
    assert plan_del.refusal is not None and "record only" in plan_del.refusal.route
    with pytest.raises(S.SnapshotRefused):
        facade.delete_snapshot(uuid, "ext one")
    facade.delete_snapshot(uuid, "ext one", metadata_only=True)
    assert facade.snapshot_tree(uuid).snapshots == ()
    assert [c[:2] for c in chain(new)] == [(new, base), (base, "")]
    assert [c[:2] for c in chain(overlay)] == [(overlay, base), (base, "")]
    assert first_bytes(new) == b"MARK-CCC"


def test_external_leaf_deleted_by_libvirt_unless_its_base_is_needed(
    conn: libvirt.virConnect,
) -> None:
    """No boot: a shut-off guest. A leaf merged into its base; a second domain on the base
    (virt-manager #811's failure mode) makes the same delete refused, naming it."""
    name = unique_name("vt-snapleaf")
    base = IMAGES_DIR / f"{name}.qcow2"
    create_qcow2(base)
    made: list[Path] = [base]
    try:
        with defined_guest(conn, str(base), prefix="vt-snapleaf") as dom:
            facade = HostFacade(_Host(conn))  # type: ignore[arg-type]
            uuid = dom.UUIDString()
            snap = facade.create_snapshot(uuid, S.CreateRequest("leaf", kind="external"))
            overlay = snap.disks[0].overlay
            made.append(Path(overlay))
            assert [c[:2] for c in chain(overlay)] == [(overlay, str(base)), (str(base), "")]
            other_disk = IMAGES_DIR / f"{name}.other.qcow2"
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
                 str(other_disk)],
                check=True,
            )  # fmt: skip
            made.append(other_disk)
            with defined_guest(conn, str(other_disk), prefix="vt-snapother") as other:
                plan = facade.plan_snapshot_delete(uuid, "leaf")
                assert plan.refusal is not None and other.name() in plan.refusal.reason
            plan = facade.plan_snapshot_delete(uuid, "leaf")
            assert plan.refusal is None or "of snapshot" not in plan.refusal.reason
            other_disk.unlink()
            plan = facade.plan_snapshot_delete(uuid, "leaf")
            assert plan.refusal is None, plan.refusal
            assert plan.writes == (str(base),) and plan.removes == (overlay,)
            facade.delete_snapshot(uuid, "leaf")
            assert disk_source(dom) == str(base) and not Path(overlay).exists()
            assert chain(str(base)) == [(str(base), "", ())]
    finally:
        for path in made:
            path.unlink(missing_ok=True)
