"""Device nodes QEMU networking relies on: /dev/net/tun and /dev/vhost-net."""

from __future__ import annotations

from pathlib import Path

from virttui.core.host.probe.checks import Check, Status
from virttui.core.host.probe.sysfs import under


def check_tun(root: Path = Path("/")) -> Check:
    name = "/dev/net/tun"
    if under(root, "/dev/net/tun").exists():
        return Check("dev.tun", name, Status.OK, "present", "tap networking (bridges, NAT) works")
    return Check(
        "dev.tun",
        name,
        Status.FAIL,
        "missing",
        "guests cannot get tap interfaces: no bridged or NAT networking; `modprobe tun`",
    )


def check_vhost_net(root: Path = Path("/")) -> Check:
    name = "/dev/vhost-net"
    if under(root, "/dev/vhost-net").exists():
        return Check(
            "dev.vhost_net",
            name,
            Status.OK,
            "present",
            "virtio-net packets are processed in the kernel",
        )
    return Check(
        "dev.vhost_net",
        name,
        Status.WARN,
        "missing",
        "virtio networking runs in QEMU user space, slower; `modprobe vhost_net`",
    )
