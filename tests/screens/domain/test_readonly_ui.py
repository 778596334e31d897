"""`--readonly`: the footer advertises no key that cannot act, every such key says "read-only
connection", `m` (migrate) is disabled; the same app read-write shows and runs them.

test:///default opened read-only through the app's own HostConnection (libvirt.openReadOnly):
libvirt itself refuses writes, consoles and screenshots on it."""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

from tests.pilot_utils import wait_until
from tests.textshot import screen_text
from virttui.app import HostSpec, VirtTUIApp
from virttui.screens.domain.details import DetailsScreen
from virttui.screens.domain.domain_list import DomainsScreen

URI = "test:///default"
# Footer words of the keys that write (or need a read-write connection: consoles).
WRITE_WORDS = ("Start", "Shutdown", "Reboot", "Pause", "Off!", "Actions", "Edit", "Console")
WRITE_KEYS = ("s", "h", "r", "p", "F", "a", "e", "m", "v", "g", "X")


def connected(app: VirtTUIApp) -> bool:
    return bool(app.store.hosts) and all(
        h.state == "connected" and h.rows for h in app.store.hosts.values()
    )


def record_notifications(app: VirtTUIApp) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *, severity: str = "information", **kw: Any) -> None:
        seen.append((str(message), severity))
        original(message, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    return seen


def footer_words(app: VirtTUIApp) -> set[str]:
    """What the footer shows: Textual's Footer lists the enabled-or-disabled shown bindings."""
    return {
        active.binding.description
        for active in app.screen.active_bindings.values()
        if active.binding.show
    }


def domain_state(app: VirtTUIApp) -> int:
    return app.hosts[URI].call(lambda c: c.lookupByName("test").state()[0])


async def test_read_write_list_advertises_and_runs_the_write_keys() -> None:
    """The control: without --readonly the footer shows the write keys and `m` is enabled."""
    app = VirtTUIApp([HostSpec(URI)], refresh=30.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), timeout=30)
        await pilot.pause(0.3)
        screen = app.domains_screen()
        assert screen is not None
        shown = footer_words(app)
        assert {"Shutdown", "Pause", "Actions", "Edit", "Console"} <= shown
        assert screen.check_action("migrate", ()) is True
        assert not screen.check_action("read_only", ())


async def test_read_only_list_hides_write_keys_and_every_one_says_so() -> None:
    app = VirtTUIApp([HostSpec(URI)], readonly=True, refresh=30.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), timeout=30)
        await pilot.pause(0.3)
        screen = app.domains_screen()
        assert screen is not None
        assert app.hosts[URI].readonly
        shown = footer_words(app)
        assert not shown & set(WRITE_WORDS), shown
        footer_line = screen_text(app).rstrip("\n").splitlines()[-1]
        assert not [w for w in WRITE_WORDS if w in footer_line], footer_line
        assert "Filter" in footer_line  # the footer itself is there
        assert screen.check_action("migrate", ()) is False  # m is disabled
        before = domain_state(app)
        for key in WRITE_KEYS:
            notes = record_notifications(app)
            await pilot.press(key)
            await wait_until(pilot, lambda n=notes: bool(n), timeout=5)
            assert notes == [("Read-only connection: actions are disabled", "warning")], key
            assert isinstance(app.screen, DomainsScreen), key  # no dialog, console or migrate
        await pilot.pause(0.3)
        assert domain_state(app) == before == libvirt.VIR_DOMAIN_RUNNING


@pytest.mark.parametrize("action", ["start", "shutdown"])
async def test_read_only_palette_lifecycle_says_so_whatever_the_state(action: str) -> None:
    """The palette calls run_lifecycle directly: "start" on a running domain used to be
    filtered out silently before the read-only check."""
    app = VirtTUIApp([HostSpec(URI)], readonly=True, refresh=30.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), timeout=30)
        notes = record_notifications(app)
        app.run_lifecycle(action)
        await pilot.pause(0.2)
        assert notes == [("Read-only connection: actions are disabled", "warning")]


async def test_read_only_details_hide_write_keys_and_they_say_so() -> None:
    app = VirtTUIApp([HostSpec(URI)], readonly=True, refresh=30.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), timeout=30)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen), timeout=10)
        await pilot.pause(0.5)
        shown = footer_words(app)
        assert "Back" in shown
        assert not shown & set(WRITE_WORDS), shown
        for key in ("s", "h", "p", "a", "e", "X"):
            notes = record_notifications(app)
            await pilot.press(key)
            await wait_until(pilot, lambda n=notes: bool(n), timeout=5)
            assert notes == [("Read-only connection: actions are disabled", "warning")], key
            assert isinstance(app.screen, DetailsScreen), key
