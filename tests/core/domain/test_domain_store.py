"""Grouping, filtering and sorting of the domain list model."""

from __future__ import annotations

import pytest

from virttui.core.domain.store import DomainStore
from virttui.core.host.stats import DomainRow


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


def _state_row(uuid: str, state: int, *, dom_id: int = 1, saved: bool | None = None) -> DomainRow:
    return DomainRow(
        uuid,
        f"vm{uuid}",
        dom_id,
        state,
        0,
        1,
        1,
        1024,
        1024,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        managed_save=saved,
    )


def test_filter_matches_the_state_words_the_list_shows() -> None:
    store = DomainStore()
    store.add_host("h", "h")
    store.apply_rows(
        "h",
        [
            _state_row("1", 5, dom_id=-1),  # shut off
            _state_row("2", 4),  # shutting down
            _state_row("3", 7),  # suspended by the guest (pmsuspended)
            _state_row("4", 5, dom_id=-1, saved=True),  # shut off with a managed save image
            _state_row("5", 1),  # running
            _state_row("6", 6),  # crashed
        ],
        2,
    )
    words = {uuid: store.state_word("h", store.row("h", uuid)) for uuid in "123456"}
    assert words == {
        "1": "shutoff",
        "2": "shutdown",
        "3": "pmsusp",
        "4": "saved",
        "5": "running",
        "6": "crashed",
    }

    def found(text: str) -> set[str]:
        store.filter_text = text
        return {i.uuid for i in store.items() if i.uuid is not None}

    assert found("shutoff") == {"1", "4"}
    assert found("shut off") == {"1", "4"}
    assert found("SHUTDOWN") == {"2"}
    assert found("shutting") == {"2"}
    assert found("pmsusp") == {"3"}
    assert found("suspended") == {"3"}
    assert found("saved") == {"4"}
    assert found("managed") == {"4"}
    assert found("crashed") == {"6"}


def test_state_sort_orders_by_the_word_the_list_shows() -> None:
    """One vocabulary: sorted by "pmsusp"/"saved"/"shutoff"/"ignored" as shown, not by the long
    names ("suspended by guest" would sort after "shut off", "saved" among the shut off)."""
    store = DomainStore()
    store.add_host("h", "h")
    store.apply_rows(
        "h",
        [
            _state_row("1", 5, dom_id=-1),  # shutoff
            _state_row("2", 7),  # pmsusp
            _state_row("3", 4, dom_id=-1, saved=True),  # shutdown state, not saved
            _state_row("4", 5, dom_id=-1, saved=True),  # saved
            _state_row("5", 1, dom_id=5),  # running, then ignored
            _state_row("6", 3),  # paused
            _state_row("7", 1, dom_id=7),  # running
        ],
        2,
    )
    store.shutdowns.grace = 0.0
    store.shutdowns.asked("h", "5", "shutdown", 5, 0.0)
    store.sort_column = "state"
    order = [i.uuid for i in store.items() if i.uuid is not None]
    shown = [store.state_word("h", store.row("h", u)) for u in order]
    assert shown == sorted(shown)
    assert shown == ["ignored", "paused", "pmsusp", "running", "saved", "shutdown", "shutoff"]
    store.sort_reverse = True
    assert [i.uuid for i in store.items() if i.uuid is not None] == order[::-1]


def test_ignored_shutdown_is_shown_and_filterable() -> None:
    store = DomainStore()
    store.add_host("h", "h")
    store.apply_rows("h", [_state_row("1", 1, dom_id=7), _state_row("2", 1, dom_id=8)], 2)
    store.shutdowns.grace = 0.0
    store.shutdowns.asked("h", "1", "shutdown", 7, 0.0)
    assert store.state_word("h", store.row("h", "1")) == "ignored"
    assert store.state_word("h", store.row("h", "2")) == "running"
    store.filter_text = "ignored"
    assert [i.uuid for i in store.items() if i.uuid] == ["1"]
    # Once the domain stops (or restarts), the request is done.
    store.apply_rows("h", [_state_row("1", 5, dom_id=-1), _state_row("2", 1, dom_id=8)], 2)
    store.shutdowns.observe("h", store.hosts["h"].rows)
    assert ("h", "1") not in store.shutdowns
    assert store.state_word("h", store.row("h", "1")) == "shutoff"


def test_view_settings_are_methods_that_bump_the_version_once() -> None:
    store = make_store()
    v = store.version
    store.set_filter("web")
    assert store.filter_text == "web" and store.version == v + 1
    assert [i.uuid for i in store.items() if i.uuid] == ["1"]
    store.set_filter("web")  # unchanged: views need not redraw
    assert store.version == v + 1
    store.set_sort("cpu", True)
    assert (store.sort_column, store.sort_reverse, store.version) == ("cpu", True, v + 2)
    store.set_sort("cpu", True)
    assert store.version == v + 2
    assert store.toggle_cpu_mode() == "vcpu" and store.version == v + 3
    store.set_cpu_mode("vcpu")
    assert store.version == v + 3
    assert store.toggle_cpu_mode() == "host"
    with pytest.raises(ValueError, match="CPU% mode"):
        store.set_cpu_mode("guest")
