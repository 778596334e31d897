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
from virttui.core.domain.migrate import (
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
    """A real background job (save to file): progress is readable while it runs, abort cancels it
    and the guest keeps running. libvirt lifts the speed limit for saves to a file, so the save of
    the 128 MiB guest can finish before the abort lands; then the guest is restored and we retry.
    """
    wait_for_serial_text(tiny_guest, "virttui test guest ready", timeout=120)
    target = Path(IMAGES_DIR) / f"{tiny_guest.name()}.save"
    conn = tiny_guest.connect()
    try:
        for _attempt in range(5):
            errors: list[str] = []

            def save(errors: list[str] = errors) -> None:
                try:
                    tiny_guest.save(str(target))
                except libvirt.libvirtError as exc:
                    errors.append(str(exc))

            worker = threading.Thread(target=save)
            worker.start()
            deadline = time.monotonic() + 30
            progress = read_progress(tiny_guest)
            while not progress.active and worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
                progress = read_progress(tiny_guest)
            aborted = False
            if progress.active:
                assert progress.data_total >= progress.data_processed >= 0
                try:
                    abort(tiny_guest)
                    aborted = True
                except libvirt.libvirtError:
                    pass  # the save completed first
            worker.join(60)
            assert not worker.is_alive()
            if aborted and errors:
                assert "abort" in errors[0] or "cancel" in errors[0], errors
                assert tiny_guest.isActive()
                return
            # The save won the race: bring the guest back and try again.
            if not tiny_guest.isActive() and target.exists():
                conn.restore(str(target))
            target.unlink(missing_ok=True)
        raise AssertionError("the save always finished before the abort could land")
    finally:
        target.unlink(missing_ok=True)
