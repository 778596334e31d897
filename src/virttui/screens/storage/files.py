"""The file browser: disk images outside storage pools, in any directory of a host.

The listing comes at once and the image columns (format, virtual size, disk size, backing file)
fill in as `qemu-img info` answers for each file (`core/storage/files.py`, run as one job through
the host's facade: locally, or over ssh for a `qemu+ssh` host); "used by" comes from one scan of
the open connections per directory. Every name is untrusted: drawn literally, control characters
made visible.

Entry points for other screens: `open_file_browser(app, uri, path)`; the highlighted row is
`FileBrowserScreen.current_row()`; `i` opens the image screen (screens/storage/image.py) on the
highlighted image.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from virttui.core.common.units import human_bytes
from virttui.core.jobs import Job, JobDone, JobFailed
from virttui.core.storage.files import FileRow, Listing, join, parent_of, shown
from virttui.core.storage.used_by import users_text
from virttui.screens.common.jobs import host_job, start_job
from virttui.screens.common.services import services
from virttui.widgets.common.plain import append_plain, plain

DEFAULT_DIR = "/var/lib/libvirt/images"
PARENT_KEY = "\0.."  # no file name holds a NUL
FLUSH_SECONDS = 0.1  # rows from the probes are applied at most this often
# (key, title, width); None: whatever is left.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Name", 22),
    ("format", "Format", 6),
    ("virtual", "Virtual", 7),
    ("disk", "Disk", 7),
    ("backing", "Backing", 12),
    ("used", "Used by", 12),
)
SORTS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("format", "format"),
    ("virtual", "virtual size"),
    ("disk", "disk size"),
    ("used", "used by"),
)
STATUS_FORMAT = {
    "pending": ("...", "dim"),
    "dir": ("dir", "bold"),
    "file": ("-", "dim"),
    "special": ("special", "dim"),
    "broken": ("broken", "red"),
    "error": ("error", "red"),
}


def open_file_browser(app: App[Any], uri: str, path: str = DEFAULT_DIR) -> FileBrowserScreen:
    """Open the file browser on host `uri` at directory `path`."""
    screen = FileBrowserScreen(uri, path)
    app.push_screen(screen)
    return screen


def _name_cell(row: FileRow) -> Text:
    if row.entry.kind == "dir":
        text = plain(shown(row.name), "bold", no_wrap=True, overflow="ellipsis")
        text.append("/", "bold")
        return text
    style = "dim" if row.status in ("file", "special", "broken") else ""
    return plain(shown(row.name), style, no_wrap=True, overflow="ellipsis")


def row_cells(row: FileRow) -> tuple[Text, ...]:
    info = row.info
    if info is not None and row.status in ("image", "raw"):
        fmt = Text(info.format, style="" if row.status == "image" else "italic")
        virtual = Text(human_bytes(info.virtual_size), justify="right")
        disk = Text(human_bytes(info.disk_size), justify="right")
        backing_dir, _sep, backing_name = info.backing.rpartition("/")
        here = row.path.rpartition("/")[0]
        backing_text = backing_name if info.backing and backing_dir == here else info.backing
        backing = plain(shown(backing_text), no_wrap=True, overflow="ellipsis")
    else:
        word, style = STATUS_FORMAT.get(row.status, ("-", "dim"))
        fmt = Text(word, style=style)
        size = row.entry.size if row.entry.kind == "file" else None
        virtual = Text("")
        disk = Text(human_bytes(size) if size is not None else "", "dim", justify="right")
        backing = Text("")
    here = row.path.rpartition("/")[0]
    names = list(dict.fromkeys(_user_name(u.name, u.kind, here) for u in row.users))
    used = plain(shown(", ".join(names)), "bold yellow", no_wrap=True, overflow="ellipsis")
    return (_name_cell(row), fmt, virtual, disk, backing, used)


def _user_name(name: str, kind: str, here: str) -> str:
    """A domain's name; an image (an overlay) by its file name when it is in this directory."""
    if kind == "image":
        directory, _sep, base = name.rpartition("/")
        if directory == here:
            return base
    return name


def _sort_key(column: str) -> Callable[[FileRow], tuple[Any, ...]]:
    def key(row: FileRow) -> tuple[Any, ...]:
        info = row.info
        if column == "format":
            value: Any = info.format if info is not None else "~" + row.status
        elif column == "virtual":
            value = info.virtual_size if info is not None and info.virtual_size is not None else -1
        elif column == "disk":
            value = info.disk_size if info is not None and info.disk_size is not None else -1
        elif column == "used":
            value = users_text(row.users)
        else:
            value = ""
        return (value, row.name)

    return key


def sort_rows(rows: Sequence[FileRow], column: str, reverse: bool) -> list[FileRow]:
    """Directories first (by name), then files by `column` (name breaks ties)."""
    dirs = sorted((r for r in rows if r.entry.kind == "dir"), key=lambda r: r.name)
    files = sorted(
        (r for r in rows if r.entry.kind != "dir"), key=_sort_key(column), reverse=reverse
    )
    return dirs + files


class FileBrowserScreen(Screen[None]):
    """Directories and disk images of one host (see the module doc)."""

    BINDINGS: ClassVar[list[Binding]] = [  # type: ignore[assignment]  # Textual's BINDINGS type
        Binding("escape,q", "close", "Back", id="files.close"),
        Binding("enter", "open", "Open dir", id="files.open"),
        Binding("backspace", "parent", "Parent", id="files.parent"),
        Binding("g", "goto", "Go to path", id="files.goto"),
        Binding("i", "image", "Image", id="files.image"),
        Binding(
            "p",
            "make_pool",
            "Make pool",
            id="files.make_pool",
            tooltip="Make this directory a dir pool (define, start, autostart)",
        ),
        Binding("o", "sort_next", "Sort", id="files.sort"),
        Binding("O", "sort_reverse", "Reverse", id="files.reverse"),
        Binding("r,f5", "reload", "Reload", id="files.reload"),
    ]

    class RowsArrived(Message):
        """Rows are waiting in the screen's inbox (posted from the job's threads)."""

    def __init__(
        self, uri: str, start_dir: str = DEFAULT_DIR, *, local_machine: bool = False
    ) -> None:
        super().__init__()
        self.uri = uri
        # the files of the machine virttui runs on, not of the host (the create wizard's picker
        # for a file it uploads): no image actions, no pool making, no "used by"
        self.local_machine = local_machine
        self.directory = start_dir
        self.rows: dict[str, FileRow] = {}
        self.order: list[str] = []
        self.sort_column = "name"
        self.reverse = False
        self.loading = False
        self.error = ""
        self.usage_note = ""
        self._generation = 0
        self._listed = False  # the current generation's listing has arrived
        self._job: Job[Listing] | None = None
        self._select_after: str | None = None
        self._pending_dir = start_dir
        self._inbox: list[tuple[int, FileRow]] = []  # (generation, row) from the job's threads
        self._inbox_lock = threading.Lock()
        self._inbox_posted = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(id="files-title")
        yield Input(id="files-path", placeholder="absolute path of a directory")
        yield DataTable(id="files-table", cursor_type="row")
        yield Static(id="files-detail")
        yield Static(id="files-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        for key, title, width in COLUMNS:
            table.add_column(title, key=key, width=width)
        self.query_one("#files-path", Input).display = False
        table.focus()
        self.load(self.directory)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#files-table", DataTable)

    # ------------------------------------------------------------------ loading
    def load(self, directory: str, *, select: str | None = None) -> None:
        """List `directory` (replacing the view once its listing arrives)."""
        facade = services(self).facade(self.uri)
        if facade is None:
            self.error = f"{self.uri}: no such connection"
            self._show_status()
            return
        if self._job is not None:
            self._job.cancel(wait=False)
        self._generation += 1
        generation = self._generation
        self._listed = False
        self._pending_dir = directory
        self._select_after = select
        self.loading = True
        self.error = ""
        others = list(services(self).hosts.values())

        def on_rows(rows: Sequence[FileRow]) -> None:  # a job thread
            # Rows are coalesced: one message in flight, the UI takes everything queued by then.
            with self._inbox_lock:
                self._inbox.extend((generation, row) for row in rows)
                if self._inbox_posted:
                    return
                self._inbox_posted = True
            self.post_message(self.RowsArrived())

        def finished(done: JobDone) -> None:
            if generation != self._generation:
                return
            listing: Listing = done.result
            self.loading = False
            self.usage_note = listing.usage_note
            with self._inbox_lock:  # the listing is final: older versions of its rows go
                self._inbox = [item for item in self._inbox if item[0] != generation]
            if self._listed and listing.directory == self.directory:
                self._update_rows(listing.rows)
            else:
                self._listed = True
                self._apply_listing(listing.directory, listing.rows)
            self._show_status()

        def failed(message: JobFailed) -> None:
            if generation != self._generation:
                return
            self.loading = False
            if not message.cancelled:
                self.error = message.message
            self._show_status()

        def body(ctx: Any) -> Listing:
            if self.local_machine:
                return facade.browse_local_files(ctx, directory, on_rows=on_rows)
            return facade.browse_files(ctx, directory, on_rows=on_rows, others=others)

        self._job = start_job(
            self,
            body,
            title="Browse files",
            on_done=finished,
            on_failed=failed,
            cancel_on_close=True,
        )
        self._show_status()

    def on_file_browser_screen_rows_arrived(self, _message: RowsArrived) -> None:
        self._drain()

    def _drain(self) -> None:
        """Apply the rows waiting in the inbox; rows arriving in the next FLUSH_SECONDS wait
        for one more drain then (a repaint per batch, not per row)."""
        with self._inbox_lock:
            inbox, self._inbox = self._inbox, []
            if not inbox:
                self._inbox_posted = False
                return
        # Rows of a browse that was replaced are dropped (whichever message brought them).
        rows = [row for generation, row in inbox if generation == self._generation]
        if rows and not self._listed:
            self._listed = True
            # The first batch is the whole listing (pending), maybe followed by probed rows.
            self._apply_listing(self._pending_dir, rows)
        elif rows:
            self._update_rows(rows)
        self.set_timer(FLUSH_SECONDS, self._drain)

    def _update_rows(self, rows: Sequence[FileRow]) -> None:
        table = self.table
        current = self.current_row()
        for row in rows:
            if row.name not in self.rows or row == self.rows[row.name]:
                continue
            self.rows[row.name] = row
            for (column, _title, _width), cell in zip(COLUMNS, row_cells(row), strict=True):
                table.update_cell(row.name, column, cell)
            if current is not None and current.name == row.name:
                self._show_detail()
        self._show_status()

    def _apply_listing(self, directory: str, rows: Sequence[FileRow]) -> None:
        new_dir = directory != self.directory or not self.order
        previous = self.current_row()
        self.directory = directory
        self.rows = {r.name: r for r in rows}
        wanted = self._select_after or (previous.name if previous and not new_dir else None)
        self._select_after = None
        self._rebuild(wanted)
        self._show_title()

    def _rebuild(self, select: str | None = None) -> None:
        table = self.table
        ordered = sort_rows(list(self.rows.values()), self.sort_column, self.reverse)
        self.order = [r.name for r in ordered]
        table.clear()
        if self.directory != "/":
            table.add_row(Text("../", "bold"), *(Text("") for _ in COLUMNS[1:]), key=PARENT_KEY)
        for row in ordered:
            table.add_row(*row_cells(row), key=row.name)
        if select is not None and select in self.rows:
            offset = 0 if self.directory == "/" else 1
            table.move_cursor(row=offset + self.order.index(select))
        self._show_detail()
        self._show_status()

    # ------------------------------------------------------------------ view
    def current_row(self) -> FileRow | None:
        """The row under the cursor (None on "../" or an empty directory)."""
        table = self.table
        if table.row_count == 0:
            return None
        index = table.cursor_row - (0 if self.directory == "/" else 1)
        if 0 <= index < len(self.order):
            return self.rows.get(self.order[index])
        return None

    def _on_parent_row(self) -> bool:
        return self.directory != "/" and self.table.row_count > 0 and self.table.cursor_row == 0

    def _show_title(self) -> None:
        facade = services(self).facade(self.uri)
        text = Text()
        text.append("Files on ", "bold")
        if self.local_machine:
            text.append("this machine (uploaded to the host when used)", "bold")
        else:
            append_plain(text, facade.label if facade is not None else self.uri, "bold")
        text.append(": ")
        append_plain(text, shown(self.directory))
        self.query_one("#files-title", Static).update(text)

    def _show_detail(self) -> None:
        row = self.current_row()
        text = Text()
        if row is None:
            if self._on_parent_row():
                text.append("parent directory: ", "dim")
                append_plain(text, shown(parent_of(self.directory)))
            self.query_one("#files-detail", Static).update(text)
            return
        append_plain(text, shown(row.path), "bold")
        if row.entry.link:
            text.append(" (symbolic link)", "dim")
        info = row.info
        if info is not None and row.is_image and info.backing:
            text.append("\nbacking file: ", "dim")
            append_plain(text, shown(info.backing))
        if info is not None and info.encrypted:
            text.append("\nencrypted", "yellow")
        if row.note:
            text.append("\n")
            append_plain(text, shown(row.note), "red" if row.status == "error" else "dim")
        if row.users:
            text.append("\n")
            append_plain(text, shown("; ".join(u.describe() for u in row.users)), "yellow")
        self.query_one("#files-detail", Static).update(text)

    def _show_status(self) -> None:
        text = Text()
        if self.error:
            text.append("Cannot list: ", "bold red")
            append_plain(text, shown(self.error), multiline=True)
        else:
            pending = sum(1 for r in self.rows.values() if r.status == "pending")
            images = sum(1 for r in self.rows.values() if r.is_image)
            text.append(f"{len(self.rows)} entries, {images} images")
            if self.loading:
                text.append(f", probing {pending}..." if self._listed else ", listing...", "dim")
            sort = dict(SORTS)[self.sort_column]
            text.append(f"  sorted by {sort}{' (reversed)' if self.reverse else ''}", "dim")
            if self.usage_note:
                text.append("\n")
                append_plain(text, self.usage_note, "yellow")
        self.query_one("#files-status", Static).update(text)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    # ------------------------------------------------------------------ actions
    def action_close(self) -> None:
        path_input = self.query_one("#files-path", Input)
        if path_input.display:
            path_input.display = False
            self.table.focus()
            return
        self.app.pop_screen()

    def action_open(self) -> None:
        if self._on_parent_row():
            self.action_parent()
            return
        row = self.current_row()
        if row is not None and row.entry.kind == "dir":
            self.load(join(self.directory, row.name))

    def action_parent(self) -> None:
        if self.directory == "/":
            return
        here = self.directory.rstrip("/").rsplit("/", 1)[-1]
        self.load(parent_of(self.directory), select=here)

    def action_reload(self) -> None:
        row = self.current_row()
        self.load(self.directory, select=row.name if row is not None else None)

    def action_goto(self) -> None:
        path_input = self.query_one("#files-path", Input)
        path_input.value = self.directory
        path_input.display = True
        path_input.focus()

    @on(Input.Submitted, "#files-path")
    def _path_given(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        event.input.display = False
        self.table.focus()
        if not path.startswith("/"):
            self.notify("Give an absolute path (starting with /)", severity="warning")
            return
        self.load(path)

    def action_sort_next(self) -> None:
        keys = [k for k, _ in SORTS]
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self._resort()

    def action_sort_reverse(self) -> None:
        self.reverse = not self.reverse
        self._resort()

    def _resort(self) -> None:
        row = self.current_row()
        self._rebuild(row.name if row is not None else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.local_machine and action in ("make_pool", "image"):
            return False
        if action == "make_pool":
            facade = services(self).facade(self.uri)
            return None if facade is None or facade.readonly or services(self).readonly else True
        return True

    def action_make_pool(self) -> None:
        """This directory becomes a running dir pool in one step (the storage screen's form,
        the directory filled in)."""
        from virttui.screens.storage.dialogs import DirPoolRequest, NewDirPoolScreen

        def answered(request: DirPoolRequest | None) -> None:
            if request is None:
                return
            host_job(
                self.app,
                self.uri,
                "New dir pool",
                lambda f: f.create_dir_pool(
                    request.name,
                    request.directory,
                    create_dir=request.create_dir,
                    autostart=request.autostart,
                ),
                lambda _info: self.notify(
                    f"{request.name} is a running pool on {request.directory}",
                    title="New dir pool",
                    markup=False,
                ),
            )

        self.app.push_screen(NewDirPoolScreen(self.directory), answered)

    def action_image(self) -> None:
        """The image screen (qemu-img info, check, convert... behind the guard) of the
        highlighted image."""
        from virttui.screens.storage.image import open_image

        row = self.current_row()
        if row is None or not row.is_image:
            self.notify("No disk image under the cursor", severity="warning")
            return
        open_image(self.app, self.uri, row.path)
