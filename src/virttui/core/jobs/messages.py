"""What a job reports: progress, its result, or why it failed (with a severity)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Severity(enum.Enum):
    """How loudly a failure (or a result) is reported. The values are Textual's notify levels."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "information"

    def at_least(self, other: Severity) -> Severity:
        """The louder of the two."""
        order = (Severity.INFO, Severity.WARNING, Severity.ERROR)
        return self if order.index(self) >= order.index(other) else other


@dataclass(frozen=True, slots=True)
class JobProgress:
    job_id: int
    fraction: float | None  # 0..1, or None when the job cannot tell
    text: str


@dataclass(frozen=True, slots=True)
class JobDone:
    job_id: int
    result: Any
    # INFO unless the job noted something worth a warning on the way (`JobContext.note`), e.g. a
    # change that could only be saved in the persistent configuration, not applied live.
    severity: Severity = Severity.INFO


@dataclass(frozen=True, slots=True)
class JobFailed:
    job_id: int
    message: str
    severity: Severity = Severity.ERROR
    cancelled: bool = False  # ended by `cancel()`, not by an error of its own


JobMessage = JobProgress | JobDone | JobFailed
