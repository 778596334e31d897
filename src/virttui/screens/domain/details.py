"""The details screen of one domain: overview, devices, live graphs and the domain XML.

Details and XML are read in a thread worker (the host's facade), again after every lifecycle, device
or metadata event of this domain. The state line and the graphs follow the bulk poller through
the store (`store_updated`), so an open details screen costs no extra RPC per refresh.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, TextArea
from textual.widgets.text_area import Document, Selection

from virttui.core.common.safe_text import visible
from virttui.core.domain.action_table import LIFECYCLE, by_id, write_actions
from virttui.core.domain.history import memory_source
from virttui.core.domain.lifecycle import action_allowed
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import DomainEvent
from virttui.core.host.stats import DomainRow
from virttui.core.jobs import Job, JobFailed
from virttui.screens.common.jobs import start_job
from virttui.screens.common.readonly import READ_ONLY_MESSAGE, read_only_fallbacks
from virttui.screens.common.services import services
from virttui.screens.domain.action_keys import domain_bindings
from virttui.widgets.common.plain import plain
from virttui.widgets.domain.details_view import devices, overview, state_text
from virttui.widgets.domain.history_plot import GRAPHS, HistoryPlot

ACTIONS = by_id()
WRITE_ACTIONS = write_actions("details")
GRAPH_WINDOWS = (60.0, 300.0, 600.0)  # seconds; `w` cycles
TABS = ("tab-overview", "tab-devices", "tab-graphs", "tab-xml")
RELOAD_EVENTS = ("lifecycle", "device-added", "device-removed", "metadata")


class DetailsLoaded(Message):
    def __init__(self, details: DomainDetails, xml: str) -> None:
        super().__init__()
        self.details = details
        self.xml = xml


class XmlView(TextArea):
    """The read-only domain XML; ctrl+f searches instead of TextArea's delete-word."""

    BINDINGS = [Binding("ctrl+f", "screen.search", "Search", show=False)]


def find_matches(text: str, needle: str) -> list[int]:
    """Start offsets of every case-insensitive occurrence of `needle` in `text`."""
    if not needle:
        return []
    haystack, pattern = text.casefold(), needle.casefold()
    found: list[int] = []
    start = haystack.find(pattern)
    while start >= 0:
        found.append(start)
        start = haystack.find(pattern, start + 1)
    return found


def _document(area: TextArea) -> Document:
    """The XML view's document (a plain `Document`: the view does not wrap lines)."""
    document = area.document
    assert isinstance(document, Document)
    return document


class DetailsScreen(Screen[None]):
    BINDINGS = [
        *domain_bindings("details"),
        Binding("escape", "back", "Back", id="details.back"),
        Binding("1", "tab('tab-overview')", "Overview", show=False, id="details.tab_overview"),
        Binding("2", "tab('tab-devices')", "Devices", show=False, id="details.tab_devices"),
        Binding("3", "tab('tab-graphs')", "Graphs", show=False, id="details.tab_graphs"),
        Binding("4", "tab('tab-xml')", "XML", show=False, id="details.tab_xml"),
        Binding("slash,ctrl+f", "search", "Search", id="details.search"),
        Binding("n", "search_step(1)", "Next", show=False, id="details.next"),
        Binding("N", "search_step(-1)", "Prev", show=False, id="details.prev"),
        Binding("w", "graph_window", "Window", show=False, id="details.window"),
        Binding("R", "reload", "Reload", show=False, id="details.reload"),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)

    def __init__(self, host: HostFacade, uri: str, uuid: str) -> None:
        super().__init__()
        self.host = host
        self.uri = uri
        self.uuid = uuid
        self.details: DomainDetails | None = None
        self.xml = ""
        self.graph_seconds = GRAPH_WINDOWS[1]
        self._matches: list[int] = []
        self._match_index = -1
        self._needle = ""
        self._ready = False  # children mounted: live updates may touch them
        self._load_job: Job[tuple[DomainDetails, str]] | None = None

    @property
    def target(self) -> tuple[str, str]:
        return (self.uri, self.uuid)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), id="details-title")
        yield Static(Text("reading the domain..."), id="details-status")
        with TabbedContent(id="details-tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll(id="overview-scroll"):
                yield Static(id="overview")
            with TabPane("Devices", id="tab-devices"), VerticalScroll(id="devices-scroll"):
                yield Static(id="devices")
            with TabPane("Graphs", id="tab-graphs"), VerticalScroll(id="graphs-scroll"):
                yield Static(id="graphs-note")
                with Grid(id="graphs"):
                    for spec in GRAPHS:
                        yield HistoryPlot(spec)
            with TabPane("XML", id="tab-xml"):
                yield XmlView("", language="xml", read_only=True, show_line_numbers=True, id="xml")
                with Horizontal(id="xml-searchbar"):
                    yield Input(
                        placeholder="search the XML; Enter finds, Esc closes", id="xml-search"
                    )
                    yield Static(id="xml-search-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#xml-searchbar").display = False
        self.query_one("#overview-scroll").focus()
        self._ready = True
        services(self).subscribe(self)  # the app tells us of samples and events until unmount
        services(self).refresh_addresses(self.uri)
        self.load_details()

    def on_unmount(self) -> None:
        services(self).unsubscribe(self)

    # ------------------------------------------------------------------ data
    def row(self) -> DomainRow | None:
        return services(self).store.row(self.uri, self.uuid)

    def domain_name(self) -> str:
        if self.details is not None:
            return self.details.definition.name
        row = self.row()
        return row.name if row is not None else self.uuid

    def _title_text(self) -> Text:
        """One line: name, state, host. A long name is cut (with an ellipsis) before the state
        is, and the fields keep two spaces between them at every width."""
        name = plain(self.domain_name(), "bold")
        rest = Text("  ")
        rest.append_text(state_text(self.details, self.row()))
        rest.append("  on ")
        label = plain(self.host.label)
        width = self.size.width - 2 if self.is_mounted and self.size.width else 0  # padding 0 1
        if width > 0:
            # The state always shows; the name gets what is left after up to 20 cells of host
            # label (a long label is cut at the end of the line).
            name_room = max(8, width - rest.cell_len - min(label.cell_len, 20))
            if name.cell_len > name_room:
                name.truncate(name_room, overflow="ellipsis")
        rest.append_text(label)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append_text(name)
        text.append_text(rest)
        return text

    def load_details(self) -> None:
        """Read the domain's details and XML in a job; a newer load replaces a running one."""
        uuid, host = self.uuid, self.host
        if self._load_job is not None:
            self._load_job.cancel()
        self._load_job = start_job(
            self,
            # The live XML without secrets: libvirt leaves graphics passwords out unless asked.
            lambda _ctx: host.details_and_xml(uuid),
            on_done=lambda m: self.post_message(DetailsLoaded(*m.result)),
            on_failed=self._load_failed,
            cancel_on_close=True,
            group="details-load",
        )

    @on(DetailsLoaded)
    def _loaded(self, message: DetailsLoaded) -> None:
        self.details = message.details
        self.query_one("#details-status", Static).display = False
        self.query_one("#devices", Static).update(devices(message.details))
        # Control characters in titles/descriptions reach the XML too: shown as escapes.
        xml = visible(message.xml, multiline=True)
        if xml != self.xml:
            self.xml = xml
            area = self.query_one("#xml", XmlView)
            location = area.cursor_location
            area.load_text(xml)
            area.cursor_location = location
            self._matches = find_matches(self.xml, self._needle)
        self.refresh_live()
        self.refresh_bindings()

    def _load_failed(self, failed: JobFailed) -> None:
        if failed.cancelled:
            return  # replaced by a newer load
        status = self.query_one("#details-status", Static)
        status.update(plain(f"cannot read {self.domain_name()}: {failed.message}", multiline=True))
        status.display = True
        self.notify(
            failed.message,
            title="Domain details failed",
            severity=failed.severity.value,
            markup=False,
        )

    # ------------------------------------------------------------------ live updates (HostSubscriber)
    def store_updated(self, uri: str) -> None:
        """A poll of this domain's host landed in the store: refresh state and graphs."""
        if uri == self.uri and self.is_current:
            self.refresh_live()

    def addresses_changed(self, uri: str) -> None:
        """The guests' addresses of host `uri` were read again (app's slow refresh)."""
        if uri == self.uri and self.is_current:
            self.refresh_live()

    def domain_event(self, event: DomainEvent) -> None:
        if event.uri == self.uri and event.uuid == self.uuid and event.kind in RELOAD_EVENTS:
            self.load_details()

    def refresh_live(self) -> None:
        if not self._ready or not self.is_attached or not self.query("#details-title"):
            return  # a poll that lands while the screen is being closed
        row = self.row()
        self.query_one("#details-title", Static).update(self._title_text())
        if self.details is not None:
            report = services(self).addresses.get(self.uri, self.uuid)
            self.query_one("#overview", Static).update(overview(self.details, row, report))
        if self.query_one(TabbedContent).active == "tab-graphs":
            self.draw_graphs()
        self.refresh_bindings()

    def draw_graphs(self) -> None:
        if not self._ready:
            return
        entry = services(self).store.hosts.get(self.uri)
        history = entry.history.get(self.uuid) if entry is not None else None
        now = time.monotonic()
        for plot in self.query(HistoryPlot):
            plot.show(history, now, self.graph_seconds)
        row = self.row()
        note = Text(f"last {self.graph_seconds / 60:g} min (w: change)")
        if row is not None:
            note.append(f" - memory: {memory_source(row)}")
            if not row.active:
                note.append(" - the domain is not running", style="bold")
        self.query_one("#graphs-note", Static).update(note)

    def on_resize(self, _event: events.Resize) -> None:
        if self._ready and self.query("#details-title"):
            self.query_one("#details-title", Static).update(self._title_text())

    def on_screen_resume(self) -> None:
        self.refresh_live()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-graphs":
            self.draw_graphs()
        self.refresh_bindings()

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "read_only":
            return self.host.readonly
        if action in WRITE_ACTIONS and self.host.readonly:
            return False  # not in the footer; the key falls through to `read_only`
        if action == "lifecycle":
            row = self.row()
            if row is None:
                return None
            return True if action_allowed(LIFECYCLE[str(parameters[0])], row.state) else None
        if action in ("actions_menu", "edit_menu"):
            return True
        if action == "domain_action":
            row = self.row()
            ok = row is not None and ACTIONS[str(parameters[0])].allowed_state(row.state)
            return True if ok else None
        if action in ("search_step",):
            return bool(self._matches) and self.query_one(TabbedContent).active == "tab-xml"
        return True

    def action_lifecycle(self, action_id: str) -> None:
        services(self).run_lifecycle(action_id, [self.target])

    def action_domain_action(self, action_id: str) -> None:
        """A dialog action of the table bound to a key (its handler checks the details)."""
        from virttui.screens.domain.actions import run_domain_action

        run_domain_action(self.app, self.uri, self.uuid, action_id)

    def action_read_only(self) -> None:
        self.app.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)

    def action_actions_menu(self) -> None:
        from virttui.screens.domain.actions import open_actions_menu

        open_actions_menu(self.app, self.uri, self.uuid)

    def action_edit_menu(self) -> None:
        from virttui.screens.domain.edit import open_edit_menu

        open_edit_menu(self.app, self.uri, self.uuid)

    def action_snapshots(self) -> None:
        from virttui.screens.domain.snapshots import open_snapshots

        open_snapshots(self.app, self.uri, self.uuid)

    def action_back(self) -> None:
        if self.query_one("#xml-searchbar").display and self.focused is self.query_one(
            "#xml-search", Input
        ):
            self.close_search()
            return
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_reload(self) -> None:
        self.load_details()

    def action_graph_window(self) -> None:
        index = (
            GRAPH_WINDOWS.index(self.graph_seconds) if self.graph_seconds in GRAPH_WINDOWS else 0
        )
        self.graph_seconds = GRAPH_WINDOWS[(index + 1) % len(GRAPH_WINDOWS)]
        self.draw_graphs()

    # ------------------------------------------------------------------ XML search
    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "tab-xml"
        self.query_one("#xml-searchbar").display = True
        box = self.query_one("#xml-search", Input)
        box.value = self._needle
        box.focus()

    def close_search(self) -> None:
        self.query_one("#xml-searchbar").display = False
        self.query_one("#xml", XmlView).focus()

    @on(Input.Submitted, "#xml-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.search(event.value)
        self.query_one("#xml", XmlView).focus()

    def search(self, needle: str) -> int:
        """Select the first match at or after the cursor; returns how many matches there are."""
        self._needle = needle
        self._matches = find_matches(self.xml, needle)
        self._match_index = -1
        if self._matches:
            area = self.query_one("#xml", XmlView)
            cursor = _document(area).get_index_from_location(area.selection.start)
            after = [i for i, offset in enumerate(self._matches) if offset >= cursor]
            self._select_match(after[0] if after else 0)
        else:
            self._search_status(plain(f"not found: {needle}" if needle else ""))
        self.refresh_bindings()
        return len(self._matches)

    def action_search_step(self, direction: int) -> None:
        if self._matches:
            self._select_match((self._match_index + direction) % len(self._matches))

    def _select_match(self, index: int) -> None:
        self._match_index = index
        area = self.query_one("#xml", XmlView)
        start = self._matches[index]
        document = _document(area)
        area.selection = Selection(
            document.get_location_from_index(start),
            document.get_location_from_index(start + len(self._needle)),
        )
        area.scroll_cursor_visible(center=True)
        self._search_status(Text(f"{index + 1}/{len(self._matches)}  n/N: next/prev"))

    def _search_status(self, text: Text) -> None:
        self.query_one("#xml-searchbar").display = True
        self.query_one("#xml-search-status", Static).update(text)

    @property
    def match_location(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The selected match as ((row, col), (row, col)), for tests and the palette."""
        if self._match_index < 0:
            return None
        selection = self.query_one("#xml", XmlView).selection
        return (selection.start, selection.end)
