"""A cloud-init domain as the create runner will define it, on the real qemu:///system: the
overlay on a (small, fake) cloud image and the NoCloud seed ISO in a pool directory, the seed
attached as a read-only CD-ROM, defined with VALIDATE (libvirt's schema check), then undefined.
Nothing boots: the tiny guest does not run cloud-init."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from tests.guestlib import remove_domain, unique_name
from virttui.core.create import cloudinit as C
from virttui.core.jobs import Job, JobDone, JobMessage


def test_seed_iso_and_overlay_define(
    system_conn: libvirt.virConnect, temp_pool: libvirt.virStoragePool
) -> None:
    folder = Path(ET.fromstring(temp_pool.XMLDesc()).findtext("target/path") or "")
    name = unique_name("vt-cloudinit")
    base = folder / f"{name}-cloud.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "32M"], check=True)
    overlay = folder / f"{name}.qcow2"
    seed_path = folder / f"{name}-seed.iso"

    messages: list[JobMessage] = []
    Job(
        lambda ctx: C.overlay_for_cloud_image(ctx, str(base), str(overlay), 64 << 20),
        messages.append,
    ).run()
    assert isinstance(messages[-1], JobDone), messages[-1]
    seed = C.SeedOptions(
        hostname=name, instance_id=f"iid-{name}", user="admin", password_hash=C.hash_password("x")
    )
    C.build_seed_iso(seed, str(seed_path))
    temp_pool.refresh(0)
    assert {f"{name}.qcow2", f"{name}-seed.iso"} <= set(temp_pool.listVolumes())
    vol = temp_pool.storageVolLookupByName(f"{name}.qcow2")
    vol_xml = ET.fromstring(vol.XMLDesc(0))
    assert vol_xml.findtext("backingStore/path") == str(base)
    assert vol_xml.find("backingStore/format").get("type") == "qcow2"  # type: ignore[union-attr]

    xml = f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{overlay}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{seed_path}'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <serial type='pty'/>
  </devices>
</domain>"""
    dom = system_conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    try:
        defined = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        cdroms = [d for d in defined.iter("disk") if d.get("device") == "cdrom"]
        assert len(cdroms) == 1
        assert cdroms[0].find("source").get("file") == str(seed_path)  # type: ignore[union-attr]
        assert cdroms[0].find("readonly") is not None
        assert os.stat(seed_path).st_mode & 0o777 == 0o600
    finally:
        remove_domain(dom)
    assert name not in system_conn.listDefinedDomains()
