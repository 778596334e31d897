"""The bundled demo host: a libvirt test-driver node file shipped inside the package.

Usage::

    conn = libvirt.open(demo_uri())
    apply_demo_extras(conn)   # required: autostart flags cannot be expressed in node XML

``demo-node.xml`` describes a 64-CPU / 256 GiB host with 16 domains in every run state (running,
blocked, paused, shutdown in progress, shut off, crashed, pmsuspended; plus a transient one and a
shut-off one with a managed-save image), two storage pools (``default`` with a volume for every
domain disk, ``iso``), two networks (``default`` NAT, ``isolated``) and two host interfaces.

The test driver never reads autostart from node XML, so the domains that should autostart carry a
``<virttui:nodexml autostart="yes"/>`` metadata mark and :func:`apply_demo_extras` sets the flags
(plus network/pool autostart) on an opened connection.  Every ``test:///`` connection has its own
in-memory copy of the host, so call it once per connection.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import libvirt

from virttui.core.host.nodexml import apply_autostart_marks, node_uri

DEMO_NODE_FILE = "demo-node.xml"
DEMO_AUTOSTART_NETWORKS = ("default",)
DEMO_AUTOSTART_POOLS = ("default", "iso")


def demo_node_path() -> Path:
    """Absolute filesystem path of the bundled ``demo-node.xml``.

    libvirt needs a real file, so this requires the package to be installed as files (a wheel or
    an editable install), not imported from a zip archive.
    """
    resource = resources.files(__package__).joinpath(DEMO_NODE_FILE)
    path = Path(str(resource)).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"demo node file not found on disk: {path}")
    return path


def demo_uri(*, daemon: bool = False) -> str:
    """``test:///<abs path>/demo-node.xml``; with ``daemon=True`` the ``test+unix://`` form."""
    return node_uri(demo_node_path(), daemon=daemon)


def apply_demo_extras(conn: libvirt.virConnect) -> list[str]:
    """Apply what node XML cannot express to a fresh demo connection; returns autostart domains.

    Sets autostart on the marked domains, the ``default`` network and both pools.  Idempotent.
    """
    return apply_autostart_marks(conn, networks=DEMO_AUTOSTART_NETWORKS, pools=DEMO_AUTOSTART_POOLS)
