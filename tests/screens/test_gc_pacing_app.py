"""The app paces full GC collections: installed while it runs (CPython's own generation-2
threshold out of reach), a key marks the moment busy, a console drawing output too, and
CPython's thresholds are back when the app ends."""

from __future__ import annotations

import gc

from tests.pilot_utils import wait_until
from virttui.app import VirtTUIApp
from virttui.core.common import gc_pacer


async def test_app_installs_the_pacer_and_keys_mark_busy() -> None:
    before = gc.get_threshold()
    app = VirtTUIApp([], demo_fallback=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert gc_pacer.PACER.installed
        assert gc.get_threshold()[2] > 1_000_000 and gc.get_threshold()[:2] == before[:2]
        gc_pacer.PACER._busy_at = 0.0  # noqa: SLF001 - as if nothing happened for long
        await pilot.press("down")
        assert gc_pacer.PACER._busy_at > 0.0  # noqa: SLF001
    assert not gc_pacer.PACER.installed
    assert gc.get_threshold() == before


async def test_the_timer_runs_a_due_collection_at_a_quiet_moment() -> None:
    app = VirtTUIApp([], demo_fallback=False)
    async with app.run_test(size=(80, 24)) as pilot:
        ran = gc_pacer.PACER.collections
        gc.collect()
        for _ in range(gc_pacer.DUE):
            gc.collect(1)
        gc_pacer.PACER._busy_at = 0.0  # noqa: SLF001 - quiet for long
        await wait_until(pilot, lambda: gc_pacer.PACER.collections > ran, timeout=5)
        assert gc.get_count()[2] < gc_pacer.DUE
