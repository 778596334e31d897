"""Offer to re-plug running guests' NICs after their network was stopped and started.

libvirt does not reconnect them: the taps stay off the new bridge and the guests lose the
network without noticing. `offer_replug` (called after a network start, e.g. by the Networks
screen) finds the running domains' NICs on the network that are off its bridge, asks once
naming them (Cancel default), then re-plugs them as one job and reports per domain.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from textual.app import App

from virttui.core.common.safe_text import visible
from virttui.core.domain.replug import NetworkNic, ReplugResult, unplugged
from virttui.core.jobs import Severity
from virttui.screens.common.jobs import host_job
from virttui.screens.common.ui_jobs import confirm, report_lines

TITLE = "Re-plug NICs"


def _wanted(nics: list[NetworkNic], domains: Collection[str] | None) -> list[NetworkNic]:
    """`domains`: names or UUIDs to consider (None: every running domain on the network)."""
    if domains is None:
        return nics
    return [n for n in nics if n.uuid in domains or n.domain in domains]


def replug_question(network: str, nics: list[NetworkNic]) -> str:
    """The confirmation's explanation: which domains' NICs, and why. Names from libvirt are
    made visible per line (a newline in a name must not fake a line of its own)."""
    network = visible(network)
    lines = []
    for nic in nics:
        where = f"tap {visible(nic.tap)}" if nic.tap else "no tap"
        lines.append(f"  {visible(nic.domain)}: NIC {visible(nic.mac)} ({where})")
    unknown = any(n.attached is None for n in nics)
    head = (
        f"Network {network} was stopped and started: libvirt does not reconnect running "
        f"guests' NICs to its new bridge ({visible(nics[0].bridge)}), so these have no network:"
    )
    if unknown:
        head = (
            f"Network {network} was stopped and started: libvirt does not reconnect running "
            f"guests' NICs to its new bridge ({visible(nics[0].bridge)}). This host's taps cannot be "
            "checked from here; re-plugging a connected NIC only detaches it for a moment:"
        )
    return "\n".join([head, *lines, "", "Re-plug reconnects each NIC live (same MAC, same slot)."])


def result_lines(results: list[ReplugResult]) -> tuple[list[str], Severity]:
    lines = [
        f"{r.domain} {r.mac}: " + (r.message if r.ok else f"failed: {r.message}") for r in results
    ]
    failed = any(not r.ok for r in results)
    return lines or ["no NIC to re-plug"], Severity.WARNING if failed else Severity.INFO


def offer_replug(
    app: App[Any],
    uri: str,
    network: str,
    domains: Collection[str] | None = None,
    *,
    done: Callable[[list[ReplugResult]], None] | None = None,
) -> None:
    """After `network` on host `uri` was (re)started: find the running domains' NICs on it that
    are off its bridge (only `domains`, names or UUIDs, if given), ask, re-plug, report.
    `done(results)` runs after the re-plug (not when nothing was unplugged or Cancel)."""

    def ask(nics: list[NetworkNic]) -> None:
        todo = unplugged(_wanted(nics, domains))
        if not todo:
            app.notify(
                f"No running domain's NIC on {network} is unplugged.",
                title=TITLE,
                markup=False,
            )
            return
        uuids = sorted({n.uuid for n in todo})

        def go() -> None:
            def report(results: list[ReplugResult]) -> None:
                lines, severity = result_lines(results)
                report_lines(app, TITLE, f"network {network}", lines, severity)
                if done is not None:
                    done(results)

            host_job(
                app, uri, f"{TITLE} on {network}", lambda f: f.replug_nics(network, uuids), report
            )

        confirm(app, TITLE, network, replug_question(network, todo), go, button="Re-plug")

    host_job(app, uri, f"NICs on {network}", lambda f: f.network_nics(network), ask, mutating=False)
