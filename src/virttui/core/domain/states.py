"""Words for every libvirt domain state and state reason (virDomainState and its *Reason enums).

The numbers are libvirt's stable ABI, written out so the table does not depend on which constants
a given libvirt-python build exports. Unknown numbers (a newer daemon) become "reason N".
"""

from __future__ import annotations

NOSTATE = 0
RUNNING = 1
BLOCKED = 2
PAUSED = 3
SHUTDOWN = 4
SHUTOFF = 5
CRASHED = 6
PMSUSPENDED = 7

STATE_NAMES: dict[int, str] = {
    NOSTATE: "no state",
    RUNNING: "running",
    BLOCKED: "blocked",
    PAUSED: "paused",
    SHUTDOWN: "shutting down",
    SHUTOFF: "shut off",
    CRASHED: "crashed",
    PMSUSPENDED: "suspended by guest",
}

REASON_NAMES: dict[int, dict[int, str]] = {
    NOSTATE: {0: "unknown"},
    RUNNING: {
        0: "unknown",
        1: "booted",
        2: "migrated",
        3: "restored",
        4: "from snapshot",
        5: "unpaused",
        6: "migration cancelled",
        7: "save cancelled",
        8: "woken up",
        9: "crashed",
        10: "post-copy migration",
        11: "post-copy failed",
    },
    BLOCKED: {0: "unknown"},
    PAUSED: {
        0: "unknown",
        1: "by user",
        2: "migrating",
        3: "saving",
        4: "dumping core",
        5: "I/O error",
        6: "watchdog",
        7: "from snapshot",
        8: "shutting down",
        9: "taking snapshot",
        10: "crashed",
        11: "starting up",
        12: "post-copy migration",
        13: "post-copy failed",
    },
    SHUTDOWN: {0: "unknown", 1: "by user"},
    SHUTOFF: {
        0: "unknown",
        1: "shut down",
        2: "destroyed",
        3: "crashed",
        4: "migrated",
        5: "saved",
        6: "failed to start",
        7: "from snapshot",
        8: "daemon restarted",
    },
    CRASHED: {0: "unknown", 1: "panicked"},
    PMSUSPENDED: {0: "unknown"},
}

ACTIVE_STATES = frozenset({RUNNING, BLOCKED, PAUSED, SHUTDOWN, CRASHED, PMSUSPENDED})


def state_name(state: int) -> str:
    return STATE_NAMES.get(state, f"state {state}")


def reason_name(state: int, reason: int) -> str:
    return REASON_NAMES.get(state, {}).get(reason, f"reason {reason}")


def describe_state(state: int, reason: int) -> str:
    """ "running (booted)", "shut off (destroyed)"; the reason is left out when unknown."""
    name = state_name(state)
    why = reason_name(state, reason)
    return name if reason == 0 else f"{name} ({why})"


# ---------------------------------------------------------------- the list's one vocabulary
# The word the domain list shows for a state (8 cells) is the word it sorts by and the first word
# its filter matches: `list_word` is the only place that picks it. The long names above
# ("shut off", "suspended by guest") are accepted by the filter as aliases, nothing more.
SHORT_NAMES: dict[int, str] = {
    NOSTATE: "nostate",
    RUNNING: "running",
    BLOCKED: "blocked",
    PAUSED: "paused",
    SHUTDOWN: "shutdown",
    SHUTOFF: "shutoff",
    CRASHED: "crashed",
    PMSUSPENDED: "pmsusp",
}
SAVED = "saved"  # shut off with a managed save image: the next start resumes it
IGNORED = "ignored"  # still running after the shutdown grace period


def list_word(state: int, *, managed_save: bool | None = None, ignored: bool = False) -> str:
    """The list's state word: "shutoff", or "saved" when a managed save image waits, or
    "ignored" when the guest ignored a shutdown request for longer than the grace period.
    Shown in the State column, sorted by, and matched first by the filter."""
    if ignored and state in ACTIVE_STATES:
        return IGNORED
    if managed_save and state == SHUTOFF:
        return SAVED
    return SHORT_NAMES.get(state, f"state {state}")


def state_words(
    state: int, *, managed_save: bool | None = None, ignored: bool = False
) -> tuple[str, ...]:
    """Every word the filter matches for a state: the list's word first, then its aliases (the
    long name "shut off" / "suspended by guest", the plain state under "saved"/"ignored", and
    "managed save" / "shutdown ignored")."""
    words = [list_word(state, managed_save=managed_save, ignored=ignored), state_name(state)]
    if state in SHORT_NAMES:
        words.append(SHORT_NAMES[state])
    if managed_save and state == SHUTOFF:
        words.append("managed save")
    if ignored and state in ACTIVE_STATES:
        words.append("shutdown ignored")
    return tuple(dict.fromkeys(words))
