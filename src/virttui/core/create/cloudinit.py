"""Cloud image + cloud-init: the NoCloud seed (user-data, meta-data, network-config) as an ISO
with volume id `cidata`, and the guest's disk as a qcow2 overlay on the cloud image.

- `SeedOptions`: hostname, instance-id, user, password *hash* (`hash_password` makes a
  SHA-512-crypt hash, pure Python: the clear password is never stored, never written, never in
  a repr), SSH public keys (shape checked: type, base64 blob naming the same type, comment),
  packages, passwordless sudo for the named user (default on), SSH password login (ssh_pwauth,
  default off), raw extra user-data merged in, optional network-config (v1/v2, its shape
  checked). `problems()` gives every problem, form field -> message (a YAML error names its
  line: `yaml_problem`); `validate()` raises the first as a `SeedError` whose `field` names the
  form field the message belongs next to. core/create/seed.py maps a spec onto these options.
- `user_data(opts)` / `meta_data(opts)` / `network_config(opts)`: YAML written by PyYAML's
  `safe_dump` from a dict, never by string concatenation: quotes, colons, `#`, newlines,
  leading spaces and any unicode survive (cloud-init reads it with PyYAML's SafeLoader; the
  tests read it back with `yaml.safe_load`). `safe_dump` also quotes `yes`/`on`/`0123`, which
  a YAML 1.1 reader would otherwise turn into booleans and numbers.
- `seed_iso_bytes(opts)` (for a volume upload to a remote host: the issue says local files are
  uploaded into a pool there, never assumed to exist) and `build_seed_iso(opts, path)` (a local
  file, written atomically, mode 0600: it holds a password hash; libvirt's dynamic ownership
  hands it to QEMU while the guest runs). Files `user-data`, `meta-data`[, `network-config`]
  with Rock Ridge and Joliet names (pycdlib, no external tool).
- `overlay_for_cloud_image(ctx, base, target, size, uri=...)`: `qemu-img create -f qcow2 -b
  BASE -F <probed format>` through core/storage/qemu_img (local or over ssh); the cloud image
  is only read, never the target, never opened for writing.

What the create runner needs (later session): run `overlay_for_cloud_image` in its job, build
the seed with `seed_iso_bytes` and upload it as a pool volume (or `build_seed_iso` for a local
directory pool), attach it as a read-only CD-ROM (`<disk type='file' device='cdrom'>`, target
on sata/ide), and on failure remove both (the overlay through `qemu_img.remove_file` or the
volume API; the seed the same way). Before, pass `used_by(base, ...)` as `base_users`: a cloud
image that is itself a guest's writable disk is refused. The instance-id should be new per
created domain (its UUID): cloud-init runs its first-boot modules once per instance-id.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import secrets
import struct
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pycdlib
import yaml

from virttui.core.jobs import JobContext, JobError, ssh_target
from virttui.core.storage import qemu_img as Q
from virttui.core.storage.used_by import User

VOLUME_ID = "cidata"
CLOUD_CONFIG_HEADER = "#cloud-config\n"
DEFAULT_SHELL = "/bin/bash"
SUDO_NOPASSWD = "ALL=(ALL) NOPASSWD:ALL"
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_HOST_SAFE = re.compile(r"[^A-Za-z0-9-]+")
_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._:~=*-]*")
# The crypt(3) hashes every cloud-init recognises as hashes in `password:` (its regex
# `\$(1|2a|2y|5|6)(\$.+){2}`; an older one would set a yescrypt `$y$` hash as a clear-text
# password), MD5 ($1$) left out as too weak.
_CRYPT_HASH = re.compile(r"\$(2a|2y|5|6)\$[./A-Za-z0-9$=]+\$[./A-Za-z0-9]+")


class SeedError(JobError):
    """A seed option that cannot be used; `field` is the form field it belongs to."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


# ------------------------------------------------------------------------------------ password
_CRYPT64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# glibc sha512-crypt's byte order for the final encoding: (b2, b1, b0) per 4 characters.
_SHA512_ORDER = (
    (0, 21, 42),
    (22, 43, 1),
    (44, 2, 23),
    (3, 24, 45),
    (25, 46, 4),
    (47, 5, 26),
    (6, 27, 48),
    (28, 49, 7),
    (50, 8, 29),
    (9, 30, 51),
    (31, 52, 10),
    (53, 11, 32),
    (12, 33, 54),
    (34, 55, 13),
    (56, 14, 35),
    (15, 36, 57),
    (37, 58, 16),
    (59, 17, 38),
    (18, 39, 60),
    (40, 61, 19),
    (62, 20, 41),
)
ROUNDS_DEFAULT = 5000


def _b64_24(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_CRYPT64[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(data: bytes, length: int) -> bytes:
    return (data * (length // len(data) + 1))[:length] if data else b""


def sha512_crypt(password: str, salt: str | None = None, rounds: int | None = None) -> str:
    """`$6$[rounds=N$]SALT$HASH`, the SHA-512-crypt of glibc's crypt(3) (Drepper's
    specification), in pure Python: what /etc/shadow, `chpasswd -e` and cloud-init's
    `hashed_passwd` take. `salt`: up to 16 characters of [./0-9A-Za-z] (random when None)."""
    if salt is None:
        salt = "".join(secrets.choice(_CRYPT64) for _ in range(16))
    if not salt or any(c not in _CRYPT64 for c in salt):
        raise ValueError("salt: characters of [./0-9A-Za-z] only")
    salt_b = salt.encode("ascii")[:16]
    custom = rounds is not None
    n_rounds = min(999_999_999, max(1000, rounds)) if rounds is not None else ROUNDS_DEFAULT
    pw = password.encode("utf-8")

    digest_b = hashlib.sha512(pw + salt_b + pw).digest()
    ctx_a = hashlib.sha512(pw + salt_b)
    ctx_a.update(_repeat(digest_b, len(pw)))
    n = len(pw)
    while n > 0:
        ctx_a.update(digest_b if n & 1 else pw)
        n >>= 1
    digest_a = ctx_a.digest()
    p_bytes = _repeat(hashlib.sha512(pw * len(pw)).digest(), len(pw))
    s_bytes = _repeat(hashlib.sha512(salt_b * (16 + digest_a[0])).digest(), len(salt_b))

    c = digest_a
    for i in range(n_rounds):
        h = hashlib.sha512(p_bytes if i & 1 else c)
        if i % 3:
            h.update(s_bytes)
        if i % 7:
            h.update(p_bytes)
        h.update(c if i & 1 else p_bytes)
        c = h.digest()

    encoded = "".join(_b64_24(c[a], c[b], c[d], 4) for a, b, d in _SHA512_ORDER)
    encoded += _b64_24(0, 0, c[63], 2)
    prefix = f"$6$rounds={n_rounds}$" if custom else "$6$"
    return f"{prefix}{salt_b.decode('ascii')}${encoded}"


def hash_password(password: str) -> str:
    """The hash to keep in `SeedOptions.password_hash` (SHA-512-crypt, random salt). The clear
    text goes no further than this call."""
    if not password:
        raise SeedError("password", "the password is empty")
    if "\0" in password:
        raise SeedError("password", "a password cannot contain a NUL character")
    return sha512_crypt(password)


def is_password_hash(text: str) -> bool:
    """Does `text` look like a SHA-256/512-crypt or bcrypt hash (as a preset may carry one)?
    yescrypt (`$y$`) and MD5 (`$1$`) are refused: see _CRYPT_HASH."""
    return bool(_CRYPT_HASH.fullmatch(text))


# ------------------------------------------------------------------------------------ ssh keys
def check_ssh_key(line: str) -> str:
    """An OpenSSH public key line ("TYPE BASE64 [COMMENT]") normalized to single spaces;
    SeedError when it is not one (a private key, a truncated blob, options in front)."""
    text = line.strip()
    if not text:
        raise SeedError("ssh_keys", "an empty SSH key")
    if text.startswith("-----BEGIN") and "PRIVATE KEY" in text.split("\n", 1)[0]:
        raise SeedError("ssh_keys", "this is a private key: paste the public key (.pub)")
    if _CONTROL.search(text):
        raise SeedError("ssh_keys", "an SSH key is one line without control characters")
    parts = text.split(None, 2)
    key_type = parts[0]
    if key_type == "ssh-dss":
        raise SeedError("ssh_keys", "DSA keys (ssh-dss) are refused by current OpenSSH")
    if key_type not in SSH_KEY_TYPES:
        raise SeedError(
            "ssh_keys",
            f"not an SSH public key: it should start with one of {', '.join(SSH_KEY_TYPES)}",
        )
    if len(parts) < 2:
        raise SeedError("ssh_keys", f"{key_type} key without its base64 part")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:  # binascii.Error is one
        raise SeedError("ssh_keys", "the key's base64 part is damaged") from None
    if len(blob) < 4:
        raise SeedError("ssh_keys", "the key's base64 part is too short")
    (name_len,) = struct.unpack(">I", blob[:4])
    if blob[4 : 4 + name_len] != key_type.encode("ascii") or len(blob) <= 4 + name_len:
        raise SeedError("ssh_keys", f"the key's data is not a {key_type} key (truncated?)")
    return " ".join(parts)


# ------------------------------------------------------------------------------------ options
@dataclass(frozen=True)
class SeedOptions:
    """Every answer of the wizard's cloud-init step. Holds no clear password."""

    hostname: str
    instance_id: str = field(default_factory=lambda: f"iid-{uuid.uuid4()}")
    user: str = ""  # "" : the cloud image's default user (debian, ubuntu, ...)
    password_hash: str = field(default="", repr=False)  # from hash_password()
    ssh_keys: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    sudo: bool = True  # the named user gets passwordless sudo (key-only users have no password)
    ssh_password_login: bool = False  # ssh_pwauth: password logins over SSH
    extra_user_data: str = ""  # raw #cloud-config YAML, merged over ours
    network_config: str = ""  # raw network-config YAML (v1 or v2); "" : the image's DHCP

    def validate(self) -> None:
        """SeedError for the first problem of `problems()` (in the form's order)."""
        for field_name, message in self.problems().items():
            raise SeedError(field_name, message)

    def problems(self) -> dict[str, str]:
        """Every problem, form field -> message (the first one of each field); {} = fine."""
        out: dict[str, str] = {}

        def check(fn: Callable[[str], object], value: str) -> None:
            try:
                fn(value)
            except SeedError as exc:
                out.setdefault(exc.field, str(exc))

        check(check_hostname, self.hostname)
        if not self.instance_id.strip() or _CONTROL.search(self.instance_id):
            out["instance_id"] = "instance-id: one line of text, not empty"
        elif len(self.instance_id) > 255:
            out["instance_id"] = "instance-id: at most 255 characters"
        if self.user and not _USER_NAME.fullmatch(self.user):
            out["user"] = (
                "user name: lower-case letters, digits, _ and -, starting with a letter or _ "
                "(at most 32)"
            )
        if self.password_hash and not is_password_hash(self.password_hash):
            out["password"] = "not a password hash (hash_password() makes one)"
        for i, key in enumerate(self.ssh_keys):
            try:
                check_ssh_key(key)
            except SeedError as exc:
                which = f"key {i + 1}: " if len(self.ssh_keys) > 1 else ""
                out.setdefault(exc.field, f"{which}{exc}")
        for name in self.packages:
            if not _PACKAGE.fullmatch(name):
                out.setdefault("packages", f"not a package name: {name!r}")
        if self.extra_user_data.strip():
            check(parse_extra_user_data, self.extra_user_data)
        if self.network_config.strip():
            check(parse_network_config, self.network_config)
        if not (self.password_hash or self.ssh_keys or self.extra_user_data.strip()):
            out.setdefault(
                "password", "no way to log in: give a password or an SSH public key (or both)"
            )
        if self.ssh_password_login and not (self.password_hash or self.extra_user_data.strip()):
            out["ssh_password_login"] = (
                "SSH password login needs a password (give one above, or turn this off)"
            )
        return out


def check_hostname(name: str) -> str:
    """A host name cloud-init can set: RFC 1123 labels separated by dots, 253 at most."""
    if not name:
        raise SeedError("hostname", "a host name is needed")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in name.split(".")):
        raise SeedError(
            "hostname",
            "host name: letters, digits and - (not first or last) in dot-separated labels of "
            "up to 63",
        )
    return name


def hostname_from_name(name: str) -> str:
    """The seed's host name when none is given: the domain's name, each run of characters a
    host name cannot hold made a `-`, at most 63 ("localhost" when nothing is left)."""
    label = _HOST_SAFE.sub("-", name).strip("-")[:63].strip("-")
    return label or "localhost"


# ------------------------------------------------------------------------------------ YAML
def _dump(data: Mapping[str, Any]) -> str:
    """YAML for `data`, checked by reading it back: non-ASCII text is written as it is for
    readability, except when PyYAML's emitter would not round-trip it (a raw U+0085 NEL in a
    key reads back as a space): then every non-ASCII character is escaped."""
    plain = dict(data)
    for allow_unicode in (True, False):
        text: str = yaml.safe_dump(
            plain,
            sort_keys=False,
            allow_unicode=allow_unicode,
            default_flow_style=False,
            width=4096,
        )
        if yaml.safe_load(text) == plain:
            return text
    raise SeedError("extra_user_data", "this text cannot be written as YAML that reads back")


def yaml_problem(exc: yaml.YAMLError, what: str, text: str = "") -> str:
    """One line for a YAML error, naming the line (and column) of the text as typed: where
    PyYAML noticed it, or, for a key without its `:` or a construct left open at the end of
    the text, the line where that began (PyYAML notices those lines later)."""
    problem: str | None = getattr(exc, "problem", None)
    mark: yaml.Mark | None = getattr(exc, "problem_mark", None)
    context: str | None = getattr(exc, "context", None)
    context_mark: yaml.Mark | None = getattr(exc, "context_mark", None)
    if problem is None:
        problem, mark, context = context or "cannot be read", context_mark or mark, None
    lead, tail = mark, ""
    if context and context_mark is not None and mark is not None:
        late = mark.index >= len(text.rstrip()) or context.endswith("simple key")
        if context_mark.line == mark.line:
            pass
        elif late:
            lead, tail = context_mark, f" ({context}; noticed at line {mark.line + 1})"
        else:
            tail = f" ({context} at line {context_mark.line + 1})"
    where = f" at line {lead.line + 1}, column {lead.column + 1}" if lead is not None else ""
    return _CONTROL.sub(" ", f"{what} is not valid YAML{where}: {problem}{tail}")


def _parse_mapping(text: str, field_name: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeedError(field_name, yaml_problem(exc, what, text)) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise SeedError(field_name, f"{what} must be a YAML mapping (key: value lines)")
    return data


def parse_network_config(text: str) -> dict[str, Any]:
    """The admin's network-config as a dict: NoCloud's `network-config` file, version 1
    (`config:` a list of interfaces) or 2 (netplan's `ethernets:`, `bonds:`, ...), optionally
    under a top-level `network:` key; `config: disabled` turns cloud-init's networking off."""
    data = _parse_mapping(text, "network_config", "network-config")
    if not data:
        return data
    inner = data.get("network", data) if set(data) == {"network"} else data
    if not isinstance(inner, dict):
        raise SeedError("network_config", "network-config: `network:` must hold a mapping")
    if inner.get("config") == "disabled":
        return data
    version = inner.get("version")
    if isinstance(version, bool) or version not in (1, 2):
        raise SeedError(
            "network_config",
            "network-config needs `version: 1` or `version: 2` (v2 is netplan's format)",
        )
    if version == 1:
        config = inner.get("config")
        if not isinstance(config, list) or not all(
            isinstance(item, dict) and "type" in item for item in config
        ):
            raise SeedError(
                "network_config",
                "network-config version 1: `config:` is a list of entries, each with a `type:`",
            )
    else:
        for key in ("ethernets", "bonds", "bridges", "vlans", "wifis"):
            if key in inner and not isinstance(inner[key], dict):
                raise SeedError(
                    "network_config",
                    f"network-config version 2: `{key}:` maps interface names to settings",
                )
    return data


def parse_extra_user_data(text: str) -> dict[str, Any]:
    """The admin's raw user-data as a dict: #cloud-config YAML only (no scripts, no MIME)."""
    stripped = text.lstrip()
    if stripped.startswith("#!") or stripped.lower().startswith(("content-type", "mime-version")):
        raise SeedError(
            "extra_user_data", "extra user-data must be #cloud-config YAML (not a script or MIME)"
        )
    return _parse_mapping(text, "extra_user_data", "extra user-data")


def merge(ours: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` merged over `ours`: mappings merged key by key, lists concatenated (ours
    first), anything else taken from `extra` (the admin typed it last)."""
    out = dict(ours)
    for key, value in extra.items():
        mine = out.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            out[key] = merge(mine, value)
        elif isinstance(mine, list) and isinstance(value, list):
            out[key] = [*mine, *value]
        else:
            out[key] = value
    return out


def user_data_dict(opts: SeedOptions) -> dict[str, Any]:
    """The #cloud-config document as data (before the extra user-data is merged)."""
    short = opts.hostname.split(".")[0]
    doc: dict[str, Any] = {"hostname": short}
    if short != opts.hostname:
        doc["fqdn"] = opts.hostname
    doc["manage_etc_hosts"] = True
    keys = [check_ssh_key(key) for key in opts.ssh_keys]
    if opts.user:
        user: dict[str, Any] = {"name": opts.user, "shell": DEFAULT_SHELL}
        if opts.sudo:
            user["sudo"] = SUDO_NOPASSWD
        if opts.password_hash:
            user["lock_passwd"] = False
            user["hashed_passwd"] = opts.password_hash
        if keys:
            user["ssh_authorized_keys"] = keys
        doc["users"] = [user]
    else:
        # the image's default user: `password` (a hash is recognised as one) and top-level keys
        if opts.password_hash:
            doc["password"] = opts.password_hash
        if keys:
            doc["ssh_authorized_keys"] = keys
    if opts.password_hash:
        doc["chpasswd"] = {"expire": False}
    doc["ssh_pwauth"] = opts.ssh_password_login
    if opts.packages:
        doc["package_update"] = True
        doc["packages"] = list(opts.packages)
    return doc


def user_data(opts: SeedOptions) -> str:
    """`#cloud-config` and the YAML of `user_data_dict(opts)` with the extra user-data merged
    (its comments are not kept)."""
    opts.validate()
    doc = user_data_dict(opts)
    if opts.extra_user_data.strip():
        doc = merge(doc, parse_extra_user_data(opts.extra_user_data))
    return CLOUD_CONFIG_HEADER + _dump(doc)


def meta_data(opts: SeedOptions) -> str:
    opts.validate()
    return _dump({"instance-id": opts.instance_id, "local-hostname": opts.hostname})


def network_config(opts: SeedOptions) -> str:
    """The network-config file ("" when none was given: the image's own DHCP default)."""
    if not opts.network_config.strip():
        return ""
    return _dump(parse_network_config(opts.network_config))


def seed_files(opts: SeedOptions) -> dict[str, bytes]:
    """The NoCloud files by name, UTF-8."""
    files = {
        "user-data": user_data(opts).encode("utf-8"),
        "meta-data": meta_data(opts).encode("utf-8"),
    }
    net = network_config(opts)
    if net:
        files["network-config"] = net.encode("utf-8")
    return files


# ------------------------------------------------------------------------------------ ISO
def _iso9660_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", name.upper()) + ".;1"


def seed_iso_bytes(opts: SeedOptions) -> bytes:
    """The seed ISO image: volume id `cidata`, ISO 9660 level 3 with Rock Ridge and Joliet
    names `user-data`, `meta-data`[, `network-config`] (cloud-init's NoCloud source looks for
    the label and reads these names)."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_ID)
    try:
        for name, data in seed_files(opts).items():
            iso.add_fp(
                io.BytesIO(data),
                len(data),
                f"/{_iso9660_name(name)}",
                rr_name=name,
                joliet_path=f"/{name}",
            )
        out = io.BytesIO()
        iso.write_fp(out)
        return out.getvalue()
    finally:
        iso.close()


def build_seed_iso(opts: SeedOptions, path: str, *, overwrite: bool = False) -> str:
    """Write the seed ISO to the local file `path`, atomically (a temporary file in the same
    directory, then renamed), mode 0600. An existing `path` is refused unless `overwrite`
    (and never replaced when it is not a regular file). Returns `path`."""
    Q.check_path(path, "seed ISO")
    if os.path.lexists(path):
        if not overwrite:
            raise SeedError("seed", f"{path} exists: choose another name")
        if os.path.islink(path) or not os.path.isfile(path):
            raise SeedError("seed", f"{path} exists and is not a regular file")
    data = seed_iso_bytes(opts)
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".virttui-seed-", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if something appeared meanwhile: never clobbered
            except FileExistsError:
                raise SeedError("seed", f"{path} exists: choose another name") from None
            except OSError:
                os.replace(tmp, path)  # a filesystem without hard links
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


# ------------------------------------------------------------------------------------ overlay
def _same_file(a: str, b: str, uri: str | None) -> bool:
    if uri and ssh_target(uri) is not None:
        return os.path.normpath(a) == os.path.normpath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def overlay_for_cloud_image(
    ctx: JobContext,
    base: str,
    target: str,
    size: int | None = None,
    *,
    uri: str | None = None,
    base_users: Sequence[User] = (),
) -> Q.ImageLayer:
    """A new qcow2 `target` backed by the cloud image `base`, `size` bytes (None: the cloud
    image's virtual size; never smaller). The base's format is probed with qemu-img info and
    written explicitly (-F); the base is only read. Refused: the target being the base (also
    through a symlink), an existing target, an encrypted base, a base some guest holds for
    writing (its lock) or that `base_users` (from used_by) shows as a guest's own disk.
    Returns the new overlay's layer as qemu-img reads it back."""
    Q.check_path(base, "cloud image")
    Q.check_path(target, "overlay")
    if _same_file(base, target, uri):
        raise Q.ImageError("the overlay cannot be the cloud image itself: the image is only read")
    writers = [u for u in base_users if u.kind == "domain" and u.how == "disk"]
    if writers:
        names = ", ".join(u.describe() for u in writers)
        raise Q.ImageError(
            f"{base} is the disk of {names}: an overlay on an image a guest writes would be "
            "corrupted by its next write. Use a copy of the cloud image."
        )
    ctx.progress(None, "reading the cloud image")
    probed = Q.info(ctx, base, uri=uri, chain=True)
    if probed.shared:
        raise Q.ImageError(
            f"{base} is in use (a running guest holds its write lock): an overlay needs a cloud "
            "image nobody writes"
        )
    top = probed.top
    if top.encrypted:
        raise Q.ImageError(f"{base} is encrypted: a cloud image overlay needs a plain image")
    if not top.format:
        raise Q.ImageError(f"qemu-img could not tell the format of {base}")
    if size is None:
        size = top.virtual_size
    if size < top.virtual_size:
        raise Q.ImageError(
            f"the overlay ({size} bytes) would be smaller than the cloud image "
            f"({top.virtual_size} bytes): the guest's file system would be cut"
        )
    opts = Q.CreateOptions(format="qcow2", size=size, backing_file=base, backing_format=top.format)
    existed = Q.path_exists(ctx, target, uri)
    ctx.progress(None, "creating the overlay")
    try:
        Q.create(ctx, target, opts, uri=uri)
        made = Q.info(ctx, target, uri=uri, chain=False).top
    except BaseException:
        if not existed:
            Q.remove_file(target, uri)
        raise
    return made
