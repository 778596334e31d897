"""The one table of domain actions: everything else is generated from it."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import libvirt

from virttui.core.domain.action_table import (
    DOMAIN_ACTIONS,
    LIFECYCLE,
    Confirm,
    DomainAction,
    by_id,
    keyed,
    lifecycle_table,
    menu_actions,
    write_actions,
)
from virttui.core.domain.menu import ACTION_ENTRIES, action_menu_entries

FROB = DomainAction(
    "frobnicate",
    "Frobnicate...",
    "Twiddle the domain",
    "dialog",
    key="Z",
    screens=("list", "details"),
    menu_key="z",
    states=(libvirt.VIR_DOMAIN_RUNNING,),
    confirm=Confirm.ASK,
)
EXTENDED = (*DOMAIN_ACTIONS, FROB)


def test_ids_and_keys_are_unique() -> None:
    ids = [a.id for a in DOMAIN_ACTIONS]
    assert len(ids) == len(set(ids))
    menu_keys = [a.menu_key for a in menu_actions()]
    assert len(menu_keys) == len(set(menu_keys))
    for screen in ("list", "details"):
        keys = [a.key for a in keyed(screen)]
        assert len(keys) == len(set(keys)), screen


def test_today_s_keys_and_menu_are_kept() -> None:
    assert [(a.key, a.id) for a in keyed("list")] == [
        ("s", "start"),
        ("h", "shutdown"),
        ("r", "reboot"),
        ("p", "pause"),
        ("F", "destroy"),
        ("a", "actions"),
        ("e", "edit"),
        ("m", "migrate"),
        ("v", "console"),
        ("g", "graphics"),
        ("T", "snapshots"),
        ("X", "edit_xml"),
    ]
    assert [a.key for a in keyed("details")] == ["s", "h", "r", "p", "F", "a", "e", "T", "X"]
    assert "".join(e.key for e in ACTION_ENTRIES) == "shrpFxvMXAnceVUR"
    assert set(LIFECYCLE) == {"start", "shutdown", "reboot", "destroy", "pause"}
    assert LIFECYCLE["destroy"].destructive and not LIFECYCLE["shutdown"].destructive
    assert write_actions("details") == {"lifecycle", "actions_menu", "edit_menu", "domain_action"}
    assert write_actions("list") == {
        "lifecycle",
        "domain_action",
        "actions_menu",
        "edit_menu",
        "migrate",
        "serial_console",
        "graphical_console",
    }


def test_state_dependent_labels() -> None:
    pause = by_id()["pause"]
    paused = SimpleNamespace(state=libvirt.VIR_DOMAIN_PAUSED)
    running = SimpleNamespace(state=libvirt.VIR_DOMAIN_RUNNING)
    assert pause.menu_label(paused) == "Resume" and pause.menu_label(running) == "Pause"  # type: ignore[arg-type]
    assert pause.footer_label == "Pause" and pause.palette_title() == "Domain: Pause/Resume"
    assert by_id()["destroy"].footer_label == "Off!"


def test_an_added_entry_reaches_the_menu_the_lifecycle_runner_and_the_write_keys() -> None:
    entries = {e.id: e for e in action_menu_entries(EXTENDED)}
    assert entries["frobnicate"].key == "z" and entries["frobnicate"].title == "Frobnicate..."
    running = SimpleNamespace(state=libvirt.VIR_DOMAIN_RUNNING)
    off = SimpleNamespace(state=libvirt.VIR_DOMAIN_SHUTOFF)
    assert entries["frobnicate"].when(running) and not entries["frobnicate"].when(off)  # type: ignore[arg-type]
    assert "domain_action" in write_actions("list", EXTENDED)
    assert "domain_action" in write_actions("details", EXTENDED)
    # A lifecycle entry is runnable by the app's runner at once.
    boot = replace(FROB, id="boot2", kind="lifecycle", run=lambda dom: None, verb="booted")
    assert lifecycle_table((*DOMAIN_ACTIONS, boot))["boot2"].allowed_states == (
        libvirt.VIR_DOMAIN_RUNNING,
    )
