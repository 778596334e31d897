"""The user keymap: `[keys]` in config.toml remaps binding ids; ids are unique and documented."""

from __future__ import annotations

import os
from pathlib import Path

import libvirt

from tests.pilot_utils import wait_until
from tests.screens.domain.test_readonly_ui import (
    URI,
    connected,
    domain_state,
    footer_words,
    record_notifications,
)
from virttui.app import VirtTUIApp
from virttui.cli import build_app
from virttui.screens.common.keymap import (
    check_keymap,
    collect_bindings,
    is_key_name,
    keys_doc,
    user_ids,
    with_read_only_fallbacks,
)
from virttui.screens.common.readonly import READ_ONLY_MESSAGE

ROOT = Path(__file__).resolve().parents[2]
KEYS = """
[keys]
"domain.pause" = "P,f6"
"domain.nope" = "x"
"domain.reboot" = ""
"domain.start" = 5
"domain.destroy" = "ctlr+f"
"""


def test_binding_ids_are_unique_across_every_screen() -> None:
    bound = collect_bindings(extra=[VirtTUIApp])
    ids = [b.binding.id for b in bound if b.binding.id is not None]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates
    owners = {b.owner for b in bound}
    # The collection really walks the screens and widgets, not only the ones already imported.
    assert {"DomainsScreen", "DetailsScreen", "HostScreen", "ConnectionsScreen"} <= owners
    assert {"ConsoleScreen", "VirtTUIApp", "DomainTable"} <= owners
    assert "domain.start" in user_ids(bound) and "domain.start.read_only" not in user_ids(bound)


def test_docs_keys_md_is_up_to_date() -> None:
    expected = keys_doc(collect_bindings(extra=[VirtTUIApp]))
    written = (ROOT / "docs" / "keys.md").read_text(encoding="utf-8")
    assert written == expected, "regenerate: python scripts/keys_doc.py > docs/keys.md"
    assert "docs/keys.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_check_keymap_skips_unknown_ids_and_keeps_the_rest() -> None:
    good, problems = check_keymap({"a.b": "x", "domain.start": "S"}, {"domain.start"})
    assert good == {"domain.start": "S"}
    assert len(problems) == 1 and "keys.a.b" in problems[0] and "docs/keys.md" in problems[0]
    assert with_read_only_fallbacks(good) == {
        "domain.start": "S",
        "domain.start.read_only": "S",
    }


def test_key_names_are_checked() -> None:
    for good in ("S", "ctrl+s", "f5", "f24", "slash", "equals_sign", "shift+down", "]", "space"):
        assert is_key_name(good), good
    for bad in ("ctlr+s", "ctrl+", "slahs", "Ctrl+S", "enterr"):
        assert not is_key_name(bad), bad
    good, problems = check_keymap(
        {"domain.start": "S,ctlr+s", "list.sort": "f9"},
        {
            "domain.start",
            "list.sort",
        },
    )
    assert good == {"list.sort": "f9"}
    assert len(problems) == 1 and "'ctlr+s' is not a key name" in problems[0]


def _config(text: str) -> None:
    Path(os.environ["VIRTTUI_CONFIG_FILE"]).write_text(text)


async def test_keymap_from_config_remaps_and_reports_bad_entries() -> None:
    _config(KEYS)
    app = build_app(["--connect", URI, "--refresh", "30"])
    seen = record_notifications(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        messages = "\n".join(m for m, _ in seen)
        # One clear message per bad entry, no traceback; the good entry still applies.
        for bad in ("keys.domain.nope", "keys.domain.reboot", "keys.domain.start", "ctlr+f"):
            assert bad in messages, bad
        assert "Traceback" not in messages
        await pilot.press("p")  # the old key no longer pauses
        await pilot.pause(0.3)
        assert domain_state(app) == libvirt.VIR_DOMAIN_RUNNING
        await pilot.press("P")
        await wait_until(pilot, lambda: domain_state(app) == libvirt.VIR_DOMAIN_PAUSED)
        await pilot.press("f6")
        await wait_until(pilot, lambda: domain_state(app) == libvirt.VIR_DOMAIN_RUNNING)
        keys = {a.binding.id: a.binding.key for a in app.screen.active_bindings.values()}
        assert keys.get("domain.pause") in ("P", "f6") and keys.get("domain.start") == "s"


async def test_remapped_write_key_says_read_only() -> None:
    _config('[keys]\n"domain.pause" = "P"\n')
    app = build_app(["--connect", URI, "--readonly", "--refresh", "30"])
    seen = record_notifications(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app))
        assert "Pause" not in footer_words(app)
        await pilot.press("P")
        await wait_until(pilot, lambda: any(READ_ONLY_MESSAGE in m for m, _ in seen))
        assert domain_state(app) == libvirt.VIR_DOMAIN_RUNNING
