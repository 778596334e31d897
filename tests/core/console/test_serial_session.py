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
    than GATHER_MS after the previous one, or after a pause ended, stops reading for GATHER_MS
    (libvirt queues the packets meanwhile), and libvirt's own event loop timer turns reading
    back on."""
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
    session._gather()  # the read the end of the pause lets in: still flowing, pause again
    assert session._paused
    while session._paused and time.monotonic() < deadline:
        time.sleep(0.001)
    assert not session._paused
    time.sleep(2 * serial.GATHER_MS / 1000)
    session._gather()  # quiet again for longer than GATHER_MS
    assert not session._paused
    session.close()  # removes the timer
    assert session._resume_timer is None


class FakeStream:
    """Stands for the libvirt stream: records what is sent, and the event mask asked for."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[bytes] = []
        self.events = 0
        self.fail = fail

    def send(self, data: bytes) -> int:
        import libvirt

        if self.fail:
            raise libvirt.libvirtError("the console stream is gone")
        self.sent.append(bytes(data))
        return len(data)

    def eventUpdateCallback(self, events: int) -> None:  # noqa: N802 - libvirt's name
        self.events = events


def test_a_keystroke_is_sent_at_once_and_a_paste_is_queued_in_order() -> None:
    """A key (up to DIRECT_MAX bytes) with nothing queued goes out from write() itself, not
    after a wake-up of the event loop thread; a paste is queued for that thread (WRITABLE
    asked for), and a key typed behind it waits its turn."""
    import libvirt

    from virttui.core.console.serial import DIRECT_MAX

    session = SerialSession(on_data=lambda _b: None, on_ended=lambda _r: None)
    stream = FakeStream()
    session._stream = stream  # type: ignore[assignment]
    session.write(b"\x1b[A")
    assert stream.sent == [b"\x1b[A"] and not session._out and session.bytes_out == 3
    assert not stream.events & libvirt.VIR_STREAM_EVENT_WRITABLE
    paste = b"p" * (DIRECT_MAX + 1)
    session.write(paste)
    session.write(b"k")
    assert stream.sent == [b"\x1b[A"] and bytes(session._out) == paste + b"k"
    assert stream.events & libvirt.VIR_STREAM_EVENT_WRITABLE
    session._flush(stream)  # type: ignore[arg-type]  # the event loop thread's turn
    assert b"".join(stream.sent) == b"\x1b[A" + paste + b"k" and not session._out
    assert not stream.events & libvirt.VIR_STREAM_EVENT_WRITABLE


def test_a_keystroke_the_stream_refuses_is_queued_for_the_flush_to_report() -> None:
    import libvirt

    session = SerialSession(on_data=lambda _b: None, on_ended=lambda _r: None)
    stream = FakeStream(fail=True)
    session._stream = stream  # type: ignore[assignment]
    session.write(b"q")
    assert bytes(session._out) == b"q" and session.bytes_out == 0
    assert stream.events & libvirt.VIR_STREAM_EVENT_WRITABLE  # the flush will meet the error
