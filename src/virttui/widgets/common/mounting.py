"""Job callbacks that touch a screen or widget only once Textual has mounted it.

A job started in `on_mount` can end before Textual marks the node mounted: Textual sets
`is_mounted` only after every Mount handler of the class hierarchy has run, and the job's result
is delivered on the event loop as soon as the mounting task yields. A callback that then says
"not mounted: nothing to show" drops the result for good (a dialog that stays empty: seen once in
about 20 runs of a live-route dialog). `when_mounted` runs the callback at once when the node is
mounted, from the node's own message queue when it is still mounting (Textual starts that queue
only after the mount), and never when the node has left the DOM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from textual.widget import Widget

P = ParamSpec("P")
N = TypeVar("N", bound=Widget)


def when_mounted(node: Widget, fn: Callable[[], object]) -> None:
    """Run `fn()` now if `node` is mounted, once it is if it is still mounting, else never."""
    if node.is_mounted:
        fn()
    elif node.is_attached:
        node.call_later(fn)


def after_mount(method: Callable[Concatenate[N, P], object]) -> Callable[Concatenate[N, P], None]:
    """A method (a job's done/progress callback) that runs as `when_mounted` says."""

    def run(self: N, /, *args: P.args, **kwargs: P.kwargs) -> None:
        when_mounted(self, lambda: method(self, *args, **kwargs))

    functools.update_wrapper(run, method)
    return run
