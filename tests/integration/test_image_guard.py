"""The qemu-img guard on the real qemu:///system: writing to the running tiny guest's disk is
refused naming it (and nothing is touched), a shut-off guest's disk needs a confirmation, and
read-only queries run with -U and say so."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from tests.guestlib import running_guest
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import Job, JobDone, JobMessage
from virttui.core.storage import qemu_img as Q
from virttui.core.storage.guard import guard

PREFIX = "vt-imgguard"


def _disk(dom: libvirt.virDomain) -> str:
    source = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/source")
    assert source is not None
    return source.get("file", "")


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class _Host:
    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.uri = "qemu:///system"
        self.is_local = True

    def call(self, fn):  # type: ignore[no-untyped-def]
        return fn(self.conn)


def test_running_guest_disk_is_refused_naming_it(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX) as dom:
        disk = _disk(dom)
        before = _digest(disk)
        name = dom.name()
        verdict = guard("grow", [disk], [system_conn])
        assert verdict.decision == "refuse"
        assert name in verdict.message and "blockResize" in verdict.message
        for action in ("commit", "snapshot-create", "shrink", "repair", "convert-target"):
            assert guard(action, [disk], [system_conn]).decision == "refuse"  # type: ignore[arg-type]
        facade = HostFacade(_Host(system_conn))
        assert facade.image_guard("grow", [disk]).decision == "refuse"
        copy = guard("convert-source", [disk], [system_conn])
        assert copy.needs_confirmation and copy.force_share and "blockCopy" in copy.message
        read = guard("info", [disk], [system_conn])
        assert read.allowed and read.force_share and "stale" in read.note
        # Reading without -U hits QEMU's lock; info falls back to -U and says so.
        messages: list[JobMessage] = []
        Job(lambda ctx: Q.info(ctx, disk), messages.append).run()
        assert isinstance(messages[-1], JobDone)
        assert messages[-1].result.shared and messages[-1].result.stale_note
        assert _digest(disk) == before


def test_shut_off_guest_disk_needs_confirmation(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, PREFIX, start=False) as dom:
        disk = _disk(dom)
        before = _digest(disk)
        verdict = guard("grow", [disk], [system_conn])
        assert verdict.decision == "confirm" and verdict.needs_confirmation
        assert dom.name() in verdict.message and "shut off" in verdict.message
        assert not guard("info", [disk], [system_conn]).force_share
        assert _digest(disk) == before
