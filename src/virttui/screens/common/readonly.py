"""Keys that cannot act on a read-only connection: hidden from the footer, and they say why.

A screen's `check_action` returns False for a write action while its target host is read-only:
the footer does not advertise it and the key does not run it. Textual then tries the next
binding of the same key: `read_only_fallbacks` adds one per write key (hidden, action
`read_only`), enabled only on a read-only host, which says "Read-only connection".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from textual.binding import Binding, BindingType

READ_ONLY_MESSAGE = "Read-only connection: actions are disabled"


def action_name(action: str) -> str:
    """ "lifecycle('start')" -> "lifecycle"."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


def read_only_fallbacks(
    bindings: Iterable[BindingType], write_actions: Collection[str]
) -> list[Binding]:
    """A hidden `read_only` binding for every key bound to one of `write_actions`."""
    return [
        Binding(b.key, "read_only", "Read-only", show=False)
        for b in bindings
        if isinstance(b, Binding) and action_name(b.action) in write_actions
    ]
