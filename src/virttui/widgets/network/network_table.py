"""The networks table: name, state, autostart, persistent, forward mode, bridge, IPv4 and its
DHCP ranges, IPv6, used by. Columns that do not fit the width are dropped, least useful first
(the details line below the table shows everything of the highlighted network); the name takes
what the fixed columns leave. Every name comes from libvirt: drawn literally."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from virttui.core.network.networks import IpInfo, NetworkInfo
from virttui.widgets.common.glyphs import UNICODE, Glyphs
from virttui.widgets.common.plain import plain

MIN_NAME = 10
SCROLLBAR = 2
# (key, title, width, drop order: higher goes first; 0 never); name is the flexible column.
NETWORK_COLUMNS: tuple[tuple[str, str, int, int], ...] = (
    ("name", "Network", 0, 0),
    ("state", "State", 8, 0),
    ("auto", "Auto", 4, 5),
    ("persistent", "Pers", 4, 8),
    ("mode", "Mode", 11, 0),
    ("bridge", "Bridge", 9, 6),
    ("ipv4", "IPv4", 18, 3),
    ("dhcp", "DHCP", 31, 7),
    ("ipv6", "IPv6", 22, 9),
    ("used", "Used by", 14, 4),
)


def ip_text(ips: Sequence[IpInfo]) -> str:
    return ", ".join(ip.cidr for ip in ips) or "-"


def dhcp_text(ips: Sequence[IpInfo]) -> str:
    ranges = [f"{start}-{end}" for ip in ips for start, end in ip.dhcp_ranges]
    return ", ".join(ranges) or "-"


def used_text(net: NetworkInfo) -> str:
    """`web, db*` : every domain on the network, running ones marked with `*`."""
    return ", ".join(u.name + ("*" if u.running else "") for u in net.used_by) or "-"


def network_cells(net: NetworkInfo, glyphs: Glyphs = UNICODE) -> dict[str, Text]:
    return {
        "name": plain(net.name, no_wrap=True, overflow="ellipsis"),
        "state": Text("active", style="green") if net.active else Text("inactive", style="dim"),
        "auto": Text(glyphs.yes if net.autostart else glyphs.no),
        "persistent": Text(glyphs.yes if net.persistent else glyphs.no),
        "mode": plain(net.mode_text, no_wrap=True, overflow="ellipsis"),
        "bridge": plain(net.bridge or "-", no_wrap=True, overflow="ellipsis"),
        "ipv4": plain(ip_text(net.ipv4), no_wrap=True, overflow="ellipsis"),
        "dhcp": plain(dhcp_text(net.ipv4), no_wrap=True, overflow="ellipsis"),
        "ipv6": plain(ip_text(net.ipv6), no_wrap=True, overflow="ellipsis"),
        "used": plain(used_text(net), no_wrap=True, overflow="ellipsis"),
    }


def fitting_columns(width: int, padding: int = 1) -> tuple[list[str], int]:
    """The column keys that fit `width` cells (dropping by the drop order) and the name's width."""
    keep = list(NETWORK_COLUMNS)
    while True:
        fixed = sum(w + 2 * padding for _k, _t, w, _d in keep if w) + 2 * padding
        if width - fixed - SCROLLBAR >= MIN_NAME or not any(d for *_x, d in keep):
            break
        worst = max(keep, key=lambda c: c[3])
        keep.remove(worst)
    return [k for k, *_ in keep], max(MIN_NAME, width - fixed - SCROLLBAR)


class NetworkTable(DataTable[Text]):
    """The networks of one host, one row per network keyed by name; the cursor stays on it."""

    def __init__(self, *, glyphs: Glyphs = UNICODE, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.glyphs = glyphs
        self.networks: list[NetworkInfo] = []
        self.shown_columns: list[str] = []
        self._name_width = -1

    @property
    def current(self) -> NetworkInfo | None:
        row = self.cursor_row
        nets = self.networks
        return nets[row] if nets and 0 <= row < len(nets) else None

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self, _event: events.Resize) -> None:
        keys, name_width = fitting_columns(self.size.width, self.cell_padding)
        if keys != self.shown_columns or name_width != self._name_width:
            self._layout()
            self._fill(self.cursor_row)

    def _layout(self) -> None:
        keys, self._name_width = fitting_columns(self.size.width, self.cell_padding)
        self.shown_columns = keys
        self.clear(columns=True)
        for key, title, width, _drop in NETWORK_COLUMNS:
            if key in keys:
                self.add_column(title, key=key, width=width or self._name_width)

    def show(self, networks: list[NetworkInfo], *, select: str | None = None) -> None:
        """Show `networks`; the cursor stays on its network (or goes to `select`)."""
        current = self.current
        wanted = select if select is not None else (current.name if current else None)
        self.networks = list(networks)
        names = [n.name for n in self.networks]
        self._fill(names.index(wanted) if wanted in names else 0)

    def _fill(self, row: int) -> None:
        self.clear()
        for net in self.networks:
            cells = network_cells(net, self.glyphs)
            self.add_row(*(cells[k] for k in self.shown_columns), key=net.name)
        if self.networks:
            self.move_cursor(row=max(0, min(row, len(self.networks) - 1)))


def network_details(net: NetworkInfo) -> Text:
    """Everything about one network, for the lines below the table."""
    text = Text()
    text.append("Network ", style="bold")
    text.append_text(plain(net.name))
    text.append(f"  {'active' if net.active else 'inactive'}")
    text.append(f", autostart {'on' if net.autostart else 'off'}")
    text.append(", persistent" if net.persistent else ", transient")
    text.append("\nMode ")
    text.append_text(plain(net.mode_text))
    text.append("  bridge ")
    text.append_text(plain(net.bridge or "-"))
    if net.domain_name:
        text.append("  domain ")
        text.append_text(plain(net.domain_name))
    for ip in net.ips:
        text.append(f"\n{'IPv4' if ip.family == 'ipv4' else 'IPv6'} ")
        text.append_text(plain(ip.cidr))
        if ip.dhcp_ranges:
            text.append("  DHCP ")
            text.append_text(plain(dhcp_text([ip])))
    text.append("\nUsed by ")
    if not net.used_by:
        text.append("no domain", style="dim")
    for i, user in enumerate(net.used_by):
        if i:
            text.append(", ")
        text.append_text(plain(user.name))
        text.append(" (running)" if user.running else " (off)", style="dim")
    return text
