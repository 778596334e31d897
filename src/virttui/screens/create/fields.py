"""Where each `CreateSpec` field path lives in the wizard: (step, widget id).

`spec.validate()`, `HostFacade.create_check` and the runner's `CreateFailed.field` name fields by
path (``"name"``, ``"disks[1].bus"``, ``"nics[0].mac"``, ``"graphics.port"``); `locate(path)`
says which step and which widget show the message. Disk paths also give the disk's index (the
disks step edits one disk at a time). No Textual here: tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STEPS: tuple[str, ...] = (
    "Name & OS",
    "Install",
    "Resources",
    "Disks",
    "Network",
    "Display",
    "Summary",
)
SUMMARY_STEP = len(STEPS) - 1

_DISK = re.compile(r"^disks\[(\d+)\](?:\.(.*))?$")
_NIC = re.compile(r"^nics\[(\d+)\](?:\.(.*))?$")

# field path -> (step index, widget id)
_FIELDS: dict[str, tuple[int, str]] = {
    "name": (0, "f-name"),
    "os_variant": (0, "f-os"),
    "domain_type": (0, "f-os"),
    "arch": (2, "f-machine"),
    "install": (1, "f-install"),
    "install.iso_path": (1, "f-iso_path"),
    "install.pool": (1, "f-iso_volume"),
    "install.volume": (1, "f-iso_volume"),
    "install.location": (1, "f-location"),
    "install.extra_args": (1, "f-extra_args"),
    "install.cmdline": (1, "f-cmdline"),
    "install.base_image": (1, "f-base_image"),
    "uploads": (1, "f-install"),
    # cloud-init seed fields (cloudinit.SeedError.field names them without a prefix)
    "hostname": (1, "f-hostname"),
    "user": (1, "f-user"),
    "password": (1, "f-password"),
    "ssh_keys": (1, "f-ssh_keys"),
    "packages": (1, "f-packages"),
    "install.seed": (1, "f-hostname"),
    # ... and as spec paths (core/create/seed.seed_problems, the host check, the runner)
    "install.seed.hostname": (1, "f-hostname"),
    "install.seed.user": (1, "f-user"),
    "install.seed.password_hash": (1, "f-password"),
    "install.seed.password": (1, "f-password"),
    "install.seed.ssh_keys": (1, "f-ssh_keys"),
    "install.seed.packages": (1, "f-packages"),
    "install.seed.sudo": (1, "f-sudo"),
    "install.seed.ssh_password_login": (1, "f-ssh_password_login"),
    "install.seed.extra_user_data": (1, "f-extra_user_data"),
    "install.seed.network_config": (1, "f-network_config"),
    "memory_bytes": (2, "f-memory"),
    "max_memory_bytes": (2, "f-max_memory"),
    "vcpus": (2, "f-vcpus"),
    "max_vcpus": (2, "f-max_vcpus"),
    "topology": (2, "f-sockets"),
    "cpu": (2, "f-cpu_mode"),
    "cpu.mode": (2, "f-cpu_mode"),
    "cpu.model": (2, "f-cpu_model"),
    "firmware": (2, "f-firmware"),
    "firmware.kind": (2, "f-firmware"),
    "firmware.secure_boot": (2, "f-secure_boot"),
    "machine": (2, "f-machine"),
    "disks": (3, "disk-list"),
    "driver_iso": (3, "f-driver_iso"),
    "cdrom_bus": (3, "f-cdrom_bus"),
    "tpm": (3, "f-tpm"),
    "tpm_model": (3, "f-tpm"),
    "nics": (4, "f-nic"),
    "graphics": (5, "f-graphics"),
    "graphics.type": (5, "f-graphics"),
    "graphics.listen": (5, "f-listen"),
    "graphics.port": (5, "f-port"),
    "graphics.password": (5, "f-gpassword"),
    "graphics.keymap": (5, "f-keymap"),
    "video": (5, "f-graphics"),
    "usb": (5, "f-graphics"),
    "autostart": (5, "f-autostart"),
    "start_after": (5, "f-start_after"),
    "xml": (6, "summary-checks"),
}

# the part of a disk path after "disks[i]." -> widget id in the disk editor
DISK_FIELDS: dict[str, str] = {
    "": "f-d-kind",
    "source": "f-d-kind",
    "device": "f-d-device",
    "bus": "f-d-bus",
    "cache": "f-d-cache",
    "io": "f-d-io",
    "readonly": "f-d-readonly",
    "shareable": "f-d-shareable",
    "format": "f-d-format",
    "source.pool": "f-d-pool",
    "source.name": "f-d-vname",
    "source.size_bytes": "f-d-size",
    "source.format": "f-d-format",
    "source.preallocation": "f-d-prealloc",
    "source.path": "f-d-path",
    "source.volume": "f-d-volume",
    "source.backing": "f-base_image",
}

NIC_FIELDS: dict[str, str] = {
    "": "f-nic",
    "source_type": "f-nic",
    "source": "f-net",
    "model": "f-nic_model",
    "mac": "f-mac",
}


@dataclass(frozen=True)
class Place:
    step: int
    widget: str
    disk: int | None = None  # the disk to select first (disks step)


def locate(path: str, *, install_kind: str = "", nic_source_type: str = "network") -> Place:
    """The step and widget of a field path; unknown paths land on the summary's check list."""
    if path in ("install.kernel", "install.initrd"):
        which = path.split(".")[1]
        prefix = "f-loc_" if install_kind == "location" else "f-"
        return Place(1, f"{prefix}{which}")
    if (m := _DISK.match(path)) is not None:
        rest = m.group(2) or ""
        widget = DISK_FIELDS.get(rest)
        if widget is None:
            widget = DISK_FIELDS.get(rest.split(".")[0], "f-d-kind")
        if widget == "f-base_image":
            return Place(1, widget)
        return Place(3, widget, int(m.group(1)))
    if (m := _NIC.match(path)) is not None:
        rest = m.group(2) or ""
        widget = NIC_FIELDS.get(rest, "f-nic")
        if widget == "f-net" and nic_source_type == "bridge":
            widget = "f-bridge"
        return Place(4, widget)
    if path in _FIELDS:
        step, widget = _FIELDS[path]
        return Place(step, widget)
    bare = re.sub(r"\[\d+\]", "", path)  # install.seed.ssh_keys[1] (a preset's line)
    if bare in _FIELDS:
        step, widget = _FIELDS[bare]
        return Place(step, widget)
    top = path.split(".")[0].split("[")[0]
    if top in _FIELDS:
        step, widget = _FIELDS[top]
        return Place(step, widget)
    return Place(SUMMARY_STEP, "summary-checks")
