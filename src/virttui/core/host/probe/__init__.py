"""Host probes: can this host run KVM, how is it built, how overcommitted is it.

Local probes read /proc, /sys and psutil below a root path (fixture trees in tests); a remote
host is described from libvirt calls only. Never imports Textual.
"""

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.report import SCHEMA_VERSION, HostReport, collect_host_report
from virttui.core.host.probe.verdict import Acceleration, Verdict

__all__ = [
    "SCHEMA_VERSION",
    "Acceleration",
    "Check",
    "HostReport",
    "Status",
    "Verdict",
    "collect_host_report",
]
