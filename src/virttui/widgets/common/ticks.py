"""Checkboxes whose ticked and unticked states differ by glyph (`[✓]`/`[ ]`, ASCII `[x]`/`[ ]`).

Textual's Checkbox and SelectionList draw `▐X▌` in both states and tell them apart by colour
only, which reads the same on a 16-colour terminal or the Linux console. The glyphs come from the
app's glyph set (`app.glyphs`, ASCII on TERM=linux or with --ascii).
"""

from __future__ import annotations

from typing import Any, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import Selection

from virttui.widgets.common.glyphs import UNICODE, Glyphs

T = TypeVar("T")


def _glyphs(widget: Widget) -> Glyphs:
    try:
        glyphs = getattr(widget.app, "glyphs", UNICODE)
    except Exception:  # noqa: BLE001 - no app yet (built outside a running app)
        return UNICODE
    return glyphs if isinstance(glyphs, Glyphs) else UNICODE


class TickBox(Checkbox):
    """A Checkbox drawn as `[✓] label` / `[ ] label`."""

    @property
    def _button(self) -> Content:
        glyphs = _glyphs(self)
        box = glyphs.ticked if self.value else glyphs.unticked
        style = self.get_visual_style("toggle--button")
        return Content.assemble(box[:1], (box[1:-1], style), box[-1:])


class TickList(SelectionList[T]):
    """A SelectionList drawn with `[✓]` / `[ ]`; disabled options can never be ticked, not even
    by code (`select`, `toggle`, `select_all`)."""

    def __init__(self, *selections: Any, **kwargs: Any) -> None:
        self._born_disabled: set[T] = set()  # before super().__init__, which adds the options
        super().__init__(*selections, **kwargs)

    def _is_disabled(self, value: T) -> bool:
        values: dict[T, int] | None = getattr(self, "_values", None)
        index = values.get(value) if values is not None else None
        if index is not None and index < len(self._options):
            return self._options[index].disabled
        return value in self._born_disabled

    def _make_selection(self, selection: Any) -> Selection[T]:
        made: Selection[T] = super()._make_selection(selection)
        if made.disabled:  # a disabled row never starts ticked
            self._selected.pop(made.value, None)
            self._born_disabled.add(made.value)
        return made

    def _select(self, value: T) -> bool:
        if self._is_disabled(value):
            return False
        return super()._select(value)

    def _toggle(self, value: T) -> bool:
        if self._is_disabled(value) and value not in self._selected:
            return False
        return super()._toggle(value)

    def _get_left_gutter_width(self) -> int:
        return len(_glyphs(self).unticked) + 1

    def render_line(self, y: int) -> Strip:
        # OptionList's line, then our box; SelectionList's own drawing is skipped (it also takes
        # the line number for the option index, wrong once a long prompt wraps).
        line = OptionList.render_line(self, y)
        try:
            option_index, line_offset = self._lines[self.scroll_offset.y + y]
            option = self.get_option_at_index(option_index)
        except (IndexError, OptionDoesNotExist):
            return line
        ticked = option.value in self._selected
        underlying = next(iter(line)).style or self.rich_style
        component = "selection-list--button"
        if ticked:
            component += "-selected"
        if self.highlighted == option_index:
            component += "-highlighted"
        meta = Style(meta={"option": option_index})
        glyphs = _glyphs(self)
        box = glyphs.ticked if ticked else glyphs.unticked
        if line_offset:  # continuation of a wrapped prompt
            box = " " * len(box)
        button_style = self.get_component_rich_style(component) + meta
        return Strip(
            [
                Segment(box[:1], underlying + meta),
                Segment(box[1:-1], button_style),
                Segment(box[-1:], underlying + meta),
                Segment(" ", underlying),
                *line,
            ]
        )
