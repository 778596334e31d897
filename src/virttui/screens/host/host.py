"""The host screen: KVM verdict with reasons, topology, software, domain capabilities, overcommit.

The report is collected in a thread worker through the host's facade (libvirt blocks); the result
comes back as a message and is rendered as one row widget per line. Every value is shown as
`rich.text.Text` built by `widgets.plain`: CPU model names and sysinfo strings come from the host,
are not markup, and their control characters are shown as escapes.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from virttui.core.facade.host import HostFacade
from virttui.core.host.probe import HostReport
from virttui.core.host.probe.present import Row, Section, build_sections
from virttui.core.jobs import Job, JobFailed
from virttui.screens.common.jobs import start_job
from virttui.widgets.common.plain import plain


class HostReportReady(Message):
    def __init__(self, report: HostReport) -> None:
        super().__init__()
        self.report = report


def row_widget(row: Row) -> Widget:
    value = plain(row.value)
    classes = f"host-row tone-{row.tone.value}" + (" alarm" if row.alarm else "")
    parts: list[Widget] = [Static(value, classes="host-value")]
    if row.note:
        parts.append(Static(plain("-> " + row.note), classes="host-note"))
    return Horizontal(
        Static(plain(row.label), classes="host-label"),
        Vertical(*parts, classes="host-cell"),
        classes=classes,
    )


def section_widgets(section: Section) -> list[Widget]:
    widgets: list[Widget] = [Static(plain(section.title), classes="host-section-title")]
    widgets += [row_widget(row) for row in section.rows]
    return widgets


class HostScreen(Screen[None]):
    DEFAULT_CSS = """
    HostScreen { layout: vertical; }
    HostScreen .host-row { height: auto; }
    HostScreen .host-value, HostScreen .host-note { height: auto; }
    """
    BINDINGS = [
        Binding(
            "r", "refresh_report", "Refresh", id="host.refresh", tooltip="Probe the host again"
        ),
        Binding(
            "S",
            "storage",
            "Storage",
            show=False,
            id="host.storage",
            tooltip="Pools and volumes of this host",
        ),
        Binding(
            "N",
            "networks",
            "Networks",
            show=False,
            id="host.networks",
            tooltip="Virtual networks of this host",
        ),
        Binding(
            "n",
            "create_domain",
            "New domain",
            id="host.create",
            tooltip="Create a new domain on this host (wizard)",
        ),
        Binding("escape", "back", "Back", id="host.back"),
    ]

    def __init__(self, host: HostFacade, *, root: Path = Path("/")) -> None:
        super().__init__()
        self.host = host
        self.root = root
        self.report: HostReport | None = None
        self._report_job: Job[HostReport] | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Host {self.host.uri}"), id="host-title")
        yield Static(plain("probing the host..."), id="host-status")
        yield VerticalScroll(id="host-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#host-body", VerticalScroll).focus()
        self.load_report()

    def load_report(self) -> None:
        """Probe the host in a job; a newer probe replaces a running one."""
        host, root = self.host, self.root
        if self._report_job is not None:
            self._report_job.cancel()
        self._report_job = start_job(
            self,
            lambda _ctx: host.host_report(root=root),
            on_done=lambda m: self.post_message(HostReportReady(m.result)),
            on_failed=self._report_failed,
            cancel_on_close=True,
            group="host-report",
        )

    @on(HostReportReady)
    async def show_report(self, message: HostReportReady) -> None:
        self.report = message.report
        body = self.query_one("#host-body", VerticalScroll)
        scroll_y = body.scroll_y
        widgets: list[Widget] = []
        for section in build_sections(message.report):
            widgets += section_widgets(section)
        with self.app.batch_update():
            await body.remove_children()
            await body.mount_all(widgets)
        body.scroll_to(y=scroll_y, animate=False)
        scope = "local" if message.report.local else "remote: libvirt facts only"
        title = plain(f"Host {message.report.uri or self.host.uri} - {scope}")
        self.query_one("#host-title", Static).update(title)
        self.query_one("#host-status", Static).display = False

    def _report_failed(self, failed: JobFailed) -> None:
        if failed.cancelled:
            return  # replaced by a newer probe
        status = self.query_one("#host-status", Static)
        status.update(plain(f"cannot probe {self.host.uri}: {failed.message}"))
        status.display = True
        self.notify(
            failed.message, title="Host report failed", severity=failed.severity.value, markup=False
        )

    def action_refresh_report(self) -> None:
        status = self.query_one("#host-status", Static)
        status.update(plain("probing the host..."))
        status.display = True
        self.load_report()

    def action_storage(self) -> None:
        from virttui.screens.common.services import services

        services(self).open_storage(self.host.uri)

    def action_networks(self) -> None:
        from virttui.screens.common.services import services

        services(self).open_networks(self.host.uri)

    def action_create_domain(self) -> None:
        from virttui.screens.common.services import services

        services(self).open_create_wizard(self.host.uri)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create_domain" and self.host.readonly:
            return None  # read-only connection: shown disabled, the key says why
        return True

    def action_back(self) -> None:
        self.app.pop_screen()
