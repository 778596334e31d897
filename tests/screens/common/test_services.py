"""The typed interface between screens and the app: no import circle, AppServices implemented,
details screens subscribed while mounted, consoles keeping the app's priority keys."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from tests.pilot_utils import hosts_settled, wait_until
from tests.screens.domain.test_details_screen import open_details
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.host.connection import DomainEvent
from virttui.demo import demo_uri
from virttui.screens.common.console_registry import ConsoleRegistry
from virttui.screens.common.services import AppServices, services
from virttui.screens.domain.details import DetailsScreen

SRC = Path(__file__).parents[3] / "src" / "virttui"
WEB01 = "5d6b1a52-1f0e-4c39-9a8e-0b1e2a3c4d01"


def _imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, also inside functions and TYPE_CHECKING blocks."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_nothing_but_the_entry_point_imports_the_app() -> None:
    importers = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "app.py" and {"virttui.app", "virttui.app.VirtTUIApp"} & _imported_modules(p)
    )
    assert importers == ["cli.py"]


def test_the_app_implements_app_services() -> None:
    app = VirtTUIApp([], refresh=3600)
    assert isinstance(app, AppServices)
    assert services(app) is app
    assert isinstance(app.consoles, ConsoleRegistry) and not app.consoles  # declared, not setattr


async def test_services_refuses_an_app_without_them() -> None:
    class Plain(App[None]):
        def compose(self) -> Any:
            yield Static("x")

    app = Plain()
    async with app.run_test() as pilot:
        await pilot.pause()
        with pytest.raises(TypeError, match="AppServices"):
            services(app.query_one(Static))


class Recorder:
    def __init__(self) -> None:
        self.samples: list[str] = []
        self.events: list[DomainEvent] = []

    def store_updated(self, uri: str) -> None:
        self.samples.append(uri)

    def domain_event(self, event: DomainEvent) -> None:
        self.events.append(event)


async def test_subscribers_get_samples_and_events_until_they_unsubscribe() -> None:
    app = VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: hosts_settled(app), 10)
        rec = Recorder()
        app.subscribe(rec)
        app.subscribe(rec)  # twice: still told once per sample
        await wait_until(pilot, lambda: len(rec.samples) >= 2, 10)
        assert set(rec.samples) == {demo_uri()}
        host = app.hosts[demo_uri()]
        host.call(lambda c: c.lookupByUUIDString(WEB01).suspend())
        await wait_until(pilot, lambda: any(e.uuid == WEB01 for e in rec.events), 10)
        app.unsubscribe(rec)
        seen = len(rec.samples)
        await pilot.pause(1.5)
        assert len(rec.samples) == seen


async def test_details_screen_subscribes_while_mounted() -> None:
    app = VirtTUIApp([HostSpec(demo_uri(), demo=True)], refresh=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        details = await open_details(pilot, WEB01)
        assert details in app._subscribers
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, DetailsScreen), 10)
        await pilot.pause()
        assert details not in app._subscribers


class KeepsKeys(Screen[None]):
    keep = True

    def compose(self) -> Any:
        yield Static("console")

    def keeps_app_keys(self) -> bool:
        return self.keep


async def test_a_screen_that_keeps_app_keys_disables_palette_and_quit() -> None:
    app = VirtTUIApp([], refresh=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.check_action("command_palette", ()) is not False
        screen = KeepsKeys()
        app.push_screen(screen)
        await pilot.pause()
        assert app.check_action("command_palette", ()) is False
        assert app.check_action("quit", ()) is False
        screen.keep = False
        assert app.check_action("quit", ()) is not False
