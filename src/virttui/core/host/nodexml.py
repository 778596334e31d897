"""Node XML for libvirt's test driver: a generator for synthetic hosts, and the autostart fix-up.

libvirt's mock hypervisor (``src/test/test_driver.c``) builds a whole fake host from one "node"
file, opened with ``test:///abs/path.xml`` (in-process) or ``test+unix:///abs/path.xml`` (through
the daemon).  Each connection gets a private in-memory copy; nothing is ever written back.

What the node format can and cannot say (checked against libvirt 9.0):

* Domain run state comes from ``<test:runstate>N</test:runstate>`` (a ``virDomainState`` number,
  namespace :data:`TEST_NS`); any state but shut off makes the domain active with an id.
  ``<test:transient/>`` makes a domain transient, ``<test:hasmanagedsave/>`` (shut off only)
  gives it a managed-save image.  Domains must be ``type="test"``.
* Autostart is never read from node XML, for domains, networks or pools.  Generated (and demo)
  domains that should autostart carry ``<virttui:nodexml autostart="yes"/>`` in ``<metadata>``
  (namespace :data:`NODEXML_NS`); :func:`apply_autostart_marks` turns the flag on after the
  connection is opened.  The flag lives in that connection's memory only.
* Pools always report 100 GiB capacity (:data:`TEST_POOL_CAPACITY`); their allocation is the sum
  of their volumes' allocations, so generated volumes keep the total below that (otherwise
  ``available`` underflows to ~2**64).
* Networks, pools and interfaces all come up active.
"""

from __future__ import annotations

import os
import random
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

import libvirt

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
NODEXML_NS = "urn:x-virttui:nodexml:1"
TEST_POOL_CAPACITY = 100 * 1024**3

IMAGES_DIR = "/var/lib/libvirt/images"
ISO_DIR = "/var/lib/libvirt/iso"

# virDomainState numbers (libvirt.VIR_DOMAIN_*), spelled out so the generator reads plainly.
RUNNING = libvirt.VIR_DOMAIN_RUNNING
BLOCKED = libvirt.VIR_DOMAIN_BLOCKED
PAUSED = libvirt.VIR_DOMAIN_PAUSED
SHUTDOWN = libvirt.VIR_DOMAIN_SHUTDOWN
SHUTOFF = libvirt.VIR_DOMAIN_SHUTOFF
CRASHED = libvirt.VIR_DOMAIN_CRASHED
PMSUSPENDED = libvirt.VIR_DOMAIN_PMSUSPENDED

# Non-running domains cycle through this list (then get shuffled), so shut off dominates and
# every other state appears as soon as there are at least len(_OTHER_STATES) non-running domains.
_OTHER_STATES = (
    SHUTOFF,
    PAUSED,
    SHUTOFF,
    CRASHED,
    SHUTOFF,
    PMSUSPENDED,
    SHUTOFF,
    SHUTDOWN,
    SHUTOFF,
    BLOCKED,
    SHUTOFF,
    SHUTOFF,
)

_PREFIXES = (
    "web",
    "api",
    "app",
    "db",
    "cache",
    "mq",
    "worker",
    "k8s-node",
    "build-runner",
    "ci",
    "log",
    "mon",
    "proxy",
    "vpn",
    "mail",
    "dns",
    "backup",
    "dev",
    "test",
    "win2022",
)
# Every 37th domain gets one of these: wide (CJK) characters and emoji for layout testing.
_WIDE_PREFIXES = ("数据库", "测试机", "ウェブ", "서버", "🚀-staging", "📦-artifacts")
_VCPUS = (1, 2, 2, 2, 4, 4, 4, 8, 8, 16)
_MEMORY_MIB = (512, 1024, 2048, 2048, 4096, 4096, 8192, 8192, 16384, 32768)
_NIC_SOURCES = (
    ("network", "default"),
    ("network", "default"),
    ("network", "isolated"),
    ("bridge", "br0"),
)
_UUID_NAMESPACE = uuid.UUID("8f0b7d5e-4c1a-4e7b-9a35-7a0e5d2c9b10")


def _domain_xml(
    *,
    name: str,
    uid: str,
    state: int,
    vcpus: int,
    memory_mib: int,
    current_mib: int,
    disks: list[str],
    nics: list[tuple[str, str, str]],
    title: str | None,
    description: str | None,
    autostart: bool,
    transient: bool,
    managed_save: bool,
) -> str:
    parts = [
        '  <domain type="test">',
        f"    <name>{escape(name)}</name>",
        f"    <uuid>{uid}</uuid>",
    ]
    if title is not None:
        parts.append(f"    <title>{escape(title)}</title>")
    if description is not None:
        parts.append(f"    <description>{escape(description)}</description>")
    if autostart:
        parts.append(
            f'    <metadata><virttui:nodexml xmlns:virttui="{NODEXML_NS}" autostart="yes"/></metadata>'
        )
    parts += [
        f'    <memory unit="MiB">{memory_mib}</memory>',
        f'    <currentMemory unit="MiB">{current_mib}</currentMemory>',
        f'    <vcpu placement="static">{vcpus}</vcpu>',
        '    <os><type arch="x86_64" machine="pc-q35-7.2">hvm</type><boot dev="hd"/></os>',
        "    <features><acpi/><apic/></features>",
        '    <clock offset="utc"/>',
        "    <devices>",
        "      <emulator>/usr/bin/qemu-system-x86_64</emulator>",
    ]
    for idx, path in enumerate(disks):
        parts.append(
            '      <disk type="file" device="disk"><driver name="qemu" type="qcow2"/>'
            f"<source file={quoteattr(path)}/>"
            f'<target dev="vd{chr(ord("a") + idx)}" bus="virtio"/></disk>'
        )
    for kind, source, mac in nics:
        attr = "network" if kind == "network" else "bridge"
        parts.append(
            f'      <interface type="{kind}"><mac address="{mac}"/>'
            f'<source {attr}="{source}"/><model type="virtio"/></interface>'
        )
    parts += [
        '      <console type="pty"><target type="serial" port="0"/></console>',
        '      <memballoon model="virtio"/>',
        "    </devices>",
    ]
    if transient:
        parts.append("    <test:transient/>")
    if managed_save:
        parts.append("    <test:hasmanagedsave/>")
    parts += [f"    <test:runstate>{state}</test:runstate>", "  </domain>"]
    return "\n".join(parts)


def _volume_xml(name: str, capacity_mib: int, allocation_mib: int, fmt: str) -> str:
    return (
        f'    <volume type="file"><name>{escape(name)}</name>'
        f'<capacity unit="MiB">{capacity_mib}</capacity>'
        f'<allocation unit="MiB">{allocation_mib}</allocation>'
        f'<target><format type="{fmt}"/></target></volume>'
    )


def generate_node_xml(
    n_domains: int, *, running_fraction: float = 0.7, seed: int = 0, light: bool = False
) -> str:
    """A test-driver node document describing a host with ``n_domains`` domains.

    Deterministic for a given ``(n_domains, running_fraction, seed)``.  Exactly
    ``round(n_domains * running_fraction)`` domains are running; the rest are mostly shut off,
    with paused, crashed, pmsuspended, shutdown-in-progress and blocked ones mixed in (all of them
    once 12 or more domains are not running).  Names are unique (``<prefix>-<index>``), some with
    CJK or emoji prefixes; UUIDs and MAC addresses are unique.  Each domain has 1-2 qcow2 disks
    (volumes of the ``default`` pool) and 1-2 NICs on the ``default``/``isolated`` networks or
    bridge ``br0``.  About half the persistent domains are marked for autostart (see
    :func:`apply_autostart_marks`); a few running ones are transient and a few shut off ones have a
    managed-save image.

    ``light``: the same domains (names, states, UUIDs, sizes) with exactly one disk and one NIC
    each, so the daemon parses less per domain (the start-up benchmark measures both).
    """
    if n_domains < 0:
        raise ValueError("n_domains must be >= 0")
    if not 0.0 <= running_fraction <= 1.0:
        raise ValueError("running_fraction must be within [0, 1]")
    rng = random.Random(seed)
    n_running = round(n_domains * running_fraction)
    states = [RUNNING] * n_running + [
        _OTHER_STATES[i % len(_OTHER_STATES)] for i in range(n_domains - n_running)
    ]
    rng.shuffle(states)

    domains: list[str] = []
    volumes: list[tuple[str, int]] = []  # (file name, capacity MiB)
    active_mib = 0
    mac_counter = 0
    for i, state in enumerate(states):
        if i % 37 == 36:
            prefix = _WIDE_PREFIXES[(i // 37) % len(_WIDE_PREFIXES)]
        else:
            prefix = _PREFIXES[rng.randrange(len(_PREFIXES))]
        name = f"{prefix}-{i:04d}"
        vcpus = rng.choice(_VCPUS)
        memory_mib = rng.choice(_MEMORY_MIB)
        current_mib = memory_mib * 3 // 4 if rng.random() < 0.1 else memory_mib
        if state != SHUTOFF:
            active_mib += current_mib
        disk_names = [f"{name}.qcow2"]
        if rng.random() < 0.35 and not light:  # light: the same draw, one disk
            disk_names.append(f"{name}-data.qcow2")
        for idx, disk in enumerate(disk_names):
            volumes.append((disk, (20 if idx == 0 else 100) * 1024))
        nics: list[tuple[str, str, str]] = []
        for _ in range(2 if rng.random() < 0.3 else 1):
            kind, source = rng.choice(_NIC_SOURCES)
            mac = f"52:54:00:{(mac_counter >> 16) & 0xFF:02x}:{(mac_counter >> 8) & 0xFF:02x}:{mac_counter & 0xFF:02x}"
            mac_counter += 1
            nics.append((kind, source, mac))
        if light:  # the same random draws as the heavy one, so otherwise the same domains
            nics = nics[:1]
        transient = state == RUNNING and rng.random() < 0.04
        managed_save = state == SHUTOFF and rng.random() < 0.1
        domains.append(
            _domain_xml(
                name=name,
                uid=str(uuid.uuid5(_UUID_NAMESPACE, f"{seed}:{i}")),
                state=state,
                vcpus=vcpus,
                memory_mib=memory_mib,
                current_mib=current_mib,
                disks=[f"{IMAGES_DIR}/{d}" for d in disk_names],
                nics=nics,
                title=f"{prefix} #{i}" if i % 5 == 0 else None,
                description=f"Synthetic domain {i} (seed {seed})." if i % 10 == 0 else None,
                autostart=not transient and rng.random() < 0.5,
                transient=transient,
                managed_save=managed_save,
            )
        )

    # Keep the pool's total allocation under the test driver's fixed 100 GiB capacity.
    budget_mib = 90 * 1024
    per_volume_mib = min(4096, budget_mib // max(1, len(volumes)))
    vol_lines = [_volume_xml(name, cap, per_volume_mib, "qcow2") for name, cap in volumes]

    # A host big enough for its active guests (with some overcommit headroom): 256 GiB minimum,
    # rounded up to 64 GiB.  nodes x sockets x cores x threads = 4 x 1 x 32 x 2 = 256 CPUs.
    host_gib = max(256, -(-(active_mib * 5 // 4) // (64 * 1024)) * 64)

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- generated by virttui.core.host.nodexml: {n_domains} domains, seed {seed} -->",
        f'<node xmlns:test="{TEST_NS}">',
        *domains,
        "  <network><name>default</name>"
        "<uuid>9a05da11-0ab8-4f4b-8c3e-2d6f7e8a9c01</uuid>"
        '<forward mode="nat"/><bridge name="virbr0" stp="on" delay="0"/>'
        '<ip address="192.168.122.1" netmask="255.255.255.0"><dhcp>'
        '<range start="192.168.122.2" end="192.168.122.254"/></dhcp></ip></network>',
        "  <network><name>isolated</name>"
        "<uuid>9a05da11-0ab8-4f4b-8c3e-2d6f7e8a9c02</uuid>"
        '<bridge name="virbr1" stp="on" delay="0"/>'
        '<ip address="10.10.10.1" netmask="255.255.255.0"/></network>',
        '  <interface type="bridge" name="br0"><start mode="onboot"/>'
        '<bridge stp="off" delay="0"><interface type="ethernet" name="eno1">'
        '<mac address="3c:ec:ef:00:00:01"/></interface></bridge></interface>',
        '  <pool type="dir"><name>default</name>'
        "<uuid>2f3b7c11-5e0a-4c6d-9a1b-7c8d9e0f1b01</uuid>"
        f"<target><path>{IMAGES_DIR}</path></target>",
        *vol_lines,
        "  </pool>",
        '  <pool type="dir"><name>iso</name>'
        "<uuid>2f3b7c11-5e0a-4c6d-9a1b-7c8d9e0f1b02</uuid>"
        f"<target><path>{ISO_DIR}</path></target>",
        _volume_xml("debian-12.8.0-amd64-netinst.iso", 632, 632, "iso"),
        "  </pool>",
        "  <cpu><mhz>2450</mhz><model>x86_64</model><nodes>4</nodes><sockets>1</sockets>"
        "<cores>32</cores><threads>2</threads></cpu>",
        f"  <memory>{host_gib * 1024 * 1024}</memory>",
        "</node>",
        "",
    ]
    return "\n".join(lines)


def write_node_xml(
    path: str | os.PathLike[str],
    n_domains: int,
    *,
    running_fraction: float = 0.7,
    seed: int = 0,
    light: bool = False,
) -> Path:
    """Write :func:`generate_node_xml` output to ``path`` (UTF-8); returns the absolute path."""
    target = Path(path).resolve()
    target.write_text(
        generate_node_xml(n_domains, running_fraction=running_fraction, seed=seed, light=light),
        encoding="utf-8",
    )
    return target


def node_uri(path: str | os.PathLike[str], *, daemon: bool = False) -> str:
    """``test:///abs/path`` (in-process driver) or ``test+unix:///abs/path`` (via libvirtd).

    The path is percent-encoded: libvirt refuses URIs with raw spaces and decodes ``%XX``.
    """
    scheme = "test+unix" if daemon else "test"
    return f"{scheme}://{quote(Path(path).resolve().as_posix(), safe='/')}"


def autostart_marked(conn: libvirt.virConnect) -> list[libvirt.virDomain]:
    """Persistent domains whose ``<metadata>`` carries ``<virttui:nodexml autostart="yes"/>``.

    Reads the inactive XML rather than calling ``virDomainGetMetadata``, which reports an error
    (printed to stderr unless an error handler is registered) for every unmarked domain.
    """
    marked: list[libvirt.virDomain] = []
    for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT):
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        if NODEXML_NS not in xml:
            continue
        mark = ET.fromstring(xml).find(f"./metadata/{{{NODEXML_NS}}}nodexml")
        if mark is not None and mark.get("autostart") == "yes":
            marked.append(dom)
    return marked


def apply_autostart_marks(
    conn: libvirt.virConnect,
    *,
    networks: Iterable[str] = (),
    pools: Iterable[str] = (),
) -> list[str]:
    """Turn autostart on for the marked domains and the named networks/pools; returns domain names.

    The test driver keeps autostart per connection and in memory only, so call this once on each
    freshly opened ``test://`` connection.  Idempotent.
    """
    names: list[str] = []
    for dom in autostart_marked(conn):
        if not dom.autostart():
            dom.setAutostart(1)
        names.append(dom.name())
    for net_name in networks:
        net = conn.networkLookupByName(net_name)
        if not net.autostart():
            net.setAutostart(1)
    for pool_name in pools:
        pool = conn.storagePoolLookupByName(pool_name)
        if not pool.autostart():
            pool.setAutostart(1)
    return names
