"""How an image is drawn: its backing chain as a tree (each layer's facts, the layer below as a
child) and its internal snapshots as a table. Every name and path comes from a file: rendered
literally through `plain` (control characters visible)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable, Tree
from textual.widgets.tree import TreeNode

from virttui.core.common.units import human_bytes
from virttui.core.storage.qemu_img import ImageInfo, ImageLayer, InternalSnapshot
from virttui.widgets.common.plain import append_plain, plain


def layer_label(layer: ImageLayer, index: int) -> Text:
    text = Text()
    text.append("image " if index == 0 else "backing ", "bold")
    append_plain(text, layer.filename)
    text.append(f"  {layer.format or '?'}, {human_bytes(layer.virtual_size)}", "dim")
    return text


def fact_label(label: str, value: str) -> Text:
    text = Text()
    text.append(f"{label}: ", "bold")
    append_plain(text, value)
    return text


class ImageChainTree(Tree[str]):
    """The backing chain, top image at the root, each backing file a child of the one above."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(Text("no image read yet"), id=id)
        self.show_root = True
        self.guide_depth = 2

    def show(self, info: ImageInfo) -> None:
        self.clear()
        node: TreeNode[str] = self.root
        for index, layer in enumerate(info.layers):
            if index == 0:
                node.set_label(layer_label(layer, 0))
            else:
                node = node.add(layer_label(layer, index), expand=True)
            for label, value in layer.facts():
                node.add_leaf(fact_label(label, value))
            node.expand()
        self.root.expand()

    def show_error(self, message: str) -> None:
        self.clear()
        self.root.set_label(plain(message))


class SnapshotTable(DataTable[Text]):
    """Internal snapshots: ID, tag, VM state size, date, VM clock."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.names: list[str] = []

    def on_mount(self) -> None:
        self.add_columns("ID", "Tag", "VM size", "Date", "VM clock")

    def show(self, snapshots: tuple[InternalSnapshot, ...]) -> None:
        self.clear()
        self.names = [s.name for s in snapshots]
        for index, snap in enumerate(snapshots):
            self.add_row(
                plain(snap.id),
                plain(snap.name),
                Text(human_bytes(snap.vm_state_size)),
                Text(snap.date_text),
                Text(snap.clock_text),
                key=str(index),
            )

    @property
    def current_name(self) -> str | None:
        if not self.names or self.cursor_row < 0 or self.cursor_row >= len(self.names):
            return None
        return self.names[self.cursor_row]
