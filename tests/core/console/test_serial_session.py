"""SerialSession's own buffers stay bounded (no libvirt needed: nothing is sent before open)."""

from __future__ import annotations

from virttui.core.console.serial import MAX_OUT, SerialSession


def test_queued_input_is_bounded() -> None:
    session = SerialSession(on_data=lambda _b: None, on_ended=lambda _r: None)
    for _ in range(40):
        session.write(b"p" * 100_000)  # a 4 MB paste into a guest that does not read
    assert len(session._out) == MAX_OUT
    assert session.bytes_refused == 4_000_000 - MAX_OUT
