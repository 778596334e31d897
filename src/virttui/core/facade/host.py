"""The UI's only door to libvirt: one `HostFacade` per open connection.

Every operation a screen needs is a method taking the domain's UUID (never a libvirt object) and
returning plain core data: dataclasses, strings, numbers. Every method blocks (an RPC at least)
and runs on a worker thread, through `HostConnection.call`, so it fails at once with
`NotConnected` / `NotResponding` when the host is down or hung.

Errors: a libvirt error becomes `HostError` carrying libvirt's own message (and its error code);
the core's own exceptions (`DomainActionError`, `ConsoleError`, `MigrateError`, ...) pass
through unchanged. No libvirt exception or object ever leaves this module.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import libvirt

from virttui.core.domain.action_table import LIFECYCLE
from virttui.core.host.libvirt_runtime import error_message

if TYPE_CHECKING:
    # Imported where used (below): the app builds a facade per host at start-up, and Pillow,
    # the host probes, clone and undefine are not needed for the first paint of the list.
    from virttui.core.console.end import ConsoleEnd
    from virttui.core.console.graphics import GraphicsSession
    from virttui.core.console.screenshot import Frame
    from virttui.core.console.serial import SerialSession
    from virttui.core.create.runner import CreateResult
    from virttui.core.create.spec import CreateSpec
    from virttui.core.create.uploads import UploadPlan
    from virttui.core.create.validate import CreateFacts
    from virttui.core.create.wizard_facts import WizardFacts
    from virttui.core.domain.action_result import Applied
    from virttui.core.domain.addresses import AddressReport
    from virttui.core.domain.blockjobs import (
        BlockJobInfo,
        BlockJobResult,
        DiskRef,
        LiveDisk,
        Resized,
    )
    from virttui.core.domain.clone import CloneResult, Progress
    from virttui.core.domain.devices import Display
    from virttui.core.domain.edit_checks import Finding
    from virttui.core.domain.migrate import MigrateOptions, MigrationProgress
    from virttui.core.domain.model import DomainDetails
    from virttui.core.domain.replug import NetworkNic, ReplugResult
    from virttui.core.domain.snapshots import (
        CreateRequest,
        DeletePlan,
        ManualRevertPlan,
        Snapshot,
        SnapshotTree,
    )
    from virttui.core.domain.undefine import StorageChoice, UndefineResult
    from virttui.core.domain.virtio import VirtioPlan, VirtioResult
    from virttui.core.domain.xml_edit import XmlDefined, XmlKind, XmlSource
    from virttui.core.fio.guard import Verdict as FioVerdict
    from virttui.core.fio.job import JobFile as FioJobFile
    from virttui.core.host.probe import HostReport
    from virttui.core.jobs import JobContext
    from virttui.core.network.bridges import HostBridges
    from virttui.core.network.choices import NetworkChoice
    from virttui.core.network.create import CreateContext, NetworkSpec
    from virttui.core.network.leases import Lease, Reservation
    from virttui.core.network.networks import NetUser, NetworkInfo
    from virttui.core.storage.files import FileRow, Listing
    from virttui.core.storage.guard import Action, Verdict
    from virttui.core.storage.image_format import FormatGuess
    from virttui.core.storage.pools import PoolInfo
    from virttui.core.storage.secrets import SecretInfo
    from virttui.core.storage.streams import TransferResult
    from virttui.core.storage.used_by import User
    from virttui.core.storage.volumes import VolumeInfo, VolumeSpec

R = TypeVar("R")

__all__ = ["HostError", "HostFacade", "HostLike"]


class HostError(RuntimeError):
    """A libvirt call failed. `message` is libvirt's own text; `code` its error number."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def no_domain(self) -> bool:
        """The domain does not exist (any more) on this host."""
        return self.code is not None and self.code == int(libvirt.VIR_ERR_NO_DOMAIN)


@contextmanager
def host_errors() -> Iterator[None]:
    """Turn a libvirtError raised inside the block into HostError (libvirt's message kept)."""
    try:
        yield
    except libvirt.libvirtError as exc:
        raise HostError(error_message(exc), exc.get_error_code()) from exc


def _delete_volume(path: str, conn: libvirt.virConnect) -> None:
    conn.storageVolLookupByPath(path).delete(0)


class HostLike(Protocol):
    """What the facade needs of a host: `HostConnection` is one (tests pass small fakes).
    `label`, `readonly`, `refresh_now` and `forget_managed_save` are used where present."""

    uri: str
    is_local: bool

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R: ...


class HostFacade:
    """Every libvirt operation of one host that the screens use, by domain UUID."""

    def __init__(self, host: HostLike) -> None:
        self.host = host

    # ------------------------------------------------------------------ identity (no RPC)
    @property
    def uri(self) -> str:
        return self.host.uri

    @property
    def label(self) -> str:
        return getattr(self.host, "label", self.host.uri)

    @property
    def is_local(self) -> bool:
        return bool(self.host.is_local)

    @property
    def readonly(self) -> bool:
        return bool(getattr(self.host, "readonly", False))

    def refresh_now(self, *, autostart: bool = False) -> None:
        """Ask the host's poller for a sample now (after a change); never blocks."""
        refresh = getattr(self.host, "refresh_now", None)
        if refresh is not None:
            refresh(autostart=autostart)

    # ------------------------------------------------------------------ plumbing
    def _conn(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        with host_errors():
            return self.host.call(fn)

    def _dom(self, uuid: str, fn: Callable[[libvirt.virDomain], R]) -> R:
        return self._conn(lambda conn: fn(conn.lookupByUUIDString(uuid)))

    def _checks_local(self, conn: libvirt.virConnect) -> bool:
        """May the edit checks look at this machine's files and bridges for this host?"""
        from virttui.core.domain import edit_checks as E

        return E.checks_host_directly(conn, self.is_local)

    # ------------------------------------------------------------------ domain reads
    def details(self, uuid: str, *, with_disk_usage: bool = True) -> DomainDetails:
        from virttui.core.domain.info import collect_domain_details

        return self._dom(uuid, lambda d: collect_domain_details(d, with_disk_usage=with_disk_usage))

    def details_and_xml(self, uuid: str) -> tuple[DomainDetails, str]:
        """The details screen's read: details with disk sizes, and the live XML (flags 0:
        libvirt leaves graphics passwords out unless asked for secure XML)."""
        from virttui.core.domain.info import collect_domain_details

        return self._dom(uuid, lambda d: (collect_domain_details(d), str(d.XMLDesc(0))))

    def edit_details(self, uuid: str) -> DomainDetails:
        """Details whose device lists also hold config-only devices of a running domain."""
        from virttui.core.domain.info import collect_edit_details

        return self._dom(uuid, collect_edit_details)

    def xml(self, uuid: str, *, inactive: bool = False) -> str:
        """The live XML, or the persistent (next boot) definition with `inactive`."""
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        return self._dom(uuid, lambda d: str(d.XMLDesc(flags)))

    def graphics_types(self, uuid: str) -> list[str]:
        from virttui.core.console.graphics import graphics_types

        return graphics_types(self.xml(uuid))

    def displays(self, uuid: str) -> list[Display]:
        from virttui.core.domain import devices as D

        return self._dom(uuid, D.list_displays)

    # ------------------------------------------------------------------ host reads
    def active_pools(self) -> list[str]:
        """Names of the running storage pools, sorted."""
        return self._conn(
            lambda c: sorted(
                p.name()
                for p in c.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
            )
        )

    def networks(self) -> dict[str, bool]:
        """Every network of the host, name -> active."""
        return self._conn(lambda c: {n.name(): bool(n.isActive()) for n in c.listAllNetworks(0)})

    def detect_format(self, path: str) -> FormatGuess:
        """The format of the existing image `path` on the host (qemu-img locally, else the pool)."""
        from virttui.core.storage.image_format import detect_format

        return self._conn(lambda c: detect_format(c, path))

    def save_target_exists(self, path: str) -> bool | None:
        from virttui.core.domain import actions as A

        return self._conn(lambda c: A.save_target_exists(c, path))

    def host_report(self, *, root: Path = Path("/")) -> HostReport:
        from virttui.core.host.probe import collect_host_report

        local = self.is_local
        return self._conn(lambda c: collect_host_report(c, local=local, root=root))

    # ------------------------------------------------------------------ checks before an edit
    def check_disk_path(self, path: str) -> list[Finding]:
        from virttui.core.domain import edit_checks as E

        return self._conn(lambda c: E.check_disk_path(c, path, self._checks_local(c)))

    def check_nic(
        self, uuid: str, *, network: str = "", bridge: str = "", mac: str = ""
    ) -> list[Finding]:
        from virttui.core.domain import edit_checks as E

        def run(c: libvirt.virConnect) -> list[Finding]:
            local = self._checks_local(c)
            dom = c.lookupByUUIDString(uuid)
            return E.check_nic(c, dom, network=network, bridge=bridge, mac=mac, local=local)

        return self._conn(run)

    def check_memory(self, memory_kib: int | None, max_kib: int | None) -> list[Finding]:
        from virttui.core.domain import edit_checks as E

        return self._conn(lambda c: E.check_memory(c, memory_kib, max_kib))

    def check_cpu_mode(self, uuid: str, mode: str, model: str) -> list[Finding]:
        from virttui.core.domain import edit_checks as E

        return self._conn(lambda c: E.check_cpu_mode(c, c.lookupByUUIDString(uuid), mode, model))

    def start_network(self, name: str) -> None:
        from virttui.core.domain import edit_checks as E

        self._conn(lambda c: E.start_network(c, name))

    # ------------------------------------------------------------------ edits
    def set_title(self, uuid: str, title: str) -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(uuid, lambda d: T.set_title(d, title))

    def set_description(self, uuid: str, description: str) -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(uuid, lambda d: T.set_description(d, description))

    def set_memory(
        self, uuid: str, memory_kib: int, max_kib: int | None, *, config_only: bool = False
    ) -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(
            uuid, lambda d: T.set_memory(d, memory_kib, max_kib, config_only=config_only)
        )

    def set_vcpus(self, uuid: str, count: int, max_count: int | None = None) -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(uuid, lambda d: T.set_vcpus(d, count, max_count))

    def set_boot_order(self, uuid: str, devices: Sequence[str]) -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(uuid, lambda d: T.set_boot_order(d, devices))

    def set_cpu_mode(self, uuid: str, mode: str, model: str = "") -> Applied:
        from virttui.core.domain import tuning as T

        return self._dom(uuid, lambda d: T.set_cpu_mode(d, mode, model))

    def add_disk_path(
        self,
        uuid: str,
        path: str,
        *,
        bus: str = "virtio",
        cache: str = "",
        fmt: str = "",
        config_only: bool = False,
    ) -> tuple[Applied, str]:
        """(where it landed, target). An empty `fmt` is not guessed here: pass the format."""
        from virttui.core.domain import devices as D

        return self._dom(
            uuid,
            lambda d: D.add_disk_path(
                d, path, bus=bus, cache=cache, fmt=fmt, config_only=config_only
            ),
        )

    def add_disk_new_volume(
        self,
        uuid: str,
        pool: str,
        volume: str,
        size_bytes: int,
        *,
        fmt: str = "qcow2",
        bus: str = "virtio",
        cache: str = "",
    ) -> tuple[Applied, str, str]:
        """(where it landed, target, volume path)."""
        from virttui.core.domain import devices as D

        return self._dom(
            uuid,
            lambda d: D.add_disk_new_volume(
                d, pool, volume, size_bytes, fmt=fmt, bus=bus, cache=cache
            ),
        )

    def remove_disk(self, uuid: str, target: str) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.remove_disk(d, target))

    def add_cdrom(
        self, uuid: str, *, bus: str = "sata", path: str = "", config_only: bool = False
    ) -> tuple[Applied, str]:
        from virttui.core.domain import devices as D

        return self._dom(
            uuid, lambda d: D.add_cdrom(d, bus=bus, path=path, config_only=config_only)
        )

    def insert_media(
        self, uuid: str, target: str, path: str, *, config_only: bool = False
    ) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.insert_media(d, target, path, config_only=config_only))

    def eject_media(self, uuid: str, target: str) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.eject_media(d, target))

    def add_nic(
        self,
        uuid: str,
        *,
        network: str = "",
        bridge: str = "",
        model: str = "virtio",
        mac: str = "",
        config_only: bool = False,
    ) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(
            uuid,
            lambda d: D.add_nic(
                d, network=network, bridge=bridge, model=model, mac=mac, config_only=config_only
            ),
        )

    def remove_nic(self, uuid: str, mac: str) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.remove_nic(d, mac))

    def add_serial(self, uuid: str) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, D.add_serial)

    def remove_serial(self, uuid: str, port: int) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.remove_serial(d, port))

    def add_graphics(self, uuid: str, kind: str, *, listen: str, password: str = "") -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.add_graphics(d, kind, listen=listen, password=password))

    def edit_graphics(
        self,
        uuid: str,
        display: Display,
        *,
        listen: str,
        port: int | None = None,
        password: str | None = None,
        keymap: str = "",
    ) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(
            uuid,
            lambda d: D.edit_graphics(
                d, display, listen=listen, port=port, password=password, keymap=keymap
            ),
        )

    def remove_graphics(self, uuid: str, display: Display) -> Applied:
        from virttui.core.domain import devices as D

        return self._dom(uuid, lambda d: D.remove_graphics(d, display))

    # ------------------------------------------------------------------ lifecycle and actions
    def lifecycle(self, uuid: str, action_id: str) -> None:
        """Run one action of the LIFECYCLE table (start, shutdown, reboot, destroy, pause)."""
        action = LIFECYCLE[action_id]
        self._dom(uuid, action.run)

    def reset(self, uuid: str) -> None:
        from virttui.core.domain import actions as A

        self._dom(uuid, A.reset)

    def save_to_file(self, uuid: str, path: str, *, overwrite: bool = False) -> None:
        from virttui.core.domain import actions as A

        self._dom(uuid, lambda d: A.save_to_file(d, path, overwrite=overwrite))

    def restore_from_file(self, path: str) -> str:
        """Restore a saved domain; returns its name."""
        from virttui.core.domain import actions as A

        return self._conn(lambda c: str(A.restore_from_file(c, path).name()))

    def managed_save(self, uuid: str) -> None:
        from virttui.core.domain import actions as A

        self._dom(uuid, A.managed_save)

    def remove_managed_save(self, uuid: str) -> None:
        from virttui.core.domain import actions as A

        self._dom(uuid, A.remove_managed_save)
        forget = getattr(self.host, "forget_managed_save", None)
        if forget is not None:
            forget(uuid)  # no event says so: the list re-reads it

    def set_autostart(self, uuid: str, enabled: bool) -> None:
        from virttui.core.domain import actions as A

        self._dom(uuid, lambda d: A.set_autostart(d, enabled))

    def rename(self, uuid: str, new_name: str) -> str:
        """Returns the name the domain has now."""
        from virttui.core.domain import actions as A

        return self._dom(uuid, lambda d: str(A.rename(d, new_name).name()))

    def clone(self, uuid: str, new_name: str, *, progress: Progress | None = None) -> CloneResult:
        from virttui.core.domain.clone import clone_domain

        return self._dom(uuid, lambda d: clone_domain(d, new_name, progress=progress))

    def storage_choices(self, uuid: str, others: Iterable[Any] = ()) -> list[StorageChoice]:
        """The undefine checklist; storage used on any of `others` (open hosts) is marked."""
        from virttui.core.domain.undefine import storage_choices

        return self._dom(uuid, lambda d: storage_choices(d, list(others)))

    def undefine(
        self,
        uuid: str,
        *,
        managed_save: bool,
        snapshots_metadata: bool,
        nvram: bool,
        delete_volumes: Sequence[str],
        others: Iterable[Any] = (),
    ) -> UndefineResult:
        from virttui.core.domain.undefine import undefine

        return self._dom(
            uuid,
            lambda d: undefine(
                d,
                managed_save=managed_save,
                snapshots_metadata=snapshots_metadata,
                nvram=nvram,
                delete_volumes=delete_volumes,
                others=list(others),
            ),
        )

    # ------------------------------------------------------------------ migration
    def migrate(self, uuid: str, dest: HostFacade, options: MigrateOptions) -> str:
        """Move the domain to `dest` (blocks until done, failed or aborted); its name there."""
        from virttui.core.domain import migrate as M

        def run(sconn: libvirt.virConnect) -> str:
            dom = sconn.lookupByUUIDString(uuid)
            moved = dest._conn(lambda dconn: M.migrate(dom, dconn, options))
            return str(moved.name())

        return self._conn(run)

    def migrate_job(
        self, ctx: JobContext, uuid: str, dest: HostFacade, options: MigrateOptions
    ) -> str:
        """A job body: migrate the domain to `dest`, reporting the migration job's progress
        every POLL_SECONDS from a second thread; cancel aborts the libvirt job (the migration
        then fails with libvirt's "operation aborted"). Returns the sentence to show."""
        from virttui.core.domain import migrate as M

        finished = threading.Event()

        def watch() -> None:
            while not finished.is_set():
                try:
                    progress = self.job_progress(uuid)
                except Exception:  # noqa: BLE001 - the domain may be gone from the source already
                    return
                if progress.active and not finished.is_set():
                    ctx.progress(progress.fraction, M.describe_progress(progress))
                finished.wait(M.POLL_SECONDS)

        drop = ctx.on_cancel(lambda: self.abort_job(uuid))
        watcher = threading.Thread(target=watch, name=f"migrate-progress {uuid}", daemon=True)
        watcher.start()
        try:
            name = self.migrate(uuid, dest, options)
        finally:
            finished.set()
            drop()
        dest.refresh_now(autostart=True)
        self.refresh_now(autostart=True)
        return f"{name} is now on {dest.label}"

    def migration_max_speed(self, uuid: str) -> int | None:
        from virttui.core.domain import migrate as M

        return self._dom(uuid, M.max_speed)

    def job_progress(self, uuid: str) -> MigrationProgress:
        from virttui.core.domain import migrate as M

        return self._dom(uuid, M.read_progress)

    def abort_job(self, uuid: str) -> None:
        from virttui.core.domain import migrate as M

        self._dom(uuid, M.abort)

    # ------------------------------------------------------------------ consoles
    def open_serial(
        self,
        uuid: str,
        on_data: Callable[[bytes], None],
        on_ended: Callable[[str], None],
        *,
        force: bool = False,
    ) -> SerialSession:
        """Attach to the serial console (raises ConsoleBusy / ConsoleError)."""
        from virttui.core.console.serial import SerialSession

        session = SerialSession(on_data=on_data, on_ended=on_ended)
        self._dom(uuid, lambda d: session.open(d, force=force))
        return session

    def serial_connection_replaced(self, session: SerialSession) -> bool:
        """The host no longer runs on the connection `session` was opened on (lost, maybe
        reconnected already) while the stream still looks open. No RPC: attribute reads only."""
        try:
            current = self.host.call(lambda conn: conn)
        except Exception:  # noqa: BLE001 - NotConnected and friends: no current connection
            current = None
        return session.conn is not None and current is not session.conn and session.is_open

    def open_graphics(self, uuid: str, on_error: Callable[[str], None]) -> GraphicsSession:
        """Screenshots and keys for a running domain with a display (raises ConsoleError)."""
        from virttui.core.console.graphics import GraphicsSession

        return self._dom(uuid, lambda d: GraphicsSession.open(d, on_error))

    def grab_frame(self, session: GraphicsSession) -> Frame:
        with host_errors():
            return session.grab()

    def explain_console_end(self, uuid: str, reason: str, session: object = None) -> ConsoleEnd:
        """Why a console ended, in words the admin can act on (blocking: polls for a moment).
        `session` is the console's handle; a serial session knows its connection."""
        from virttui.core.console.end import explain_end
        from virttui.core.console.serial import SerialSession

        conn = getattr(session, "conn", None) if isinstance(session, SerialSession) else None
        return explain_end(self.host.call, uuid, reason, conn)

    # ---- snapshots
    def snapshot_tree(self, uuid: str) -> SnapshotTree:
        """The domain's snapshots as a tree, its disks, the guest agent, this libvirt's limits."""
        from virttui.core.domain import snapshots as S

        return self._dom(uuid, S.read_tree)

    def snapshot_xml(self, uuid: str, name: str) -> str:
        from virttui.core.domain import snapshots as S

        return self._dom(uuid, lambda d: S.snapshot_xml(d, name))

    def create_snapshot(self, uuid: str, request: CreateRequest) -> Snapshot:
        """Raises SnapshotRefused (reason and route) where this libvirt or domain cannot."""
        from virttui.core.domain import snapshots as S

        return self._dom(uuid, lambda d: S.create(d, request))

    def revert_snapshot(self, uuid: str, name: str, *, others: Iterable[Any] = ()) -> None:
        """libvirt's revert; an external snapshot on libvirt < 9.9 raises SnapshotRefused
        naming the manual revert, and so does an image another domain or image on `others`
        (open hosts) still needs."""
        from virttui.core.domain import snapshots as S

        self._dom(uuid, lambda d: S.revert(d, name, others=list(others)))

    def plan_snapshot_delete(
        self,
        uuid: str,
        name: str,
        *,
        children: bool = False,
        metadata_only: bool = False,
        others: Iterable[Any] = (),
    ) -> DeletePlan:
        """What a delete would do (images merged into, files removed) or why it is refused;
        images are checked against every domain and image on `others` (open hosts)."""
        from virttui.core.domain import snapshots as S

        def run(d: libvirt.virDomain) -> DeletePlan:
            tree = S.read_tree(d)
            return S.plan_delete(
                tree,
                name,
                children=children,
                metadata_only=metadata_only,
                use_of=lambda p, ok: S.image_use(d, tree, p, allowed=ok, others=list(others)),
            )

        return self._dom(uuid, run)

    def delete_snapshot(
        self,
        uuid: str,
        name: str,
        *,
        children: bool = False,
        metadata_only: bool = False,
        others: Iterable[Any] = (),
    ) -> DeletePlan:
        """Delete after the same checks as `plan_snapshot_delete` (raises SnapshotRefused)."""
        from virttui.core.domain import snapshots as S

        return self._dom(
            uuid,
            lambda d: S.delete(
                d, name, children=children, metadata_only=metadata_only, others=list(others)
            ),
        )

    def plan_snapshot_manual_revert(
        self, uuid: str, name: str, overlays: dict[str, str] | None = None
    ) -> ManualRevertPlan:
        """The manual revert of an external snapshot (shut-off domain), or why not."""
        from virttui.core.domain import snapshots as S

        return self._dom(
            uuid,
            lambda d: S.plan_manual_revert(
                S.read_tree(d),
                name,
                overlays=overlays,
                exists=lambda p: S.path_exists(d.connect(), p),
            ),
        )

    def snapshot_manual_revert_job(
        self, ctx: JobContext, uuid: str, name: str, overlays: dict[str, str] | None = None
    ) -> ManualRevertPlan:
        """A job body: make the new overlays with qemu-img (over ssh on a remote host), then
        point the domain at them and mark the snapshot current. The images the domain ran on
        are kept. On failure or cancel the overlays made here are removed again."""
        from virttui.core.domain import snapshots as S
        from virttui.core.jobs import run_process

        plan = self.plan_snapshot_manual_revert(uuid, name, overlays)
        if plan.refusal is not None:
            raise plan.refusal.error()
        made: list[str] = []

        def remove_made() -> None:
            for path in made:
                if self.is_local:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                else:
                    with contextlib.suppress(Exception):
                        self._conn(partial(_delete_volume, path))

        try:
            for i, disk in enumerate(plan.disks):
                ctx.progress(i / (len(plan.disks) + 1), f"overlay for {disk.target}")
                made.append(disk.overlay)
                run_process(ctx, S.overlay_argv(disk), uri=self.uri, cleanup=remove_made)
            ctx.check()
            self._dom(uuid, lambda d: S.apply_manual_revert(d, plan))
        except BaseException:
            if not ctx.cancelled:
                remove_made()
            raise
        self.refresh_now()
        return plan

    # ---- pools
    # Storage pools and volumes (core/storage/pools.py, volumes.py). `others` are the open
    # connections (HostConnection) whose domains and images count as users of a volume.
    def pools(self) -> list[PoolInfo]:
        from virttui.core.storage.pools import list_pools

        return self._conn(list_pools)

    def start_pool(self, name: str) -> PoolInfo:
        from virttui.core.storage.pools import start_pool

        return self._conn(lambda c: start_pool(c, name))

    def stop_pool(self, name: str) -> PoolInfo | None:
        from virttui.core.storage.pools import stop_pool

        return self._conn(lambda c: stop_pool(c, name))

    def refresh_pool(self, name: str) -> PoolInfo:
        from virttui.core.storage.pools import refresh_pool

        return self._conn(lambda c: refresh_pool(c, name))

    def set_pool_autostart(self, name: str, enabled: bool) -> PoolInfo:
        from virttui.core.storage.pools import set_pool_autostart

        return self._conn(lambda c: set_pool_autostart(c, name, enabled))

    def create_dir_pool(
        self, name: str, directory: str, *, create_dir: bool = False, autostart: bool = True
    ) -> PoolInfo:
        from virttui.core.storage.pools import create_dir_pool

        return self._conn(
            lambda c: create_dir_pool(
                c, name, directory, create_dir=create_dir, autostart=autostart
            )
        )

    def define_pool_xml(self, xml: str, *, build: bool = False, start: bool = True) -> PoolInfo:
        from virttui.core.storage.pools import define_pool_xml

        return self._conn(lambda c: define_pool_xml(c, xml, build=build, start=start))

    def remove_pool(self, name: str, *, delete_storage: bool = False) -> str:
        from virttui.core.storage.pools import remove_pool

        return self._conn(lambda c: remove_pool(c, name, delete_storage=delete_storage))

    def volumes(self, pool: str, others: Iterable[Any] = ()) -> list[VolumeInfo]:
        from virttui.core.storage.volumes import list_volumes

        return self._conn(lambda c: list_volumes(c, pool, others=list(others)))

    def volume_info(self, pool: str, name: str, others: Iterable[Any] = ()) -> VolumeInfo:
        from virttui.core.storage.volumes import volume_info

        return self._conn(lambda c: volume_info(c, pool, name, others=list(others)))

    def create_volume(self, pool: str, spec: VolumeSpec) -> VolumeInfo:
        from virttui.core.storage.volumes import create_volume

        return self._conn(lambda c: create_volume(c, pool, spec))

    def delete_volume(self, pool: str, name: str, others: Iterable[Any] = ()) -> None:
        from virttui.core.storage.volumes import delete_volume

        self._conn(lambda c: delete_volume(c, pool, name, others=list(others)))

    def clone_volume_job(self, ctx: JobContext, pool: str, name: str, new_name: str) -> VolumeInfo:
        """A job body: copy the volume (progress from the copy's allocation); a cancel removes
        the copy once libvirt has finished it (libvirt cannot interrupt the copy)."""
        from virttui.core.storage.volumes import clone_volume

        return self._conn(
            lambda c: clone_volume(
                c, pool, name, new_name, progress=ctx.progress, cancelled=lambda: ctx.cancelled
            )
        )

    def resize_volume(
        self,
        pool: str,
        name: str,
        capacity: int,
        *,
        shrink: bool = False,
        others: Iterable[Any] = (),
    ) -> VolumeInfo:
        from virttui.core.storage.volumes import resize_volume

        return self._conn(
            lambda c: resize_volume(c, pool, name, capacity, shrink=shrink, others=list(others))
        )

    # ---- qemuimg
    def image_guard(
        self, action: Action, paths: Sequence[str], others: Iterable[Any] = ()
    ) -> Verdict:
        """May qemu-img `action` touch `paths` (files on this host)? Every domain and pool
        volume of this connection and of `others` (the open hosts) is asked (`used_by`)."""
        from virttui.core.storage.guard import guard

        local = self.is_local
        return self._conn(lambda c: guard(action, paths, [c, *others], local=local))

    # ---- browser
    def browse_files(
        self,
        ctx: JobContext,
        directory: str,
        *,
        on_rows: Callable[[Sequence[FileRow]], None] | None = None,
        others: Iterable[Any] = (),
    ) -> Listing:
        """A job body: list `directory` on this host and probe its images (qemu-img info, here
        or over ssh), rows handed to `on_rows` as they come; "used by" from one scan of this
        connection and `others` (the open hosts), pools not refreshed (a browse only reads)."""
        from virttui.core.storage.files import browse
        from virttui.core.storage.used_by import StorageUsage, scan_usage

        hosts = list(others)

        def usage() -> StorageUsage:
            return self._conn(lambda c: scan_usage([c, *hosts], refresh_pools=False))

        return browse(ctx, directory, uri=self.uri, on_rows=on_rows, usage=usage, label=self.label)

    def add_disk_new_file(
        self,
        uuid: str,
        path: str,
        size_bytes: int,
        *,
        fmt: str = "qcow2",
        bus: str = "virtio",
        cache: str = "",
    ) -> tuple[Applied, str, str]:
        """A new image file at `path` (qemu-img create, no pool needed), attached: (where it
        landed, target, path). Refuses an existing file. Call it inside a job (cancel)."""
        from virttui.core.domain.disk_file import add_disk_new_file

        return self._dom(
            uuid,
            lambda d: add_disk_new_file(d, path, size_bytes, fmt=fmt, bus=bus, cache=cache),
        )

    # ---- live (block jobs of a running domain's disks, volume streams, LUKS secrets)
    def live_disk(self, uuid: str, target: str) -> LiveDisk:
        """Disk `target` of the running domain, with its backing chain (BlockJobError when the
        domain is not running or has no such disk)."""
        from virttui.core.domain import blockjobs as B

        return self._dom(uuid, lambda d: B.live_disk(d, target))

    def disk_capacity(self, uuid: str, target: str) -> int:
        from virttui.core.domain import blockjobs as B

        return self._dom(uuid, lambda d: B.capacity(d, target))

    def live_resize(self, uuid: str, target: str, new_size: str | int) -> Resized:
        """Grow disk `target` of the running domain (`blockResize`); a shrink is refused."""
        from virttui.core.domain import blockjobs as B

        return self._dom(uuid, lambda d: B.block_resize(d, target, new_size))

    def block_job(self, uuid: str, target: str) -> BlockJobInfo | None:
        from virttui.core.domain import blockjobs as B

        return self._dom(uuid, lambda d: B.block_job_info(d, target))

    def abort_block_job(self, uuid: str, target: str) -> None:
        from virttui.core.domain import blockjobs as B

        self._dom(uuid, lambda d: B.abort_block_job(d, target))

    def block_commit_job(
        self,
        ctx: JobContext,
        uuid: str,
        target: str,
        *,
        top: str = "",
        base: str = "",
        bandwidth: int = 0,
        others: Iterable[Any] = (),
    ) -> BlockJobResult:
        """A job body: commit `top` (default: the active layer) into `base`, pivoting an active
        commit; cancel aborts the block job. Refused when `base` is used elsewhere (here or on
        `others`, the other open hosts)."""
        from virttui.core.domain import blockjobs as B

        return self._dom(
            uuid,
            lambda d: B.block_commit(
                ctx, d, target, top=top, base=base, bandwidth=bandwidth, others=list(others)
            ),
        )

    def block_pull_job(
        self,
        ctx: JobContext,
        uuid: str,
        target: str,
        *,
        base: str = "",
        bandwidth: int = 0,
        others: Iterable[Any] = (),
    ) -> BlockJobResult:
        from virttui.core.domain import blockjobs as B

        return self._dom(
            uuid,
            lambda d: B.block_pull(
                ctx, d, target, base=base, bandwidth=bandwidth, others=list(others)
            ),
        )

    def block_copy_job(
        self,
        ctx: JobContext,
        uuid: str,
        target: str,
        dest: str,
        *,
        fmt: str = "qcow2",
        finish: Literal["pivot", "finish"] = "pivot",
        shallow: bool = False,
        bandwidth: int = 0,
        unchecked_ok: bool = False,
    ) -> BlockJobResult:
        from virttui.core.domain import blockjobs as B

        return self._dom(
            uuid,
            lambda d: B.block_copy(
                ctx,
                d,
                target,
                dest,
                fmt=fmt,
                finish=finish,
                shallow=shallow,
                bandwidth=bandwidth,
                unchecked_ok=unchecked_ok,
            ),
        )

    def upload_volume(
        self,
        ctx: JobContext,
        pool: str,
        volume: str,
        local_path: str,
        *,
        sparse: bool = True,
        others: Iterable[Any] = (),
        confirmed: bool = False,
    ) -> TransferResult:
        """A job body: send the LOCAL file `local_path` (this machine's, also for a remote
        host) into the volume through a libvirt stream, holes kept as holes. Refused while a
        running domain uses the volume; with other users (shut-off domains, images built on
        it, here or on `others`: the other open hosts) only when `confirmed`."""
        from virttui.core.storage import streams as S

        return self._conn(
            lambda c: S.upload(
                ctx,
                c,
                pool,
                volume,
                local_path,
                sparse=sparse,
                others=list(others),
                confirmed=confirmed,
            )
        )

    def volume_users(self, pool: str, volume: str, others: Iterable[Any] = ()) -> tuple[User, ...]:
        """Who uses the volume, on this host and on `others` (the other open hosts)."""
        from virttui.core.storage import streams as S

        return self._conn(lambda c: S.volume_users(c, pool, volume, list(others)))

    def download_volume(
        self,
        ctx: JobContext,
        pool: str,
        volume: str,
        local_path: str,
        *,
        overwrite: bool = False,
        sparse: bool = True,
    ) -> TransferResult:
        """A job body: receive the volume into the LOCAL file `local_path`; an existing file
        only with `overwrite`; nothing is left behind when cancelled or failed."""
        from virttui.core.storage import streams as S

        return self._conn(
            lambda c: S.download(
                ctx, c, pool, volume, local_path, overwrite=overwrite, sparse=sparse
            )
        )

    def secrets(self) -> list[SecretInfo]:
        """The host's libvirt secrets (never their values)."""
        from virttui.core.storage import secrets as K

        return self._conn(K.list_secrets)

    def create_volume_secret(self, volume_path: str, passphrase: str, description: str = "") -> str:
        """A private, persistent volume secret for `volume_path`; its UUID. The passphrase is
        passed to libvirt and kept nowhere."""
        from virttui.core.storage import secrets as K

        return self._conn(lambda c: K.create_volume_secret(c, volume_path, passphrase, description))

    def delete_secret(self, uuid: str) -> None:
        from virttui.core.storage import secrets as K

        self._conn(lambda c: K.delete_secret(c, uuid))

    def pool_volume_path(self, pool: str, name: str) -> str:
        from virttui.core.storage import secrets as K

        return self._conn(lambda c: K.pool_volume_path(c, pool, name))

    def create_encrypted_volume(
        self, pool: str, name: str, capacity_bytes: int, secret_uuid: str, *, fmt: str = "qcow2"
    ) -> str:
        from virttui.core.storage import secrets as K

        return self._conn(
            lambda c: K.create_encrypted_volume(c, pool, name, capacity_bytes, secret_uuid, fmt=fmt)
        )

    def create_encrypted_volume_with_secret(
        self,
        pool: str,
        name: str,
        capacity_bytes: int,
        passphrase: str,
        *,
        fmt: str = "qcow2",
        description: str = "",
    ) -> tuple[str, str]:
        """A new volume secret and the LUKS volume using it: (volume path, secret UUID)."""
        from virttui.core.storage import secrets as K

        return self._conn(
            lambda c: K.create_encrypted_volume_with_secret(
                c, pool, name, capacity_bytes, passphrase, fmt=fmt, description=description
            )
        )

    def find_disk_using(self, domain: str, path: str) -> DiskRef:
        """Which disk of the running domain `domain` (name or UUID) has `path` in its chain, and
        how deep (for a guard that refused an offline write: `blockjobs.suggest_route`)."""
        from virttui.core.domain import blockjobs as B

        return self._conn(lambda c: B.find_disk_using(c, domain, path))

    def secret_users(self, uuid: str) -> list[str]:
        """Domains and volumes that refer to secret `uuid`, in words (before a delete)."""
        from virttui.core.storage import secrets as K

        return self._conn(lambda c: K.secret_users(c, uuid))

    # ---- nicedit
    def nic_networks(self) -> list[NetworkChoice]:
        """Every network of the host with its state (active, autostart), for a new NIC."""
        from virttui.core.network.choices import network_choices

        return self._conn(network_choices)

    def host_bridges(self, *, sys_class_net: Path | None = None) -> HostBridges:
        """The host's real bridges: sysfs locally, libvirt's interface API remotely (else
        `known=False` with the reason)."""
        from virttui.core.network import bridges as NB

        root = sys_class_net or NB.SYS_CLASS_NET
        return self._conn(
            lambda c: NB.host_bridges(c, local=self._checks_local(c), sys_class_net=root)
        )

    def network_nics(self, network: str) -> list[NetworkNic]:
        """Running domains' NICs on `network`, with whether each tap is on its bridge (None
        on a remote host: cannot tell)."""
        from virttui.core.domain import replug as RP

        return self._conn(lambda c: RP.network_nics(c, network, local=self._checks_local(c)))

    def replug_nics(self, network: str, uuids: Sequence[str] | None = None) -> list[ReplugResult]:
        """Reconnect the running domains' NICs on `network` (only `uuids` if given) to its
        bridge after the network was restarted; one result per NIC."""
        from virttui.core.domain import replug as RP

        wanted = set(uuids) if uuids is not None else None
        return self._conn(lambda c: RP.replug_network(c, network, uuids=wanted))

    # ---- netscreen
    # Virtual networks (core/network). libvirt errors become HostError; our own refusals
    # (NetworkError: in use, active, bad field) pass through with their sentence.
    def network_list(self) -> list[NetworkInfo]:
        """Every network of the host with who uses it, sorted by name."""
        from virttui.core.network import networks as N

        return self._conn(N.list_networks)

    def network_info(self, name: str) -> NetworkInfo:
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.network_info(c, name))

    def network_xml(self, name: str) -> str:
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.network_xml(c, name))

    def network_start(self, name: str) -> NetworkInfo:
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.start_network(c, name))

    def network_stop(self, name: str) -> tuple[NetUser, ...]:
        """Stop the network; the running domains that lost connectivity."""
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.stop_network(c, name))

    def network_set_autostart(self, name: str, enabled: bool) -> NetworkInfo:
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.set_autostart(c, name, enabled))

    def network_start_and_autostart(self, name: str) -> NetworkInfo:
        from virttui.core.network import networks as N

        return self._conn(lambda c: N.start_and_autostart(c, name))

    def network_undefine(self, name: str) -> None:
        """Refused (NetworkError naming them) while active or used by a defined domain."""
        from virttui.core.network import networks as N

        self._conn(lambda c: N.undefine_network(c, name))

    def network_create_context(self) -> CreateContext:
        """The host's networks, routes (this machine only) and bridges a new network is
        checked against."""
        from virttui.core.network import create as NC

        return self._conn(lambda c: NC.creation_context(c, local=self._checks_local(c)))

    def network_define(
        self, spec: NetworkSpec, *, start: bool = True, autostart: bool = False
    ) -> NetworkInfo:
        """Check again, define, optionally start and autostart the new network."""
        from virttui.core.network import create as NC

        return self._conn(
            lambda c: NC.define_network(
                c, spec, local=self._checks_local(c), start=start, autostart=autostart
            )
        )

    # ---- leases
    def dhcp_leases(self, network: str) -> list[Lease]:
        """The current DHCP leases of `network`, each with the domain owning its MAC."""
        from virttui.core.network import leases as L

        return self._conn(lambda c: L.list_leases(c, network))

    def dhcp_reservations(self, network: str) -> list[Reservation]:
        """The static DHCP reservations (MAC -> IP, name) of `network`."""
        from virttui.core.network import leases as L

        return self._conn(lambda c: L.list_reservations(c, network))

    def add_dhcp_reservation(self, network: str, mac: str, ip: str, name: str = "") -> Reservation:
        """Validate and add a reservation (live and persistent while the network runs);
        `ReservationError` (with the field) for bad input."""
        from virttui.core.network import leases as L

        return self._conn(lambda c: L.add_reservation(c, network, mac, ip, name))

    def remove_dhcp_reservation(self, network: str, mac: str) -> Reservation:
        from virttui.core.network import leases as L

        return self._conn(lambda c: L.remove_reservation(c, network, mac))

    def guest_addresses(self, uuid: str, *, agent: bool = True) -> AddressReport:
        """Every NIC of the domain with its addresses (lease, ARP, agent sources)."""
        from virttui.core.domain.addresses import guest_addresses

        return self._dom(uuid, lambda d: guest_addresses(d, agent=agent, local=self.is_local))

    def all_guest_addresses(self, only: Collection[str] | None = None) -> dict[str, AddressReport]:
        """UUID -> addresses of every running domain (or of those in `only`): the slow refresh
        of the IP column and of open details screens."""
        from virttui.core.domain.addresses import guest_addresses

        def read(conn: libvirt.virConnect) -> dict[str, AddressReport]:
            out: dict[str, AddressReport] = {}
            if only is None:
                doms = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            else:
                doms = []
                for uuid in only:
                    with contextlib.suppress(libvirt.libvirtError):
                        dom = conn.lookupByUUIDString(uuid)
                        if dom.isActive():
                            doms.append(dom)
            for dom in doms:
                with contextlib.suppress(libvirt.libvirtError):
                    out[dom.UUIDString()] = guest_addresses(dom, local=self.is_local)
            return out

        return self._conn(read)

    # ---- fioform
    def fio_guard(
        self,
        ctx: JobContext,
        jobfile: FioJobFile,
        *,
        others: Iterable[Any] = (),
        uri: str | None = None,
    ) -> FioVerdict:
        """A job body: may fio run `jobfile` (`core/fio/guard.guard_jobfile`)? The domains'
        disks and the images in use come from one scan of this connection and `others` (the
        other open hosts); `uri` is the host fio runs on (None: this machine). A scan that
        fails refuses every target (unknown users are not "no users")."""
        from virttui.core.fio.guard import TargetCheck, Verdict, guard_jobfile
        from virttui.core.storage.used_by import scan_usage

        hosts = list(others)
        try:
            usage = self._conn(lambda c: scan_usage([c, *hosts]))
        except Exception as exc:  # noqa: BLE001 - the guard's rule: an error is unsafe
            reason = f"cannot read the domains' disks: {exc}"
            return Verdict(jobfile.writes, (TargetCheck("", "unknown", "refuse", (reason,)),))
        return guard_jobfile(ctx, jobfile, usage=usage, uri=uri)

    # ---- createspec
    def create_facts(
        self, spec: CreateSpec, *, osinfo_ids: Mapping[str, str] | None = None
    ) -> CreateFacts:
        """What the create wizard's checks and XML need from this host (domain capabilities for
        the spec's type/arch/machine, machine types, pools, the spec's volumes, names in use)."""
        from virttui.core.create.validate import read_create_facts

        return self._conn(lambda c: read_create_facts(c, spec, osinfo_ids=osinfo_ids))

    def create_check(
        self, spec: CreateSpec, *, osinfo_ids: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Every check Create makes first (field -> message; {} = go), as the wizard's last
        step: the spec against the host's capabilities, names, pools and their free space, and
        the paths it names on the target host (`runner.check_for_create`). `osinfo_ids`: the
        spec's own are used."""
        from virttui.core.create.runner import check_for_create
        from virttui.core.jobs import JobContext, current_context

        ctx = current_context() or JobContext(0, lambda _message: None)
        uri, local = self.uri, self.is_local
        _facts, errors = self._conn(
            lambda c: check_for_create(ctx, c, spec, uri=uri, local_files_host=local)
        )
        return errors

    # ---- xmlvirtio
    # The XML editor (core/domain/xml_edit.py) and "switch to virtio" (core/domain/virtio.py).
    # XmlEditError (parse error, refused rename, libvirt's refusal with its line) and
    # DomainActionError pass through with their sentence.
    def xml_source(self, kind: XmlKind, key: str) -> XmlSource:
        """The XML to edit: `kind` "domain" (key: UUID), "network", "pool" (key: name) or
        "volume" (key: "pool/volume", read-only with the reason)."""
        from virttui.core.domain import xml_edit as XE

        return self._conn(lambda c: XE.read_source(c, kind, key))

    def define_xml_text(self, source: XmlSource, text: str) -> XmlDefined:
        """Check the edited text locally, define it (VALIDATE), re-read it."""
        from virttui.core.domain import xml_edit as XE

        return self._conn(lambda c: XE.define_text(c, source, text))

    def virtio_plan(self, uuid: str, *, os_family: str = "") -> VirtioPlan:
        """What "switch to virtio" would change in the persistent definition (diff, warnings)."""
        from virttui.core.domain import virtio as V

        return self._dom(uuid, lambda d: V.read_plan(d, os_family=os_family))

    def switch_to_virtio(
        self, uuid: str, expected: VirtioPlan | None = None, *, os_family: str = ""
    ) -> VirtioResult:
        """Apply the switch (refused when the definition changed since `expected` was shown)."""
        from virttui.core.domain import virtio as V

        return self._dom(
            uuid, lambda d: V.switch_to_virtio(d, expected=expected, os_family=os_family)
        )

    # ---- createrun
    def create_domain(self, ctx: JobContext, spec: CreateSpec) -> CreateResult:
        """Create the domain on this host (core/create/runner.py): check, volumes, seed ISO,
        fetched kernel, define, start; any failure or cancel rolls back and raises CreateFailed
        (whose .field/.removed/.left the wizard shows). A job body: long, cancellable."""
        from virttui.core.create.runner import create_domain

        return self._conn(
            lambda c: create_domain(ctx, c, spec, uri=self.uri, local_files_host=self.is_local)
        )

    # ---- rfb
    def open_graphics_live(
        self,
        uuid: str,
        on_error: Callable[[str], None],
        on_update: Callable[[], None],
        *,
        password: Callable[[], str | None] | None = None,
        screenshots_only: bool = False,
    ) -> GraphicsSession:
        """Blocking: open the graphical console with live RFB frames when the connection is
        local and the domain has a VNC display, else (or when RFB cannot attach: see the
        session's `rfb_note`) with screenshots. `password` is asked only when libvirt refuses
        SKIPAUTH and the display has one; a refused password raises RfbAuthError."""
        from virttui.core.console.graphics import GraphicsSession, graphics_types, passes_fds

        session: GraphicsSession = self._dom(uuid, lambda d: GraphicsSession.open(d, on_error))
        if screenshots_only:
            return session
        if not passes_fds(self.uri):
            session.rfb_note = "screenshots: remote connection"
            return session
        types = graphics_types(self.xml(uuid))
        if "vnc" not in types:
            session.rfb_note = "screenshots: no VNC display"
            return session
        index = types.index("vnc")

        def open_fd(flags: int) -> int:  # libvirtError passes: attach_rfb tries the next way
            return int(
                self.host.call(lambda c: c.lookupByUUIDString(uuid).openGraphicsFD(index, flags))
            )

        try:
            session.attach_rfb(open_fd, on_update, password=password)
        except BaseException:
            session.close()
            raise
        return session

    # ---- createwizard
    def create_wizard_facts(self, *, root: Path = Path("/")) -> WizardFacts:
        """What the create wizard shows before any answer: the host check's domain type and
        reason, domain capabilities, machines, pools, networks, bridges, names in use."""
        from virttui.core.create.wizard_facts import read_wizard_facts

        found = self.host_bridges()
        bridges = (found.names, "" if found.known else found.why)
        local = self.is_local
        return self._conn(lambda c: read_wizard_facts(c, local=local, root=root, bridges=bridges))

    # ---- createupload
    def browse_local_files(
        self,
        ctx: JobContext,
        directory: str,
        *,
        on_rows: Callable[[Sequence[FileRow]], None] | None = None,
    ) -> Listing:
        """A job body: list `directory` on the machine virttui runs on (not this host), images
        probed with the local qemu-img; no "used by" (this host's guests cannot use those files
        before they are uploaded). The create wizard's picker for files it uploads."""
        from virttui.core.storage.files import browse

        return browse(ctx, directory, uri=None, on_rows=on_rows, usage=None, label="this machine")

    # ---- existingup
    def create_upload_plan(self, spec: CreateSpec, *, remote: bool | None = None) -> UploadPlan:
        """Where each file of `spec.uploads` will land on this host (the pool's target path + the
        volume's name, as libvirt names it) and what each uploaded disk image is (qemu-img info
        on this machine; an image that cannot be uploaded alone is in `.problems`); no uploads
        on a host that is this machine (`remote` None: from the URI; the wizard passes its own
        view). On every host: the format of each existing disk the spec leaves open, as the
        host reads it (`.disk_formats`, `.notes`). The create wizard's summary shows the spec as
        it will be defined
        (`uploads.planned_spec`). Inside a job (a local qemu-img runs)."""
        from virttui.core.create.uploads import read_upload_plan
        from virttui.core.jobs import JobContext, current_context

        ctx = current_context() or JobContext(0, lambda _message: None)
        local = not remote if remote is not None else self.is_local
        return self._conn(lambda c: read_upload_plan(ctx, c, spec, local_files_host=local))
