"""gil_switch: a shorter GIL switch interval while held (nested), the previous one back after
the last release; a release too many is harmless."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from virttui.core.common import gil_switch


@pytest.fixture(autouse=True)
def interval() -> Iterator[None]:
    saved = sys.getswitchinterval()
    yield
    while gil_switch.held():
        gil_switch.release()
    sys.setswitchinterval(saved)


def test_hold_shortens_and_the_last_release_restores() -> None:
    sys.setswitchinterval(0.005)
    gil_switch.hold()
    assert sys.getswitchinterval() == pytest.approx(gil_switch.SWITCH_S)
    gil_switch.hold()  # a second console
    gil_switch.release()
    assert gil_switch.held() and sys.getswitchinterval() == pytest.approx(gil_switch.SWITCH_S)
    gil_switch.release()
    assert not gil_switch.held() and sys.getswitchinterval() == pytest.approx(0.005)
    gil_switch.release()  # one too many
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_an_interval_already_shorter_is_kept() -> None:
    sys.setswitchinterval(0.0002)
    shorter = sys.getswitchinterval()  # CPython keeps it in whole microseconds
    gil_switch.hold()
    assert sys.getswitchinterval() == shorter
    gil_switch.release()
    assert sys.getswitchinterval() == shorter
