"""The "Pool" choice of the storage dialogs that put something into a volume (upload, new LUKS
volume): the host's active pools, read in a job, offered in a Select."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.widgets import Select

from virttui.screens.common.jobs import host_job
from virttui.widgets.common.mounting import when_mounted
from virttui.widgets.common.plain import plain


def offer_active_pools(
    screen: Screen[Any],
    uri: str,
    selector: str,
    preferred: str,
    failed: Callable[[str], None],
) -> None:
    """List host `uri`'s active pools in a job, then offer them in the Select `selector` of
    `screen`: `preferred` chosen when it is one of them, else the only one when there is one."""

    def offer(pools: list[str]) -> None:
        select = screen.query_one(selector, Select)
        select.set_options([(plain(p), p) for p in pools])
        select.prompt = "no active pool" if not pools else "choose a pool"
        if preferred in pools or len(pools) == 1:
            select.value = preferred if preferred in pools else pools[0]

    host_job(
        screen.app,
        uri,
        "Read pools",
        lambda f: f.active_pools(),
        lambda pools: when_mounted(screen, lambda: offer(pools)),
        failed=failed,
        mutating=False,
    )
