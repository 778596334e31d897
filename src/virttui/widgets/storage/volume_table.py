"""The volume table of one pool: name, format, virtual size, allocation, users, backing file.
Every name and path comes from libvirt or the admin's files: drawn literally."""

from __future__ import annotations

import posixpath

from rich.text import Text

from virttui.core.common.units import human_bytes
from virttui.core.storage.volumes import VolumeInfo
from virttui.widgets.common.plain import plain
from virttui.widgets.storage.fitted import FittedTable

VOLUME_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Volume", None),
    ("format", "Fmt", 5),
    ("capacity", "Size", 6),
    ("allocation", "Alloc", 6),
    ("users", "Used by", 16),
    ("backing", "Backing", 12),
)


def users_cell(volume: VolumeInfo) -> Text:
    if volume.usage_unknown:
        return Text("unknown", style="yellow")
    if not volume.used_by:
        return Text("-", style="dim")
    names = [posixpath.basename(u.name) if u.kind == "image" else u.name for u in volume.used_by]
    names = list(dict.fromkeys(names))
    style = "bold" if volume.running_users else ""
    return plain(", ".join(names), style, no_wrap=True, overflow="ellipsis")


def volume_cells(volume: VolumeInfo) -> list[Text]:
    backing = posixpath.basename(volume.backing_path) if volume.backing_path else "-"
    return [
        plain(volume.name, no_wrap=True, overflow="ellipsis"),
        plain(volume.format or "?"),
        Text(human_bytes(volume.capacity), justify="right"),
        Text(human_bytes(volume.allocation), justify="right"),
        users_cell(volume),
        plain(backing, "" if volume.backing_path else "dim", no_wrap=True, overflow="ellipsis"),
    ]


class VolumeTable(FittedTable):
    """The volumes of one pool, keyed by name; the cursor stays on its volume."""

    columns_spec = VOLUME_COLUMNS

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.volumes: list[VolumeInfo] = []
        self.pool = ""

    @property
    def current(self) -> VolumeInfo | None:
        row = self.cursor_row
        return self.volumes[row] if self.volumes and 0 <= row < len(self.volumes) else None

    def show(self, pool: str, volumes: list[VolumeInfo], *, select: str | None = None) -> None:
        """Show the volumes of `pool`; the cursor stays on its volume (or goes to `select`)."""
        current = self.current if pool == self.pool else None
        wanted = select if select is not None else (current.name if current else None)
        self.pool = pool
        self.volumes = list(volumes)
        names = [v.name for v in self.volumes]
        rows = [(v.name, volume_cells(v)) for v in self.volumes]
        self.set_rows(rows, names.index(wanted) if wanted in names else 0)
