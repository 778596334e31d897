"""TerminalView's drawing: unchanged rows keep their strips, only changed rows are repainted,
cell widths match Rich's, the widget's style is folded into the rows (and follows CSS)."""

from __future__ import annotations

import random

import pytest
from rich.cells import cell_len
from rich.style import Style
from textual.app import App, ComposeResult

from virttui.widgets.console.terminal_view import TerminalView, cell_width

COLUMNS, ROWS = 40, 6


class TermApp(App[None]):
    CSS = "TerminalView { background: black; color: #d0d0d0; }"

    def __init__(self, view: TerminalView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


def _view() -> TerminalView:
    return TerminalView(columns=COLUMNS, rows=ROWS, threaded=False)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii text",
        "\ufffd" * 50,
        "é ж ü \u0301x",  # precomposed, Cyrillic, a lone combining mark
        "e\u0301\u0308\u0327",  # a cell with marks
        "漢字かな",  # wide
        "a\u200db\ufe0fc",  # joiner, variation selector: Rich measures the whole text
        "\x01\x7f\x9b",  # controls: 0 cells for Rich
        "\U0001f600 x",  # emoji
    ],
)
def test_cell_width_is_rich_cell_len(text: str) -> None:
    assert cell_width(text) == cell_len(text)


def test_cell_width_of_random_text_is_rich_cell_len() -> None:
    rnd = random.Random(7)
    for _ in range(200):
        text = "".join(chr(rnd.randrange(0x20, 0x30000)) for _ in range(rnd.randrange(1, 150)))
        assert cell_width(text) == cell_len(text), ascii(text)


def _plain(strip: object) -> list[tuple[str, Style | None]]:
    return [(s.text, s.style) for s in strip]  # type: ignore[attr-defined]


async def test_random_text_rows_carry_rich_cell_length_and_base_style() -> None:
    view = _view()
    async with TermApp(view).run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()
        rnd = random.Random(3)
        view.feed(rnd.randbytes(4000).replace(b"\x1b", b""))
        view._tick()
        base = view.rich_style
        assert view._base == base
        for y in range(ROWS):
            strip = view.render_line(y)
            # The width the strip says it has is the one Rich measures for its text.
            assert strip.cell_length == sum(cell_len(s.text) for s in strip)
            # Each segment's style is the widget's style under the cell's own (what
            # Strip.apply_style(base) made of the row before).
            for segment in strip:
                assert segment.style is not None
                assert segment.style.color == base.color
                assert segment.style.bgcolor == base.bgcolor
            reversed_ = [s.text for s in strip if s.style and s.style.reverse]
            cursor = view.vt.cursor
            assert len(reversed_) == (y == cursor.y and cursor.x < COLUMNS)


async def test_a_scroll_reuses_the_strips_of_lines_that_only_moved() -> None:
    view = _view()
    async with TermApp(view).run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()
        view.feed(b"\r\n".join(f"line {i}".encode() for i in range(ROWS)))
        view._tick()
        before = list(view._strips)
        rendered: list[int] = []
        real = view._render_row

        def counting(*args: object, **kwargs: object):  # noqa: ANN202 - a spy
            rendered.append(1)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        view._render_row = counting  # type: ignore[method-assign]
        view.feed(b"\r\nnew line")  # the screen scrolls by one: pyte marks every row dirty
        view._tick()
        # Rows 0..ROWS-3 show the lines that were one row lower: same strips, not redrawn.
        for y in range(ROWS - 2):
            assert view._strips[y] is before[y + 1]
        # Drawn again: the row the cursor left and the new last row.
        assert len(rendered) == 2
        assert "new line" in view.render_line(ROWS - 1).text
        assert "line 0" not in "".join(view.render_line(y).text for y in range(ROWS))


async def test_only_changed_rows_are_repainted() -> None:
    view = _view()
    async with TermApp(view).run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()
        view.feed(b"one\r\ntwo\r\nthree")
        view._tick()
        await pilot.pause()
        regions: list[object] = []
        real = view.refresh

        def spy(*args: object, **kwargs: object):  # noqa: ANN202 - a spy
            regions.append(args)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        view.refresh = spy  # type: ignore[method-assign]
        view.feed(b"!")  # one cell on the cursor's row
        view._tick()
        assert len(regions) == 1
        (region,) = regions[0]  # type: ignore[misc]
        assert (region.y, region.height) == (2, 1)  # type: ignore[attr-defined]
        assert view.render_line(2).text.startswith("three!")


async def test_a_style_change_redraws_every_row_with_the_new_base() -> None:
    view = _view()
    app = TermApp(view)
    async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()
        view.feed(b"hello")
        view._tick()
        await pilot.pause()
        old = view.render_line(0)
        old_base = view._base
        assert old_base is not None
        view.styles.color = "red"
        await pilot.pause()
        new_base = view.rich_style
        assert new_base.color != old_base.color
        view.render_lines(view.size.region)  # what Textual calls to repaint it
        assert view._base == new_base
        assert view.render_line(0) is not old
        first = next(iter(view.render_line(0)))
        assert first.style is not None and first.style.color == new_base.color


async def test_paging_back_down_to_the_bottom_shows_the_live_rows_again() -> None:
    view = _view()
    async with TermApp(view).run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()
        view.feed(b"\r\n".join(b"line %d" % i for i in range(30)))
        view._tick()
        live = [view.render_line(y).text.rstrip() for y in range(ROWS)]
        assert live[-1] == "line 29"
        view.scroll_history(1)
        assert [view.render_line(y).text.rstrip() for y in range(ROWS)] != live
        view.scroll_history(-1)  # Shift+PgDn back to the bottom, no new output
        assert view.history_offset == 0
        assert [view.render_line(y).text.rstrip() for y in range(ROWS)] == live


async def test_jump_scroll_draws_whole_screen_floods_at_jump_hz(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Output that scrolls a quarter screen or more between two frames is drawn at JUMP_HZ, not
    at every tick; output that scrolls less (typing, a prompt) is drawn at the next tick."""
    from virttui.widgets.console import terminal_view as tv

    clock = [1000.0]
    monkeypatch.setattr(tv, "_now", lambda: clock[0])
    view = _view()
    async with TermApp(view).run_test(size=(COLUMNS, ROWS)) as pilot:
        await pilot.pause()

        def screenful(tag: str) -> None:
            view.feed("".join(f"{tag}{i}\r\n" for i in range(2 * ROWS)).encode())

        def shown() -> str:
            return "".join(s.text for s in view.render_line(ROWS - 2))

        screenful("a")
        view._tick()  # the first flood frame is drawn at once
        assert shown().startswith(f"a{2 * ROWS - 1}")
        clock[0] += 1 / tv.REFRESH_HZ
        screenful("b")
        view._tick()  # a whole screen again, one refresh later: skipped
        assert shown().startswith(f"a{2 * ROWS - 1}")
        clock[0] += 1 / tv.JUMP_HZ
        view._tick()  # ... and drawn once 1/JUMP_HZ has passed since the last flood frame
        assert shown().startswith(f"b{2 * ROWS - 1}")
        clock[0] += 1 / tv.REFRESH_HZ
        view.feed(b"typed")  # less than a screen: the next tick draws it
        view._tick()
        assert "".join(s.text for s in view.render_line(ROWS - 1)).startswith("typed")
