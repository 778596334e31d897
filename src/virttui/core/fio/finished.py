"""A finished fio run as the live screen hands it on (to be saved in `runs.RunStore` and shown
in the report): what ran, where, its stream file, its final document and its per-interval
series. No Textual."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from virttui.core.fio.intervals import Interval
from virttui.core.fio.job import JobFile


@dataclass(frozen=True)
class FinishedRun:
    uri: str | None  # None = this machine
    jobfile: JobFile  # what ran (the job file text is jobfile.text())
    fio_args: tuple[str, ...]  # extra args the guard asked for (e.g. ("--readonly",))
    output_path: Path  # fio's json+ stream file (all documents)
    final: Mapping[str, Any]  # the final document (FioRun.final)
    intervals: tuple[Interval, ...]
    stopped: bool  # Stop pressed: a partial result
    failure: str | None  # fio failed after writing documents
    started: float  # time.time() at start
    ended: float
