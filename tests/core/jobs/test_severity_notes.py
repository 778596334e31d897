"""Warning severity is set where the condition is known: a live change libvirt refused, kept in
the persistent configuration, makes the job's result a warning (no text is searched)."""

from __future__ import annotations

import libvirt

from virttui.core.domain.action_result import (
    AFFECT_CONFIG,
    AFFECT_LIVE,
    apply_config_only,
    apply_live_else_config,
)
from virttui.core.jobs import Job, JobDone, JobMessage, Severity


class FakeDom:
    """A running persistent domain whose live changes the hypervisor may refuse."""

    def __init__(self, refuse_live: bool) -> None:
        self.refuse_live = refuse_live
        self.calls: list[int] = []

    def name(self) -> str:
        return "web"

    def isActive(self) -> int:  # noqa: N802 - libvirt's name
        return 1

    def isPersistent(self) -> int:  # noqa: N802 - libvirt's name
        return 1

    def call(self, flags: int) -> None:
        self.calls.append(flags)
        if flags & AFFECT_LIVE and self.refuse_live:
            raise libvirt.libvirtError("cannot change this while running")


def run(fn) -> JobDone:
    messages: list[JobMessage] = []
    Job(fn, messages.append).run()
    (done,) = messages
    assert isinstance(done, JobDone), done
    return done


def test_live_refused_is_a_warning() -> None:
    dom = FakeDom(refuse_live=True)
    done = run(lambda ctx: apply_live_else_config(dom, "set", dom.call))  # type: ignore[arg-type]
    assert done.severity is Severity.WARNING
    assert not done.result.live and done.result.config
    assert dom.calls == [AFFECT_LIVE | AFFECT_CONFIG, AFFECT_CONFIG, AFFECT_LIVE]


def test_live_applied_is_information() -> None:
    dom = FakeDom(refuse_live=False)
    done = run(lambda ctx: apply_live_else_config(dom, "set", dom.call))  # type: ignore[arg-type]
    assert done.severity is Severity.INFO and done.result.live


def test_saved_anyway_config_only_stays_information() -> None:
    dom = FakeDom(refuse_live=True)
    done = run(lambda ctx: apply_config_only(dom, "set", dom.call))  # type: ignore[arg-type]
    assert done.severity is Severity.INFO and done.result.config and not done.result.live
