"""The new-network dialog and its XML preview.

The admin fills the form; `Preview` checks every field with `core/network/create.validate`
against the host's networks, routes and bridges read when the dialog opened (`CreateContext`),
shows each error under its field, and only a form without errors opens the XML preview, whose
`Define` returns a `NewNetworkRequest`. Nothing touches the host here: the networks screen
defines it (and libvirt and the core check again then)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from virttui.core.network.create import (
    MODES,
    CreateContext,
    NetworkSpec,
    build_xml,
    suggest_dhcp,
    validate,
)
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.common.ticks import TickBox

MODE_LABELS = {
    "nat": "NAT (guests reach out through the host)",
    "route": "routed (no NAT)",
    "isolated": "isolated (guests and host only)",
    "open": "open (no firewall rules)",
    "bridge": "bridge to a host bridge",
}
FIELDS = ("name", "mode", "ipv4", "dhcp_start", "dhcp_end", "ipv6", "domain", "bridge")
ADDRESS_FIELDS = ("ipv4", "dhcp_start", "dhcp_end", "ipv6", "domain")


@dataclass(frozen=True, slots=True)
class NewNetworkRequest:
    spec: NetworkSpec
    start: bool
    autostart: bool


def _row(label: str, widget: Input | Select[str], name: str) -> Vertical:
    return Vertical(
        Horizontal(Static(Text(label), classes="field-label"), widget, classes="net-field"),
        Static(id=f"err-{name}", classes="net-field-error"),
        id=f"row-{name}",
        classes="net-row",
    )


class NewNetworkScreen(ModalScreen[NewNetworkRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "preview", "Preview"),
    ]

    def __init__(self, context: CreateContext, host_label: str = "") -> None:
        super().__init__()
        self.context = context
        self.host_label = host_label
        self._suggested: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form net-form"):
            title = Text("New network", style="bold")
            if self.host_label:
                title.append(" on ", style="bold")
                append_plain(title, self.host_label)
            yield Static(title, classes="dialog-title")
            with VerticalScroll(classes="form-body net-form-body"):
                yield _row("Name", Input(id="net-name", placeholder="lab", compact=True), "name")
                yield _row(
                    "Mode",
                    Select(
                        [(MODE_LABELS[m], m) for m in MODES],
                        value="nat",
                        allow_blank=False,
                        id="net-mode",
                        compact=True,
                    ),
                    "mode",
                )
                yield _row(
                    "IPv4 subnet",
                    Input(id="net-ipv4", placeholder="192.168.100.0/24", compact=True),
                    "ipv4",
                )
                yield _row("DHCP from", Input(id="net-dhcp_start", compact=True), "dhcp_start")
                yield _row("DHCP to", Input(id="net-dhcp_end", compact=True), "dhcp_end")
                yield _row(
                    "IPv6 (opt.)",
                    Input(id="net-ipv6", placeholder="fd00:100::1/64", compact=True),
                    "ipv6",
                )
                yield _row(
                    "Domain (opt.)",
                    Input(id="net-domain", placeholder="lab.example", compact=True),
                    "domain",
                )
                yield _row(
                    "Host bridge",
                    Input(id="net-bridge", placeholder=self._bridge_hint(), compact=True),
                    "bridge",
                )
                yield Static(self._bridges_text(), id="net-bridges", classes="dialog-hint")
                yield TickBox("Start it now", True, id="net-start", compact=True)
                yield TickBox("Start at boot (autostart)", True, id="net-autostart", compact=True)
            if self.context.notes:
                yield Static(
                    plain("Not checked: " + "; ".join(self.context.notes), multiline=True),
                    id="net-notes",
                    classes="dialog-hint",
                )
            yield Static(id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Preview XML", id="preview", compact=True, variant="success")

    def _bridge_hint(self) -> str:
        bridges = self.context.bridges
        return bridges[0] if bridges else "br0"

    def _bridges_text(self) -> Text:
        bridges = self.context.bridges
        if bridges is None:
            return Text("Host bridges unknown: the name is not checked", style="yellow")
        text = Text("Host bridges: ")
        append_plain(text, ", ".join(bridges) if bridges else "none")
        return text

    def on_mount(self) -> None:
        self._show_mode("nat")
        self.query_one("#net-name", Input).focus()

    # ------------------------------------------------------------------ form
    def _show_mode(self, mode: str) -> None:
        bridge = mode == "bridge"
        for name in ADDRESS_FIELDS:
            self.query_one(f"#row-{name}").display = not bridge
        self.query_one("#row-bridge").display = bridge
        self.query_one("#net-bridges").display = bridge

    @on(Select.Changed, "#net-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._show_mode(event.value)

    @on(Input.Changed, "#net-ipv4")
    def _ipv4_changed(self, event: Input.Changed) -> None:
        """Pre-fill the DHCP range from the subnet while the admin has not typed one."""
        start, end = (
            self.query_one("#net-dhcp_start", Input),
            self.query_one("#net-dhcp_end", Input),
        )
        current = (start.value, end.value)
        if current != ("", "") and current != self._suggested:
            return
        suggestion = suggest_dhcp(event.value)
        self._suggested = suggestion
        start.value, end.value = suggestion or ("", "")
        if suggestion is not None:
            self._suggested = (start.value, end.value)

    def spec(self) -> NetworkSpec:
        mode = self.query_one("#net-mode", Select).value
        values = {
            name: self.query_one(f"#net-{name}", Input).value
            for name in FIELDS
            if name not in ("mode",)
        }
        if mode == "bridge":
            for name in ADDRESS_FIELDS:
                values[name] = ""
        else:
            values["bridge"] = ""
        return NetworkSpec(mode=str(mode), **values)

    def show_errors(self, errors: dict[str, str]) -> None:
        for name in FIELDS:
            widget = self.query_one(f"#err-{name}", Static)
            message = errors.get(name, "")
            widget.update(plain(message, multiline=True))
            widget.display = bool(message)
        summary = self.query_one("#form-error", Static)
        summary.update(
            plain(f"{len(errors)} field(s) to fix: nothing is created") if errors else Text()
        )

    def action_preview(self) -> None:
        spec = self.spec()
        errors: dict[str, str] = {}
        for error in validate(spec, self.context):
            errors.setdefault(error.field, error.message)
        self.show_errors(errors)
        if errors:
            first = next(n for n in FIELDS if n in errors)
            if first != "mode":
                self.query_one(f"#net-{first}").focus()
            return
        request = NewNetworkRequest(
            spec,
            start=self.query_one("#net-start", Checkbox).value,
            autostart=self.query_one("#net-autostart", Checkbox).value,
        )

        def answered(define: bool | None) -> None:
            if define:
                self.dismiss(request)

        self.app.push_screen(XmlPreviewScreen(build_xml(spec), request), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "preview":
            self.action_preview()
        else:
            self.action_cancel()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_preview()


class XmlPreviewScreen(ModalScreen[bool]):
    """The XML that will be defined, read-only; Define or Back (the default)."""

    BINDINGS = [Binding("escape", "back", "Back"), Binding("ctrl+s", "define", "Define")]

    def __init__(self, xml: str, request: NewNetworkRequest) -> None:
        super().__init__()
        self.xml = xml
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog net-xml-dialog"):
            title = Text("Define network ", style="bold")
            append_plain(title, self.request.spec.name)
            steps = [
                s
                for s, on_ in (("start", self.request.start), ("autostart", self.request.autostart))
                if on_
            ]
            if steps:
                title.append(f" (then {' + '.join(steps)})")
            yield Static(title, classes="dialog-title")
            yield TextArea(self.xml, id="net-xml", read_only=True, language=None, soft_wrap=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Back", id="back", compact=True, variant="primary")
                yield Button("Define", id="define", compact=True, variant="success")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def action_back(self) -> None:
        self.dismiss(False)

    def action_define(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "define")
