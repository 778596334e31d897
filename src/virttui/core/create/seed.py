"""The spec's cloud-init answers as the NoCloud seed's options, and their checks.

- `seed_options(spec, inst, dom_uuid)`: `cloudinit.SeedOptions` from `CloudImageInstall.seed`
  (an empty host name is made of the domain's name; the instance-id is new per created domain,
  its UUID: cloud-init runs its first-boot modules once per instance-id). The runner builds the
  seed ISO from it.
- `seed_problems(spec)`: every problem of the seed (`SeedOptions.problems`: host name, user,
  password hash, SSH keys, packages, the YAML of extra user-data and network-config with its
  line, "no way to log in"), keyed by spec path (``install.seed.network_config``), so that
  `validate.check_create` (the summary's check, the runner's first step, `virttui create`)
  refuses a bad seed before anything is made and the wizard shows it next to its field.
- `seed_field(name)`: the spec path of a `cloudinit.SeedError.field`.
"""

from __future__ import annotations

import uuid as uuidlib

from virttui.core.create import cloudinit as C
from virttui.core.create.spec import CloudImageInstall, CreateSpec

SEED = "install.seed"
# cloudinit.SeedError.field -> the CloudSeed field it is about ("" : the seed as a whole)
_SEED_FIELDS = {
    "hostname": "hostname",
    "user": "user",
    "password": "password_hash",
    "ssh_keys": "ssh_keys",
    "packages": "packages",
    "sudo": "sudo",
    "ssh_password_login": "ssh_password_login",
    "extra_user_data": "extra_user_data",
    "network_config": "network_config",
    "instance_id": "",
    "seed": "",
}


def seed_field(name: str) -> str:
    """The spec path of a seed option's field (``install.seed.password_hash`` for
    "password"); the seed itself for what is not one answer (instance-id, the ISO file)."""
    inner = _SEED_FIELDS.get(name, "")
    return f"{SEED}.{inner}" if inner else SEED


def seed_options(
    spec: CreateSpec, inst: CloudImageInstall, dom_uuid: str | None = None
) -> C.SeedOptions:
    """The seed of the spec's cloud-init answers (see the module's docstring)."""
    seed = inst.seed
    return C.SeedOptions(
        hostname=seed.hostname or C.hostname_from_name(spec.name),
        instance_id=f"iid-{dom_uuid or uuidlib.uuid4()}",
        user=seed.user,
        password_hash=seed.password_hash,
        ssh_keys=seed.ssh_keys,
        packages=seed.packages,
        sudo=seed.sudo,
        ssh_password_login=seed.ssh_password_login,
        extra_user_data=seed.extra_user_data,
        network_config=seed.network_config,
    )


def seed_problems(spec: CreateSpec) -> dict[str, str]:
    """Spec path -> message for the cloud-init seed ({} when the spec has none or it is fine)."""
    inst = spec.install
    if not isinstance(inst, CloudImageInstall):
        return {}
    errors: dict[str, str] = {}
    for name, message in seed_options(spec, inst).problems().items():
        errors.setdefault(seed_field(name), message)
    return errors


__all__ = ["SEED", "seed_field", "seed_options", "seed_problems"]
