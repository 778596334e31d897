"""Kernel same-page merging: whether ksmd runs and how many pages it shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.sysfs import read_int

RUN_STATES = {0: "stopped", 1: "running", 2: "unmerging"}


@dataclass(frozen=True)
class KsmState:
    """`run` None when the source (libvirt on a remote host) does not tell."""

    available: bool
    run: int | None
    pages_shared: int | None
    pages_sharing: int | None
    source: str

    @property
    def run_label(self) -> str:
        if not self.available:
            return "not available"
        if self.run is None:
            return "unknown"
        return RUN_STATES.get(self.run, str(self.run))


def probe_ksm(root: Path = Path("/")) -> KsmState:
    run = read_int(root, "/sys/kernel/mm/ksm/run")
    if run is None:
        return KsmState(False, None, None, None, "/sys/kernel/mm/ksm")
    return KsmState(
        True,
        run,
        read_int(root, "/sys/kernel/mm/ksm/pages_shared"),
        read_int(root, "/sys/kernel/mm/ksm/pages_sharing"),
        "/sys/kernel/mm/ksm",
    )


def ksm_from_memory_parameters(params: dict[str, int]) -> KsmState:
    """From `virConnect.getMemoryParameters()` (shm_* keys), the remote-capable source."""
    if "shm_pages_shared" not in params:
        return KsmState(False, None, None, None, "getMemoryParameters")
    return KsmState(
        True,
        None,
        int(params["shm_pages_shared"]),
        int(params.get("shm_pages_sharing", 0)),
        "getMemoryParameters",
    )
