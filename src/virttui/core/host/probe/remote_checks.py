"""Checks answerable from libvirt alone, used in place of /proc and /sys on a remote host."""

from __future__ import annotations

from virttui.core.host.probe.capabilities import HostCapabilities
from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.cpuflags import check_hw_virt_flags


def check_hw_virt_remote(caps: HostCapabilities | None) -> Check:
    if caps is None:
        return Check(
            "cpu.hw_virt",
            "Hardware virtualization (CPU flags)",
            Status.UNKNOWN_REMOTE,
            "libvirt capabilities unavailable",
            "unknown",
        )
    return check_hw_virt_flags(caps.cpu_features, source="libvirt's host CPU features")


def check_kvm_offered(caps: HostCapabilities | None) -> Check:
    name = "KVM offered by libvirt"
    if caps is None:
        return Check(
            "kvm.device", name, Status.UNKNOWN_REMOTE, "capabilities unavailable", "unknown"
        )
    if "kvm" in caps.domain_types:
        return Check(
            "kvm.device",
            name,
            Status.OK,
            f"domain type 'kvm' offered for {caps.arch} guests",
            "libvirt found a usable /dev/kvm on the host",
        )
    return Check(
        "kvm.device",
        name,
        Status.FAIL,
        f"only {', '.join(caps.domain_types) or 'no'} domain types for {caps.arch}",
        "the host has no usable /dev/kvm: guests run under TCG emulation",
    )


def check_iommu_remote(caps: HostCapabilities | None) -> Check:
    name = "IOMMU for device assignment"
    if caps is None or caps.iommu_support is None:
        return Check("iommu", name, Status.UNKNOWN_REMOTE, "libvirt does not say", "unknown")
    if caps.iommu_support:
        return Check(
            "iommu",
            name,
            Status.OK,
            "libvirt reports IOMMU support",
            "PCI devices can be passed through to guests (VFIO)",
        )
    return Check(
        "iommu",
        name,
        Status.WARN,
        "libvirt reports no IOMMU support",
        "PCI device passthrough (VFIO) is not possible on this host",
    )
