"""The XML editor of a domain, network or storage pool (and the read-only XML of a volume), and
the diff confirmation it shares with "switch to virtio".

Entry point: `open_xml_editor(app, uri, kind, key)` (`kind` "domain" with the UUID as key,
"network"/"pool" with the name, "volume" with "pool/volume"). The domain action table's
`edit_xml` entry (X on the list and details), the Networks and Storage screens' `X` and the
palette call it.

Keys: ctrl+s saves, ctrl+r reverts to what libvirt holds (undoable with ctrl+z), escape leaves
(asking first when the text was changed). Save parses locally first (a syntax error names its
line:column and moves the cursor there; the text stays exactly as typed), refuses a changed
name or UUID, shows the unified diff (plain text) to confirm, then defines through the host's
facade with libvirt's VALIDATE flag. libvirt's refusal shows below the text, with its line when
it names one; the text stays as typed. A running domain is told the changes apply at next boot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Static, TextArea

from virttui.core.common.safe_text import visible
from virttui.core.domain.xml_edit import (
    MASK,
    XmlDefined,
    XmlEditError,
    XmlKind,
    XmlSource,
    check_text,
    unified_diff,
)
from virttui.core.facade.host import HostFacade
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job
from virttui.screens.common.readonly import READ_ONLY_MESSAGE
from virttui.screens.common.services import services
from virttui.widgets.common.plain import append_plain, plain

KIND_WORDS = {"domain": "domain", "network": "network", "pool": "pool", "volume": "volume"}
CONTROL_CHARS_REASON = (
    "This XML holds control characters (shown as escapes): saving it from here would change "
    "them. Use virsh edit for this one."
)


def open_xml_editor(
    app: App[Any],
    uri: str,
    kind: XmlKind,
    key: str,
    *,
    on_saved: Callable[[], None] | None = None,
) -> None:
    """Read the XML in a job, then open the editor (read-only hosts: refused with the reason,
    except a volume's XML, which is only shown). `on_saved` runs after a definition was saved
    and the editor closed."""
    host = services(app).facade(uri)
    if host is None:
        app.notify(f"{uri}: no such connection", severity="error", markup=False)
        return
    if host.readonly and kind != "volume":
        app.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)
        return

    def closed(saved: bool | None) -> None:
        if saved and on_saved is not None:
            on_saved()

    def opened(source: XmlSource) -> None:
        app.push_screen(XmlEditorScreen(uri, source), closed)

    host_job(app, uri, "Read XML", lambda f: f.xml_source(kind, key), opened, mutating=False)


def diff_text(diff: str) -> Text:
    """A unified diff, literally, with removed lines red and added lines green."""
    out = Text(no_wrap=True, overflow="ellipsis")
    for line in diff.splitlines():
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = "green"
        elif line.startswith("-") and not line.startswith("---"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        append_plain(out, line, style)
        out.append("\n")
    return out


class DiffScreen(ModalScreen[bool]):
    """A diff to confirm: title, lines to read first (text, style), the diff (scrolls), Cancel
    (the default) and the confirm button."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="xml_diff.cancel"),
        Binding("ctrl+s", "confirm", "Confirm", id="xml_diff.confirm"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="xml_diff.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="xml_diff.page_up"),
    ]

    def __init__(
        self,
        title: Text,
        diff: str,
        *,
        lines: Sequence[tuple[str, str]] = (),
        confirm_label: str = "Define",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.diff = diff
        self.lines = tuple(lines)
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="xml-diff-dialog"):
            yield Static(self.title_text, id="xml-diff-title")
            with ScrollableContainer(id="xml-diff-body"):
                if self.lines:
                    intro = Text()
                    for line, style in self.lines:
                        append_plain(intro, line + "\n", style, multiline=True)
                    yield Static(intro, id="xml-diff-intro")
                yield Static(
                    diff_text(self.diff) if self.diff else Text("(no change)"), id="xml-diff-text"
                )
            with Horizontal(id="xml-diff-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button(self.confirm_label, id="confirm", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_page(self, direction: int) -> None:
        """Scroll the changes and the diff whatever has the focus (the buttons, usually)."""
        body = self.query_one("#xml-diff-body", ScrollableContainer)
        if direction > 0:
            body.scroll_page_down(animate=False)
        else:
            body.scroll_page_up(animate=False)


class XmlEditorScreen(Screen[bool]):
    """Dismisses with True once a definition was saved, False when left without saving."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="xml_editor.save", tooltip="Check, diff, define"),
        Binding(
            "ctrl+r",
            "revert",
            "Revert",
            id="xml_editor.revert",
            tooltip="Back to what libvirt holds (ctrl+z undoes)",
        ),
        Binding("escape", "back", "Back", id="xml_editor.back", tooltip="Asks when changed"),
    ]

    def __init__(self, uri: str, source: XmlSource) -> None:
        super().__init__()
        self.uri = uri
        self.source = source
        self.readonly_reason = source.readonly_reason
        shown = source.text.replace("\t", " ")
        if not self.readonly_reason and visible(shown, multiline=True) != shown:
            self.readonly_reason = CONTROL_CHARS_REASON
        self.saved = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        source = self.source
        title = Text("Edit XML: " if not self.readonly_reason else "XML: ", style="bold")
        title.append(f"{KIND_WORDS[source.kind]} ")
        append_plain(title, source.name, "bold")
        host = services(self).hosts.get(self.uri)
        title.append(" on ")
        append_plain(title, getattr(host, "label", "") or self.uri)
        yield Static(title, id="xml-editor-title")
        yield Static(self._note(), id="xml-editor-note")
        text = source.text
        if self.readonly_reason == CONTROL_CHARS_REASON:
            text = visible(source.text, multiline=True)
        yield TextArea(
            text,
            language="xml",
            read_only=bool(self.readonly_reason),
            show_line_numbers=True,
            soft_wrap=False,
            id="xml-editor-text",
        )
        yield Static(id="xml-editor-status")
        yield Footer()

    def _note(self) -> Text:
        note = Text()
        if self.readonly_reason:
            append_plain(note, self.readonly_reason, "yellow", multiline=True)
            return note
        parts = [self.source.note] if self.source.note else []
        if self.source.passwords:
            parts.append(f"Passwords show as {MASK}: kept unless you type a new one.")
        append_plain(note, " ".join(parts), "yellow", multiline=True)
        return note

    def on_mount(self) -> None:
        self.query_one("#xml-editor-note", Static).display = bool(self._note().plain)
        self.query_one("#xml-editor-status", Static).display = False
        self.area.focus()

    @property
    def area(self) -> TextArea:
        return self.query_one("#xml-editor-text", TextArea)

    @property
    def modified(self) -> bool:
        return not self.readonly_reason and self.area.text != self.source.text

    # ------------------------------------------------------------------ status
    def show_status(self, text: str, style: str = "") -> None:
        status = self.query_one("#xml-editor-status", Static)
        status.update(plain(text, style, multiline=True))
        status.display = bool(text)

    def show_error(self, error: XmlEditError) -> None:
        """The error below the text; the cursor on its line (the text is not touched)."""
        self.show_status(error.where(), "red")
        if error.line is not None:
            row = max(0, min(error.line - 1, self.area.document.line_count - 1))
            column = max(0, (error.column or 1) - 1)
            self.area.cursor_location = (row, column)
            self.area.scroll_cursor_visible(center=True)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save", "revert") and self.readonly_reason:
            return False
        return True

    def action_save(self) -> None:
        if self.readonly_reason:
            self.show_status(self.readonly_reason, "yellow")
            return
        text = self.area.text
        try:
            check_text(self.source, text)
        except XmlEditError as error:
            self.show_error(error)
            return
        if text == self.source.text:
            self.show_status("Nothing changed.")
            return
        self.show_status("")
        title = Text("Define ", style="bold")
        append_plain(title, self.source.name, "bold")
        title.append(" with these changes?")
        lines = [(self.source.note, "yellow")] if self.source.note else []

        def answered(ok: bool | None) -> None:
            if ok:
                self.define(text)

        self.app.push_screen(
            DiffScreen(title, unified_diff(self.source.text, text), lines=lines), answered
        )

    def define(self, text: str) -> None:
        source = self.source

        def job(facade: HostFacade) -> XmlDefined | XmlEditError:
            try:
                return facade.define_xml_text(source, text)
            except XmlEditError as error:  # shown in the editor, with the line
                return error

        self.show_status("Defining...")
        host_job(
            self.app,
            self.uri,
            "Define XML",
            job,
            self._defined,
            failed=lambda message: self.show_status(message, "red"),
        )

    def _defined(self, result: XmlDefined | XmlEditError) -> None:
        if isinstance(result, XmlEditError):
            if self.is_attached:
                self.show_error(result)
            return
        self.saved = True
        message = f"{result.name}: defined"
        if result.note:
            message += f"\n{result.note}"
        self.app.notify(message, title="XML saved", markup=False, timeout=10)
        if self.is_attached:
            self.dismiss(True)

    def action_revert(self) -> None:
        if self.readonly_reason or not self.modified:
            return
        document = self.area.document
        self.area.replace(self.source.text, (0, 0), document.end)
        self.show_status("Reverted to what libvirt holds (ctrl+z undoes).")

    def action_back(self) -> None:
        if not self.modified:
            self.dismiss(self.saved)
            return
        question = Text("Discard your changes to ", style="bold")
        append_plain(question, self.source.name, "bold")
        question.append("?\n\nNothing was defined.")

        def answered(ok: bool | None) -> None:
            if ok:
                self.dismiss(False)

        self.app.push_screen(ConfirmScreen(question, confirm_label="Discard"), answered)
