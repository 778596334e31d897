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

from virttui.core import domain_tuning as T
from virttui.core.domain_info import collect_domain_details, parse_domain_xml
from virttui.core.domain_menu import EDIT_ENTRIES, entry, merge_devices
from virttui.core.domain_model import DomainDetails
from virttui.core.safe_text import visible
from virttui.screens.domain_actions_ui import menu_shower
from virttui.screens.edit_dialogs import (
    BootOrderScreen,
    CpuModeScreen,
    NotesScreen,
    Resources,
    ResourcesScreen,
)
from virttui.screens.hardware_ui import (
    add_cdrom,
    add_disk,
    add_graphics,
    add_nic,
    add_serial,
    eject_media,
    insert_media,
    remove_cdrom,
    remove_disk,
    remove_graphics,
    remove_nic,
    remove_serial,
)
from virttui.screens.ui_jobs import apply_and_report, dialog_title, run_job, writable_host

if TYPE_CHECKING:
    from virttui.app import VirtTUIApp

Handler = Callable[["VirtTUIApp", str, str, DomainDetails], None]


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
            lambda c: read_for_edit(c.lookupByUUIDString(uuid)),
            then,
            mutating=False,
        )


def open_edit_menu(app: VirtTUIApp, uri: str, uuid: str) -> None:
    _with_edit_details(app, uri, uuid, menu_shower(app, uri, uuid, "Edit", EDIT_ENTRIES, HANDLERS))


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
    # The fields start with what the screen can show (control characters as escapes); an
    # untouched field is left alone, an edited one replaces the old text, escapes and all.
    shown_title = visible(d.title)
    shown_description = visible(d.description, multiline=True)

    def answered(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        title, description = result

        def job(dom: libvirt.virDomain) -> list[str]:
            lines = []
            if title not in (d.title, shown_title):
                lines.append("title " + T.set_title(dom, title).describe())
            if description not in (d.description, shown_description):
                lines.append("description " + T.set_description(dom, description).describe())
            return lines or ["nothing changed"]

        apply_and_report(app, uri, uuid, "Notes", d.name, job)

    app.push_screen(
        NotesScreen(dialog_title("Title and description", d.name), shown_title, shown_description),
        answered,
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

        apply_and_report(app, uri, uuid, "Memory and vCPUs", d.name, job)

    app.push_screen(
        ResourcesScreen(dialog_title("Memory and vCPUs", d.name), d, details.active), answered
    )


def edit_boot(app: VirtTUIApp, uri: str, uuid: str, details: DomainDetails) -> None:
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
            apply_and_report(
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
