"""Domain snapshots (core/domain/snapshots.py): the tree, the capability model's refusals with
their routes, the delete and manual-revert plans, on libvirt's test driver (internal snapshots;
external ones redefined as records) and on parsed XML."""

from __future__ import annotations

import os
from pathlib import Path

import libvirt
import pytest

from virttui.core.domain import snapshots as S


def _ext_xml(dom: libvirt.virDomain, name: str, overlay: str, *, created: int = 100) -> str:
    """An external snapshot record as libvirt writes it (the domain as it was inside)."""
    return (
        f"<domainsnapshot><name>{name}</name><state>disk-snapshot</state>"
        f"<creationTime>{created}</creationTime><memory snapshot='no'/><disks>"
        f"<disk name='vda' snapshot='external' type='file'><driver type='qcow2'/>"
        f"<source file='{overlay}'/></disk></disks>{dom.XMLDesc(0)}</domainsnapshot>"
    )


def _redefine(dom: libvirt.virDomain, xml: str) -> None:
    dom.snapshotCreateXML(
        xml,
        libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT,
    )


def test_tree_of_internal_snapshots(dom: libvirt.virDomain) -> None:
    a = S.create(dom, S.CreateRequest("a b", "first\nline"))
    assert a.name == "a b" and a.has_memory and a.kind == "internal"
    S.create(dom, S.CreateRequest("child"))
    dom.revertToSnapshot(dom.snapshotLookupByName("a b", 0), 0)
    S.create(dom, S.CreateRequest("sibling"))
    tree = S.read_tree(dom)
    assert [(s.name, s.depth) for s in tree.snapshots] == [
        ("a b", 0),
        ("child", 1),
        ("sibling", 1),
    ]
    root = tree.get("a b")
    assert root.children == ("child", "sibling") and root.parent is None
    assert root.description == "first\nline"
    assert tree.current is not None and tree.current.name == "sibling"
    assert tree.get("child").parent == "a b" and tree.get("child").state == "running"
    assert root.kinds_text() == "vda internal"
    assert tree.caps.version == libvirt.getVersion()


def test_create_refusals_explain_and_route(dom: libvirt.virDomain) -> None:
    S.create(dom, S.CreateRequest("one"))
    tree = S.read_tree(dom)
    assert S.create_refusal(tree, S.CreateRequest("")) is not None
    control = S.create_refusal(tree, S.CreateRequest("x", "red\x1b[31m"))
    assert control is not None and "control characters" in control.reason
    dup = S.create_refusal(tree, S.CreateRequest("one"))
    assert dup is not None and "already has a snapshot" in dup.reason
    quiesce = S.create_refusal(tree, S.CreateRequest("q", kind="external", quiesce=True))
    assert quiesce is not None and "guest agent" in quiesce.reason
    assert quiesce.route == "Leave quiesce off."
    assert not tree.agent.answers and "no guest agent channel" in tree.agent.reason
    with pytest.raises(S.SnapshotRefused, match="already has"):
        S.create(dom, S.CreateRequest("one"))


def _tree(**kw: object) -> S.SnapshotTree:
    base: dict[str, object] = {
        "domain": "d",
        "uuid": "u",
        "active": False,
        "persistent": True,
        "caps": S.Capabilities(9_000_000),
        "agent": S.Agent(False, "no agent"),
        "disks": (S.DomainDisk("vda", "disk", "file", "/img/d.qcow2", "qcow2", False),),
        "snapshots": (),
    }
    base.update(kw)
    return S.SnapshotTree(**base)  # type: ignore[arg-type]


def test_capability_model_pflash_and_versions() -> None:
    uefi = _tree(caps=S.Capabilities(9_000_000, pflash=True))
    refusal = S.create_refusal(uefi, S.CreateRequest("x"))
    assert refusal is not None and "UEFI (pflash)" in refusal.reason and "10.10.0" in refusal.reason
    assert "external" in refusal.route
    assert S.create_refusal(uefi, S.CreateRequest("x", kind="external")) is None
    assert (
        S.create_refusal(_tree(caps=S.Capabilities(10_010_000, pflash=True)), S.CreateRequest("x"))
        is None
    )
    raw = _tree(disks=(S.DomainDisk("vda", "disk", "file", "/img/d.raw", "raw", False),))
    refusal = S.create_refusal(raw, S.CreateRequest("x"))
    assert refusal is not None and "qcow2" in refusal.reason and "external" in refusal.route
    block = _tree(disks=(S.DomainDisk("vda", "disk", "block", "/dev/sdz", "raw", False),))
    refusal = S.create_refusal(block, S.CreateRequest("x", kind="external"))
    assert refusal is not None and "file-backed" in refusal.reason
    agent = _tree(active=True, agent=S.Agent(True))
    assert S.create_refusal(agent, S.CreateRequest("x", kind="external", quiesce=True)) is None
    assert S.Capabilities(9_000_000).describe()[0] == "libvirt 9.0.0"
    assert (
        not S.Capabilities(9_008_000).external_revert and S.Capabilities(9_009_000).external_revert
    )


def test_agent_state_from_live_xml() -> None:
    import xml.etree.ElementTree as ET

    def dom(state: str) -> ET.Element:
        return ET.fromstring(
            "<domain><devices><channel type='unix'><target type='virtio' "
            f"name='org.qemu.guest_agent.0' {state}/></channel></devices></domain>"
        )

    assert S.agent_state(dom("state='connected'"), True) == S.Agent(True)
    assert "does not answer" in S.agent_state(dom("state='disconnected'"), True).reason
    assert "not running" in S.agent_state(dom("state='connected'"), False).reason


def test_external_create_xml_auto_names_next_to_disk_and_never_overwrites() -> None:
    tree = _tree(
        disks=(
            S.DomainDisk("vda", "disk", "file", "/img/d.qcow2", "qcow2", False),
            S.DomainDisk("sda", "cdrom", "file", "/iso/x.iso", "raw", True),
        )
    )
    request = S.CreateRequest("näme 1/x", kind="external")
    assert S.create_refusal(tree, request) is not None  # '/' in the name
    request = S.CreateRequest("näme 'x", description="<b>", kind="external")
    taken = {"/img/d.n_me_x.qcow2"}
    xml = S.create_xml(tree, request, exists=lambda p: p in taken)
    assert "/img/d.n_me_x-2.qcow2" in xml and 'snapshot="no"' in xml
    assert "&lt;b&gt;" in xml and "näme 'x" in xml
    chosen = S.CreateRequest("s", kind="external", overlays={"vda": "/img/existing"})
    with pytest.raises(S.SnapshotRefused, match="never overwritten"):
        S.create_xml(tree, chosen, exists=lambda p: p == "/img/existing")


def test_external_revert_refused_on_9_0_with_manual_route(dom: libvirt.virDomain) -> None:
    _redefine(dom, _ext_xml(dom, "ext", "/guest/diskimage1.ext"))
    tree = S.read_tree(dom)
    snap = tree.get("ext")
    assert snap.external and snap.kind == "external" and not snap.has_memory
    assert snap.disks[0].overlay == "/guest/diskimage1.ext"
    assert snap.disks[0].base == "/guest/diskimage1"
    refusal = S.revert_refusal(_tree(snapshots=tree.snapshots), "ext")
    assert refusal is not None
    assert "cannot revert an external snapshot" in refusal.reason and "9.9.0" in refusal.reason
    assert refusal.route.startswith("Manual revert")
    running = S.revert_refusal(_tree(snapshots=tree.snapshots, active=True), "ext")
    assert running is not None and running.route.startswith("Shut the domain off")
    assert (
        S.revert_refusal(_tree(snapshots=tree.snapshots, caps=S.Capabilities(9_009_000)), "ext")
        is None
    )
    with pytest.raises(S.SnapshotRefused, match="9.9.0"):
        S.revert(dom, "ext")  # the test driver says 9.0 too


def _ext(name: str, overlay: str, base: str, *, parent: str | None = None) -> S.Snapshot:
    return S.Snapshot(
        name, parent, (), 1, "disk-snapshot", False, "", "no",
        (S.SnapshotDisk("vda", "external", overlay, base, "qcow2"),),
    )  # fmt: skip


def test_delete_plan_external() -> None:
    snaps = S.build_tree(
        [
            _ext("s1", "/img/d.s1", "/img/d.qcow2"),
            _ext("s2", "/img/d.s2", "/img/d.s1", parent="s1"),
        ]
    )
    on_s2 = (S.DomainDisk("vda", "disk", "file", "/img/d.s2", "qcow2", False),)
    tree = _tree(snapshots=snaps, disks=on_s2)
    nobody = lambda _p, _a: S.ImageUse()  # noqa: E731
    plan = S.plan_delete(tree, "s2", use_of=nobody)
    assert plan.refusal is None and plan.writes == ("/img/d.s1",) and plan.removes == ("/img/d.s2",)
    plan = S.plan_delete(tree, "s1", use_of=nobody)
    assert plan.refusal is not None and "no children" in plan.refusal.reason
    assert "record only" in plan.refusal.route
    plan = S.plan_delete(tree, "s1", children=True, use_of=nobody)
    assert plan.refusal is not None and "together with their children" in plan.refusal.reason
    assert S.plan_delete(tree, "s1", metadata_only=True).metadata_only
    # after a manual revert the disk runs elsewhere: libvirt could not merge
    moved = _tree(
        snapshots=snaps, disks=(S.DomainDisk("vda", "disk", "file", "/img/new", "qcow2", False),)
    )
    plan = S.plan_delete(moved, "s2", use_of=nobody)
    assert (
        plan.refusal is not None
        and "no longer runs on this snapshot's overlay" in plan.refusal.reason
    )

    # the image below is still needed by someone else (virt-manager #811): refused, named
    def used(p: str, _a: object) -> S.ImageUse:
        kept = ("/img/kept (of snapshot x) is built on it",)
        return S.ImageUse(records=kept) if p == "/img/d.s1" else S.ImageUse()

    plan = S.plan_delete(tree, "s2", use_of=used)
    assert plan.refusal is not None and "/img/kept" in plan.refusal.reason
    three = S.build_tree([*snaps, _ext("s3", "/img/d.s3", "/img/d.s1", parent="s1")])
    plan = S.plan_delete(_tree(snapshots=three, disks=on_s2), "s1", use_of=nobody)
    assert plan.refusal is not None and "several children" in plan.refusal.reason
    internal = S.build_tree(
        [
            S.Snapshot(
                "i",
                None,
                (),
                1,
                "running",
                True,
                "",
                "internal",
                (S.SnapshotDisk("vda", "internal"),),
            )
        ]
    )
    assert S.plan_delete(_tree(snapshots=internal), "i", children=True).refusal is None


def test_manual_revert_plan(tmp_path: Path) -> None:
    base = tmp_path / "d.qcow2"
    base.write_bytes(b"")
    snaps = S.build_tree([_ext("s1", str(tmp_path / "d.s1"), str(base))])
    now = str(tmp_path / "d.s1")
    tree = _tree(snapshots=snaps, disks=(S.DomainDisk("vda", "disk", "file", now, "qcow2", False),))
    plan = S.plan_manual_revert(tree, "s1", stamp="T", exists=os.path.lexists)
    assert plan.refusal is None
    (disk,) = plan.disks
    assert disk.base == str(base) and disk.now == now
    assert disk.overlay == str(tmp_path / "d.s1-revert-T.qcow2")
    assert plan.kept == (now,)
    assert S.overlay_argv(disk)[-5:] == ["-b", str(base), "-F", "qcow2", disk.overlay]
    running = S.plan_manual_revert(_tree(snapshots=snaps, active=True), "s1")
    assert running.refusal is not None and "Shut the domain off" in running.refusal.route
    taken = S.plan_manual_revert(tree, "s1", overlays={"vda": str(base)}, exists=os.path.lexists)
    assert taken.refusal is not None and "never overwritten" in taken.refusal.reason
    # reverting to s1 while the disk runs on s2's overlay: both later overlays are kept
    two = S.build_tree([*snaps, _ext("s2", str(tmp_path / "d.s2"), now, parent="s1")])
    on_s2 = _tree(
        snapshots=two,
        disks=(S.DomainDisk("vda", "disk", "file", str(tmp_path / "d.s2"), "qcow2", False),),
    )
    plan2 = S.plan_manual_revert(on_s2, "s1", stamp="T", exists=os.path.lexists)
    assert plan2.refusal is None and plan2.kept == (now, str(tmp_path / "d.s2"))
    assert plan2.disks[0].base == str(base)
    base.unlink()
    gone = S.plan_manual_revert(tree, "s1", exists=os.path.lexists)
    assert gone.refusal is not None and "missing" in gone.refusal.reason


def test_repoint_xml_keeps_everything_else() -> None:
    xml = (
        "<domain><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/img/old'/><backingStore type='file'><source file='/img/b'/></backingStore>"
        "<target dev='vda' bus='virtio'/></disk><disk type='file' device='cdrom'>"
        "<source file='/iso/x'/><target dev='sda'/></disk></devices></domain>"
    )
    out = S.repoint_xml(xml, [S.RevertDisk("vda", "/img/old", "/img/b", "qcow2", "/img/new")])
    assert "/img/new" in out and "/img/old" not in out and "backingStore" not in out
    assert "/iso/x" in out
    with pytest.raises(S.SnapshotRefused):
        S.repoint_xml(xml, [S.RevertDisk("vdz", "", "", "qcow2", "/x")])


def test_delete_internal_and_with_children(dom: libvirt.virDomain) -> None:
    S.create(dom, S.CreateRequest("p"))
    S.create(dom, S.CreateRequest("c"))
    plan = S.delete(dom, "p", children=True)
    assert plan.refusal is None and plan.children
    assert S.read_tree(dom).snapshots == ()
    S.create(dom, S.CreateRequest("x"))
    S.delete(dom, "x")
    assert dom.snapshotNum(0) == 0
    assert "<name>" not in "".join(S.snapshot_xml(dom, s) for s in ())
