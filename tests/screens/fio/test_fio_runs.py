"""The saved runs screen and the compare screen (screens/fio/runs.py) on a store in tmp_path
filled from recorded fio streams: listing (hostile label, damaged entry), report, mark and
compare, label, delete with its confirmation, export with the overwrite confirmation, the
palette entry; SVG snapshots of both screens at 80x24 (fixed data, UTC)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.core.fio.test_runs import T0, recorded_run
from tests.pilot_utils import click_on, wait_until
from tests.textshot import screen_text
from virttui.core.fio.runs import Headline, LoadedRun, RunStore, SavedRun, compare, read_export
from virttui.resources import stylesheets
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.domain.action_dialogs import PromptScreen
from virttui.screens.fio.runs import (
    FioCompareScreen,
    FioRunsScreen,
    format_date,
    pair_text,
    save_run,
    short_ns,
)

HOSTILE = "xfs \x1b[31m[bold]evil"


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dates are local time: UTC here, so the table reads the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def fill(tmp_path: Path) -> tuple[RunStore, list[SavedRun]]:
    """Three runs an hour apart and one foreign directory."""
    store = RunStore(tmp_path / "store")
    first = store.save(recorded_run(tmp_path), label="ext4 psync 64k")
    second = store.save(
        recorded_run(
            tmp_path,
            "randread-sigint.json",
            text="[stop]\nfilename=/srv/xfs/t.bin\nsize=4M\nrw=randread\nioengine=libaio\n",
            started=T0 + 3600,
            uri="qemu+ssh://root@kvm2/system",
        ),
        label=HOSTILE,
    )
    third = store.save(
        recorded_run(
            tmp_path,
            "randread-2jobs-final.json",
            text="[two]\nfilename=/tmp/two.bin\nsize=4M\nrw=randread\nbs=64k\nnumjobs=2\n",
            started=T0 + 7200,
        )
    )
    (store.root / "junk").mkdir()
    return store, [third, second, first]


class RunsApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store
        self.opened: list[LoadedRun] = []

    def on_mount(self) -> None:
        self.push_screen(FioRunsScreen(self.store, open_report=self.opened.append))


async def ready(pilot: Pilot[Any]) -> FioRunsScreen:
    app = pilot.app
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, FioRunsScreen) and app.screen.loaded and not app.screen.busy,
        20,
    )
    screen = app.screen
    assert isinstance(screen, FioRunsScreen)
    return screen


async def settle(pilot: Pilot[Any], screen: FioRunsScreen) -> None:
    await wait_until(pilot, lambda: not screen.busy, 20)
    await pilot.pause(0.05)


def cell_texts(screen: FioRunsScreen) -> list[list[str]]:
    table = screen.query_one("#fio-runs-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


# ------------------------------------------------------------------------------------ list
async def test_list_renders_literally_with_damaged_entry(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.pause(0.2)
        assert [r.run_id for r in screen.runs] == [s.run_id for s in saved] + ["junk"]
        rows = cell_texts(screen)
        assert rows[0][1] == format_date(T0 + 7200) == "26-12-01 02:00"
        assert rows[0][2] == "two"  # no label: the job names
        assert rows[1][2] == "xfs \\e[31m[bold]evil"  # escape visible, no markup
        assert rows[3][2] == "junk" and rows[3][3] == "damaged"
        h = saved[2].headline
        assert rows[2][5] == f"{short_ns(h['read'].p99_ns)}/{short_ns(h['write'].p99_ns)}"
        keys = ("Report", "Back", "Mark", "Compare", "Delete", "Export")
        # the footer at 80 columns (drawn once the bindings settle: waited for, under load)
        await wait_until(
            pilot, lambda: all(k in screen_text(app).splitlines()[-1] for k in keys), 20
        )
        text = screen_text(app)
        assert "xfs \\e[31m[bold]" in text and "4 run(s), 1 unreadable" in text  # cut at 18
        await pilot.press("down")
        await wait_until(pilot, lambda: "root@kvm2" in screen_text(app), 20)
        text = screen_text(app)
        assert "/srv/xfs/t.bin" in text and "stopped" not in text
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: "Only delete (d) applies" in screen_text(app), 20)
        # the footer follows: no Report / Mark / Export on a damaged entry, Delete stays
        await wait_until(pilot, lambda: "Report" not in screen_text(app).splitlines()[-1], 20)
        footer = screen_text(app).splitlines()[-1]
        assert "Delete" in footer and "Export" not in footer and "Mark" not in footer
        assert not screen.check_action("open", ())
        assert screen.check_action("delete", ())


def test_pair_text_says_which_direction() -> None:
    def saved(**heads: Headline) -> SavedRun:
        return SavedRun(run_id="x", path=Path("/x"), headline=heads)

    h = Headline(9400.0, 1.0, 1000)
    assert str(pair_text(saved(read=h), lambda d: d)) == "read"
    assert str(pair_text(saved(write=h), lambda d: d)) == "-/write"
    assert str(pair_text(saved(read=h, write=h), lambda d: d)) == "read/write"
    assert str(pair_text(saved(), lambda d: d)) == "-"


async def test_empty_store_says_where(tmp_path: Path) -> None:
    app = RunsApp(RunStore(tmp_path / "none"))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: "No saved runs in" in screen_text(app), 20)


async def test_enter_opens_the_report(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("down")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.opened), 20)
        assert app.opened == [store.load(saved[1].run_id)]
        # a damaged entry opens nothing
        await pilot.press("down", "down")
        await pilot.press("enter")
        await settle(pilot, screen)
        assert len(app.opened) == 1


# ------------------------------------------------------------------------------------ compare
async def test_mark_two_and_compare(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("c")  # nothing marked: only the highlighted run
        await wait_until(pilot, lambda: "Mark a run" in screen_text(app), 20)
        await pilot.press("space")  # the newest
        await pilot.press("down", "down")
        await pilot.press("m")  # the oldest
        assert screen.marked == [saved[0].run_id, saved[2].run_id]
        assert cell_texts(screen)[0][0] == "✓" and cell_texts(screen)[1][0] == ""
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FioCompareScreen), 20)
        cmp_screen = app.screen
        assert isinstance(cmp_screen, FioCompareScreen)
        comp = cmp_screen.comparison
        # A is the older run, B the newer
        assert comp.a.run_id == saved[2].run_id and comp.b.run_id == saved[0].run_id
        assert comp == compare(store.load(saved[2].run_id), store.load(saved[0].run_id))
        assert cmp_screen.runs == (store.load(saved[2].run_id), store.load(saved[0].run_id))
        table = cmp_screen.query_one("#fio-compare-table", DataTable)
        first = [str(c) for c in table.get_row_at(0)]
        row = comp.rows[0]
        assert first[1] == "IOPS" and row.ratio is not None
        assert first[4] == f"{row.ratio:.2f}" and first[5] == row.verdict
        options = cmp_screen.query_one("#fio-compare-options", DataTable)
        diffs = [[str(c) for c in options.get_row_at(i)] for i in range(options.row_count)]
        assert ["job 1: rec", "bs", "64k", "64k"] not in diffs
        assert ["job 1: rec", "rw", "randrw", "randread"] in diffs
        await pilot.press("escape")
        assert app.screen is screen


async def test_compare_marked_with_highlighted(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("down", "space", "down")
        assert screen.compare_pair() == (saved[2], saved[1])
        await pilot.press("space", "space")  # marked and unmarked again
        assert screen.marked == [saved[1].run_id]


async def test_save_run_off_the_ui_thread_then_listed(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    got: list[SavedRun] = []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        run = recorded_run(tmp_path, started=T0 + 86400)
        save_run(app, run, got.append, store=store, label="from the live screen")
        await wait_until(pilot, lambda: bool(got), 20)
        assert got[0].label == "from the live screen"
        assert store.load(got[0].run_id).series == run.intervals
        await pilot.press("r")
        await wait_until(pilot, lambda: len(screen.runs) == 5, 20)
        assert screen.runs[0].run_id == got[0].run_id  # the newest first


# ------------------------------------------------------------------------------------ label
async def test_label(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "[red]after tuning"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, screen)
        await wait_until(pilot, lambda: cell_texts(screen)[0][2] == "[red]after tuning", 20)
        assert store.get(saved[0].run_id).label == "[red]after tuning"


# ------------------------------------------------------------------------------------ delete
async def test_delete_asks_first(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("down", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "Delete the saved run" in screen_text(app), 20)
        await pilot.press("escape")  # Cancel is the default
        await settle(pilot, screen)
        assert saved[1].path.exists() and len(screen.runs) == 4
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: len(screen.runs) == 3, 20)
        assert not saved[1].path.exists()
        assert [r.run_id for r in store.list()] == [saved[0].run_id, saved[2].run_id, "junk"]
        # the damaged entry can go too
        await pilot.press("down", "delete")  # the cursor stayed on row 2: now junk
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "Delete the saved run junk?" in screen_text(app), 20)
        await click_on(pilot, "#confirm")
        await wait_until(pilot, lambda: len(screen.runs) == 2, 20)
        assert not (store.root / "junk").exists()


# ------------------------------------------------------------------------------------ export
async def export_to(pilot: Pilot[Any], path: Path) -> None:
    app = pilot.app
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await pilot.pause(0.1)


async def test_export_asks_before_overwriting(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    out = tmp_path / "out" / "run.json"
    out.parent.mkdir()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await export_to(pilot, out)
        await wait_until(pilot, lambda: out.exists(), 20)
        await settle(pilot, screen)
        assert read_export(out).final == store.load(saved[0].run_id).final
        out.write_text("mine")
        await export_to(pilot, out)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await wait_until(pilot, lambda: "Overwrite" in screen_text(app), 20)
        await pilot.press("escape")
        await settle(pilot, screen)
        assert out.read_text() == "mine"
        await export_to(pilot, out)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: out.read_text() != "mine", 20)
        assert json.loads(out.read_text())["meta"]["id"] == saved[0].run_id
        # .csv: the interval series
        csv_out = tmp_path / "out" / "series.csv"
        await export_to(pilot, csv_out)
        await wait_until(pilot, lambda: csv_out.exists(), 20)
        await wait_until(pilot, lambda: "exported to" in screen_text(app), 20)
        header = csv_out.read_text().splitlines()[0]
        assert header.startswith("interval,time_s,length_s,")
        # a directory is refused
        await export_to(pilot, tmp_path / "out")
        await wait_until(pilot, lambda: "directory: give a file name" in screen_text(app), 20)


async def test_compare_export_csv(tmp_path: Path) -> None:
    store, saved = fill(tmp_path)
    app = RunsApp(store)
    out = tmp_path / "cmp.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("space", "down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, FioCompareScreen), 20)
        await export_to(pilot, out)
        await wait_until(pilot, lambda: out.exists(), 20)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "section,metric,unit,a,b,ratio_b_over_a,verdict"
        assert any(line.startswith("read,IOPS,IOPS,") for line in lines)


# ------------------------------------------------------------------------------------ palette
async def test_palette_opens_saved_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from virttui.app import VirtTUIApp

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    store = RunStore()
    store.save(recorded_run(tmp_path), label="from the palette")
    app = VirtTUIApp([], refresh=3600.0)
    async with app.run_test(size=(80, 24)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert "fio: saved runs" in commands
        commands["fio: saved runs"].callback()
        screen = await ready(pilot)
        assert screen.store.root == tmp_path / "xdg" / "virttui" / "fio-runs"
        assert [r.label for r in screen.runs] == ["from the palette"]
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"fio runs: compare", "fio runs: export", "fio runs: delete"} <= titles


# ------------------------------------------------------------------------------------ snapshots
def test_fio_runs_snapshot_80x24(snap_compare: Any, tmp_path: Path) -> None:
    store, _saved = fill(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        await pilot.press("space", "down")
        await settle(pilot, screen)
        await pilot.pause(0.3)

    assert snap_compare(RunsApp(store), terminal_size=(80, 24), run_before=run_before)


def test_fio_compare_snapshot_80x24(snap_compare: Any, tmp_path: Path) -> None:
    store, _saved = fill(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("space", "down", "down", "c")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FioCompareScreen), 20)
        await pilot.pause(0.3)

    assert snap_compare(RunsApp(store), terminal_size=(80, 24), run_before=run_before)
