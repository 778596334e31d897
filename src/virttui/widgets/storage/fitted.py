"""A DataTable whose one flexible column (the name) takes the width the fixed ones leave, so
nothing scrolls sideways at 80 columns; longer names end in an ellipsis."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable

Column = tuple[str, str, int | None]  # (key, title, width); None = the flexible one
MIN_FLEX = 10
SCROLLBAR = 2  # room for the vertical scrollbar when the rows overflow


class FittedTable(DataTable[Text]):
    columns_spec: Sequence[Column] = ()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._flex = -1
        self._rows: list[tuple[str, list[Text]]] = []

    def flex_width(self) -> int:
        fixed = sum(w for _k, _t, w in self.columns_spec if w is not None)
        padding = 2 * self.cell_padding * len(self.columns_spec)
        return max(MIN_FLEX, self.size.width - fixed - padding - SCROLLBAR)

    def on_mount(self) -> None:
        self._layout_columns()

    def on_resize(self, _event: events.Resize) -> None:
        if self.flex_width() != self._flex:
            self._layout_columns()
            self._fill()

    def _layout_columns(self) -> None:
        self._flex = self.flex_width()
        self.clear(columns=True)
        for key, title, width in self.columns_spec:
            self.add_column(title, key=key, width=self._flex if width is None else width)

    def set_rows(self, rows: list[tuple[str, list[Text]]], cursor: int | None) -> None:
        """Replace the rows ((key, cells)); put the cursor on row `cursor` when given."""
        self._rows = rows
        self._fill(cursor)

    def _fill(self, cursor: int | None = None) -> None:
        row = self.cursor_row if cursor is None else cursor
        self.clear()
        for key, cells in self._rows:
            self.add_row(*cells, key=key)
        if self._rows:
            self.move_cursor(row=max(0, min(row, len(self._rows) - 1)))
