"""Migrating a domain between two open connections, and reading the migration job's progress.

Everything here blocks (libvirt C calls): run it in thread workers. `migrate()` holds its thread
for the whole migration; another thread polls `read_progress()` on the source domain meanwhile
(libvirt allows job queries during a migration) and may call `abort()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import libvirt

from virttui.core.common.units import human_rate

if TYPE_CHECKING:
    pass

# migrateGetMaxSpeed reports this (INT64_MAX bytes/s in MiB/s) when no limit is set.
UNLIMITED_MIBS = (2**63 - 1) // 2**20

JOB_TYPES = {
    libvirt.VIR_DOMAIN_JOB_NONE: "none",
    libvirt.VIR_DOMAIN_JOB_BOUNDED: "running",
    libvirt.VIR_DOMAIN_JOB_UNBOUNDED: "running",
    libvirt.VIR_DOMAIN_JOB_COMPLETED: "completed",
    libvirt.VIR_DOMAIN_JOB_FAILED: "failed",
    libvirt.VIR_DOMAIN_JOB_CANCELLED: "cancelled",
}


class MigrateError(ValueError):
    """The options make no sense together (checked before libvirt is asked)."""

    plain_message = True  # shown as it is (core/jobs/errors.describe_error)


@dataclass(frozen=True, slots=True)
class MigrateOptions:
    live: bool = True  # False: offline, only the persistent definition moves
    copy_storage: bool = False  # copy each disk's contents to the destination (live only)
    undefine_source: bool = False
    max_speed_mibs: int | None = None  # None: leave libvirt's setting
    dest_name: str | None = None

    def check(self, *, active: bool, persistent: bool) -> None:
        if self.live and not active:
            raise MigrateError("Live migration needs a running domain; use offline migration")
        if not self.live and not persistent:
            raise MigrateError("Offline migration needs a persistent (defined) domain")
        if not self.live and self.copy_storage:
            raise MigrateError("libvirt cannot copy storage in an offline migration")
        if self.max_speed_mibs is not None and self.max_speed_mibs <= 0:
            raise MigrateError("The speed limit must be a positive number of MiB/s")

    def flags(self) -> int:
        flags: int = libvirt.VIR_MIGRATE_PERSIST_DEST
        if self.live:
            flags |= libvirt.VIR_MIGRATE_LIVE
        else:
            flags |= libvirt.VIR_MIGRATE_OFFLINE
        if self.copy_storage:
            flags |= libvirt.VIR_MIGRATE_NON_SHARED_DISK
        if self.undefine_source:
            flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        return flags

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.max_speed_mibs is not None:
            params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(self.max_speed_mibs)
        if self.dest_name:
            params[libvirt.VIR_MIGRATE_PARAM_DEST_NAME] = self.dest_name
        return params


@dataclass(frozen=True, slots=True)
class MigrationProgress:
    kind: str  # none / running / completed / failed / cancelled
    operation: int = 0
    elapsed_ms: int = 0
    remaining_ms: int | None = None
    data_total: int = 0
    data_processed: int = 0
    data_remaining: int = 0
    memory_bps: int = 0
    disk_total: int = 0
    disk_processed: int = 0
    disk_bps: int = 0

    @property
    def active(self) -> bool:
        return self.kind == "running"

    @property
    def fraction(self) -> float | None:
        """0..1 of the data moved, None while libvirt does not know the total yet."""
        if self.data_total <= 0:
            return None
        return min(1.0, self.data_processed / self.data_total)


def progress_from_stats(stats: dict[str, Any]) -> MigrationProgress:
    """From `dom.jobStats()` (a dict of typed parameters)."""

    def num(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    kind = JOB_TYPES.get(num("type"), "running")
    remaining = stats.get("time_remaining")
    return MigrationProgress(
        kind=kind,
        operation=num("operation"),
        elapsed_ms=num("time_elapsed"),
        remaining_ms=int(remaining) if isinstance(remaining, int) else None,
        data_total=num("data_total"),
        data_processed=num("data_processed"),
        data_remaining=num("data_remaining"),
        memory_bps=num("memory_bps"),
        disk_total=num("disk_total"),
        disk_processed=num("disk_processed"),
        disk_bps=num("disk_bps"),
    )


def progress_from_info(info: list[int]) -> MigrationProgress:
    """From `dom.jobInfo()`: [type, elapsed, remaining, data total/processed/remaining, ...]."""
    kind = JOB_TYPES.get(info[0], "running")
    return MigrationProgress(
        kind=kind,
        elapsed_ms=info[1],
        remaining_ms=info[2] or None,
        data_total=info[3],
        data_processed=info[4],
        data_remaining=info[5],
    )


def read_progress(dom: libvirt.virDomain) -> MigrationProgress:
    """The domain's current job; jobStats where the driver has it, else the older jobInfo.

    An inactive domain has no job to ask about (qemu says "domain is not running"): kind "none".
    """
    try:
        return progress_from_stats(dom.jobStats())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and not dom.isActive():
            return MigrationProgress("none")
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
    return progress_from_info(dom.jobInfo())


def max_speed(dom: libvirt.virDomain) -> int | None:
    """The migration speed limit in MiB/s; None when unlimited."""
    value = int(dom.migrateGetMaxSpeed(0))
    return None if value >= UNLIMITED_MIBS or value <= 0 else value


def migrate(
    dom: libvirt.virDomain, dest: libvirt.virConnect, options: MigrateOptions
) -> libvirt.virDomain:
    """Migrate `dom` to the connection `dest`; returns the domain on the destination.

    Blocks until libvirt finishes, fails or the job is aborted (then libvirt raises
    "operation aborted"). The caller shows libvirt's message as it is.
    """
    options.check(active=bool(dom.isActive()), persistent=bool(dom.isPersistent()))
    return dom.migrate3(dest, options.params(), options.flags())


def abort(dom: libvirt.virDomain) -> None:
    """Cancel the running job (the migration); libvirt rolls the domain back on the source."""
    dom.abortJob()


def same_host(src: libvirt.virConnect, dest: libvirt.virConnect) -> bool:
    """True when both connections reach the same host (libvirt compares the host UUIDs too)."""

    def host_uuid(conn: libvirt.virConnect) -> str:
        node = ET.fromstring(conn.getCapabilities()).find("./host/uuid")
        return (node.text or "").strip() if node is not None else ""

    a, b = host_uuid(src), host_uuid(dest)
    return bool(a) and a == b


MIB = 1024 * 1024
POLL_SECONDS = 0.5


def describe_progress(progress: MigrationProgress) -> str:
    """One line: `job <kind>  <elapsed>  <done> of <total> MiB  <speed>  ~<left>`. The screen
    shows the first two words in bold (they end at the first double space)."""
    parts = [f"job {progress.kind}"]
    if progress.elapsed_ms:
        parts.append(f"{progress.elapsed_ms / 1000:.1f}s")
    if progress.data_total:
        parts.append(f"{progress.data_processed / MIB:.0f} of {progress.data_total / MIB:.0f} MiB")
    speed = progress.memory_bps + progress.disk_bps
    if speed:
        parts.append(human_rate(speed))
    if progress.remaining_ms:
        parts.append(f"~{progress.remaining_ms / 1000:.0f}s left")
    return "  ".join(parts)
