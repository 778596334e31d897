"""The domain list: a virtual table drawn line by line.

Only the rows on screen are rendered on each refresh, so 1000 domains cost what 20 do. Every piece
of text from libvirt goes into a Segment as plain text: no markup is ever parsed from it, and
control characters are shown as escapes (`core.safe_text.visible`), never sent raw.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from virttui.core.common.safe_text import visible
from virttui.core.common.units import human_age, human_kib, human_rate
from virttui.core.domain.address_cache import AddressCache
from virttui.core.domain.store import DomainStore, HostRows, ListItem
from virttui.core.host.stats import DomainRow
from virttui.widgets.common.glyphs import Glyphs, pick_glyphs, sparkline


@dataclass(frozen=True, slots=True)
class Column:
    id: str
    label: str
    width: int
    priority: int  # 0 always shown; higher numbers are dropped first on narrow terminals
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 16, 0),
    Column("state", "State", 8, 0),
    Column("cpu", "CPU%", 5, 0, right=True),
    Column("spark", "CPU hist", 8, 3),
    Column("vcpus", "vCPU", 4, 1, right=True),
    Column("mem", "Memory", 11, 1, right=True),
    Column("rd", "Disk rd", 7, 2, right=True),
    Column("wr", "Disk wr", 7, 2, right=True),
    Column("rx", "Net rx", 7, 4, right=True),
    Column("tx", "Net tx", 7, 4, right=True),
    Column("auto", "Auto", 4, 2),
    Column("title", "Title", 24, 5),
    # Wide terminals only (dropped first): the guests' addresses come from their own slow
    # refresh (core/domain/address_cache.py), never from the stats poll.
    Column("ip", "IP", 15, 6),
)

NAME_MAX = 32


def layout_columns(width: int, name_want: int = 16) -> list[tuple[Column, int]]:
    """Drop low-priority columns until the rest fit with the name column `name_want` wide.

    Priority 1-2 columns (vCPU, memory, disk, autostart) go only when a 16-cell name does not fit.
    """
    name_min = COLUMNS[0].width
    name_want = max(name_min, min(NAME_MAX, name_want))
    cols = list(COLUMNS)

    def fixed(cs: list[Column]) -> int:
        return sum(c.width + 1 for c in cs if c.id != "name")

    for priority in (6, 5, 4, 3, 2, 1):
        want = name_want if priority > 2 else name_min
        if fixed(cols) + want + 1 <= width:
            break
        cols = [c for c in cols if c.priority < priority]
    name_w = max(name_min, min(NAME_MAX, width - fixed(cols) - 1))
    return [(c, name_w if c.id == "name" else c.width) for c in cols]


def fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut to exactly `width` cells; CJK and emoji count as two."""
    if cell_len(text) > width:
        return (
            set_cell_size(text[: width * 2], width - 1) + "…"
            if width > 1
            else set_cell_size(text, width)
        )
    pad = width - cell_len(text)
    return " " * pad + text if right else text + " " * pad


class DomainTable(ScrollView, can_focus=True):
    """Keyboard-driven list of hosts and their domains."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "Top", show=False),
        Binding("end", "cursor_to(-1)", "Bottom", show=False),
    ]

    COMPONENT_CLASSES = {
        "domain-table--header",
        "domain-table--host",
        "domain-table--cursor",
        "domain-table--running",
        "domain-table--paused",
        "domain-table--off",
        "domain-table--crashed",
        "domain-table--selected",
        "domain-table--stale",
        "domain-table--host-stuck",
    }

    cursor = reactive(0, always_update=True, repaint=True)

    class Highlighted(Message):
        def __init__(self, item: ListItem | None) -> None:
            self.item = item
            super().__init__()

    class Activated(Message):
        def __init__(self, item: ListItem) -> None:
            self.item = item
            super().__init__()

    class HeaderClicked(Message):
        def __init__(self, column: str) -> None:
            self.column = column
            super().__init__()

    def __init__(
        self, store: DomainStore, *, glyphs: Glyphs | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.glyphs = glyphs or pick_glyphs()
        self.items: list[ListItem] = []
        self.selected: set[str] = set()
        self._cursor_key: str | None = None
        self._auto_cursor = True  # until the user moves, the cursor seeks the first domain
        self._seen_version = -1
        self._signature: tuple[object, ...] = ()
        self._strip_cache: dict[str, tuple[object, tuple[object, ...], Strip]] = {}
        self.name_want = 16
        self.addresses: AddressCache | None = None  # set by the app (the IP column)
        self._name_cells: dict[str, tuple[tuple[str, ...], int]] = {}  # uri -> (names, widest)

    # ---------------------------------------------------------------- model sync
    def name_cells(self, uri: str, entry: HostRows) -> int:
        """Widest domain name of a host in terminal cells (CJK/emoji count 2), as drawn (escapes
        shown). Measured again only when the host's names change: the store replaces its
        members tuple then, so an identity check keeps 1000 idle domains free."""
        names = entry.members[1]
        cached = self._name_cells.get(uri)
        if cached is None or cached[0] is not names:
            cached = (names, max((cell_len(visible(n)) for n in names), default=0))
            self._name_cells[uri] = cached
            for gone in self._name_cells.keys() - self.store.hosts.keys():
                del self._name_cells[gone]
        return cached[1]

    def sync(self, force: bool = False) -> None:
        """Re-read the store; cheap when nothing changed. Keeps the cursor on the same item."""
        if not force and self.store.version == self._seen_version:
            return
        self._seen_version = self.store.version
        items = self.store.items()
        same_items = items is self.items
        self.items = items
        self.name_want = max(
            (self.name_cells(uri, e) + 1 for uri, e in self.store.hosts.items()), default=16
        )
        size = Size(self._width(), len(items) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        index = self.cursor
        found = (
            same_items and self._cursor_key is not None and self._key_at(index) == self._cursor_key
        )
        if not found and self._cursor_key is not None:
            for i, item in enumerate(items):
                if item.key == self._cursor_key:
                    index, found = i, True
                    break
            else:
                index = min(self.cursor, max(0, len(items) - 1))
        if self._auto_cursor and (not found or items[index].uuid is None):
            index = next((i for i, it in enumerate(items) if it.uuid is not None), index)
        self._move(index, announce=self._key_at(index) != self._cursor_key)
        signature = self._visible_signature()
        if force or signature != self._signature:
            # Only repaint when a visible row, the cursor or the view changed (idle hosts: never).
            self._signature = signature
            self.refresh()

    def tick(self) -> None:
        """Once a second: repaint when the age shown on stale rows changed (no samples arrive
        from a host that does not respond, so nothing else would)."""
        if not any(e.stale_age() is not None for e in self.store.hosts.values()):
            return
        signature = self._visible_signature()
        if signature != self._signature:
            self._signature = signature
            self.refresh()

    def _stale_seconds(self, uri: str) -> int | None:
        """Whole seconds since the rows of host `uri` were sampled, when they are stale."""
        entry = self.store.hosts.get(uri)
        age = None if entry is None else entry.stale_age()
        return None if age is None else int(age)

    def _key_at(self, index: int) -> str | None:
        item = self._item_at(index)
        return None if item is None else item.key

    def _visible_signature(self) -> tuple[object, ...]:
        store = self.store
        top = int(self.scroll_y)
        height = self.scrollable_content_region.height
        visible: list[object] = []
        for item in self.items[top : top + height]:
            if item.uuid is None:
                entry = store.hosts.get(item.uri)
                visible.append(
                    None
                    if entry is None
                    else (
                        entry.state,
                        entry.error,
                        len(entry.rows),
                        self._stale_seconds(item.uri),
                    )
                )
            else:
                visible.append((store.row(item.uri, item.uuid), self._stale_seconds(item.uri)))
        return (
            top,
            height,
            self._width(),
            self.cursor,
            self.name_want,
            store.cpu_mode,
            self._addresses_version(),
            store.sort_column,
            store.sort_reverse,
            frozenset(self.selected),
            tuple(visible),
        )

    def _addresses_version(self) -> int:
        return -1 if self.addresses is None else self.addresses.version

    def shows_ip(self) -> bool:
        """Is the IP column on screen (a wide enough terminal)?"""
        return any(c.id == "ip" for c, _ in layout_columns(self._width(), self.name_want))

    def addresses_changed(self) -> None:
        """The address cache changed: repaint when the IP column shows."""
        signature = self._visible_signature()
        if signature != self._signature:
            self._signature = signature
            self.refresh()

    def _item_at(self, index: int) -> ListItem | None:
        return self.items[index] if 0 <= index < len(self.items) else None

    @property
    def current(self) -> ListItem | None:
        return self._item_at(self.cursor)

    def _move(self, index: int, announce: bool = True) -> None:
        if not self.items:
            self.cursor = 0
            self._cursor_key = None
            if announce:
                self.post_message(self.Highlighted(None))
            return
        index = max(0, min(index, len(self.items) - 1))
        if index != self.cursor:
            self.cursor = index
        self._cursor_key = self.items[index].key
        self._scroll_cursor_into_view()
        if announce:
            self.post_message(self.Highlighted(self.items[index]))

    def _scroll_cursor_into_view(self) -> None:
        body = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._auto_cursor = False
        self._move(self.cursor + delta)

    def action_cursor_to(self, index: int) -> None:
        self._auto_cursor = False
        self._move(len(self.items) - 1 if index < 0 else index)

    def key_enter(self) -> None:
        item = self.current
        if item is not None:
            self.post_message(self.Activated(item))

    def hidden_selected(self) -> set[str]:
        """Selected keys the filter hides now (a selection survives filtering)."""
        return self.selected - {item.key for item in self.items}

    def toggle_selected(self) -> None:
        item = self.current
        if item is None or item.uuid is None:
            return
        self.selected.symmetric_difference_update({item.key})
        self.refresh()

    def _width(self) -> int:
        # The vertical scrollbar takes columns: lay rows out in what is left, never scroll sideways.
        return self.scrollable_content_region.width

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self._width(), len(self.items) + 1)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = 0
            for col, width in layout_columns(self._width(), self.name_want):
                if x <= event.x < x + width + 1:
                    self.post_message(self.HeaderClicked(col.id))
                    return
                x += width + 1
            return
        index = int(self.scroll_y) + event.y - 1
        if 0 <= index < len(self.items):
            self._auto_cursor = False
            self._move(index)
            if event.chain >= 2:
                self.post_message(self.Activated(self.items[index]))

    # ---------------------------------------------------------------- rendering
    def header_label(self, col: Column) -> str:
        label = col.label
        if col.id == "cpu":
            label = "CPU%" if self.store.cpu_mode == "host" else "vCPU%"
        if col.id == self.store.sort_column:
            label += "v" if self.store.sort_reverse else "^"
        return label

    def render_line(self, y: int) -> Strip:
        width = self._width()
        columns = layout_columns(width, self.name_want)
        if y == 0:
            style = self.get_component_rich_style("domain-table--header")
            text = " ".join(fit(self.header_label(c), w, c.right) for c, w in columns)
            return Strip([Segment(fit(text, width), style)], width)
        index = int(self.scroll_y) + y - 1
        item = self._item_at(index)
        base = self.rich_style
        if item is None:
            return Strip.blank(width, base)
        # The cursor bar stays visible while the filter input has focus.
        is_cursor = index == self.cursor
        if item.uuid is None:
            segments = self._host_segments(item, width)
            return self._finish(segments, width, base, is_cursor)
        # Scrolling re-renders every visible line: reuse the strip of a row object drawn before
        # with the same look (rows of idle domains are the same objects from poll to poll).
        row = self.store.row(item.uri, item.uuid)
        look = (
            width,
            self.name_want,
            is_cursor,
            item.key in self.selected,
            self.store.cpu_mode,
            len(self.store.hosts[item.uri].history.frames) if row is not None and row.active else 0,
            self._stale_seconds(item.uri),
            self._addresses_version(),
        )
        cached = self._strip_cache.get(item.key)
        if cached is not None and cached[0] is row and cached[1] == look:
            return cached[2]
        strip = self._finish(self._domain_segments(item, columns), width, base, is_cursor)
        if len(self._strip_cache) > 512:
            self._strip_cache.clear()
        self._strip_cache[item.key] = (row, look, strip)
        return strip

    def notify_style_update(self) -> None:
        self._strip_cache.clear()  # cached strips carry the old theme's colours
        super().notify_style_update()

    def _finish(self, segments: list[Segment], width: int, base: Style, is_cursor: bool) -> Strip:
        if is_cursor:
            # The cursor colours win over per-cell colours (state), so the bar has no gaps.
            cursor = self.get_component_rich_style("domain-table--cursor")
            segments = [Segment(t, (st + cursor) if st else cursor) for t, st, _c in segments]
            return Strip(segments).adjust_cell_length(width, cursor)
        return Strip(segments).adjust_cell_length(width, base)

    def _host_segments(self, item: ListItem, width: int) -> list[Segment]:
        entry = self.store.hosts.get(item.uri)
        style = self.get_component_rich_style("domain-table--host")
        if entry is None:
            return [Segment(fit("", width), style)]
        count = len(entry.rows)
        state = entry.state + (" (read-only)" if entry.readonly else "")
        text = f"{visible(entry.label)}  [{state}]  {count} domain{'s' if count != 1 else ''}"
        age = entry.stale_age()
        if age is not None:
            text += f"  stale {human_age(age)}"
        if entry.error and entry.state != "connected":
            text += f"  {visible(entry.error)}"
        if entry.state == "not responding":
            style += self.get_component_rich_style("domain-table--host-stuck", partial=True)
        return [Segment(fit(text, width), style)]

    def _state_style(self, row: DomainRow) -> Style:
        name = {1: "running", 2: "running", 3: "paused", 7: "paused", 6: "crashed"}.get(
            row.state, "off"
        )
        return self.get_component_rich_style(f"domain-table--{name}", partial=True)

    def cell_text(self, row: DomainRow, col: Column, width: int, item: ListItem) -> str:
        cid = col.id
        if cid == "name":
            mark = self.glyphs.selected if item.key in self.selected else ""
            return mark + visible(row.name)
        if cid == "state":
            return self.store.state_word(item.uri, row)
        if cid == "cpu":
            value = self.store.cpu_value(row)
            return "-" if value is None else f"{value:.1f}"
        if cid == "spark":
            entry = self.store.hosts.get(item.uri)
            if entry is None:
                return ""
            values = entry.history.values(row.uuid, self.store.cpu_series(), last=width)
            return sparkline(values, width, self.glyphs)
        if cid == "vcpus":
            return "-" if row.vcpus is None else str(row.vcpus)
        if cid == "mem":
            if row.mem_kib is None:
                return "-"
            if row.mem_max_kib and row.mem_max_kib != row.mem_kib:
                return f"{human_kib(row.mem_kib)}/{human_kib(row.mem_max_kib)}"
            return human_kib(row.mem_kib)
        if cid == "rd":
            return human_rate(row.disk_rd_bps)
        if cid == "wr":
            return human_rate(row.disk_wr_bps)
        if cid == "rx":
            return human_rate(row.net_rx_bps)
        if cid == "tx":
            return human_rate(row.net_tx_bps)
        if cid == "title":
            return visible(row.title or "")
        if cid == "ip":
            if self.addresses is None or not row.active:
                return ""
            return visible(self.addresses.primary_ip(item.uri, row.uuid)) or "-"
        if cid == "auto":
            return (
                "?"
                if row.autostart is None
                else (self.glyphs.yes if row.autostart else self.glyphs.no)
            )
        return ""

    def _domain_segments(self, item: ListItem, columns: list[tuple[Column, int]]) -> list[Segment]:
        row = self.store.row(item.uri, item.uuid or "")
        if row is None:
            return []
        segments: list[Segment] = []
        selected = item.key in self.selected
        sel_style = (
            self.get_component_rich_style("domain-table--selected", partial=True)
            if selected
            else None
        )
        entry = self.store.hosts.get(item.uri)
        age = None if entry is None else entry.stale_age()
        # Rows of a host that stopped answering keep their last figures, dimmed, and the State
        # column says how old they are instead of a state that may no longer be true.
        stale = (
            None
            if age is None
            else self.get_component_rich_style("domain-table--stale", partial=True)
        )
        for col, width in columns:
            if col.id == "state" and age is not None:
                text = fit(f"{human_age(age)} old", width, col.right)
            else:
                text = fit(self.cell_text(row, col, width, item), width, col.right)
            style = self._state_style(row) if col.id == "state" and stale is None else None
            if col.id == "name" and sel_style is not None:
                style = sel_style
            if stale is not None:
                style = stale if style is None else style + stale
            segments.append(Segment(text, style))
            segments.append(Segment(" ", stale))
        return segments
