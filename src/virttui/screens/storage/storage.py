"""The storage screen of one host: its pools on top, the volumes of the highlighted pool below.

Everything goes through the host's facade in jobs (`host_job`, `start_job`): listing (with who
uses each volume, one scan of every open connection per listing), pool start / stop / refresh /
autostart / new dir pool / define from XML / remove, volume create / delete / clone / resize.
A read-only connection shows everything and changes nothing: the write keys are hidden and say
why (`screens/common/readonly.py`).

Entry point: `open_storage(app, uri)`. For the lead's wiring to the image screen:
`i` opens the image screen (screens/storage/image.py) on the highlighted volume's path.
"""

from __future__ import annotations

from typing import Any, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from virttui.core.common.units import human_bytes
from virttui.core.jobs import Job, JobDone, JobFailed, JobProgress
from virttui.core.storage.pools import PoolInfo
from virttui.core.storage.volumes import LIVE_RESIZE_HINT, VolumeInfo, VolumeSpec
from virttui.screens.common.host_screen import HostObjectsScreen, host_is_open
from virttui.screens.common.jobs import host_job, start_job, writable_host
from virttui.screens.common.readonly import read_only_fallbacks
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import confirm, host_screen_title
from virttui.screens.storage.dialogs import (
    CloneVolumeScreen,
    DirPoolRequest,
    NewDirPoolScreen,
    NewVolumeScreen,
    PoolXmlRequest,
    PoolXmlScreen,
    RemovePoolScreen,
    ResizeRequest,
    ResizeVolumeScreen,
    VolumeProgressScreen,
    title_text,
)
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.storage.pool_table import PoolTable
from virttui.widgets.storage.volume_table import VolumeTable

# Actions that change the host: hidden on a read-only connection (their keys say why).
POOL_WRITES = frozenset(
    {
        "pool_start",
        "pool_stop",
        "pool_autostart",
        "pool_new_dir",
        "pool_define_xml",
        "pool_remove",
        "edit_xml",
    }
)
VOLUME_WRITES = frozenset(
    {
        "volume_new",
        "volume_delete",
        "volume_clone",
        "volume_resize",
        "volume_upload",
        "volume_new_encrypted",
        "secrets",
    }
)
WRITE_ACTIONS = POOL_WRITES | VOLUME_WRITES
_NEEDS_ACTIVE_POOL = frozenset({"pool_refresh", "volume_new", "volume_new_encrypted"})
_NEEDS_VOLUME = frozenset(
    {"volume_delete", "volume_clone", "volume_resize", "image", "volume_upload", "volume_download"}
)


def open_storage(app: App[Any], uri: str) -> None:
    """Open the storage screen of host `uri` (the entry point for keys, palette, other screens)."""
    if host_is_open(app, uri):
        app.push_screen(StorageScreen(uri))


class StorageScreen(HostObjectsScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", show=False, id="storage.back"),
        Binding("s", "pool_start", "Start", id="storage.pool_start", tooltip="Start the pool"),
        Binding("x", "pool_stop", "Stop", id="storage.pool_stop", tooltip="Stop the pool"),
        Binding(
            "r", "pool_refresh", "Refresh", id="storage.pool_refresh", tooltip="Re-read volumes"
        ),
        Binding(
            "a",
            "pool_autostart",
            "Autostart",
            show=False,
            id="storage.pool_autostart",
            tooltip="Toggle the pool's autostart",
        ),
        Binding(
            "p",
            "pool_new_dir",
            "New pool",
            show=False,
            id="storage.pool_new_dir",
            tooltip="Make a directory a dir pool",
        ),
        Binding(
            "P",
            "pool_define_xml",
            "Pool XML",
            show=False,
            id="storage.pool_define_xml",
            tooltip="Define any pool type from XML",
        ),
        Binding(
            "U",
            "pool_remove",
            "Remove pool",
            show=False,
            id="storage.pool_remove",
            tooltip="Stop and undefine the pool (asks first)",
        ),
        Binding("n", "volume_new", "New vol", id="storage.volume_new", tooltip="New volume"),
        Binding(
            "d,delete",
            "volume_delete",
            "Delete",
            id="storage.volume_delete",
            tooltip="Delete the volume (asks first; refused while used)",
        ),
        Binding("c", "volume_clone", "Clone", id="storage.volume_clone", tooltip="Copy the volume"),
        Binding(
            "z",
            "volume_resize",
            "Resize",
            id="storage.volume_resize",
            tooltip="Grow (or shrink) the volume",
        ),
        Binding(
            "i",
            "image",
            "Image",
            id="storage.image",
            tooltip="qemu-img info, check, convert, snapshots... of the volume's image",
        ),
        Binding(
            "f",
            "browse",
            "Files",
            id="storage.browse",
            tooltip="Browse the pool's directory for images, in pools or not",
        ),
        Binding(
            "u",
            "volume_upload",
            "Upload",
            show=False,
            id="storage.volume_upload",
            tooltip="Upload a local file into the volume (libvirt stream, holes kept)",
        ),
        Binding(
            "D",
            "volume_download",
            "Download",
            show=False,
            id="storage.volume_download",
            tooltip="Download the volume into a local file (libvirt stream, holes kept)",
        ),
        Binding(
            "e",
            "volume_new_encrypted",
            "LUKS vol",
            show=False,
            id="storage.volume_new_encrypted",
            tooltip="New encrypted (LUKS) volume with a passphrase secret",
        ),
        Binding(
            "k",
            "secrets",
            "Secrets",
            show=False,
            id="storage.secrets",
            tooltip="libvirt secrets (LUKS passphrases): list, create, delete",
        ),
        Binding("tab", "switch_table", "Pools/Vols", show=False, id="storage.switch"),
        # ---- xmlvirtio
        Binding(
            "X",
            "edit_xml",
            "XML",
            show=False,
            id="storage.edit_xml",
            tooltip="XML of the pool (edit) or, in the volume table, of the volume (read-only)",
        ),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)
    write_actions = WRITE_ACTIONS

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.loading_pool = ""  # the pool whose volumes are being listed
        self._clone: Job[VolumeInfo] | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="storage-title")
        yield PoolTable(glyphs=services(self).glyphs, id="storage-pools")
        yield Static(id="storage-pool-detail")
        yield VolumeTable(id="storage-volumes")
        yield Static(id="storage-volume-detail")
        yield Footer()

    def _title(self) -> Text:
        return host_screen_title(self, "Storage", self.uri, read_only=self.read_only)

    def on_mount(self) -> None:
        self.pool_table.focus()
        self.query_one("#storage-pool-detail", Static).update(Text("reading pools...", "dim"))
        self.load_pools()

    @property
    def pool_table(self) -> PoolTable:
        return self.query_one(PoolTable)

    @property
    def volume_table(self) -> VolumeTable:
        return self.query_one(VolumeTable)

    def current_pool(self) -> PoolInfo | None:
        # None before compose: Textual checks the footer's bindings (check_action) as soon as
        # the screen is pushed, and under load that can come before its tables exist.
        table = next(iter(self.query(PoolTable)), None)
        return table.current if table is not None else None

    def current_volume(self) -> VolumeInfo | None:
        pool = self.current_pool()  # None before compose, as the volume table is
        if pool is None:
            return None
        table = self.volume_table
        if table.pool != pool.name:
            return None
        return table.current

    def image_actions_target(self) -> tuple[str, str] | None:
        """(uri, path) of the highlighted volume, for the image actions screen."""
        volume = self.current_volume()
        return (self.uri, volume.path) if volume is not None else None

    def _transfer(self, direction: Literal["upload", "download"]) -> None:
        from virttui.screens.storage.transfer import TransferDialog

        pool, volume = self.current_pool(), self.current_volume()
        if pool is None or volume is None:
            return
        self.app.push_screen(
            TransferDialog(self.uri, direction, pool.name, volume.name),
            lambda _: self.reload(pool=pool.name),
        )

    def action_volume_upload(self) -> None:
        self._transfer("upload")

    def action_volume_download(self) -> None:
        self._transfer("download")

    def action_volume_new_encrypted(self) -> None:
        from virttui.screens.storage.secrets import EncryptedVolumeDialog

        pool = self.current_pool()
        if pool is not None:
            self.app.push_screen(
                EncryptedVolumeDialog(self.uri, pool.name), lambda _: self.reload(pool=pool.name)
            )

    def action_secrets(self) -> None:
        from virttui.screens.storage.secrets import SecretsScreen

        self.app.push_screen(SecretsScreen(self.uri))

    def action_browse(self) -> None:
        """The file browser, in the highlighted pool's directory when it has one (else libvirt's
        usual image directory)."""
        from virttui.screens.storage.files import DEFAULT_DIR, open_file_browser

        pool = self.current_pool()
        usable = pool is not None and pool.target_path.startswith("/")
        open_file_browser(self.app, self.uri, pool.target_path if usable and pool else DEFAULT_DIR)

    def action_image(self) -> None:
        """The image screen (qemu-img actions, behind the same guard) of the highlighted volume."""
        from virttui.screens.storage.image import open_image

        target = self.image_actions_target()
        if target is not None:
            open_image(self.app, *target)

    # ------------------------------------------------------------------ loading
    def load_pools(self, *, select: str | None = None) -> None:
        host_job(
            self.app,
            self.uri,
            "List pools",
            lambda facade: facade.pools(),
            lambda pools: self.show_pools(pools, select=select),
            failed=self._pools_failed,
            mutating=False,
        )

    def show_pools(self, pools: list[PoolInfo], *, select: str | None = None) -> None:
        if not self.is_attached:
            return
        self.pool_table.show(pools, select=select)
        self._pool_detail()
        self.load_volumes()
        self.refresh_bindings()

    def _pools_failed(self, message: str) -> None:
        if self.is_attached:
            self.query_one("#storage-pool-detail", Static).update(
                plain(f"cannot list pools: {message}", "red")
            )

    def load_volumes(self, *, select: str | None = None) -> None:
        pool = self.current_pool()
        if pool is None:
            self.volume_table.show("", [])
            self._volume_detail()
            return
        name = pool.name
        self.loading_pool = name
        others = list(services(self).hosts.values())  # read here, on the UI thread
        detail = self.query_one("#storage-volume-detail", Static)
        detail.update(Text("reading volumes and who uses them...", "dim"))
        host_job(
            self.app,
            self.uri,
            "List volumes",
            lambda facade: facade.volumes(name, others),
            lambda volumes: self.show_volumes(name, volumes, select=select),
            mutating=False,
        )

    def show_volumes(
        self, pool: str, volumes: list[VolumeInfo], *, select: str | None = None
    ) -> None:
        if not self.is_attached:
            return
        current = self.current_pool()
        if current is None or current.name != pool:
            return  # an older listing: the cursor moved on
        self.volume_table.show(pool, volumes, select=select)
        self._volume_detail()
        self.refresh_bindings()

    def reload(self, *, pool: str | None = None) -> None:
        """Read the pools again (the cursor stays, or goes to `pool`), then their volumes."""
        self.load_pools(select=pool)

    # ------------------------------------------------------------------ details
    def _pool_detail(self) -> None:
        pool = self.current_pool()
        text = Text()
        if pool is None:
            text.append("No storage pools: press p to make a directory a pool.", style="dim")
        else:
            append_plain(text, pool.target_path or "(no target path)")
            text.append(f"  {pool.type}, {'persistent' if pool.persistent else 'transient'}")
            if pool.active and pool.capacity:
                text.append(
                    f", {human_bytes(pool.allocation)} used of {human_bytes(pool.capacity)}"
                )
            elif not pool.active:
                text.append(", stopped: press s to start it", style="yellow")
        self.query_one("#storage-pool-detail", Static).update(text)

    def _volume_detail(self) -> None:
        volume = self.current_volume()
        pool = self.current_pool()
        text = Text()
        if volume is None:
            if pool is not None and not pool.active:
                text.append("The pool is stopped: its volumes are not listed.", style="dim")
            elif pool is not None:
                text.append("No volumes: press n to create one.", style="dim")
        else:
            append_plain(text, volume.path)
            if volume.backing_path:
                text.append("\nbacking: ", style="dim")
                append_plain(text, volume.backing_path)
                if volume.backing_format:
                    text.append(f" ({volume.backing_format})", style="dim")
            text.append("\n")
            users = volume.users_text()
            style = "yellow" if volume.usage_unknown else ("bold" if volume.in_use else "dim")
            append_plain(text, users, style)
        self.query_one("#storage-volume-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.pool_table:
            self._pool_detail()
            pool = self.current_pool()
            if pool is not None and pool.name != self.volume_table.pool:
                self.load_volumes()
        else:
            self._volume_detail()
        self.refresh_bindings()

    # ------------------------------------------------------------------ key states
    def allows(self, name: str) -> bool | None:
        pool = self.current_pool()
        if name in ("pool_start",):
            return True if pool is not None and not pool.active else None
        if name in ("pool_stop",):
            return True if pool is not None and pool.active else None
        if name in ("pool_autostart", "pool_remove", "edit_xml") and pool is None:
            return None
        if name in _NEEDS_ACTIVE_POOL and (pool is None or not pool.active):
            return None
        if name in _NEEDS_VOLUME and self.current_volume() is None:
            return None
        return True

    def action_edit_xml(self) -> None:
        """The XML editor on the highlighted pool, or the highlighted volume's XML (read-only:
        libvirt cannot redefine a volume) when the volume table has the focus."""
        from virttui.screens.common.xml_editor import open_xml_editor

        pool = self.current_pool()
        if pool is None:
            return
        volume = self.current_volume()
        if self.volume_table.has_focus and volume is not None:
            open_xml_editor(self.app, self.uri, "volume", f"{pool.name}/{volume.name}")
            return
        name = pool.name
        open_xml_editor(self.app, self.uri, "pool", name, on_saved=lambda: self.reload(pool=name))

    def action_switch_table(self) -> None:
        if self.pool_table.has_focus:
            self.volume_table.focus()
        else:
            self.pool_table.focus()

    # ------------------------------------------------------------------ pool actions
    def _pool_job(self, title: str, job: Any, done_text: str, *, select: str | None = None) -> None:
        def done(_result: object) -> None:
            self.notify(done_text, title=title, markup=False)
            self.reload(pool=select)

        host_job(self.app, self.uri, title, job, done, failed=lambda _m: self.reload())

    def action_pool_start(self) -> None:
        pool = self.current_pool()
        if pool is not None:
            name = pool.name
            self._pool_job("Start pool", lambda f: f.start_pool(name), f"{name} started")

    def action_pool_stop(self) -> None:
        pool = self.current_pool()
        if pool is None:
            return
        name = pool.name

        def stop() -> None:
            self._pool_job("Stop pool", lambda f: f.stop_pool(name), f"{name} stopped")

        volumes = self.volume_table.volumes if self.volume_table.pool == name else []
        used = [v for v in volumes if v.in_use]
        notes: list[str] = []
        if used:
            names = ", ".join(v.name for v in used[:3]) + (", ..." if len(used) > 3 else "")
            notes.append(
                f"{len(used)} of its volumes are in use ({names}). Running domains keep "
                "their open disks, but a domain whose disk names the pool will not start "
                "while the pool is stopped."
            )
        if not pool.persistent:
            notes.append(
                "The pool is transient: stopping it removes its definition (its files stay)."
            )
        if not notes:
            stop()
            return
        confirm(self.app, "Stop pool", name, "\n".join(notes), stop, button="Stop")

    def action_pool_refresh(self) -> None:
        if self.read_only:  # libvirt refuses a pool refresh read-only: read what it knows
            self.reload()
            return
        pool = self.current_pool()
        if pool is not None:
            name = pool.name
            self._pool_job("Refresh pool", lambda f: f.refresh_pool(name), f"{name} re-read")

    def action_pool_autostart(self) -> None:
        pool = self.current_pool()
        if pool is not None:
            name, enabled = pool.name, not pool.autostart
            self._pool_job(
                "Pool autostart",
                lambda f: f.set_pool_autostart(name, enabled),
                f"{name} {'starts' if enabled else 'no longer starts'} at boot",
            )

    def action_pool_new_dir(self) -> None:
        def answered(request: DirPoolRequest | None) -> None:
            if request is None:
                return
            self._pool_job(
                "New dir pool",
                lambda f: f.create_dir_pool(
                    request.name,
                    request.directory,
                    create_dir=request.create_dir,
                    autostart=request.autostart,
                ),
                f"{request.name} is a running pool on {request.directory}",
                select=request.name,
            )

        self.app.push_screen(NewDirPoolScreen(), answered)

    def action_pool_define_xml(self) -> None:
        def answered(request: PoolXmlRequest | None) -> None:
            if request is None:
                return
            xml, build, start = request.xml, request.build, request.start

            def done(info: PoolInfo) -> None:
                self.notify(f"{info.name} defined ({info.state})", title="Pool XML", markup=False)
                self.reload(pool=info.name)

            host_job(
                self.app,
                self.uri,
                "Define pool",
                lambda f: f.define_pool_xml(xml, build=build, start=start),
                done,
                failed=lambda _m: self.reload(),
            )

        self.app.push_screen(PoolXmlScreen(), answered)

    def action_pool_remove(self) -> None:
        pool = self.current_pool()
        if pool is None:
            return
        name = pool.name
        volumes = self.volume_table.volumes if self.volume_table.pool == name else []
        used = [v for v in volumes if v.in_use]
        users = f"{len(used)} of them in use" if used else ""

        def answered(delete_storage: bool | None) -> None:
            if delete_storage is None:
                return
            self._pool_job(
                "Remove pool",
                lambda f: f.remove_pool(name, delete_storage=delete_storage),
                f"{name} removed",
            )

        self.app.push_screen(
            RemovePoolScreen(name, pool.target_path, len(volumes), users), answered
        )

    # ------------------------------------------------------------------ volume actions
    def _volume_job(self, title: str, job: Any, done_text: str, select: str | None = None) -> None:
        pool = self.current_pool()
        pool_name = pool.name if pool is not None else ""

        def done(_result: object) -> None:
            self.notify(done_text, title=title, markup=False)
            self.reload_volumes(pool_name, select)

        host_job(self.app, self.uri, title, job, done, failed=lambda _m: self.reload())

    def reload_volumes(self, pool: str, select: str | None = None) -> None:
        """Pool sizes changed too: read both, keeping the cursors."""

        def pools_read(pools: list[PoolInfo]) -> None:
            if not self.is_attached:
                return
            self.pool_table.show(pools, select=pool or None)
            self._pool_detail()
            self.load_volumes(select=select)

        host_job(self.app, self.uri, "List pools", lambda f: f.pools(), pools_read, mutating=False)

    def action_volume_new(self) -> None:
        pool = self.current_pool()
        if pool is None:
            return
        name = pool.name

        def answered(spec: VolumeSpec | None) -> None:
            if spec is not None:
                self._volume_job(
                    "New volume",
                    lambda f: f.create_volume(name, spec),
                    f"{spec.name} created in {name}",
                    spec.name,
                )

        self.app.push_screen(NewVolumeScreen(name), answered)

    def action_volume_delete(self) -> None:
        volume = self.current_volume()
        if volume is None:
            return
        if volume.in_use:  # the core checks again, with a fresh scan, before it deletes
            self.notify(
                f"{volume.name}: {volume.users_text()}",
                title="Not deleted",
                severity="error",
                markup=False,
                timeout=10,
            )
            return
        pool, name = volume.pool, volume.name
        others = list(services(self).hosts.values())
        confirm(
            self.app,
            "Delete volume",
            volume.path,
            f"{human_bytes(volume.allocation)} on disk. The file is deleted for good; "
            "it is checked again first that no domain or image uses it.",
            lambda: self._volume_job(
                "Delete volume",
                lambda f: f.delete_volume(pool, name, others),
                f"{name} deleted",
            ),
            button="Delete",
        )

    def action_volume_clone(self) -> None:
        volume = self.current_volume()
        if volume is None:
            return
        existing = {v.name for v in self.volume_table.volumes}

        def answered(new_name: str | None) -> None:
            if new_name is not None:
                self._start_clone(volume, new_name)

        def ask() -> None:
            self.app.push_screen(CloneVolumeScreen(volume, existing), answered)

        running = volume.running_users
        if not running:
            ask()
            return
        names = ", ".join(dict.fromkeys(u.name for u in running))
        confirm(
            self.app,
            "Clone a volume in use",
            volume.name,
            f"{names} is running and writes to it: the copy is taken while it changes and "
            "may not be consistent. Shut the domain down first, or copy a snapshot of it.",
            ask,
            button="Copy anyway",
        )

    def _start_clone(self, volume: VolumeInfo, new_name: str) -> None:
        facade = writable_host(self.app, self.uri)
        if facade is None:
            return
        pool, name = volume.pool, volume.name
        title = title_text("Cloning", name)
        title.append(" to ", style="bold")
        append_plain(title, new_name)
        progress = VolumeProgressScreen(title, lambda: self._cancel_clone())

        def on_progress(message: JobProgress) -> None:
            if progress.is_attached:
                progress.update_progress(message.fraction, message.text)

        def on_done(message: JobDone) -> None:
            self._clone = None
            if progress.is_attached:
                progress.dismiss()
            self.notify(f"{name} copied to {new_name}", title="Clone volume", markup=False)
            self.reload_volumes(pool, new_name)

        def on_failed(message: JobFailed) -> None:
            self._clone = None
            if progress.is_attached:
                progress.dismiss()
            if message.cancelled:
                self.notify(
                    f"Clone of {name} cancelled; the copy is removed once libvirt finishes it",
                    title="Clone volume",
                    markup=False,
                )
            self.reload_volumes(pool)

        self.app.push_screen(progress)
        self._clone = start_job(
            self.app,
            lambda ctx: facade.clone_volume_job(ctx, pool, name, new_name),
            title="Clone volume",
            on_progress=on_progress,
            on_done=on_done,
            on_failed=on_failed,
        )

    def _cancel_clone(self) -> None:
        if self._clone is not None:
            self._clone.cancel(wait=False)

    def action_volume_resize(self) -> None:
        volume = self.current_volume()
        if volume is None:
            return
        running = volume.running_users
        if running:
            names = ", ".join(u.name for u in running)
            self.notify(
                f"{volume.name} is in use by running {names}: {LIVE_RESIZE_HINT}",
                title="Not resized",
                severity="error",
                markup=False,
                timeout=10,
            )
            return
        pool, name = volume.pool, volume.name
        others = list(services(self).hosts.values())

        def answered(request: ResizeRequest | None) -> None:
            if request is None:
                return
            size = human_bytes(request.capacity)
            self._volume_job(
                "Resize volume",
                lambda f: f.resize_volume(
                    pool, name, request.capacity, shrink=request.shrink, others=others
                ),
                f"{name} is now {size}",
                name,
            )

        self.app.push_screen(ResizeVolumeScreen(volume), answered)
