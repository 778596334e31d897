"""Forms that add hardware: disk, CD-ROM drive, CD-ROM media, NIC, graphics."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, RadioButton, RadioSet, Select, Static

from virttui.core.device_xml import CACHE_MODES, DISK_BUSES, GRAPHICS_TYPES, NIC_MODELS
from virttui.screens.edit_dialogs import FormScreen, field
from virttui.widgets.plain import plain

GIB = 1024**3
CDROM_BUSES = ("sata", "ide", "scsi", "usb")


def _select(options: tuple[str, ...] | list[str], value: str, id: str) -> Select[str]:
    return Select(
        # Pool and network names come from libvirt: literal Text, never markup.
        [(plain(o) if o else Text("(default)"), o) for o in options],
        value=value,
        allow_blank=False,
        id=id,
        compact=True,
    )


def _size_bytes(text: str) -> int:
    try:
        gib = float(text)
    except ValueError:
        raise ValueError("Size: a number of GiB, e.g. 10 or 0.5") from None
    if gib <= 0:
        raise ValueError("Size must be above zero")
    return int(gib * GIB)


@dataclass(frozen=True)
class DiskRequest:
    new_volume: bool
    pool: str = ""
    volume: str = ""
    size_bytes: int = 0
    fmt: str = "qcow2"
    path: str = ""
    bus: str = "virtio"
    cache: str = ""


class AddDiskScreen(FormScreen[DiskRequest]):
    confirm_label = "Add"

    def __init__(self, title: Text, pools: list[str], volume_name: str) -> None:
        super().__init__(title)
        self.pools = pools
        self.volume_name = volume_name

    def fields(self) -> ComposeResult:
        with RadioSet(id="disk-kind", compact=True):
            yield RadioButton("New volume in a pool", value=bool(self.pools), id="disk-new")
            yield RadioButton("Existing path", value=not self.pools, id="disk-existing")
        if self.pools:
            yield field("Pool", _select(self.pools, self.pools[0], "disk-pool"))
        else:
            yield Static(Text("No active storage pool: attach an existing path."))
        yield field("Volume name", Input(self.volume_name, id="disk-volume", compact=True))
        yield field("Size GiB", Input("1", id="disk-size", compact=True))
        yield field("Format", _select(("qcow2", "raw"), "qcow2", "disk-format"))
        yield field(
            "Path",
            Input(placeholder="/var/lib/libvirt/images/x.qcow2", id="disk-path", compact=True),
        )
        yield field("Bus", _select(DISK_BUSES, "virtio", "disk-bus"))
        yield field("Cache", _select(CACHE_MODES, "", "disk-cache"))

    def on_mount(self) -> None:
        super().on_mount()
        self._toggle(self.query_one("#disk-new", RadioButton).value)

    @on(RadioSet.Changed, "#disk-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self._toggle(event.pressed.id == "disk-new")

    def _toggle(self, new_volume: bool) -> None:
        for selector in ("#disk-volume", "#disk-size"):
            self.query_one(selector).disabled = not new_volume
        self.query_one("#disk-path").disabled = new_volume

    def collect(self) -> DiskRequest:
        new = self.query_one("#disk-new", RadioButton).value
        bus = str(self.select_value("#disk-bus"))
        cache = str(self.select_value("#disk-cache") or "")
        fmt = str(self.select_value("#disk-format"))
        if new:
            if not self.pools:
                raise ValueError("No storage pool to create a volume in")
            volume = self.value_of("#disk-volume")
            if not volume or "/" in volume:
                raise ValueError("Volume name: a file name, without /")
            return DiskRequest(
                True,
                str(self.select_value("#disk-pool")),
                volume,
                _size_bytes(self.value_of("#disk-size")),
                fmt,
                bus=bus,
                cache=cache,
            )
        path = self.value_of("#disk-path")
        if not path.startswith("/"):
            raise ValueError("Path: an absolute path on the libvirt host")
        return DiskRequest(False, path=path, fmt=fmt, bus=bus, cache=cache)


class AddCdromScreen(FormScreen[tuple[str, str]]):
    """Returns (bus, image path or "")."""

    confirm_label = "Add"

    def __init__(self, title: Text, active: bool) -> None:
        super().__init__(title)
        self.active = active

    def fields(self) -> ComposeResult:
        yield field("Bus", _select(CDROM_BUSES, "sata", "cdrom-bus"))
        yield field(
            "Image",
            Input(placeholder="empty drive, or /path/to.iso", id="cdrom-path", compact=True),
        )
        if self.active:
            yield Static(
                Text("SATA/IDE drives cannot be hot-plugged: they appear at the next boot."),
                classes="dialog-hint",
            )

    def collect(self) -> tuple[str, str]:
        return str(self.select_value("#cdrom-bus")), self.value_of("#cdrom-path")


class MediaScreen(FormScreen[tuple[str, str]]):
    """Insert media: returns (drive target, image path)."""

    confirm_label = "Insert"

    def __init__(self, title: Text, drives: list[tuple[str, str]]) -> None:
        """`drives`: (target, label)."""
        super().__init__(title)
        self.drives = drives

    def fields(self) -> ComposeResult:
        yield field(
            "Drive",
            Select(
                [(plain(label), t) for t, label in self.drives],
                value=self.drives[0][0],
                allow_blank=False,
                id="media-drive",
                compact=True,
            ),
        )
        yield field("Image", Input(placeholder="/path/to.iso", id="media-path", compact=True))

    def collect(self) -> tuple[str, str]:
        path = self.value_of("#media-path")
        if not path.startswith("/"):
            raise ValueError("Image: an absolute path on the libvirt host")
        return str(self.select_value("#media-drive")), path


@dataclass(frozen=True)
class NicRequest:
    network: str = ""
    bridge: str = ""
    model: str = "virtio"


class AddNicScreen(FormScreen[NicRequest]):
    confirm_label = "Add"

    def __init__(self, title: Text, networks: list[str]) -> None:
        super().__init__(title)
        self.networks = networks

    def fields(self) -> ComposeResult:
        with RadioSet(id="nic-kind", compact=True):
            yield RadioButton("Virtual network", value=bool(self.networks), id="nic-network")
            yield RadioButton("Host bridge", value=not self.networks, id="nic-bridge")
        if self.networks:
            yield field("Network", _select(self.networks, self.networks[0], "nic-network-name"))
        yield field("Bridge", Input(placeholder="br0", id="nic-bridge-name", compact=True))
        yield field("Model", _select(NIC_MODELS, "virtio", "nic-model"))

    def collect(self) -> NicRequest:
        model = str(self.select_value("#nic-model"))
        if self.networks and self.query_one("#nic-network", RadioButton).value:
            return NicRequest(network=str(self.select_value("#nic-network-name")), model=model)
        bridge = self.value_of("#nic-bridge-name")
        if not bridge:
            raise ValueError("Bridge: the name of a host bridge, e.g. br0")
        return NicRequest(bridge=bridge, model=model)


@dataclass(frozen=True)
class GraphicsRequest:
    kind: str
    listen: str
    password: str


class AddGraphicsScreen(FormScreen[GraphicsRequest]):
    confirm_label = "Add"

    def fields(self) -> ComposeResult:
        yield field("Type", _select(GRAPHICS_TYPES, "vnc", "gfx-type"))
        yield field("Listen", Input("127.0.0.1", id="gfx-listen", compact=True))
        yield field(
            "Password", Input(password=True, placeholder="none", id="gfx-password", compact=True)
        )
        yield Static(
            Text("Listening beyond 127.0.0.1 exposes the display to the network."),
            classes="dialog-hint",
        )

    def collect(self) -> GraphicsRequest:
        listen = self.value_of("#gfx-listen")
        if not listen:
            raise ValueError("Listen: an address, e.g. 127.0.0.1")
        return GraphicsRequest(
            str(self.select_value("#gfx-type")),
            listen,
            self.query_one("#gfx-password", Input).value,
        )
