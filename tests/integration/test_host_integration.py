"""The host report against the real libvirtd on qemu:///system.

This machine shows /dev/kvm but its CPU has no vmx/svm flags: the verdict must be TCG
emulation with the plain-words consequence, never "KVM OK".
"""

from __future__ import annotations

import json
from pathlib import Path

import libvirt
import pytest

from virttui.check import main as check_main
from virttui.core.host.probe import Acceleration, Status, collect_host_report
from virttui.core.host.probe.cpuflags import TCG_CONSEQUENCE

pytestmark = pytest.mark.integration


def cpu_has_hw_virt() -> bool:
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"vmx", "svm"})


@pytest.mark.skipif(cpu_has_hw_virt(), reason="this CPU exposes vmx/svm: KVM host, not TCG")
def test_tcg_verdict_on_this_machine(system_conn: libvirt.virConnect) -> None:
    report = collect_host_report(system_conn, local=True)
    assert report.verdict.acceleration is Acceleration.TCG
    assert report.verdict.summary == TCG_CONSEQUENCE
    assert report.verdict.domain_type == "qemu"
    checks = {c.id: c for c in report.checks}
    assert checks["cpu.hw_virt"].status is Status.FAIL
    if Path("/dev/kvm").exists():  # present, yet not hardware-assisted: never reported as OK
        assert checks["kvm.device"].status is not Status.OK
    assert report.domain_capabilities is not None
    assert report.domain_capabilities.virt_type == "qemu"
    assert report.software.hypervisor_version  # QEMU's version
    assert report.topology.threads_total >= 1 and report.topology.cells


@pytest.mark.skipif(cpu_has_hw_virt(), reason="this CPU exposes vmx/svm: KVM host, not TCG")
def test_check_command_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["--connect", "qemu:///system", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["acceleration"] == "tcg"
    assert data["verdict"]["summary"] == TCG_CONSEQUENCE
    assert check_main(["--connect", "qemu:///system"]) == 1
    assert "TCG emulation only" in capsys.readouterr().out
