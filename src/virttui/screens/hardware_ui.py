"""Edit menu entries that add and remove hardware: disk, CD-ROM drive and media, NIC, serial
console, graphics. Removing asks first, naming the device and the domain (Cancel default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libvirt

from virttui.core import domain_devices as D
from virttui.core.action_result import Applied
from virttui.core.domain_model import DomainDetails
from virttui.core.safe_text import visible
from virttui.screens.action_dialogs import PickScreen
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
from virttui.screens.ui_jobs import apply_and_report, confirm, dialog_title, run_job

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp


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

        apply_and_report(app, uri, uuid, "Add disk", d.name, job)

    def ask(pools: list[str]) -> None:
        volume = f"{visible(d.name)}-disk{len(d.disks) + 1}.qcow2"
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
        apply_and_report(
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

        apply_and_report(app, uri, uuid, "Add CD-ROM", d.name, job)

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
            apply_and_report(
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
            apply_and_report(
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
        apply_and_report(
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
            apply_and_report(
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
        apply_and_report(
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
    apply_and_report(
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
        apply_and_report(
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
            apply_and_report(
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
        apply_and_report(
            app,
            uri,
            uuid,
            "Remove graphics",
            d.name,
            lambda dom: [f"{kind}: " + _where(D.remove_graphics(dom, kind))],
        )

    _pick_then_confirm(app, "graphics", d.name, items, "Its display goes away.", go)
