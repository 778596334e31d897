"""The one path from an exception to what the admin reads: (message, severity).

Severity is a property of the exception, set where the condition is known: a class attribute
`severity` (a `Severity`), ERROR when absent. Messages: libvirt's own text for a libvirtError,
an exception's `message` attribute where it has one (our action errors carry libvirt's text
without the "action domain:" prefix), else `str(exc)`; an exception with no text of its own
(or a Python error that is not ours) is named by its class.
"""

from __future__ import annotations

from collections.abc import Sequence

import libvirt

from virttui.core.jobs.messages import Severity


class JobError(Exception):
    """A failure a job reports as it is: `str(exc)` is the message shown."""

    severity: Severity = Severity.ERROR


class JobCancelled(JobError):
    """The job was cancelled (raised by `JobContext.check()`)."""

    severity = Severity.INFO

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class ProcessFailed(JobError):
    """An external program exited with a non-zero status; the message ends with its stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr_tail: Sequence[str]) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = list(stderr_tail)
        name = self.argv[0] if self.argv else "program"
        status = (
            f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        )
        text = f"{name}: {status}"
        if self.stderr_tail:
            text += "\n" + "\n".join(self.stderr_tail)
        super().__init__(text)


# Exceptions whose str() is meant for the admin (ours and the OS's); anything else is a bug or
# an unexpected library error and keeps its class name in front.
_PLAIN_TYPES: tuple[type[BaseException], ...] = (JobError, OSError)


def describe_error(exc: BaseException) -> tuple[str, Severity]:
    """(message, severity) for any exception a job raised."""
    severity = getattr(exc, "severity", Severity.ERROR)
    if not isinstance(severity, Severity):
        severity = Severity.ERROR
    if isinstance(exc, libvirt.libvirtError):
        text = exc.get_error_message()
        return (str(text) if text else str(exc) or type(exc).__name__), severity
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message, severity
    text = str(exc)
    if not text:
        return type(exc).__name__, severity
    if isinstance(exc, _PLAIN_TYPES) or getattr(exc, "plain_message", False):
        return text, severity
    return f"{type(exc).__name__}: {text}", severity
