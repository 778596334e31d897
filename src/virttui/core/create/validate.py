"""Checks before anything is created: libvirt's RelaxNG schema and the host's domain capabilities.

- `validate_domain_xml(xml, spec=..., caps=...)`: the XML against
  /usr/share/libvirt/schemas/domain.rng (Debian package libvirt0, which every libvirt package
  depends on) with lxml. libxml2's RelaxNG messages name the outermost element that failed
  ("Element domain failed to validate content"), so each top-level element and each device is
  checked on its own to find the culprit; with the spec its error lands on the spec field
  (``"disks[0]"``, ``"nics[1]"``, ``"graphics"``, ``"memory_bytes"``...), else on ``"xml"`` with
  the line number.
- `check_domain_caps(spec, domcaps_xml, machines=...)`: what the host offers for the spec's
  type/arch (`virConnect.getDomainCapabilities(None, arch, machine, type)`), one message per
  field: machine (from the capabilities' machine list when given), CPU mode and model, UEFI and
  Secure Boot, disk and CD-ROM buses, graphics and video types, emulated TPM, vCPU maximum.
- `read_create_facts(conn, spec)` + `check_create(spec, facts)`: all of the above plus the
  spec's own rules, the name in use on the connection, pools and volumes (facade:
  `HostFacade.create_check(spec)`).
- `define_validated(conn, xml)`: what the runner uses last: define with
  VIR_DOMAIN_DEFINE_VALIDATE (libvirt checks the XML against its schema itself).

For the later session: run both checks in a job (`host_job`) on the preview step, merge their
dicts with `spec.validate()` and show each message next to its field; `SchemaProblem.line` for
the XML view.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from virttui.core.create.domain_xml import BuildError, CreateCaps, build_domain_xmls, disk_fields
from virttui.core.create.seed import seed_problems
from virttui.core.create.spec import CdromInstall, CreateSpec, ExistingVolume, cdrom_bus_for
from virttui.core.host.probe.domcaps import parse_domain_capabilities

if TYPE_CHECKING:
    import libvirt

SCHEMA_DIR = os.environ.get("VIRTTUI_LIBVIRT_SCHEMAS", "/usr/share/libvirt/schemas")


@dataclass(frozen=True)
class SchemaProblem:
    field: str  # a spec field path, or "xml"
    message: str
    line: int | None


class SchemaUnavailable(RuntimeError):
    pass


@functools.lru_cache(maxsize=4)
def _schema(name: str) -> etree.RelaxNG:
    path = os.path.join(SCHEMA_DIR, name)
    try:
        return etree.RelaxNG(etree.parse(path))
    except (OSError, etree.LxmlError) as e:
        raise SchemaUnavailable(f"cannot read libvirt's schema {path}: {e}") from None


def _first_error(schema: etree.RelaxNG) -> str:
    for entry in schema.error_log:
        return str(entry.message)
    return "does not match libvirt's schema"


# top-level elements -> spec fields
_TOP_FIELDS = {
    "name": "name",
    "memory": "max_memory_bytes",
    "currentMemory": "memory_bytes",
    "vcpu": "vcpus",
    "cpu": "cpu",
    "os": "install",
    "features": "firmware",
    "metadata": "os_variant",
}
_DEVICE_FIELDS = {
    "graphics": "graphics",
    "video": "video",
    "tpm": "tpm",
    "controller": "usb",
    "input": "usb",
    "serial": "xml",
    "console": "xml",
}


def validate_domain_xml(
    xml: str, *, spec: CreateSpec | None = None, caps: CreateCaps | None = None
) -> list[SchemaProblem]:
    """[] when libvirt's domain schema accepts the XML; else the culprits, mapped to fields."""
    schema = _schema("domain.rng")
    try:
        root = etree.fromstring(xml.encode())
    except etree.XMLSyntaxError as e:
        return [SchemaProblem("xml", str(e.msg), e.lineno)]
    if schema.validate(root):
        return []
    whole = _first_error(schema)
    problems: list[SchemaProblem] = []
    disk_names = disk_fields(spec, caps) if spec is not None and caps is not None else []
    # the domain without its devices: are the top-level elements fine?
    bare = copy.deepcopy(root)
    devices = bare.find("devices")
    if devices is not None:
        for child in list(devices):
            devices.remove(child)
    if not schema.validate(bare):
        for el in list(root):
            if el.tag in ("devices",) or not isinstance(el.tag, str):
                continue
            trial = copy.deepcopy(bare)
            for same in trial.findall(el.tag):
                trial.remove(same)
            if schema.validate(trial):
                f = _TOP_FIELDS.get(el.tag, "xml") if spec is not None else "xml"
                problems.append(
                    SchemaProblem(f, f"<{el.tag}>: {_reduced_error(schema, bare)}", el.sourceline)
                )
        if not problems:
            problems.append(SchemaProblem("xml", whole, None))
        return problems
    # each device alone on the bare domain
    counters: dict[str, int] = {}
    root_devices = root.find("devices")
    for el in list(root_devices) if root_devices is not None else []:
        if not isinstance(el.tag, str):
            continue
        index = counters.get(el.tag, 0)
        counters[el.tag] = index + 1
        trial = copy.deepcopy(bare)
        trial_devices = trial.find("devices")
        assert trial_devices is not None
        trial_devices.append(copy.deepcopy(el))
        if schema.validate(trial):
            continue
        problems.append(
            SchemaProblem(
                _device_field(el.tag, index, disk_names) if spec is not None else "xml",
                _pinpoint(schema, trial, el.tag),
                el.sourceline,
            )
        )
    if not problems:
        problems.append(SchemaProblem("xml", whole, None))
    return problems


def _pinpoint(schema: etree.RelaxNG, trial: etree._Element, tag: str) -> str:
    """libxml2 only says the device is wrong: find the attribute or element that makes it so."""
    trial_devices = trial.find("devices")
    assert trial_devices is not None
    device = trial_devices[0]
    for node in device.iter():
        if not isinstance(node.tag, str):
            continue
        for attr in list(node.attrib):
            value = node.attrib[attr]
            del node.attrib[attr]
            ok = schema.validate(trial)
            node.attrib[attr] = value
            if ok:
                return f"<{node.tag} {attr}={value!r}>: not a value libvirt accepts here"
    for node in list(device.iter())[1:]:
        parent = node.getparent()
        if parent is None or not isinstance(node.tag, str):
            continue
        pos = list(parent).index(node)
        parent.remove(node)
        ok = schema.validate(trial)
        parent.insert(pos, node)
        if ok:
            return f"<{tag}>: element <{node.tag}> is not allowed or not valid here"
    return f"<{tag}>: does not match libvirt's schema"


def _reduced_error(schema: etree.RelaxNG, doc: etree._Element) -> str:
    schema.validate(doc)
    return _first_error(schema)


def _device_field(tag: str, index: int, disk_names: Sequence[str]) -> str:
    if tag == "disk":
        return disk_names[index] if index < len(disk_names) else "disks"
    if tag == "interface":
        return f"nics[{index}]"
    return _DEVICE_FIELDS.get(tag, "xml")


# ---- domain capabilities ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Extra:
    secure_boot: bool
    tpm_models: tuple[str, ...]
    tpm_backends: tuple[str, ...]
    loader_types: tuple[str, ...]


def _enum_values(root: etree._Element, xpath: str) -> tuple[str, ...]:
    return tuple(str(v.text or "") for v in root.xpath(xpath))


def _extra(domcaps_xml: str) -> _Extra:
    root = etree.fromstring(domcaps_xml.encode())
    tpm = root.find("devices/tpm")
    tpm_on = tpm is not None and tpm.get("supported") == "yes"
    return _Extra(
        secure_boot="yes" in _enum_values(root, "os/loader/enum[@name='secure']/value"),
        tpm_models=_enum_values(root, "devices/tpm/enum[@name='model']/value") if tpm_on else (),
        tpm_backends=(
            _enum_values(root, "devices/tpm/enum[@name='backendModel']/value") if tpm_on else ()
        ),
        loader_types=_enum_values(root, "os/loader/enum[@name='type']/value"),
    )


def check_domain_caps(
    spec: CreateSpec, domcaps_xml: str, *, machines: Sequence[str] | None = None
) -> dict[str, str]:
    """Field -> message for every answer this host's domain capabilities do not offer.

    `domcaps_xml`: `getDomainCapabilities(None, spec.arch, spec.machine, spec.domain_type)`;
    `machines`: the machine types of the capabilities' guest for arch/type (names and canonical
    names), to check `spec.machine`."""
    caps = parse_domain_capabilities(domcaps_xml)
    extra = _extra(domcaps_xml)
    errors: dict[str, str] = {}
    if caps.virt_type and caps.virt_type != spec.domain_type:
        errors["domain_type"] = (
            f"the host's capabilities were read for {caps.virt_type!r}, not {spec.domain_type!r}"
        )
    if caps.arch and caps.arch != spec.arch:
        errors["arch"] = f"the host's capabilities were read for {caps.arch}, not {spec.arch}"
    if spec.machine is not None and machines is not None and spec.machine not in machines:
        errors["machine"] = f"machine type {spec.machine!r} is not offered by this host's QEMU"
    if caps.max_vcpus is not None and spec.vcpus_max > caps.max_vcpus:
        errors["max_vcpus" if spec.max_vcpus is not None else "vcpus"] = (
            f"this machine type takes at most {caps.max_vcpus} vCPUs"
        )
    mode = spec.cpu.mode
    if mode in ("host-passthrough", "host-model"):
        offered = caps.cpu_mode(mode)
        if offered is None or not offered.supported:
            errors["cpu.mode"] = f"CPU mode {mode} is not offered for {spec.domain_type} guests"
    elif mode == "custom" and spec.cpu.model:
        usable = dict(caps.custom_models)
        if spec.cpu.model not in usable:
            errors["cpu.model"] = f"CPU model {spec.cpu.model!r} is not known to this host"
        elif usable[spec.cpu.model] == "no":
            errors["cpu.model"] = f"CPU model {spec.cpu.model!r} cannot run on this host"
    if spec.firmware.kind == "uefi":
        if "efi" not in caps.firmware:
            errors["firmware.kind"] = (
                "UEFI is not offered by this host (no UEFI firmware found: Debian package ovmf)"
            )
        elif spec.firmware.secure_boot and not extra.secure_boot:
            errors["firmware.secure_boot"] = "Secure Boot is not offered by this host's firmware"
    buses = set(caps.disk_buses)
    for i, disk in enumerate(spec.disks):
        if buses and disk.bus not in buses:
            errors[f"disks[{i}].bus"] = f"bus {disk.bus} is not offered for this machine"
    has_cd = spec.install.kind in ("cdrom", "cloud") or spec.driver_iso is not None
    if has_cd and buses and cdrom_bus_for(spec) not in buses:
        errors["cdrom_bus"] = f"bus {cdrom_bus_for(spec)} is not offered for this machine"
    g = spec.graphics.type
    if g != "none" and caps.graphics_types and g not in caps.graphics_types:
        errors["graphics.type"] = f"{g} graphics are not offered by this host's QEMU"
    if spec.video != "none" and caps.video_models and spec.video not in caps.video_models:
        errors["video"] = f"video model {spec.video} is not offered by this host's QEMU"
    if spec.tpm:
        if "emulator" not in extra.tpm_backends:
            errors["tpm"] = "an emulated TPM is not offered by this host (Debian package swtpm)"
        elif spec.tpm_model not in extra.tpm_models:
            errors["tpm_model"] = f"TPM model {spec.tpm_model} is not offered by this host"
    return errors


# ---- everything at once: what the wizard's last step runs in a job -----------------------------


@dataclass(frozen=True)
class CreateFacts:
    """What the checks need from the host, read once (`read_create_facts`) in a job."""

    caps: CreateCaps
    domcaps_xml: str
    machines: tuple[str, ...] | None  # None: not known for this arch
    domain_names: frozenset[str]


def read_create_facts(
    conn: libvirt.virConnect, spec: CreateSpec, *, osinfo_ids: Mapping[str, str] | None = None
) -> CreateFacts:
    """Domain capabilities for the spec's type/arch/machine, the machine types, every pool's
    target and type, the paths of the pool volumes the spec names, the domain names in use."""
    import libvirt

    from virttui.core.host.probe.capabilities import parse_capabilities
    from virttui.core.storage.pools import list_pools

    host = parse_capabilities(conn.getCapabilities())
    machines: tuple[str, ...] | None = None
    if host.arch == spec.arch:
        names: list[str] = []
        for m in host.machines:
            names.append(m.name)
            if m.canonical:
                names.append(m.canonical)
        machines = tuple(names)
    # an unknown machine would fail the call: ask for the default's, check_domain_caps says so
    machine = spec.machine if machines is None or spec.machine in machines else None
    domcaps_xml: str = conn.getDomainCapabilities(None, spec.arch, machine, spec.domain_type, 0)
    pools = list_pools(conn)
    wanted: list[tuple[str, str]] = [
        (d.source.pool, d.source.volume) for d in spec.disks if isinstance(d.source, ExistingVolume)
    ]
    inst = spec.install
    if isinstance(inst, CdromInstall) and inst.pool and inst.volume:
        wanted.append((inst.pool, inst.volume))
    volume_paths: dict[str, str] = {}
    for pool_name, vol_name in wanted:
        try:
            path: str = (
                conn.storagePoolLookupByName(pool_name).storageVolLookupByName(vol_name).path()
            )
        except libvirt.libvirtError:
            continue  # reported as a field error by the XML build
        volume_paths[f"{pool_name}/{vol_name}"] = path
    names_in_use = frozenset(str(d.name()) for d in conn.listAllDomains(0))
    caps = CreateCaps.from_domain_capabilities(
        parse_domain_capabilities(domcaps_xml),
        pool_targets={p.name: p.target_path for p in pools},
        pool_types={p.name: p.type for p in pools},
        volume_paths=volume_paths,
        osinfo_ids=osinfo_ids,
    )
    return CreateFacts(caps, domcaps_xml, machines, names_in_use)


def check_create(spec: CreateSpec, facts: CreateFacts) -> dict[str, str]:
    """Every check before anything is created, field -> message ({} = go): the spec's own
    rules, the name in use, the host's domain capabilities, the cloud-init seed
    (`seed.seed_problems`), pools and volumes, libvirt's schema
    on the XML that will be defined (and on the install boot's)."""
    errors = spec.validate()
    if spec.name in facts.domain_names:
        errors.setdefault("name", f"a domain named {spec.name!r} already exists on this host")
    for key, msg in check_domain_caps(spec, facts.domcaps_xml, machines=facts.machines).items():
        errors.setdefault(key, msg)
    for key, msg in seed_problems(spec).items():  # the cloud-init seed, before anything is made
        errors.setdefault(key, msg)
    if errors:
        return errors  # the XML of a spec with errors would only repeat them
    try:
        xmls = build_domain_xmls(spec, facts.caps)
    except BuildError as e:
        return {e.field: e.message}
    for xml in (xmls.final, xmls.install):
        if xml is None:
            continue
        for problem in validate_domain_xml(xml, spec=spec, caps=facts.caps):
            where = f" (line {problem.line})" if problem.line else ""
            errors.setdefault(problem.field, problem.message + where)
    return errors


def define_validated(conn: libvirt.virConnect, xml: str) -> libvirt.virDomain:
    """Define with VIR_DOMAIN_DEFINE_VALIDATE (libvirt validates against its own schema)."""
    import libvirt

    return conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
