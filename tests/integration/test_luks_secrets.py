"""LUKS volumes with a libvirt secret on qemu:///system (core/storage/secrets.py): create a volume
secret, an encrypted volume with it (raw and qcow2), `qemu-img info` says encrypted, the secret
lists without its value, both are deleted again. Storage: conftest `temp_pool`."""

from __future__ import annotations

import contextlib
import json
import subprocess

import libvirt
import pytest

from tests.guestlib import unique_name
from virttui.core.storage.secrets import (
    SecretError,
    create_encrypted_volume,
    create_encrypted_volume_with_secret,
    create_volume_secret,
    delete_secret,
    list_secrets,
    pool_volume_path,
)

PASSPHRASE = "correct horse ' battery; é"
MIB = 1 << 20


def qemu_info(path: str) -> dict[str, object]:
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)
    assert isinstance(info, dict)
    return info


@contextlib.contextmanager
def cleanup_secret(conn: libvirt.virConnect, uuid: str):  # type: ignore[no-untyped-def]
    try:
        yield
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.secretLookupByUUIDString(uuid).undefine()


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_secret_then_encrypted_volume_then_delete(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, fmt: str
) -> None:
    name = unique_name("vt-luks") + f".{fmt}"
    path = pool_volume_path(system_conn, temp_pool.name(), name)
    uuid = create_volume_secret(system_conn, path, PASSPHRASE, "virttui test")
    with cleanup_secret(system_conn, uuid):
        listed = {s.uuid: s for s in list_secrets(system_conn)}
        secret = listed[uuid]
        assert (secret.usage_type, secret.usage_id) == ("volume", path)
        assert secret.description == "virttui test"
        assert secret.private and not secret.ephemeral
        assert PASSPHRASE not in repr(secret)
        # private: libvirt never hands the value back
        with pytest.raises(libvirt.libvirtError):
            system_conn.secretLookupByUUIDString(uuid).value()

        created = create_encrypted_volume(
            system_conn, temp_pool.name(), name, 16 * MIB, uuid, fmt=fmt
        )
        assert created == path
        info = qemu_info(path)
        assert info["encrypted"] is True
        assert info["format"] == ("luks" if fmt == "raw" else "qcow2")
        assert info["virtual-size"] == 16 * MIB
        vol = temp_pool.storageVolLookupByName(name)
        assert f"uuid='{uuid}'" in vol.XMLDesc(0) or f'uuid="{uuid}"' in vol.XMLDesc(0)

        vol.delete(0)
        delete_secret(system_conn, uuid)
        assert uuid not in {s.uuid for s in list_secrets(system_conn)}
        with pytest.raises(libvirt.libvirtError):
            system_conn.secretLookupByUUIDString(uuid)


def test_volume_with_new_secret_in_one_step(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    name = unique_name("vt-luks1") + ".qcow2"
    path, uuid = create_encrypted_volume_with_secret(
        system_conn, temp_pool.name(), name, 8 * MIB, PASSPHRASE
    )
    with cleanup_secret(system_conn, uuid):
        assert qemu_info(path)["encrypted"] is True
        temp_pool.storageVolLookupByName(name).delete(0)
        delete_secret(system_conn, uuid)


def test_failed_volume_removes_its_new_secret(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    name = unique_name("vt-luksdup") + ".qcow2"
    temp_pool.createXML(
        f"<volume><name>{name}</name><capacity>1048576</capacity>"
        "<target><format type='qcow2'/></target></volume>",
        0,
    )
    before = {s.uuid for s in list_secrets(system_conn)}
    with pytest.raises(libvirt.libvirtError):  # the volume exists already
        create_encrypted_volume_with_secret(
            system_conn, temp_pool.name(), name, 8 * MIB, PASSPHRASE
        )
    assert {s.uuid for s in list_secrets(system_conn)} == before


@pytest.mark.parametrize("passphrase", ["", "a\x00b", "x" * 2000])
def test_bad_passphrase_creates_nothing(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool, passphrase: str
) -> None:
    before = {s.uuid for s in list_secrets(system_conn)}
    with pytest.raises(SecretError) as err:
        create_encrypted_volume_with_secret(
            system_conn, temp_pool.name(), unique_name("vt-luksbad"), MIB, passphrase
        )
    assert passphrase[:3] not in str(err.value) or not passphrase
    assert {s.uuid for s in list_secrets(system_conn)} == before
    assert temp_pool.listAllVolumes(0) == []


def test_name_qemu_cannot_take_is_refused_first(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    """libvirt 9.0 passes the volume name to qemu-img as an object id: refused with the reason
    before a secret or a file exists."""
    before = {s.uuid for s in list_secrets(system_conn)}
    for name in ("with space.qcow2", "é.qcow2", "1starts-with-digit"):
        with pytest.raises(SecretError, match="object id"):
            create_encrypted_volume_with_secret(
                system_conn, temp_pool.name(), name, MIB, PASSPHRASE
            )
    assert {s.uuid for s in list_secrets(system_conn)} == before
    assert temp_pool.listAllVolumes(0) == []


def test_secret_users_name_volumes_and_domains(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    from tests.guestlib import defined_guest, qcow2_volume
    from virttui.core.storage.secrets import secret_users

    name = unique_name("vt-luksuse") + ".qcow2"
    path, uuid = create_encrypted_volume_with_secret(
        system_conn, temp_pool.name(), name, 8 * MIB, PASSPHRASE
    )
    with cleanup_secret(system_conn, uuid):
        assert secret_users(system_conn, uuid) == [f"volume {path}"]
        boot = qcow2_volume(temp_pool, unique_name("vt-boot") + ".qcow2")
        disk = (
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{path}'><encryption format='luks'>"
            f"<secret type='passphrase' uuid='{uuid}'/></encryption></source>"
            "<target dev='vdb' bus='virtio'/></disk>"
        )
        with defined_guest(system_conn, boot, prefix="vt-luksdom", extra_devices=disk) as dom:
            users = secret_users(system_conn, uuid)
            assert f"domain {dom.name()} (vdb)" in users and f"volume {path}" in users
        delete_secret(system_conn, uuid)
