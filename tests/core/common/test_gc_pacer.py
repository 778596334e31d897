"""The GC pacer: full collections off CPython's schedule while installed, run by tick() only at
a quiet moment (or once overdue), and CPython's thresholds back after the last uninstall."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from virttui.core.common import gc_pacer
from virttui.core.common.gc_pacer import DUE, OVERDUE_S, QUIET_S, GcPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    saved = gc.get_threshold()
    yield Clock()
    gc.set_threshold(*saved)


@pytest.fixture
def pacer(clock: Clock) -> Iterator[GcPacer]:
    """An installed pacer on the test clock (uninstalled afterwards)."""
    installed = GcPacer(clock)
    installed.install()
    yield installed
    installed.uninstall()


def make_due() -> None:
    """Enough young (generation-1) collections that a full one is due."""
    gc.collect()
    for _ in range(DUE):
        gc.collect(1)
    assert gc.get_count()[2] >= DUE


def test_install_keeps_young_collections_and_uninstall_restores(clock: Clock) -> None:
    before = gc.get_threshold()
    pacer = GcPacer(clock)
    pacer.install()
    pacer.install()  # nested: a second app in the same process
    young, middle, full = gc.get_threshold()
    assert (young, middle) == before[:2] and full > 1_000_000
    pacer.uninstall()
    assert pacer.installed and gc.get_threshold()[2] == full
    pacer.uninstall()
    assert not pacer.installed and gc.get_threshold() == before
    pacer.uninstall()  # one too many: harmless
    assert gc.get_threshold() == before


def test_cpython_no_longer_runs_full_collections_while_installed(pacer: GcPacer) -> None:
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(seen)
    try:
        keep = [[i] for i in range(300_000)]  # survivors: CPython would collect fully
    finally:
        gc.callbacks.remove(seen)
    assert keep and not full
    assert gc.get_count()[2] >= 1  # the young collections went on


def test_tick_waits_for_a_quiet_moment(pacer: GcPacer, clock: Clock) -> None:
    make_due()
    pacer.busy()
    clock.now += QUIET_S / 2
    assert not pacer.tick() and gc.get_count()[2] >= DUE  # output still coming
    clock.now += QUIET_S
    assert pacer.tick()
    assert gc.get_count()[2] == 0 and pacer.collections == 1 and pacer.overdue == 0
    assert not pacer.tick()  # nothing due any more


def test_tick_does_nothing_before_enough_young_collections(pacer: GcPacer, clock: Clock) -> None:
    gc.collect()
    clock.now += 10 * OVERDUE_S
    assert not pacer.tick() and pacer.collections == 0


def test_an_endless_flood_still_gets_a_collection_once_overdue(
    pacer: GcPacer, clock: Clock
) -> None:
    make_due()
    for _ in range(int(OVERDUE_S / gc_pacer.TICK_S) - 1):
        clock.now += gc_pacer.TICK_S
        pacer.busy()
        assert not pacer.tick()
    clock.now += 2 * gc_pacer.TICK_S
    pacer.busy()
    assert pacer.tick() and pacer.overdue == 1


def test_not_installed_never_collects(clock: Clock) -> None:
    pacer = GcPacer(clock)
    make_due()
    clock.now += 10 * OVERDUE_S
    assert not pacer.tick()
