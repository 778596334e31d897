"""Forms that add hardware: disk, CD-ROM drive, CD-ROM media, NIC, graphics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.timer import Timer
from textual.widgets import Checkbox, Input, RadioButton, RadioSet, Select, Static

from virttui.core.common.units import MAX_DISK_BYTES, parse_size
from virttui.core.domain import edit_checks as E
from virttui.core.domain.device_xml import CACHE_MODES, DISK_BUSES, GRAPHICS_TYPES, NIC_MODELS
from virttui.core.domain.devices import Display
from virttui.core.network.bridges import HostBridges
from virttui.core.storage.image_format import FormatGuess
from virttui.screens.common.jobs import start_job
from virttui.screens.domain.edit_dialogs import FieldError, FormScreen, field
from virttui.widgets.common.plain import plain

GIB = 1024**3
CDROM_BUSES = ("sata", "ide", "scsi", "usb")
# "Detect" for an existing path: the job asks qemu-img (or the pool) when the dialog could not.
DETECT = "detect"
DISK_FORMATS = ("qcow2", "raw")
DEFAULT_IMAGE_DIR = "/var/lib/libvirt/images"  # where a new image file goes unless changed


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
    """GiB typed in the form; inf, nan, negative and absurd sizes are refused in the field."""
    try:
        return parse_size(text, "Size in GiB", unit_bytes=GIB, maximum_bytes=MAX_DISK_BYTES)
    except ValueError as exc:
        raise FieldError("disk-size", str(exc)) from None


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
    new_file: bool = False  # a new image file at `path` (qemu-img create; no pool needed)


class AddDiskScreen(FormScreen[DiskRequest]):
    """New volume (qcow2 by default: we create it), a new image file at a path (qemu-img create,
    for hosts without a pool), or an existing path, whose format defaults to what `probe(path)`
    reports (qemu-img info, or the pool), else raw; never qcow2 unasked."""

    confirm_label = "Add"
    finding_fields = {E.DISK_PATH: "disk-path"}

    def __init__(
        self,
        title: Text,
        pools: list[str],
        volume_name: str,
        probe: Callable[[str], FormatGuess] | None = None,
    ) -> None:
        super().__init__(title)
        self.pools = pools
        self.volume_name = volume_name
        self.probe = probe
        self.guess: FormatGuess | None = None  # the probe's answer for the current path
        self._probe_timer: Timer | None = None
        self._new_volume_format = "qcow2"
        self._showing_new = False  # the format is ours to choose (new volume or new file)
        self._mode = "new" if pools else "existing"

    def fields(self) -> ComposeResult:
        with RadioSet(id="disk-kind", compact=True):
            yield RadioButton("New volume in a pool", value=bool(self.pools), id="disk-new")
            yield RadioButton("New image file at Path", id="disk-new-file")
            yield RadioButton("Existing path", value=not self.pools, id="disk-existing")
        if self.pools:
            yield field("Pool", _select(self.pools, self.pools[0], "disk-pool"))
        else:
            yield Static(
                Text("No active storage pool: attach an existing path, or a new image file.")
            )
        yield field("Volume name", Input(self.volume_name, id="disk-volume", compact=True))
        yield field("Size GiB", Input("1", id="disk-size", compact=True))
        yield field(
            "Format",
            Select(
                [("qcow2", "qcow2"), ("raw", "raw"), ("detect (qemu-img info)", DETECT)],
                value="qcow2" if self.pools else DETECT,
                allow_blank=False,
                id="disk-format",
                compact=True,
            ),
        )
        yield field(
            "Path",
            Input(placeholder="/var/lib/libvirt/images/x.qcow2", id="disk-path", compact=True),
        )
        yield Static(id="disk-format-hint", classes="dialog-hint")
        yield field("Bus", _select(DISK_BUSES, "virtio", "disk-bus"))
        yield field("Cache", _select(CACHE_MODES, "", "disk-cache"))

    def on_mount(self) -> None:
        super().on_mount()
        self._toggle(self._mode)

    @on(RadioSet.Changed, "#disk-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        modes = {"disk-new": "new", "disk-new-file": "file", "disk-existing": "existing"}
        self._toggle(modes.get(event.pressed.id or "", "existing"))

    def _toggle(self, mode: str) -> None:
        """ "new" volume, new "file" at Path, or "existing" path."""
        self._mode = mode
        ours = mode in ("new", "file")
        self.query_one("#disk-volume").disabled = mode != "new"
        self.query_one("#disk-size").disabled = not ours
        self.query_one("#disk-path").disabled = mode == "new"
        fmt = self.query_one("#disk-format", Select)
        if ours:
            if not self._showing_new:
                fmt.value = self._new_volume_format
        else:
            if self._showing_new:
                self._new_volume_format = str(fmt.value)
            fmt.value = self.guess.format if self.guess is not None else DETECT
        self._showing_new = ours
        path = self.query_one("#disk-path", Input)
        if mode == "file" and not path.value.strip():
            path.value = f"{DEFAULT_IMAGE_DIR}/{self.volume_name}"

    @on(Input.Changed, "#disk-path")
    def _path_changed(self, event: Input.Changed) -> None:
        """Ask the probe about the path once typing pauses; until it answers: detect."""
        self.guess = None
        if not self._showing_new:
            self.query_one("#disk-format", Select).value = DETECT
        self.query_one("#disk-format-hint", Static).update("")
        if self._probe_timer is not None:
            self._probe_timer.stop()
        if self._mode == "file":
            return  # a file to be made: nothing to probe
        path = event.value.strip()
        if self.probe is not None and path.startswith("/"):
            self._probe_timer = self.set_timer(0.4, lambda: self._run_probe(path))

    def _run_probe(self, path: str) -> None:
        """Probe in a job (a failed probe just leaves the format to detect); a stale result is
        dropped by `_probed`, and nothing comes back once the dialog is closed."""
        probe = self.probe
        assert probe is not None
        start_job(
            self,
            lambda _ctx: probe(path),
            on_done=lambda done: self._probed(path, done.result),
            cancel_on_close=True,
            group="disk-format-probe",
        )

    def _probed(self, path: str, guess: FormatGuess) -> None:
        if not self.is_mounted or self.query_one("#disk-path", Input).value.strip() != path:
            return  # the path changed meanwhile: a newer probe follows
        self.guess = guess
        fmt = self.query_one("#disk-format", Select)
        if guess.format not in DISK_FORMATS:
            fmt.set_options(
                [
                    ("qcow2", "qcow2"),
                    ("raw", "raw"),
                    ("detect (qemu-img info)", DETECT),
                    (guess.format, guess.format),
                ]
            )
        if not self._showing_new:
            fmt.value = guess.format
        self.query_one("#disk-format-hint", Static).update(Text(f"Format: {guess.describe()}"))

    def collect(self) -> DiskRequest:
        new = self.query_one("#disk-new", RadioButton).value
        new_file = self.query_one("#disk-new-file", RadioButton).value
        bus = str(self.select_value("#disk-bus"))
        cache = str(self.select_value("#disk-cache") or "")
        fmt = str(self.select_value("#disk-format"))
        if new and fmt == DETECT:
            raise ValueError("Format: qcow2 or raw for a new volume")
        if new:
            if not self.pools:
                raise ValueError("No storage pool to create a volume in")
            volume = self.value_of("#disk-volume")
            if not volume or "/" in volume:
                raise FieldError("disk-volume", "Volume name: a file name, without /")
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
            raise FieldError("disk-path", "Path: an absolute path on the libvirt host")
        if new_file:
            if fmt not in DISK_FORMATS:
                raise ValueError("Format: qcow2 or raw for a new image file")
            if path.endswith("/"):
                raise FieldError("disk-path", "Path: the new file's name, not a directory")
            size = _size_bytes(self.value_of("#disk-size"))
            return DiskRequest(
                False, path=path, size_bytes=size, fmt=fmt, bus=bus, cache=cache, new_file=True
            )
        return DiskRequest(False, path=path, fmt=fmt, bus=bus, cache=cache)


class AddCdromScreen(FormScreen[tuple[str, str]]):
    """Returns (bus, image path or "")."""

    confirm_label = "Add"
    finding_fields = {E.DISK_PATH: "cdrom-path"}

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
        path = self.value_of("#cdrom-path")
        if path and not path.startswith("/"):
            raise FieldError("cdrom-path", "Image: an absolute path on the libvirt host")
        return str(self.select_value("#cdrom-bus")), path


class MediaScreen(FormScreen[tuple[str, str]]):
    """Insert media: returns (drive target, image path)."""

    confirm_label = "Insert"
    finding_fields = {E.DISK_PATH: "media-path"}

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
            raise FieldError("media-path", "Image: an absolute path on the libvirt host")
        return str(self.select_value("#media-drive")), path


@dataclass(frozen=True)
class NicRequest:
    network: str = ""
    bridge: str = ""
    model: str = "virtio"
    mac: str = ""  # "" lets libvirt pick one


class AddNicScreen(FormScreen[NicRequest]):
    """A NIC on a libvirt network (every network of the host, with its state: an inactive one is
    offered to be started when Add checks it) or on a host bridge, picked from the host's real
    bridges; a typed bridge name that is not among them always gets a warning."""

    confirm_label = "Add"
    finding_fields = {E.NETWORK: "nic-network-name", E.BRIDGE: "nic-bridge-name", E.MAC: "nic-mac"}

    def __init__(
        self,
        title: Text,
        networks: list[str],
        inactive: frozenset[str] = frozenset(),
        *,
        autostart: frozenset[str] = frozenset(),
        bridges: HostBridges | None = None,
    ) -> None:
        """`networks`: every libvirt network of the host; `inactive`: those not running;
        `autostart`: those started with the host; `bridges`: the host's bridges (None: not
        asked, a typed name is checked only when Add is pressed)."""
        super().__init__(title)
        self.networks = networks
        self.inactive = inactive
        self.autostart = autostart
        self.bridges = bridges

    def network_state(self, name: str) -> str:
        state = "inactive" if name in self.inactive else "active"
        return state + (", autostart" if name in self.autostart else "")

    def fields(self) -> ComposeResult:
        with RadioSet(id="nic-kind", compact=True):
            yield RadioButton("Virtual network", value=bool(self.networks), id="nic-network")
            yield RadioButton("Host bridge", value=not self.networks, id="nic-bridge")
        if self.networks:
            first = next((n for n in self.networks if n not in self.inactive), self.networks[0])
            yield field(
                "Network",
                Select(
                    # The state first: the untrusted name stays last and literal.
                    [(plain(f"({self.network_state(n)}) {n}"), n) for n in self.networks],
                    value=first,
                    allow_blank=False,
                    id="nic-network-name",
                    compact=True,
                ),
            )
            yield Static(id="nic-network-state", classes="dialog-hint")
        else:
            yield Static(Text("This host has no libvirt network: use a host bridge."))
        names = self.bridges.names if self.bridges is not None else ()
        if names:
            yield field(
                "Host bridges",
                Select(
                    [(plain(b), b) for b in names],
                    prompt="pick one",
                    id="nic-bridge-pick",
                    compact=True,
                ),
            )
        yield field("Bridge", Input(placeholder="br0", id="nic-bridge-name", compact=True))
        yield Static(id="nic-bridge-warning", classes="dialog-hint")
        yield field("Model", _select(NIC_MODELS, "virtio", "nic-model"))
        yield field("MAC", Input(placeholder="automatic", id="nic-mac", compact=True))

    def on_mount(self) -> None:
        super().on_mount()
        if self.networks:
            self._show_network_state(str(self.select_value("#nic-network-name")))
        self._show_bridge_warning("")

    def _show_network_state(self, name: str) -> None:
        if name in self.inactive:
            text = (
                f"{name} is inactive: {self.confirm_label} offers to start it, then adds the NIC."
            )
        else:
            text = f"{name}: {self.network_state(name)}."
        self.query_one("#nic-network-state", Static).update(plain(text))

    def bridge_warning(self, name: str) -> str:
        """What to say about the bridge name `name` ("" nothing)."""
        bridges = self.bridges
        if bridges is not None and not bridges.known:
            return (
                f"The host's bridges could not be listed ({bridges.why}): "
                "a typed name cannot be checked."
            )
        if not name or bridges is None or bridges.has(name):
            return ""
        listed = ", ".join(bridges.names) or "none"
        return f"{name} is typed, not one of the host's bridges ({listed}): check the name."

    def _show_bridge_warning(self, name: str) -> None:
        self.query_one("#nic-bridge-warning", Static).update(plain(self.bridge_warning(name)))

    @on(Select.Changed, "#nic-network-name")
    def _network_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self._show_network_state(str(event.value))

    @on(Select.Changed, "#nic-bridge-pick")
    def _bridge_picked(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        self.query_one("#nic-bridge-name", Input).value = str(event.value)
        self.query_one("#nic-bridge", RadioButton).value = True

    @on(Input.Changed, "#nic-bridge-name")
    def _bridge_typed(self, event: Input.Changed) -> None:
        self._show_bridge_warning(event.value.strip())

    def collect(self) -> NicRequest:
        model = str(self.select_value("#nic-model"))
        mac = self.value_of("#nic-mac")
        if self.networks and self.query_one("#nic-network", RadioButton).value:
            network = str(self.select_value("#nic-network-name"))
            return NicRequest(network=network, model=model, mac=mac)
        bridge = self.value_of("#nic-bridge-name")
        if not bridge:
            raise FieldError("nic-bridge-name", "Bridge: the name of a host bridge, e.g. br0")
        return NicRequest(bridge=bridge, model=model, mac=mac)


@dataclass(frozen=True)
class GraphicsRequest:
    kind: str
    listen: str
    password: str


class AddGraphicsScreen(FormScreen[GraphicsRequest]):
    confirm_label = "Add"

    def __init__(self, title: Text, existing: list[Display] | None = None) -> None:
        super().__init__(title)
        self.existing = existing or []

    def fields(self) -> ComposeResult:
        taken = {d.type for d in self.existing}
        free = [t for t in GRAPHICS_TYPES if t not in taken] or list(GRAPHICS_TYPES)
        yield field("Type", _select(GRAPHICS_TYPES, free[0], "gfx-type"))
        yield field("Listen", Input("127.0.0.1", id="gfx-listen", compact=True))
        yield field(
            "Password", Input(password=True, placeholder="none", id="gfx-password", compact=True)
        )
        hint = "Listening beyond 127.0.0.1 exposes the display to the network."
        if self.existing:
            hint += " One display per type; has: " + ", ".join(d.label() for d in self.existing)
        yield Static(Text(hint), classes="dialog-hint")

    def collect(self) -> GraphicsRequest:
        listen = self.value_of("#gfx-listen")
        if not listen:
            raise ValueError("Listen: an address, e.g. 127.0.0.1")
        return GraphicsRequest(
            str(self.select_value("#gfx-type")),
            listen,
            self.query_one("#gfx-password", Input).value,
        )


@dataclass(frozen=True)
class GraphicsEdit:
    listen: str
    port: int | None  # None: autoport
    password: str | None  # None: keep the current one; "": remove it
    keymap: str


class EditGraphicsScreen(FormScreen[GraphicsEdit]):
    """Edit one existing display. The current password is never shown: an empty field keeps
    it, "Remove the password" clears it."""

    confirm_label = "Save"

    def __init__(
        self, title: Text, display: Display, *, listen: str = "", password: str = ""
    ) -> None:
        super().__init__(title)
        self.target = display  # not `display`: that is a Widget style property
        self.listen = listen or display.listen
        self.password = password

    def fields(self) -> ComposeResult:
        d = self.target
        yield Static(Text(f"Display: {d.label()}"))
        yield field("Listen", Input(self.listen, id="gfx-listen", compact=True))
        port = "auto" if d.autoport or d.port is None else str(d.port)
        yield field(
            "Port", Input(port, placeholder="auto or 5900-65535", id="gfx-port", compact=True)
        )
        placeholder = "unchanged (set)" if d.password_set else "none"
        yield field(
            "Password",
            Input(
                self.password,
                password=True,
                placeholder=placeholder,
                id="gfx-password",
                compact=True,
            ),
        )
        yield Checkbox(
            "Remove the password", False, id="gfx-clear-password", disabled=not d.password_set
        )
        yield field("Keymap", Input(d.keymap, placeholder="default", id="gfx-keymap", compact=True))
        yield Static(
            Text("Saved in the configuration: a running domain uses it from its next start."),
            classes="dialog-hint",
        )

    def collect(self) -> GraphicsEdit:
        listen = self.value_of("#gfx-listen")
        if not listen:
            raise ValueError("Listen: an address, e.g. 127.0.0.1")
        port_text = self.value_of("#gfx-port").lower()
        port: int | None = None
        if port_text not in ("", "auto"):
            try:
                port = int(port_text)
            except ValueError:
                raise ValueError("Port: auto, or a number such as 5901") from None
            if not 0 < port < 65536:
                raise ValueError("Port: between 1 and 65535")
        password: str | None = self.query_one("#gfx-password", Input).value or None
        if self.query_one("#gfx-clear-password", Checkbox).value:
            if password:
                raise ValueError("Either type a new password or remove it, not both")
            password = ""
        keymap = self.value_of("#gfx-keymap")
        if keymap and not all(c.isalnum() or c in "-_" for c in keymap):
            raise ValueError("Keymap: a name such as en-us or de")
        return GraphicsEdit(listen, port, password, keymap)
