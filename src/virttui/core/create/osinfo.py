"""OS variants from osinfo-db: the wizard's searchable OS list and the defaults each OS implies.

osinfo-db is plain XML (Debian package `osinfo-db`): `<dir>/os/<vendor>/<os>.xml`, each `<os>`
with short-ids, name, vendor, family/distro, version, release and EOL dates, `<resources>` per
architecture (minimum/recommended: cpu Hz, n-cpus, ram and storage in bytes), links
(derives-from, upgrades, clones), the devices it has drivers for and the firmware it needs.
It is read here with ElementTree, without libosinfo/GObject.

Databases (`db_dirs`), the places libosinfo and `osinfo-db-import` use, each overridable by the
same environment variable: system `$OSINFO_SYSTEM_DIR` or /usr/share/osinfo (the package),
local `$OSINFO_LOCAL_DIR` or /etc/osinfo (`osinfo-db-import` run as root), user
`$OSINFO_USER_DIR` or `$XDG_CONFIG_HOME/osinfo` (~/.config/osinfo, `osinfo-db-import --user`).
Each one present is read; for an OS id found in several, the entry of the database with the
newest `VERSION` wins (equal versions: user over local over system, libosinfo's order). The
newest VERSION is `OsDb.version_text` ("2022-12-03"), shown with fallbacks.

Speed: ~800 files. `load_db()` parses them once per process (localized `<name xml:lang>` lines
are dropped before parsing, which halves the time) and keeps the result until a database
directory changes. Measured on the 2-core test machine under load: ~0.2 s cold
(tests/core/create/test_osinfo.py prints the figure), ~0 warm. It is blocking file I/O: the
wizard calls it the first time from a job (`start_job(..., lambda ctx: load_db())`). The
database is the one on the machine running virttui, also for a remote host (as virt-manager).

What the wizard needs (later session):
- `load_db()` -> `OsDb`; `db.search(text)` for the OS field (exact/prefix first, newest
  first within a rank; "generic" is an entry: `GENERIC`); `db.get(short_id)`.
- `db.nearest(text)` -> `OsChoice` for what the admin typed or a preset names: the entry, and
  `choice.fallback` (a sentence to show next to the field when the OS is not in the database:
  "debian12 is not in this osinfo-db (2022-12-03): using Debian 11's defaults").
- `defaults(entry, arch)` -> `OsDefaults` (memory, vCPUs, disk: recommended, else twice the
  minimum, inherited through derives-from; `GENERIC_DEFAULTS` for "generic"); `notes` say
  where each figure came from.
- `supports_virtio(entry)` (disk, net) and `device_defaults(entry, machine)` (disk/CD-ROM bus,
  NIC model: virt-install's rules); `supports_q35(entry)`; `firmware_needs(entry, arch)`.
- `entry.short_id` is what `virt-install --osinfo` takes and what libosinfo metadata stores
  (`<libosinfo:os id="entry.id"/>` in the domain's metadata, as virt-install writes it).
"""

from __future__ import annotations

import datetime
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

SYSTEM_DIR = "/usr/share/osinfo"
LOCAL_DIR = "/etc/osinfo"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Localized names/vendors: one element on one line, never nested; dropped before parsing.
_L10N = re.compile(rb'<(name|vendor)\s+xml:lang="[^"]*">[^<]*</\1>\s*')

VIRTIO_DISK = frozenset({"http://pcisig.com/pci/1af4/1001", "http://pcisig.com/pci/1af4/1042"})
VIRTIO_NET = frozenset({"http://pcisig.com/pci/1af4/1000", "http://pcisig.com/pci/1af4/1041"})
VIRTIO1_NET = "http://pcisig.com/pci/1af4/1041"
CHIPSET_Q35 = "http://qemu.org/chipset/x86/q35"

DbKind = Literal["system", "local", "user", "custom"]
_KIND_ORDER = {"system": 0, "local": 1, "user": 2, "custom": 3}

GIB = 1 << 30


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True, slots=True)
class Resources:
    """One `<minimum>` or `<recommended>` block (None: not given)."""

    cpu_hz: int | None = None
    n_cpus: int | None = None
    ram: int | None = None  # bytes
    storage: int | None = None  # bytes

    def get(self, key: str) -> int | None:
        value: int | None = getattr(self, key)
        return value


@dataclass(frozen=True, slots=True)
class ArchResources:
    arch: str  # "all", "x86_64", "i686", "aarch64", ...
    minimum: Resources = Resources()
    recommended: Resources = Resources()


@dataclass(frozen=True, slots=True)
class Firmware:
    arch: str
    type: str  # "efi" or "bios"
    supported: bool = True


@dataclass(frozen=True, slots=True)
class ResourceOwner:
    """An OS's own resources, in an entry's inheritance chain (itself first, then derives-from)."""

    name: str
    resources: tuple[ArchResources, ...]
    inherit: bool = False  # `<resources inherit="true"/>`: the parent's count too


@dataclass(frozen=True, slots=True)
class OsEntry:
    """One OS of the database. Every string is the database's text (render it literally)."""

    id: str  # "http://debian.org/debian/11"
    short_ids: tuple[str, ...]  # ("debian11", "debianbullseye"): the first is the main one
    name: str
    vendor: str = ""
    family: str = ""  # "linux", "winnt", ...
    distro: str = ""  # "debian", "win", ...
    version: str = ""
    codename: str = ""
    release_date: str = ""  # ISO date as in the database, "" when unknown
    eol_date: str = ""
    release_status: str = ""  # "", "prerelease", "snapshot", "rolling"
    resources: tuple[ArchResources, ...] = ()
    inherit_resources: bool = False  # `<resources inherit="true"/>`
    derives_from: tuple[str, ...] = ()
    upgrades: tuple[str, ...] = ()
    clones: tuple[str, ...] = ()
    own_devices: tuple[tuple[str, bool], ...] = ()  # (device id, supported) as listed here
    own_firmware: tuple[Firmware, ...] = ()
    source: str = ""  # the database directory it came from
    # Resolved through derives-from and clones when the database is loaded:
    devices: frozenset[str] = frozenset()  # supported device ids
    firmware: tuple[Firmware, ...] = ()
    resource_chain: tuple[ResourceOwner, ...] = field(default=(), repr=False)

    @property
    def short_id(self) -> str:
        return self.short_ids[0] if self.short_ids else self.id

    @property
    def is_generic(self) -> bool:
        return self.id == GENERIC_ID

    def release(self) -> datetime.date | None:
        return _date(self.release_date)

    def is_eol(self, today: datetime.date | None = None) -> bool:
        """virt-install's rule: past its EOL date; without one, released over 10 years ago
        (rolling distributions never)."""
        today = today or datetime.date.today()
        eol = _date(self.eol_date)
        if eol is not None:
            return today > eol
        if self.release_status == "rolling":
            return False
        rel = self.release()
        return rel is not None and today > rel + datetime.timedelta(days=3650)

    def version_key(self) -> tuple[int, ...]:
        return _version_tuple(self.version) or ()


GENERIC_ID = "generic"
GENERIC = OsEntry(id=GENERIC_ID, short_ids=(GENERIC_ID,), name="Generic OS")


@dataclass(frozen=True, slots=True)
class DbSource:
    kind: DbKind
    path: str
    version: str = ""  # the VERSION file ("20221203"), "" when missing
    entries: int = 0


@dataclass(frozen=True, slots=True)
class DbDir:
    kind: DbKind
    path: str


@dataclass(frozen=True, slots=True)
class OsChoice:
    """What `nearest` found: the entry to use and, when it is not the OS asked for, a sentence
    saying so (show it next to the OS field)."""

    entry: OsEntry
    asked: str
    fallback: str = ""  # "" when the database knows the OS

    @property
    def exact(self) -> bool:
        return not self.fallback


@dataclass(frozen=True, slots=True)
class OsDefaults:
    memory: int  # bytes
    vcpus: int
    disk: int  # bytes
    min_memory: int | None = None
    min_disk: int | None = None
    notes: tuple[str, ...] = ()  # where each figure came from


GENERIC_DEFAULTS = OsDefaults(
    memory=2 * GIB,
    vcpus=2,
    disk=20 * GIB,
    notes=("generic OS: 2 GiB memory, 2 vCPUs, 20 GiB disk",),
)


@dataclass(frozen=True, slots=True)
class VirtioSupport:
    disk: bool
    net: bool

    def __bool__(self) -> bool:
        return self.disk and self.net


@dataclass(frozen=True, slots=True)
class DeviceDefaults:
    disk_bus: str  # virtio, sata, ide
    cdrom_bus: str  # sata, ide
    net_model: str  # virtio, e1000e, e1000


@dataclass(frozen=True, slots=True)
class FirmwareNeeds:
    efi_supported: bool | None  # None: the database does not say
    bios_supported: bool | None

    @property
    def requires_efi(self) -> bool:
        return bool(self.efi_supported) and self.bios_supported is False


# ------------------------------------------------------------------------------------ parsing
def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _version_tuple(text: str) -> tuple[int, ...] | None:
    if not re.fullmatch(r"\d+(\.\d+)*", text.strip()):
        return None
    return tuple(int(part) for part in text.strip().split("."))


def _int(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if value > 0 else None


def _text(el: ET.Element, tag: str) -> str:
    for child in el.findall(tag):
        if child.get(_XML_LANG) is None:
            return (child.text or "").strip()
    return ""


def _resources(el: ET.Element | None) -> Resources:
    if el is None:
        return Resources()
    return Resources(
        cpu_hz=_int(el.findtext("cpu")),
        n_cpus=_int(el.findtext("n-cpus")),
        ram=_int(el.findtext("ram")),
        storage=_int(el.findtext("storage")),
    )


def parse_os(el: ET.Element, source: str = "") -> OsEntry | None:
    """One `<os>` element; None without an id."""
    os_id = el.get("id", "").strip()
    if not os_id:
        return None
    resources = []
    inherit = False
    for res in el.findall("resources"):
        if res.get("inherit") == "true":
            inherit = True
            continue
        resources.append(
            ArchResources(
                arch=res.get("arch", "all"),
                minimum=_resources(res.find("minimum")),
                recommended=_resources(res.find("recommended")),
            )
        )
    devices = tuple(
        (dev.get("id", ""), dev.get("supported", "true") != "false")
        for dev in el.findall("devices/device")
        if dev.get("id")
    )
    firmware = tuple(
        Firmware(fw.get("arch", "all"), fw.get("type", ""), fw.get("supported", "true") != "false")
        for fw in el.findall("firmware")
    )

    def links(tag: str) -> tuple[str, ...]:
        return tuple(x.get("id", "") for x in el.findall(tag) if x.get("id"))

    short_ids = tuple(t for x in el.findall("short-id") if (t := (x.text or "").strip()))
    return OsEntry(
        id=os_id,
        short_ids=short_ids or (os_id,),
        name=_text(el, "name") or (short_ids[0] if short_ids else os_id),
        vendor=_text(el, "vendor"),
        family=_text(el, "family"),
        distro=_text(el, "distro"),
        version=_text(el, "version"),
        codename=_text(el, "codename"),
        release_date=_text(el, "release-date"),
        eol_date=_text(el, "eol-date"),
        release_status=_text(el, "release-status"),
        resources=tuple(resources),
        inherit_resources=inherit,
        derives_from=links("derives-from"),
        upgrades=links("upgrades"),
        clones=links("clones"),
        own_devices=devices,
        own_firmware=firmware,
        source=source,
    )


def parse_file(path: str, source: str = "") -> list[OsEntry]:
    """The `<os>` entries of one database file (ParseError/OSError for a broken one)."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        root = ET.fromstring(_L10N.sub(b"", data))
    except ET.ParseError:
        root = ET.fromstring(data)
    found = [parse_os(el, source) for el in root.iter("os")]
    return [entry for entry in found if entry is not None]


def _read_version(path: str) -> str:
    try:
        with open(os.path.join(path, "VERSION"), encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()[:32]
    except OSError:
        return ""


def version_text(version: str) -> str:
    """ "20221203" -> "2022-12-03" (other forms as they are)."""
    if re.fullmatch(r"\d{8}", version):
        return f"{version[:4]}-{version[4:6]}-{version[6:]}"
    return version or "unknown version"


def db_dirs(env: Mapping[str, str] | None = None) -> list[DbDir]:
    """The database directories libosinfo reads, lowest priority first (present or not)."""
    env = os.environ if env is None else env
    config = env.get("XDG_CONFIG_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".config"
    )
    return [
        DbDir("system", env.get("OSINFO_SYSTEM_DIR") or SYSTEM_DIR),
        DbDir("local", env.get("OSINFO_LOCAL_DIR") or LOCAL_DIR),
        DbDir("user", env.get("OSINFO_USER_DIR") or os.path.join(config, "osinfo")),
    ]


# ------------------------------------------------------------------------------------ database
class OsDb:
    """The merged databases: entries by id and short-id, search, nearest, defaults."""

    def __init__(self, entries: Iterable[OsEntry], sources: Sequence[DbSource] = ()) -> None:
        self.sources = tuple(sources)
        raw = {entry.id: entry for entry in entries}
        raw.pop(GENERIC_ID, None)
        self._by_id = {key: _resolve(entry, raw) for key, entry in raw.items()}
        self._by_id[GENERIC_ID] = GENERIC
        self._by_short: dict[str, OsEntry] = {}
        for entry in sorted(self._by_id.values(), key=_newest_first):
            for sid in entry.short_ids:
                self._by_short.setdefault(sid.casefold(), entry)
        self._sorted = sorted(self._by_id.values(), key=_list_order)

    # -------------------------------------------------------------- facts
    @property
    def version(self) -> str:
        """The newest VERSION of the databases read ("20221203")."""
        versions = [s.version for s in self.sources if s.version]
        return max(versions) if versions else ""

    @property
    def version_text(self) -> str:
        return version_text(self.version)

    def __len__(self) -> int:
        return len(self._by_id)

    def entries(self) -> list[OsEntry]:
        """Every entry, "generic" first, then by name with the newest version first."""
        return list(self._sorted)

    def get(self, key: str) -> OsEntry | None:
        """By short-id (any of an OS's, case-insensitive) or full id."""
        key = key.strip()
        return self._by_id.get(key) or self._by_short.get(key.casefold())

    # -------------------------------------------------------------- search
    def search(
        self, text: str, *, limit: int | None = None, include_eol: bool = True
    ) -> list[OsEntry]:
        """Entries matching `text` (name, short-ids, vendor, version, codename): exact matches
        first, then short-id prefixes, name prefixes, word prefixes, substrings; the newest
        first within a rank. Empty text: every entry (`entries()` order)."""
        query = " ".join(text.casefold().split())
        today = datetime.date.today()
        pool = [e for e in self._sorted if include_eol or not e.is_eol(today) or e.is_generic]
        if not query:
            return pool[:limit] if limit else pool
        scored = []
        for entry in pool:
            rank = _rank(entry, query)
            if rank is not None:
                scored.append((rank, _newest_first(entry), entry))
        scored.sort(key=lambda item: (item[0], item[1]))
        found = [entry for _rank_, _key, entry in scored]
        return found[:limit] if limit else found

    # -------------------------------------------------------------- unknown OSes
    def nearest(self, text: str) -> OsChoice:
        """The entry for `text` (a short-id such as "debian12", or a name such as "Ubuntu
        24.04"). Not in the database: the nearest release of the same family (the newest one
        not newer than asked, else the oldest newer one), with `fallback` saying so; an unknown
        family: GENERIC, also labelled."""
        asked = text.strip()
        exact = self.get(asked)
        if exact is not None:
            return OsChoice(exact, asked)
        folded = asked.casefold()
        squashed = re.sub(r"[\s_-]+", "", folded)  # "Debian-11", "debian 11" -> debian11
        exact = self.get(squashed) if squashed else None
        if exact is not None:
            return OsChoice(exact, asked)
        for entry in self._sorted:
            if entry.name.casefold() == folded:
                return OsChoice(entry, asked)
        family, version = _split_version(folded)
        pick = self._family_pick(family, version) if family else None
        where = f"this osinfo-db ({self.version_text})"
        if pick is None:
            return OsChoice(
                GENERIC,
                asked,
                f"{asked} is not in {where}: using generic defaults",
            )
        return OsChoice(pick, asked, f"{asked} is not in {where}: using {pick.name}'s defaults")

    def _family_pick(self, family: str, version: tuple[int, ...] | None) -> OsEntry | None:
        members: list[tuple[tuple[int, ...], OsEntry]] = []
        squashed = family.replace(" ", "").replace("-", "")
        for entry in self._by_id.values():
            key = _family_version(entry, family, squashed)
            if key is not None:
                members.append((key, entry))
        if not members:
            return None
        released = [m for m in members if m[1].release_status not in ("prerelease", "snapshot")]
        members = released or members
        if version is None:
            return max(members, key=lambda m: m[0])[1]
        older = [m for m in members if m[0] <= version]
        if older:
            return max(older, key=lambda m: m[0])[1]
        return min(members, key=lambda m: m[0])[1]


def _newest_first(entry: OsEntry) -> tuple[int, int, tuple[int, ...], str]:
    rel = entry.release()
    ordinal = rel.toordinal() if rel else 0
    # negate for descending order: generic first, then dated newest first
    return (
        0 if entry.is_generic else 1,
        -ordinal,
        tuple(-v for v in entry.version_key()),
        entry.name,
    )


def _list_order(entry: OsEntry) -> tuple[int, str, tuple[int, ...], str]:
    base, _version = _split_version(entry.name.casefold())
    return (
        0 if entry.is_generic else 1,
        base or entry.name.casefold(),
        tuple(-v for v in entry.version_key()),
        entry.name,
    )


def _split_version(text: str) -> tuple[str, tuple[int, ...] | None]:
    """ "debian12" -> ("debian", (12,)); "ubuntu 24.04 lts" -> ("ubuntu", (24, 4));
    "centos-stream9" -> ("centos-stream", (9,)); "fedora" -> ("fedora", None)."""
    text = re.sub(r"\b(lts|linux)\b", " ", text).strip()
    m = re.fullmatch(r"([a-z][a-z _-]*?)[ _-]*(\d+(?:\.\d+)*)\b.*", text)
    if m:
        return m.group(1).strip(" _-"), tuple(int(p) for p in m.group(2).split("."))
    m = re.fullmatch(r"([a-z][a-z _-]*)", text)
    return (m.group(1).strip(" _-"), None) if m else ("", None)


def _family_version(entry: OsEntry, family: str, squashed: str) -> tuple[int, ...] | None:
    """The entry's version when it belongs to `family` (by short-id prefix or distro)."""
    for sid in entry.short_ids:
        m = re.fullmatch(r"([a-z][a-z-]*?)(\d+(?:\.\d+)*)", sid.casefold())
        if m and m.group(1) in (family, squashed):
            return tuple(int(p) for p in m.group(2).split("."))
    if entry.distro.casefold() in (family, squashed):
        return _version_tuple(entry.version)
    return None


def _rank(entry: OsEntry, query: str) -> int | None:
    sids = [s.casefold() for s in entry.short_ids]
    name = entry.name.casefold()
    if query in sids or query == name:
        return 0
    if any(s.startswith(query) for s in sids):
        return 1
    if name.startswith(query):
        return 2
    words = set(
        re.split(
            r"[\s()/,]+",
            " ".join([name, entry.vendor.casefold(), entry.version, entry.codename.casefold()]),
        )
    ) | set(sids)
    tokens = query.split()
    if all(any(w.startswith(t) for w in words) for t in tokens):
        return 3
    hay = " ".join([name, *sids, entry.vendor.casefold(), entry.codename.casefold()])
    if all(t in hay for t in tokens):
        return 4
    return None


def _related(entry: OsEntry, raw: Mapping[str, OsEntry], *, clones: bool) -> list[OsEntry]:
    """`entry`, then what it derives from (and clones), breadth first, each once."""
    out: list[OsEntry] = []
    seen: set[str] = set()
    queue = [entry]
    while queue:
        cur = queue.pop(0)
        if cur.id in seen:
            continue
        seen.add(cur.id)
        out.append(cur)
        ids = cur.derives_from + (cur.clones if clones else ())
        queue.extend(raw[i] for i in ids if i in raw and i not in seen)
    return out


def _resolve(entry: OsEntry, raw: Mapping[str, OsEntry]) -> OsEntry:
    """Devices and firmware through derives-from and clones (libosinfo's get_all_devices: the
    nearest OS that lists a device decides whether it is supported); the resource chain
    through derives-from."""
    decided: dict[str, bool] = {}
    firmware: dict[tuple[str, str], Firmware] = {}
    for rel in _related(entry, raw, clones=True):
        for dev_id, supported in rel.own_devices:
            decided.setdefault(dev_id, supported)
        for fw in rel.own_firmware:
            firmware.setdefault((fw.arch, fw.type), fw)
    chain = tuple(
        ResourceOwner(rel.name, rel.resources, rel.inherit_resources)
        for rel in _related(entry, raw, clones=False)
    )
    return replace(
        entry,
        devices=frozenset(d for d, ok in decided.items() if ok),
        firmware=tuple(firmware.values()),
        resource_chain=chain,
    )


# ------------------------------------------------------------------------------------ loading
_cache_lock = threading.Lock()
_cache: dict[tuple[tuple[str, str, float], ...], OsDb] = {}


def _stamp(path: str) -> float:
    """Changes when the database is replaced or a vendor directory changes."""
    stamps = []
    for sub in ("", "VERSION", "os"):
        try:
            stamps.append(os.stat(os.path.join(path, sub)).st_mtime)
        except OSError:
            stamps.append(-1.0)
    return max(stamps)


def load_dirs(dirs: Sequence[DbDir]) -> OsDb:
    """Read every database in `dirs` (missing ones skipped) into one `OsDb` (no cache).
    Per OS id, the database with the newest VERSION wins; equal: the later in `dirs`."""
    best: dict[str, tuple[tuple[str, int], OsEntry]] = {}
    sources = []
    for order, d in enumerate(dirs):
        os_dir = os.path.join(d.path, "os")
        if not os.path.isdir(os_dir):
            continue
        version = _read_version(d.path)
        count = 0
        for vendor in sorted(os.listdir(os_dir)):
            vendor_dir = os.path.join(os_dir, vendor)
            if not os.path.isdir(vendor_dir):
                continue
            for name in sorted(os.listdir(vendor_dir)):
                if not name.endswith(".xml"):
                    continue
                try:
                    found = parse_file(os.path.join(vendor_dir, name), d.path)
                except (OSError, ET.ParseError):
                    continue  # a broken file costs its OS, not the list
                for entry in found:
                    count += 1
                    rank = (version, order)
                    held = best.get(entry.id)
                    if held is None or rank >= held[0]:
                        best[entry.id] = (rank, entry)
        sources.append(DbSource(d.kind, d.path, version, count))
    return OsDb((entry for _rank, entry in best.values()), sources)


def load_db(dirs: Sequence[DbDir] | None = None) -> OsDb:
    """The merged databases of `dirs` (default: `db_dirs()`), parsed once per process and
    again only when a database directory changed. Blocking: call it from a job the first
    time."""
    dirs = list(db_dirs() if dirs is None else dirs)
    key = tuple((d.kind, d.path, _stamp(d.path)) for d in dirs)
    with _cache_lock:
        db = _cache.get(key)
        if db is None:
            db = load_dirs(dirs)
            _cache.clear()
            _cache[key] = db
        return db


# ------------------------------------------------------------------------------------ defaults
def _arch_value(resources: Sequence[ArchResources], arch: str, which: str, key: str) -> int | None:
    for want in (arch, "all"):
        for res in resources:
            if res.arch == want:
                value = getattr(res, which).get(key)
                if value:
                    return int(value)
    return None


def _figure(entry: OsEntry, arch: str, key: str) -> tuple[int | None, int | None, str]:
    """(value, minimum, where): the recommendation, else twice the minimum, of the OS itself;
    an OS that lists no resources (or says `inherit="true"`) takes its parent's, up the
    derives-from chain. An OS that lists resources but none for `arch` inherits nothing (win11
    lists x86_64 only: an aarch64 guest gets generic figures, not Windows Vista's)."""
    for owner in entry.resource_chain or (ResourceOwner(entry.name, entry.resources),):
        minimum = _arch_value(owner.resources, arch, "minimum", key)
        recommended = _arch_value(owner.resources, arch, "recommended", key)
        via = "" if owner.name == entry.name else f", from {owner.name}"
        if recommended:
            return recommended, minimum, f"recommended{via}"
        if minimum:
            return minimum * 2, minimum, f"twice the minimum{via}"
        if owner.resources and not owner.inherit:
            break
    return None, None, ""


def defaults(entry: OsEntry | None, arch: str = "x86_64") -> OsDefaults:
    """Memory, vCPUs and disk size for a new guest of `entry` on `arch`: osinfo-db's
    recommendation, else twice its minimum (virt-install's rule), looked up for the
    architecture then "all", inherited through derives-from when the OS itself lists none;
    each figure the database lacks comes from `GENERIC_DEFAULTS`."""
    if entry is None or entry.is_generic:
        return GENERIC_DEFAULTS
    memory, min_memory, mem_how = _figure(entry, arch, "ram")
    vcpus, _min_cpus, cpu_how = _figure(entry, arch, "n_cpus")
    disk, min_disk, disk_how = _figure(entry, arch, "storage")
    notes = []
    for what, how in (("memory", mem_how), ("vCPUs", cpu_how), ("disk", disk_how)):
        notes.append(f"{what}: {how}" if how else f"{what}: not in osinfo-db, generic default")
    return OsDefaults(
        memory=memory or GENERIC_DEFAULTS.memory,
        vcpus=vcpus or GENERIC_DEFAULTS.vcpus,
        disk=disk or GENERIC_DEFAULTS.disk,
        min_memory=min_memory,
        min_disk=min_disk,
        notes=tuple(notes),
    )


def supports_virtio(entry: OsEntry | None) -> VirtioSupport:
    """Does the OS have virtio disk and network drivers (virtio or virtio 1.0 devices, listed
    by the OS or one it derives from / clones)? "generic": no, as in virt-install."""
    if entry is None:
        return VirtioSupport(False, False)
    return VirtioSupport(
        disk=bool(entry.devices & VIRTIO_DISK), net=bool(entry.devices & VIRTIO_NET)
    )


def supports_q35(entry: OsEntry | None) -> bool:
    """virt-install's test for making an x86 guest q35: the OS lists the q35 chipset, and
    virtio 1.0 when it has virtio at all."""
    if entry is None:
        return False
    if entry.devices & VIRTIO_NET and VIRTIO1_NET not in entry.devices:
        return False
    return CHIPSET_Q35 in entry.devices


def device_defaults(entry: OsEntry | None, machine: str = "q35") -> DeviceDefaults:
    """virt-install's defaults for an x86 guest: virtio disk/NIC when the OS has the drivers;
    otherwise SATA disks and an e1000e NIC on q35, IDE and e1000 on i440fx ("pc");
    CD-ROMs on SATA (q35) or IDE."""
    virtio = supports_virtio(entry)
    q35 = "q35" in machine
    legacy_bus = "sata" if q35 else "ide"
    return DeviceDefaults(
        disk_bus="virtio" if virtio.disk else legacy_bus,
        cdrom_bus=legacy_bus,
        net_model="virtio" if virtio.net else ("e1000e" if q35 else "e1000"),
    )


def firmware_needs(entry: OsEntry | None, arch: str = "x86_64") -> FirmwareNeeds:
    """What the database says about UEFI and BIOS for `arch` (win11: EFI only)."""
    efi: bool | None = None
    bios: bool | None = None
    for fw in entry.firmware if entry is not None else ():
        if fw.arch not in (arch, "all"):
            continue
        if fw.type == "efi" and efi is None:
            efi = fw.supported
        elif fw.type == "bios" and bios is None:
            bios = fw.supported
    return FirmwareNeeds(efi, bios)
