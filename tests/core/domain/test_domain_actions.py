"""Lifecycle, tuning, undefine, clone and device helpers on libvirt's test driver.

Every test gets its own private test-driver node (conftest.py): fresh state, gone when closed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from virttui.core.domain import actions as A
from virttui.core.domain import device_xml
from virttui.core.domain import devices as D
from virttui.core.domain import tuning as T
from virttui.core.domain.action_result import Applied, DomainActionError
from virttui.core.domain.clone import clone_domain
from virttui.core.domain.info import collect_domain_details, parse_domain_xml
from virttui.core.domain.undefine import storage_choices, undefine
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage, JobProgress


def _state(dom: libvirt.virDomain) -> int:
    return dom.state()[0]


def test_power_cycle(dom: libvirt.virDomain) -> None:
    A.pause(dom)
    assert _state(dom) == libvirt.VIR_DOMAIN_PAUSED
    A.resume(dom)
    assert _state(dom) == libvirt.VIR_DOMAIN_RUNNING
    A.reboot(dom, A.PowerMethod.DEFAULT)
    A.reset(dom)
    A.shutdown(dom, A.PowerMethod.DEFAULT)
    assert _state(dom) == libvirt.VIR_DOMAIN_SHUTOFF
    A.start(dom)
    assert _state(dom) == libvirt.VIR_DOMAIN_RUNNING
    A.force_off(dom)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]


def test_errors_carry_libvirts_message(dom: libvirt.virDomain) -> None:
    with pytest.raises(DomainActionError) as err:
        A.start(dom)  # already running
    assert err.value.action == "start" and err.value.domain == "test"
    assert "already running" in err.value.message
    with pytest.raises(DomainActionError, match="unsupported flags"):
        A.shutdown(dom)  # the test driver knows no ACPI flag


def test_save_restore_round_trip(conn: libvirt.virConnect, dom, tmp_path: Path) -> None:
    image = str(tmp_path / "test.save")
    A.save_to_file(dom, image)
    assert _state(dom) == libvirt.VIR_DOMAIN_SHUTOFF
    restored = A.restore_from_file(conn, image)
    assert restored.name() == "test" and restored.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    with pytest.raises(DomainActionError, match="restore"):
        A.restore_from_file(conn, str(tmp_path / "missing.save"))


def test_managed_save_then_start_then_remove(dom: libvirt.virDomain) -> None:
    A.managed_save(dom)
    assert dom.hasManagedSaveImage(0) and collect_domain_details(dom).has_managed_save
    A.start(dom)
    assert _state(dom) == libvirt.VIR_DOMAIN_RUNNING and not dom.hasManagedSaveImage(0)
    A.managed_save(dom)
    A.remove_managed_save(dom)
    assert not dom.hasManagedSaveImage(0)


def test_autostart(dom: libvirt.virDomain) -> None:
    A.set_autostart(dom, True)
    assert dom.autostart() == 1
    A.set_autostart(dom, False)
    assert dom.autostart() == 0


def test_rename_only_when_shut_off(conn: libvirt.virConnect, dom) -> None:
    with pytest.raises(DomainActionError, match="shut the domain off first"):
        A.rename(dom, "renamed")
    A.force_off(dom)
    with pytest.raises(DomainActionError, match="empty"):
        A.rename(dom, "  ")
    renamed = A.rename(dom, "renamed")
    assert renamed.name() == "renamed"
    assert conn.lookupByName("renamed").UUIDString() == dom.UUIDString()


def run_bulk(domains: list[libvirt.virDomain], action) -> list[A.BulkResult]:
    """The bulk job body, run through the job mechanism; its result."""
    messages: list[JobMessage] = []
    Job(lambda ctx: A.bulk(ctx, domains, action, A.domain_identity), messages.append).run()
    done = messages[-1]
    assert isinstance(done, JobDone), done
    progress = [m for m in messages if isinstance(m, JobProgress)]
    assert [p.fraction for p in progress] == [(i + 1) / len(domains) for i in range(len(domains))]
    return done.result


def test_bulk_reports_each_domain(conn: libvirt.virConnect, dom) -> None:
    other = conn.defineXML(
        "<domain type='test'><name>other</name><memory>1024</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    results = run_bulk([dom, other], A.start)
    assert [(r.name, r.ok) for r in results] == [("test", False), ("other", True)]
    assert "already running" in results[0].message and results[1].uuid == other.UUIDString()
    assert run_bulk([], A.start) == []
    assert all(r.ok for r in run_bulk([dom, other], A.pause))


def test_bulk_cancel_stops_before_the_next_domain(conn: libvirt.virConnect, dom) -> None:
    other = conn.defineXML(
        "<domain type='test'><name>other</name><memory>1024</memory>"
        "<os><type>hvm</type></os></domain>"
    )
    acted: list[str] = []
    holder: list[Job[list[A.BulkResult]]] = []

    def act(d: libvirt.virDomain) -> None:
        acted.append(d.name())
        holder[0].cancel()

    messages: list[JobMessage] = []
    job = Job(lambda ctx: A.bulk(ctx, [dom, other], act, A.domain_identity), messages.append)
    holder.append(job)
    job.run()
    assert acted == ["test"]
    assert isinstance(messages[-1], JobFailed) and messages[-1].cancelled


def test_memory_vcpus_and_notes(dom: libvirt.virDomain) -> None:
    applied = T.set_memory(dom, 1024 * 1024, 4 * 1024 * 1024)
    assert applied.config
    d = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert (d.memory_current_kib, d.memory_max_kib) == (1024 * 1024, 4 * 1024 * 1024)
    assert T.set_vcpus(dom, 1) == Applied(live=True, config=True)
    with pytest.raises(DomainActionError):
        T.set_vcpus(dom, 3, 2)
    assert T.set_title(dom, "Web & <db>").live
    T.set_description(dom, 'two\nlines "quoted" & <tagged>')
    d = parse_domain_xml(dom.XMLDesc(0))
    assert d.title == "Web & <db>" and d.description == 'two\nlines "quoted" & <tagged>'
    with pytest.raises(DomainActionError, match="one line"):
        T.set_title(dom, "a\nb")
    T.set_title(dom, "")
    assert parse_domain_xml(dom.XMLDesc(0)).title == ""


def test_boot_order_and_cpu_mode(dom: libvirt.virDomain) -> None:
    inactive = libvirt.VIR_DOMAIN_XML_INACTIVE
    applied = T.set_boot_order(dom, ["cdrom", "network", "hd"])
    assert applied.config and not applied.live and "restart" in applied.note
    assert parse_domain_xml(dom.XMLDesc(inactive)).boot_order == ("cdrom", "network", "hd")
    T.set_device_boot_order(dom, ["AA:BB:CC:DD:EE:FF", "vda"])
    d = parse_domain_xml(dom.XMLDesc(inactive))
    assert d.boot_devices == () and d.boot_order == ("nic aa:bb:cc:dd:ee:ff", "disk vda")
    with pytest.raises(DomainActionError, match="no such device"):
        T.set_device_boot_order(dom, ["vdz"])
    with pytest.raises(DomainActionError):
        T.set_boot_order(dom, ["hd", "hd"])
    T.set_cpu_mode(dom, "custom", "qemu64")
    cpu = parse_domain_xml(dom.XMLDesc(inactive)).cpu
    assert (cpu.mode, cpu.model) == ("custom", "qemu64")
    T.set_cpu_mode(dom, "host-model")
    cpu = parse_domain_xml(dom.XMLDesc(inactive)).cpu
    assert (cpu.mode, cpu.model) == ("host-model", "")
    with pytest.raises(DomainActionError, match="needs a CPU model"):
        T.set_cpu_mode(dom, "custom")


def _pool_domain(conn: libvirt.virConnect, name: str) -> tuple[libvirt.virDomain, list[str]]:
    pool = conn.storagePoolLookupByName("default-pool")
    vols = [
        pool.createXML(
            f"<volume><name>{name}{suffix}.img</name><capacity>{size}</capacity></volume>"
        )
        for suffix, size in (("", 1 << 20), ("-data", 2 << 20))
    ]
    xml = f"""<domain type='test'><name>{name}</name><memory>1024</memory>
      <os><type>hvm</type></os><devices>
      <disk type='file' device='disk'><source file='{vols[0].path()}'/>
        <target dev='vda' bus='virtio'/></disk>
      <disk type='volume' device='disk'><source pool='default-pool' volume='{name}-data.img'/>
        <target dev='vdb' bus='virtio'/></disk>
      <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda' bus='sata'/>
        <readonly/></disk>
      <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/>
      </interface></devices></domain>"""
    return conn.defineXML(xml), [v.path() for v in vols]


def test_clone_copies_volumes_with_progress(conn: libvirt.virConnect) -> None:
    src, paths = _pool_domain(conn, "src")
    seen: list[tuple[int, int]] = []
    result = clone_domain(src, "copy", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3 << 20, 3 << 20) and all(d <= t for d, t in seen)
    assert [v.target for v in result.volumes] == ["vda", "vdb"]
    assert [v.source_path for v in result.volumes] == paths
    clone = parse_domain_xml(conn.lookupByName("copy").XMLDesc(0))
    original = parse_domain_xml(src.XMLDesc(0))
    assert clone.uuid == result.uuid != original.uuid
    assert clone.nics[0].mac != original.nics[0].mac
    assert clone.disks[0].source_file == "/default-pool/copy.img"
    assert (clone.disks[1].source_pool, clone.disks[1].source_volume) == (
        "default-pool",
        "copy-data.img",
    )
    assert clone.disks[2].source_file == "/iso/x.iso"  # CD-ROMs are shared, not copied
    with pytest.raises(DomainActionError, match="exists"):
        clone_domain(src, "copy")
    A.start(src)
    with pytest.raises(DomainActionError, match="shut the domain off"):
        clone_domain(src, "copy2")


def test_clone_refuses_disks_outside_pools(dom: libvirt.virDomain) -> None:
    A.force_off(dom)
    with pytest.raises(DomainActionError, match="not a storage volume"):
        clone_domain(dom, "nope")
    with pytest.raises(libvirt.libvirtError):
        dom.connect().lookupByName("nope")


def test_undefine_deletes_exactly_the_ticked_volumes(conn: libvirt.virConnect) -> None:
    dom, (main, data) = _pool_domain(conn, "gone")
    choices = storage_choices(dom)
    assert [(c.target, c.path, c.default_ticked) for c in choices] == [
        ("vda", main, True),
        ("vdb", data, True),
        ("sda", "/iso/x.iso", False),
    ]
    with pytest.raises(DomainActionError, match="not a disk of this domain"):
        undefine(dom, delete_volumes=["/etc/passwd"])
    result = undefine(dom, managed_save=True, snapshots_metadata=True, delete_volumes=[main])
    assert result.all_ok and [v.path for v in result.volumes] == [main]
    pool = conn.storagePoolLookupByName("default-pool")
    assert "gone-data.img" in pool.listVolumes() and "gone.img" not in pool.listVolumes()
    with pytest.raises(libvirt.libvirtError):
        conn.lookupByName("gone")


def test_undefine_refuses_deleting_disks_of_a_running_domain(conn, dom) -> None:
    with pytest.raises(DomainActionError, match="force the domain off"):
        undefine(dom, delete_volumes=["/guest/diskimage1"])
    assert dom.isPersistent()


def test_device_builders_escape_and_name() -> None:
    assert device_xml.next_target("virtio", ["vda", "vdb"]) == "vdc"
    assert device_xml.next_target("sata", ["sda"]) == "sdb"
    assert device_xml.next_target("ide", []) == "hda"
    assert device_xml.next_target("virtio", [f"vd{chr(97 + i)}" for i in range(26)]) == "vdaa"
    el = ET.fromstring(device_xml.disk_xml("vdb", path="/tmp/a b&c.img", fmt="qcow2", cache="none"))
    assert el.find("source").get("file") == "/tmp/a b&c.img"
    assert el.find("driver").attrib == {"name": "qemu", "type": "qcow2", "cache": "none"}
    assert ET.fromstring(device_xml.disk_xml("vdb", path="/dev/sdb")).get("type") == "block"
    vol = ET.fromstring(device_xml.disk_xml("vdb", pool="p", volume="v"))
    assert vol.get("type") == "volume" and vol.find("source").attrib == {"pool": "p", "volume": "v"}
    cd = ET.fromstring(device_xml.cdrom_xml("sda"))
    assert (
        cd.get("device") == "cdrom"
        and cd.find("source") is None
        and cd.find("readonly") is not None
    )
    nic = ET.fromstring(device_xml.nic_xml(bridge="br0", model="e1000e"))
    assert nic.get("type") == "bridge" and nic.find("source").get("bridge") == "br0"
    with pytest.raises(ValueError):
        device_xml.nic_xml(network="a", bridge="b")
    g = ET.fromstring(device_xml.graphics_xml("spice", listen="0.0.0.0", password='p"<'))
    assert g.get("passwd") == 'p"<' and g.find("listen").get("address") == "0.0.0.0"
    assert ET.fromstring(device_xml.graphics_xml("vnc", port=5905)).get("autoport") == "no"
    with pytest.raises(ValueError):
        device_xml.graphics_xml("rdp")


def test_devices_fall_back_to_editing_the_config(conn: libvirt.virConnect, dom) -> None:
    # The test driver implements no attach/detach: the helpers edit the definition instead.
    applied, target = D.add_disk_path(dom, "/tmp/extra.img", bus="virtio", cache="none")
    assert (
        target == "vdb" and applied.config and not applied.live and "not supported" in applied.note
    )
    applied, target, path = D.add_disk_new_volume(dom, "default-pool", "new.qcow2", 1 << 20)
    assert (target, path) == ("vdc", "/default-pool/new.qcow2")
    _, cd = D.add_cdrom(dom)
    D.add_nic(dom, bridge="br0", model="e1000e")
    D.add_serial(dom)
    D.add_graphics(dom, "vnc", password="secret")
    d = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert [x.target for x in d.disks] == ["vda", "vdb", "vdc", cd]
    assert d.nics[1].source_bridge == "br0" and d.nics[1].model == "e1000e"
    assert d.consoles and d.graphics[0].type == "vnc" and not d.graphics[0].password_set
    secure = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
    assert parse_domain_xml(dom.XMLDesc(secure)).graphics[0].password_set
    mac = d.nics[1].mac
    D.remove_disk(dom, "vdb")
    D.remove_nic(dom, mac)
    (vnc,) = D.list_displays(dom)
    assert vnc.label() == "VNC 127.0.0.1 auto, password set"
    D.remove_graphics(dom, vnc)
    d = parse_domain_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert [x.target for x in d.disks] == ["vda", "vdc", cd] and len(d.nics) == 1 and not d.graphics
    with pytest.raises(DomainActionError, match="no disk"):
        D.remove_disk(dom, "vdq")


def _gfx(dom: libvirt.virDomain) -> list[tuple[str, str, str, str, str]]:
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    out = []
    for g in ET.fromstring(xml).iterfind("devices/graphics"):
        listen = g.find("listen")
        address = listen.get("address", "") if listen is not None else g.get("listen", "")
        out.append(
            (
                g.get("type", ""),
                address,
                g.get("passwd", ""),
                g.get("port", ""),
                g.get("keymap", ""),
            )
        )
    return out


def test_graphics_one_per_type_edit_and_remove_the_exact_element(
    conn: libvirt.virConnect, dom: libvirt.virDomain
) -> None:
    D.add_graphics(dom, "vnc")
    with pytest.raises(DomainActionError) as refused:
        D.add_graphics(dom, "vnc", listen="0.0.0.0", password="pw")
    assert refused.value.message == (
        "test already has a VNC display (listen 127.0.0.1, port auto); edit it instead"
    )
    assert [g[:3] for g in _gfx(dom)] == [("vnc", "127.0.0.1", "")]
    # Two VNC displays, as the old Add graphics left them: the chosen second one goes.
    root = ET.fromstring(
        dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
    )
    root.find("devices").append(
        ET.fromstring(device_xml.graphics_xml("vnc", listen="0.0.0.0", password="pw"))
    )
    conn.defineXML(ET.tostring(root, encoding="unicode"))
    first, second = D.list_displays(dom)
    assert (first.label(), second.label()) == (
        "VNC 127.0.0.1 auto",
        "VNC 0.0.0.0 auto, password set",
    )
    D.remove_graphics(dom, second)
    assert [g[:3] for g in _gfx(dom)] == [("vnc", "127.0.0.1", "")]
    with pytest.raises(DomainActionError, match="no longer where it was"):
        D.remove_graphics(dom, second)  # stale: that element is gone
    (vnc,) = D.list_displays(dom)
    D.edit_graphics(dom, vnc, listen="0.0.0.0", port=5901, password="s3cret", keymap="de")
    assert _gfx(dom) == [("vnc", "0.0.0.0", "s3cret", "5901", "de")]
    (vnc,) = D.list_displays(dom)
    assert vnc.label() == "VNC 0.0.0.0:5901, password set"
    D.edit_graphics(dom, vnc, listen="0.0.0.0", port=None)  # password None: kept
    assert _gfx(dom) == [("vnc", "0.0.0.0", "s3cret", "-1", "")]
    (vnc,) = D.list_displays(dom)
    D.edit_graphics(dom, vnc, listen="0.0.0.0", password="")  # "": removed
    assert _gfx(dom) == [("vnc", "0.0.0.0", "", "-1", "")]


def test_save_never_overwrites_without_the_flag(dom: libvirt.virDomain, tmp_path: Path) -> None:
    image = tmp_path / "taken.save"
    image.write_bytes(b"keep me")
    with pytest.raises(DomainActionError, match="already exists"):
        A.save_to_file(dom, str(image))
    assert A.save_target_exists(dom.connect(), str(image)) is True
    assert image.read_bytes() == b"keep me" and _state(dom) == libvirt.VIR_DOMAIN_RUNNING
    A.save_to_file(dom, str(image), overwrite=True)
    assert image.read_bytes() != b"keep me" and _state(dom) == libvirt.VIR_DOMAIN_SHUTOFF
