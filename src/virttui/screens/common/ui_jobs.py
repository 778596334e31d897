"""Plumbing shared by the domain action and edit dialogs: run one blocking job on a host's facade
in a thread worker, report libvirt's message on failure, read a domain's details before a dialog
opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import Screen

from virttui.core.common.safe_text import visible
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostFacade, describe_error
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.services import services
from virttui.widgets.common.plain import append_plain

T = TypeVar("T")
WORKER_GROUP = "domain-ui"


def writable_host(app: App[Any], uri: str) -> HostFacade | None:
    """The host's facade, unless it is gone or read-only (then say so and return None)."""
    host = services(app).facade(uri)
    if host is None:
        app.notify(f"{uri}: no such connection", severity="error", markup=False)
        return None
    if host.readonly:
        app.notify("Read-only connection: actions are disabled", severity="warning", markup=False)
        return None
    return host


def run_job(
    app: App[Any],
    uri: str,
    title: str,
    job: Callable[[HostFacade], T],
    done: Callable[[T], None] | None = None,
    *,
    failed: Callable[[str], None] | None = None,
    mutating: bool = True,
) -> None:
    """Run `job(facade)` in a thread worker. On success `done(result)` runs on the UI thread; on
    failure `failed(message)` does, after an error notification titled "<title> failed"."""
    host = writable_host(app, uri) if mutating else services(app).facade(uri)
    if host is None:
        return

    def work() -> None:
        try:
            result = job(host)
        except Exception as exc:  # noqa: BLE001 - every failure is shown, none crashes the UI
            app.call_from_thread(_report_failure, app, title, describe_error(exc), failed)
            return
        finally:
            if mutating:
                host.refresh_now()
        if done is not None:
            app.call_from_thread(done, result)

    app.run_worker(work, thread=True, exit_on_error=False, group=WORKER_GROUP, name=title)


def _report_failure(
    app: App[Any], title: str, message: str, failed: Callable[[str], None] | None
) -> None:
    app.notify(message, title=f"{title} failed", severity="error", markup=False, timeout=10)
    if failed is not None:
        failed(message)


def with_details(
    app: App[Any],
    uri: str,
    uuid: str,
    then: Callable[[DomainDetails], None],
    *,
    mutating: bool = False,
) -> None:
    """Read the domain's details (no disk sizes) in a worker, then call `then` on the UI thread."""
    run_job(
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


def report_lines(app: App[Any], title: str, name: str, lines: list[str]) -> None:
    """One notification; an entry that could not go live is a warning, not silence."""
    text = "\n".join(visible(line) for line in [name, *lines])
    severity: SeverityLevel = "warning" if "not possible live" in text else "information"
    app.notify(text, title=title, severity=severity, markup=False, timeout=10)


def apply_and_report(
    app: App[Any],
    uri: str,
    uuid: str,
    title: str,
    name: str,
    job: Callable[[HostFacade], list[str]],
) -> None:
    """Run `job(facade)` (an edit of domain `uuid`) and notify its result lines."""
    run_job(
        app,
        uri,
        title,
        job,
        lambda lines: report_lines(app, title, name, lines),
    )
