"""progress_of with the runtime in a [global] section: fio lists it under the document's
"global options", not in each job's "job options" (the live screen's progress bar and ETA)."""

from __future__ import annotations

from virttui.core.fio.run import progress_of


def test_runtime_from_global_options() -> None:
    doc = {
        "global options": {"runtime": "4"},
        "jobs": [{"job options": {"name": "a"}, "job_runtime": 1000}],
    }
    assert progress_of(doc) == 0.25


def test_job_runtime_wins_over_global() -> None:
    doc = {
        "global options": {"runtime": "4"},
        "jobs": [{"job options": {"runtime": "2"}, "job_runtime": 1000}],
    }
    assert progress_of(doc) == 0.5


def test_no_runtime_anywhere_is_size_bound() -> None:
    assert progress_of({"jobs": [{"job options": {}, "job_runtime": 1000}]}) is None
