"""The guard every qemu-img action on a path passes first: who uses the image, and may this
action touch it now?

`guard(action, paths, connections)` asks the one `used_by` scan (core/storage/used_by.py) about
every path the action writes (a commit writes the overlay and its backing file) and answers
with a typed `Verdict` the UI renders:

- a running domain uses a path (its disk, or its disk's backing chain): never write the file
  behind QEMU's back. REFUSE, naming the domain(s) and the live route libvirt offers for this
  action (grow: blockResize; commit: blockCommit/blockPull; convert/copy: blockCopy; internal
  snapshots: libvirt snapshots) or saying there is none;
- only shut-off domains, or images built on the path (overlays whose backing file it is): a
  warning that needs the admin's CONFIRM;
- nobody: OK.

Read-only queries (info, check without repair, the source of a convert) are never refused:
when a running domain holds the image they run with `-U` (force share) and say the data may be
stale (`force_share`, `note`); copying such a source (convert) is asked first, naming blockCopy
as the consistent live route.

Blocking (libvirt, qemu-img): call from a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from virttui.core.storage.qemu_img import STALE_NOTE
from virttui.core.storage.used_by import Connection, User, scan_usage

Action = Literal[
    "info",
    "check",
    "repair",
    "create",
    "convert-source",
    "convert-target",
    "grow",
    "shrink",
    "snapshot-create",
    "snapshot-apply",
    "snapshot-delete",
    "commit",
    "rebase",
]
Decision = Literal["ok", "confirm", "refuse"]

READ_ONLY: frozenset[str] = frozenset({"info", "check", "convert-source"})

ACTION_WORDS: dict[str, str] = {
    "info": "read",
    "check": "check",
    "repair": "repair",
    "create": "create (overwrite)",
    "convert-source": "copy",
    "convert-target": "overwrite with a copy",
    "grow": "grow",
    "shrink": "shrink",
    "snapshot-create": "take an internal snapshot of",
    "snapshot-apply": "revert to an internal snapshot",
    "snapshot-delete": "delete an internal snapshot of",
    "commit": "commit into its backing file",
    "rebase": "rebase",
}

# What libvirt offers instead while the domain runs ("" : nothing, the guest must be shut off).
LIVE_ROUTES: dict[str, str] = {
    "grow": "grow it live with libvirt's blockResize",
    "commit": "merge it live with libvirt's blockCommit (or blockPull)",
    "rebase": "flatten it live with libvirt's blockPull (or blockCommit)",
    "convert-target": "copy a running guest's disk with libvirt's blockCopy",
    "convert-source": "copy a running guest's disk consistently with libvirt's blockCopy",
    "create": "copy a running guest's disk with libvirt's blockCopy",
    "snapshot-create": "take a libvirt snapshot of the domain",
    "snapshot-apply": "revert with a libvirt snapshot of the domain",
    "snapshot-delete": "use the domain's libvirt snapshots",
    "shrink": "",
    "repair": "",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the guard decided for `action` on `paths`.

    `decision`: "ok" (go), "confirm" (warn, go only when the admin confirms), "refuse".
    `message`: one paragraph for the admin (names are untrusted: render it plainly).
    `running` / `stopped` / `images`: the users found, by kind. `live_route`: what libvirt offers
    instead (for a refusal). `force_share`: a read-only query must use -U (the data may be stale).
    """

    action: str
    paths: tuple[str, ...]
    decision: Decision
    message: str
    running: tuple[User, ...] = ()
    stopped: tuple[User, ...] = ()
    images: tuple[User, ...] = ()
    live_route: str = ""
    force_share: bool = False

    @property
    def allowed(self) -> bool:
        """May the action run (possibly after a confirmation)?"""
        return self.decision != "refuse"

    @property
    def needs_confirmation(self) -> bool:
        return self.decision == "confirm"

    @property
    def note(self) -> str:
        return STALE_NOTE if self.force_share else ""


def _names(users: Iterable[User]) -> str:
    return ", ".join(dict.fromkeys(u.name for u in users))


def _describe(users: Iterable[User]) -> str:
    return "; ".join(dict.fromkeys(u.describe() for u in users))


def decide(action: Action, paths: Sequence[str], users: Sequence[User]) -> Verdict:
    """The verdict for `action` on `paths` given their users (pure: no I/O)."""
    users = tuple(dict.fromkeys(users))
    running = tuple(u for u in users if u.kind == "domain" and u.running)
    stopped = tuple(u for u in users if u.kind == "domain" and not u.running)
    images = tuple(u for u in users if u.kind == "image")
    where = ", ".join(paths)
    words = ACTION_WORDS.get(action, action)
    if action in READ_ONLY:
        if running:
            text = (
                f"{where} is in use by running domain(s) {_names(running)}: read with -U "
                "(force share); the data may be stale or inconsistent."
            )
            route = LIVE_ROUTES.get(action, "")
            decision: Decision = "ok"
            if action == "convert-source":  # a copy of a disk being written: asked first
                text += f" The copy may be inconsistent; to {route}. Copy it anyway?"
                decision = "confirm"
            return Verdict(
                action, tuple(paths), decision, text, running, stopped, images, route, True
            )
        return Verdict(action, tuple(paths), "ok", "", running, stopped, images)
    if running:
        route = LIVE_ROUTES.get(action, "")
        text = (
            f"Refused: cannot {words} {where}: in use by running domain(s) "
            f"{_describe(running)}. Writing it behind QEMU's back corrupts it."
        )
        text += f" Instead: {route}." if route else " Shut the domain(s) off first."
        return Verdict(action, tuple(paths), "refuse", text, running, stopped, images, route)
    if stopped or images:
        parts = []
        if stopped:
            parts.append(f"used by shut-off domain(s) {_describe(stopped)}")
        if images:
            parts.append(
                f"the backing file of {_names(images)}: changing it changes what they show "
                "(and can corrupt them)"
            )
        text = (
            f"Warning: {where} is {' and '.join(parts)}. Nothing runs on it now; {words} it anyway?"
        )
        return Verdict(action, tuple(paths), "confirm", text, running, stopped, images)
    return Verdict(action, tuple(paths), "ok", "", running, stopped, images)


def guard(
    action: Action,
    paths: Sequence[str],
    connections: Iterable[Connection],
    *,
    local: bool = True,
) -> Verdict:
    """Scan the open connections once (`used_by`) and decide for `action` on `paths` (files on
    this machine when `local`). A scan that fails raises: unknown users are not "nobody"."""
    wanted = [p for p in paths if p]
    usage = scan_usage(connections)
    users: list[User] = []
    for path in wanted:
        users.extend(usage.users_of(path, local=local))
    return decide(action, wanted, users)
