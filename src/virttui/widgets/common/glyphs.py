"""Glyph sets: Unicode where the terminal can draw it, ASCII on the Linux console (TERM=linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Glyphs:
    spark: str  # lowest to highest level
    yes: str
    no: str
    selected: str
    ticked: str = "[x]"  # checkboxes: ticked and unticked differ by glyph, not only by colour
    unticked: str = "[ ]"


UNICODE = Glyphs(spark=" ▁▂▃▄▅▆▇█", yes="yes", no="-", selected="*", ticked="[✓]")
ASCII = Glyphs(spark=" .:-=+*#@", yes="yes", no="-", selected="*", ticked="[x]")


def pick_glyphs(force_ascii: bool | None = None) -> Glyphs:
    if force_ascii is None:
        force_ascii = (
            os.environ.get("TERM", "") == "linux" or os.environ.get("VIRTTUI_ASCII") == "1"
        )
    return ASCII if force_ascii else UNICODE


def sparkline(values: list[float], width: int, glyphs: Glyphs, top: float = 100.0) -> str:
    """The last `width` values as one character each, scaled against `top` (at least 1)."""
    if width <= 0:
        return ""
    tail = values[-width:]
    levels = glyphs.spark
    top = max(top, 1.0)
    n = len(levels) - 1
    # NaN (no sample) and zero both draw as the lowest level; `v > 0` is False for NaN.
    chars = [levels[min(n, max(0, round(v / top * n)))] if v > 0 else levels[0] for v in tail]
    return "".join(chars).rjust(width)
