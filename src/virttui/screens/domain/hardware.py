"""Edit menu entries that add and remove hardware: disk, CD-ROM drive and media, NIC, serial
console, graphics. Removing asks first, naming the device and the domain (Cancel default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rich.text import Text
from textual.app import App

from virttui.core.common.safe_text import visible
from virttui.core.domain import devices as D
from virttui.core.domain import edit_checks as E
from virttui.core.domain.action_result import Applied
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostFacade
from virttui.core.network.bridges import HostBridges
from virttui.core.network.choices import NetworkChoice
from virttui.core.storage.image_format import FormatGuess
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job
from virttui.screens.common.services import services
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

V = TypeVar("V")
# (the host's facade, the domain's UUID, the form's value) -> findings; runs in a worker.
HostCheck = Callable[[HostFacade, str, V], list[E.Finding]]

REMOTE_NOTE = (
    "Remote host: disk paths are checked only against its storage pools, bridges only where "
    "its libvirt has an interface API; what could not be checked is said, not refused."
)


def with_host_checks(
    app: App[Any], uri: str, uuid: str, form: FormScreen[Any], check: HostCheck[Any]
) -> FormScreen[Any]:
    """Give `form` a checker running `check(facade, uuid, value)` in a worker before the form
    closes, and a network starter; says up front what a remote host cannot check."""
    host = services(app).facade(uri)
    uri_local = bool(host is not None and host.is_local)

    def checker(
        value: Any,
        done: Callable[[list[E.Finding]], None],
        failed: Callable[[str], None],
    ) -> None:
        host_job(
            app,
            uri,
            "Check against the host",
            lambda f: check(f, uuid, value),
            done,
            failed=failed,
            mutating=False,
        )

    def start(network: str, done: Callable[[str | None], None]) -> None:
        host_job(
            app,
            uri,
            f"Start network {network}",
            lambda f: f.start_network(network),
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


def _check_disk(host: HostFacade, _uuid: str, req: DiskRequest) -> list[E.Finding]:
    return [] if req.new_volume or req.new_file else host.check_disk_path(req.path)


def _check_nic(host: HostFacade, uuid: str, req: NicRequest) -> list[E.Finding]:
    return host.check_nic(uuid, network=req.network, bridge=req.bridge, mac=req.mac)


def _where(applied: Applied) -> str:
    return applied.describe()


def add_disk(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(req: DiskRequest | None) -> None:
        if req is None:
            return

        def job(host: HostFacade) -> list[str]:
            if req.new_volume:
                applied, target, path = host.add_disk_new_volume(
                    uuid,
                    req.pool,
                    req.volume,
                    req.size_bytes,
                    fmt=req.fmt,
                    bus=req.bus,
                    cache=req.cache,
                )
            elif req.new_file:
                applied, target, path = host.add_disk_new_file(
                    uuid, req.path, req.size_bytes, fmt=req.fmt, bus=req.bus, cache=req.cache
                )
                path = f"new {req.fmt} file {path}"
            else:
                # An existing image: the format the dialog's probe showed, else probe now;
                # never qcow2 by assumption.
                fmt, detected = req.fmt, ""
                if fmt == DETECT:
                    guess = host.detect_format(req.path)
                    fmt, detected = guess.format, f", format {guess.describe()}"
                applied, target = host.add_disk_path(
                    uuid,
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
        host = services(app).facade(uri)
        if host is None:
            raise LookupError(f"{uri}: no such connection")
        return host.detect_format(path)

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

    host_job(app, uri, "Add disk", HostFacade.active_pools, ask, mutating=False)


def _pick_then_confirm(
    app: App[Any],
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


def remove_disk(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
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
            lambda f: [f"{target}: " + _where(f.remove_disk(uuid, target))],
        )

    items = [(t, f"{label} ({paths[t]})") for t, label in items]
    _pick_then_confirm(app, "disk", d.name, items, "The storage itself is kept.", go)


def _check_image(host: HostFacade, _uuid: str, value: tuple[str, str]) -> list[E.Finding]:
    """(bus or drive, image path): an empty drive needs no image."""
    return host.check_disk_path(value[1]) if value[1] else []


def add_cdrom(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        bus, path = result
        forced = form.forced

        def job(host: HostFacade) -> list[str]:
            applied, target = host.add_cdrom(uuid, bus=bus, path=path, config_only=forced)
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


def insert_media(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def answered(result: tuple[str, str] | None) -> None:
        if result:
            target, path = result
            forced = form.forced

            def job(host: HostFacade) -> list[str]:
                applied = host.insert_media(uuid, target, path, config_only=forced)
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


def eject_media(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def picked(target: str | None) -> None:
        if target:
            apply_and_report(
                app,
                uri,
                uuid,
                "Eject media",
                d.name,
                lambda f: [f"{target} ejected: " + _where(f.eject_media(uuid, target))],
            )

    app.push_screen(
        PickScreen(dialog_title("Eject media", d.name), _cdrom_items(details, with_media=True)),
        picked,
    )


def remove_cdrom(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def go(target: str) -> None:
        apply_and_report(
            app,
            uri,
            uuid,
            "Remove CD-ROM",
            d.name,
            lambda f: [f"{target}: " + _where(f.remove_disk(uuid, target))],
        )

    _pick_then_confirm(
        app, "CD-ROM drive", d.name, _cdrom_items(details), "The image file is kept.", go
    )


def add_nic(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    form: FormScreen[Any]

    def answered(req: NicRequest | None) -> None:
        if req is not None:
            source = req.network or req.bridge

            def job(host: HostFacade) -> list[str]:
                applied = host.add_nic(
                    uuid,
                    network=req.network,
                    bridge=req.bridge,
                    model=req.model,
                    mac=req.mac,
                    config_only=form.forced,
                )
                return report_unchecked(form, [f"{req.model} on {source}: " + _where(applied)])

            apply_and_report(app, uri, uuid, "Add NIC", d.name, job)

    def ask(found: tuple[list[NetworkChoice], HostBridges]) -> None:
        nonlocal form
        networks, bridges = found
        title = dialog_title("Add network interface", d.name)
        screen = AddNicScreen(
            title,
            [n.name for n in networks],
            frozenset(n.name for n in networks if not n.active),
            autostart=frozenset(n.name for n in networks if n.autostart),
            bridges=bridges,
        )
        form = with_host_checks(app, uri, uuid, screen, _check_nic)
        app.push_screen(form, answered)

    host_job(app, uri, "Add NIC", _nic_choices, ask, mutating=False)


def _nic_choices(host: HostFacade) -> tuple[list[NetworkChoice], HostBridges]:
    """Every network with its state, and the host's bridges (one worker, two RPCs)."""
    return host.nic_networks(), host.host_bridges()


def remove_nic(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    items = [(n.mac, f"NIC {n.mac} ({n.model or '?'}, {n.source_label})") for n in d.nics]

    def go(mac: str) -> None:
        apply_and_report(
            app,
            uri,
            uuid,
            "Remove NIC",
            d.name,
            lambda f: [f"{mac}: " + _where(f.remove_nic(uuid, mac))],
        )

    _pick_then_confirm(
        app, "network interface", d.name, items, "The guest loses this network card.", go
    )


def add_serial(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    apply_and_report(
        app,
        uri,
        uuid,
        "Add serial",
        details.definition.name,
        lambda f: ["serial port: " + _where(f.add_serial(uuid))],
    )


def remove_serial(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
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
            lambda f: [f"port {port}: " + _where(f.remove_serial(uuid, int(port)))],
        )

    _pick_then_confirm(app, "serial console", d.name, items, "Its console goes away.", go)


def _read_displays(
    app: App[Any], uri: str, uuid: str, title: str, then: Callable[[list[D.Display]], None]
) -> None:
    host_job(
        app,
        uri,
        title,
        lambda f: f.displays(uuid),
        then,
        mutating=False,
    )


def add_graphics(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
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
                lambda f: [
                    f"{req.kind} on {req.listen}: "
                    + _where(
                        f.add_graphics(uuid, req.kind, listen=req.listen, password=req.password)
                    )
                ],
            )

        app.push_screen(AddGraphicsScreen(dialog_title("Add graphics", d.name), displays), answered)

    _read_displays(app, uri, uuid, "Add graphics", ask)


def _offer_edit(
    app: App[Any], uri: str, uuid: str, name: str, existing: D.Display, req: GraphicsRequest
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
    app: App[Any],
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
            lambda f: [
                f"{display.type.upper()} display: "
                + _where(
                    f.edit_graphics(
                        uuid,
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


def edit_graphics(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
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


def remove_graphics(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
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
                lambda f: [f"{display.label()}: " + _where(f.remove_graphics(uuid, display))],
            )

        _pick_then_confirm(
            app, "graphics", name, _display_items(displays), "Its display goes away.", go
        )

    _read_displays(app, uri, uuid, "Remove graphics", pick)
