"""One line of the virtualization verdict: a named check with a status and its consequence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN_REMOTE = "unknown-remote"


@dataclass(frozen=True)
class Check:
    """`id` is stable (used in JSON and tests); `name` is the human label."""

    id: str
    name: str
    status: Status
    detail: str
    consequence: str


def remote_unknown(check_id: str, name: str, what: str) -> Check:
    """The placeholder for a check that needs the host's own /proc or /sys."""
    return Check(
        id=check_id,
        name=name,
        status=Status.UNKNOWN_REMOTE,
        detail=f"not checked: {what} is only readable on the host itself",
        consequence="run `virttui check` on the host for this line",
    )
