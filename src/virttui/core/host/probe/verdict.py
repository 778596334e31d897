"""The overall verdict from the individual checks: KVM, TCG emulation, or unknown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.cpuflags import TCG_CONSEQUENCE


class Acceleration(StrEnum):
    KVM = "kvm"
    TCG = "tcg"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    acceleration: Acceleration
    domain_type: str  # the <domain type=...> to use
    summary: str
    failed: tuple[str, ...]  # ids of failed checks
    exit_code: int  # 0 KVM fully usable, 1 emulation only or a failed check


KVM_SUMMARY = "KVM hardware acceleration available: use domain type 'kvm'"
BROKEN_KVM = (
    "hardware virtualization present but KVM is not usable ({why}): guests will run under "
    "TCG emulation, 10–50× slower, until it is fixed; use domain type 'qemu'"
)


def decide(checks: Sequence[Check]) -> Verdict:
    by_id = {c.id: c for c in checks}
    failed = tuple(c.id for c in checks if c.status is Status.FAIL)
    hw = by_id.get("cpu.hw_virt")
    if hw is None or hw.status is Status.UNKNOWN_REMOTE:
        return Verdict(Acceleration.UNKNOWN, "qemu", "cannot tell whether KVM is usable", failed, 1)
    if hw.status is Status.FAIL:
        return Verdict(Acceleration.TCG, "qemu", TCG_CONSEQUENCE, failed, 1)
    blockers = [
        by_id[cid]
        for cid in ("kvm.device", "kvm.modules")
        if cid in by_id and by_id[cid].status is Status.FAIL
    ]
    if blockers:
        why = "; ".join(f"{c.name}: {c.detail}" for c in blockers)
        return Verdict(Acceleration.TCG, "qemu", BROKEN_KVM.format(why=why), failed, 1)
    return Verdict(Acceleration.KVM, "kvm", KVM_SUMMARY, failed, 1 if failed else 0)
