"""Migration on one machine (qemu:///system): what libvirt allows between two connections to the
same daemon, the speed limit, and job progress + abort on a real job.

One host cannot migrate to itself: libvirt compares the host UUIDs and refuses, offline or live.
The progress reader and abort are exercised on a `save` job instead, which libvirt runs as a
migration to a file and which honours the domain's migration speed limit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import IMAGES_DIR, running_guest, wait_for_serial_text
from virttui.core.migrate import (
    MigrateOptions,
    abort,
    max_speed,
    migrate,
    read_progress,
    same_host,
)

SECOND_URI = "qemu+unix:///system"  # a second connection to the same daemon


@pytest.fixture
def second_conn() -> Iterator[libvirt.virConnect]:
    conn = libvirt.open(SECOND_URI)
    yield conn
    with contextlib.suppress(libvirt.libvirtError):
        conn.close()


@pytest.fixture
def defined_guest(system_conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(system_conn, "vt-mig", start=False) as dom:
        yield dom


def test_offline_migration_to_the_same_daemon_is_refused(
    system_conn: libvirt.virConnect,
    second_conn: libvirt.virConnect,
    defined_guest: libvirt.virDomain,
) -> None:
    assert same_host(system_conn, second_conn)
    before = defined_guest.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    for options in (MigrateOptions(live=False), MigrateOptions(live=False, dest_name="vt-mig-b")):
        with pytest.raises(libvirt.libvirtError) as exc:
            migrate(defined_guest, second_conn, options)
        assert "Attempt to migrate guest to the same host" in str(exc.value)
    # Nothing moved, nothing was renamed, the definition is untouched.
    assert defined_guest.isPersistent() and not defined_guest.isActive()
    assert defined_guest.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == before
    with pytest.raises(libvirt.libvirtError):
        system_conn.lookupByName("vt-mig-b")


def test_live_migration_to_the_same_daemon_is_refused(
    second_conn: libvirt.virConnect, tiny_guest: libvirt.virDomain
) -> None:
    with pytest.raises(libvirt.libvirtError) as exc:
        migrate(tiny_guest, second_conn, MigrateOptions(live=True, copy_storage=True))
    assert "Attempt to migrate guest to the same host" in str(exc.value)
    # Without storage copy, libvirt first objects to the local (unshared) disk.
    with pytest.raises(libvirt.libvirtError) as exc:
        migrate(tiny_guest, second_conn, MigrateOptions(live=True))
    assert exc.value.get_error_code() == libvirt.VIR_ERR_MIGRATE_UNSAFE
    assert tiny_guest.isActive()


def test_speed_limit_and_no_job(defined_guest: libvirt.virDomain) -> None:
    assert max_speed(defined_guest) is None  # unlimited by default
    progress = read_progress(defined_guest)  # inactive: no job, no error
    assert progress.kind == "none" and not progress.active
    with pytest.raises(libvirt.libvirtError, match="domain is not running"):
        abort(defined_guest)


def test_no_job_on_a_running_guest(tiny_guest: libvirt.virDomain) -> None:
    progress = read_progress(tiny_guest)
    assert progress.kind == "none" and progress.fraction is None
    with pytest.raises(libvirt.libvirtError, match="no job is active"):
        abort(tiny_guest)


def test_progress_and_abort_on_a_real_job(tiny_guest: libvirt.virDomain) -> None:
    """A save throttled to 1 MiB/s: progress shows data moving, abort cancels it, the guest runs."""
    wait_for_serial_text(tiny_guest, "virttui test guest ready", timeout=120)
    tiny_guest.migrateSetMaxSpeed(1)
    assert max_speed(tiny_guest) == 1
    target = Path(IMAGES_DIR) / f"{tiny_guest.name()}.save"
    errors: list[str] = []

    def save() -> None:
        try:
            tiny_guest.save(str(target))
        except libvirt.libvirtError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=save)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        progress = read_progress(tiny_guest)
        while not (progress.active and progress.data_processed) and time.monotonic() < deadline:
            time.sleep(0.05)
            progress = read_progress(tiny_guest)
        assert progress.active, progress
        assert progress.data_total > progress.data_processed > 0
        fraction = progress.fraction
        assert fraction is not None and 0 < fraction < 0.5
        abort(tiny_guest)
        worker.join(30)
        assert not worker.is_alive()
        assert errors and "abort" in errors[0]
        assert tiny_guest.isActive()
    finally:
        worker.join(30)
        target.unlink(missing_ok=True)
