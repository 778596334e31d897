"""Keys, menu and palette of the domain screens are generated from the action table: adding an
entry to (a copy of) the table is all it takes."""

from __future__ import annotations

from types import SimpleNamespace

from tests.core.domain.test_action_table import EXTENDED
from virttui.core.domain.action_table import DOMAIN_ACTIONS, menu_actions
from virttui.screens.common.readonly import read_only_fallbacks
from virttui.screens.domain.action_keys import domain_bindings, palette_commands
from virttui.screens.domain.actions import HANDLERS
from virttui.screens.domain.details import DetailsScreen
from virttui.screens.domain.domain_list import DomainsScreen


def test_screens_bind_the_table() -> None:
    for screen, cls in (("list", DomainsScreen), ("details", DetailsScreen)):
        generated = {(b.key, b.action, b.id) for b in domain_bindings(screen)}
        bound = {(b.key, b.action, b.id) for b in cls.BINDINGS}
        assert generated <= bound, screen


def test_added_entry_shows_in_bindings_menu_and_palette() -> None:
    for screen, prefix in (("list", "domain"), ("details", "details")):
        bindings = {b.id: b for b in domain_bindings(screen, EXTENDED)}
        frob = bindings[f"{prefix}.frobnicate"]
        assert (frob.key, frob.action) == ("Z", "domain_action('frobnicate')")
        assert frob.description == "Frobnicate..." and frob.show
        # Read-only: the key is hidden and says so (the fallback follows it).
        fallbacks = read_only_fallbacks(bindings.values(), {"domain_action"})
        assert [(b.key, b.id) for b in fallbacks] == [
            ("X", f"{prefix}.edit_xml.read_only"),
            ("Z", f"{prefix}.frobnicate.read_only"),
        ]

    calls: list[tuple[object, ...]] = []
    app = SimpleNamespace(run_lifecycle=lambda *a: calls.append(a))
    screen = SimpleNamespace()
    titles = {
        c.title: c
        for c in palette_commands(app, screen, "list", ("u", "x"), selection=True, table=EXTENDED)  # type: ignore[arg-type]
    }
    assert (
        "Domain: Frobnicate" in titles and titles["Domain: Frobnicate"].help == "Twiddle the domain"
    )
    assert "Domain: Frobnicate" not in {
        c.title
        for c in palette_commands(app, screen, "list", ("u", "x"), table=DOMAIN_ACTIONS)  # type: ignore[arg-type]
    }
    titles["Domain: Start"].callback()
    assert calls == [("start",)]  # the list's palette acts on the selection
    details = {c.title: c for c in palette_commands(app, screen, "details", ("u", "x"))}  # type: ignore[arg-type]
    details["Domain: Force off"].callback()
    assert calls[-1] == ("destroy", [("u", "x")])


def test_every_menu_entry_has_a_handler() -> None:
    assert {a.id for a in menu_actions()} <= set(HANDLERS)
    assert {a.id for a in DOMAIN_ACTIONS if a.kind == "dialog"} <= set(HANDLERS)
