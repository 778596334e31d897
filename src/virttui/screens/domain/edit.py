"""The Edit menu (key `e`): notes, memory/vCPUs, boot order, CPU mode and hardware, as functions
of (app, uri, uuid) for the domain list, the details screen and the command palette.

Every change reports where it landed (`Applied.describe()`: live and/or persistent config, and
why a live change was refused). Removing hardware asks first, naming the device and the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from textual.app import App, SystemCommand

from virttui.core.common.safe_text import visible
from virttui.core.domain import edit_checks as E
from virttui.core.domain.action_result import FORCED_NOTE
from virttui.core.domain.menu import EDIT_ENTRIES, entry
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostFacade
from virttui.screens.common.jobs import host_job
from virttui.screens.common.ui_jobs import apply_and_report, dialog_title, writable_host
from virttui.screens.domain.actions import menu_shower
from virttui.screens.domain.edit_dialogs import (
    BootOrderScreen,
    CpuModeScreen,
    NotesScreen,
    Resources,
    ResourcesScreen,
)
from virttui.screens.domain.hardware import (
    add_cdrom,
    add_disk,
    add_graphics,
    add_nic,
    add_serial,
    edit_graphics,
    eject_media,
    insert_media,
    remove_cdrom,
    remove_disk,
    remove_graphics,
    remove_nic,
    remove_serial,
    report_unchecked,
    with_host_checks,
)

Handler = Callable[[App[Any], str, str, DomainDetails], None]


# ---------------------------------------------------------------------------------- entry points
def _with_edit_details(
    app: App[Any], uri: str, uuid: str, then: Callable[[DomainDetails], None]
) -> None:
    if writable_host(app, uri) is not None:
        host_job(
            app,
            uri,
            "Read the domain",
            lambda f: f.edit_details(uuid),
            then,
            mutating=False,
        )


def open_edit_menu(app: App[Any], uri: str, uuid: str) -> None:
    _with_edit_details(app, uri, uuid, menu_shower(app, uri, uuid, "Edit", EDIT_ENTRIES, HANDLERS))


def run_edit(app: App[Any], uri: str, uuid: str, edit_id: str) -> None:
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


def edit_commands(app: App[Any], uri: str, uuid: str) -> Iterator[SystemCommand]:
    """The Edit menu's entries (the menu itself is an entry of the domain action table)."""
    for e in EDIT_ENTRIES:
        yield SystemCommand(
            f"Edit: {e.title.rstrip('.')}", e.help, lambda a=e.id: run_edit(app, uri, uuid, a)
        )


# ---------------------------------------------------------------------------------- notes, tuning
def edit_notes(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    # The fields start with what the screen can show (control characters as escapes); an
    # untouched field is left alone, an edited one replaces the old text, escapes and all.
    shown_title = visible(d.title)
    shown_description = visible(d.description, multiline=True)

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        title, description = result

        def job(host: HostFacade) -> list[str]:
            lines = []
            if title not in (d.title, shown_title):
                lines.append("title " + host.set_title(uuid, title).describe())
            if description not in (d.description, shown_description):
                lines.append("description " + host.set_description(uuid, description).describe())
            return lines or ["nothing changed"]

        apply_and_report(app, uri, uuid, "Notes", d.name, job)

    app.push_screen(
        NotesScreen(dialog_title("Title and description", d.name), shown_title, shown_description),
        answered,
    )


def edit_resources(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def changed_memory(res: Resources) -> tuple[int | None, int | None]:
        """(balloon KiB, maximum KiB), None where unchanged: only changes are checked."""
        cur, top = res.memory_mib * 1024, res.max_memory_mib * 1024
        return (
            cur if cur != d.memory_current_kib else None,
            top if top != d.memory_max_kib else None,
        )

    def check(host: HostFacade, _uuid: str, res: Resources) -> list[E.Finding]:
        return host.check_memory(*changed_memory(res))

    def answered(res: Resources | None) -> None:
        if res is None:
            return
        forced = form.forced

        def job(host: HostFacade) -> list[str]:
            lines: list[str] = []
            max_kib = res.max_memory_mib * 1024
            max_changed = max_kib != d.memory_max_kib
            if max_changed or res.memory_mib * 1024 != d.memory_current_kib:
                applied = host.set_memory(
                    uuid,
                    res.memory_mib * 1024,
                    max_kib if max_changed else None,
                    config_only=forced,
                )
                lines.append(f"memory {res.memory_mib} MiB: {applied.describe()}")
            vmax_changed = res.max_vcpus != d.cpu.vcpus_max
            if vmax_changed or res.vcpus != d.cpu.vcpus_current:
                applied = host.set_vcpus(uuid, res.vcpus, res.max_vcpus if vmax_changed else None)
                lines.append(f"vCPUs {res.vcpus}: {applied.describe()}")
            return report_unchecked(form, lines or ["nothing changed"])

        apply_and_report(app, uri, uuid, "Memory and vCPUs", d.name, job)

    form = with_host_checks(
        app,
        uri,
        uuid,
        ResourcesScreen(dialog_title("Memory and vCPUs", d.name), d, details.active),
        check,
    )
    app.push_screen(form, answered)


def edit_boot(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition
    per_device = d.boot_order != d.boot_devices

    def answered(order: tuple[str, ...] | None) -> None:
        if order:
            apply_and_report(
                app,
                uri,
                uuid,
                "Boot order",
                d.name,
                lambda f: [f"{', '.join(order)}: " + f.set_boot_order(uuid, order).describe()],
            )

    app.push_screen(
        BootOrderScreen(dialog_title("Boot order", d.name), d.boot_order, per_device), answered
    )


def edit_cpu(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    d = details.definition

    def check(host: HostFacade, uuid: str, value: tuple[str, str]) -> list[E.Finding]:
        return host.check_cpu_mode(uuid, *value)

    def answered(result: tuple[str, str] | None) -> None:
        if result:
            mode, model = result
            forced = form.forced

            def job(host: HostFacade) -> list[str]:
                where = host.set_cpu_mode(uuid, mode, model).describe()  # config only anyway
                if forced:
                    where += f" ({FORCED_NOTE})"
                return report_unchecked(form, [f"{mode} {model}".strip() + ": " + where])

            apply_and_report(app, uri, uuid, "CPU mode", d.name, job)

    form = with_host_checks(
        app,
        uri,
        uuid,
        CpuModeScreen(dialog_title("CPU mode", d.name), d.cpu.mode, d.cpu.model),
        check,
    )
    app.push_screen(form, answered)


# ---- live
def live_disk_routes(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    """Pick a disk of the running domain, then a live route (screens/storage/live.py)."""
    from virttui.core.domain.blockjobs import ROUTE_TITLES, ROUTES
    from virttui.screens.domain.action_dialogs import PickScreen
    from virttui.screens.storage.live import open_live_route

    d = details.definition
    disks = [
        (x.target, f"{x.target} ({x.source_label or 'no source'})")
        for x in d.disks
        if x.device == "disk"
    ]

    def picked_disk(target: str | None) -> None:
        if target is None:
            return

        def picked_route(route: str | None) -> None:
            if route is not None:
                open_live_route(app, uri, uuid, target, route)

        routes: list[tuple[str, str]] = [(r, ROUTE_TITLES[r]) for r in ROUTES]
        app.push_screen(
            PickScreen(dialog_title(f"Live route for {target}", d.name), routes), picked_route
        )

    if len(disks) == 1:
        picked_disk(disks[0][0])
    else:
        app.push_screen(PickScreen(dialog_title("Live disk routes", d.name), disks), picked_disk)


HANDLERS: dict[str, Handler] = {
    "notes": edit_notes,
    "resources": edit_resources,
    "boot": edit_boot,
    "cpu": edit_cpu,
    "add_disk": add_disk,
    "remove_disk": remove_disk,
    "live_disk": live_disk_routes,
    "add_cdrom": add_cdrom,
    "insert_media": insert_media,
    "eject_media": eject_media,
    "remove_cdrom": remove_cdrom,
    "add_nic": add_nic,
    "remove_nic": remove_nic,
    "add_serial": add_serial,
    "remove_serial": remove_serial,
    "add_graphics": add_graphics,
    "edit_graphics": edit_graphics,
    "remove_graphics": remove_graphics,
}
