"""Open console screens, one per (kind, uri, uuid), kept installed on the app.

A console screen stays installed (and its stream attached) after the user leaves it, so opening
the same domain's console again returns to it with its scrollback. At most one console screen
is on the stack at a time, on top: switching replaces it. Closing uninstalls it, which unmounts
the screen and closes its stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.screen import Screen

from virttui.screens.common.console_entries import ConsoleEntry, ConsoleRegistry
from virttui.screens.common.services import services


def registry(app: App[Any]) -> ConsoleRegistry:
    """The app's open consoles (`AppServices.consoles`)."""
    return services(app).consoles


def entries(app: App[Any]) -> list[ConsoleEntry]:
    return list(registry(app).values())


def is_console_screen(app: App[Any], screen: Screen[Any]) -> bool:
    return any(
        app.is_screen_installed(name) and app.get_screen(name) is screen for name in registry(app)
    )


def show(
    app: App[Any],
    entry: ConsoleEntry,
    make: Callable[..., Screen[Any]] | None = None,
    *args: object,
) -> Screen[Any]:
    """Bring the entry's screen to the top, installing it (`make(*args)`) on first use."""
    reg = registry(app)
    name = entry.screen_name
    if not app.is_screen_installed(name):
        if make is None:
            raise KeyError(name)
        app.install_screen(make(*args), name=name)
        reg[name] = entry
    screen = app.get_screen(name)
    if app.screen is screen:
        return screen
    if is_console_screen(app, app.screen):
        app.switch_screen(name)
    else:
        app.push_screen(name)
    return screen


def leave(app: App[Any], screen: Screen[Any]) -> None:
    """Go back to what was under the console; the console stays open."""
    if app.screen is screen and len(app.screen_stack) > 1:
        app.pop_screen()


def close(app: App[Any], name: str) -> None:
    """Close one console: take it off the stack if shown, then uninstall (closes its stream)."""
    reg = registry(app)
    if not app.is_screen_installed(name):
        reg.pop(name, None)
        return
    screen = app.get_screen(name)
    if screen in app.screen_stack:
        if app.screen is not screen or len(app.screen_stack) < 2:
            return  # under another screen: leave it alone
        app.pop_screen()  # off the stack now; uninstalled below, so the pop removes it
        reg.pop(name, None)
        app.uninstall_screen(name)
        return
    reg.pop(name, None)
    app.uninstall_screen(name)
    screen.remove()  # installed screens outlive pops: remove it ourselves (unmount closes it)
