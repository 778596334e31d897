"""InputFirst: a helper thread waits between steps while the UI thread has a key in hand, and
never for longer than MAX_WAIT_S after the key came."""

from __future__ import annotations

import threading
import time

import pytest

from virttui.core.common import input_first
from virttui.core.common.input_first import InputFirst


def test_no_key_no_wait() -> None:
    gate = InputFirst()
    gate.wait()
    assert gate.waits == 0 and not gate.pending


def test_a_helper_waits_until_the_key_is_handled(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = InputFirst()
    monkeypatch.setattr(input_first, "MAX_WAIT_S", 30.0)  # only end() can release it here
    gate.begin()
    done = threading.Event()

    def helper() -> None:
        gate.wait()
        done.set()

    thread = threading.Thread(target=helper)
    thread.start()
    assert not done.wait(0.2)  # held while the key is in hand
    gate.end()
    assert done.wait(10)
    thread.join(10)
    assert gate.waits == 1


def test_a_key_nobody_handles_holds_a_helper_back_for_max_wait_at_most() -> None:
    gate = InputFirst()
    gate.begin()  # and never end()
    started = time.monotonic()
    gate.wait()
    assert time.monotonic() - started >= input_first.MAX_WAIT_S * 0.9
    assert not gate.pending  # expired: the next step does not wait
    gate.wait()
    assert gate.waits == 2
