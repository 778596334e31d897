""" "Switch to virtio" on a domain: read the plan (core/domain/virtio.py) in a job, show the
changes, the warnings and the diff (plain text) with Cancel as the default, then apply it to the
persistent definition (libvirt's VALIDATE). Nothing to change: says so. A running domain: the
result says it takes effect at next boot.

Entry point: `switch_to_virtio(app, uri, uuid, details)` (the domain action table's `virtio`
entry: Actions menu `V` and the palette).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App

from virttui.core.domain.model import DomainDetails
from virttui.core.domain.virtio import VirtioPlan, VirtioResult
from virttui.screens.common.jobs import host_job
from virttui.screens.common.ui_jobs import notify_done
from virttui.screens.common.xml_editor import DiffScreen
from virttui.widgets.common.plain import append_plain

TITLE = "Switch to virtio"


def plan_lines(plan: VirtioPlan) -> list[tuple[str, str]]:
    """What the dialog says before the diff: the changes, then the warnings and notes."""
    lines: list[tuple[str, str]] = [("Changes (persistent config):", "bold")]
    lines += [(f"  {change}", "") for change in plan.changes]
    lines += [(f"! {warning}", "yellow") for warning in plan.warnings]
    lines += [(note, "bold yellow") for note in plan.notes]
    return lines


def switch_to_virtio(app: App[Any], uri: str, uuid: str, details: DomainDetails) -> None:
    name = details.definition.name

    def show(plan: VirtioPlan) -> None:
        if plan.nothing_to_change:
            notify_done(app, TITLE, f"{name}: nothing to change, every disk and NIC is virtio")
            return
        title = Text(f"{TITLE}: ", style="bold")
        append_plain(title, name, "bold")

        def answered(ok: bool | None) -> None:
            if ok:
                apply(plan)

        app.push_screen(
            DiffScreen(title, plan.diff, lines=plan_lines(plan), confirm_label="Switch"), answered
        )

    def apply(plan: VirtioPlan) -> None:
        host_job(app, uri, TITLE, lambda f: f.switch_to_virtio(uuid, plan), done)

    def done(result: VirtioResult) -> None:
        lines = [f"{result.name}: {len(result.changes)} devices switched to virtio"]
        lines += list(result.changes)
        if result.note:
            lines.append(result.note)
        notify_done(app, TITLE, "\n".join(lines))

    host_job(app, uri, TITLE, lambda f: f.virtio_plan(uuid), show, mutating=False)
