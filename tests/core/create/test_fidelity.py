"""Fidelity: our XML against `virt-install --print-xml --dry-run --virt-type qemu` (virtinst 4.1).

For each option set, virt-install runs with the argv of `virt_install_argv(spec)` (so the
command line is tested too) and both XMLs are compared element by element on what issue 12
lists (plus controllers, features, input, tpm): uuid ignored, generated MACs ignored, device
order ignored (disks are keyed by target).

virt-install creates a storage pool for the directory of any disk path outside a pool, even with
--dry-run: every file a case names lives in a transient pool this module creates (and a guard
removes any pool pointing into the test directory afterwards).

One case uses --virt-type kvm (libvirt lists kvm on this machine; virt-install's CPU default
differs for it: host-passthrough, which `--cpu clear` turns off for our "default" mode).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.guestlib import SYSTEM_URI, guest_available, guest_initrd, guest_kernel, unique_name
from virttui.core.create.domain_xml import CreateCaps, build_domain_xmls
from virttui.core.create.spec import (
    CdromInstall,
    Cpu,
    CreateSpec,
    Disk,
    ExistingPath,
    ExistingVolume,
    Firmware,
    Graphics,
    ImportInstall,
    KernelBoot,
    LocationInstall,
    NewVolume,
    Nic,
    PxeInstall,
    Topology,
)
from virttui.core.create.virt_install import virt_install_argv
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.host.probe.domcaps import parse_domain_capabilities

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("virt-install") is None, reason="virtinst not installed"),
]

MIB = 1 << 20
GIB = 1 << 30


def make_iso(path: Path, label: str = "VTTEST") -> None:
    import io

    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, vol_ident=label)
    data = b"virttui fidelity test\n"
    iso.add_fp(io.BytesIO(data), len(data), "/README.TXT;1", joliet_path="/readme.txt")
    iso.write(str(path))
    iso.close()


@dataclass
class Env:
    conn: libvirt.virConnect
    dir: Path
    pool: str
    caps: CreateCaps
    iso: str
    drivers: str
    disk_qcow2: str  # an existing qcow2 volume in the pool
    disk_raw: str
    tree: str


def _pools_under(conn: libvirt.virConnect, root: Path) -> list[libvirt.virStoragePool]:
    out = []
    for pool in conn.listAllStoragePools(0):
        target = ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or ""
        if target == str(root) or target.startswith(str(root) + "/"):
            out.append(pool)
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    silence_errors()
    try:
        conn = libvirt.open(SYSTEM_URI)
    except libvirt.libvirtError as e:
        pytest.skip(f"no qemu:///system: {e}")
    root = tmp_path_factory.mktemp("fidelity")
    root.chmod(0o755)
    pooldir = root / "pool"
    pooldir.mkdir()
    make_iso(pooldir / "install.iso")
    make_iso(pooldir / "drivers.iso", "DRIVERS")
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(pooldir / "old.qcow2"), "16M"], check=True
    )
    (pooldir / "old.raw").write_bytes(b"\0" * 65536)
    tree = root / "tree"
    tree.mkdir()
    if guest_available():
        shutil.copy(guest_kernel(), tree / "vmlinuz")
        shutil.copy(guest_initrd(), tree / "initrd.gz")
    else:  # virt-install only checks that the files exist in the tree
        (tree / "vmlinuz").write_bytes(b"kernel")
        (tree / "initrd.gz").write_bytes(b"initrd")
    name = unique_name("vt-fid-pool")
    pool_xml = ET.Element("pool", type="dir")
    ET.SubElement(pool_xml, "name").text = name
    ET.SubElement(ET.SubElement(pool_xml, "target"), "path").text = str(pooldir)
    pool = conn.storagePoolCreateXML(ET.tostring(pool_xml, encoding="unicode"), 0)  # transient
    try:
        pool.refresh(0)
        domcaps = parse_domain_capabilities(
            conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0)
        )
        caps = CreateCaps.from_domain_capabilities(
            domcaps,
            pool_targets={name: str(pooldir)},
            pool_types={name: "dir"},
            volume_paths={
                f"{name}/old.qcow2": str(pooldir / "old.qcow2"),
                f"{name}/install.iso": str(pooldir / "install.iso"),
            },
        )
        yield Env(
            conn,
            root,
            name,
            caps,
            str(pooldir / "install.iso"),
            str(pooldir / "drivers.iso"),
            str(pooldir / "old.qcow2"),
            str(pooldir / "old.raw"),
            str(tree),
        )
    finally:
        for p in _pools_under(conn, root):
            try:
                p.destroy()
            except libvirt.libvirtError:
                pass
            try:
                p.undefine()
            except libvirt.libvirtError:
                pass
        conn.close()


def run_virt_install(env: Env, spec: CreateSpec) -> list[str]:
    argv = virt_install_argv(spec, env.caps, uri=SYSTEM_URI)
    argv += ["--print-xml", "--dry-run"]
    before = {p.name() for p in env.conn.listAllStoragePools(0)}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    created = [p for p in _pools_under(env.conn, env.dir) if p.name() not in before]
    for p in created:  # should not happen: every path is inside our pool
        p.destroy()
        p.undefine()
    assert not created, f"virt-install made pool(s) {[p.name() for p in created]}"
    assert proc.returncode == 0, f"{shlex_line(argv)}\n{proc.stderr}"
    docs = [d + "</domain>" for d in proc.stdout.split("</domain>") if d.strip()]
    return docs


def shlex_line(argv: list[str]) -> str:
    import shlex

    return shlex.join(argv)


# ---- the normalised view both XMLs are compared on ----------------------------------------------


def _attrs(el: ET.Element | None, *names: str) -> dict[str, str | None]:
    return {n: (el.get(n) if el is not None else None) for n in names}


def _kernel(text: str | None) -> str | None:
    # virt-install copies the tree's kernel to /var/lib/libvirt/boot/virtinst-XXXX-<name>
    if text is None:
        return None
    return re.sub(r"^virtinst-[A-Za-z0-9_]+-", "", Path(text).name)


def view(xml: str, *, macs_given: bool) -> dict[str, Any]:
    root = ET.fromstring(xml)
    vcpu = root.find("vcpu")
    cpu = root.find("cpu")
    os_el = root.find("os")
    assert os_el is not None
    devs = root.find("devices")
    assert devs is not None
    disks = {}
    for d in devs.findall("disk"):
        target = d.find("target")
        assert target is not None
        src = d.find("source")
        disks[target.get("dev")] = {
            "type": d.get("type"),
            "device": d.get("device"),
            "driver": _attrs(d.find("driver"), "name", "type", "cache", "io", "discard"),
            "source": _attrs(src, "file", "dev"),
            "bus": target.get("bus"),
            "readonly": d.find("readonly") is not None,
            "shareable": d.find("shareable") is not None,
        }
    nics = []
    for n in devs.findall("interface"):
        src = n.find("source")
        mac = n.find("mac")
        model = n.find("model")
        nics.append(
            {
                "type": n.get("type"),
                "source": dict(src.attrib) if src is not None else None,
                "model": model.get("type") if model is not None else None,
                "mac": (mac.get("address") if mac is not None else None) if macs_given else None,
            }
        )
    graphics = [
        _attrs(g, "type", "listen", "port", "autoport", "passwd", "keymap")
        for g in devs.findall("graphics")
    ]
    topo = cpu.find("topology") if cpu is not None else None
    return {
        "type": root.get("type"),
        "name": root.findtext("name"),
        "memory": root.findtext("memory"),
        "currentMemory": root.findtext("currentMemory"),
        "vcpu": (vcpu.text, vcpu.get("current")) if vcpu is not None else None,
        "cpu": (
            _attrs(cpu, "mode", "match") | {"model": cpu.findtext("model")}
            if cpu is not None
            else None
        ),
        "topology": dict(topo.attrib) if topo is not None else None,
        "os.type": _attrs(os_el.find("type"), "arch", "machine"),
        "os.firmware": (
            os_el.get("firmware"),
            sorted(tuple(sorted(f.attrib.items())) for f in os_el.findall("firmware/feature")),
            _attrs(os_el.find("loader"), "secure", "type", "readonly"),
        ),
        "os.boot": [b.get("dev") for b in os_el.findall("boot")],
        "os.kernel": _kernel(os_el.findtext("kernel")),
        "os.initrd": _kernel(os_el.findtext("initrd")),
        "os.cmdline": os_el.findtext("cmdline"),
        "on_reboot": root.findtext("on_reboot"),
        "features": sorted(f.tag for f in root.find("features") or []),
        "emulator": devs.findtext("emulator"),
        "disks": disks,
        "interfaces": sorted(nics, key=repr),
        "graphics": graphics,
        "serial": [s.get("type") for s in devs.findall("serial")],
        "console": [
            (c.get("type"), _attrs(c.find("target"), "type")) for c in devs.findall("console")
        ],
        "video": [v.find("model").get("type") for v in devs.findall("video")],  # type: ignore[union-attr]
        "controllers": sorted((c.get("type"), c.get("model")) for c in devs.findall("controller")),
        "input": sorted((i.get("type"), i.get("bus")) for i in devs.findall("input")),
        "tpm": [(t.get("model"), _attrs(t.find("backend"), "type")) for t in devs.findall("tpm")],
        "channels": sorted(
            (c.get("type"), c.find("target").get("name"))  # type: ignore[union-attr]
            for c in devs.findall("channel")
        ),
        "memballoon": [m.get("model") for m in devs.findall("memballoon")],
        "rng": [r.get("model") for r in devs.findall("rng")],
    }


def assert_same(ours: str, theirs: str, *, macs_given: bool) -> None:
    a = view(ours, macs_given=macs_given)
    b = view(theirs, macs_given=macs_given)
    diffs = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert not diffs, "ours != virt-install:\n" + "\n".join(
        f"  {k}: ours={va!r}\n  {' ' * len(k)}  virt-install={vb!r}"
        for k, (va, vb) in diffs.items()
    )


# ---- the cases ---------------------------------------------------------------------------------


def _base(**kw: Any) -> CreateSpec:
    defaults: dict[str, Any] = {
        "name": unique_name("vt-fid"),
        "memory_bytes": 256 * MIB,
        "vcpus": 1,
        "domain_type": "qemu",
        "graphics": Graphics("none"),
    }
    defaults.update(kw)
    return CreateSpec(**defaults)


def case_specs(env: Env) -> dict[str, CreateSpec]:
    pool = env.pool
    return {
        "iso_new_qcow2_network_vnc": _base(
            install=CdromInstall(iso_path=env.iso),
            disks=(Disk(NewVolume(pool, unique_name("vt-fid-vol") + ".qcow2", 2 * GIB)),),
            nics=(Nic("network", "default", "virtio"),),
            graphics=Graphics("vnc"),
        ),
        "iso_volume_q35_sata_drivers_usb3": _base(
            machine="q35",
            install=CdromInstall(pool=pool, volume="install.iso"),
            disks=(
                Disk(
                    NewVolume(pool, unique_name("vt-fid-vol") + ".img", GIB, "raw", "full"),
                    bus="sata",
                    cache="none",
                    io="native",
                ),
            ),
            driver_iso=env.drivers,
            usb="usb3",
            video="virtio",
            graphics=Graphics("vnc", listen="127.0.0.1"),
        ),
        "location_extra_args": _base(
            install=LocationInstall(env.tree, "vmlinuz", "initrd.gz", "console=ttyS0 quiet"),
            disks=(Disk(ExistingPath(env.disk_qcow2), format="qcow2"),),
        ),
        "pxe_bridge_ide_writeback": _base(
            install=PxeInstall(),
            disks=(Disk(ExistingPath(env.disk_raw), bus="ide", cache="writeback", format="raw"),),
            nics=(Nic("bridge", "br0", "e1000", "52:54:00:12:34:56"),),
        ),
        "import_volume_scsi_passthrough": _base(
            install=ImportInstall(),
            disks=(
                Disk(
                    ExistingVolume(pool, "old.qcow2"),
                    bus="scsi",
                    cache="none",
                    readonly=True,
                    shareable=True,
                    format="qcow2",
                ),
            ),
            cpu=Cpu("host-passthrough"),
        ),
        "host_model_topology_max": _base(
            install=ImportInstall(),
            disks=(Disk(ExistingPath(env.disk_qcow2), bus="sata", format="qcow2"),),
            cpu=Cpu("host-model"),
            vcpus=2,
            max_vcpus=4,
            topology=Topology(1, 2, 2),
            memory_bytes=256 * MIB,
            max_memory_bytes=512 * MIB,
        ),
        "vnc_password_port_keymap_quoting": _base(
            name="-vt fid, ü " + unique_name(""),  # --name=-vt...: argparse
            install=ImportInstall(),
            disks=(Disk(ExistingPath(env.disk_raw), cache="writethrough", format="raw"),),
            nics=(Nic("network", "default", "rtl8139", "52:54:00:ab:cd:ef"),),
            graphics=Graphics("vnc", "0.0.0.0", 5999, "a b,c=d", "de"),
        ),
        "kernel_boot_cmdline_commas": _base(
            install=KernelBoot(
                str(Path(env.tree) / "vmlinuz"),
                str(Path(env.tree) / "initrd.gz"),
                "console=ttyS0,115200 root=/dev/vda rw",
            ),
            disks=(Disk(ExistingPath(env.disk_qcow2), format="qcow2", cache="unsafe"),),
        ),
        "spice_custom_cpu": _base(
            install=ImportInstall(),
            disks=(Disk(ExistingPath(env.disk_qcow2), format="qcow2", cache="directsync"),),
            graphics=Graphics("spice"),
            video="qxl",
            cpu=Cpu("custom", "Westmere"),
        ),
        "virtio_extras_tpm_variant": _base(
            machine="q35",
            install=ImportInstall(),
            os_variant="debian11",
            disks=(Disk(ExistingPath(env.disk_qcow2), format="qcow2", io="threads"),),
            nics=(Nic("network", "default", "virtio"),),
            graphics=Graphics("vnc"),
            video="virtio",
            usb="usb3",
            virtio_extras=True,
            tpm=True,
            tpm_model="tpm-crb",
        ),
        "uefi_secure_boot_q35": _base(
            machine="q35",
            install=ImportInstall(),
            firmware=Firmware("uefi", secure_boot=True),
            disks=(Disk(ExistingPath(env.disk_qcow2), bus="sata", format="qcow2"),),
        ),
        "kvm_default_cpu_topology": _base(
            domain_type="kvm",
            install=ImportInstall(),
            vcpus=4,
            topology=Topology(1, 2, 2),
            disks=(Disk(ExistingPath(env.disk_raw), format="raw"),),
        ),
    }


CASES = [
    "iso_new_qcow2_network_vnc",
    "iso_volume_q35_sata_drivers_usb3",
    "location_extra_args",
    "pxe_bridge_ide_writeback",
    "import_volume_scsi_passthrough",
    "host_model_topology_max",
    "vnc_password_port_keymap_quoting",
    "kernel_boot_cmdline_commas",
    "spice_custom_cpu",
    "virtio_extras_tpm_variant",
    "uefi_secure_boot_q35",
    "kvm_default_cpu_topology",
]


@pytest.mark.parametrize("case", CASES)
def test_same_xml_as_virt_install(env: Env, case: str) -> None:
    spec = case_specs(env)[case]
    assert spec.validate() == {}
    caps = env.caps
    if spec.os_variant == "debian11":
        caps = replace(caps, osinfo_ids={"debian11": "http://debian.org/debian/11"})
    ours = build_domain_xmls(spec, caps)
    docs = run_virt_install(env, spec)
    macs_given = all(n.mac for n in spec.nics)
    if ours.install is None:
        assert len(docs) == 1, docs
        assert_same(ours.final, docs[0], macs_given=macs_given)
    else:
        assert len(docs) == 2, docs
        assert_same(ours.install, docs[0], macs_given=macs_given)
        assert_same(ours.final, docs[1], macs_given=macs_given)


def test_location_kernel_is_fetched_into_libvirt_boot(env: Env) -> None:
    """virt-install copies the tree's kernel/initrd to /var/lib/libvirt/boot for the install boot;
    the runner fills `fetched_kernel`/`fetched_initrd` the same way."""
    spec = case_specs(env)["location_extra_args"]
    docs = run_virt_install(env, spec)
    install = ET.fromstring(docs[0])
    kernel = install.findtext("os/kernel") or ""
    assert kernel.startswith("/var/lib/libvirt/boot/virtinst-") and kernel.endswith("-vmlinuz")
    assert isinstance(spec.install, LocationInstall)
    fetched = replace(spec.install, fetched_kernel=kernel, fetched_initrd="/b/initrd.gz")
    ours = build_domain_xmls(replace(spec, install=fetched), env.caps)
    assert ours.install is not None
    assert ET.fromstring(ours.install).findtext("os/kernel") == kernel
    assert ET.fromstring(ours.install).findtext("os/initrd") == "/b/initrd.gz"


def test_password_with_quotes_virt_install_double_escapes(env: Env) -> None:
    """virt-install 4.1 escapes attribute values twice (xml_escape + libxml2's setProp): a
    password holding a quote reaches its XML as `&apos;`. Ours carries the literal value; the
    argv quoting itself is right (virt-install reads the whole value, no 'unknown option')."""
    pw = "it's\"x"
    spec = _base(
        install=ImportInstall(),
        disks=(Disk(ExistingPath(env.disk_raw), format="raw"),),
        graphics=Graphics("vnc", password=pw),
    )
    ours = ET.fromstring(build_domain_xmls(spec, env.caps).final)
    theirs = ET.fromstring(run_virt_install(env, spec)[0])
    assert ours.find("devices/graphics").get("passwd") == pw  # type: ignore[union-attr]
    their_pw = theirs.find("devices/graphics").get("passwd")  # type: ignore[union-attr]
    assert their_pw == pw.replace("'", "&apos;").replace('"', "&quot;")
