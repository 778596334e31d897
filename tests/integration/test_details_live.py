"""The details screen against the real libvirtd (qemu:///system) and the tiny TCG guest."""

from __future__ import annotations

import time

import libvirt

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.domain.details import DetailsScreen
from virttui.widgets.domain.history_plot import HistoryPlot

URI = "qemu:///system"


async def test_details_of_a_booting_guest(tiny_guest: libvirt.virDomain) -> None:
    uuid = tiny_guest.UUIDString()
    app = VirtTUIApp([HostSpec(URI)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.store.row(URI, uuid) is not None, 10)
        screen = app.domains_screen()
        assert screen is not None
        table = screen.table
        table._auto_cursor = False
        table._move(next(i for i, item in enumerate(table.items) if item.uuid == uuid))
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, DetailsScreen) and app.screen.details is not None,
            10,
        )
        details = app.screen
        assert isinstance(details, DetailsScreen)
        text = screen_text(app)
        assert tiny_guest.name() in text and "running" in text
        assert "OS type       hvm" in text and "x86_64" in text

        # Graphs: the same bulk poll feeds them; TCG boot burns CPU, so CPU% is positive.
        await pilot.press("3")
        cpu = details.query_one("#graph-cpu", HistoryPlot)
        history = app.store.hosts[URI].history

        def cpu_seen() -> bool:
            entry = history.get(uuid)
            if entry is None:
                return False
            _xs, ys = entry.window("cpu", 600, time.monotonic())
            return any(y > 0 for y in ys) and cpu.points > 0

        await wait_until(pilot, cpu_seen, 20)
        assert "CPU % of its vCPUs (%): cpu" in screen_text(app)
        entry = history.get(uuid)
        mem = entry.latest("mem_kib") if entry is not None else None
        assert mem is not None and mem > 0

        # Devices: the virtio qcow2 disk with its size, the user-mode NIC, VNC without secrets.
        await pilot.press("2")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Disks (1)" in text and "vda" in text
        assert "virtio disk  format qcow2" in text
        assert f"{tiny_guest.name()}.qcow2" in text
        assert "size 64.0 MiB" in text
        mac = details.details.definition.nics[0].mac  # type: ignore[union-attr]
        assert "Network interfaces (1)" in text and mac in text and "virtio  user" in text
        assert "vnc" in text and "listen 127.0.0.1" in text
        assert "passwd" not in details.xml

        # XML: the live domain XML, read-only.
        await pilot.press("4")
        await pilot.pause(0.1)
        assert "<domain type='qemu'" in details.xml
        assert "<domain type='qemu'" in screen_text(app)

        # A lifecycle event re-reads the details: pause from the details screen.
        await pilot.press("p")
        await wait_until(
            pilot,
            lambda: (
                details.details is not None and details.details.state == libvirt.VIR_DOMAIN_PAUSED
            ),
            10,
        )
        assert tiny_guest.state()[0] == libvirt.VIR_DOMAIN_PAUSED
