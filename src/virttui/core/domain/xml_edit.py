"""The XML editor's core: read the XML of a domain, network, pool or volume for editing, check an
edited text locally, define it through libvirt with its VALIDATE flag.

- `read_source(conn, kind, key)` -> `XmlSource`: the text to edit and what to say about it.
  Domains: the persistent definition (`VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE`, so a
  graphics password survives the round trip) with every `passwd='...'` shown as
  `passwd='********'` (MASK): on save a MASK still there is replaced by the password it stood
  for, a typed one replaces it. A running domain: "changes apply at next boot". Networks and
  pools: their inactive XML; a running one keeps its old configuration until it is stopped and
  started again (libvirt 9.0 has `networkDefineXMLFlags` / `storagePoolDefineXML` with the
  VALIDATE flags). Volumes: libvirt cannot redefine a volume, so the source is read-only with
  the reason (`readonly_reason`).
- `check_text(source, text)` (pure): a local ElementTree parse (`XmlEditError` with line and
  column), then identity: same root element, same name, same UUID (renaming is another action),
  then the text libvirt will get (masks restored).
- `define_text(conn, source, text)` -> `XmlDefined`: check, define with VALIDATE, re-read.
  libvirt's refusal is `XmlEditError` with libvirt's message and the line when it names one
  (`error_line`). The text as typed is never changed here: the editor keeps it.
- `unified_diff(old, new)`: the confirmation's diff (plain text, shown literally).

A later session (the create wizard) can reuse `error_line` and `unified_diff` for its preview.
"""

from __future__ import annotations

import difflib
import re
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Literal

import libvirt

from virttui.core.host.libvirt_runtime import error_message

XmlKind = Literal["domain", "network", "pool", "volume"]
KINDS: tuple[XmlKind, ...] = ("domain", "network", "pool", "volume")
MASK = "********"
# A passwd attribute inside a start tag (never text content: there `<` is escaped).
_PASSWD_ATTR = re.compile(r"""(<[\w:.-]+\s[^<>]*?)passwd\s*=\s*(['"])(.*?)\2""", re.DOTALL)
_MASKED_ATTR = re.compile(r"""(<[\w:.-]+\s[^<>]*?)passwd\s*=\s*(['"])\*{8}\2""")

VOLUME_READONLY = (
    "libvirt cannot redefine a volume: its XML can only be read. Resize (z), clone (c) or "
    "convert (image actions, i) on the Storage screen change a volume."
)
DOMAIN_NEXT_BOOT = "The domain is running: the changes apply at next boot."
NETWORK_RUNNING = (
    "The network is running: it keeps its old configuration until it is stopped and started "
    "again (guests on it lose connectivity meanwhile)."
)
POOL_RUNNING = "The pool is running: it uses the new definition after a stop and start."


class XmlEditError(Exception):
    """The text cannot be defined: a local parse error, a refused identity change or libvirt's
    refusal. `line`/`column` (1-based) when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def where(self) -> str:
        if self.line is None:
            return self.message
        col = f":{self.column}" if self.column is not None else ""
        return f"line {self.line}{col}: {self.message}"


@dataclass(frozen=True)
class XmlSource:
    """What the editor shows. `key` names the object (domain UUID, network/pool name, or
    "pool/volume"); `uuid` is the object's UUID where it has one."""

    kind: XmlKind
    key: str
    name: str
    uuid: str
    text: str
    active: bool = False
    readonly_reason: str = ""
    note: str = ""  # what saving means for this object now (running: next boot / restart)
    passwords: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (graphics type, pw)

    @property
    def root_tag(self) -> str:
        return "volume" if self.kind == "volume" else self.kind


@dataclass(frozen=True)
class XmlDefined:
    name: str
    note: str
    text: str  # what libvirt holds now (masked), for the editor to show


# ------------------------------------------------------------------------------ reading
def mask_passwords(xml: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`xml` with every graphics password shown as MASK, and (graphics type, password) in
    document order."""
    root = ET.fromstring(xml)
    found = tuple(
        (el.get("type") or el.tag, el.get("passwd") or "")
        for el in root.iter()
        if el.get("passwd") is not None
    )
    masked = _PASSWD_ATTR.sub(lambda m: f"{m.group(1)}passwd={m.group(2)}{MASK}{m.group(2)}", xml)
    return masked, found


def _inactive_xml(obj: libvirt.virNetwork | libvirt.virStoragePool, flag: int) -> str:
    """The inactive (next start) XML; drivers without the flag (the test driver) give the one
    definition they have."""
    try:
        return str(obj.XMLDesc(flag))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (
            libvirt.VIR_ERR_INVALID_ARG,
            libvirt.VIR_ERR_NO_SUPPORT,
        ):
            raise
        return str(obj.XMLDesc(0))


def read_source(conn: libvirt.virConnect, kind: XmlKind, key: str) -> XmlSource:
    """The XML to edit (see the module's docstring); libvirt errors pass through."""
    if kind == "domain":
        dom = conn.lookupByUUIDString(key)
        name: str = dom.name()
        if not dom.isPersistent():
            raise XmlEditError(f"{name} is transient: it has no definition to edit")
        raw = str(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))
        text, passwords = mask_passwords(raw)
        active = bool(dom.isActive())
        return XmlSource(
            kind,
            key,
            name,
            str(dom.UUIDString()),
            text,
            active=active,
            note=DOMAIN_NEXT_BOOT if active else "",
            passwords=passwords,
        )
    if kind == "network":
        net = conn.networkLookupByName(key)
        active = bool(net.isActive())
        return XmlSource(
            kind,
            key,
            str(net.name()),
            str(net.UUIDString()),
            _inactive_xml(net, libvirt.VIR_NETWORK_XML_INACTIVE),
            active=active,
            note=NETWORK_RUNNING if active else "",
        )
    if kind == "pool":
        pool = conn.storagePoolLookupByName(key)
        active = bool(pool.isActive())
        return XmlSource(
            kind,
            key,
            str(pool.name()),
            str(pool.UUIDString()),
            _inactive_xml(pool, libvirt.VIR_STORAGE_XML_INACTIVE),
            active=active,
            note=POOL_RUNNING if active else "",
        )
    pool_name, _, vol_name = key.partition("/")
    vol = conn.storagePoolLookupByName(pool_name).storageVolLookupByName(vol_name)
    return XmlSource(
        kind, key, str(vol.name()), "", str(vol.XMLDesc(0)), readonly_reason=VOLUME_READONLY
    )


# ------------------------------------------------------------------------------ checking
def parse_text(text: str) -> ET.Element:
    """ElementTree's parse; a syntax error is XmlEditError with 1-based line and column."""
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        message = str(exc).split(": line", 1)[0]
        raise XmlEditError(f"not well-formed XML: {message}", line, column + 1) from exc


def _same_uuid(a: str, b: str) -> bool:
    try:
        return uuidlib.UUID(a.strip()) == uuidlib.UUID(b.strip())
    except ValueError:
        return False


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def check_text(source: XmlSource, text: str) -> str:
    """Check an edited text locally; return the XML libvirt gets (masked passwords restored).
    Raises XmlEditError (parse error with line:column, rename, UUID change, wrong element)."""
    if source.readonly_reason:
        raise XmlEditError(source.readonly_reason)
    root = parse_text(text)
    if root.tag != source.root_tag:
        raise XmlEditError(
            f"the root element must stay <{source.root_tag}> (found <{root.tag}>)",
            _line_of(text, f"<{root.tag}"),
        )
    name = (root.findtext("name") or "").strip()
    if name != source.name:
        raise XmlEditError(
            f"the name must stay {source.name!r} (found {name!r}): renaming is a separate "
            "action (Actions > Rename for a domain)",
            _line_of(text, "<name"),
        )
    if source.uuid:
        got = root.findtext("uuid")
        if got is None:
            raise XmlEditError(
                f"keep the <uuid> element ({source.uuid}): without it libvirt would make "
                "another object"
            )
        if not _same_uuid(got, source.uuid):
            raise XmlEditError(
                f"the UUID must stay {source.uuid} (found {got.strip()!r})", _line_of(text, "<uuid")
            )
    return restore_passwords(text, root, source.passwords)


def restore_passwords(text: str, root: ET.Element, passwords: tuple[tuple[str, str], ...]) -> str:
    """Replace each `passwd='********'` still in `text` by the password it masked (matched by
    graphics type, in order)."""
    masked = [el for el in root.iter() if el.get("passwd") == MASK]
    if not masked:
        return text
    left = list(passwords)
    values: list[str] = []
    for el in masked:
        kind = el.get("type") or el.tag
        index = next((i for i, (k, _pw) in enumerate(left) if k == kind), None)
        if index is None:
            raise XmlEditError(
                f"passwd='{MASK}' on a {kind} display that had no password: type the password",
                _line_of(text, MASK),
            )
        values.append(left.pop(index)[1])
    matches = list(_MASKED_ATTR.finditer(text))
    if len(matches) != len(values):
        raise XmlEditError(f"cannot tell which password each '{MASK}' stands for: type them")
    out: list[str] = []
    last = 0
    for match, value in zip(matches, values, strict=True):
        quote = match.group(2)
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(quote, _entity(quote))
        out.append(text[last : match.start()])
        out.append(f"{match.group(1)}passwd={quote}{escaped}{quote}")
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _entity(quote: str) -> str:
    return "&apos;" if quote == "'" else "&quot;"


# ------------------------------------------------------------------------------ libvirt
_LINE_PATTERNS = (
    re.compile(r"\(\w+_definition\):(\d+):"),
    re.compile(r"\bline (\d+)\b"),
)
_QUOTED = re.compile(r"'([^'\n]{1,80})'")


def error_line(message: str, text: str = "") -> int | None:
    """The line libvirt's message names, if any; else the line of the one quoted value it names
    that occurs exactly once in `text` (e.g. "unknown disk bus type 'foo'")."""
    for pattern in _LINE_PATTERNS:
        found = pattern.search(message)
        if found:
            return int(found.group(1))
    if text:
        for value in _QUOTED.findall(message):
            hits = [f"'{value}'", f'"{value}"', f">{value}<"]
            counts = [text.count(h) for h in hits]
            if sum(counts) == 1:
                return _line_of(text, hits[counts.index(1)])
    return None


def first_changed_line(old: str, new: str) -> int | None:
    """The 1-based line of `new` where it first differs from `old` (None when equal)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)):
        if a != b:
            return i + 1
    if len(old_lines) == len(new_lines):
        return None
    return min(len(old_lines), len(new_lines)) + 1


def define_text(conn: libvirt.virConnect, source: XmlSource, text: str) -> XmlDefined:
    """Check `text`, define it with VALIDATE, and re-read what libvirt holds now."""
    xml = check_text(source, text)
    try:
        if source.kind == "domain":
            conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        elif source.kind == "network":
            conn.networkDefineXMLFlags(xml, libvirt.VIR_NETWORK_DEFINE_VALIDATE)
        else:
            conn.storagePoolDefineXML(xml, libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE)
    except libvirt.libvirtError as exc:
        message = error_message(exc)
        line = error_line(message, text)
        if line is None:
            line = first_changed_line(source.text, text)
            if line is not None:
                message += f"\n(libvirt does not say where; your first change is on line {line})"
        raise XmlEditError(message, line) from exc
    after = read_source(conn, source.kind, source.key)
    return XmlDefined(after.name, after.note, after.text)


def unified_diff(old: str, new: str, old_label: str = "current", new_label: str = "edited") -> str:
    """A unified diff of two texts (empty when equal)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_label, new_label
        )
    )
