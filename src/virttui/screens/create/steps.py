"""The wizard's seven steps as widgets (composition only; the behaviour is in wizard.py).

Every answer widget has the id `f-<field>` and a `#err-f-<field>` line under it, where
`fields.locate` sends the messages of `spec.validate()`, the host check and the runner.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList, Select, Static, TextArea
from textual.widgets.text_area import LanguageDoesNotExist

from virttui.widgets.common.plain import plain
from virttui.widgets.common.ticks import TickBox

INSTALL_METHODS: tuple[tuple[str, str], ...] = (
    ("CD-ROM / ISO image", "cdrom"),
    ("Network install tree (location)", "location"),
    ("PXE boot", "pxe"),
    ("Import an existing disk", "import"),
    ("Direct kernel boot", "kernel"),
    ("Cloud image + cloud-init", "cloud"),
)
CPU_MODES = (
    ("hypervisor default", "default"),
    ("host-passthrough", "host-passthrough"),
    ("host-model (virt-install --cpu host)", "host-model"),
    ("named model", "custom"),
)
BUSES = ("virtio", "sata", "scsi", "ide")
CACHES = ("", "none", "writeback", "writethrough", "directsync", "unsafe")
NIC_MODELS = ("virtio", "e1000", "e1000e", "rtl8139")
PASSWORD_NOTE = "hashed (SHA-512-crypt) before it goes into the seed; never saved in presets"
SERIAL_NOTE = "A serial console (pty) is always added: `v` in the list opens it."
# the cloud-init step's newer answers (core/create/cloudinit.py SeedOptions)
SUDO_NOTE = "the user above may sudo without a password (the image's default user can)"
SSH_PWAUTH_NOTE = "ssh_pwauth: allow password logins over SSH (off: SSH keys only)"
EXTRA_USER_DATA_NOTE = (
    "#cloud-config YAML merged over the generated one (lists appended, mappings merged); "
    "saved in presets as typed"
)
NETWORK_CONFIG_NOTE = "network-config v1/v2 (netplan) YAML; empty: the image's DHCP"


def row(label: str, widget: Widget, name: str, *, note: str = "") -> Vertical:
    parts: list[Widget] = [
        Horizontal(Static(Text(label), classes="cw-label"), widget, classes="cw-field")
    ]
    if note:
        parts.append(Static(plain(note), classes="cw-note"))
    parts.append(Static(id=f"err-{name}", classes="cw-error"))
    return Vertical(*parts, id=f"row-{name}", classes="cw-row")


def select(options: list[tuple[str, str]], wid: str, value: str | None = None) -> Select[str]:
    first = options[0][1] if options else Select.NULL
    chosen = value if value is not None and any(v == value for _l, v in options) else first
    return Select(options, value=chosen, allow_blank=not options, id=wid, compact=True)


def opts(values: tuple[str, ...], blank: str = "default") -> list[tuple[str, str]]:
    return [(v or blank, v) for v in values]


def yaml_area(wid: str) -> TextArea:
    """A multi-line YAML answer: YAML highlighting when tree-sitter-yaml is installed, line
    numbers (the checks name the line), tab leaves the field (indent with spaces)."""
    kw: dict[str, Any] = dict(
        id=wid, compact=True, soft_wrap=False, show_line_numbers=True, classes="cw-yaml"
    )
    try:
        return TextArea(language="yaml", **kw)
    except LanguageDoesNotExist:
        return TextArea(language=None, **kw)


def upload_row(wid: str) -> Vertical:
    """Where the path above names a file (shown on a remote host only): on the host, or on this
    machine, uploaded into a pool (the wizard fills the pools in)."""
    sel: Select[str] = Select(
        [("path on the host", "")], value="", allow_blank=False, id=wid, compact=True
    )
    return row("File is", sel, wid)


def compose_steps() -> ComposeResult:
    """The content of the wizard's ContentSwitcher: one VerticalScroll per step."""
    with VerticalScroll(id="step-0", classes="cw-step"):
        yield row("Name", Input(id="f-name", placeholder="web1", compact=True), "f-name")
        yield row(
            "OS variant",
            Input(id="f-os", placeholder="search: debian, win11, generic", compact=True),
            "f-os",
        )
        yield OptionList(id="os-results", compact=True)
        yield Static(id="os-label", classes="cw-note")
        yield Static(id="f-domain_type", classes="cw-note")
    with VerticalScroll(id="step-1", classes="cw-step"):
        yield row("Method", select(list(INSTALL_METHODS), "f-install", "cdrom"), "f-install")
        with Vertical(id="grp-cdrom", classes="cw-group"):
            yield row(
                "ISO file",
                Input(id="f-iso_path", placeholder="/var/lib/libvirt/boot/x.iso", compact=True),
                "f-iso_path",
            )
            yield upload_row("f-up-iso_path")
            yield row(
                "or volume",
                Input(id="f-iso_volume", placeholder="pool/volume.iso", compact=True),
                "f-iso_volume",
            )
        with Vertical(id="grp-location", classes="cw-group"):
            yield row(
                "Tree",
                Input(id="f-location", placeholder="http://... or /dir", compact=True),
                "f-location",
            )
            yield row(
                "Kernel",
                Input(id="f-loc_kernel", placeholder="images/pxeboot/vmlinuz", compact=True),
                "f-loc_kernel",
            )
            yield row(
                "Initrd",
                Input(id="f-loc_initrd", placeholder="images/pxeboot/initrd.img", compact=True),
                "f-loc_initrd",
            )
            yield row(
                "Extra args",
                Input(id="f-extra_args", placeholder="console=ttyS0", compact=True),
                "f-extra_args",
            )
        with Vertical(id="grp-kernel", classes="cw-group"):
            yield row(
                "Kernel",
                Input(id="f-kernel", placeholder="/boot/vmlinuz", compact=True),
                "f-kernel",
            )
            yield upload_row("f-up-kernel")
            yield row(
                "Initrd",
                Input(id="f-initrd", placeholder="/boot/initrd.img", compact=True),
                "f-initrd",
            )
            yield upload_row("f-up-initrd")
            yield row(
                "Cmdline",
                Input(id="f-cmdline", placeholder="console=ttyS0", compact=True),
                "f-cmdline",
            )
        with Vertical(id="grp-cloud", classes="cw-group"):
            yield row(
                "Cloud image",
                Input(
                    id="f-base_image",
                    placeholder="/var/lib/libvirt/images/debian-12-genericcloud-amd64.qcow2",
                    compact=True,
                ),
                "f-base_image",
            )
            yield upload_row("f-up-base_image")
            yield row(
                "Hostname",
                Input(id="f-hostname", placeholder="from the domain's name", compact=True),
                "f-hostname",
            )
            yield row("User", Input(id="f-user", placeholder="debian", compact=True), "f-user")
            yield row(
                "Password",
                Input(id="f-password", password=True, compact=True),
                "f-password",
                note=PASSWORD_NOTE,
            )
            yield row("SSH keys", TextArea(id="f-ssh_keys", compact=True), "f-ssh_keys")
            yield row(
                "Packages",
                Input(id="f-packages", placeholder="qemu-guest-agent curl", compact=True),
                "f-packages",
            )
            yield row(
                "",
                TickBox("passwordless sudo for the user", value=True, id="f-sudo", compact=True),
                "f-sudo",
                note=SUDO_NOTE,
            )
            yield row(
                "",
                TickBox("SSH password login", id="f-ssh_password_login", compact=True),
                "f-ssh_password_login",
                note=SSH_PWAUTH_NOTE,
            )
            yield row(
                "User-data",
                yaml_area("f-extra_user_data"),
                "f-extra_user_data",
                note=EXTRA_USER_DATA_NOTE,
            )
            yield row(
                "Net config",
                yaml_area("f-network_config"),
                "f-network_config",
                note=NETWORK_CONFIG_NOTE,
            )
        yield Static(id="install-note", classes="cw-note")
    with VerticalScroll(id="step-2", classes="cw-step"):
        yield row("Memory", Input(id="f-memory", placeholder="2G", compact=True), "f-memory")
        yield row(
            "Max memory",
            Input(id="f-max_memory", placeholder="= memory", compact=True),
            "f-max_memory",
        )
        yield row("vCPUs", Input(id="f-vcpus", compact=True), "f-vcpus")
        yield row(
            "Max vCPUs",
            Input(id="f-max_vcpus", placeholder="= vCPUs", compact=True),
            "f-max_vcpus",
        )
        with Horizontal(classes="cw-topology"):
            yield Static("Topology", classes="cw-label")
            yield Input(id="f-sockets", placeholder="sockets", compact=True)
            yield Input(id="f-cores", placeholder="cores", compact=True)
            yield Input(id="f-threads", placeholder="threads", compact=True)
        yield Static(id="err-f-sockets", classes="cw-error")
        yield row("CPU mode", select(list(CPU_MODES), "f-cpu_mode", "default"), "f-cpu_mode")
        yield row("CPU model", Select[str]([], id="f-cpu_model", compact=True), "f-cpu_model")
        yield row(
            "Firmware",
            Select[str](
                [("BIOS", "bios")],
                value="bios",
                allow_blank=False,
                id="f-firmware",
                compact=True,
            ),
            "f-firmware",
        )
        yield Static(id="firmware-note", classes="cw-note")
        yield row(
            "",
            TickBox("UEFI Secure Boot", id="f-secure_boot", compact=True),
            "f-secure_boot",
        )
        yield row("Machine", Select[str]([], id="f-machine", compact=True), "f-machine")
    with VerticalScroll(id="step-3", classes="cw-step"):
        yield OptionList(id="disk-list", compact=True)
        yield Static(id="err-disk-list", classes="cw-error")
        with Horizontal(classes="cw-buttons"):
            yield Button("Add disk", id="disk-add", compact=True)
            yield Button("Add CD-ROM", id="disk-add-cdrom", compact=True)
            yield Button("Remove", id="disk-remove", compact=True)
        with Vertical(id="disk-editor"):
            yield row(
                "Source",
                select(
                    [
                        ("new volume in a pool", "new"),
                        ("existing path", "path"),
                        ("existing pool volume", "volume"),
                    ],
                    "f-d-kind",
                    "new",
                ),
                "f-d-kind",
            )
            yield row("Pool", Select[str]([], id="f-d-pool", compact=True), "f-d-pool")
            yield row("Volume name", Input(id="f-d-vname", compact=True), "f-d-vname")
            yield row("Size", Input(id="f-d-size", placeholder="20G", compact=True), "f-d-size")
            yield row(
                "Format",
                select(opts(("qcow2", "raw")), "f-d-format", "qcow2"),
                "f-d-format",
            )
            yield row(
                "Preallocate",
                select(opts(("off", "metadata", "falloc", "full")), "f-d-prealloc", "off"),
                "f-d-prealloc",
            )
            yield row(
                "Path",
                Input(id="f-d-path", placeholder="/dev/vg/disk or /x.img", compact=True),
                "f-d-path",
            )
            yield upload_row("f-d-up")
            yield row("Volume", Input(id="f-d-volume", compact=True), "f-d-volume")
            yield row(
                "Device",
                select(opts(("disk", "cdrom")), "f-d-device", "disk"),
                "f-d-device",
            )
            yield row("Bus", select(opts(BUSES), "f-d-bus", "virtio"), "f-d-bus")
            yield row("Cache", select(opts(CACHES), "f-d-cache", ""), "f-d-cache")
            yield row("IO", select(opts(("", "native", "threads")), "f-d-io", ""), "f-d-io")
            yield row("", TickBox("read-only", id="f-d-readonly", compact=True), "f-d-readonly")
            yield row("", TickBox("shareable", id="f-d-shareable", compact=True), "f-d-shareable")
        yield row(
            "Driver ISO",
            Input(
                id="f-driver_iso",
                placeholder="second CD-ROM, e.g. virtio-win.iso",
                compact=True,
            ),
            "f-driver_iso",
        )
        yield upload_row("f-up-driver_iso")
        yield row(
            "CD-ROM bus",
            select(opts(("", "sata", "ide", "scsi"), "machine's default"), "f-cdrom_bus", ""),
            "f-cdrom_bus",
        )
        yield row("", TickBox("TPM (emulated, swtpm)", id="f-tpm", compact=True), "f-tpm")
    with VerticalScroll(id="step-4", classes="cw-step"):
        yield row(
            "Connect",
            select(
                [
                    ("virtual network", "network"),
                    ("host bridge", "bridge"),
                    ("no network", "none"),
                ],
                "f-nic",
                "network",
            ),
            "f-nic",
        )
        yield row("Network", Select[str]([], id="f-net", compact=True), "f-net")
        yield Static(id="net-note", classes="cw-note")
        yield row("Bridge", Select[str]([], id="f-bridge", compact=True), "f-bridge")
        yield Static(id="bridge-note", classes="cw-note")
        yield row("Model", select(opts(NIC_MODELS), "f-nic_model", "virtio"), "f-nic_model")
        yield row("MAC", Input(id="f-mac", placeholder="generated", compact=True), "f-mac")
    with VerticalScroll(id="step-5", classes="cw-step"):
        yield row(
            "Graphics",
            select([("VNC", "vnc"), ("SPICE", "spice"), ("none", "none")], "f-graphics", "vnc"),
            "f-graphics",
        )
        yield row(
            "Listen",
            Input(id="f-listen", placeholder="127.0.0.1 (default)", compact=True),
            "f-listen",
        )
        yield row("Port", Input(id="f-port", placeholder="auto", compact=True), "f-port")
        yield row(
            "Password",
            Input(id="f-gpassword", password=True, placeholder="none", compact=True),
            "f-gpassword",
        )
        yield row("Keymap", Input(id="f-keymap", placeholder="en-us", compact=True), "f-keymap")
        yield Static(plain(SERIAL_NOTE), classes="cw-note")
        yield row(
            "",
            TickBox("start at host boot (autostart)", id="f-autostart", compact=True),
            "f-autostart",
        )
        yield row(
            "",
            TickBox("start after creation", value=True, id="f-start_after", compact=True),
            "f-start_after",
        )
    with VerticalScroll(id="step-6", classes="cw-step"):
        yield Static(id="summary-status", classes="cw-note")
        yield OptionList(id="summary-checks", compact=True)
        yield TextArea(id="summary-xml", read_only=True, soft_wrap=True)
        yield Static(id="create-progress", classes="cw-note")
