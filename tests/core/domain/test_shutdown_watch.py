"""Shutdown/reboot requests the guest may ignore: overdue after the grace, offered once, done
when the domain stops, restarts or reboots."""

from __future__ import annotations

from virttui.core.domain.shutdown_watch import REBOOT, SHUTDOWN, ShutdownWatch
from virttui.core.host.stats import DomainRow


def row(uuid: str, dom_id: int, state: int = 1) -> DomainRow:
    return DomainRow(
        uuid, uuid, dom_id, state, 0, 1, 1, 1, 1, None, None, None, None, None, None, None
    )


def test_overdue_only_after_the_grace_and_offered_once() -> None:
    watch = ShutdownWatch(grace=3.0)
    watch.asked("h", "a", SHUTDOWN, 5, now=100.0)
    assert not watch.overdue("h", "a", 102.9) and watch.due_offers(102.9) == []
    assert watch.overdue("h", "a", 103.0)
    assert watch.due_offers(103.0) == [("h", "a", SHUTDOWN)]
    assert watch.due_offers(200.0) == []  # offered once per request
    assert watch.overdue("h", "a", 200.0)  # the list keeps saying so


def test_done_when_stopped_restarted_rebooted_or_gone() -> None:
    watch = ShutdownWatch(grace=1.0)
    watch.asked("h", "a", SHUTDOWN, 5, 0.0)
    watch.asked("h", "b", SHUTDOWN, 6, 0.0)
    watch.asked("h", "c", REBOOT, 7, 0.0)
    watch.asked("h", "d", SHUTDOWN, 8, 0.0)
    watch.asked("other", "a", SHUTDOWN, 5, 0.0)
    watch.observe("h", {"a": row("a", -1, 5), "b": row("b", 9), "c": row("c", 7)})
    assert ("h", "a") not in watch  # shut off
    assert ("h", "b") not in watch  # a new run
    assert ("h", "d") not in watch  # gone
    assert ("h", "c") in watch and ("other", "a") in watch
    watch.rebooted("h", "c")
    assert ("h", "c") not in watch
    # A reboot event does not end a shutdown request.
    watch.asked("h", "e", SHUTDOWN, 3, 0.0)
    watch.rebooted("h", "e")
    assert ("h", "e") in watch
