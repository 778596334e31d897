"""Integration tests: a real libvirtd on qemu:///system and the tiny test guest.

Every test here is marked `integration`. Without the guest kernel (`make guest`) they are
skipped, except under CI (env CI set), where a missing guest fails them loudly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import (
    SYSTEM_URI,
    SerialConsole,
    guest_available,
    guest_dir,
    open_system_conn,
    running_guest,
    transient_dir_pool,
    wait_for_shell,
)
from virttui.core.host.libvirt_runtime import error_message

HERE = Path(__file__).parent


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_guest_message() -> str:
    return (
        f"tiny test guest not built: no vmlinuz/initrd.gz in {guest_dir()} "
        "(run `make guest`, or set VIRTTUI_GUEST_DIR)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = None
    if not guest_available() and not in_ci():
        skip = pytest.mark.skip(reason=_missing_guest_message())
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.integration)
        if skip is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _require_guest() -> None:
    # Reached only when not skipped: under CI a missing guest is an error, not a skip.
    if not guest_available():
        pytest.fail(_missing_guest_message() + " [CI is set, so this is a failure]")


class _SystemConnCache:
    """One qemu:///system connection shared by the session, reopened if libvirtd was restarted
    (the daemon-restart test kills it on purpose)."""

    conn: libvirt.virConnect | None = None

    def get(self) -> libvirt.virConnect:
        conn = self.conn
        if conn is not None:
            try:
                if conn.isAlive() == 1:
                    conn.getLibVersion()  # a round trip: isAlive alone can miss a fresh EOF
                    return conn
            except libvirt.libvirtError:
                pass
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
        try:
            self.conn = open_system_conn(SYSTEM_URI)
        except libvirt.libvirtError as exc:
            pytest.fail(
                f"libvirtd is unreachable at {SYSTEM_URI}: {error_message(exc)} "
                "(start it with `bash scripts/ensure-libvirtd.sh`)"
            )
        return self.conn


@pytest.fixture(scope="session")
def _system_conn_cache() -> Iterator[_SystemConnCache]:
    cache = _SystemConnCache()
    yield cache
    if cache.conn is not None:
        with contextlib.suppress(libvirt.libvirtError):
            cache.conn.close()


@pytest.fixture
def system_conn(_system_conn_cache: _SystemConnCache) -> libvirt.virConnect:
    """A live qemu:///system connection, opened after the libvirt event loop started."""
    return _system_conn_cache.get()


@pytest.fixture(scope="module")
def conn() -> Iterator[libvirt.virConnect]:
    """A qemu:///system connection of the module's own, for module-scoped guests and pools."""
    c = open_system_conn(SYSTEM_URI)
    yield c
    with contextlib.suppress(libvirt.libvirtError):
        c.close()


@pytest.fixture
def tiny_guest(system_conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    """A running tiny guest (vt-test-<hex>), destroyed, undefined and deleted afterwards."""
    with running_guest(system_conn) as dom:
        yield dom


@pytest.fixture
def guest_console(tiny_guest: libvirt.virDomain) -> Iterator[SerialConsole]:
    """The serial console of `tiny_guest`, once its shell answers."""
    with SerialConsole(tiny_guest) as console:
        wait_for_shell(console, timeout=120)
        yield console


@pytest.fixture
def temp_pool(system_conn: libvirt.virConnect) -> Iterator[libvirt.virStoragePool]:
    """A transient dir pool over a fresh directory QEMU (libvirt-qemu) can traverse; its volumes,
    the pool and the directory are removed afterwards."""
    with transient_dir_pool(system_conn, "vt-pool") as (pool, _path):
        yield pool
