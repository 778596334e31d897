"""The "Actions" and "Edit" menus of a domain, as data: which entries apply to which domain.

Pure: decides from a `DomainDetails` snapshot (state, persistence, managed save, devices) which
entries a menu lists, with their hotkey. The UI layer maps entry ids to dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import libvirt

from virttui.core.domain.lifecycle import LIFECYCLE, RUNNING_LIKE, action_allowed
from virttui.core.domain.model import DomainDefinition, DomainDetails

PAUSED = libvirt.VIR_DOMAIN_PAUSED


def _always(_d: DomainDetails) -> bool:
    return True


def _lifecycle(action_id: str) -> Callable[[DomainDetails], bool]:
    return lambda d: action_allowed(LIFECYCLE[action_id], d.state)


def _running_or_paused(d: DomainDetails) -> bool:
    return d.state in (*RUNNING_LIKE, PAUSED)


def _shut_off_persistent(d: DomainDetails) -> bool:
    return d.persistent and not d.active


def _cdroms(d: DomainDetails, *, with_media: bool | None = None) -> bool:
    for disk in d.definition.disks:
        if disk.device != "cdrom":
            continue
        if with_media is None or bool(disk.source_label) == with_media:
            return True
    return False


def _serials(d: DomainDetails) -> bool:
    return any(c.kind == "serial" and c.target_port is not None for c in d.definition.chardevs)


@dataclass(frozen=True)
class MenuEntry:
    id: str
    key: str  # one printable character: pressed in the menu, it runs the entry
    title: str
    help: str
    when: Callable[[DomainDetails], bool] = _always
    title_for: Callable[[DomainDetails], str] | None = None

    def label(self, details: DomainDetails) -> str:
        return self.title_for(details) if self.title_for is not None else self.title


def _pause_title(d: DomainDetails) -> str:
    return "Resume" if d.state == PAUSED else "Pause"


def _autostart_title(d: DomainDetails) -> str:
    return "Autostart: turn off" if d.autostart else "Autostart: turn on"


ACTION_ENTRIES: tuple[MenuEntry, ...] = (
    MenuEntry("start", "s", "Start", "Boot the domain", _lifecycle("start")),
    MenuEntry("shutdown", "h", "Shut down", "ACPI power button", _lifecycle("shutdown")),
    MenuEntry("reboot", "r", "Reboot", "Ask the guest to reboot", _lifecycle("reboot")),
    MenuEntry("pause", "p", "Pause", "Freeze or thaw the vCPUs", _lifecycle("pause"), _pause_title),
    MenuEntry("destroy", "F", "Force off", "Pull the plug (asks first)", _lifecycle("destroy")),
    MenuEntry(
        "reset",
        "x",
        "Reset",
        "Press the reset button: no guest cooperation (asks first)",
        _running_or_paused,
    ),
    MenuEntry(
        "save",
        "v",
        "Save to file...",
        "Write the memory to a file on the host and stop",
        _running_or_paused,
    ),
    MenuEntry(
        "managed_save",
        "M",
        "Managed save",
        "Save and stop; the next start resumes (asks first)",
        lambda d: _running_or_paused(d) and d.persistent,
    ),
    MenuEntry(
        "remove_managed_save",
        "X",
        "Remove managed save",
        "Discard the saved image: the next start boots afresh (asks first)",
        lambda d: bool(d.has_managed_save) and not d.active,
    ),
    MenuEntry(
        "autostart",
        "A",
        "Autostart",
        "Start with the host",
        lambda d: d.persistent and d.autostart is not None,
        _autostart_title,
    ),
    MenuEntry("rename", "n", "Rename...", "New name (shut off only)", _shut_off_persistent),
    MenuEntry(
        "clone",
        "c",
        "Clone...",
        "Copy the definition and its disks (shut off only)",
        lambda d: not d.active,
    ),
    MenuEntry(
        "undefine",
        "U",
        "Undefine...",
        "Remove the definition, optionally its storage",
        lambda d: d.persistent,
    ),
    MenuEntry("restore", "R", "Restore from file...", "Start a domain saved to a file"),
)

EDIT_ENTRIES: tuple[MenuEntry, ...] = (
    MenuEntry("notes", "t", "Title and description...", "The admin's notes"),
    MenuEntry("resources", "m", "Memory and vCPUs...", "Live where the guest allows"),
    MenuEntry("boot", "b", "Boot order...", "hd, cdrom, network, fd", lambda d: d.persistent),
    MenuEntry(
        "cpu", "u", "CPU mode...", "host-passthrough, host-model, ...", lambda d: d.persistent
    ),
    MenuEntry("add_disk", "d", "Add disk...", "New volume in a pool or an existing path"),
    MenuEntry(
        "remove_disk",
        "D",
        "Remove disk...",
        "Detach a disk; its storage is kept",
        lambda d: any(x.device in ("disk", "lun") for x in d.definition.disks),
    ),
    MenuEntry("add_cdrom", "o", "Add CD-ROM drive...", "Empty or with an image"),
    MenuEntry(
        "insert_media", "i", "Insert CD-ROM media...", "Change the image in a drive", _cdroms
    ),
    MenuEntry(
        "eject_media",
        "j",
        "Eject CD-ROM media...",
        "Empty a drive",
        lambda d: _cdroms(d, with_media=True),
    ),
    MenuEntry(
        "remove_cdrom",
        "O",
        "Remove CD-ROM drive...",
        "Detach a drive",
        lambda d: _cdroms(d),
    ),
    MenuEntry("add_nic", "n", "Add network interface...", "Network or bridge, model"),
    MenuEntry(
        "remove_nic",
        "N",
        "Remove network interface...",
        "Detach a NIC",
        lambda d: bool(d.definition.nics),
    ),
    MenuEntry("add_serial", "l", "Add serial console", "A pty serial port"),
    MenuEntry("remove_serial", "L", "Remove serial console...", "Detach a serial port", _serials),
    MenuEntry("add_graphics", "g", "Add graphics...", "VNC or SPICE (one of each)"),
    MenuEntry(
        "edit_graphics",
        "y",
        "Edit graphics...",
        "Listen address, port, password, keymap",
        lambda d: bool(d.definition.graphics) and d.persistent,
    ),
    MenuEntry(
        "remove_graphics",
        "G",
        "Remove graphics...",
        "Detach a display",
        lambda d: bool(d.definition.graphics),
    ),
)


def entries_for(entries: tuple[MenuEntry, ...], details: DomainDetails) -> list[MenuEntry]:
    """The entries that apply to this domain now, in menu order."""
    return [e for e in entries if e.when(details)]


def entry(entries: tuple[MenuEntry, ...], entry_id: str) -> MenuEntry:
    return next(e for e in entries if e.id == entry_id)


def merge_devices(live: DomainDefinition, config: DomainDefinition) -> DomainDefinition:
    """The running definition plus the devices only the persistent config has (added for the
    next boot), so the Edit menu can also remove or change those."""
    disks = {d.target for d in live.disks}
    macs = {n.mac.lower() for n in live.nics}
    kinds = {g.type for g in live.graphics}
    chars = {(c.kind, c.target_port) for c in live.chardevs}
    return replace(
        live,
        disks=live.disks + tuple(d for d in config.disks if d.target not in disks),
        nics=live.nics + tuple(n for n in config.nics if n.mac.lower() not in macs),
        graphics=live.graphics + tuple(g for g in config.graphics if g.type not in kinds),
        chardevs=live.chardevs
        + tuple(c for c in config.chardevs if (c.kind, c.target_port) not in chars),
    )
