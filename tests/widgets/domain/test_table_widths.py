"""The name column's width: measured by the table (terminal cells are a drawing matter, core
never imports rich), from the store's members, again only when the names change."""

from __future__ import annotations

from tests.core.domain.test_domain_store import make_store, row
from virttui.widgets.domain.table import DomainTable


def test_widest_name_in_cells_counts_cjk_as_two() -> None:
    store = make_store()
    store.apply_rows("b", [row("9", "数据库-测试")], 2)
    table = DomainTable(store)
    assert table.name_cells("b", store.hosts["b"]) == 11


def test_widest_name_counts_escapes_as_drawn_and_follows_renames() -> None:
    store = make_store()
    table = DomainTable(store)
    assert table.name_cells("a", store.hosts["a"]) == 5  # "Alpha"
    store.apply_rows("a", [row("1", "ab\x1bcd")], 4)  # drawn as ab\ecd: 6 cells, not 5
    assert table.name_cells("a", store.hosts["a"]) == 6
    assert table.name_cells("b", store.hosts["b"]) == 4  # "zeta"
    store.remove_host("b")
    store.apply_rows("a", [], 4)
    assert table.name_cells("a", store.hosts["a"]) == 0
    assert "b" not in table._name_cells  # a gone host's figure is dropped at the next measure
