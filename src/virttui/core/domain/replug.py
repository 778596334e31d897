"""Re-plug running guests' NICs after their libvirt network was stopped and started again.

Stopping a network deletes its bridge; the running guests' tap devices stay, detached, and a
new start makes a new bridge that nothing reconnects them to (libvirt 9.0 does not). Measured
on libvirt 9.0 / QEMU 7.2 (tests/integration/test_nic_replug_live.py checks the tap's
`/sys/class/net/<tap>/master` before and after):

- `updateDeviceFlags` with the same interface XML (AFFECT_LIVE): accepted, tap stays detached;
- the same with `<link state='down'/>` then `'up'`: accepted, tap stays detached;
- detach + attach of the same XML: needs the guest to release the PCI device (ACPI hot-unplug),
  which a busy or minimal guest may never do; not usable;
- `updateDeviceFlags` turning the live NIC into `type='bridge'` on the network's (new) bridge,
  then back into the original `type='network'` XML: works. A bridge change is the one live
  change where libvirt re-adds the tap to a bridge (it tolerates a tap the old bridge no longer
  has), and going back to `type='network'` registers a new port with the network, so the next
  stop of the network cleans it up again. The guest keeps its PCI slot, MAC and link.

Only networks whose guests get a tap on a bridge (isolated, NAT, routed, open, or forwarding
to a named host bridge) can be re-plugged this way; macvtap/hostdev networks are reported.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import libvirt

from virttui.core.host.libvirt_runtime import error_message

SYS_CLASS_NET = Path("/sys/class/net")
_TAP_FORWARDS = ("", "nat", "route", "open", "bridge")


class ReplugError(RuntimeError):
    """The network cannot have NICs re-plugged (not running, no bridge)."""


@dataclass(frozen=True)
class NetworkNic:
    """A running domain's NIC on a libvirt network. `attached`: its tap is on the network's
    bridge (None: cannot tell, e.g. a remote host)."""

    uuid: str
    domain: str
    mac: str
    tap: str
    bridge: str
    attached: bool | None


@dataclass(frozen=True)
class ReplugResult:
    uuid: str
    domain: str
    mac: str
    ok: bool
    message: str


def tap_master(tap: str, sys_class_net: Path = SYS_CLASS_NET) -> str | None:
    """The bridge the interface `tap` is enslaved to ("" none, None: no such interface)."""
    if not tap or "/" in tap or tap in (".", ".."):
        return None
    dev = sys_class_net / tap
    if not dev.exists():
        return None
    try:
        return os.path.basename(os.readlink(dev / "master"))
    except OSError:
        return ""


def network_bridge(conn: libvirt.virConnect, network: str) -> str:
    """The bridge of the running network `network`; ReplugError when there is none."""
    try:
        net = conn.networkLookupByName(network)
        if not net.isActive():
            raise ReplugError(f"network {network} is not running: start it first")
        root = ET.fromstring(net.XMLDesc(0))
    except libvirt.libvirtError as exc:
        raise ReplugError(f"network {network}: {error_message(exc)}") from exc
    forward = root.find("forward")
    mode = forward.get("mode", "nat") if forward is not None else ""
    bridge = root.find("bridge")
    name = bridge.get("name", "") if bridge is not None else ""
    if mode not in _TAP_FORWARDS or not name:
        raise ReplugError(
            f"network {network} ({mode or 'isolated'}) gives guests no tap on a bridge: "
            "nothing to re-plug"
        )
    return name


def _network_interfaces(xml: str, network: str) -> list[ET.Element]:
    root = ET.fromstring(xml)
    return [
        iface
        for iface in root.iterfind("devices/interface")
        if iface.get("type") == "network"
        and (src := iface.find("source")) is not None
        and src.get("network") == network
    ]


def _mac(iface: ET.Element) -> str:
    mac = iface.find("mac")
    return (mac.get("address", "") if mac is not None else "").lower()


def _tap(iface: ET.Element) -> str:
    target = iface.find("target")
    return target.get("dev", "") if target is not None else ""


def network_nics(
    conn: libvirt.virConnect,
    network: str,
    *,
    local: bool,
    sys_class_net: Path = SYS_CLASS_NET,
) -> list[NetworkNic]:
    """Every NIC of a running domain on `network`, with whether its tap is on the bridge
    (checked in sysfs when `local`, else None). Domains that vanish meanwhile are skipped."""
    bridge = network_bridge(conn, network)
    out = []
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        try:
            uuid, name, xml = dom.UUIDString(), dom.name(), dom.XMLDesc(0)
        except libvirt.libvirtError:
            continue
        for iface in _network_interfaces(xml, network):
            tap = _tap(iface)
            attached = (tap_master(tap, sys_class_net) == bridge) if local else None
            out.append(NetworkNic(uuid, name, _mac(iface), tap, bridge, attached))
    return out


def unplugged(nics: list[NetworkNic]) -> list[NetworkNic]:
    """The NICs to offer: detached, or not known to be attached."""
    return [n for n in nics if n.attached is not True]


def replug_interface(dom: libvirt.virDomain, iface: ET.Element, bridge: str) -> None:
    """Reconnect one live NIC (its live XML `iface`) to `bridge`, see the module doc."""
    original = ET.tostring(iface, encoding="unicode")
    as_bridge = ET.fromstring(original)
    as_bridge.set("type", "bridge")
    source = as_bridge.find("source")
    assert source is not None  # _network_interfaces only yields NICs with a source
    source.attrib.clear()
    source.set("bridge", bridge)
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE
    dom.updateDeviceFlags(ET.tostring(as_bridge, encoding="unicode"), flags)
    # Back to the network: libvirt allocates a new port of the network for it.
    back = ET.fromstring(original)
    back_source = back.find("source")
    assert back_source is not None
    for attr in ("portid", "bridge"):
        back_source.attrib.pop(attr, None)
    dom.updateDeviceFlags(ET.tostring(back, encoding="unicode"), flags)


def replug_network(
    conn: libvirt.virConnect,
    network: str,
    *,
    uuids: Collection[str] | None = None,
    macs: Collection[str] | None = None,
) -> list[ReplugResult]:
    """Re-plug the NICs on `network` of the running domains (only `uuids` / `macs` if given).
    One result per NIC; a failure on one does not stop the others."""
    bridge = network_bridge(conn, network)
    wanted_macs = {m.lower() for m in macs} if macs is not None else None
    results = []
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        try:
            uuid, name, xml = dom.UUIDString(), dom.name(), dom.XMLDesc(0)
        except libvirt.libvirtError:
            continue
        if uuids is not None and uuid not in uuids:
            continue
        for iface in _network_interfaces(xml, network):
            mac = _mac(iface)
            if wanted_macs is not None and mac not in wanted_macs:
                continue
            try:
                replug_interface(dom, iface, bridge)
            except libvirt.libvirtError as exc:
                results.append(ReplugResult(uuid, name, mac, False, error_message(exc)))
            else:
                results.append(ReplugResult(uuid, name, mac, True, f"re-plugged into {bridge}"))
    return results
