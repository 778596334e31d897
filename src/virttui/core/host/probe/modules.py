"""Kernel modules kvm + kvm_intel/kvm_amd, and the nested-virtualization parameter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import read_text, under

VENDOR_MODULES = ("kvm_intel", "kvm_amd")


@dataclass(frozen=True)
class KernelModules:
    """`source` is "/proc/modules", "/sys/module" (built-in kernels) or "" when neither reads."""

    source: str
    names: frozenset[str]


@dataclass(frozen=True)
class NestedState:
    module: str | None
    value: str | None

    @property
    def enabled(self) -> bool:
        return (self.value or "").strip().upper() in ("Y", "1")


def probe_modules(root: Path = Path("/")) -> KernelModules:
    text = read_text(root, "/proc/modules")
    if text is not None:
        names = frozenset(line.split()[0] for line in text.splitlines() if line.strip())
        return KernelModules("/proc/modules", names)
    sysmod = under(root, "/sys/module")
    try:
        names = frozenset(p.name for p in sysmod.iterdir())
    except OSError:
        return KernelModules("", frozenset())
    return KernelModules("/sys/module", names)


def check_kvm_modules(mods: KernelModules) -> Check:
    name = "KVM kernel modules"
    cid = "kvm.modules"
    if not mods.source:
        return Check(
            cid,
            name,
            Status.WARN,
            "neither /proc/modules nor /sys/module is readable",
            "cannot tell whether KVM is loaded",
        )
    vendor = [m for m in VENDOR_MODULES if m in mods.names]
    others = sorted(m for m in mods.names if m.startswith("kvm_") and m not in VENDOR_MODULES)
    if "kvm" not in mods.names:
        return Check(
            cid,
            name,
            Status.FAIL,
            f"kvm not loaded ({mods.source})",
            "no KVM: `modprobe kvm_intel` or `modprobe kvm_amd`",
        )
    if vendor:
        return Check(
            cid,
            name,
            Status.OK,
            f"kvm, {', '.join(vendor)} ({mods.source})",
            "the hardware KVM backend is loaded",
        )
    extra = f" (only {', '.join(others)})" if others else ""
    return Check(
        cid,
        name,
        Status.FAIL,
        f"kvm loaded but neither kvm_intel nor kvm_amd{extra}",
        "no hardware KVM backend: /dev/kvm, if present, is not backed by VT-x/AMD-V",
    )


def probe_nested(root: Path = Path("/")) -> NestedState:
    for module in VENDOR_MODULES:
        value = read_text(root, f"/sys/module/{module}/parameters/nested")
        if value is not None:
            return NestedState(module, value)
    return NestedState(None, None)


def check_nested(nested: NestedState) -> Check:
    name = "Nested virtualization"
    if nested.module is None:
        return Check(
            "kvm.nested",
            name,
            Status.WARN,
            "not applicable: no kvm_intel/kvm_amd nested parameter",
            "guests cannot run hardware-accelerated guests of their own",
        )
    if nested.enabled:
        return Check(
            "kvm.nested",
            name,
            Status.OK,
            f"enabled ({nested.module} nested={nested.value})",
            "guests with host-passthrough CPUs can run KVM themselves",
        )
    return Check(
        "kvm.nested",
        name,
        Status.OK,
        f"disabled ({nested.module} nested={nested.value})",
        f"guests cannot run KVM themselves; enable with `options {nested.module} nested=1`",
    )
