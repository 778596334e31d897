"""The guard's decision from the users of a path (pure), and its scan on the test driver."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from virttui.core.storage.guard import decide, guard
from virttui.core.storage.used_by import User

RUNNING = User("domain", "web\x1b[31m", "local", "disk", running=True)
STOPPED = User("domain", "db", "local", "disk", running=False)
OVERLAY = User("image", "/var/lib/libvirt/images/top.qcow2", "local", "backing file")


@pytest.mark.parametrize(
    ("action", "route"),
    [
        ("grow", "blockResize"),
        ("commit", "blockCommit"),
        ("rebase", "blockPull"),
        ("convert-target", "blockCopy"),
        ("snapshot-create", "libvirt snapshot"),
        ("snapshot-apply", "libvirt snapshot"),
    ],
)
def test_running_user_refuses_naming_it_and_the_live_route(action: str, route: str) -> None:
    verdict = decide(action, ["/img/a.qcow2"], [RUNNING, STOPPED])  # type: ignore[arg-type]
    assert verdict.decision == "refuse" and not verdict.allowed
    assert "web\x1b[31m" in verdict.message and route in verdict.message
    assert route in verdict.live_route
    assert verdict.running == (RUNNING,) and verdict.stopped == (STOPPED,)


def test_no_live_route_says_shut_off() -> None:
    for action in ("shrink", "repair"):
        verdict = decide(action, ["/img/a"], [RUNNING])  # type: ignore[arg-type]
        assert verdict.decision == "refuse" and verdict.live_route == ""
        assert "Shut the domain(s) off first" in verdict.message


def test_shut_off_users_and_overlays_need_confirmation() -> None:
    verdict = decide("grow", ["/img/a"], [STOPPED])
    assert verdict.needs_confirmation and verdict.allowed and "db" in verdict.message
    verdict = decide("commit", ["/img/a"], [OVERLAY])
    assert verdict.needs_confirmation and "top.qcow2" in verdict.message


def test_nobody_is_ok_and_read_only_uses_force_share() -> None:
    assert decide("grow", ["/img/a"], []).decision == "ok"
    verdict = decide("info", ["/img/a"], [RUNNING])
    assert verdict.decision == "ok" and verdict.force_share and "stale" in verdict.note
    verdict = decide("convert-source", ["/img/a"], [RUNNING])
    assert verdict.force_share and "blockCopy" in verdict.message
    assert verdict.needs_confirmation  # an inconsistent copy is asked first
    assert not decide("check", ["/img/a"], [STOPPED]).force_share


def test_guard_scans_the_test_driver(tmp_path: Path) -> None:
    conn = libvirt.open("test:///default")
    # The test driver's running "test" domain has no disks: a temp file has no users.
    verdict = guard("grow", [str(tmp_path / "free.qcow2")], [conn])
    assert verdict.decision == "ok"
