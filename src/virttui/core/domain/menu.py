"""The "Actions" and "Edit" menus of a domain, as data: which entries apply to which domain.

The Actions menu is generated from `action_table.DOMAIN_ACTIONS`; the Edit menu is listed here.

Pure: decides from a `DomainDetails` snapshot (state, persistence, managed save, devices) which
entries a menu lists, with their hotkey. The UI layer maps entry ids to dialogs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from virttui.core.domain.action_table import DOMAIN_ACTIONS, DomainAction, menu_actions
from virttui.core.domain.model import DomainDefinition, DomainDetails


def _always(_d: DomainDetails) -> bool:
    return True


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


def action_menu_entries(table: Iterable[DomainAction] = DOMAIN_ACTIONS) -> tuple[MenuEntry, ...]:
    """The "Actions" menu, generated from the one table of domain actions."""
    return tuple(
        MenuEntry(
            a.id,
            a.menu_key or "",
            a.menu_title or a.title,
            a.menu_help or a.help,
            a.applies,
            a.title_for,
        )
        for a in menu_actions(table)
    )


ACTION_ENTRIES: tuple[MenuEntry, ...] = action_menu_entries()

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
    MenuEntry(
        "live_disk",
        "v",
        "Live disk routes...",
        "Grow, commit, pull or copy a running domain's disk (block jobs)",
        lambda d: d.active and any(x.device == "disk" for x in d.definition.disks),
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
