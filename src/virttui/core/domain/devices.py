"""Add and remove hardware, and change CD-ROM media, live where libvirt can, else in the config.

Every helper returns `Applied` (live and/or persistent, with the reason a live change was
refused). When a driver cannot attach/detach a device class in the persistent config at all
(graphics, on some libvirt versions), the definition is edited and redefined instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from virttui.core.domain import device_xml
from virttui.core.domain.action_result import (
    AFFECT_CONFIG,
    FORCED_NOTE,
    Applied,
    DomainActionError,
    apply_config_only,
    apply_live_else_config,
    domain_name,
    libvirt_errors,
)
from virttui.core.domain.redefine import INACTIVE_SECURE, redefine, redefine_applied
from virttui.core.host.libvirt_runtime import error_message


def attach(
    dom: libvirt.virDomain, xml: str, action: str = "attach device", *, config_only: bool = False
) -> Applied:
    """Attach live and in the config where possible; `config_only`: the persistent config alone
    (an admin's "save anyway" past the host checks)."""
    if config_only:
        return apply_config_only(dom, action, lambda f: dom.attachDeviceFlags(xml, f))
    return _with_redefine_fallback(
        dom, action, lambda f: dom.attachDeviceFlags(xml, f), lambda root: _append(root, xml)
    )


def detach(dom: libvirt.virDomain, xml: str, action: str = "detach device") -> Applied:
    """Detach; a live unplug needs the guest's cooperation and may finish after this returns."""
    return _with_redefine_fallback(
        dom, action, lambda f: dom.detachDeviceFlags(xml, f), lambda root: _remove(root, xml)
    )


def _with_redefine_fallback(
    dom: libvirt.virDomain,
    action: str,
    call: Callable[[int], object],
    edit: Callable[[ET.Element], None],
) -> Applied:
    try:
        return apply_live_else_config(dom, action, call)
    except DomainActionError as exc:
        if "not supported" not in exc.message or not _persistent(dom):
            raise
        redefine(dom, action, edit)
        return Applied(live=False, config=True, note=f"config edited directly: {exc.message}")


def _persistent(dom: libvirt.virDomain) -> bool:
    try:
        return bool(dom.isPersistent())
    except libvirt.libvirtError:
        return False


def _devices(root: ET.Element) -> ET.Element:
    devices = root.find("devices")
    if devices is None:
        devices = ET.SubElement(root, "devices")
    return devices


def _append(root: ET.Element, xml: str) -> None:
    _devices(root).append(ET.fromstring(xml))


def _child_attr(el: ET.Element, child: str, name: str) -> str:
    found = el.find(child)
    return found.get(name, "") if found is not None else ""


def _key(el: ET.Element) -> tuple[str, str]:
    """What a device is matched by: disk target, NIC MAC, char port, graphics type+listen+port."""
    if el.tag == "disk":
        return el.tag, _child_attr(el, "target", "dev")
    if el.tag == "interface":
        return el.tag, _child_attr(el, "mac", "address").lower()
    if el.tag in ("serial", "console", "parallel", "channel"):
        return el.tag, _child_attr(el, "target", "port")
    if el.tag == "graphics":
        # Type alone would pick the first of two same-type displays: add listen and port.
        port = "auto" if el.get("autoport") == "yes" else str(_port_of(el))
        return el.tag, f"{el.get('type', '')} {_listen_of(el)} {port}"
    return el.tag, ET.tostring(el, encoding="unicode")


def _remove(root: ET.Element, xml: str) -> None:
    wanted = ET.fromstring(xml)
    devices = _devices(root)
    for el in list(devices):
        if _key(el) == _key(wanted):
            devices.remove(el)
            if el.tag == "serial":  # else libvirt re-creates the serial from its <console>
                for console in devices.findall("console"):
                    if (
                        _key(console)[1] == _key(el)[1]
                        and console.find("target[@type='virtio']") is None
                    ):
                        devices.remove(console)
            return
    raise libvirt.libvirtError(f"no matching <{wanted.tag}> in the persistent definition")


def _tree(dom: libvirt.virDomain, action: str, *, config: bool = False) -> ET.Element:
    with libvirt_errors(action, domain_name(dom)):
        live = dom.isActive() and not config
        return ET.fromstring(dom.XMLDesc(0 if live else INACTIVE_SECURE))


def _used_targets(dom: libvirt.virDomain, action: str) -> set[str]:
    used: set[str] = set()
    for config in (False, True):
        root = _tree(dom, action, config=config)
        used |= {t.get("dev", "") for t in root.iterfind("devices/disk/target")}
    return used


# ---- disks -------------------------------------------------------------------------------


def add_disk_path(
    dom: libvirt.virDomain,
    path: str,
    *,
    bus: str = "virtio",
    cache: str = "",
    fmt: str = "",
    target: str = "",
    config_only: bool = False,
) -> tuple[Applied, str]:
    """Attach an existing file or block device. Returns (where applied, target used)."""
    target = target or device_xml.next_target(bus, _used_targets(dom, "add disk"))
    xml = device_xml.disk_xml(target, bus=bus, path=path, fmt=fmt, cache=cache)
    return attach(dom, xml, "add disk", config_only=config_only), target


def add_disk_new_volume(
    dom: libvirt.virDomain,
    pool_name: str,
    volume_name: str,
    capacity_bytes: int,
    *,
    fmt: str = "qcow2",
    bus: str = "virtio",
    cache: str = "",
    target: str = "",
) -> tuple[Applied, str, str]:
    """Create a volume in `pool_name` and attach it. Returns (applied, target, volume path).
    The volume is deleted again if the attach fails."""
    name = domain_name(dom)
    vol_el = ET.Element("volume")
    ET.SubElement(vol_el, "name").text = volume_name
    ET.SubElement(vol_el, "capacity", unit="bytes").text = str(capacity_bytes)
    ET.SubElement(vol_el, "allocation", unit="bytes").text = "0"
    if fmt:
        ET.SubElement(ET.SubElement(vol_el, "target"), "format", type=fmt)
    with libvirt_errors("add disk", name):
        pool = dom.connect().storagePoolLookupByName(pool_name)
        vol = pool.createXML(ET.tostring(vol_el, encoding="unicode"), 0)
        path = vol.path()
    try:
        applied, used = add_disk_path(dom, path, bus=bus, cache=cache, fmt=fmt, target=target)
    except BaseException:
        try:
            vol.delete(0)
        except libvirt.libvirtError:
            pass
        raise
    return applied, used, path


def _find_disk(root: ET.Element, target: str) -> ET.Element | None:
    for disk in root.iterfind("devices/disk"):
        t = disk.find("target")
        if t is not None and t.get("dev") == target:
            return disk
    return None


def remove_disk(dom: libvirt.virDomain, target: str) -> Applied:
    """Detach the disk with this target (its storage is left alone)."""
    disk = _find_disk(_tree(dom, "remove disk"), target) or _find_disk(
        _tree(dom, "remove disk", config=True), target
    )
    if disk is None:
        raise DomainActionError("remove disk", domain_name(dom), f"no disk {target}")
    return detach(dom, ET.tostring(disk, encoding="unicode"), "remove disk")


# ---- CD-ROM ------------------------------------------------------------------------------


def add_cdrom(
    dom: libvirt.virDomain,
    *,
    bus: str = "sata",
    path: str = "",
    target: str = "",
    config_only: bool = False,
) -> tuple[Applied, str]:
    """Add a CD-ROM drive (empty or with `path`). SATA/IDE drives cannot be hot-plugged: on a
    running domain this lands in the config with a note."""
    target = target or device_xml.next_target(bus, _used_targets(dom, "add CD-ROM"))
    xml = device_xml.cdrom_xml(target, bus=bus, path=path)
    return attach(dom, xml, "add CD-ROM", config_only=config_only), target


def _change_media(
    dom: libvirt.virDomain, target: str, path: str, action: str, config_only: bool = False
) -> Applied:
    results: list[Applied] = []
    name = domain_name(dom)
    with libvirt_errors(action, name):
        active = bool(dom.isActive()) and not config_only
        persistent = bool(dom.isPersistent())
    scopes = [(libvirt.VIR_DOMAIN_AFFECT_LIVE, False)] if active else []
    if persistent:
        scopes.append((AFFECT_CONFIG, True))
    notes: list[str] = []
    for flag, config in scopes:
        disk = _find_disk(_tree(dom, action, config=config), target)
        if disk is None or disk.get("device") not in ("cdrom", "floppy"):
            notes.append(f"no CD-ROM {target} in the {'config' if config else 'running domain'}")
            continue
        for src in disk.findall("source"):
            disk.remove(src)
        if path:
            disk.set("type", "block" if path.startswith("/dev/") else "file")
            src = ET.Element("source", {"dev" if path.startswith("/dev/") else "file": path})
            disk.insert(_source_index(disk), src)
        try:
            dom.updateDeviceFlags(ET.tostring(disk, encoding="unicode"), flag)
            results.append(Applied(live=not config, config=config))
        except libvirt.libvirtError as exc:
            if not config or not results:
                raise DomainActionError(action, name, error_message(exc)) from exc
            notes.append(error_message(exc))
    if not results:
        raise DomainActionError(action, name, "; ".join(notes) or "nothing to change")
    return Applied(
        live=any(r.live for r in results),
        config=any(r.config for r in results),
        note="; ".join(notes),
    )


def _source_index(disk: ET.Element) -> int:
    for i, child in enumerate(disk):
        if child.tag == "driver":
            return i + 1
    return 0


def insert_media(
    dom: libvirt.virDomain, target: str, path: str, *, config_only: bool = False
) -> Applied:
    """Put the image at `path` into CD-ROM `target` (running domain and config; `config_only`:
    the config alone, an admin's "save anyway" past the host checks)."""
    if not path:
        raise DomainActionError("insert media", domain_name(dom), "no image path given")
    applied = _change_media(dom, target, path, "insert media", config_only)
    if config_only:
        note = "; ".join(n for n in (FORCED_NOTE, applied.note) if n)
        return Applied(live=False, config=applied.config, note=note)
    return applied


def eject_media(dom: libvirt.virDomain, target: str) -> Applied:
    return _change_media(dom, target, "", "eject media")


# ---- NIC, serial, graphics ----------------------------------------------------------------


def add_nic(
    dom: libvirt.virDomain,
    *,
    network: str = "",
    bridge: str = "",
    model: str = "virtio",
    mac: str = "",
    config_only: bool = False,
) -> Applied:
    """A NIC on a network or bridge; libvirt picks the MAC unless `mac` is given."""
    try:
        xml = device_xml.nic_xml(network=network, bridge=bridge, model=model, mac=mac)
    except ValueError as exc:
        raise DomainActionError("add NIC", domain_name(dom), str(exc)) from exc
    return attach(dom, xml, "add NIC", config_only=config_only)


def remove_nic(dom: libvirt.virDomain, mac: str) -> Applied:
    for config in (False, True):
        for nic in _tree(dom, "remove NIC", config=config).iterfind("devices/interface"):
            m = nic.find("mac")
            if m is not None and m.get("address", "").lower() == mac.lower():
                return detach(dom, ET.tostring(nic, encoding="unicode"), "remove NIC")
    raise DomainActionError("remove NIC", domain_name(dom), f"no NIC with MAC {mac}")


def add_serial(dom: libvirt.virDomain, port: int | None = None) -> Applied:
    """Add a pty serial port (the first free port number unless given)."""
    if port is None:
        used = {
            t.get("port")
            for config in (False, True)
            for t in _tree(dom, "add serial", config=config).iterfind("devices/serial/target")
        }
        port = next(p for p in range(32) if str(p) not in used)
    return attach(dom, device_xml.serial_xml(port), "add serial")


def remove_serial(dom: libvirt.virDomain, port: int) -> Applied:
    return detach(dom, device_xml.serial_xml(port), "remove serial")


# ---- graphics: one display per type, each change aimed at one exact element --------------------


@dataclass(frozen=True)
class Display:
    """One <graphics> element of the definition changes apply to: the persistent config, or the
    running XML of a transient domain. `index` is its position among the <graphics> elements
    there; `port` is the fixed port, else the port the running domain was given (None: auto).
    The password itself is never kept, only whether one is set."""

    index: int
    type: str
    listen: str
    port: int | None
    autoport: bool
    password_set: bool = False
    keymap: str = ""
    running: bool = False  # the running domain shows this display now

    def where(self) -> str:
        """ "127.0.0.1:5901" or "0.0.0.0 auto" (control characters made visible)."""
        listen = _visible(self.listen) or "(default)"
        return f"{listen}:{self.port}" if self.port is not None else f"{listen} auto"

    def label(self) -> str:
        """ "VNC 127.0.0.1:5901", "SPICE 0.0.0.0 auto, password set"."""
        text = f"{_visible(self.type).upper()} {self.where()}"
        if self.password_set:
            text += ", password set"
        if not self.running and self.port is None and not self.autoport:
            text += ", no port"
        return text

    def summary(self) -> str:
        """ "listen 127.0.0.1, port auto" for messages."""
        port = str(self.port) if self.port is not None and not self.autoport else "auto"
        return f"listen {_visible(self.listen) or '(default)'}, port {port}"


def _visible(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _listen_of(el: ET.Element) -> str:
    listen = el.find("listen")
    if listen is not None:
        fallback = "none" if listen.get("type") == "none" else el.get("listen", "")
        return listen.get("address") or listen.get("socket") or listen.get("network") or fallback
    return el.get("listen", "")


def _port_of(el: ET.Element) -> int | None:
    try:
        port = int(el.get("port", ""))
    except ValueError:
        return None
    return port if port > 0 else None


def _display_source(dom: libvirt.virDomain, action: str) -> tuple[ET.Element, bool]:
    """(the XML graphics changes apply to, persistent?). Secure: keeps passwords for redefine."""
    with libvirt_errors(action, domain_name(dom)):
        persistent = bool(dom.isPersistent())
        flags = INACTIVE_SECURE if persistent else libvirt.VIR_DOMAIN_XML_SECURE
        return ET.fromstring(dom.XMLDesc(flags)), persistent


def list_displays(dom: libvirt.virDomain) -> list[Display]:
    """Every display of the domain, in XML order, with the port a running domain got."""
    action = "list graphics"
    root, persistent = _display_source(dom, action)
    live_ports: dict[tuple[str, str], int | None] = {}
    with libvirt_errors(action, domain_name(dom)):
        active = bool(dom.isActive())
    if active:
        # QEMU runs at most one display per type, so type + listen find the running twin.
        live_root = _tree(dom, action) if persistent else root
        for g in live_root.iterfind("devices/graphics"):
            live_ports[(g.get("type", ""), _listen_of(g))] = _port_of(g)
    out = []
    for i, g in enumerate(root.iterfind("devices/graphics")):
        kind, listen = g.get("type", ""), _listen_of(g)
        autoport = g.get("autoport") == "yes"
        port = None if autoport else _port_of(g)
        running = (kind, listen) in live_ports
        if running and port is None:
            port = live_ports[(kind, listen)]
        out.append(
            Display(
                index=i,
                type=kind,
                listen=listen,
                port=port,
                autoport=autoport,
                password_set=g.get("passwd") is not None,
                keymap=g.get("keymap", ""),
                running=running,
            )
        )
    return out


def _same_display(el: ET.Element, display: Display) -> bool:
    if el.get("type", "") != display.type or _listen_of(el) != display.listen:
        return False
    if display.autoport:
        return el.get("autoport") == "yes"
    return el.get("autoport") != "yes" and _port_of(el) == display.port


def _exact(root: ET.Element, display: Display, action: str, name: str) -> ET.Element:
    """The <graphics> element `display` names; refused when the definition changed meanwhile."""
    found = root.findall("devices/graphics")
    if display.index < len(found) and _same_display(found[display.index], display):
        return found[display.index]
    raise DomainActionError(
        action,
        name,
        f"the {display.type.upper()} display ({display.summary()}) is no longer where it was "
        "in the definition (changed meanwhile?); reopen the dialog",
    )


def add_graphics(
    dom: libvirt.virDomain, kind: str = "vnc", *, listen: str = "127.0.0.1", password: str = ""
) -> Applied:
    """Add a VNC or SPICE display. QEMU runs one display per type: a second one of the same
    type is refused (it would only fail at the next start), naming the one to edit instead."""
    name = domain_name(dom)
    try:
        xml = device_xml.graphics_xml(kind, listen=listen, password=password)
    except ValueError as exc:
        raise DomainActionError("add graphics", name, str(exc)) from exc
    for display in list_displays(dom):
        if display.type == kind:
            raise DomainActionError(
                "add graphics",
                name,
                f"{name} already has a {kind.upper()} display ({display.summary()}); "
                "edit it instead",
            )
    return attach(dom, xml, "add graphics")


def _redefine_display(
    dom: libvirt.virDomain,
    display: Display,
    action: str,
    change: Callable[[ET.Element, ET.Element], None],
) -> Applied:
    """Apply `change(devices, element)` to exactly that element of the persistent config."""
    name = domain_name(dom)

    def edit(root: ET.Element) -> None:
        change(_devices(root), _exact(root, display, action, name))

    redefine(dom, action, edit)
    return redefine_applied(dom)


def remove_graphics(dom: libvirt.virDomain, display: Display) -> Applied:
    """Remove exactly this display (type, listen and port or autoport at its index), then read
    the definition back to check it is gone."""
    action = "remove graphics"
    name = domain_name(dom)
    root, persistent = _display_source(dom, action)
    element = _exact(root, display, action, name)
    if persistent:
        applied = _redefine_display(dom, display, action, lambda devs, el: devs.remove(el))
    else:
        applied = detach(dom, ET.tostring(element, encoding="unicode"), action)
    after, _ = _display_source(dom, action)
    before_same = sum(_same_display(g, display) for g in root.iterfind("devices/graphics"))
    after_same = sum(_same_display(g, display) for g in after.iterfind("devices/graphics"))
    if after_same != before_same - 1:
        raise DomainActionError(
            action, name, f"the {display.label()} display is still in the definition"
        )
    return applied


def edit_graphics(
    dom: libvirt.virDomain,
    display: Display,
    *,
    listen: str,
    port: int | None = None,
    password: str | None = None,
    keymap: str = "",
) -> Applied:
    """Change exactly this display in the persistent config: listen address, fixed port (None:
    autoport), password (None keeps it, "" removes it), keymap ("" : the default).
    A running domain uses the change from its next start."""
    action = "edit graphics"
    name = domain_name(dom)
    if not listen:
        raise DomainActionError(action, name, "the listen address is empty")
    if port is not None and not 0 < port < 65536:
        raise DomainActionError(action, name, f"port {port} is not between 1 and 65535")
    with libvirt_errors(action, name):
        persistent = bool(dom.isPersistent())
    if not persistent:
        raise DomainActionError(
            action, name, "a transient domain has no config; QEMU cannot change a display live"
        )

    def change(_devices: ET.Element, el: ET.Element) -> None:
        if listen != _listen_of(el):
            el.attrib.pop("listen", None)
            for old in el.findall("listen"):
                el.remove(old)
            el.insert(0, ET.Element("listen", type="address", address=listen))
        if port is None:
            el.set("autoport", "yes")
            el.attrib.pop("port", None)
        else:
            el.set("autoport", "no")
            el.set("port", str(port))
        if password is not None:
            el.attrib.pop("passwdValidTo", None)
            if password:
                el.set("passwd", password)
            else:
                el.attrib.pop("passwd", None)
        if keymap:
            el.set("keymap", keymap)
        else:
            el.attrib.pop("keymap", None)

    return _redefine_display(dom, display, action, change)
