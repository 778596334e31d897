"""Edit menu entries that add and remove hardware: disk, CD-ROM drive and media, NIC, serial
console, graphics. Removing asks first, naming the device and the domain (Cancel default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import libvirt
from rich.text import Text

from virttui.core.common.safe_text import visible
from virttui.core.domain import devices as D
from virttui.core.domain import edit_checks as E
from virttui.core.domain.action_result import Applied
from virttui.core.domain.model import DomainDetails
from virttui.core.storage.image_format import FormatGuess, detect_format
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job
from virttui.screens.common.ui_jobs import apply_and_report, confirm, dialog_title
from virttui.screens.domain.action_dialogs import PickScreen
from virttui.screens.domain.edit_dialogs import FormScreen
from virttui.screens.domain.hardware_dialogs import (
    DETECT,
    AddCdromScreen,
    AddDiskScreen,
    AddGraphicsScreen,
    AddNicScreen,
    DiskRequest,
    EditGraphicsScreen,
    GraphicsEdit,
    GraphicsRequest,
    MediaScreen,
    NicRequest,
)

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp

V = TypeVar("V")
HostCheck = Callable[[libvirt.virConnect, libvirt.virDomain, bool, V], list[E.Finding]]

REMOTE_NOTE = (
    "Remote host: disk paths are checked only against its storage pools, bridges only where "
    "its libvirt has an interface API; what could not be checked is said, not refused."
)


def _pools(conn: libvirt.virConnect) -> list[str]:
    return sorted(
        p.name() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
    )


def _networks(conn: libvirt.virConnect) -> dict[str, bool]:
    """Every network of the host, name -> active (an inactive one can be started from the form)."""
    return {n.name(): bool(n.isActive()) for n in conn.listAllNetworks(0)}


def with_host_checks(
    app: VirtTUIApp, uri: str, uuid: str, form: FormScreen[Any], check: HostCheck[Any]
) -> FormScreen[Any]:
    """Give `form` a checker running `check(conn, dom, local, value)` in a worker before the form
    closes, and a network starter; says up front what a remote host cannot check."""
    host = app.hosts.get(uri)
    uri_local = bool(host is not None and host.is_local)

    def checker(
        value: Any,
        done: Callable[[list[E.Finding]], None],
        failed: Callable[[str], None],
    ) -> None:
        def job(conn: libvirt.virConnect) -> list[E.Finding]:
            local = E.checks_host_directly(conn, uri_local)
            return check(conn, conn.lookupByUUIDString(uuid), local, value)

        host_job(app, uri, "Check against the host", job, done, failed=failed, mutating=False)

    def start(network: str, done: Callable[[str | None], None]) -> None:
        host_job(
            app,
            uri,
            f"Start network {network}",
            lambda conn: E.start_network(conn, network),
            lambda _result: done(None),
            failed=done,
        )

    form.checker = checker
    form.network_starter = start
    if not uri_local:
        form.host_note = REMOTE_NOTE
    return form


def report_unchecked(form: FormScreen[Any], lines: list[str]) -> list[str]:
    """The result lines plus what the host could not check."""
    return [*lines, *(f"not checked: {visible(m)}" for m in form.not_checked)]


def _check_disk(
    conn: libvirt.virConnect, _dom: libvirt.virDomain, local: bool, req: DiskRequest
) -> list[E.Finding]:
    return [] if req.new_volume else E.check_disk_path(conn, req.path, local)


def _check_nic(
    conn: libvirt.virConnect, dom: libvirt.virDomain, local: bool, req: NicRequest
) -> list[E.Finding]:
    return E.check_nic(conn, dom, network=req.network, bridge=req.bridge, mac=req.mac, local=local)


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
                # An existing image: the format the dialog's probe showed, else probe now;
                # never qcow2 by assumption.
                fmt, detected = req.fmt, ""
                if fmt == DETECT:
                    guess = detect_format(dom.connect(), req.path)
                    fmt, detected = guess.format, f", format {guess.describe()}"
                applied, target = D.add_disk_path(
                    dom,
                    req.path,
                    bus=req.bus,
                    cache=req.cache,
                    fmt=fmt,
                    config_only=form.forced,
                )
                path = f"{req.path}{detected}"
            return report_unchecked(form, [f"{target} ({path}): {_where(applied)}"])

        apply_and_report(app, uri, uuid, "Add disk", d.name, job)

    def probe(path: str) -> FormatGuess:
        """Runs in the dialog's worker thread, through the host's connection."""
        return app.hosts[uri].call(lambda conn: detect_format(conn, path))

    form: FormScreen[Any]

    def ask(pools: list[str]) -> None:
        nonlocal form
        volume = f"{visible(d.name)}-disk{len(d.disks) + 1}.qcow2"
        form = with_host_checks(
            app,
            uri,
            uuid,
            AddDiskScreen(dialog_title("Add disk", d.name), pools, volume, probe),
            _check_disk,
        )
        app.push_screen(form, answered)

    host_job(app, uri, "Add disk", _pools, ask, mutating=False)


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


def _check_image(
    conn: libvirt.virConnect, _dom: libvirt.virDomain, local: bool, value: tuple[str, str]
) -> list[E.Finding]:
    """(bus or drive, image path): an empty drive needs no image."""
    return E.check_disk_path(conn, value[1], local) if value[1] else []


def add_cdrom(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        bus, path = result
        forced = form.forced

        def job(dom: libvirt.virDomain) -> list[str]:
            applied, target = D.add_cdrom(dom, bus=bus, path=path, config_only=forced)
            return report_unchecked(form, [f"CD-ROM {target}: {_where(applied)}"])

        apply_and_report(app, uri, uuid, "Add CD-ROM", d.name, job)

    form = with_host_checks(
        app,
        uri,
        uuid,
        AddCdromScreen(dialog_title("Add CD-ROM drive", d.name), details.active),
        _check_image,
    )
    app.push_screen(form, answered)


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
            forced = form.forced

            def job(dom: libvirt.virDomain) -> list[str]:
                applied = D.insert_media(dom, target, path, config_only=forced)
                return report_unchecked(form, [f"{target} <- {path}: " + _where(applied)])

            apply_and_report(app, uri, uuid, "Insert media", d.name, job)

    form = with_host_checks(
        app,
        uri,
        uuid,
        MediaScreen(dialog_title("Insert media", d.name), _cdrom_items(details)),
        _check_image,
    )
    app.push_screen(form, answered)


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

    form: FormScreen[Any]

    def answered(req: NicRequest | None) -> None:
        if req is not None:
            source = req.network or req.bridge

            def job(dom: libvirt.virDomain) -> list[str]:
                applied = D.add_nic(
                    dom,
                    network=req.network,
                    bridge=req.bridge,
                    model=req.model,
                    mac=req.mac,
                    config_only=form.forced,
                )
                return report_unchecked(form, [f"{req.model} on {source}: " + _where(applied)])

            apply_and_report(app, uri, uuid, "Add NIC", d.name, job)

    def ask(networks: dict[str, bool]) -> None:
        nonlocal form
        inactive = frozenset(n for n, active in networks.items() if not active)
        title = dialog_title("Add network interface", d.name)
        form = with_host_checks(
            app, uri, uuid, AddNicScreen(title, sorted(networks), inactive), _check_nic
        )
        app.push_screen(form, answered)

    host_job(app, uri, "Add NIC", _networks, ask, mutating=False)


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


def _read_displays(
    app: VirtTUIApp, uri: str, uuid: str, title: str, then: Callable[[list[D.Display]], None]
) -> None:
    host_job(
        app,
        uri,
        title,
        lambda c: D.list_displays(c.lookupByUUIDString(uuid)),
        then,
        mutating=False,
    )


def add_graphics(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    """Add VNC or SPICE. QEMU runs one display per type: asking for a second one of a type
    offers to edit the existing one instead (the core refuses the duplicate anyway)."""
    d = details.definition

    def ask(displays: list[D.Display]) -> None:
        def answered(req: GraphicsRequest | None) -> None:
            if req is None:
                return
            existing = next((x for x in displays if x.type == req.kind), None)
            if existing is not None:
                _offer_edit(app, uri, uuid, d.name, existing, req)
                return
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

        app.push_screen(AddGraphicsScreen(dialog_title("Add graphics", d.name), displays), answered)

    _read_displays(app, uri, uuid, "Add graphics", ask)


def _offer_edit(
    app: VirtTUIApp, uri: str, uuid: str, name: str, existing: D.Display, req: GraphicsRequest
) -> None:
    question = Text()
    question.append(name)
    question.append(f" already has a {existing.type.upper()} display ({existing.summary()})")
    question.append("; QEMU runs one display per type.\n\n")
    question.append("Edit that display instead?", style="bold")

    def answered(ok: bool | None) -> None:
        if ok:
            _edit_form(app, uri, uuid, name, existing, listen=req.listen, password=req.password)

    app.push_screen(ConfirmScreen(question, confirm_label="Edit it"), answered)


def _edit_form(
    app: VirtTUIApp,
    uri: str,
    uuid: str,
    name: str,
    display: D.Display,
    *,
    listen: str = "",
    password: str = "",
) -> None:
    def answered(change: GraphicsEdit | None) -> None:
        if change is None:
            return
        apply_and_report(
            app,
            uri,
            uuid,
            "Edit graphics",
            name,
            lambda dom: [
                f"{display.type.upper()} display: "
                + _where(
                    D.edit_graphics(
                        dom,
                        display,
                        listen=change.listen,
                        port=change.port,
                        password=change.password,
                        keymap=change.keymap,
                    )
                )
            ],
        )

    title = dialog_title(f"Edit {display.type.upper()} display", name)
    app.push_screen(EditGraphicsScreen(title, display, listen=listen, password=password), answered)


def _display_items(displays: list[D.Display]) -> list[tuple[str, str]]:
    return [(str(x.index), x.label()) for x in displays]


def edit_graphics(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def pick(displays: list[D.Display]) -> None:
        by_index = {str(x.index): x for x in displays}
        if len(displays) == 1:
            _edit_form(app, uri, uuid, name, displays[0])
            return

        def picked(item: str | None) -> None:
            if item is not None:
                _edit_form(app, uri, uuid, name, by_index[item])

        app.push_screen(
            PickScreen(dialog_title("Edit graphics", name), _display_items(displays)), picked
        )

    _read_displays(app, uri, uuid, "Edit graphics", pick)


def remove_graphics(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
    """Pick one display by type, listen address and port; exactly that one is removed."""
    name = details.definition.name

    def pick(displays: list[D.Display]) -> None:
        by_index = {str(x.index): x for x in displays}

        def go(item: str) -> None:
            display = by_index[item]
            apply_and_report(
                app,
                uri,
                uuid,
                "Remove graphics",
                name,
                lambda dom: [f"{display.label()}: " + _where(D.remove_graphics(dom, display))],
            )

        _pick_then_confirm(
            app, "graphics", name, _display_items(displays), "Its display goes away.", go
        )

    _read_displays(app, uri, uuid, "Remove graphics", pick)
