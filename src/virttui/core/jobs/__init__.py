"""One job mechanism: a callable run off the UI thread, cancellable, reporting typed messages
(`JobProgress`, `JobDone`, `JobFailed` with a `Severity`), and external programs run as argv
lists, locally or over ssh to a `qemu+ssh` host. No Textual here: `screens/common/jobs.py` is
the bridge that runs a job in a Textual worker and delivers its messages on the UI thread."""

from virttui.core.jobs.errors import JobCancelled, JobError, ProcessFailed, describe_error
from virttui.core.jobs.messages import JobDone, JobFailed, JobMessage, JobProgress, Severity
from virttui.core.jobs.process import (
    TAG_VARIABLE,
    ProcessResult,
    build_argv,
    kill_tagged,
    run_process,
    tagged,
)
from virttui.core.jobs.runner import Job, JobContext, current_context, note, start
from virttui.core.jobs.ssh import SshTarget, ssh_target

__all__ = [
    "Job",
    "JobCancelled",
    "JobContext",
    "JobDone",
    "JobError",
    "JobFailed",
    "JobMessage",
    "JobProgress",
    "ProcessFailed",
    "ProcessResult",
    "Severity",
    "SshTarget",
    "TAG_VARIABLE",
    "build_argv",
    "current_context",
    "describe_error",
    "kill_tagged",
    "note",
    "run_process",
    "ssh_target",
    "start",
    "tagged",
]
