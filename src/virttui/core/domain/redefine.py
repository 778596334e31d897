"""Edit the persistent definition of a domain: read it with its secrets, change the tree, define.

The inactive XML is read with VIR_DOMAIN_XML_SECURE so a graphics password survives the round
trip (without it, redefining would silently drop the password).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import libvirt

from virttui.core.domain.action_result import (
    Applied,
    DomainActionError,
    domain_name,
    libvirt_errors,
)

# Keep the usual prefixes so `virsh dumpxml` looks the same after an edit.
for _prefix, _uri in {
    "qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
    "libosinfo": "http://libosinfo.org/xmlns/libvirt/domain/1.0",
    "virttui": "https://virttui.invalid/xmlns/1.0",
}.items():
    ET.register_namespace(_prefix, _uri)

INACTIVE_SECURE = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


def persistent_tree(dom: libvirt.virDomain, action: str) -> ET.Element:
    with libvirt_errors(action, domain_name(dom)):
        if not dom.isPersistent():
            raise DomainActionError(action, domain_name(dom), "a transient domain has no config")
        return ET.fromstring(dom.XMLDesc(INACTIVE_SECURE))


def redefine(
    dom: libvirt.virDomain, action: str, edit: Callable[[ET.Element], None]
) -> libvirt.virDomain:
    """Apply `edit` to the persistent XML and define it again (same name and UUID)."""
    root = persistent_tree(dom, action)
    edit(root)
    with libvirt_errors(action, domain_name(dom)):
        return dom.connect().defineXML(ET.tostring(root, encoding="unicode"))


def redefine_applied(dom: libvirt.virDomain) -> Applied:
    """Outcome of a redefine: the config changed; a running domain sees it at next boot."""
    running = False
    try:
        running = bool(dom.isActive())
    except libvirt.libvirtError:
        pass
    return Applied(live=False, config=True, note="restart the domain to use it" if running else "")
