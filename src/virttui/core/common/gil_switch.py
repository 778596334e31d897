"""A shorter GIL switch interval while a CPU-bound helper thread runs next to the UI.

CPython hands the GIL from a running thread to a waiting one only every `sys.getswitchinterval()`
(5 ms). While a serial console's emulator thread works through a flood, every other thread
queues for it that long at each turn: the UI thread with a key, libvirt's event thread sending
that key and then receiving the echo (a "convoy": one echo takes several turns). The console
bench measured it: with 1 ms instead of 5 the key-to-echo p99 during random-byte output fell from
76 to 33 ms, escape-sequence floods 40 to 21 ms, plain text 27 to 20 ms (`benchmarks/console.py`,
same run, interleaved). The cost is a few more hand-overs per second of contention.
`hold()` while such a thread runs, `release()` after: nested, the last release restores the
interval that was set before.
"""

from __future__ import annotations

import sys
import threading

SWITCH_S = 0.001

_lock = threading.Lock()
_users = 0
_saved: float | None = None


def hold() -> None:
    global _users, _saved
    with _lock:
        _users += 1
        if _users == 1 and sys.getswitchinterval() > SWITCH_S:
            _saved = sys.getswitchinterval()  # else already short enough: left alone
            sys.setswitchinterval(SWITCH_S)


def release() -> None:
    global _users, _saved
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0 and _saved is not None:
            sys.setswitchinterval(_saved)
            _saved = None


def held() -> bool:
    with _lock:
        return _users > 0
