"""libvirt secrets for LUKS-encrypted volumes: list, create (a volume passphrase), delete; and an
encrypted volume created in a pool with such a secret.

The passphrase is the admin's: it goes from the dialog straight into `virSecretSetValue` and is
never stored, logged, shown or kept by virttui (no attribute, no message, no exception text holds
it). Secrets are created `private='yes'` (libvirt never hands the value back out) and
`ephemeral='no'` (libvirt keeps it across restarts, so the volume stays usable). Listing never
reads a value.

LUKS volumes (libvirt 9.0): `<encryption format='luks'>` on a raw volume (a bare LUKS container,
`qemu-img info` says format "luks") or on a qcow2 volume (LUKS inside qcow2); libvirt runs
qemu-img with the secret. The old qcow2 AES encryption (`format='qcow'`) is refused by modern
QEMU and not offered.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt

from virttui.core.jobs import JobError
from virttui.core.storage.qemu_img import LUKS_ATTEMPTS, LUKS_RETRY_PAUSE, PBKDF_CLOCK

LUKS_FORMATS = ("qcow2", "raw")
MAX_PASSPHRASE = 1024  # bytes; libvirt's own limit for a secret value is far higher
# libvirt (9.0) names the QEMU secret object after the volume ("<name>_encrypt0") when it runs
# qemu-img for an encrypted volume, and QEMU ids are identifiers: any other name fails deep in
# qemu-img with "Parameter 'id' expects an identifier". Said before anything is created.
_QEMU_ID = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")

_USAGE_NAMES = {
    libvirt.VIR_SECRET_USAGE_TYPE_NONE: "none",
    libvirt.VIR_SECRET_USAGE_TYPE_VOLUME: "volume",
    libvirt.VIR_SECRET_USAGE_TYPE_CEPH: "ceph",
    libvirt.VIR_SECRET_USAGE_TYPE_ISCSI: "iscsi",
    libvirt.VIR_SECRET_USAGE_TYPE_TLS: "tls",
    libvirt.VIR_SECRET_USAGE_TYPE_VTPM: "vtpm",
}


class SecretError(JobError):
    """A secret or encrypted-volume request refused before libvirt (clear words)."""


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """One libvirt secret, without its value. Every text is the host's (untrusted)."""

    uuid: str
    usage_type: str  # "volume", "ceph", "iscsi", "tls", "vtpm", "none"
    usage_id: str  # for a volume secret: the volume's path
    description: str
    private: bool
    ephemeral: bool


def _secret_info(secret: libvirt.virSecret) -> SecretInfo:
    root = ET.fromstring(secret.XMLDesc(0))
    usage_type = _USAGE_NAMES.get(secret.usageType(), "other")
    return SecretInfo(
        uuid=str(secret.UUIDString()),
        usage_type=usage_type,
        usage_id=str(secret.usageID() or ""),
        description=root.findtext("description") or "",
        private=root.get("private", "no") == "yes",
        ephemeral=root.get("ephemeral", "no") == "yes",
    )


def list_secrets(conn: libvirt.virConnect) -> list[SecretInfo]:
    """Every secret of the host (never a value), volume secrets first, then by usage id."""
    infos: list[SecretInfo] = []
    for secret in conn.listAllSecrets(0):
        try:
            infos.append(_secret_info(secret))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_SECRET:
                raise  # gone meanwhile: skip; anything else is an answer we must show
    return sorted(infos, key=lambda s: (s.usage_type != "volume", s.usage_type, s.usage_id))


def check_passphrase(passphrase: str) -> bytes:
    """The passphrase as bytes; SecretError (naming no part of it) when unusable."""
    if not passphrase:
        raise SecretError("The passphrase is empty")
    raw = passphrase.encode("utf-8")
    if len(raw) > MAX_PASSPHRASE:
        raise SecretError(f"The passphrase is longer than {MAX_PASSPHRASE} bytes")
    if "\x00" in passphrase:
        raise SecretError("The passphrase contains a NUL character")
    return raw


def volume_secret_xml(volume_path: str, description: str = "") -> str:
    root = ET.Element("secret", ephemeral="no", private="yes")
    if description:
        ET.SubElement(root, "description").text = description
    usage = ET.SubElement(root, "usage", type="volume")
    ET.SubElement(usage, "volume").text = volume_path
    return ET.tostring(root, encoding="unicode")


def create_volume_secret(
    conn: libvirt.virConnect, volume_path: str, passphrase: str, description: str = ""
) -> str:
    """Define a private, persistent volume secret for `volume_path` holding `passphrase`;
    returns its UUID. If the value cannot be set, the secret is removed again."""
    value = check_passphrase(passphrase)
    if not volume_path.strip():
        raise SecretError("A volume secret needs the volume's path")
    secret = conn.secretDefineXML(volume_secret_xml(volume_path, description), 0)
    try:
        secret.setValue(value, 0)
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            secret.undefine()
        raise
    return str(secret.UUIDString())


def delete_secret(conn: libvirt.virConnect, uuid: str) -> None:
    conn.secretLookupByUUIDString(_checked_uuid(uuid)).undefine()


def secret_users(conn: libvirt.virConnect, uuid: str) -> list[str]:
    """What refers to secret `uuid` on this host, in words: "domain NAME (vda)" for a disk whose
    <encryption> or <auth> names it (persistent and live XML), "volume PATH" for a pool volume
    encrypted with it. Read before a delete: the secret goes, their data stays locked."""
    wanted = _checked_uuid(uuid)
    found: list[str] = []
    for dom in conn.listAllDomains(0):
        flags = [0, libvirt.VIR_DOMAIN_XML_INACTIVE] if dom.isActive() else [0]
        targets: list[str] = []
        for flag in flags:
            try:
                root = ET.fromstring(dom.XMLDesc(flag))
            except libvirt.libvirtError:
                continue
            for disk in root.findall("devices/disk"):
                if any((el.get("uuid") or "").lower() == wanted for el in disk.iter("secret")):
                    tgt = disk.find("target")
                    targets.append(tgt.get("dev", "?") if tgt is not None else "?")
        if targets:
            found.append(f"domain {dom.name()} ({', '.join(dict.fromkeys(targets))})")
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        try:
            volumes = pool.listAllVolumes(0)
        except libvirt.libvirtError:
            continue
        for vol in volumes:
            try:
                root = ET.fromstring(vol.XMLDesc(0))
            except libvirt.libvirtError:
                continue  # gone meanwhile
            if any((el.get("uuid") or "").lower() == wanted for el in root.iter("secret")):
                found.append(f"volume {vol.path()}")
    return found


def _checked_uuid(uuid: str) -> str:
    try:
        return str(uuidlib.UUID(uuid.strip()))
    except ValueError:
        raise SecretError(f"Not a secret UUID: {uuid!r}") from None


def pool_volume_path(conn: libvirt.virConnect, pool: str, name: str) -> str:
    """Where volume `name` of dir-like pool `pool` lives (its target path + name): the usage id
    of the volume secret to create before the volume."""
    if not name or "/" in name or name in (".", ".."):
        raise SecretError(f"Not a volume name: {name!r}")
    target = ET.fromstring(conn.storagePoolLookupByName(pool).XMLDesc(0)).findtext("target/path")
    if not target:
        raise SecretError(f"Pool {pool} has no target path")
    return f"{target.rstrip('/')}/{name}"


def encrypted_volume_xml(name: str, capacity_bytes: int, fmt: str, secret_uuid: str) -> str:
    if fmt not in LUKS_FORMATS:
        raise SecretError(f"LUKS volumes are raw or qcow2, not {fmt!r}")
    if capacity_bytes <= 0:
        raise SecretError("The volume's size must be above zero")
    if not _QEMU_ID.fullmatch(name):
        raise SecretError(
            f"An encrypted volume's name must start with a letter and hold only letters, digits, "
            f"'-', '.' and '_' (libvirt passes it to qemu-img as an object id): {name!r}"
        )
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity_bytes)
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=fmt)
    encryption = ET.SubElement(target, "encryption", format="luks")
    ET.SubElement(encryption, "secret", type="passphrase", uuid=_checked_uuid(secret_uuid))
    return ET.tostring(root, encoding="unicode")


def create_encrypted_volume(
    conn: libvirt.virConnect,
    pool: str,
    name: str,
    capacity_bytes: int,
    secret_uuid: str,
    *,
    fmt: str = "qcow2",
) -> str:
    """Create a LUKS-encrypted volume in pool `pool` with the passphrase of secret
    `secret_uuid`; returns the volume's path."""
    xml = encrypted_volume_xml(name, capacity_bytes, fmt, secret_uuid)
    conn.secretLookupByUUIDString(_checked_uuid(secret_uuid))  # a clear error before qemu-img
    storage_pool = conn.storagePoolLookupByName(pool)
    for attempt in range(1, LUKS_ATTEMPTS + 1):
        try:
            return str(storage_pool.createXML(xml, 0).path())
        except libvirt.libvirtError as exc:
            # qemu-img's LUKS timing fails now and then on a busy host (see qemu_img's
            # LUKS_ATTEMPTS); libvirt removes the failed volume, so trying again is safe.
            if PBKDF_CLOCK not in str(exc) or attempt == LUKS_ATTEMPTS:
                if PBKDF_CLOCK in str(exc):
                    raise SecretError(
                        f"qemu-img could not time the LUKS key derivation {LUKS_ATTEMPTS} times "
                        "(the host's CPUs are busy): try again when the host is quieter"
                    ) from exc
                raise
            time.sleep(LUKS_RETRY_PAUSE * attempt)
    raise AssertionError("unreachable")


def create_encrypted_volume_with_secret(
    conn: libvirt.virConnect,
    pool: str,
    name: str,
    capacity_bytes: int,
    passphrase: str,
    *,
    fmt: str = "qcow2",
    description: str = "",
) -> tuple[str, str]:
    """A new volume secret for the volume's future path, then the encrypted volume; the secret
    is removed again if the volume cannot be created. Returns (volume path, secret UUID)."""
    check_passphrase(passphrase)
    encrypted_volume_xml(name, capacity_bytes, fmt, str(uuidlib.UUID(int=0)))  # checks first
    path = pool_volume_path(conn, pool, name)
    secret_uuid = create_volume_secret(conn, path, passphrase, description)
    try:
        created = create_encrypted_volume(conn, pool, name, capacity_bytes, secret_uuid, fmt=fmt)
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            conn.secretLookupByUUIDString(secret_uuid).undefine()
        raise
    return created, secret_uuid


__all__ = [
    "LUKS_FORMATS",
    "SecretError",
    "SecretInfo",
    "check_passphrase",
    "create_encrypted_volume",
    "create_encrypted_volume_with_secret",
    "create_volume_secret",
    "delete_secret",
    "encrypted_volume_xml",
    "list_secrets",
    "pool_volume_path",
    "secret_users",
    "volume_secret_xml",
]
