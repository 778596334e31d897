"""Shutdown and reboot requests the guest may ignore (ACPI needs the guest's cooperation).

After `h`/`r` the UI records the request here. Every poll it reports the rows; a request is done
when the domain stopped (shutdown), or rebooted (a reboot event, or a new run for a restart
through a power-off), or is forgotten. One still running after the grace period is *overdue*: the
list says so and the admin is offered force off / reset, once per request. Nothing here forces
anything. UI thread only; no libvirt, no widgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from virttui.core.host.stats import DomainRow

DEFAULT_GRACE = 60.0
SHUTDOWN = "shutdown"
REBOOT = "reboot"

Key = tuple[str, str]  # (uri, uuid)


@dataclass(slots=True)
class Pending:
    kind: str  # SHUTDOWN or REBOOT
    asked_at: float  # monotonic seconds
    dom_id: int  # the run the request went to
    offered: bool = False  # the admin was asked what to do


class ShutdownWatch:
    def __init__(self, grace: float = DEFAULT_GRACE) -> None:
        self.grace = grace
        self._pending: dict[Key, Pending] = {}

    def asked(self, uri: str, uuid: str, kind: str, dom_id: int, now: float) -> None:
        """A shutdown or reboot request was delivered to the domain's run `dom_id`."""
        self._pending[(uri, uuid)] = Pending(kind, now, dom_id)

    def forget(self, uri: str, uuid: str) -> None:
        self._pending.pop((uri, uuid), None)

    def rebooted(self, uri: str, uuid: str) -> None:
        """libvirt's reboot event: a requested reboot happened."""
        pending = self._pending.get((uri, uuid))
        if pending is not None and pending.kind == REBOOT:
            del self._pending[(uri, uuid)]

    def observe(self, uri: str, rows: dict[str, DomainRow]) -> None:
        """Drop the requests of `uri` that were carried out (or whose domain is gone)."""
        for key in [k for k in self._pending if k[0] == uri]:
            row = rows.get(key[1])
            pending = self._pending[key]
            if row is None or not row.active or row.dom_id != pending.dom_id:
                del self._pending[key]

    def overdue(self, uri: str, uuid: str, now: float) -> bool:
        pending = self._pending.get((uri, uuid))
        return pending is not None and now - pending.asked_at >= self.grace

    def due_offers(self, now: float) -> list[tuple[str, str, str]]:
        """Overdue requests not offered yet, as (uri, uuid, kind); each is returned once."""
        out = []
        for (uri, uuid), pending in self._pending.items():
            if not pending.offered and now - pending.asked_at >= self.grace:
                pending.offered = True
                out.append((uri, uuid, pending.kind))
        return out

    def __contains__(self, key: Key) -> bool:
        return key in self._pending
