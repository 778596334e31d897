"""Drawn lines are freed by reference counting when replaced: Textual's `Strip.divide` made every
strip divided at its full width a reference cycle (it cached `[self]` in itself), which only the
cyclic GC frees (see virttui/widgets/common/strip_cycles.py)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

from virttui.app import VirtTUIApp
from virttui.widgets.common import strip_cycles
from virttui.widgets.console.terminal_view import TerminalView

ORIGINAL_DIVIDE = strip_cycles._original_divide  # noqa: SLF001 - the comparison


def sample_strip() -> Strip:
    return Strip(
        [Segment("hello ", Style(bold=True)), Segment("wörld", Style(color="red")), Segment("!")],
        12,
    )


@pytest.fixture
def no_automatic_gc() -> Iterator[Callable[[], int]]:
    """CPython's automatic collections off; yields a function that collects and returns how many
    unreachable objects it found (garbage that reference counting could not free)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield gc.collect
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("make", [TerminalView, lambda: VirtTUIApp([], demo_fallback=False)])
def test_the_app_and_the_console_widget_install_it(make: Callable[[], object]) -> None:
    Strip.divide = ORIGINAL_DIVIDE  # type: ignore[method-assign]  # as Textual ships it
    try:
        assert not strip_cycles.installed()
        make()
        assert strip_cycles.installed() and Strip.divide is not ORIGINAL_DIVIDE
        strip_cycles.install()  # again: harmless
        assert strip_cycles.installed()
    finally:
        strip_cycles.install()


def test_a_whole_width_divide_leaves_no_cycle(no_automatic_gc: Callable[[], int]) -> None:
    strip_cycles.install()
    strip = sample_strip()
    assert strip.divide([12]) == [strip]
    assert strip.divide([12, 40]) == [strip]  # cuts past the end are ignored, as by Textual
    del strip
    assert no_automatic_gc() == 0  # freed when its last reference went


def test_textuals_own_divide_made_that_a_cycle(no_automatic_gc: Callable[[], int]) -> None:
    """What the wrapper fixes, shown on Textual's method (if this fails, Textual fixed it)."""
    strip = sample_strip()
    assert ORIGINAL_DIVIDE(strip, [12]) == [strip]
    del strip
    assert no_automatic_gc() > 0


@pytest.mark.parametrize("cuts", [[3], [6, 12], [2, 7, 9, 12], [0, 12], [], [5, 11, 30]])
def test_other_divides_are_textuals(cuts: list[int]) -> None:
    strip_cycles.install()
    ours = sample_strip().divide(cuts)
    theirs = ORIGINAL_DIVIDE(sample_strip(), cuts)
    assert [(s.text, s.cell_length, list(s)) for s in ours] == [
        (s.text, s.cell_length, list(s)) for s in theirs
    ]


class ConsoleApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalView(columns=60, rows=10, threaded=False)


async def test_a_console_redrawing_a_flood_leaves_no_strip_garbage() -> None:
    """The product path: frames of a TerminalView in an app, drawn and replaced; no strip (nor
    any of its caches) is left for the cyclic GC."""
    app = ConsoleApp()
    async with app.run_test(size=(60, 11)) as pilot:
        view = app.query_one(TerminalView)
        await pilot.pause()
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds, to look at it
        try:
            for i in range(40):
                view.feed(b"".join(b"line %d.%d %s\r\n" % (i, j, b"x" * 40) for j in range(5)))
                view._tick()  # noqa: SLF001 - this frame's rows, now
                await pilot.pause()
            gc.collect()
            garbage: list[Any] = list(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert view.vt.scrolled > 150  # the screen did scroll: every row was redrawn many times
        assert not [obj for obj in garbage if isinstance(obj, Strip)]
