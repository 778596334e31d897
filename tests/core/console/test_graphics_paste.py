"""GraphicsSession.type_keysyms: pasted text typed over RFB in paced chunks, in order, stopped
by a cancel, a closed console or a dead connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from virttui.core.console.graphics import MODE_RFB, GraphicsSession
from virttui.core.console.keysyms import PASTE_CHUNK, PASTE_EVENT_SECONDS, paste_plan


class FakeRfb:
    def __init__(self) -> None:
        self.groups: list[tuple[int, ...]] = []
        self.alive = True

    def keys(self, keysyms: Sequence[int]) -> None:
        self.groups.append(tuple(keysyms))

    def close(self) -> None:
        self.alive = False


def session() -> tuple[GraphicsSession, FakeRfb]:
    s = GraphicsSession(object(), lambda _m: None)  # type: ignore[arg-type]
    rfb = FakeRfb()
    s.rfb = rfb  # type: ignore[assignment]
    s.mode = MODE_RFB
    return s, rfb


def test_typed_in_order_in_paced_chunks() -> None:
    s, rfb = session()
    plan = paste_plan("echo Hello, World! 1+1=2\n")
    waits: list[tuple[float, int]] = []
    progress: list[int] = []

    def wait(seconds: float) -> bool:
        waits.append((seconds, len(rfb.groups)))
        return False

    try:
        sent = s.type_keysyms(plan.groups, wait=wait, progress=progress.append)
    finally:
        s.close()
    assert sent == len(plan.groups) == 25
    assert tuple(rfb.groups) == plan.groups  # every character, in order
    # After each chunk (but the last) a pause of PASTE_EVENT_SECONDS per key event it sent:
    # "echo Hel" and "lo, Worl" are 9 keysyms each (H, W with Shift), "d! 1+1=2" 10.
    assert PASTE_CHUNK == 8 and PASTE_EVENT_SECONDS >= 0.010  # QEMU: a key event per 10 ms
    e = PASTE_EVENT_SECONDS
    assert [w[1] for w in waits] == [8, 16, 24]
    assert [w[0] for w in waits] == pytest.approx([18 * e, 18 * e, 20 * e])
    assert plan.events == 2 * 29 and plan.seconds() == pytest.approx(58 * e)
    assert progress == [8, 16, 24, 25]
    assert s.keys_sent == 25


def test_cancel_stops_between_chunks() -> None:
    s, rfb = session()
    plan = paste_plan("x" * 100)
    calls = 0

    def wait(_seconds: float) -> bool:
        nonlocal calls
        calls += 1
        return calls == 2  # cancelled during the second pause

    try:
        assert s.type_keysyms(plan.groups, wait=wait, chunk=10) == 20
    finally:
        s.close()
    assert len(rfb.groups) == 20


def test_closing_the_console_stops_the_paste() -> None:
    s, rfb = session()
    plan = paste_plan("y" * 50)

    def progress(sent: int) -> None:
        if sent >= 10:
            s.close()  # the console closes while typing

    assert s.type_keysyms(plan.groups, wait=lambda _s: False, progress=progress, chunk=5) == 10
    assert len(rfb.groups) == 10


def test_a_dead_connection_stops_the_paste() -> None:
    s, rfb = session()
    plan = paste_plan("z" * 30)

    def wait(_seconds: float) -> bool:
        rfb.alive = False  # the display went away
        return False

    try:
        assert s.type_keysyms(plan.groups, wait=wait, chunk=8) == 8
    finally:
        s.close()
    assert len(rfb.groups) == 8


def test_nothing_is_typed_without_rfb() -> None:
    s = GraphicsSession(object(), lambda _m: None)  # type: ignore[arg-type]
    waited: list[Any] = []
    try:
        assert s.type_keysyms(paste_plan("abc").groups, wait=waited.append) == 0
    finally:
        s.close()
    assert waited == []
