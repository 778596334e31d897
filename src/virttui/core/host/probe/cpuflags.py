"""CPU model and flags from /proc/cpuinfo: hardware virtualization (vmx/svm) and EPT/NPT."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import read_text

TCG_CONSEQUENCE = (
    "no hardware virtualization visible: guests will run under TCG emulation, "
    "10–50× slower; use domain type 'qemu'"
)


@dataclass(frozen=True)
class CpuInfo:
    model_name: str
    vendor: str
    flags: frozenset[str]
    vmx_flags: frozenset[str]
    logical_cpus: int


def parse_cpuinfo(text: str) -> CpuInfo:
    """Model, vendor and flags of the first processor block; the count of all blocks."""
    fields: dict[str, str] = {}
    processors = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "processor":
            processors += 1
        fields.setdefault(key, value.strip())
    return CpuInfo(
        model_name=fields.get("model name", fields.get("cpu model", "")),
        vendor=fields.get("vendor_id", ""),
        flags=frozenset(fields.get("flags", "").split()),
        vmx_flags=frozenset(fields.get("vmx flags", "").split()),
        logical_cpus=processors,
    )


def probe_cpuinfo(root: Path = Path("/")) -> CpuInfo | None:
    text = read_text(root, "/proc/cpuinfo")
    return parse_cpuinfo(text) if text is not None else None


def hw_virt_flag(flags: frozenset[str]) -> str | None:
    """ "vmx" (Intel VT-x), "svm" (AMD-V) or None."""
    if "vmx" in flags:
        return "vmx"
    if "svm" in flags:
        return "svm"
    return None


def check_hw_virt(cpu: CpuInfo | None) -> Check:
    name = "Hardware virtualization (CPU flags)"
    if cpu is None:
        return Check("cpu.hw_virt", name, Status.FAIL, "/proc/cpuinfo unreadable", TCG_CONSEQUENCE)
    return check_hw_virt_flags(cpu.flags, source="/proc/cpuinfo")


def check_hw_virt_flags(flags: frozenset[str], *, source: str) -> Check:
    """The vmx/svm check on any flag set (local cpuinfo or libvirt's host CPU features)."""
    name = "Hardware virtualization (CPU flags)"
    flag = hw_virt_flag(flags)
    if flag == "vmx":
        return Check(
            "cpu.hw_virt",
            name,
            Status.OK,
            f"Intel VT-x (vmx in {source})",
            "guests can run with KVM hardware acceleration",
        )
    if flag == "svm":
        return Check(
            "cpu.hw_virt",
            name,
            Status.OK,
            f"AMD-V (svm in {source})",
            "guests can run with KVM hardware acceleration",
        )
    detail = f"no vmx/svm flag in {source}"
    if "hypervisor" in flags:
        detail += "; this host is itself a VM whose hypervisor does not expose nested VT-x/AMD-V"
    return Check("cpu.hw_virt", name, Status.FAIL, detail, TCG_CONSEQUENCE)


def check_ept_npt(cpu: CpuInfo | None) -> Check:
    name = "Second-level address translation (EPT/NPT)"
    if cpu is None:
        return Check("cpu.slat", name, Status.WARN, "/proc/cpuinfo unreadable", "unknown")
    flag = hw_virt_flag(cpu.flags)
    if flag == "vmx":
        present = "ept" in cpu.flags or "ept" in cpu.vmx_flags
        label = "EPT"
    elif flag == "svm":
        present = "npt" in cpu.flags
        label = "NPT"
    else:
        return Check(
            "cpu.slat",
            name,
            Status.WARN,
            "not applicable: no vmx/svm",
            "only matters once hardware virtualization is available",
        )
    if present:
        return Check(
            "cpu.slat",
            name,
            Status.OK,
            f"{label} present",
            "guest page tables are walked by the MMU: low memory-virtualization overhead",
        )
    return Check(
        "cpu.slat",
        name,
        Status.WARN,
        f"{label} missing",
        "KVM falls back to shadow page tables: memory-intensive guests run noticeably slower",
    )
