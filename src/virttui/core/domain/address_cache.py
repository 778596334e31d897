"""The guests' addresses the UI shows (the list's IP column, the details overview), by host and
UUID: a cache of its own, filled by a slow refresh (and after lifecycle events), never by the
stats poll."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from virttui.core.domain.addresses import AddressReport

__all__ = ["ADDRESS_REFRESH_SECONDS", "AddressCache"]

ADDRESS_REFRESH_SECONDS = 12.0


class AddressCache:
    """(uri, uuid) -> AddressReport of the running domains; `version` grows on every change."""

    def __init__(self) -> None:
        self._reports: dict[tuple[str, str], AddressReport] = {}
        self.version = 0

    def update_host(
        self, uri: str, reports: dict[str, AddressReport], only: Collection[str] | None = None
    ) -> bool:
        """Replace everything known of host `uri` (or of its domains in `only`): domains asked
        about and not in `reports` are not running any more. True when something changed."""
        new = {(uri, uuid): report for uuid, report in reports.items()}
        old = {
            key: value
            for key, value in self._reports.items()
            if key[0] == uri and (only is None or key[1] in only)
        }
        if new == old:
            return False
        for key in old:
            del self._reports[key]
        self._reports.update(new)
        self.version += 1
        return True

    def forget_host(self, uri: str) -> None:
        self.update_host(uri, {})

    def get(self, uri: str, uuid: str) -> AddressReport | None:
        return self._reports.get((uri, uuid))

    def primary_ip(self, uri: str, uuid: str) -> str:
        report = self._reports.get((uri, uuid))
        return "" if report is None else report.primary_ip
