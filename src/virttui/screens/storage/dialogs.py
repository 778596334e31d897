"""Dialogs of the storage screen: new dir pool, pool from XML, remove pool, new volume, clone,
resize, and the clone's progress. They validate and return plain values; the storage screen
runs the jobs. Every name or path shown comes from libvirt or the admin: drawn literally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static, TextArea

from virttui.core.common.units import human_bytes, parse_bytes
from virttui.core.storage.volumes import FORMATS, PREALLOCATIONS, VolumeInfo, VolumeSpec
from virttui.screens.common.confirm import DialogScreen
from virttui.screens.common.ui_jobs import show_fraction
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.common.ticks import TickBox

R = TypeVar("R")

POOL_XML_TEMPLATE = """<pool type='netfs'>
  <name>NAME</name>
  <source>
    <host name='nfs.example.org'/>
    <dir path='/export/images'/>
    <format type='nfs'/>
  </source>
  <target>
    <path>/var/lib/libvirt/images/NAME</path>
  </target>
</pool>
"""


def title_text(action: str, name: str = "") -> Text:
    text = Text()
    append_plain(text, action, "bold")
    if name:
        text.append(": ", style="bold")
        append_plain(text, name)
    return text


def field(label: str, widget: Widget) -> Horizontal:
    return Horizontal(Static(Text(label), classes="field-label"), widget, classes="field")


class StorageForm(DialogScreen[R], Generic[R]):
    """A titled form with Cancel / confirm (`screens/common/confirm.DialogScreen`). Subclasses
    yield `body()` and build the value in `collect()`, raising ValueError with a sentence the
    form shows (nothing is applied then)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Apply")]
    frame_classes = "form storage-form"

    def text(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def ticked(self, selector: str) -> bool:
        return self.query_one(selector, Checkbox).value

    def choice(self, selector: str) -> Any:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL else value


# ---------------------------------------------------------------------------------- pools
@dataclass(frozen=True, slots=True)
class DirPoolRequest:
    name: str
    directory: str
    create_dir: bool
    autostart: bool


class NewDirPoolScreen(StorageForm[DirPoolRequest]):
    confirm_label = "Create"
    hint = (
        "The directory becomes a running dir pool in one step (define, start, autostart). "
        "A directory that is already a pool's target is refused."
    )

    def __init__(self, directory: str = "") -> None:
        super().__init__(title_text("New dir pool"))
        self.directory = directory

    def body(self) -> ComposeResult:
        yield field("Name", Input(id="pool-name", placeholder="images", compact=True))
        yield field(
            "Directory",
            Input(self.directory, id="pool-dir", placeholder="/srv/images", compact=True),
        )
        yield TickBox("Create the directory if it is missing", False, id="pool-mkdir", compact=True)
        yield TickBox("Start at boot (autostart)", True, id="pool-autostart", compact=True)

    def collect(self) -> DirPoolRequest:
        name = self.text("#pool-name").strip()
        directory = self.text("#pool-dir").strip()
        if not name:
            raise ValueError("Name: the pool needs a name")
        if not directory.startswith("/"):
            raise ValueError("Directory: an absolute path, e.g. /srv/images")
        return DirPoolRequest(
            name, directory, self.ticked("#pool-mkdir"), self.ticked("#pool-autostart")
        )


@dataclass(frozen=True, slots=True)
class PoolXmlRequest:
    xml: str
    build: bool
    start: bool


class PoolXmlScreen(StorageForm[PoolXmlRequest]):
    """Any pool type libvirt knows (netfs, logical, iscsi, ...), as the admin writes its XML."""

    confirm_label = "Define"
    hint = "libvirt checks the XML; build formats or creates the source (asked for, never implied)."

    def __init__(self, xml: str = POOL_XML_TEMPLATE) -> None:
        super().__init__(title_text("Define a pool from XML"))
        self.xml = xml

    def body(self) -> ComposeResult:
        yield TextArea(self.xml, id="pool-xml", language=None, soft_wrap=False)
        yield TickBox(
            "Build it first (creates/formats the source)", False, id="pool-build", compact=True
        )
        yield TickBox("Start it", True, id="pool-start", compact=True)

    def collect(self) -> PoolXmlRequest:
        xml = self.query_one("#pool-xml", TextArea).text
        if not xml.strip():
            raise ValueError("The XML is empty")
        return PoolXmlRequest(xml, self.ticked("#pool-build"), self.ticked("#pool-start"))


class RemovePoolScreen(StorageForm[bool]):
    """Stop and undefine a pool; optionally delete its (empty) directory. Returns that choice."""

    confirm_label = "Remove"
    destructive = True

    def __init__(self, name: str, target: str, volumes: int, users: str) -> None:
        super().__init__(title_text("Remove pool", name))
        self.pool_name = name
        self.target = target
        self.volume_count = volumes
        self.users = users

    def body(self) -> ComposeResult:
        text = Text()
        text.append("The pool is stopped and its definition removed. Its files stay in ")
        append_plain(text, self.target or "its storage")
        text.append(".\n")
        if self.volume_count:
            text.append(f"It holds {self.volume_count} volume(s)")
            if self.users:
                text.append("; ")
                append_plain(text, self.users)
            text.append(". Domains that name the pool in their disks will not start.\n")
        text.append(
            "Deleting the storage removes a dir pool's directory only when it is empty: "
            "libvirt never deletes the volumes in it."
        )
        yield Static(text, classes="storage-explain")
        yield TickBox(
            "Also delete the directory (only if empty)", False, id="pool-delete-dir", compact=True
        )

    def initial_focus(self) -> Widget:
        return self.query_one("#cancel", Button)  # Cancel is the default

    def collect(self) -> bool:
        return self.ticked("#pool-delete-dir")


# ---------------------------------------------------------------------------------- volumes
class NewVolumeScreen(StorageForm[VolumeSpec]):
    confirm_label = "Create"
    hint = (
        "Sizes take units (binary): 512M, 10G, 1.5T. With a backing volume the new one is a "
        "qcow2 overlay; its size defaults to the backing's."
    )

    def __init__(self, pool: str) -> None:
        super().__init__(title_text("New volume in", pool))

    def body(self) -> ComposeResult:
        yield field("Name", Input(id="vol-name", placeholder="disk.qcow2", compact=True))
        yield field(
            "Format",
            Select(
                [(f, f) for f in FORMATS],
                value="qcow2",
                allow_blank=False,
                id="vol-format",
                compact=True,
            ),
        )
        yield field("Size", Input(id="vol-size", placeholder="10G", compact=True))
        yield field(
            "Prealloc",
            Select(
                [(p, p) for p in PREALLOCATIONS],
                value="off",
                allow_blank=False,
                id="vol-prealloc",
                compact=True,
            ),
        )
        yield field(
            "Backing",
            Input(id="vol-backing", placeholder="path of a volume (optional)", compact=True),
        )
        yield field(
            "Back fmt",
            Select(
                [("detect", ""), *((f, f) for f in FORMATS)],
                value="",
                allow_blank=False,
                id="vol-backing-format",
                compact=True,
            ),
        )

    def collect(self) -> VolumeSpec:
        name = self.text("#vol-name")
        if not name.strip():
            raise ValueError("Name: the volume needs a name")
        backing = self.text("#vol-backing").strip()
        size_text = self.text("#vol-size").strip()
        capacity = None
        if size_text or not backing:
            capacity = parse_bytes(size_text, "Size")
        return VolumeSpec(
            name=name,
            format=str(self.choice("#vol-format") or "qcow2"),
            capacity=capacity,
            preallocation=str(self.choice("#vol-prealloc") or "off"),
            backing_path=backing,
            backing_format=str(self.choice("#vol-backing-format") or ""),
        )


class CloneVolumeScreen(StorageForm[str]):
    confirm_label = "Clone"
    hint = "A full copy in the same pool (same format and size). Copying a big volume takes time."

    def __init__(self, volume: VolumeInfo, existing: set[str]) -> None:
        super().__init__(title_text("Clone volume", volume.name))
        self.volume = volume
        self.existing = existing

    def body(self) -> ComposeResult:
        stem, dot, ext = self.volume.name.rpartition(".")
        suggestion = f"{stem}-clone.{ext}" if dot and stem else f"{self.volume.name}-clone"
        yield field("New name", Input(suggestion, id="clone-name", compact=True))

    def collect(self) -> str:
        name = self.text("#clone-name")
        if not name.strip():
            raise ValueError("New name: the copy needs a name")
        if name in self.existing:
            raise ValueError(f"The pool already has a volume named {name!r}")
        return name


@dataclass(frozen=True, slots=True)
class ResizeRequest:
    capacity: int
    shrink: bool


class ResizeVolumeScreen(StorageForm[ResizeRequest]):
    """Grow freely; shrinking needs the Shrink box and the volume's name typed again."""

    confirm_label = "Resize"

    def __init__(self, volume: VolumeInfo) -> None:
        super().__init__(title_text("Resize volume", volume.name))
        self.volume = volume
        self.hint = (
            f"Now {human_bytes(volume.capacity)} ({volume.capacity} bytes). Growing is safe; "
            "the guest still has to grow its partition. Shrinking cuts off the data past the "
            "new end: tick Shrink and type the volume's name. A running domain's disk is "
            "resized live (blockResize), not here."
        )
        shut_off = [u.name for u in volume.used_by if u.kind == "domain" and not u.running]
        if shut_off:
            self.hint += (
                f"\nUsed by {', '.join(dict.fromkeys(shut_off))} (shut off): it sees the new "
                "size at its next start."
            )

    def body(self) -> ComposeResult:
        yield field("New size", Input(id="resize-size", placeholder="20G", compact=True))
        yield TickBox(
            "Shrink (loses the data past the new end)", False, id="resize-shrink", compact=True
        )
        yield field(
            "Type name", Input(id="resize-confirm", placeholder="only to shrink", compact=True)
        )

    def collect(self) -> ResizeRequest:
        capacity = parse_bytes(self.text("#resize-size"), "New size")
        if capacity == self.volume.capacity:
            raise ValueError(f"The volume is already {human_bytes(capacity)}")
        if capacity < self.volume.capacity:
            if not self.ticked("#resize-shrink"):
                raise ValueError(
                    f"{human_bytes(capacity)} is smaller than {human_bytes(self.volume.capacity)}:"
                    " tick Shrink to cut the volume (its data past the new end is lost)"
                )
            if self.text("#resize-confirm") != self.volume.name:
                raise ValueError("To shrink, type the volume's name exactly in 'Type name'")
            return ResizeRequest(capacity, True)
        return ResizeRequest(capacity, False)


class VolumeProgressScreen(ModalScreen[None]):
    """The clone's progress with a Cancel button; the storage screen feeds and closes it."""

    BINDINGS = [Binding("escape", "cancel_job", "Cancel")]

    def __init__(self, title: Text, on_cancel: Any) -> None:
        super().__init__()
        self.progress_title = title
        self.on_cancel = on_cancel
        self.last: tuple[float | None, str] = (None, "")
        self.cancelling = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="volume-progress-dialog"):
            yield Static(self.progress_title, classes="dialog-title")
            yield ProgressBar(total=None, show_eta=False, id="volume-progress")
            yield Static(Text("starting..."), id="volume-progress-status")
            yield Static(
                Text(
                    "libvirt cannot interrupt a copy: Cancel removes the copy once it ends.",
                    style="dim",
                ),
                classes="dialog-hint",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)

    def update_progress(self, fraction: float | None, text: str) -> None:
        self.last = (fraction, text)
        show_fraction(self.query_one(ProgressBar), fraction, steps=1000)
        if self.cancelling:
            text = f"cancelling: the copy is removed when libvirt finishes it ({text})"
        self.query_one("#volume-progress-status", Static).update(plain(text))

    def action_cancel_job(self) -> None:
        if self.cancelling:
            return
        self.cancelling = True
        self.query_one("#volume-progress-status", Static).update(
            Text("cancelling: waiting for libvirt to finish the copy, then removing it...")
        )
        self.query_one("#cancel", Button).disabled = True
        self.on_cancel()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel_job()
