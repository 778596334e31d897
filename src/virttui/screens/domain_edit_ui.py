"""The Edit menu (key `e`): notes, memory/vCPUs, boot order, CPU mode and hardware, as functions
of (app, uri, uuid) for the domain list, the details screen and the command palette.

Every change reports where it landed (`Applied.describe()`: live and/or persistent config, and
why a live change was refused). Removing hardware asks first, naming the device and the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import libvirt
from textual.app import SystemCommand

from virttui.core import domain_devices as D
from virttui.core import domain_tuning as T
from virttui.core.action_result import Applied
from virttui.core.domain_info import collect_domain_details, parse_domain_xml
from virttui.core.domain_menu import EDIT_ENTRIES, entries_for, entry, merge_devices
from virttui.core.domain_model import DomainDetails
from virttui.screens.action_dialogs import PickScreen
from virttui.screens.action_menu import ActionMenuScreen
from virttui.screens.domain_actions_ui import menu_rows
from virttui.screens.edit_dialogs import (
    BootOrderScreen,
    CpuModeScreen,
    NotesScreen,
    Resources,
    ResourcesScreen,
)
from virttui.screens.hardware_dialogs import (
    AddCdromScreen,
    AddDiskScreen,
    AddGraphicsScreen,
    AddNicScreen,
    DiskRequest,
    GraphicsRequest,
    MediaScreen,
    NicRequest,
)
from virttui.screens.ui_jobs import confirm, dialog_title, run_job, writable_host

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp

Handler = Callable[["VirtTUIApp", str, str, DomainDetails], None]


def _dom(conn: libvirt.virConnect, uuid: str) -> libvirt.virDomain:
    return conn.lookupByUUIDString(uuid)


def _report(app: VirtTUIApp, title: str, name: str, lines: list[str]) -> None:
    """One notification; an entry that could not go live is a warning, not silence."""
    text = "\n".join([name, *lines])
    severity = "warning" if "not possible live" in text else "information"
    app.notify(text, title=title, severity=severity, markup=False, timeout=10)


def _apply(
    app: VirtTUIApp,
    uri: str,
    uuid: str,
    title: str,
    name: str,
    job: Callable[[libvirt.virDomain], list[str]],
) -> None:
    run_job(
        app,
        uri,
        title,
        lambda c: job(_dom(c, uuid)),
        lambda lines: _report(app, title, name, lines),
    )


# ---------------------------------------------------------------------------------- entry points
def read_for_edit(dom: libvirt.virDomain) -> DomainDetails:
    """Details whose device lists also hold config-only devices of a running domain."""
    details = collect_domain_details(dom, with_disk_usage=False)
    if details.active and details.persistent:
        config = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        details = replace(details, definition=merge_devices(details.definition, config))
    return details


def _with_edit_details(
    app: VirtTUIApp, uri: str, uuid: str, then: Callable[[DomainDetails], None]
) -> None:
    if writable_host(app, uri) is not None:
        run_job(
            app,
            uri,
            "Read the domain",
            lambda c: read_for_edit(_dom(c, uuid)),
            then,
            mutating=False,
        )


def open_edit_menu(app: VirtTUIApp, uri: str, uuid: str) -> None:
    def show(details: DomainDetails) -> None:
        entries = entries_for(EDIT_ENTRIES, details)

        def chosen(entry_id: str | None) -> None:
            if entry_id is not None:
                HANDLERS[entry_id](app, uri, uuid, details)

        title = dialog_title("Edit", details.definition.name)
        app.push_screen(ActionMenuScreen(title, menu_rows(entries, details)), chosen)

    _with_edit_details(app, uri, uuid, show)


def run_edit(app: VirtTUIApp, uri: str, uuid: str, edit_id: str) -> None:
    wanted = entry(EDIT_ENTRIES, edit_id)

    def go(details: DomainDetails) -> None:
        if not wanted.when(details):
            app.notify(
                f"{details.definition.name}: nothing to {wanted.title.rstrip('.')}",
                severity="warning",
                markup=False,
            )
            return
        HANDLERS[edit_id](app, uri, uuid, details)

    _with_edit_details(app, uri, uuid, go)


def edit_commands(app: VirtTUIApp, uri: str, uuid: str) -> Iterator[SystemCommand]:
    yield SystemCommand(
        "Domain: edit menu",
        "Notes, resources and hardware (e)",
        lambda: open_edit_menu(app, uri, uuid),
    )
    for e in EDIT_ENTRIES:
        yield SystemCommand(
            f"Edit: {e.title.rstrip('.')}", e.help, lambda a=e.id: run_edit(app, uri, uuid, a)
        )


# ---------------------------------------------------------------------------------- notes, tuning
def edit_notes(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        title, description = result

        def job(dom: libvirt.virDomain) -> list[str]:
            lines = []
            if title != d.title:
                lines.append("title " + T.set_title(dom, title).describe())
            if description != d.description:
                lines.append("description " + T.set_description(dom, description).describe())
            return lines or ["nothing changed"]

        _apply(app, uri, uuid, "Notes", d.name, job)

    app.push_screen(
        NotesScreen(dialog_title("Title and description", d.name), d.title, d.description), answered
    )


def edit_resources(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(res: Resources | None) -> None:
        if res is None:
            return

        def job(dom: libvirt.virDomain) -> list[str]:
            lines: list[str] = []
            max_kib = res.max_memory_mib * 1024
            max_changed = max_kib != d.memory_max_kib
            if max_changed or res.memory_mib * 1024 != d.memory_current_kib:
                applied = T.set_memory(dom, res.memory_mib * 1024, max_kib if max_changed else None)
                lines.append(f"memory {res.memory_mib} MiB: {applied.describe()}")
            vmax_changed = res.max_vcpus != d.cpu.vcpus_max
            if vmax_changed or res.vcpus != d.cpu.vcpus_current:
                applied = T.set_vcpus(dom, res.vcpus, res.max_vcpus if vmax_changed else None)
                lines.append(f"vCPUs {res.vcpus}: {applied.describe()}")
            return lines or ["nothing changed"]

        _apply(app, uri, uuid, "Memory and vCPUs", d.name, job)

    app.push_screen(
        ResourcesScreen(dialog_title("Memory and vCPUs", d.name), d, details.active), answered
    )


def edit_boot(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    per_device = d.boot_order != d.boot_devices

    def answered(order: tuple[str, ...] | None) -> None:
        if order:
            _apply(
                app,
                uri,
                uuid,
                "Boot order",
                d.name,
                lambda dom: [f"{', '.join(order)}: " + T.set_boot_order(dom, order).describe()],
            )

    app.push_screen(
        BootOrderScreen(dialog_title("Boot order", d.name), d.boot_order, per_device), answered
    )


def edit_cpu(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result:
            mode, model = result
            _apply(
                app,
                uri,
                uuid,
                "CPU mode",
                d.name,
                lambda dom: [
                    f"{mode} {model}".strip() + ": " + T.set_cpu_mode(dom, mode, model).describe()
                ],
            )

    app.push_screen(
        CpuModeScreen(dialog_title("CPU mode", d.name), d.cpu.mode, d.cpu.model), answered
    )


# ---------------------------------------------------------------------------------- hardware
def _names(conn: libvirt.virConnect, kind: str) -> list[str]:
    if kind == "pools":
        return sorted(
            p.name()
            for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        )
    return sorted(n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE))


def _where(applied: Applied) -> str:
    return applied.describe()


def add_disk(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(req: DiskRequest | None) -> None:
        if req is None:
            return

        def job(dom: libvirt.virDomain) -> list[str]:
            if req.new_volume:
                applied, target, path = D.add_disk_new_volume(
                    dom,
                    req.pool,
                    req.volume,
                    req.size_bytes,
                    fmt=req.fmt,
                    bus=req.bus,
                    cache=req.cache,
                )
            else:
                applied, target = D.add_disk_path(
                    dom, req.path, bus=req.bus, cache=req.cache, fmt=req.fmt
                )
                path = req.path
            return [f"{target} ({path}): {_where(applied)}"]

        _apply(app, uri, uuid, "Add disk", d.name, job)

    def ask(pools: list[str]) -> None:
        volume = f"{d.name}-disk{len(d.disks) + 1}.qcow2"
        app.push_screen(AddDiskScreen(dialog_title("Add disk", d.name), pools, volume), answered)

    run_job(app, uri, "Add disk", lambda c: _names(c, "pools"), ask, mutating=False)


def _pick_then_confirm(
    app: VirtTUIApp,
    what: str,
    name: str,
    items: list[tuple[str, str]],
    explanation: str,
    then: Callable[[str], None],
) -> None:
    labels = dict(items)

    def picked(item: str | None) -> None:
        if item is not None:
            confirm(
                app,
                f"Remove {labels[item]} from",
                name,
                explanation,
                lambda: then(item),
                button="Remove",
            )

    app.push_screen(PickScreen(dialog_title(f"Remove {what}", name), items), picked)


def remove_disk(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    items = [(x.target, f"disk {x.target}") for x in d.disks if x.device in ("disk", "lun")]
    paths = {x.target: x.source_label or "no source" for x in d.disks}

    def go(target: str) -> None:
        _apply(
            app,
            uri,
            uuid,
            "Remove disk",
            d.name,
            lambda dom: [f"{target}: " + _where(D.remove_disk(dom, target))],
        )

    items = [(t, f"{label} ({paths[t]})") for t, label in items]
    _pick_then_confirm(app, "disk", d.name, items, "The storage itself is kept.", go)


def add_cdrom(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        bus, path = result

        def job(dom: libvirt.virDomain) -> list[str]:
            applied, target = D.add_cdrom(dom, bus=bus, path=path)
            return [f"CD-ROM {target}: {_where(applied)}"]

        _apply(app, uri, uuid, "Add CD-ROM", d.name, job)

    app.push_screen(
        AddCdromScreen(dialog_title("Add CD-ROM drive", d.name), details.active), answered
    )


def _cdrom_items(
    details: DomainDetails, *, with_media: bool | None = None
) -> list[tuple[str, str]]:
    items = []
    for disk in details.definition.disks:
        if disk.device != "cdrom":
            continue
        if with_media is not None and bool(disk.source_label) != with_media:
            continue
        items.append((disk.target, f"{disk.target} ({disk.source_label or 'empty'})"))
    return items


def insert_media(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result:
            target, path = result
            _apply(
                app,
                uri,
                uuid,
                "Insert media",
                d.name,
                lambda dom: [f"{target} <- {path}: " + _where(D.insert_media(dom, target, path))],
            )

    app.push_screen(
        MediaScreen(dialog_title("Insert media", d.name), _cdrom_items(details)), answered
    )


def eject_media(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def picked(target: str | None) -> None:
        if target:
            _apply(
                app,
                uri,
                uuid,
                "Eject media",
                d.name,
                lambda dom: [f"{target} ejected: " + _where(D.eject_media(dom, target))],
            )

    app.push_screen(
        PickScreen(dialog_title("Eject media", d.name), _cdrom_items(details, with_media=True)),
        picked,
    )


def remove_cdrom(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def go(target: str) -> None:
        _apply(
            app,
            uri,
            uuid,
            "Remove CD-ROM",
            d.name,
            lambda dom: [f"{target}: " + _where(D.remove_disk(dom, target))],
        )

    _pick_then_confirm(
        app, "CD-ROM drive", d.name, _cdrom_items(details), "The image file is kept.", go
    )


def add_nic(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(req: NicRequest | None) -> None:
        if req is not None:
            source = req.network or req.bridge
            _apply(
                app,
                uri,
                uuid,
                "Add NIC",
                d.name,
                lambda dom: [
                    f"{req.model} on {source}: "
                    + _where(
                        D.add_nic(dom, network=req.network, bridge=req.bridge, model=req.model)
                    )
                ],
            )

    def ask(networks: list[str]) -> None:
        app.push_screen(
            AddNicScreen(dialog_title("Add network interface", d.name), networks), answered
        )

    run_job(app, uri, "Add NIC", lambda c: _names(c, "networks"), ask, mutating=False)


def remove_nic(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    items = [(n.mac, f"NIC {n.mac} ({n.model or '?'}, {n.source_label})") for n in d.nics]

    def go(mac: str) -> None:
        _apply(
            app,
            uri,
            uuid,
            "Remove NIC",
            d.name,
            lambda dom: [f"{mac}: " + _where(D.remove_nic(dom, mac))],
        )

    _pick_then_confirm(
        app, "network interface", d.name, items, "The guest loses this network card.", go
    )


def add_serial(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    _apply(
        app,
        uri,
        uuid,
        "Add serial",
        details.definition.name,
        lambda dom: ["serial port: " + _where(D.add_serial(dom))],
    )


def remove_serial(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    ports = sorted(
        {c.target_port for c in d.chardevs if c.kind == "serial" and c.target_port is not None}
    )
    items = [(str(p), f"serial port {p}") for p in ports]

    def go(port: str) -> None:
        _apply(
            app,
            uri,
            uuid,
            "Remove serial",
            d.name,
            lambda dom: [f"port {port}: " + _where(D.remove_serial(dom, int(port)))],
        )

    _pick_then_confirm(app, "serial console", d.name, items, "Its console goes away.", go)


def add_graphics(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(req: GraphicsRequest | None) -> None:
        if req is not None:
            _apply(
                app,
                uri,
                uuid,
                "Add graphics",
                d.name,
                lambda dom: [
                    f"{req.kind} on {req.listen}: "
                    + _where(
                        D.add_graphics(dom, req.kind, listen=req.listen, password=req.password)
                    )
                ],
            )

    app.push_screen(AddGraphicsScreen(dialog_title("Add graphics", d.name)), answered)


def remove_graphics(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    kinds = sorted({g.type for g in d.graphics})
    items = [(k, f"{k} display") for k in kinds]

    def go(kind: str) -> None:
        _apply(
            app,
            uri,
            uuid,
            "Remove graphics",
            d.name,
            lambda dom: [f"{kind}: " + _where(D.remove_graphics(dom, kind))],
        )

    _pick_then_confirm(app, "graphics", d.name, items, "Its display goes away.", go)


HANDLERS: dict[str, Handler] = {
    "notes": edit_notes,
    "resources": edit_resources,
    "boot": edit_boot,
    "cpu": edit_cpu,
    "add_disk": add_disk,
    "remove_disk": remove_disk,
    "add_cdrom": add_cdrom,
    "insert_media": insert_media,
    "eject_media": eject_media,
    "remove_cdrom": remove_cdrom,
    "add_nic": add_nic,
    "remove_nic": remove_nic,
    "add_serial": add_serial,
    "remove_serial": remove_serial,
    "add_graphics": add_graphics,
    "remove_graphics": remove_graphics,
}
