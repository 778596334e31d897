"""The pure domain XML parser on a hand-written, feature-rich document and on the test driver."""

from __future__ import annotations

import dataclasses

import libvirt
import pytest

from tests import paths
from virttui.core.domain import states as domain_states
from virttui.core.domain.info import DomainXmlError, collect_domain_details, parse_domain_xml

FULL = (paths.CORE_DATA / "full_domain.xml").read_text()


@pytest.fixture(scope="module")
def full():
    return parse_domain_xml(FULL)


def test_overview_fields(full) -> None:
    assert full.name == "web & db"
    assert full.uuid == "0b7c1a2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert full.title == "Web front"
    assert full.description == 'line one\nline <two> "quoted"'
    assert (full.domain_type, full.os_type, full.arch) == ("kvm", "hvm", "x86_64")
    assert full.machine == "pc-q35-7.2"
    assert full.emulator == "/usr/bin/qemu-system-x86_64"
    assert full.domain_id == 7
    assert full.memory_max_kib == 4 * 1024 * 1024
    assert full.memory_current_kib == 2097152


def test_cpu_and_firmware(full) -> None:
    cpu = full.cpu
    assert (cpu.mode, cpu.model, cpu.vcpus_current, cpu.vcpus_max) == ("host-passthrough", "", 2, 4)
    assert (cpu.sockets, cpu.dies, cpu.cores, cpu.threads) == (1, 1, 2, 2)
    fw = full.firmware
    assert fw.kind == "efi" and fw.loader_type == "pflash" and fw.secure_boot is True
    assert fw.loader.endswith("OVMF_CODE_4M.ms.fd") and fw.loader_readonly is True
    assert fw.nvram == "/var/lib/libvirt/qemu/nvram/web_VARS.fd"
    assert fw.nvram_template.endswith("OVMF_VARS_4M.ms.fd")


def test_boot_order_prefers_per_device(full) -> None:
    assert full.boot_devices == ("hd", "cdrom")
    assert full.boot_order == ("disk vdb", "nic 52:54:00:11:22:33")
    plain = dataclasses.replace(full, disks=(), nics=())
    assert plain.boot_order == ("hd", "cdrom")


def test_disks(full) -> None:
    vda, vdb, vdc, sda, sdb = full.disks
    assert (vda.target, vda.bus, vda.device, vda.format, vda.cache, vda.io) == (
        "vda",
        "virtio",
        "disk",
        "qcow2",
        "none",
        "native",
    )
    assert vda.source_path == "/var/lib/libvirt/images/web.qcow2"
    assert (vdb.source_type, vdb.source_pool, vdb.source_volume) == ("volume", "fast", "data.img")
    assert vdb.source_label == "fast/data.img" and vdb.source_path == ""
    assert vdc.source_protocol == "rbd" and vdc.source_hosts == ("mon1:6789", "mon2")
    assert vdc.source_label == "rbd://mon1:6789,mon2/pool/image"
    assert (sda.device, sda.source_dev, sda.shareable) == ("lun", "/dev/sdz", True)
    assert (sdb.device, sdb.readonly, sdb.source_label) == ("cdrom", True, "")


def test_nics(full) -> None:
    net, br = full.nics
    assert (net.type, net.mac, net.model, net.source_network, net.link_state) == (
        "network",
        "52:54:00:11:22:33",
        "virtio",
        "default",
        "down",
    )
    assert (br.type, br.source_bridge, br.target_dev, br.link_state) == (
        "bridge",
        "br0",
        "vnet3",
        "up",
    )
    assert br.source_label == "br0"


def test_graphics_never_carry_the_password(full) -> None:
    vnc, spice = full.graphics
    assert (vnc.type, vnc.listen, vnc.port, vnc.autoport, vnc.password_set) == (
        "vnc",
        "127.0.0.1",
        5901,
        True,
        True,
    )
    assert (spice.type, spice.listen, spice.port, spice.tls_port) == ("spice", "none", None, None)
    assert "s3cret" not in repr(full)


def test_chardevs_and_controllers(full) -> None:
    kinds = [(c.kind, c.type, c.target_port) for c in full.chardevs]
    assert kinds == [
        ("serial", "pty", 0),
        ("console", "pty", 0),
        ("channel", "unix", None),
        ("serial", "tcp", 1),
    ]
    assert full.chardevs[0].path == "/dev/pts/4"
    assert full.chardevs[2].target_name == "org.qemu.guest_agent.0"
    assert (full.chardevs[3].host, full.chardevs[3].service) == ("127.0.0.1", "4555")
    assert len(full.consoles) == 3
    assert [(c.type, c.index, c.model) for c in full.controllers] == [
        ("usb", 0, "qemu-xhci"),
        ("pci", 0, "pcie-root"),
        ("scsi", 0, "virtio-scsi"),
    ]


def test_minimal_domain_defaults() -> None:
    d = parse_domain_xml("<domain type='qemu'><name>x</name><memory>1024</memory></domain>")
    assert d.memory_current_kib == 1024 and d.cpu.vcpus_max == 1 and d.cpu.mode == ""
    assert d.firmware.kind == "bios" and d.disks == () and d.domain_id is None


@pytest.mark.parametrize("bad", ["", "<domain>", "<network><name>n</name></network>"])
def test_bad_xml_raises_a_clear_error(bad: str) -> None:
    with pytest.raises(DomainXmlError):
        parse_domain_xml(bad)


def test_every_libvirt_state_and_reason_has_words() -> None:
    states = {
        "NOSTATE": 0, "RUNNING": 1, "BLOCKED": 2, "PAUSED": 3, "SHUTDOWN": 4,
        "SHUTOFF": 5, "CRASHED": 6, "PMSUSPENDED": 7,
    }  # fmt: skip
    for word, number in states.items():
        assert getattr(libvirt, f"VIR_DOMAIN_{word}") == number
        assert not domain_states.state_name(number).startswith("state ")
        for const in dir(libvirt):
            prefix = f"VIR_DOMAIN_{word}_"
            if not const.startswith(prefix) or const.startswith("VIR_DOMAIN_PMSUSPENDED_DISK"):
                continue
            if word == "SHUTDOWN" and const.removeprefix(prefix) not in ("UNKNOWN", "USER"):
                continue  # VIR_DOMAIN_SHUTDOWN_* also names the shutdown() flags
            reason = getattr(libvirt, const)
            assert reason in domain_states.REASON_NAMES[number], const
    assert domain_states.describe_state(5, 2) == "shut off (destroyed)"
    assert domain_states.describe_state(1, 0) == "running"
    assert domain_states.reason_name(3, 99) == "reason 99"


def test_collect_on_the_test_driver(dom: libvirt.virDomain) -> None:
    details = collect_domain_details(dom)
    assert details.active and details.state_text == "running"
    assert details.persistent and details.autostart is False
    assert details.has_managed_save is False and details.snapshot_count == 0
    assert details.definition.nics[0].mac == "aa:bb:cc:dd:ee:ff"
    usage = details.usage_for("vda")
    assert usage is not None and usage.via == "blockInfo" and usage.capacity > 0
    dom.destroy()
    off = collect_domain_details(dom)
    assert (off.state_text, off.reason_text, off.active) == ("shut off", "destroyed", False)
    assert off.definition.domain_id is None


def test_collect_disk_usage_from_a_storage_volume(conn: libvirt.virConnect) -> None:
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML("<volume><name>a.img</name><capacity>4096</capacity></volume>")
    xml = (
        "<domain type='test'><name>v</name><memory>1024</memory><os><type>hvm</type></os>"
        f"<devices><disk type='file' device='disk'><source file='{vol.path()}'/>"
        "<target dev='vda' bus='virtio'/></disk>"
        "<disk type='volume' device='disk'><source pool='default-pool' volume='a.img'/>"
        "<target dev='vdb' bus='virtio'/></disk>"
        "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>"
        "</devices></domain>"
    )
    details = collect_domain_details(conn.defineXML(xml))
    assert not details.active and details.problems == ()
    assert [(u.target, u.capacity, u.via) for u in details.disk_usage] == [
        ("vda", 4096, "storage volume"),
        ("vdb", 4096, "storage volume"),
    ]
