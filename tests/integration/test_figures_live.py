"""On the real qemu:///system with one booted tiny guest: a managed-saved domain is shown as such,
and a shutdown the guest ignores (its acpid stopped) is reported and offered force off / reset,
never forced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import SerialConsole, open_system_conn, running_guest, wait_for_shell
from tests.pilot_utils import domain_row, select_domain, wait_until
from tests.textshot import screen_text
from virttui.app import VirtTUIApp
from virttui.cli import build_app
from virttui.screens.domain.action_menu import ActionMenuScreen

URI = "qemu:///system"
GRACE = 3


@pytest.fixture(scope="module")
def booted() -> Iterator[libvirt.virDomain]:
    """One tiny guest for the module, booted to its shell (so ACPI reaches a running kernel)."""
    conn = open_system_conn()
    try:
        with running_guest(conn, "vt-fig") as dom:
            with SerialConsole(dom) as console:
                wait_for_shell(console, timeout=300)
            yield dom
    finally:
        conn.close()


@pytest.fixture
def app_with_grace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VirtTUIApp:
    """The app as `virttui --connect qemu:///system` builds it, with shutdown_grace from the
    config file."""
    config = tmp_path / "config.toml"
    config.write_text(f"[settings]\nshutdown_grace = {GRACE}\n")
    monkeypatch.setenv("VIRTTUI_CONFIG_FILE", str(config))
    return build_app(["--connect", URI, "--refresh", "1"])


def _visible(app: VirtTUIApp) -> set[str]:
    return {i.uuid for i in app.store.items() if i.uuid is not None}


async def test_managed_save_is_shown_as_saved_and_filterable(
    booted: libvirt.virDomain, app_with_grace: VirtTUIApp
) -> None:
    app = app_with_grace
    dom = booted
    uuid = dom.UUIDString()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 30)
        assert app.store.state_word(URI, domain_row(app, URI, uuid)) == "running"
        dom.managedSave(0)
        try:
            await wait_until(pilot, lambda: domain_row(app, URI, uuid).managed_save is True, 30)
            row = domain_row(app, URI, uuid)
            assert row.state == libvirt.VIR_DOMAIN_SHUTOFF
            assert app.store.state_word(URI, row) == "saved"
            await pilot.pause(0.2)
            line = next(ln for ln in screen_text(app).splitlines() if dom.name() in ln)
            assert "saved" in line and "shutoff" not in line
            app.store.filter_text = "saved"
            assert uuid in _visible(app)
            app.store.filter_text = "shutoff"
            assert uuid in _visible(app)
            app.store.filter_text = "running"
            assert uuid not in _visible(app)
            app.store.filter_text = ""
            # Removing the image (no event for that) and telling the host: plain shutoff again.
            dom.managedSaveRemove(0)
            app.hosts[URI].forget_managed_save(uuid)
            await wait_until(pilot, lambda: domain_row(app, URI, uuid).managed_save is False, 30)
            assert app.store.state_word(URI, domain_row(app, URI, uuid)) == "shutoff"
        finally:
            if dom.hasManagedSaveImage(0):
                dom.managedSaveRemove(0)
            if not dom.isActive():
                dom.create()
    with SerialConsole(dom) as console:
        wait_for_shell(console, timeout=300, banner=False)


async def test_ignored_shutdown_is_reported_and_force_is_only_offered(
    booted: libvirt.virDomain, app_with_grace: VirtTUIApp
) -> None:
    app = app_with_grace
    dom = booted
    uuid = dom.UUIDString()
    assert app.store.shutdowns.grace == GRACE  # from config.toml [settings]
    # The tiny guest's acpid powers it off on the ACPI button: without it, the guest ignores
    # the request like a guest that hangs or has no ACPI handling.
    with SerialConsole(dom) as console:
        wait_for_shell(console, timeout=300, banner=False)
        console.run("killall acpid; sleep 1")
        assert console.run("pidof acpid || echo none").strip() == "none"
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: domain_row(app, URI, uuid) is not None, 30)
        await wait_until(pilot, lambda: domain_row(app, URI, uuid).active, 30)
        select_domain(app, uuid)
        asked = time.monotonic()
        await pilot.press("h")  # the ACPI power button; nothing in the guest listens now
        await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen), 60)
        assert time.monotonic() - asked >= GRACE
        menu = app.screen
        assert isinstance(menu, ActionMenuScreen)
        assert [e[0] for e in menu.entries] == ["wait", "destroy", "reset"]
        assert "ignored the shutdown request" in menu.menu_title.plain
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert app.store.state_word(URI, domain_row(app, URI, uuid)) == "ignored"
        # The admin declines: nothing is forced, the list keeps saying so.
        await pilot.press("w")
        await wait_until(pilot, lambda: not isinstance(app.screen, ActionMenuScreen), 10)
        await pilot.pause(GRACE + 1)
        assert dom.isActive() and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert not isinstance(app.screen, ActionMenuScreen)  # offered once per request
        line = next(ln for ln in screen_text(app).splitlines() if dom.name() in ln)
        assert "ignored" in line
        app.store.filter_text = "ignored"
        assert uuid in _visible(app)
        app.store.filter_text = ""

        # Asked again, the admin chooses force off: only then is it done.
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, ActionMenuScreen), 60)
        assert dom.isActive()
        await pilot.press("f")
        await wait_until(pilot, lambda: not dom.isActive(), 30)
        await wait_until(pilot, lambda: not domain_row(app, URI, uuid).active, 30)
        assert app.store.state_word(URI, domain_row(app, URI, uuid)) == "shutoff"
