"""Small helpers for Pilot tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot


async def wait_until(
    pilot: Pilot[object],
    cond: Callable[[], object],
    timeout: float = 5.0,
    step: float = 0.05,
    *,
    describe: Callable[[], object] | None = None,
) -> None:
    """Wait for `cond()`; on timeout fail with `describe()` (what the screen showed) if given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await pilot.pause(step)
    seen = ""
    if describe is not None:
        try:
            seen = f"; seen: {describe()!r}"
        except Exception as exc:  # noqa: BLE001 - a diagnostic must not hide the timeout
            seen = f"; describe() failed: {exc!r}"
    raise AssertionError(f"condition not met within {timeout}s{seen}")


def hosts_settled(app: object) -> bool:
    """Every host listed its domains and the follow-up poll filled vCPU/memory and rates.

    The first poll paints at once; on drivers without vCPU/memory in bulk stats (the test driver)
    a second poll follows immediately. Snapshots wait for it so they never catch either state.
    """
    hosts = app.store.hosts.values()  # type: ignore[attr-defined]
    return bool(hosts) and all(
        h.rows and all(r.vcpus is not None for r in h.rows.values()) for h in hosts
    )


def domain_row(app: object, uri: str, uuid: str):  # noqa: ANN201 - the store's row (or None)
    """The store's row for domain `uuid` on host `uri`, None while it is not listed."""
    return app.store.row(uri, uuid)  # type: ignore[attr-defined]


def select_domain(app: object, uuid: str) -> None:
    """Put the domain list's cursor on domain `uuid` (it must be listed)."""
    table = app.domains_screen().table  # type: ignore[attr-defined]
    index = next(i for i, item in enumerate(table.items) if item.uuid == uuid)
    table._auto_cursor = False
    table._move(index)
