"""IOMMU for PCI passthrough: /sys/kernel/iommu_groups, DMAR / AMD-Vi units and ACPI tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import read_text, under


@dataclass(frozen=True)
class IommuState:
    groups: int
    units: tuple[str, ...]
    acpi_tables: tuple[str, ...]
    cmdline_options: tuple[str, ...]


def _names(path: Path) -> tuple[str, ...]:
    try:
        return tuple(sorted(p.name for p in path.iterdir()))
    except OSError:
        return ()


def probe_iommu(root: Path = Path("/")) -> IommuState:
    groups = len(_names(under(root, "/sys/kernel/iommu_groups")))
    units = _names(under(root, "/sys/class/iommu"))
    tables = tuple(
        t for t in ("DMAR", "IVRS") if under(root, f"/sys/firmware/acpi/tables/{t}").exists()
    )
    cmdline = (read_text(root, "/proc/cmdline") or "").split()
    options = tuple(o for o in cmdline if o.split("=")[0] in ("intel_iommu", "amd_iommu", "iommu"))
    return IommuState(groups, units, tables, options)


def _kind(state: IommuState) -> str:
    names = " ".join(state.units + state.acpi_tables)
    if "dmar" in names.lower():
        return "Intel VT-d (DMAR)"
    if "ivhd" in names.lower() or "IVRS" in state.acpi_tables:
        return "AMD-Vi"
    return "IOMMU"


def check_iommu(state: IommuState) -> Check:
    name = "IOMMU for device assignment"
    if state.groups:
        return Check(
            "iommu",
            name,
            Status.OK,
            f"{_kind(state)}: {state.groups} IOMMU groups",
            "PCI devices can be passed through to guests (VFIO)",
        )
    if state.units or state.acpi_tables:
        return Check(
            "iommu",
            name,
            Status.WARN,
            f"{_kind(state)} present but no IOMMU groups",
            "enable it on the kernel command line (intel_iommu=on or amd_iommu=on) "
            "to pass PCI devices through",
        )
    return Check(
        "iommu",
        name,
        Status.WARN,
        "no IOMMU groups, no DMAR/AMD-Vi",
        "PCI device passthrough (VFIO) is not possible on this host",
    )
