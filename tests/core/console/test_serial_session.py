"""SerialSession without a guest: its own buffers stay bounded, its read pacing."""

from __future__ import annotations

from virttui.core.console.serial import MAX_OUT, SerialSession


def test_queued_input_is_bounded() -> None:
    session = SerialSession(on_data=lambda _b: None, on_ended=lambda _r: None)
    for _ in range(40):
        session.write(b"p" * 100_000)  # a 4 MB paste into a guest that does not read
    assert len(session._out) == MAX_OUT
    assert session.bytes_refused == 4_000_000 - MAX_OUT


def test_reads_pause_while_output_flows_and_resume_by_themselves() -> None:
    """A read after a quiet spell leaves reading on (an echo is never delayed); a read less
    than GATHER_MS after the previous one stops reading for GATHER_MS (libvirt queues the
    packets meanwhile), and libvirt's own event loop timer turns reading back on."""
    import time

    from virttui.core.console import serial
    from virttui.core.host.libvirt_runtime import ensure_event_loop

    ensure_event_loop()
    session = SerialSession(on_data=lambda _b: None, on_ended=lambda _r: None)
    session._gather()  # the first read: nothing came just before
    assert not session._paused
    session._gather()  # the next read at once: output is flowing
    assert session._paused and session._resume_timer is not None
    deadline = time.monotonic() + 5
    while session._paused and time.monotonic() < deadline:
        time.sleep(0.001)
    assert not session._paused  # resumed by the timer (within GATHER_MS, give or take)
    time.sleep(2 * serial.GATHER_MS / 1000)
    session._gather()  # quiet again for longer than GATHER_MS
    assert not session._paused
    session.close()  # removes the timer
    assert session._resume_timer is None
