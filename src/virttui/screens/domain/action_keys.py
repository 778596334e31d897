"""The domain action table (`core/domain/action_table.py`) turned into Textual objects: the
Bindings of the domain list and the details screen, and the command palette's entries.

Nothing here lists an action: add one to the table and it shows up in both screens' keys, the
Actions menu and the palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, cast

from textual.app import App, SystemCommand
from textual.binding import Binding

from virttui.core.domain.action_table import (
    DOMAIN_ACTIONS,
    DomainAction,
    ScreenName,
    keyed,
    palette_actions,
)
from virttui.screens.common.services import AppServices


def domain_bindings(
    screen: ScreenName, table: Iterable[DomainAction] = DOMAIN_ACTIONS
) -> list[Binding]:
    """One Binding per table entry with a key on `screen`, id `domain.<id>` / `details.<id>`."""
    return [
        Binding(
            a.key or "",
            a.textual_action(),
            a.footer_label,
            show=a.show,
            id=a.binding_id(screen),
            tooltip=a.tooltip or "",
        )
        for a in keyed(screen, table)
    ]


def palette_commands(
    app: AppServices,
    screen: Any,
    where: ScreenName,
    target: tuple[str, str] | None,
    *,
    selection: bool = False,
    table: Iterable[DomainAction] = DOMAIN_ACTIONS,
) -> Iterator[SystemCommand]:
    """The palette's domain entries on `where`. `target` is the domain (uri, uuid) the entries
    act on; with `selection`, lifecycle actions act on the list's selection instead."""
    from virttui.screens.domain.actions import run_domain_action

    for a in palette_actions(where, table):
        run: Callable[[], object] | None = None
        if a.kind == "lifecycle":
            if selection:
                run = partial(app.run_lifecycle, a.id)
            elif target is not None:
                run = partial(app.run_lifecycle, a.id, [target])
        elif a.kind == "dialog":
            if target is not None:
                run = partial(run_domain_action, cast("App[Any]", app), target[0], target[1], a.id)
        else:
            method = getattr(screen, f"action_{a.screen_action}", None)
            if method is not None and (target is not None or a.screen_action not in NEEDS_TARGET):
                run = method
        if run is not None:
            yield SystemCommand(a.palette_title(), a.help, run)


# Screen actions that only make sense with a domain under the cursor.
NEEDS_TARGET = frozenset({"actions_menu", "edit_menu"})
