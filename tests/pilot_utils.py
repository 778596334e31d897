"""Small helpers for Pilot tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.errors import NoWidget
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


async def click_on(pilot: Pilot[object], selector: str, timeout: float = 5.0) -> None:
    """Click the widget `selector` names once the screen shows it where it is, and fail if the
    click lands elsewhere. Pilot.click aims at the widget's region as it is at the call: a widget
    just shown (a notice's button, a dialog just pushed) may not be laid out yet, and the click
    then lands on whatever was there before, or nowhere (a CI run lost a Reconnect that way)."""
    widget = pilot.app.screen.query_one(selector)

    def hit() -> bool:
        region = widget.region
        if not region.area:
            return False
        try:
            under, _ = pilot.app.get_widget_at(region.x, region.y)
        except NoWidget:
            return False
        return under is widget

    await wait_until(pilot, hit, timeout, describe=lambda: (selector, widget.region))
    assert await pilot.click(widget), f"the click on {selector} landed elsewhere"


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
