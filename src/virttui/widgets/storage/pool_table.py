"""The pool table: name, state, autostart, type, a usage bar, size and free space.

The usage bar reads without colour (16-colour terminals, the Linux console, a monochrome
screenshot): its filled part is drawn with a different glyph than the empty part (`█`/`░`, or
`#`/`-` in ASCII) and the percentage is written next to it; colour (green, yellow from 80%,
red from 90%) only repeats what the glyphs say. Pool names come from libvirt: drawn literally.
"""

from __future__ import annotations

from rich.text import Text

from virttui.core.common.units import human_bytes
from virttui.core.storage.pools import PoolInfo
from virttui.widgets.common.glyphs import UNICODE, Glyphs
from virttui.widgets.common.plain import plain
from virttui.widgets.storage.fitted import FittedTable

BAR_WIDTH = 8
WARN_AT = 0.8
FULL_AT = 0.9
# (key, title, width); None = as wide as the content
POOL_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "Pool", None),
    ("state", "State", 8),
    ("auto", "Auto", 4),
    ("type", "Type", 7),
    ("usage", "Used", BAR_WIDTH + 5),
    ("capacity", "Size", 6),
    ("available", "Free", 6),
)


def usage_bar(fraction: float | None, glyphs: Glyphs = UNICODE, width: int = BAR_WIDTH) -> Text:
    """`████░░░░ 50%`: the level in glyphs and digits, colour only on top. `-` when unknown."""
    if fraction is None:
        return Text("-".ljust(width + 5), style="dim")
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    if fraction > 0 and filled == 0:
        filled = 1  # anything used shows
    full, empty = ("█", "░") if glyphs.spark == UNICODE.spark else ("#", "-")
    colour = "red" if fraction >= FULL_AT else "yellow" if fraction >= WARN_AT else "green"
    bar = Text()
    bar.append(full * filled, style=colour)
    bar.append(empty * (width - filled), style="dim")
    bar.append(f"{round(fraction * 100):>4}%")
    return bar


def pool_cells(pool: PoolInfo, glyphs: Glyphs = UNICODE) -> list[Text]:
    state_style = {"running": "green", "inactive": "dim"}.get(pool.state, "yellow")
    sizes = pool.active and pool.capacity > 0
    return [
        plain(pool.name, no_wrap=True, overflow="ellipsis"),
        Text(pool.state, style=state_style),
        Text(glyphs.yes if pool.autostart else glyphs.no),
        plain(pool.type),
        usage_bar(pool.used_fraction if sizes else None, glyphs),
        Text(human_bytes(pool.capacity) if sizes else "-", justify="right"),
        Text(human_bytes(pool.available) if sizes else "-", justify="right"),
    ]


class PoolTable(FittedTable):
    """The pools of one host, one row per pool keyed by name; the cursor stays on its pool."""

    columns_spec = POOL_COLUMNS

    def __init__(self, *, glyphs: Glyphs = UNICODE, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.glyphs = glyphs
        self.pools: list[PoolInfo] = []

    @property
    def current(self) -> PoolInfo | None:
        row = self.cursor_row
        return self.pools[row] if self.pools and 0 <= row < len(self.pools) else None

    def show(self, pools: list[PoolInfo], *, select: str | None = None) -> None:
        """Show `pools`; the cursor stays on the pool it was on (or goes to `select`)."""
        current = self.current
        wanted = select if select is not None else (current.name if current else None)
        self.pools = list(pools)
        names = [p.name for p in self.pools]
        rows = [(p.name, pool_cells(p, self.glyphs)) for p in self.pools]
        self.set_rows(rows, names.index(wanted) if wanted in names else 0)
