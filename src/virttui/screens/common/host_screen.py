"""The plumbing every full screen about one host's objects shares (networks, storage pools and
volumes, DHCP leases): its host and facade, whether the connection is read-only, the write keys
hidden there (each falls through to its `read_only` fallback, see readonly.py), escape back, and
the check that the host is open before the screen is."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import App
from textual.screen import Screen

from virttui.core.facade.host import HostFacade
from virttui.screens.common.readonly import READ_ONLY_MESSAGE, action_name
from virttui.screens.common.services import services


def host_is_open(app: App[Any], uri: str) -> bool:
    """Is `uri` one of the app's connections? If not, says so (a notification)."""
    if services(app).facade(uri) is None:
        app.notify(f"{uri}: no such connection", severity="error", markup=False)
        return False
    return True


class HostObjectsScreen(Screen[None]):
    """A screen about host `uri`. Subclasses list their `write_actions` (hidden on a read-only
    connection; add `read_only_fallbacks(BINDINGS, write_actions)` to their BINDINGS) and say
    in `allows(name)` whether any other action applies now: True, False (hidden) or None
    (shown greyed out), as `check_action` does."""

    write_actions: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri

    @property
    def facade(self) -> HostFacade | None:
        return services(self).facade(self.uri)

    @property
    def read_only(self) -> bool:
        facade = self.facade
        return facade is None or facade.readonly

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        name = action_name(action)
        if name == "read_only":
            return self.read_only
        if name in self.write_actions and self.read_only:
            return False  # hidden; the key falls through to `read_only`, which says why
        return self.allows(name)

    def allows(self, name: str) -> bool | None:
        return True

    def action_read_only(self) -> None:
        self.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()
