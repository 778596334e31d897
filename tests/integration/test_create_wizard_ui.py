"""The issue's UI tests of the create wizard on the real qemu:///system (Pilot, 80×24): the
tiny guest by direct kernel boot with a new 64 MiB qcow2 virtio disk in a temp pool, started and
seen running in the list; a domain from a small ISO made with pycdlib (the ISO is its boot
CD-ROM); a cloud-init domain (define only) whose seed ISO holds meta-data and user-data and whose
overlay's backing file is the cloud image.

Each test runs twice: with the runner given to the wizard (`create=`, createrun's
`core/create/runner.create_domain` on the facade's connection) and through the product's default
path (`HostFacade.create_domain`). Where createrun's runner or facade method is not in this
build, the variant skips with that reason (they turn on once both branches are merged).
The cloud-init domain also has the newer answers (no sudo rule, extra user-data merged, a
network-config file). Everything made is removed: domains by name, volumes with the temp pool,
files we wrote."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from tests.guestlib import GUEST_CMDLINE, guest_initrd, guest_kernel, remove_domain, unique_name
from tests.pilot_utils import domain_row, wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.create import osinfo
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext
from virttui.screens.create.wizard import CreateWizardScreen

URI = "qemu:///system"
CLOUD_EXTRA = (
    "timezone: 'Etc/UTC'\npackages: [jq]\nruncmd:\n  - [sh, -c, 'echo \"a: b\" > /etc/motd']\n"
)
CLOUD_NET = "version: 2\nethernets:\n  id0:\n    match: {name: 'en*'}\n    dhcp4: true\n"


@pytest.fixture(params=["create-keyword", "facade-default"])
def runner(request: pytest.FixtureRequest) -> Any:
    if request.param == "facade-default":
        return None
    from virttui.core.create import runner as R

    def create(ctx: JobContext, facade: HostFacade, spec: Any) -> Any:
        return facade._conn(lambda c: R.create_domain(ctx, c, spec, uri=facade.uri))

    return create


@pytest.fixture
def cleanup(system_conn: libvirt.virConnect) -> Iterator[list[str]]:
    """Names of the domains a test creates: removed afterwards with every volume path that
    holds the name (the runner's seed ISO may live outside the temp pool)."""
    names: list[str] = []
    yield names
    for name in names:
        try:
            dom = system_conn.lookupByName(name)
        except libvirt.libvirtError:
            continue
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        paths = [s.get("file") for s in root.iter("source") if s.get("file")]
        remove_domain(dom)
        for path in paths:
            if path and name in path:
                with contextlib.suppress(libvirt.libvirtError):
                    system_conn.storageVolLookupByPath(path).delete(0)


def pool_dir(pool: libvirt.virStoragePool) -> Path:
    return Path(ET.fromstring(pool.XMLDesc()).findtext("target/path") or "")


async def wizard_on_system(pilot: Pilot[Any], app: VirtTUIApp, create: Any) -> CreateWizardScreen:
    await wait_until(
        pilot, lambda: URI in app.store.hosts and app.store.hosts[URI].state == "connected", 30
    )
    wizard = CreateWizardScreen(URI, osdb=osinfo.load_db(), create=create)
    app.push_screen(wizard)
    await wait_until(pilot, lambda: wizard.facts is not None, 60)  # the host job read the host
    await pilot.pause(0.1)
    assert wizard.facts is not None and wizard.facts.domain_type == "qemu"  # TCG only here
    return wizard


async def set_input(pilot: Pilot[Any], wizard: CreateWizardScreen, wid: str, value: str) -> None:
    wizard.query_one(f"#{wid}", Input).value = value
    await pilot.pause(0.02)


async def new_disk_in(pilot: Pilot[Any], wizard: CreateWizardScreen, pool: str, name: str) -> None:
    """The first disk: a new 64 MiB qcow2 virtio volume in `pool`."""
    wizard.go(3)
    await pilot.pause(0.05)
    wizard.query_one("#f-d-kind", Select).value = "new"
    sel = wizard.query_one("#f-d-pool", Select)
    await wait_until(pilot, lambda: any(v == pool for _l, v in sel._options), 10)
    sel.value = pool
    await set_input(pilot, wizard, "f-d-vname", f"{name}.qcow2")
    await set_input(pilot, wizard, "f-d-size", "64M")
    wizard.query_one("#f-d-format", Select).value = "qcow2"
    wizard.query_one("#f-d-bus", Select).value = "virtio"
    await pilot.pause(0.05)


async def press_create(pilot: Pilot[Any], app: VirtTUIApp, wizard: CreateWizardScreen) -> None:
    wizard.go(6)
    await pilot.pause(0.1)
    await pilot.press("ctrl+n")  # nothing past the summary
    wizard.action_create()  # the Create button: host checks, then the runner
    await wait_until(
        pilot, lambda: app.screen is not wizard or wizard.create_error is not None, 180
    )
    await pilot.pause(0.1)
    assert app.screen is not wizard, (
        wizard.errors,
        wizard.check_errors,
        wizard.create_error,
        wizard.query_one("#summary-xml", TextArea).text[:400],
    )


async def test_tiny_guest_by_direct_kernel_boot_runs(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    runner: Any,
    cleanup: list[str],
) -> None:
    name = unique_name("vt-wiz-kernel")
    cleanup.append(name)
    app = VirtTUIApp([HostSpec(URI)], refresh=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await wizard_on_system(pilot, app, runner)
        await set_input(pilot, wizard, "f-name", name)
        wizard._choose_os_text("generic")
        wizard.query_one("#f-install", Select).value = "kernel"
        await set_input(pilot, wizard, "f-kernel", str(guest_kernel().resolve()))
        await set_input(pilot, wizard, "f-initrd", str(guest_initrd().resolve()))
        await set_input(pilot, wizard, "f-cmdline", GUEST_CMDLINE)
        await set_input(pilot, wizard, "f-memory", "128M")
        await set_input(pilot, wizard, "f-vcpus", "1")
        await new_disk_in(pilot, wizard, temp_pool.name(), name)
        wizard.query_one("#f-nic", Select).value = "none"
        wizard.query_one("#f-graphics", Select).value = "none"
        await pilot.pause(0.05)
        await press_create(pilot, app, wizard)
        dom = system_conn.lookupByName(name)
        uuid = dom.UUIDString()
        assert dom.isActive()
        await wait_until(
            pilot,
            lambda: (
                domain_row(app, URI, uuid) is not None
                and domain_row(app, URI, uuid).state == libvirt.VIR_DOMAIN_RUNNING
            ),
            30,
        )
        screen = app.domains_screen()
        assert screen is not None
        await wait_until(
            pilot,
            lambda: screen.table.current is not None and screen.table.current.uuid == uuid,
            10,
        )
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        assert root.findtext("os/kernel") == str(guest_kernel().resolve())
        disk = root.find("devices/disk[@device='disk']")
        assert disk is not None
        assert disk.find("target").get("bus") == "virtio"  # type: ignore[union-attr]
        assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
        path = disk.find("source").get("file")  # type: ignore[union-attr]
        assert path is not None and path.startswith(str(pool_dir(temp_pool)))
        info = json.loads(
            subprocess.run(
                ["qemu-img", "info", "-U", "--output=json", path], capture_output=True, check=True
            ).stdout
        )
        assert info["virtual-size"] == 64 << 20


def make_iso(path: Path) -> None:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident="VTWIZ")
    data = b"virttui wizard test\n"
    iso.add_fp(
        io.BytesIO(data),
        len(data),
        "/README.TXT;1",
        rr_name="README.txt",
        joliet_path="/README.txt",
    )
    iso.write(str(path))
    iso.close()
    path.chmod(0o644)


async def test_domain_from_a_small_iso_boots_the_cdrom(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    runner: Any,
    cleanup: list[str],
) -> None:
    name = unique_name("vt-wiz-iso")
    cleanup.append(name)
    iso = pool_dir(temp_pool) / f"{name}-install.iso"
    make_iso(iso)
    temp_pool.refresh(0)
    app = VirtTUIApp([HostSpec(URI)], refresh=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await wizard_on_system(pilot, app, runner)
        await set_input(pilot, wizard, "f-name", name)
        wizard._choose_os_text("generic")
        wizard.query_one("#f-install", Select).value = "cdrom"
        await set_input(pilot, wizard, "f-iso_path", str(iso))
        await set_input(pilot, wizard, "f-memory", "128M")
        await set_input(pilot, wizard, "f-vcpus", "1")
        await new_disk_in(pilot, wizard, temp_pool.name(), name)
        wizard.query_one("#f-nic", Select).value = "none"
        await pilot.pause(0.05)
        await press_create(pilot, app, wizard)
        dom = system_conn.lookupByName(name)
        # the install boot (running, transient config) boots the ISO first
        live = ET.fromstring(dom.XMLDesc(0)) if dom.isActive() else None
        inactive = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        for root in (r for r in (live, inactive) if r is not None):
            cdroms = root.findall("devices/disk[@device='cdrom']")
            assert (
                any(
                    c.find("source") is not None and c.find("source").get("file") == str(iso)
                    for c in cdroms
                )
                or root is inactive
            )  # type: ignore[union-attr]
        check = live if live is not None else inactive
        boots = [b.get("dev") for b in check.findall("os/boot")]
        cd = next(
            c
            for c in check.findall("devices/disk[@device='cdrom']")
            if c.find("source") is not None and c.find("source").get("file") == str(iso)
        )  # type: ignore[union-attr]
        order = cd.find("boot")
        assert (boots and boots[0] == "cdrom") or (order is not None and order.get("order") == "1")


async def test_cloud_init_domain_seed_and_overlay(
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    runner: Any,
    cleanup: list[str],
) -> None:
    import pycdlib

    name = unique_name("vt-wiz-cloud")
    cleanup.append(name)
    base = pool_dir(temp_pool) / f"{name}-cloud.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "32M"], check=True)
    base.chmod(0o644)
    temp_pool.refresh(0)
    app = VirtTUIApp([HostSpec(URI)], refresh=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await wizard_on_system(pilot, app, runner)
        await set_input(pilot, wizard, "f-name", name)
        wizard._choose_os_text("generic")
        wizard.query_one("#f-install", Select).value = "cloud"
        await set_input(pilot, wizard, "f-base_image", str(base))
        await set_input(pilot, wizard, "f-hostname", "wizhost")
        await set_input(pilot, wizard, "f-user", "admin")
        await set_input(pilot, wizard, "f-password", "pa:ss 'word'")
        await set_input(pilot, wizard, "f-packages", "curl")
        # the newer answers: no sudo rule, extra user-data merged, a network-config file
        from textual.widgets import Checkbox as Tick

        wizard.query_one("#f-sudo", Tick).value = False
        wizard.query_one("#f-extra_user_data", TextArea).text = CLOUD_EXTRA
        wizard.query_one("#f-network_config", TextArea).text = CLOUD_NET
        await set_input(pilot, wizard, "f-memory", "128M")
        await set_input(pilot, wizard, "f-vcpus", "1")
        await new_disk_in(pilot, wizard, temp_pool.name(), name)
        wizard.query_one("#f-nic", Select).value = "none"
        from textual.widgets import Checkbox

        wizard.query_one("#f-start_after", Checkbox).value = False  # define only
        await pilot.pause(0.05)
        await press_create(pilot, app, wizard)
        dom = system_conn.lookupByName(name)
        assert not dom.isActive()
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        disk = root.find("devices/disk[@device='disk']")
        overlay = disk.find("source").get("file")  # type: ignore[union-attr]
        info = json.loads(
            subprocess.run(
                ["qemu-img", "info", "-U", "--output=json", overlay],
                capture_output=True,
                check=True,
            ).stdout
        )
        assert info.get("full-backing-filename", info.get("backing-filename")) == str(base)
        seed = next(
            c.find("source").get("file")  # type: ignore[union-attr]
            for c in root.findall("devices/disk[@device='cdrom']")
            if c.find("source") is not None
        )
        iso = pycdlib.PyCdlib()
        iso.open(seed)
        try:
            names = {
                child.rock_ridge.name().decode()
                for child in iso.list_children(rr_path="/")
                if child.rock_ridge is not None
            }
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path="/user-data")
            user_data = out.getvalue().decode()
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path="/network-config")
            network_config = out.getvalue().decode()
        finally:
            iso.close()
        assert {"user-data", "meta-data", "network-config"} <= names
        assert user_data.startswith("#cloud-config")
        assert "pa:ss" not in user_data  # the password only as its hash
        assert "admin" in user_data and "curl" in user_data
        import yaml

        doc = yaml.safe_load(user_data)
        assert doc["users"][0]["name"] == "admin" and "sudo" not in doc["users"][0]
        assert doc["timezone"] == "Etc/UTC"
        assert doc["runcmd"] == [["sh", "-c", 'echo "a: b" > /etc/motd']]
        assert doc["packages"] == ["curl", "jq"]  # ours, then the extra user-data's
        assert yaml.safe_load(network_config) == yaml.safe_load(CLOUD_NET)
