"""Pure parser: domain XML text -> DomainDefinition. No libvirt calls, no I/O."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from virttui.core.common.safe_text import visible
from virttui.core.domain.model import (
    CharDeviceDef,
    ControllerDef,
    CpuDef,
    DiskDef,
    DomainDefinition,
    FirmwareDef,
    GraphicsDef,
    NicDef,
)

_UNIT_BYTES: dict[str, int] = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "k": 1024,
    "kib": 1024,
    "mb": 1000**2,
    "m": 1024**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "g": 1024**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "t": 1024**4,
    "tib": 1024**4,
}


class DomainXmlError(ValueError):
    """The text is not a domain XML document."""


def _int(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip(), 0) if value.strip().startswith("0x") else int(value.strip())
    except ValueError:
        return None


def _kib(el: ET.Element | None) -> int:
    """A libvirt memory element in KiB (libvirt's default unit), honouring unit=."""
    if el is None or el.text is None:
        return 0
    amount = _int(el.text) or 0
    unit = (el.get("unit") or "KiB").lower()
    return amount * _UNIT_BYTES.get(unit, 1024) // 1024


def _text(root: ET.Element, path: str) -> str:
    el = root.find(path)
    return (el.text or "") if el is not None else ""


def _attr(root: ET.Element, path: str, name: str) -> str:
    el = root.find(path)
    return (el.get(name) or "") if el is not None else ""


def _yes(value: str | None) -> bool | None:
    if value is None:
        return None
    return value in ("yes", "on")


def _cpu(root: ET.Element) -> CpuDef:
    vcpu = root.find("vcpu")
    vmax = _int(vcpu.text if vcpu is not None else None) or 1
    current = _int(vcpu.get("current") if vcpu is not None else None) or vmax
    cpu = root.find("cpu")
    if cpu is None:
        return CpuDef(mode="", model="", vcpus_current=current, vcpus_max=vmax)
    model = _text(cpu, "model").strip()
    mode = cpu.get("mode") or ("custom" if model else "")
    topo = cpu.find("topology")
    get = topo.get if topo is not None else (lambda _k: None)
    return CpuDef(
        mode=mode,
        model=model,
        vcpus_current=current,
        vcpus_max=vmax,
        sockets=_int(get("sockets")),
        dies=_int(get("dies")),
        cores=_int(get("cores")),
        threads=_int(get("threads")),
    )


def _firmware(os_el: ET.Element | None) -> FirmwareDef:
    if os_el is None:
        return FirmwareDef(kind="bios")
    loader = os_el.find("loader")
    nvram = os_el.find("nvram")
    loader_type = loader.get("type", "") if loader is not None else ""
    kind = os_el.get("firmware") or ("efi" if loader_type == "pflash" or nvram is not None else "")
    secure = _yes(loader.get("secure")) if loader is not None else None
    for feature in os_el.findall("firmware/feature"):
        if feature.get("name") == "secure-boot":
            secure = _yes(feature.get("enabled"))
    return FirmwareDef(
        kind=kind or "bios",
        loader=(loader.text or "").strip() if loader is not None else "",
        loader_type=loader_type,
        loader_readonly=_yes(loader.get("readonly")) if loader is not None else None,
        secure_boot=secure,
        nvram=(nvram.text or "").strip() if nvram is not None else "",
        nvram_template=nvram.get("template", "") if nvram is not None else "",
    )


def _disk(el: ET.Element) -> DiskDef:
    src = el.find("source")
    sget = src.get if src is not None else (lambda _k, _d="": _d)
    hosts: list[str] = []
    if src is not None:
        for host in src.findall("host"):
            name = host.get("name") or host.get("socket") or ""
            port = host.get("port")
            hosts.append(f"{name}:{port}" if port else name)
    return DiskDef(
        target=_attr(el, "target", "dev"),
        bus=_attr(el, "target", "bus"),
        device=el.get("device", "disk"),
        source_type=el.get("type", "file"),
        format=_attr(el, "driver", "type"),
        cache=_attr(el, "driver", "cache"),
        io=_attr(el, "driver", "io"),
        source_file=sget("file", "") or "",
        source_dev=sget("dev", "") or "",
        source_dir=sget("dir", "") or "",
        source_pool=sget("pool", "") or "",
        source_volume=sget("volume", "") or "",
        source_protocol=sget("protocol", "") or "",
        source_name=sget("name", "") or "",
        source_hosts=tuple(hosts),
        readonly=el.find("readonly") is not None,
        shareable=el.find("shareable") is not None,
        boot_order=_int(_attr(el, "boot", "order")),
    )


def _nic(el: ET.Element) -> NicDef:
    return NicDef(
        type=el.get("type", ""),
        mac=_attr(el, "mac", "address"),
        model=_attr(el, "model", "type"),
        source_network=_attr(el, "source", "network"),
        source_bridge=_attr(el, "source", "bridge"),
        source_dev=_attr(el, "source", "dev"),
        link_state=_attr(el, "link", "state") or "up",
        target_dev=_attr(el, "target", "dev"),
        boot_order=_int(_attr(el, "boot", "order")),
    )


def _graphics(el: ET.Element) -> GraphicsDef:
    listen = el.get("listen", "")
    listen_type = "address" if listen else ""
    listen_el = el.find("listen")
    if listen_el is not None:
        listen_type = listen_el.get("type", "")
        listen = (
            listen_el.get("address")
            or listen_el.get("socket")
            or listen_el.get("network")
            or ("none" if listen_type == "none" else listen)
        )
    port = _int(el.get("port"))
    tls_port = _int(el.get("tlsPort"))
    return GraphicsDef(
        type=el.get("type", ""),
        listen=listen,
        listen_type=listen_type,
        port=port if port is not None and port > 0 else None,
        tls_port=tls_port if tls_port is not None and tls_port > 0 else None,
        autoport=el.get("autoport") == "yes",
        password_set=el.get("passwd") is not None,
    )


def _chardev(el: ET.Element) -> CharDeviceDef:
    sources = el.findall("source")
    path = el.get("tty", "")
    host = service = ""
    for src in sources:
        path = src.get("path") or path
        host = src.get("host") or host
        service = src.get("service") or service
    return CharDeviceDef(
        kind=el.tag,
        type=el.get("type", ""),
        target_type=_attr(el, "target", "type"),
        target_port=_int(_attr(el, "target", "port")),
        target_name=_attr(el, "target", "name"),
        path=path,
        host=host,
        service=service,
    )


# Characters XML 1.0 does not allow, even as character references (C0 but tab, LF, CR).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def parse_domain_xml(xml: str) -> DomainDefinition:
    """Parse `virDomain.XMLDesc()` output. Raises DomainXmlError for text that is not one."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        # libvirt keeps control characters set through virDomainSetMetadata (an ESC in a title)
        # and writes them into XMLDesc, which XML 1.0 forbids: parse with them shown as escapes.
        cleaned = _XML_ILLEGAL.sub(lambda m: visible(m.group()), xml)
        if cleaned == xml:
            raise DomainXmlError(f"not well-formed domain XML: {exc}") from exc
        try:
            root = ET.fromstring(cleaned)
        except ET.ParseError:
            raise DomainXmlError(f"not well-formed domain XML: {exc}") from exc
    if root.tag != "domain":
        raise DomainXmlError(f"expected a <domain> document, got <{root.tag}>")
    os_el = root.find("os")
    devices = root.find("devices")
    if devices is None:
        devices = ET.Element("devices")
    dom_id = _int(root.get("id"))
    return DomainDefinition(
        domain_type=root.get("type", ""),
        name=_text(root, "name"),
        uuid=_text(root, "uuid"),
        title=_text(root, "title"),
        description=_text(root, "description"),
        os_type=_text(root, "os/type"),
        arch=_attr(root, "os/type", "arch"),
        machine=_attr(root, "os/type", "machine"),
        emulator=_text(devices, "emulator"),
        cpu=_cpu(root),
        memory_max_kib=_kib(root.find("memory")),
        memory_current_kib=_kib(root.find("currentMemory")) or _kib(root.find("memory")),
        boot_devices=tuple(b.get("dev", "") for b in root.findall("os/boot")),
        firmware=_firmware(os_el),
        disks=tuple(_disk(d) for d in devices.findall("disk")),
        nics=tuple(_nic(n) for n in devices.findall("interface")),
        graphics=tuple(_graphics(g) for g in devices.findall("graphics")),
        chardevs=tuple(
            _chardev(c) for c in devices if c.tag in ("serial", "console", "parallel", "channel")
        ),
        controllers=tuple(
            ControllerDef(
                type=c.get("type", ""), index=_int(c.get("index")) or 0, model=c.get("model", "")
            )
            for c in devices.findall("controller")
        ),
        domain_id=dom_id if dom_id is not None and dom_id >= 0 else None,
    )
