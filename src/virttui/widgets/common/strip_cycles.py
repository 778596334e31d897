"""Rendered lines freed when dropped, not left for the cyclic GC.

Textual 8.2.8's `Strip.divide(cuts)` caches its result in the strip itself, and when the one cut
is the strip's whole width it returns `[self]`: the strip then holds itself through its cache, a
reference cycle. The compositor divides every line of every widget it draws that way (one cut,
the widget's full width, unless something overlaps it), so every line the app ever drew became
garbage that only the cyclic GC frees (about 12 objects each: the strip, its seven caches, its
segment list...), not freed by reference counting when the next frame replaced it.

What that cost: a console flood drawing 120x39 left ~30,000 such objects per MB
of output; the young collections freed most of them, but those that lived a while reached the
oldest generation, and the full collection that frees them (about once a minute during a flood,
`core/common/gc_pacer.py`) stopped every thread for 14-69 ms of CPU in the console bench, most
of it spent freeing those strips (8,000-23,000 freed objects per full collection).

`install()` (idempotent; the app and the console widget call it) wraps `Strip.divide`: that
whole-width case returns a new `[self]` without caching it (the cache only saved building a
one-item list); every other call goes to Textual's own method. Same results; no cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.strip import Strip

_original_divide = Strip.divide


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    length = self.cell_length
    kept = [cut for cut in cuts if cut <= length]  # what Textual's divide looks at
    if len(kept) == 1 and kept[0] == length:
        return [self]  # Textual would cache this list in `self`: a cycle through itself
    return _original_divide(self, kept)


def install() -> None:
    """Make `Strip.divide` cycle-free (once per process; later calls do nothing)."""
    if Strip.divide is not _divide:
        Strip.divide = _divide  # type: ignore[method-assign]  # the one wrapped method


def installed() -> bool:
    return Strip.divide is _divide
