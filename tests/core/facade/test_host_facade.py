"""HostFacade on libvirt's test driver: every operation by UUID, plain data back, HostError with
libvirt's message instead of a libvirt exception, NotConnected from a host that is down."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import libvirt
import pytest

from virttui.core.console.graphics import GraphicsSession, graphics_types
from virttui.core.console.serial import ConsoleError
from virttui.core.domain.action_result import Applied, DomainActionError
from virttui.core.domain.model import DomainDetails
from virttui.core.facade.host import HostError, HostFacade
from virttui.core.host.connection import HostConnection, NotConnected
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.jobs import describe_error

R = TypeVar("R")
TEST_NODE = Path(__file__).parents[1] / "data" / "test_node.xml"
UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
SRC = Path(__file__).parents[3] / "src" / "virttui"


class ConnHost:
    """The part of HostConnection the facade uses, over one private test-driver connection."""

    def __init__(self, conn: libvirt.virConnect, uri: str) -> None:
        self.conn = conn
        self.uri = uri
        self.label = "test node"
        self.is_local = True
        self.readonly = False
        self.refreshed: list[bool] = []
        self.forgotten: list[str] = []

    def call(self, fn: Callable[[libvirt.virConnect], R]) -> R:
        return fn(self.conn)

    def refresh_now(self, *, autostart: bool = False) -> None:
        self.refreshed.append(autostart)

    def forget_managed_save(self, uuid: str) -> None:
        self.forgotten.append(uuid)


@pytest.fixture
def host() -> Iterator[ConnHost]:
    silence_errors()
    uri = f"test://{TEST_NODE}"
    conn = libvirt.open(uri)
    yield ConnHost(conn, uri)
    conn.close()


@pytest.fixture
def facade(host: ConnHost) -> HostFacade:
    return HostFacade(host)  # type: ignore[arg-type]


def _no_libvirt_objects(value: Any) -> None:
    """Nothing the facade returns is (or holds at the top level) a libvirt object."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        assert type(item).__module__ not in ("libvirt", "libvirtmod"), item


def test_identity_without_rpc(facade: HostFacade) -> None:
    assert facade.uri.startswith("test://") and facade.label == "test node"
    assert facade.is_local and not facade.readonly


def test_reads_by_uuid_return_plain_data(facade: HostFacade) -> None:
    details = facade.details(UUID, with_disk_usage=False)
    assert isinstance(details, DomainDetails) and details.definition.name == "test"
    assert details.active and details.disk_usage == ()
    both = facade.details_and_xml(UUID)
    assert both[0].definition.name == "test" and "<name>test</name>" in both[1]
    assert "<domain" in facade.xml(UUID) and "<domain" in facade.xml(UUID, inactive=True)
    assert facade.active_pools() == ["default-pool"]
    assert facade.networks() == {"default": True}
    assert facade.graphics_types(UUID) == []
    assert facade.displays(UUID) == []
    for value in (
        details,
        both,
        facade.active_pools(),
        facade.networks(),
        facade.save_target_exists("/nonexistent/x.save"),
    ):
        _no_libvirt_objects(value)


def test_edit_details_merge_config_only_devices(facade: HostFacade, host: ConnHost) -> None:
    """A NIC added to the persistent config of a running domain shows in the edit details (so
    the Edit menu can remove it), not in the live details."""
    # The test driver has no attach: the change goes into the persistent definition only.
    applied = facade.add_nic(UUID, bridge="br0", model="e1000e", mac="52:54:00:aa:bb:01")
    assert isinstance(applied, Applied) and applied.config and not applied.live
    live = facade.details(UUID, with_disk_usage=False)
    edit = facade.edit_details(UUID)
    live_macs = {n.mac for n in live.definition.nics}
    edit_macs = {n.mac for n in edit.definition.nics}
    assert "52:54:00:aa:bb:01" not in live_macs
    assert "52:54:00:aa:bb:01" in edit_macs and live_macs < edit_macs
    assert "52:54:00:aa:bb:01" in facade.xml(UUID, inactive=True)
    assert "52:54:00:aa:bb:01" not in facade.xml(UUID)


def test_edits_land_and_report_where(facade: HostFacade) -> None:
    assert facade.set_title(UUID, "hello").describe()
    assert facade.details(UUID, with_disk_usage=False).definition.title == "hello"
    facade.set_memory(UUID, 1024 * 1024, None)
    assert facade.details(UUID, with_disk_usage=False).definition.memory_current_kib == 1024 * 1024
    applied, target = facade.add_cdrom(UUID, bus="sata")
    assert target.startswith("sd") and applied.config
    assert facade.remove_disk(UUID, target).config


def test_lifecycle_and_actions_by_uuid(facade: HostFacade, host: ConnHost) -> None:
    facade.lifecycle(UUID, "destroy")
    assert not facade.details(UUID, with_disk_usage=False).active
    facade.lifecycle(UUID, "start")
    assert facade.details(UUID, with_disk_usage=False).active
    facade.lifecycle(UUID, "pause")
    assert facade.details(UUID, with_disk_usage=False).state == libvirt.VIR_DOMAIN_PAUSED
    facade.lifecycle(UUID, "pause")  # pause/resume toggles
    assert facade.details(UUID, with_disk_usage=False).state == libvirt.VIR_DOMAIN_RUNNING
    facade.set_autostart(UUID, True)
    assert facade.details(UUID, with_disk_usage=False).autostart is True
    facade.managed_save(UUID)
    assert facade.details(UUID, with_disk_usage=False).has_managed_save
    facade.remove_managed_save(UUID)
    assert host.forgotten == [UUID]  # the poller re-reads it: libvirt sends no event
    facade.refresh_now(autostart=True)
    assert host.refreshed == [True]
    assert facade.rename(UUID, "renamed") == "renamed"


def test_libvirt_errors_become_host_errors(facade: HostFacade) -> None:
    missing = "00000000-0000-0000-0000-000000000001"
    with pytest.raises(HostError) as err:
        facade.details(missing)
    assert err.value.no_domain and "domain not found" in err.value.message.lower()
    assert not isinstance(err.value, libvirt.libvirtError)
    assert describe_error(err.value)[0] == err.value.message
    with pytest.raises(HostError) as err2:
        facade.reset(missing)
    assert err2.value.no_domain
    # The core's own errors pass through unchanged, with libvirt's message.
    with pytest.raises(DomainActionError, match="already running"):
        facade.lifecycle(UUID, "start")


def test_consoles_through_the_facade(facade: HostFacade) -> None:
    """The test driver has no display and no console: both refuse with words, not objects."""
    errors: list[str] = []
    with pytest.raises(ConsoleError, match="no graphics device"):
        facade.open_graphics(UUID, errors.append)
    with pytest.raises(ConsoleError):
        facade.open_serial(UUID, lambda _b: None, lambda _r: None)
    end = facade.explain_console_end(UUID, "stream ended")
    assert "still running" in end.text  # no console stream: the guest runs, cause unknown


def test_graphics_types_parse() -> None:
    xml = (
        "<domain><devices><graphics type='vnc'/><video/><graphics type='spice'/></devices></domain>"
    )
    assert graphics_types(xml) == ["vnc", "spice"]
    assert graphics_types("<domain><devices/></domain>") == []
    assert GraphicsSession.close  # the session is core: the screen never holds the domain


def test_migrate_to_the_same_test_node_is_refused_with_libvirts_message(
    facade: HostFacade,
) -> None:
    from virttui.core.domain.migrate import MigrateOptions

    with pytest.raises((HostError, DomainActionError)) as err:
        facade.migrate(UUID, facade, MigrateOptions(live=True))
    assert describe_error(err.value)[0]
    assert not isinstance(err.value, libvirt.libvirtError)


def test_a_host_that_is_down_raises_not_connected() -> None:
    host = HostConnection("qemu+unix:///system?socket=/nonexistent", refresh=60.0)
    facade = HostFacade(host)
    with pytest.raises(NotConnected):
        facade.details(UUID)
    with pytest.raises(NotConnected):
        facade.networks()
    assert "not connected" in describe_error(NotConnected("h: not connected"))[0]


def test_a_real_host_connection(tmp_path: Path) -> None:
    """Built on HostConnection.call, as the app builds it."""
    host = HostConnection(f"test://{TEST_NODE}", refresh=60.0)
    host.start()
    try:
        deadline = time.monotonic() + 10
        while not host.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        facade = HostFacade(host)
        assert facade.details(UUID, with_disk_usage=False).definition.name == "test"
        assert facade.label == host.label and facade.readonly is False
    finally:
        host.stop()


def _imports_libvirt(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                a.name for a in node.names if a.name.split(".")[0] in ("libvirt", "libvirtmod")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in ("libvirt", "libvirtmod"):
                found.append(node.module)
    return found


def test_no_screen_or_widget_imports_libvirt() -> None:
    """Screens and widgets reach libvirt only through the facade (also under TYPE_CHECKING)."""
    offenders = {
        str(path.relative_to(SRC)): names
        for folder in ("screens", "widgets")
        for path in sorted((SRC / folder).rglob("*.py"))
        if (names := _imports_libvirt(path))
    }
    assert offenders == {}
    assert (SRC / "screens").is_dir() and (SRC / "widgets").is_dir()


def test_importing_the_facade_stays_light() -> None:
    """The app builds a facade per host at start-up: Pillow, the host probes, clone, undefine
    and the edit checks load when first used, not before the first paint of the list."""
    code = (
        "import sys, virttui.core.facade.host\n"
        "heavy = ['PIL', 'virttui.core.host.probe', 'virttui.core.domain.clone',\n"
        "         'virttui.core.domain.undefine', 'virttui.core.domain.edit_checks',\n"
        "         'virttui.core.console.screenshot', 'virttui.core.storage.image_format']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_live_graphics_through_the_facade(facade: HostFacade) -> None:
    """The test driver has no display: the live open refuses like the screenshot one."""
    with pytest.raises(ConsoleError, match="no graphics device"):
        facade.open_graphics_live(UUID, lambda _m: None, lambda: None)
