"""Grouping, filtering and sorting of the domain list model."""

from __future__ import annotations

from virttui.core.domain_store import DomainStore
from virttui.core.stats import DomainRow


def row(
    uuid: str, name: str, state: int = 1, cpu: float | None = None, mem: int = 1024
) -> DomainRow:
    return DomainRow(
        uuid, name, 1, state, 0, 1, 1, mem, mem, cpu, cpu, None, None, None, None, None
    )


def make_store() -> DomainStore:
    store = DomainStore()
    store.add_host("a", "host a")
    store.add_host("b", "host b")
    store.apply_rows(
        "a", [row("1", "web", cpu=5.0), row("2", "db", cpu=50.0), row("3", "Alpha", state=5)], 4
    )
    store.apply_rows("b", [row("4", "zeta", cpu=1.0)], 2)
    return store


def test_grouped_by_host_and_sorted_by_name_case_insensitively() -> None:
    items = make_store().items()
    assert [(i.uri, i.uuid) for i in items] == [
        ("a", None),
        ("a", "3"),
        ("a", "2"),
        ("a", "1"),
        ("b", None),
        ("b", "4"),
    ]


def test_sort_by_cpu_descending_keeps_groups() -> None:
    store = make_store()
    store.sort_column, store.sort_reverse = "cpu", True
    assert [i.uuid for i in store.items()] == [None, "2", "1", "3", None, "4"]


def test_filter_matches_name_or_state() -> None:
    store = make_store()
    store.filter_text = "shut"
    assert [i.uuid for i in store.items()] == [None, "3", None]
    store.filter_text = "WE"
    assert [i.uuid for i in store.items()] == [None, "1", None]


def test_history_follows_rows_and_forgets_removed_domains() -> None:
    store = make_store()
    store.apply_rows("a", [row("1", "web", cpu=7.0)], 4)
    assert store.hosts["a"].history.values("1", store.cpu_series()) == [5.0, 7.0]
    assert "2" not in store.hosts["a"].history
    assert store.domain_count() == 2


def test_widest_name_in_cells_counts_cjk_as_two() -> None:
    store = make_store()
    store.apply_rows("b", [row("9", "数据库-测试")], 2)
    assert store.hosts["b"].name_cells == 11
