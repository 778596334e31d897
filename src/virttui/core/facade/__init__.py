"""The UI's only door to libvirt: one `HostFacade` per open connection (see `host.py`).

A room of its own, above the areas it fronts (domain, console, storage, host): the facade imports
them, none of them imports it."""

from virttui.core.facade.host import HostError, HostFacade, HostLike

__all__ = ["HostError", "HostFacade", "HostLike"]
