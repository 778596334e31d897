"""libvirt snapshots of one domain: the tree (current marked, internal/external shown), create,
revert, the manual revert of an external snapshot, delete (this one / with children / the record
only) and the XML. Every refusal of `core/domain/snapshots.py` is shown as it is: the reason and
the route that works. Entry point: `open_snapshots(app, uri, uuid)`.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static, Tree
from textual.widgets.tree import TreeNode

from virttui.core.domain.snapshots import (
    CreateRequest,
    DeletePlan,
    Kind,
    ManualRevertPlan,
    Refusal,
    Snapshot,
    SnapshotTree,
    create_refusal,
    external_refusal,
    internal_refusal,
    revert_refusal,
    snapshot_disks,
)
from virttui.core.jobs import JobDone, JobFailed
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job, start_job, writable_host
from virttui.screens.common.services import services
from virttui.screens.domain.action_menu import ActionMenuScreen
from virttui.widgets.common.plain import append_plain, plain

__all__ = ["CreateSnapshotScreen", "SnapshotsScreen", "XmlScreen", "open_snapshots"]


def open_snapshots(app: App[Any], uri: str, uuid: str) -> None:
    """The entry point other screens use (the list, the details screen, the palette)."""
    app.push_screen(SnapshotsScreen(uri, uuid))


def snapshot_label(snap: Snapshot) -> Text:
    """One tree line: name, kind, date, state, current mark (names rendered literally)."""
    line = Text()
    if snap.current:
        line.append("● ", style="bold green")
    append_plain(line, snap.name, "bold" if snap.current else "")
    line.append(f"  {snap.kind}", style="cyan" if snap.kind == "internal" else "magenta")
    if snap.has_memory:
        line.append("+mem", style="cyan")
    line.append(f"  {snap.created_text()}  ", style="dim")
    append_plain(line, snap.state, "dim")
    if snap.current:
        line.append("  current", style="bold")
    return line


def refusal_text(refusal: Refusal) -> Text:
    text = plain(refusal.reason, "bold", multiline=True)
    if refusal.route:
        text.append("\n")
        append_plain(text, refusal.route, multiline=True)
    return text


class SnapshotsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="snapshots.back"),
        Binding("c", "create", "Create", id="snapshots.create"),
        Binding("r", "revert", "Revert", id="snapshots.revert"),
        Binding("m", "manual_revert", "Manual revert", id="snapshots.manual_revert"),
        Binding("d", "delete", "Delete", id="snapshots.delete"),
        Binding("x", "xml", "XML", id="snapshots.xml"),
        Binding("R", "reload", "Reload", id="snapshots.reload"),
    ]
    WRITES = frozenset({"create", "revert", "manual_revert", "delete"})

    def __init__(self, uri: str, uuid: str) -> None:
        super().__init__()
        self.uri = uri
        self.uuid = uuid
        self.tree_data: SnapshotTree | None = None
        self.message: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="snap-title")
        tree: Tree[str] = Tree("snapshots", id="snap-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        with VerticalScroll(id="snap-info-box"):
            yield Static(id="snap-info")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#snap-title", Static).update(plain("Snapshots: reading..."))
        self.load()

    # ------------------------------------------------------------------ data
    def load(self, select: str | None = None) -> None:
        host_job(
            self.app,
            self.uri,
            "Read snapshots",
            lambda f: f.snapshot_tree(self.uuid),
            lambda tree: self.show(tree, select),
            mutating=False,
        )

    def show(self, data: SnapshotTree, select: str | None = None) -> None:
        if not self.is_attached:
            return
        self.tree_data = data
        title = Text("Snapshots: ", style="bold")
        append_plain(title, data.domain)
        title.append(f"  {'running' if data.active else 'shut off'}", style="dim")
        title.append(f"  {data.caps.describe()[0]}", style="dim")
        self.query_one("#snap-title", Static).update(title)
        tree = self.query_one("#snap-tree", Tree)
        keep = select or self.selected_name()
        tree.clear()
        nodes: dict[str, TreeNode[str]] = {}
        for snap in data.snapshots:
            parent = nodes.get(snap.parent, tree.root) if snap.parent else tree.root
            node = parent.add(snapshot_label(snap), data=snap.name, expand=True)
            if not snap.children:
                node.allow_expand = False
            nodes[snap.name] = node
        target = nodes.get(keep or "") or (
            nodes.get(data.current.name) if data.current is not None else None
        )
        if target is not None:
            # The tree lays out its lines on the next refresh; the cursor can go there then.
            self.call_after_refresh(self._select_node, target)
        self.show_info()
        self.refresh_bindings()

    def _select_node(self, node: TreeNode[str]) -> None:
        self.query_one("#snap-tree", Tree).move_cursor(node)
        self.show_info()

    def selected(self) -> Snapshot | None:
        if self.tree_data is None:
            return None
        name = self.selected_name()
        return next((s for s in self.tree_data.snapshots if s.name == name), None)

    def selected_name(self) -> str | None:
        node = self.query_one("#snap-tree", Tree).cursor_node
        return node.data if node is not None and isinstance(node.data, str) else None

    @on(Tree.NodeHighlighted)
    def _highlighted(self) -> None:
        self.message = None
        self.show_info()

    def show_info(self) -> None:
        info = self.query_one("#snap-info", Static)
        data = self.tree_data
        if data is None:
            return
        text = Text()
        if self.message is not None:
            text.append_text(self.message)
            text.append("\n\n")
        snap = self.selected()
        if snap is None:
            text.append("No snapshots. c creates one.\n", style="dim")
        else:
            append_plain(text, snap.name, "bold")
            text.append(f"  {snap.kind}", style="bold")
            text.append(f"  memory: {snap.memory}  created {snap.created_text()}\n")
            if snap.description:
                append_plain(text, snap.description, multiline=True)
                text.append("\n")
            for d in snap.disks:
                text.append(f"  {d.target}: {d.kind or '?'}")
                if d.overlay:
                    text.append("  overlay ")
                    append_plain(text, d.overlay)
                if d.base and d.kind == "external":
                    text.append("  on ")
                    append_plain(text, d.base)
                text.append("\n")
            if snap.children:
                text.append(f"  children: {len(snap.children)}\n", style="dim")
        for line in data.caps.describe()[1:]:
            text.append(line + "\n", style="dim")
        if not data.agent.answers:
            append_plain(text, f"quiesce: off ({data.agent.reason})", "dim")
        info.update(text)

    def say(self, text: Text) -> None:
        """A refusal or a result, shown above the selected snapshot's details."""
        self.message = text
        self.show_info()

    # ------------------------------------------------------------------ key state
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        facade = services(self).facade(self.uri)
        if action in self.WRITES and facade is not None and facade.readonly:
            return None
        if action in ("revert", "manual_revert", "delete", "xml"):
            return True if self.selected() is not None else None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load()

    # ------------------------------------------------------------------ create
    def action_create(self) -> None:
        data = self.tree_data
        if data is None or writable_host(self.app, self.uri) is None:
            return

        def chosen(request: CreateRequest | None) -> None:
            if request is not None:
                host_job(
                    self.app,
                    self.uri,
                    "Create snapshot",
                    lambda f: f.create_snapshot(self.uuid, request),
                    lambda snap: self._created(snap),
                    failed=lambda m: self.say(plain(m, "bold", multiline=True)),
                )

        self.app.push_screen(CreateSnapshotScreen(data), chosen)

    def _created(self, snap: Snapshot) -> None:
        text = Text("Created ", style="bold")
        append_plain(text, snap.name)
        text.append(f" ({snap.kind})")
        self.app.notify(text.plain, title="Snapshot", markup=False)
        self.load(select=snap.name)

    # ------------------------------------------------------------------ revert
    def action_revert(self) -> None:
        data, snap = self.tree_data, self.selected()
        if data is None or snap is None:
            return
        refusal = revert_refusal(data, snap.name)
        if refusal is not None:
            self.say(refusal_text(refusal))
            if snap.external and not data.active and data.persistent:
                self.action_manual_revert()
            return
        question = Text("Revert ", style="bold")
        append_plain(question, data.domain, "bold")
        question.append(" to ")
        append_plain(question, snap.name, "bold")
        question.append("?\n\n")
        question.append(
            "The disks (and memory, if saved) go back to the snapshot; "
            "everything written since is lost."
        )

        others = list(services(self).hosts.values())

        def answered(ok: bool | None) -> None:
            if ok:
                host_job(
                    self.app,
                    self.uri,
                    "Revert snapshot",
                    lambda f: f.revert_snapshot(self.uuid, snap.name, others=others),
                    lambda _r: self._reverted(snap.name),
                    failed=lambda m: self.say(plain(m, "bold", multiline=True)),
                )

        self.app.push_screen(ConfirmScreen(question, confirm_label="Revert"), answered)

    def _reverted(self, name: str) -> None:
        self.app.notify(f"Reverted to {name}", title="Snapshot", markup=False)
        self.load(select=name)

    def action_manual_revert(self) -> None:
        snap = self.selected()
        if snap is None or writable_host(self.app, self.uri) is None:
            return
        host_job(
            self.app,
            self.uri,
            "Plan manual revert",
            lambda f: f.plan_snapshot_manual_revert(self.uuid, snap.name),
            self._confirm_manual,
            mutating=False,
        )

    def _confirm_manual(self, plan: ManualRevertPlan) -> None:
        if plan.refusal is not None:
            self.say(refusal_text(plan.refusal))
            return
        question = Text("Revert by hand ", style="bold")
        append_plain(question, plan.domain, "bold")
        question.append(" to ")
        append_plain(question, plan.name, "bold")
        question.append("?\n\n")
        for line in plan.describe():
            append_plain(question, line, multiline=True)
            question.append("\n")
        question.append(
            "\nNothing is deleted: the kept overlays hold what was written since; "
            "delete them separately once nothing needs them."
        )

        def answered(ok: bool | None) -> None:
            if ok:
                self._run_manual(plan)

        self.app.push_screen(ConfirmScreen(question, confirm_label="Revert"), answered)

    def _run_manual(self, plan: ManualRevertPlan) -> None:
        facade = writable_host(self.app, self.uri)
        if facade is None:
            return
        overlays = {d.target: d.overlay for d in plan.disks}

        def done(message: JobDone) -> None:
            self.say(plain("Reverted by hand. " + " ".join(plan.describe()), multiline=True))
            self.load(select=plan.name)

        def failed(message: JobFailed) -> None:
            self.say(plain(message.message, "bold", multiline=True))

        start_job(
            self.app,
            lambda ctx: facade.snapshot_manual_revert_job(ctx, self.uuid, plan.name, overlays),
            title="Manual revert",
            on_done=done,
            on_failed=failed,
        )

    # ------------------------------------------------------------------ delete
    def action_delete(self) -> None:
        snap = self.selected()
        if snap is None or writable_host(self.app, self.uri) is None:
            return
        entries = [("this", "t", "This one", "The children move up to its parent")]
        if snap.children:
            entries.append(("children", "c", "With its children", "This one and all below it"))
        entries.append(
            ("record", "r", "The record only", "libvirt forgets it; every image file stays")
        )
        title = Text("Delete snapshot ", style="bold")
        append_plain(title, snap.name, "bold")

        def chosen(choice: str | None) -> None:
            if choice is not None:
                self._plan_delete(snap.name, choice == "children", choice == "record")

        self.app.push_screen(ActionMenuScreen(title, entries), chosen)

    def _plan_delete(self, name: str, children: bool, record: bool) -> None:
        others = list(services(self).hosts.values())
        host_job(
            self.app,
            self.uri,
            "Check delete",
            lambda f: f.plan_snapshot_delete(
                self.uuid, name, children=children, metadata_only=record, others=others
            ),
            self._confirm_delete,
            mutating=False,
        )

    def _confirm_delete(self, plan: DeletePlan) -> None:
        if plan.refusal is not None:
            self.say(refusal_text(plan.refusal))
            return
        question = Text("Delete snapshot ", style="bold")
        append_plain(question, plan.name, "bold")
        if plan.children:
            question.append(" and its children", style="bold")
        question.append("?\n\n")
        for line in plan.describe():
            append_plain(question, line, multiline=True)
            question.append("\n")
        others = list(services(self).hosts.values())

        def answered(ok: bool | None) -> None:
            if ok:
                host_job(
                    self.app,
                    self.uri,
                    "Delete snapshot",
                    lambda f: f.delete_snapshot(
                        self.uuid,
                        plan.name,
                        children=plan.children,
                        metadata_only=plan.metadata_only,
                        others=others,
                    ),
                    lambda _p: self._deleted(plan.name),
                    failed=lambda m: self.say(plain(m, "bold", multiline=True)),
                )

        self.app.push_screen(ConfirmScreen(question, confirm_label="Delete"), answered)

    def _deleted(self, name: str) -> None:
        self.app.notify(f"Deleted {name}", title="Snapshot", markup=False)
        self.message = None
        self.load()

    # ------------------------------------------------------------------ XML
    def _show_xml(self, name: str, xml: str) -> None:
        self.app.push_screen(XmlScreen(name, xml))

    def action_xml(self) -> None:
        snap = self.selected()
        if snap is None:
            return
        host_job(
            self.app,
            self.uri,
            "Snapshot XML",
            lambda f: f.snapshot_xml(self.uuid, snap.name),
            lambda xml: self._show_xml(snap.name, xml),
            mutating=False,
        )


class XmlScreen(ModalScreen[None]):
    """The snapshot's XML, literally (scrolls)."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="snapshots.xml_close")]

    def __init__(self, name: str, xml: str) -> None:
        super().__init__()
        self.snap_name = name
        self.xml = xml

    def compose(self) -> ComposeResult:
        with Vertical(id="snap-xml-dialog"):
            title = Text("Snapshot XML: ", style="bold")
            append_plain(title, self.snap_name)
            yield Static(title)
            with VerticalScroll(id="snap-xml-body"):
                yield Static(plain(self.xml, multiline=True))

    def action_close(self) -> None:
        self.dismiss(None)


KIND_HELP = {
    "internal": "inside the qcow2 image; with memory while running",
    "external": "disk-only: new qcow2 overlays next to the disks",
}


class CreateSnapshotScreen(ModalScreen[CreateRequest | None]):
    """The create form: name, description, internal/external, memory, quiesce (disabled with
    the reason when no guest agent answers), overlay file per disk for external."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="snapshots.create_cancel")]

    def __init__(self, data: SnapshotTree) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        data = self.data
        internal = internal_refusal(data)
        external = external_refusal(data)
        kinds = [
            (f"internal{'' if internal is None else ' (refused)'}", "internal"),
            (f"external{'' if external is None else ' (refused)'}", "external"),
        ]
        default = "external" if internal is not None and external is None else "internal"
        with Vertical(id="snap-create-dialog", classes="dialog"):
            title = Text("New snapshot of ", style="bold")
            append_plain(title, data.domain, "bold")
            yield Static(title, classes="dialog-title")
            with Horizontal(classes="snap-row"):
                yield Label("Name", classes="snap-label")
                yield Input(time.strftime("snap-%Y%m%d-%H%M%S"), id="snap-name", compact=True)
            with Horizontal(classes="snap-row"):
                yield Label("Notes", classes="snap-label")
                yield Input(placeholder="description (optional)", id="snap-desc", compact=True)
            with Horizontal(classes="snap-row"):
                yield Label("Kind", classes="snap-label")
                yield Select(kinds, value=default, allow_blank=False, id="snap-kind", compact=True)
            yield Static(id="snap-kind-help", classes="dialog-hint")
            yield Checkbox(
                "With memory (running domain)",
                data.active,
                disabled=not data.active,
                id="snap-memory",
                compact=True,
            )
            quiesce = "Quiesce filesystems"
            if not data.agent.answers:
                quiesce += f" - {data.agent.reason}"
            yield Checkbox(quiesce, False, disabled=True, id="snap-quiesce", compact=True)
            with Vertical(id="snap-overlays"):
                for disk in snapshot_disks(data):
                    with Horizontal(classes="snap-row"):
                        yield Label(disk.target, classes="snap-label")
                        yield Input(
                            placeholder="overlay: auto, next to the disk",
                            id=f"snap-overlay-{disk.target}",
                            classes="snap-overlay",
                            compact=True,
                        )
            yield Static(id="snap-create-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary", compact=True)
                yield Button("Create", id="create", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#snap-name", Input).focus()
        self._kind_changed()

    @on(Select.Changed, "#snap-kind")
    def _kind_changed(self) -> None:
        kind = self.kind()
        refusal = internal_refusal(self.data) if kind == "internal" else external_refusal(self.data)
        hint = plain(KIND_HELP[kind])
        if refusal is not None:
            hint = refusal_text(refusal)
        self.query_one("#snap-kind-help", Static).update(hint)
        memory = self.query_one("#snap-memory", Checkbox)
        memory.disabled = kind != "internal" or not self.data.active
        if memory.disabled:
            memory.value = kind == "internal" and self.data.active
        quiesce = self.query_one("#snap-quiesce", Checkbox)
        quiesce.disabled = kind != "external" or not self.data.agent.answers
        if quiesce.disabled:
            quiesce.value = False
        self.query_one("#snap-overlays").display = kind == "external"

    def kind(self) -> str:
        value = self.query_one("#snap-kind", Select).value
        return value if isinstance(value, str) else "internal"

    def request(self) -> CreateRequest:
        kind: Kind = "external" if self.kind() == "external" else "internal"
        overlays = {
            (i.id or "").removeprefix("snap-overlay-"): i.value.strip()
            for i in self.query(".snap-overlay").results(Input)
            if i.value.strip()
        }
        return CreateRequest(
            name=self.query_one("#snap-name", Input).value.strip(),
            description=self.query_one("#snap-desc", Input).value,
            kind=kind,
            memory=self.query_one("#snap-memory", Checkbox).value,
            quiesce=self.query_one("#snap-quiesce", Checkbox).value,
            overlays=overlays if kind == "external" else {},
        )

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def _create(self) -> None:
        request = self.request()
        refusal = create_refusal(self.data, request)
        if refusal is not None:
            self.query_one("#snap-create-error", Static).update(refusal_text(refusal))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
