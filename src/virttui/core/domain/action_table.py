"""Every action on a domain, in one table: the domain list's and the details screen's keys, the
"Actions" menu and the command palette are all generated from `DOMAIN_ACTIONS`.

Adding an action touches this table (and, for a dialog, its handler in
`screens/domain/actions.py`). Each entry says:

- `id`: stable; the Binding ids are `domain.<binding>` (list) and `details.<binding>` (details),
  and a user remaps them in config.toml's `[keys]`;
- `key`: the default key on the screens in `screens` (None: menu and palette only); `menu_key`:
  the key inside the Actions menu (None: not in the menu);
- labels: `label` (footer), `title` (palette and notifications), `menu_title` / `title_for`
  (menu, maybe state-dependent);
- `states`: the libvirt states it applies to (the list checks rows against them); `when`: the
  finer test on a domain's details (the menu lists an entry only when it holds);
- `readonly_ok`: allowed on a read-only connection (else hidden there, and the key says so);
- `confirm`: none, ask first, or ask later whether to force (a shutdown the guest ignores);
- `kind` and the core call: "lifecycle" runs `run` on the domain (`lifecycle` gives the
  `LifecycleAction` the app's runner uses), "dialog" opens the handler registered for `id`,
  "screen" calls the screen's `action_<screen_action>`.

Pure data: no Textual here (the screens turn entries into Bindings and SystemCommands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import libvirt

from virttui.core.domain import actions as domain_actions
from virttui.core.domain.lifecycle import (
    ACTIVE,
    RUNNING_LIKE,
    STARTABLE,
    LifecycleAction,
    acpi,
    pause_or_resume,
)
from virttui.core.domain.model import DomainDetails

PAUSED = libvirt.VIR_DOMAIN_PAUSED

Kind = Literal["lifecycle", "dialog", "screen"]
ScreenName = Literal["list", "details"]
BINDING_PREFIX: dict[str, str] = {"list": "domain", "details": "details"}


class Confirm(Enum):
    NONE = "none"  # runs at once
    ASK = "ask"  # a confirmation naming the domain(s), Cancel by default
    ASK_FORCE = "ask-force"  # runs at once; ignored past the grace period, asks whether to force


def _always(_d: DomainDetails) -> bool:
    return True


def _running_or_paused(d: DomainDetails) -> bool:
    return d.state in (*RUNNING_LIKE, PAUSED)


def _shut_off_persistent(d: DomainDetails) -> bool:
    return d.persistent and not d.active


def _pause_title(d: DomainDetails) -> str:
    return "Resume" if d.state == PAUSED else "Pause"


def _autostart_title(d: DomainDetails) -> str:
    return "Autostart: turn off" if d.autostart else "Autostart: turn on"


@dataclass(frozen=True)
class DomainAction:
    id: str
    title: str
    help: str
    kind: Kind
    key: str | None = None
    label: str = ""  # footer label; defaults to the title
    screens: tuple[ScreenName, ...] = ()  # where `key` is bound
    show: bool = True  # in the footer (else hidden, still bound)
    tooltip: str | None = None
    binding: str = ""  # the binding id's second part; defaults to `id`
    menu_key: str | None = None
    menu_title: str = ""  # defaults to the title
    menu_help: str = ""  # defaults to the help
    title_for: Callable[[DomainDetails], str] | None = None  # state-dependent menu title
    palette: str = ""  # palette title; defaults to "Domain: <title>"
    states: tuple[int, ...] | None = None  # None: any state
    when: Callable[[DomainDetails], bool] | None = None  # None: `states` decides
    readonly_ok: bool = False
    confirm: Confirm = Confirm.NONE
    run: Callable[[libvirt.virDomain], object] | None = None  # lifecycle: the core call
    verb: str = ""  # lifecycle: "started", ... for the result message
    screen_action: str = ""  # screen: the screen's action_<name>

    # ------------------------------------------------------------------ derived
    @property
    def footer_label(self) -> str:
        return self.label or self.title

    def binding_id(self, screen: ScreenName) -> str:
        return f"{BINDING_PREFIX[screen]}.{self.binding or self.id}"

    def textual_action(self) -> str:
        """The action string a Binding of this entry runs on the list and details screens."""
        if self.kind == "lifecycle":
            return f"lifecycle('{self.id}')"
        if self.kind == "dialog":
            return f"domain_action('{self.id}')"
        return self.screen_action

    def palette_title(self) -> str:
        return self.palette or f"Domain: {self.title.rstrip('.')}"

    def allowed_state(self, state: int | None) -> bool:
        """Does the action apply to a domain in this state (the list's quick check)?"""
        if self.states is None:
            return True
        return state is not None and state in self.states

    def applies(self, details: DomainDetails) -> bool:
        """Does the action apply to this domain now (the menu's test)?"""
        if self.when is not None:
            return self.when(details)
        return self.allowed_state(details.state)

    def menu_label(self, details: DomainDetails) -> str:
        if self.title_for is not None:
            return self.title_for(details)
        return self.menu_title or self.title

    @property
    def lifecycle(self) -> LifecycleAction | None:
        if self.kind != "lifecycle" or self.run is None:
            return None
        return LifecycleAction(
            self.id,
            self.title,
            self.verb,
            self.run,
            self.states or (),
            destructive=self.confirm is Confirm.ASK,
            help=self.help,
        )


BOTH: tuple[ScreenName, ...] = ("list", "details")
LIST: tuple[ScreenName, ...] = ("list",)

DOMAIN_ACTIONS: tuple[DomainAction, ...] = (
    DomainAction(
        "start",
        "Start",
        "Boot the domain",
        "lifecycle",
        key="s",
        screens=BOTH,
        tooltip="Boot the domain",
        menu_key="s",
        states=STARTABLE,
        run=domain_actions.start,
        verb="started",
    ),
    DomainAction(
        "shutdown",
        "Shut down",
        "ACPI power button: the guest OS shuts down cleanly if it listens",
        "lifecycle",
        key="h",
        label="Shutdown",
        screens=BOTH,
        tooltip="ACPI shutdown",
        menu_key="h",
        menu_help="ACPI power button",
        states=ACTIVE,
        confirm=Confirm.ASK_FORCE,
        run=acpi(domain_actions.shutdown),
        verb="asked to shut down",
    ),
    DomainAction(
        "reboot",
        "Reboot",
        "Ask the guest to reboot",
        "lifecycle",
        key="r",
        screens=BOTH,
        menu_key="r",
        states=RUNNING_LIKE,
        confirm=Confirm.ASK_FORCE,
        run=acpi(domain_actions.reboot),
        verb="asked to reboot",
    ),
    DomainAction(
        "pause",
        "Pause/Resume",
        "Freeze or thaw the vCPUs",
        "lifecycle",
        key="p",
        label="Pause",
        screens=BOTH,
        tooltip="Pause or resume",
        menu_key="p",
        menu_title="Pause",
        title_for=_pause_title,
        states=(*RUNNING_LIKE, PAUSED),
        run=pause_or_resume,
        verb="paused/resumed",
    ),
    DomainAction(
        "destroy",
        "Force off",
        "Pull the plug: unsaved guest data is lost",
        "lifecycle",
        key="F",
        label="Off!",
        screens=BOTH,
        tooltip="Force off (asks first)",
        menu_key="F",
        menu_help="Pull the plug (asks first)",
        states=ACTIVE,
        confirm=Confirm.ASK,
        run=domain_actions.force_off,
        verb="forced off",
    ),
    DomainAction(
        "actions",
        "Actions",
        "Every action for this domain (a)",
        "screen",
        key="a",
        screens=BOTH,
        tooltip="Every action",
        palette="Domain: actions menu",
        screen_action="actions_menu",
    ),
    DomainAction(
        "edit",
        "Edit",
        "Notes, resources and hardware (e)",
        "screen",
        key="e",
        screens=BOTH,
        tooltip="Notes and hardware",
        palette="Domain: edit menu",
        screen_action="edit_menu",
    ),
    DomainAction(
        "migrate",
        "Migrate",
        "Move the domain to another open connection (m)",
        "screen",
        key="m",
        screens=LIST,
        show=False,
        palette="Domain: migrate",
        screen_action="migrate",
    ),
    DomainAction(
        "console",
        "Console",
        "Embedded VT100 console (v; Ctrl+] leaves)",
        "screen",
        key="v",
        screens=LIST,
        tooltip="Serial console",
        palette="Domain: serial console",
        states=ACTIVE,
        screen_action="serial_console",
    ),
    DomainAction(
        "graphics",
        "Screen",
        "Screen drawn from libvirt screenshots (g)",
        "screen",
        key="g",
        screens=LIST,
        show=False,
        tooltip="Graphical console drawn in the terminal",
        palette="Domain: graphical console",
        states=ACTIVE,
        screen_action="graphical_console",
    ),
    DomainAction(
        "snapshots",
        "Snapshots",
        "libvirt snapshots: tree, create, revert, delete, XML (S)",
        "screen",
        key="T",
        screens=BOTH,
        show=False,
        palette="Domain: snapshots",
        readonly_ok=True,  # the tree is read-only; its screen refuses writes there
        screen_action="snapshots",
    ),
    DomainAction(
        "reset",
        "Reset",
        "Press the reset button: no guest cooperation (asks first)",
        "dialog",
        menu_key="x",
        when=_running_or_paused,
        confirm=Confirm.ASK,
    ),
    DomainAction(
        "save",
        "Save to file...",
        "Write the memory to a file on the host and stop",
        "dialog",
        menu_key="v",
        when=_running_or_paused,
    ),
    DomainAction(
        "managed_save",
        "Managed save",
        "Save and stop; the next start resumes (asks first)",
        "dialog",
        menu_key="M",
        when=lambda d: _running_or_paused(d) and d.persistent,
        confirm=Confirm.ASK,
    ),
    DomainAction(
        "remove_managed_save",
        "Remove managed save",
        "Discard the saved image: the next start boots afresh (asks first)",
        "dialog",
        menu_key="X",
        when=lambda d: bool(d.has_managed_save) and not d.active,
        confirm=Confirm.ASK,
    ),
    DomainAction(
        "autostart",
        "Autostart",
        "Start with the host",
        "dialog",
        menu_key="A",
        title_for=_autostart_title,
        when=lambda d: d.persistent and d.autostart is not None,
    ),
    DomainAction(
        "rename",
        "Rename...",
        "New name (shut off only)",
        "dialog",
        menu_key="n",
        when=_shut_off_persistent,
    ),
    DomainAction(
        "clone",
        "Clone...",
        "Copy the definition and its disks (shut off only)",
        "dialog",
        menu_key="c",
        when=lambda d: not d.active,
    ),
    # ---- xmlvirtio
    DomainAction(
        "edit_xml",
        "Edit XML",
        "Edit the persistent definition: local check, diff, define with validation (X)",
        "dialog",
        key="X",
        screens=BOTH,
        show=False,
        tooltip="Edit the domain XML",
        menu_key="e",
        menu_title="Edit XML...",
        palette="Domain: edit XML",
        when=lambda d: d.persistent,
    ),
    DomainAction(
        "virtio",
        "Switch to virtio",
        "Disks and NICs to virtio in the persistent config; shows the diff and warnings first",
        "dialog",
        menu_key="V",
        menu_title="Switch to virtio...",
        palette="Domain: switch disks and NICs to virtio",
        when=lambda d: d.persistent,
    ),
    DomainAction(
        "undefine",
        "Undefine...",
        "Remove the definition, optionally its storage",
        "dialog",
        menu_key="U",
        when=lambda d: d.persistent,
        confirm=Confirm.ASK,  # the checklist dialog, Cancel by default
    ),
    DomainAction(
        "restore",
        "Restore from file...",
        "Start a domain saved to a file",
        "dialog",
        menu_key="R",
    ),
)


def by_id(table: Iterable[DomainAction] = DOMAIN_ACTIONS) -> dict[str, DomainAction]:
    return {a.id: a for a in table}


def keyed(screen: ScreenName, table: Iterable[DomainAction] = DOMAIN_ACTIONS) -> list[DomainAction]:
    """The entries bound to a key on `screen`, in table order."""
    return [a for a in table if a.key is not None and screen in a.screens]


def menu_actions(table: Iterable[DomainAction] = DOMAIN_ACTIONS) -> list[DomainAction]:
    """The Actions menu, in table order."""
    return [a for a in table if a.menu_key is not None]


def palette_actions(
    screen: ScreenName, table: Iterable[DomainAction] = DOMAIN_ACTIONS
) -> list[DomainAction]:
    """What the command palette offers on `screen`: the keys of that screen and every menu
    entry (the menu is reachable from both screens)."""
    return [a for a in table if screen in a.screens or a.menu_key is not None]


def lifecycle_table(
    table: Iterable[DomainAction] = DOMAIN_ACTIONS,
) -> dict[str, LifecycleAction]:
    return {a.id: life for a in table if (life := a.lifecycle) is not None}


def write_actions(
    screen: ScreenName, table: Iterable[DomainAction] = DOMAIN_ACTIONS
) -> frozenset[str]:
    """The Textual action names (without arguments) a read-only connection refuses on `screen`."""
    return frozenset(
        a.textual_action().split("(", 1)[0] for a in keyed(screen, table) if not a.readonly_ok
    )


LIFECYCLE: dict[str, LifecycleAction] = lifecycle_table()
