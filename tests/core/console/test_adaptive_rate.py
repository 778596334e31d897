"""The remote screenshot path's adaptive rate."""

from __future__ import annotations

import pytest

from virttui.core.console.graphics import AdaptiveRate, passes_fds


def test_adaptive_rate() -> None:
    now = [100.0]
    rate = AdaptiveRate(2.0, clock=lambda: now[0])
    assert rate.interval() == 0.5
    # Unchanged frames slow down, to 0.5 frames a second at most.
    seen = []
    for _ in range(6):
        rate.frame(changed=False)
        seen.append(rate.interval())
    assert seen == sorted(seen) and seen[0] == pytest.approx(0.75)
    assert seen[-1] == 2.0
    # A changed frame: back to the base rate.
    rate.frame(changed=True)
    assert rate.interval() == 0.5
    # A key: 5 frames a second for 2 s, even after unchanged frames...
    for _ in range(5):
        rate.frame(changed=False)
    rate.key()
    assert rate.interval() == 0.2
    rate.frame(changed=False)
    assert rate.interval() == 0.2
    # ... then the (reset, slowing) idle rate again.
    now[0] += 2.1
    assert rate.interval() == pytest.approx(0.75)
    rate.set_base(1.0)
    assert rate.interval() == 1.0


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("qemu:///system", True),
        ("qemu:///session", True),
        ("qemu+unix:///system", True),
        ("qemu+ssh://root@localhost/system", False),
        ("qemu+ssh://kvm1/system", False),
        ("qemu+tcp://127.0.0.1/system", False),
        ("qemu://kvm1/system", False),
    ],
)
def test_passes_fds(uri: str, expected: bool) -> None:
    assert passes_fds(uri) is expected
