"""The handlers of the domain action table's dialog entries, as functions of (app, uri, uuid).

The domain list (key `a`), the details screen and the command palette call these. Each reads the
domain's details in a worker, asks what it must (confirmation naming the domain, Cancel default;
a path; a name; the undefine checklist), runs the core call in a worker and notifies libvirt's
own message on failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import App

from virttui.core.common.safe_text import visible
from virttui.core.domain.action_table import LIFECYCLE
from virttui.core.domain.clone import CloneResult, clone_progress_text
from virttui.core.domain.menu import ACTION_ENTRIES, MenuEntry, entries_for, entry
from virttui.core.domain.model import DomainDetails
from virttui.core.domain.undefine import UndefineResult
from virttui.core.facade.host import HostFacade
from virttui.core.host.connection import HostConnection
from virttui.core.jobs import JobContext, JobDone
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job, start_job
from virttui.screens.common.services import services
from virttui.screens.common.ui_jobs import (
    close_screen,
    confirm,
    dialog_title,
    notify_done,
    with_details,
    writable_host,
)
from virttui.screens.common.xml_editor import open_xml_editor
from virttui.screens.domain.action_dialogs import (
    CloneProgressScreen,
    PromptScreen,
    UndefineChoice,
    UndefineFacts,
    UndefineScreen,
)
from virttui.screens.domain.action_menu import ActionMenuScreen
from virttui.screens.domain.virtio import switch_to_virtio

SAVE_DIR = "/var/lib/libvirt/qemu/save"

Handler = Callable[[App[Any], str, str, DomainDetails], None]


def menu_rows(entries: list[MenuEntry], details: DomainDetails) -> list[tuple[str, str, str, str]]:
    return [(e.id, e.key, e.label(details), e.help) for e in entries]


def menu_shower(
    app: App[Any],
    uri: str,
    uuid: str,
    heading: str,
    table: tuple[MenuEntry, ...],
    handlers: dict[str, Handler],
) -> Callable[[DomainDetails], None]:
    """What to do once a domain's details are read: show the entries of `table` that apply now
    and run the chosen one's handler (shared by the Actions and Edit menus)."""

    def show(details: DomainDetails) -> None:
        def chosen(entry_id: str | None) -> None:
            if entry_id is not None:
                handlers[entry_id](app, uri, uuid, details)

        rows = menu_rows(entries_for(table, details), details)
        app.push_screen(
            ActionMenuScreen(dialog_title(heading, details.definition.name), rows), chosen
        )

    return show


# ---------------------------------------------------------------------------------- entry points
def open_actions_menu(app: App[Any], uri: str, uuid: str) -> None:
    """The "Actions" menu: every action that applies to the domain in its current state."""
    if writable_host(app, uri) is not None:
        with_details(
            app, uri, uuid, menu_shower(app, uri, uuid, "Actions", ACTION_ENTRIES, HANDLERS)
        )


def run_domain_action(app: App[Any], uri: str, uuid: str, action_id: str) -> None:
    """Run one action (an id of ACTION_ENTRIES) after checking it applies now."""
    if action_id == "restore":
        restore(app, uri)
        return
    wanted = entry(ACTION_ENTRIES, action_id)

    def go(details: DomainDetails) -> None:
        if not wanted.when(details):
            app.notify(
                f"{details.definition.name}: {wanted.title} does not apply now"
                f" (the domain is {details.state_text})",
                severity="warning",
                markup=False,
            )
            return
        HANDLERS[action_id](app, uri, uuid, details)

    if writable_host(app, uri) is not None:
        with_details(app, uri, uuid, go)


# ---------------------------------------------------------------------------------- handlers
def _lifecycle(action_id: str) -> Handler:
    return lambda app, uri, uuid, _d: services(app).run_lifecycle(action_id, [(uri, uuid)])


def reset(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def go() -> None:
        host_job(
            app,
            uri,
            "Reset",
            lambda f: f.reset(uuid),
            lambda _r: notify_done(app, "Reset", f"{name}: reset"),
        )

    confirm(app, "Reset", name, "Like the reset button: unsaved guest data is lost.", go)


def offer_after_ignored_request(app: App[Any], uri: str, uuid: str, kind: str) -> None:
    """The guest is still running `shutdown_grace` seconds after a shutdown/reboot request:
    say so and offer force off or reset. Nothing happens without the admin's answer; "Keep
    waiting" is first, so Enter or Escape changes nothing."""
    row = services(app).store.row(uri, uuid)
    if row is None or not row.active:
        return
    name = row.name
    grace = services(app).store.shutdowns.grace
    what = "shutdown" if kind == "shutdown" else "reboot"
    title = Text()
    title.append(f"{name}", style="bold")
    title.append(f" ignored the {what} request ({grace:g} s ago); it is still running.\n")
    title.append("Force it? Unsaved guest data is lost.")
    entries = [
        ("wait", "w", "Keep waiting", "Do nothing; the list keeps saying it ignored the request"),
        ("destroy", "f", "Force off", "Pull the plug: unsaved guest data is lost"),
        ("reset", "r", "Reset", "Press the reset button: the guest reboots at once"),
    ]

    def chosen(choice: str | None) -> None:
        if choice == "destroy":
            services(app).run_lifecycle_now("destroy", [(uri, uuid)])
        elif choice == "reset":
            host_job(
                app,
                uri,
                "Reset",
                lambda f: f.reset(uuid),
                lambda _r: _reset_done(app, uri, uuid, name),
            )

    app.notify(
        f"{name} ignored the {what} request for {grace:g} s",
        title="Still running",
        severity="warning",
        markup=False,
    )
    app.push_screen(ActionMenuScreen(title, entries), chosen)


def _reset_done(app: App[Any], uri: str, uuid: str, name: str) -> None:
    services(app).store.shutdowns.forget(uri, uuid)
    notify_done(app, "Reset", f"{name}: reset")


def save(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def run(path: str, overwrite: bool) -> None:
        host_job(
            app,
            uri,
            "Save",
            lambda f: f.save_to_file(uuid, path, overwrite=overwrite),
            lambda _r: notify_done(app, "Saved", f"{name}: saved to {path} and stopped"),
        )

    def checked(path: str, exists: bool | None) -> None:
        """An existing file (or one that cannot be checked) is only replaced after a yes."""
        if exists is False:
            run(path, False)
            return
        question = Text()
        question.append("Overwrite: ", style="bold")
        question.append(path)
        if exists:
            question.append("?\n\nThis file already exists on the libvirt host; saving ")
        else:
            question.append("?\n\nWhether this file exists cannot be checked on this remote host;")
            question.append(" if it does, saving ")
        question.append(name)
        question.append(" replaces it.")

        def answered(ok: bool | None) -> None:
            if ok:
                run(path, True)

        app.push_screen(ConfirmScreen(question, confirm_label="Overwrite"), answered)

    def answered(path: str | None) -> None:
        if path:
            host_job(
                app,
                uri,
                "Save",
                lambda f: f.save_target_exists(path),
                lambda exists: checked(path, exists),
                mutating=False,
            )

    app.push_screen(
        PromptScreen(
            dialog_title("Save to file", name),
            "File on the libvirt host (the domain stops once saved):",
            os.path.join(SAVE_DIR, f"{visible(name)}.save"),
            confirm_label="Save",
            hint="Restore it later with Actions > Restore from file.",
        ),
        answered,
    )


def restore(app: App[Any], uri: str, _uuid: str = "", _details: object = None) -> None:
    """Restore a domain from a file written by save (host-wide: any saved domain)."""

    def answered(path: str | None) -> None:
        if path:
            host_job(
                app,
                uri,
                "Restore",
                lambda f: f.restore_from_file(path),
                lambda name: notify_done(app, "Restored", f"{name}: restored from {path}"),
            )

    app.push_screen(
        PromptScreen(
            dialog_title("Restore from file", uri),
            "Saved image on the libvirt host:",
            SAVE_DIR + "/",
            confirm_label="Restore",
        ),
        answered,
    )


def managed_save(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def go() -> None:
        host_job(
            app,
            uri,
            "Managed save",
            lambda f: f.managed_save(uuid),
            lambda _r: notify_done(app, "Managed save", f"{name}: saved; start resumes it"),
        )

    confirm(app, "Managed save", name, "The domain stops; the next start resumes it.", go)


def remove_managed_save(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def go() -> None:
        host_job(
            app,
            uri,
            "Remove managed save",
            lambda f: f.remove_managed_save(uuid),  # the list re-reads it (no event says so)
            lambda _r: notify_done(app, "Managed save removed", f"{name}: boots afresh"),
        )

    confirm(
        app,
        "Remove managed save",
        name,
        "The saved memory image is deleted: the next start boots afresh.",
        go,
    )


def toggle_autostart(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name
    enable = not details.autostart
    word = "on" if enable else "off"
    host_job(
        app,
        uri,
        "Autostart",
        lambda f: f.set_autostart(uuid, enable),
        lambda _r: notify_done(app, "Autostart", f"{name}: autostart {word}"),
    )


def rename(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    shown = visible(name)  # the field starts with what the screen can show: escapes, not controls

    def answered(new: str | None) -> None:
        if new and new not in (name, shown):
            host_job(
                app,
                uri,
                "Rename",
                lambda f: f.rename(uuid, new),
                lambda got: notify_done(app, "Renamed", f"{name} is now {got}"),
            )

    app.push_screen(
        PromptScreen(dialog_title("Rename", name), "New name:", shown, confirm_label="Rename"),
        answered,
    )


def clone(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def answered(new: str | None) -> None:
        if not new:
            return
        host = writable_host(app, uri)
        if host is None:
            return
        progress = CloneProgressScreen(name, new)
        app.push_screen(progress)

        def run(ctx: JobContext) -> CloneResult:
            def feed(done: int, total: int) -> None:
                ctx.progress(done / total if total else None, clone_progress_text(done, total))

            try:
                return host.clone(uuid, new, progress=feed)
            finally:
                host.refresh_now()

        def finished(done: JobDone) -> None:
            result: CloneResult = done.result
            close_screen(progress)
            lines = [f"{name} cloned to {result.name}"]
            lines += [f"{v.target}: {v.path}" for v in result.volumes]
            notify_done(app, "Cloned", "\n".join(lines))

        job = start_job(
            app,
            run,
            title="Clone",
            on_progress=lambda p: progress.update_progress(p.fraction, p.text),
            on_done=finished,
            on_failed=lambda _m: close_screen(progress),
        )
        progress.on_cancel = lambda: job.cancel(wait=False)

    app.push_screen(
        PromptScreen(
            dialog_title("Clone", name),
            "Name of the copy:",
            f"{visible(name)}-clone",
            confirm_label="Clone",
            hint=(
                "Every writable disk is copied: in its storage pool, or next to it with qemu-img "
                "when it is a file in no pool. MACs and UUID are new."
            ),
        ),
        answered,
    )


def _undefine_facts(
    host: HostFacade, uuid: str, details: DomainDetails, others: list[HostConnection]
) -> UndefineFacts:
    """Blocking (worker): the checklist marks storage that a domain or image on any of `others`
    (the open connections) uses."""
    firmware = details.definition.firmware
    return UndefineFacts(
        name=details.definition.name,
        active=details.active,
        has_managed_save=bool(details.has_managed_save),
        snapshot_count=details.snapshot_count or 0,
        has_nvram=bool(firmware.nvram) or firmware.kind == "efi",
        storage=tuple(host.storage_choices(uuid, others)),
    )


def undefine_domain(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    def ask(facts: UndefineFacts) -> None:
        def answered(choice: UndefineChoice | None) -> None:
            if choice is not None:
                _run_undefine(app, uri, uuid, choice)

        app.push_screen(UndefineScreen(facts), answered)

    others = list(services(app).hosts.values())  # read here, on the UI thread
    host_job(app, uri, "Undefine", lambda f: _undefine_facts(f, uuid, details, others), ask)


def _run_undefine(app: App[Any], uri: str, uuid: str, choice: UndefineChoice) -> None:
    others = list(services(app).hosts.values())

    def job(host: HostFacade) -> UndefineResult:
        return host.undefine(
            uuid,
            managed_save=choice.managed_save,
            snapshots_metadata=choice.snapshots_metadata,
            nvram=choice.nvram,
            delete_volumes=choice.delete_volumes,
            others=others,
        )

    host_job(app, uri, "Undefine", job, lambda result: report_undefine(app, result))


def report_undefine(app: App[Any], result: UndefineResult) -> None:
    lines = [f"{result.name}: undefined"]
    for vol in result.volumes:
        lines.append(f"{vol.path}: " + ("deleted" if vol.ok else f"NOT deleted: {vol.message}"))
    if result.all_ok:
        app.notify("\n".join(lines), title="Undefined", markup=False)
    else:
        app.notify(
            "\n".join(lines),
            title="Undefined; some volumes remain",
            severity="error",
            markup=False,
            timeout=15,
        )


HANDLERS: dict[str, Handler] = {
    **{action_id: _lifecycle(action_id) for action_id in LIFECYCLE},
    "reset": reset,
    "save": save,
    "restore": restore,
    "managed_save": managed_save,
    "remove_managed_save": remove_managed_save,
    "autostart": toggle_autostart,
    "rename": rename,
    "clone": clone,
    "undefine": undefine_domain,
    # ---- xmlvirtio
    "edit_xml": lambda app, uri, uuid, _d: open_xml_editor(app, uri, "domain", uuid),
    "virtio": switch_to_virtio,
}
