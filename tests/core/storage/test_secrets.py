"""core/storage/secrets.py without a daemon: the XML it defines and the checks before libvirt."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from virttui.core.storage.secrets import (
    SecretError,
    check_passphrase,
    encrypted_volume_xml,
    volume_secret_xml,
)

UUID = "3e5b1f6a-0000-4000-8000-000000000001"


def test_volume_secret_is_private_and_persistent() -> None:
    root = ET.fromstring(volume_secret_xml("/pool/a b'é.qcow2", "for <vm>"))
    assert root.get("private") == "yes"
    assert root.get("ephemeral") == "no"
    assert root.findtext("description") == "for <vm>"
    assert root.find("usage").get("type") == "volume"  # type: ignore[union-attr]
    assert root.findtext("usage/volume") == "/pool/a b'é.qcow2"
    assert root.find("value") is None  # the value is never in the XML


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_encrypted_volume_xml(fmt: str) -> None:
    root = ET.fromstring(encrypted_volume_xml("disk1.img", 1 << 30, fmt, UUID.upper()))
    assert root.findtext("name") == "disk1.img"
    assert root.findtext("capacity") == str(1 << 30)
    assert root.find("target/format").get("type") == fmt  # type: ignore[union-attr]
    enc = root.find("target/encryption")
    assert enc is not None and enc.get("format") == "luks"
    secret = enc.find("secret")
    assert secret is not None
    assert (secret.get("type"), secret.get("uuid")) == ("passphrase", UUID)


@pytest.mark.parametrize(
    ("name", "size", "fmt", "uuid", "words"),
    [
        ("a.qcow2", 1, "vmdk", UUID, "raw or qcow2"),
        ("a.qcow2", 0, "qcow2", UUID, "above zero"),
        ("a b.qcow2", 1, "qcow2", UUID, "object id"),
        ("a.qcow2", 1, "qcow2", "not-a-uuid", "UUID"),
    ],
)
def test_encrypted_volume_xml_refuses(
    name: str, size: int, fmt: str, uuid: str, words: str
) -> None:
    with pytest.raises(SecretError, match=words):
        encrypted_volume_xml(name, size, fmt, uuid)


def test_passphrase_checks_never_quote_it() -> None:
    assert check_passphrase("pässword") == "pässword".encode()
    for bad in ("", "sec\x00ret", "y" * 1025):
        with pytest.raises(SecretError) as err:
            check_passphrase(bad)
        assert not bad or bad[:3] not in str(err.value)


class _Busy:
    """A pool whose qemu-img fails `failures` times with QEMU's busy-host PBKDF message."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def createXML(self, xml: str, flags: int) -> object:  # noqa: N802 - libvirt's name
        import libvirt

        self.calls += 1
        if self.calls <= self.failures:
            raise libvirt.libvirtError(
                "internal error: Child process (qemu-img create ...) unexpected exit status 1: "
                "qemu-img: /p/x.qcow2: Unable to get accurate CPU usage"
            )

        class Vol:
            def path(self) -> str:
                return "/p/x.qcow2"

        return Vol()


class _Conn:
    def __init__(self, pool: _Busy) -> None:
        self.pool = pool

    def secretLookupByUUIDString(self, uuid: str) -> object:  # noqa: N802
        return object()

    def storagePoolLookupByName(self, name: str) -> _Busy:  # noqa: N802
        return self.pool


def test_busy_host_pbkdf_timing_is_retried_then_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    from virttui.core.storage import secrets
    from virttui.core.storage.qemu_img import LUKS_ATTEMPTS as BUSY_RETRIES
    from virttui.core.storage.secrets import create_encrypted_volume

    monkeypatch.setattr(secrets, "LUKS_RETRY_PAUSE", 0.0)

    pool = _Busy(failures=BUSY_RETRIES - 1)
    path = create_encrypted_volume(_Conn(pool), "p", "x.qcow2", 1 << 20, UUID)  # type: ignore[arg-type]
    assert path == "/p/x.qcow2" and pool.calls == BUSY_RETRIES
    pool = _Busy(failures=BUSY_RETRIES)
    with pytest.raises(SecretError, match="busy"):
        create_encrypted_volume(_Conn(pool), "p", "x.qcow2", 1 << 20, UUID)  # type: ignore[arg-type]
    assert pool.calls == BUSY_RETRIES
