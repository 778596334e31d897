"""/dev/kvm: present, a character device, and answering KVM_GET_API_VERSION / KVM_CREATE_VM."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import under

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12  # the only version Linux has ever shipped


@dataclass(frozen=True)
class KvmQuery:
    """What the open device answered; `create_vm` is None when the VM was not attempted."""

    api_version: int | None
    create_vm: bool | None
    error: str


@dataclass(frozen=True)
class KvmDevice:
    path: str
    exists: bool
    char_device: bool
    permission_denied: bool
    api_version: int | None
    create_vm: bool | None
    error: str


def query_kvm(path: Path) -> KvmQuery:
    """Open the device, ask its API version, create and release one empty VM."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return KvmQuery(None, None, f"open: {os.strerror(exc.errno or 0)}")
    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        except OSError as exc:
            return KvmQuery(None, None, f"KVM_GET_API_VERSION: {os.strerror(exc.errno or 0)}")
        try:
            vm_fd = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES):
                return KvmQuery(version, None, "KVM_CREATE_VM not permitted for this user")
            return KvmQuery(version, False, f"KVM_CREATE_VM: {os.strerror(exc.errno or 0)}")
        os.close(vm_fd)
        return KvmQuery(version, True, "")
    finally:
        os.close(fd)


def probe_kvm_device(root: Path = Path("/")) -> KvmDevice:
    path = under(root, "/dev/kvm")
    try:
        mode = path.stat().st_mode
    except OSError:
        return KvmDevice(str(path), False, False, False, None, None, "absent")
    if not stat.S_ISCHR(mode):
        return KvmDevice(str(path), True, False, False, None, None, "not a character device")
    if not os.access(path, os.R_OK | os.W_OK):
        return KvmDevice(str(path), True, True, True, None, None, "permission denied")
    answer = query_kvm(path)
    return KvmDevice(
        str(path), True, True, False, answer.api_version, answer.create_vm, answer.error
    )


def check_kvm_device(dev: KvmDevice, *, hw_virt: bool = True) -> Check:
    """`hw_virt` False (no vmx/svm) turns a working device into a warning: not VT-x/AMD-V."""
    name = "/dev/kvm present and usable"
    cid = "kvm.device"
    if not dev.exists:
        return Check(
            cid,
            name,
            Status.FAIL,
            "/dev/kvm does not exist",
            "KVM unavailable: load kvm_intel or kvm_amd (and enable VT-x/AMD-V in the "
            "firmware); until then guests run under TCG emulation",
        )
    if not dev.char_device:
        return Check(cid, name, Status.FAIL, f"/dev/kvm is {dev.error}", "KVM unavailable")
    if dev.permission_denied:
        return Check(
            cid,
            name,
            Status.WARN,
            f"/dev/kvm exists but uid {os.geteuid()} cannot open it",
            "libvirt runs QEMU as its own user (usually in group kvm), so guests may still "
            "use KVM; run the check as root to test the device",
        )
    if dev.api_version is None:
        return Check(
            cid, name, Status.FAIL, f"/dev/kvm does not answer: {dev.error}", "KVM unavailable"
        )
    if dev.api_version != KVM_API_VERSION:
        return Check(
            cid,
            name,
            Status.FAIL,
            f"unexpected KVM API version {dev.api_version}",
            "QEMU refuses a KVM API other than 12",
        )
    if dev.create_vm is False:
        return Check(
            cid,
            name,
            Status.FAIL,
            f"API version 12 but {dev.error}",
            "KVM cannot create guests (another hypervisor holding VT-x, or out of memory)",
        )
    if dev.create_vm is None:
        return Check(
            cid,
            name,
            Status.OK,
            f"API version 12; {dev.error}",
            "the device answers; creating a VM was not tried",
        )
    if not hw_virt:
        return Check(
            cid,
            name,
            Status.WARN,
            "API version 12 and a test VM was created, but the CPU shows no vmx/svm",
            "a software KVM backend answers; it is not hardware-assisted KVM, so count on "
            "TCG emulation for ordinary guests",
        )
    return Check(
        cid,
        name,
        Status.OK,
        "API version 12; a test VM was created and released",
        "QEMU can open /dev/kvm and create VMs",
    )
