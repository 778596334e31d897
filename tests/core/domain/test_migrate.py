"""Migration options, job progress parsing, and what the test driver answers."""

from __future__ import annotations

import libvirt
import pytest

from virttui.core.domain.migrate import (
    UNLIMITED_MIBS,
    MigrateError,
    MigrateOptions,
    migrate,
    progress_from_info,
    progress_from_stats,
)


def test_flags_live_offline_storage() -> None:
    live = MigrateOptions(live=True, copy_storage=True, max_speed_mibs=50)
    assert live.flags() == (
        libvirt.VIR_MIGRATE_LIVE
        | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_NON_SHARED_DISK
    )
    assert live.params() == {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 50}
    offline = MigrateOptions(live=False, undefine_source=True, dest_name="b")
    assert offline.flags() == (
        libvirt.VIR_MIGRATE_OFFLINE
        | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    )
    assert offline.params() == {libvirt.VIR_MIGRATE_PARAM_DEST_NAME: "b"}


@pytest.mark.parametrize(
    ("options", "active", "persistent", "fragment"),
    [
        (MigrateOptions(live=True), False, True, "needs a running domain"),
        (MigrateOptions(live=False), True, False, "persistent"),
        (MigrateOptions(live=False, copy_storage=True), False, True, "cannot copy storage"),
        (MigrateOptions(max_speed_mibs=0), True, True, "positive"),
    ],
)
def test_impossible_combinations(
    options: MigrateOptions, active: bool, persistent: bool, fragment: str
) -> None:
    with pytest.raises(MigrateError, match=fragment):
        options.check(active=active, persistent=persistent)


def test_progress_from_job_stats() -> None:
    stats = {
        "type": libvirt.VIR_DOMAIN_JOB_UNBOUNDED,
        "operation": libvirt.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
        "time_elapsed": 2500,
        "data_total": 400 * 2**20,
        "data_processed": 100 * 2**20,
        "data_remaining": 300 * 2**20,
        "memory_bps": 50 * 2**20,
    }
    progress = progress_from_stats(stats)
    assert progress.active and progress.fraction == 0.25
    assert progress.remaining_ms is None and progress.memory_bps == 50 * 2**20
    assert progress_from_stats({"type": libvirt.VIR_DOMAIN_JOB_NONE}).kind == "none"
    assert progress_from_stats({"type": libvirt.VIR_DOMAIN_JOB_NONE}).fraction is None
    info = [libvirt.VIR_DOMAIN_JOB_BOUNDED, 1000, 3000, 10, 5, 5, 0, 0, 0, 0, 0, 0]
    old = progress_from_info(info)
    assert old.active and old.fraction == 0.5 and old.remaining_ms == 3000


def test_unlimited_constant_matches_libvirt() -> None:
    assert UNLIMITED_MIBS == 8796093022207  # what qemu:///system reports with no limit


def test_test_driver_refuses_with_its_own_message() -> None:
    src = libvirt.open("test:///default")
    dst = libvirt.open("test:///default")
    try:
        dom = src.lookupByName("test")
        with pytest.raises(libvirt.libvirtError) as exc:
            migrate(dom, dst, MigrateOptions(live=True))
        assert exc.value.get_error_code() in (
            libvirt.VIR_ERR_NO_SUPPORT,
            libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
        )
    finally:
        dst.close()
        src.close()
