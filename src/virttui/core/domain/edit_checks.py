"""Check an edit against the host before it is saved: what libvirt accepts but cannot start.

libvirt stores memory larger than the host's RAM, a CPU mode the host does not offer, a disk
path that does not exist, a NIC on a missing network or bridge, or a MAC another NIC already
has, and only the next start fails. The checks here find these first.

Each check returns `Finding`s, one per problem, tied to the form field it is about:
- BLOCKING: the edit cannot work (the dialog refuses it, an admin may still "save anyway",
  config only);
- UNVERIFIABLE: the host could not tell (remote host without the API, unreadable path): said
  plainly, not refused.

Facts come from libvirt (node memory, domain capabilities, storage/network/interface lookups,
other domains' XML), which works the same over qemu+ssh; on a local host paths and bridges are
also looked up directly (`os.stat`, `/sys/class/net`). Pure decision functions (`*_findings`)
are separate from the libvirt look-ups so they can be tested with recorded facts.
"""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import libvirt

from virttui.core.domain.action_result import libvirt_errors
from virttui.core.host.libvirt_runtime import error_message
from virttui.core.host.probe.domcaps import DomainCapabilities, parse_domain_capabilities

BLOCKING = "blocking"
UNVERIFIABLE = "unverifiable"

# Field names (the dialogs map them to their inputs).
MEMORY = "memory"
MAX_MEMORY = "max_memory"
CPU_MODE = "cpu_mode"
CPU_MODEL = "cpu_model"
DISK_PATH = "disk_path"
NETWORK = "network"
BRIDGE = "bridge"
MAC = "mac"

SYS_CLASS_NET = Path("/sys/class/net")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_IFNAME_RE = re.compile(r"^[^/\s:]{1,15}$")  # Linux IFNAMSIZ-1, no '/', blanks or ':'


@dataclass(frozen=True)
class Finding:
    field: str
    message: str
    severity: str = BLOCKING
    start_network: str = ""  # an inactive network whose start would fix this finding

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.blocking]


def not_checked(findings: Iterable[Finding]) -> list[str]:
    """The UNVERIFIABLE messages, for the report after an edit went ahead."""
    return [f.message for f in findings if not f.blocking]


def checks_host_directly(conn: libvirt.virConnect, uri_is_local: bool) -> bool:
    """Whether this process sees the hypervisor host's files and /sys: a local URI of a real
    driver (the test driver's host is imaginary: its paths and bridges are not ours)."""
    if not uri_is_local:
        return False
    try:
        return str(conn.getType()).lower() != "test"
    except libvirt.libvirtError:
        return False


# ---------------------------------------------------------------------------------- memory
def memory_findings(
    memory_kib: int | None, max_kib: int | None, host_kib: int | None, why_unknown: str = ""
) -> list[Finding]:
    """New memory (balloon) and maximum against the host's physical RAM. None: unchanged."""
    wanted = [(f, v) for f, v in ((MEMORY, memory_kib), (MAX_MEMORY, max_kib)) if v is not None]
    if not wanted:
        return []
    if host_kib is None:
        field = wanted[-1][0]
        return [Finding(field, f"host RAM not checked: {why_unknown or 'unknown'}", UNVERIFIABLE)]
    out = []
    for field, kib in wanted:
        if kib > host_kib:
            out.append(
                Finding(
                    field,
                    f"{kib // 1024} MiB is more than the host's RAM ({host_kib // 1024} MiB): "
                    "the domain could not start",
                )
            )
    return out


def host_memory_kib(conn: libvirt.virConnect) -> tuple[int | None, str]:
    """The host's physical RAM in KiB: getMemoryStats (exact), else getInfo (MiB)."""
    try:
        total = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS).get("total")
        if total:
            return int(total), ""
    except libvirt.libvirtError:
        pass
    try:
        mib = int(conn.getInfo()[1])
    except libvirt.libvirtError as exc:
        return None, f"node info unavailable: {error_message(exc)}"
    return (mib * 1024, "") if mib > 0 else (None, "the host reports no memory size")


def check_memory(
    conn: libvirt.virConnect, memory_kib: int | None, max_kib: int | None
) -> list[Finding]:
    if memory_kib is None and max_kib is None:
        return []
    host_kib, why = host_memory_kib(conn)
    return memory_findings(memory_kib, max_kib, host_kib, why)


# ---------------------------------------------------------------------------------- CPU mode
def cpu_mode_findings(
    mode: str, model: str, caps: DomainCapabilities | None, why_unknown: str = ""
) -> list[Finding]:
    """The mode (and custom model) against the host's domain capabilities for this guest."""
    if caps is None:
        return [
            Finding(CPU_MODE, f"CPU mode not checked: {why_unknown or 'unknown'}", UNVERIFIABLE)
        ]
    offered = caps.cpu_mode(mode)
    if offered is None or not offered.supported:
        why = " (it needs KVM)" if mode == "host-passthrough" and caps.virt_type == "qemu" else ""
        offers = ", ".join(m.name for m in caps.cpu_modes if m.supported) or "none"
        return [
            Finding(
                CPU_MODE,
                f"{mode} is not offered by this host for <domain type='{caps.virt_type}'> "
                f"guests{why}; offered: {offers}",
            )
        ]
    if mode == "custom" and caps.custom_models:
        names = {name.lower() for name, _usable in caps.custom_models}
        if model.strip().lower() not in names:
            examples = [n for n, usable in caps.custom_models if usable == "yes"][:4]
            return [
                Finding(
                    CPU_MODEL,
                    f"QEMU on this host has no CPU model {model.strip()!r}"
                    + (f" (e.g. {', '.join(examples)})" if examples else ""),
                )
            ]
    return []


def domain_capabilities(
    conn: libvirt.virConnect, dom: libvirt.virDomain
) -> tuple[DomainCapabilities | None, str]:
    """The domain capabilities matching this domain's type, arch, machine and emulator."""
    try:
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    except (libvirt.libvirtError, ET.ParseError) as exc:
        return None, f"cannot read the domain: {exc}"
    os_type = root.find("os/type")
    virt_type = root.get("type") or None
    arch = os_type.get("arch") if os_type is not None else None
    machine = os_type.get("machine") if os_type is not None else None
    emulator = (root.findtext("devices/emulator") or "").strip() or None
    last = ""
    for args in ((emulator, arch, machine, virt_type), (None, arch, None, virt_type)):
        try:
            return parse_domain_capabilities(conn.getDomainCapabilities(*args, 0)), ""
        except libvirt.libvirtError as exc:
            last = error_message(exc)
        except ET.ParseError as exc:
            last = f"unreadable domain capabilities: {exc}"
    return None, f"the host gives no domain capabilities ({last})"


def check_cpu_mode(
    conn: libvirt.virConnect, dom: libvirt.virDomain, mode: str, model: str
) -> list[Finding]:
    caps, why = domain_capabilities(conn, dom)
    return cpu_mode_findings(mode, model, caps, why)


# ---------------------------------------------------------------------------------- disk path
class PathState(Enum):
    EXISTS = "exists"
    MISSING = "missing"
    NOT_A_DISK = "not a disk"  # a directory, or a path through a non-directory
    UNKNOWN = "unknown"


def disk_path_findings(path: str, state: PathState, detail: str = "") -> list[Finding]:
    if state is PathState.MISSING:
        return [Finding(DISK_PATH, f"{path} does not exist on the host")]
    if state is PathState.NOT_A_DISK:
        return [Finding(DISK_PATH, f"{path} is not a file or block device ({detail})")]
    if state is PathState.UNKNOWN:
        return [Finding(DISK_PATH, f"{path} not checked: {detail}", UNVERIFIABLE)]
    return []


def _storage_volume(conn: libvirt.virConnect, path: str) -> tuple[bool, str]:
    try:
        conn.storageVolLookupByPath(path)
        return True, ""
    except libvirt.libvirtError as exc:
        return False, error_message(exc)


def disk_path_state(conn: libvirt.virConnect, path: str, local: bool) -> tuple[PathState, str]:
    """Locally: stat the path. Remotely (or unreadable locally): libvirt can only look a path up
    among the volumes of its storage pools; a path outside them cannot be checked."""
    if local:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return PathState.MISSING, ""
        except NotADirectoryError:
            return PathState.NOT_A_DISK, "a parent is not a directory"
        except PermissionError:
            if _storage_volume(conn, path)[0]:
                return PathState.EXISTS, ""
            return PathState.UNKNOWN, "permission denied for this user, and in no storage pool"
        except OSError as exc:
            return PathState.UNKNOWN, exc.strerror or str(exc)
        if stat.S_ISDIR(st.st_mode):
            return PathState.NOT_A_DISK, "a directory"
        return PathState.EXISTS, ""
    found, _msg = _storage_volume(conn, path)
    if found:
        return PathState.EXISTS, ""
    return (
        PathState.UNKNOWN,
        "it is in no storage pool of the remote host, and libvirt cannot look up other "
        "files remotely",
    )


def check_disk_path(conn: libvirt.virConnect, path: str, local: bool) -> list[Finding]:
    state, detail = disk_path_state(conn, path, local)
    return disk_path_findings(path, state, detail)


# ---------------------------------------------------------------------------------- NIC
class BridgeState(Enum):
    BRIDGE = "bridge"
    NOT_A_BRIDGE = "not a bridge"
    MISSING = "missing"
    UNKNOWN = "unknown"


def normalise_mac(mac: str) -> str:
    return mac.strip().lower().replace("-", ":")


def nic_findings(
    *,
    network: str = "",
    networks: Mapping[str, bool] | None = None,
    networks_why: str = "",
    bridge: str = "",
    bridge_state: BridgeState = BridgeState.UNKNOWN,
    bridge_why: str = "",
    mac: str = "",
    used_macs: Mapping[str, str] | None = None,
) -> list[Finding]:
    """`networks`: name -> active (None: could not list). `used_macs`: MAC -> who has it."""
    out: list[Finding] = []
    if network:
        if networks is None:
            out.append(
                Finding(NETWORK, f"network {network} not checked: {networks_why}", UNVERIFIABLE)
            )
        elif network not in networks:
            out.append(Finding(NETWORK, f"no network {network} on this host"))
        elif not networks[network]:
            out.append(
                Finding(
                    NETWORK,
                    f"network {network} is not running: the domain could not start",
                    start_network=network,
                )
            )
    if bridge:
        if not _IFNAME_RE.match(bridge):
            out.append(Finding(BRIDGE, f"{bridge!r} is not an interface name"))
        elif bridge_state is BridgeState.MISSING:
            out.append(Finding(BRIDGE, f"no bridge {bridge} on this host"))
        elif bridge_state is BridgeState.NOT_A_BRIDGE:
            out.append(Finding(BRIDGE, f"{bridge} is a network interface, not a bridge"))
        elif bridge_state is BridgeState.UNKNOWN:
            out.append(Finding(BRIDGE, f"bridge {bridge} not checked: {bridge_why}", UNVERIFIABLE))
    if mac:
        m = normalise_mac(mac)
        if not _MAC_RE.match(m):
            out.append(Finding(MAC, f"{mac!r} is not a MAC address (like 52:54:00:12:34:56)"))
        elif int(m[:2], 16) & 1:
            out.append(Finding(MAC, f"{m} is a multicast address: a NIC needs a unicast MAC"))
        elif used_macs and m in used_macs:
            out.append(
                Finding(
                    MAC,
                    f"{m} is already used by {used_macs[m]} "
                    "(libvirt accepts it; the NICs would clash on the network)",
                )
            )
    return out


def network_states(conn: libvirt.virConnect) -> tuple[dict[str, bool] | None, str]:
    """Every libvirt network on the host: name -> active."""
    try:
        return {n.name(): bool(n.isActive()) for n in conn.listAllNetworks(0)}, ""
    except libvirt.libvirtError as exc:
        return None, f"the host cannot list networks: {error_message(exc)}"


def local_bridge_state(name: str, sys_class_net: Path = SYS_CLASS_NET) -> BridgeState:
    if not _IFNAME_RE.match(name) or name in (".", ".."):
        return BridgeState.MISSING
    dev = sys_class_net / name
    if (dev / "bridge").is_dir():
        return BridgeState.BRIDGE
    return BridgeState.NOT_A_BRIDGE if dev.exists() else BridgeState.MISSING


def remote_bridge_state(conn: libvirt.virConnect, name: str) -> tuple[BridgeState, str]:
    """Through libvirt's interface API, where the host's libvirt offers one."""
    try:
        ifaces = conn.listAllInterfaces(0)
    except libvirt.libvirtError as exc:
        return BridgeState.UNKNOWN, f"host has no interface API ({error_message(exc)})"
    if not ifaces:
        return BridgeState.UNKNOWN, "the host's interface API lists no interfaces"
    for iface in ifaces:
        if iface.name() != name:
            continue
        try:
            kind = ET.fromstring(iface.XMLDesc(0)).get("type", "")
        except (libvirt.libvirtError, ET.ParseError) as exc:
            return BridgeState.UNKNOWN, f"cannot read interface {name}: {exc}"
        return (BridgeState.BRIDGE if kind == "bridge" else BridgeState.NOT_A_BRIDGE), ""
    return BridgeState.MISSING, ""


def _macs(xml: str) -> list[str]:
    return [
        normalise_mac(m.get("address", ""))
        for m in ET.fromstring(xml).iterfind("devices/interface/mac")
        if m.get("address")
    ]


def used_macs(conn: libvirt.virConnect, dom: libvirt.virDomain) -> dict[str, str]:
    """MAC -> "this domain" / "domain NAME", over the running and persistent definitions of
    every domain on the connection. Domains that vanish meanwhile are skipped."""
    own = dom.UUIDString()
    out: dict[str, str] = {}
    for other in conn.listAllDomains(0):
        try:
            uuid, name = other.UUIDString(), other.name()
            xmls = [other.XMLDesc(0)]
            if other.isActive() and other.isPersistent():
                xmls.append(other.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError:
            continue
        who = "another NIC of this domain" if uuid == own else f"domain {name}"
        for xml in xmls:
            for mac in _macs(xml):
                if uuid == own or mac not in out:
                    out[mac] = who
    return out


def check_nic(
    conn: libvirt.virConnect,
    dom: libvirt.virDomain,
    *,
    network: str = "",
    bridge: str = "",
    mac: str = "",
    local: bool,
) -> list[Finding]:
    networks, networks_why = network_states(conn) if network else (None, "")
    state, bridge_why = BridgeState.UNKNOWN, ""
    if bridge:
        if local:
            state = local_bridge_state(bridge)
        else:
            state, bridge_why = remote_bridge_state(conn, bridge)
    macs = used_macs(conn, dom) if mac else {}
    return nic_findings(
        network=network,
        networks=networks,
        networks_why=networks_why,
        bridge=bridge,
        bridge_state=state,
        bridge_why=bridge_why,
        mac=mac,
        used_macs=macs,
    )


def start_network(conn: libvirt.virConnect, name: str) -> None:
    """Start an inactive libvirt network (offered when a NIC would use it)."""
    with libvirt_errors("start network", name):
        net = conn.networkLookupByName(name)
        if not net.isActive():
            net.create()
