"""Plumbing shared by the domain action and edit dialogs: confirmations, titles, reading a
domain's details before a dialog opens, reporting where a change landed. Jobs themselves run
through `screens/common/jobs.py` (the one job mechanism)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from virttui.core.common.safe_text import visible
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import Severity
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job, writable_host
from virttui.screens.common.services import services
from virttui.widgets.common.plain import append_plain, plain

__all__ = [
    "apply_and_report",
    "close_screen",
    "confirm",
    "dialog_title",
    "notify_done",
    "report_lines",
    "with_details",
    "writable_host",
]


def with_details(
    app: App[Any],
    uri: str,
    uuid: str,
    then: Callable[[DomainDetails], None],
    *,
    mutating: bool = False,
) -> None:
    """Read the domain's details (no disk sizes) in a worker, then call `then` on the UI thread."""
    host_job(
        app,
        uri,
        "Read the domain",
        lambda host: host.details(uuid, with_disk_usage=False),
        then,
        mutating=mutating,
    )


def notify_done(app: App[Any], title: str, text: str) -> None:
    app.notify(text, title=title, markup=False)


def confirm(
    app: App[Any],
    verb: str,
    name: str,
    explanation: str,
    then: Callable[[], None],
    *,
    button: str = "",
) -> None:
    """Ask "<verb>: <name>?" with Cancel as the default button; run `then` on yes."""
    question = Text()
    append_plain(question, f"{verb}: ", "bold")  # may name a device path
    append_plain(question, name)
    question.append("?\n\n")
    append_plain(question, explanation, multiline=True)

    def answered(ok: bool | None) -> None:
        if ok:
            then()

    app.push_screen(ConfirmScreen(question, confirm_label=button or verb), answered)


def dialog_title(action: str, name: str) -> Text:
    text = Text()
    append_plain(text, f"{action}: ", "bold")
    append_plain(text, name)
    return text


def close_screen(screen: Screen[Any]) -> None:
    """Dismiss `screen` when it is on top; else it closes itself when it comes back on top."""
    if screen.is_current:
        screen.dismiss()
    else:
        screen.set_class(True, "-finished")


def report_lines(
    app: App[Any], title: str, name: str, lines: list[str], severity: Severity = Severity.INFO
) -> None:
    """One notification. The severity is the job's: a change that could not go live is noted
    as a warning where libvirt refused it (core/domain/action_result), never found in the text."""
    text = "\n".join(visible(line) for line in [name, *lines])
    app.notify(text, title=title, severity=severity.value, markup=False, timeout=10)


def apply_and_report(
    app: App[Any],
    uri: str,
    uuid: str,
    title: str,
    name: str,
    job: Callable[[HostFacade], list[str]],
) -> None:
    """Run `job(facade)` (an edit of domain `uuid`) and notify its result lines."""
    host_job(
        app,
        uri,
        title,
        job,
        done_message=lambda done: report_lines(app, title, name, done.result, done.severity),
    )


def show_status(target: Static, text: str | Text, *, error: bool = False, ok: bool = False) -> None:
    """A dialog's or screen's status line: `text` (a string: untrusted, drawn literally),
    bold red for an error, bold green for a success."""
    body = text if isinstance(text, Text) else plain(text, multiline=True)
    if error:
        body.stylize("bold red")
    elif ok:
        body.stylize("bold green")
    target.update(body)


def show_fraction(bar: ProgressBar, fraction: float | None, *, steps: int = 100) -> None:
    """A job's progress (0..1, None: unknown) on a progress bar of `steps` steps (an
    indeterminate bar while the fraction is unknown)."""
    if fraction is None:
        bar.update(total=None)
    else:
        bar.update(total=steps, progress=round(fraction * steps))


def host_screen_title(node: Any, heading: str, uri: str, *, read_only: bool) -> Text:
    """ "HEADING <host label>  (read-only)": the title line of a per-host screen (the label is
    untrusted, drawn literally)."""
    text = Text()
    text.append(f"{heading} ", style="bold")
    host = services(node).hosts.get(uri)
    append_plain(text, getattr(host, "label", "") or uri)
    if read_only:
        text.append("  (read-only)", style="yellow")
    return text
