"""The facade's snapshot block (`# ---- snapshots`) on libvirt's test driver: plain data back
by UUID, libvirt errors as HostError, refusals passed through with their route, the manual
revert job with real qemu-img on temp files (and its clean-up when qemu-img fails), and the
qemu-img argv kept one argument per path over ssh."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.core.facade.test_host_facade import TEST_NODE, UUID, ConnHost
from virttui.core.domain import snapshots as S
from virttui.core.facade.host import HostError, HostFacade
from virttui.core.host.libvirt_runtime import silence_errors
from virttui.core.jobs import JobContext, ProcessFailed, build_argv


@pytest.fixture
def host() -> Iterator[ConnHost]:
    silence_errors()
    uri = f"test://{TEST_NODE}"
    conn = libvirt.open(uri)
    yield ConnHost(conn, uri)
    conn.close()


@pytest.fixture
def facade(host: ConnHost) -> HostFacade:
    return HostFacade(host)  # type: ignore[arg-type]


def test_create_tree_xml_revert_delete_by_uuid(facade: HostFacade) -> None:
    made = facade.create_snapshot(UUID, S.CreateRequest("one", "notes"))
    assert isinstance(made, S.Snapshot) and made.current
    facade.create_snapshot(UUID, S.CreateRequest("two"))
    tree = facade.snapshot_tree(UUID)
    assert isinstance(tree, S.SnapshotTree) and tree.domain == "test"
    assert [s.name for s in tree.snapshots] == ["one", "two"]
    assert "<name>one</name>" in facade.snapshot_xml(UUID, "one")
    facade.revert_snapshot(UUID, "one")
    assert facade.snapshot_tree(UUID).current.name == "one"  # type: ignore[union-attr]
    plan = facade.plan_snapshot_delete(UUID, "one", children=True)
    assert plan.refusal is None and plan.children
    facade.delete_snapshot(UUID, "one", children=True)
    assert facade.snapshot_tree(UUID).snapshots == ()


def test_errors_and_refusals(facade: HostFacade) -> None:
    with pytest.raises(HostError) as err:
        facade.snapshot_xml(UUID, "nope")
    assert "nope" in err.value.message
    facade.create_snapshot(UUID, S.CreateRequest("one"))
    with pytest.raises(S.SnapshotRefused) as refused:
        facade.create_snapshot(UUID, S.CreateRequest("one"))
    assert "already has" in refused.value.reason
    with pytest.raises(S.SnapshotRefused):
        facade.delete_snapshot(UUID, "gone")


def _qcow2(path: Path, backing: Path | None = None) -> None:
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing is not None:
        argv += ["-b", str(backing), "-F", "qcow2"]
    subprocess.run([*argv, str(path), "1M"], check=True)


def _external_record(host: ConnHost, base: Path, overlay: Path) -> None:
    """The domain runs on `overlay` (on `base`) since an external snapshot "ext" (a record)."""
    dom = host.conn.lookupByUUIDString(UUID)
    dom.destroy()
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    before = xml.replace("/guest/diskimage1", str(base))
    snap = (
        "<domainsnapshot><name>ext snap</name><state>disk-snapshot</state>"
        "<creationTime>100</creationTime><memory snapshot='no'/><disks>"
        f"<disk name='vda' snapshot='external' type='file'><driver type='qcow2'/>"
        f"<source file='{overlay}'/></disk></disks>{before}</domainsnapshot>"
    )
    host.conn.defineXML(xml.replace("/guest/diskimage1", str(overlay)))
    dom.snapshotCreateXML(
        snap,
        libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT,
    )


def _disk(facade: HostFacade) -> str:
    return facade.snapshot_tree(UUID).disks[0].source


def test_manual_revert_job_makes_a_new_overlay_and_keeps_the_old(
    facade: HostFacade, host: ConnHost, tmp_path: Path
) -> None:
    base, overlay = tmp_path / "base image.qcow2", tmp_path / "base image.ext.qcow2"
    _qcow2(base)
    _qcow2(overlay, base)
    _external_record(host, base, overlay)
    with pytest.raises(S.SnapshotRefused, match="Manual revert"):
        facade.revert_snapshot(UUID, "ext snap")
    plan = facade.plan_snapshot_manual_revert(UUID, "ext snap")
    assert plan.refusal is None and plan.kept == (str(overlay),)
    done = facade.snapshot_manual_revert_job(JobContext(1, lambda _m: None), UUID, "ext snap")
    new = done.disks[0].overlay
    assert _disk(facade) == new and new.startswith(str(tmp_path / "base image.ext_snap-revert-"))
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "-U", "--output=json", new], capture_output=True, check=True
        ).stdout
    )
    assert info["backing-filename"] == str(base) and info["format"] == "qcow2"
    assert overlay.exists() and base.exists()
    assert facade.snapshot_tree(UUID).current.name == "ext snap"  # type: ignore[union-attr]
    # deleting through libvirt would merge an overlay the domain no longer runs on: refused
    plan_del = facade.plan_snapshot_delete(UUID, "ext snap")
    assert plan_del.refusal is not None and "record only" in plan_del.refusal.route
    # the route (the test driver has no METADATA_ONLY; the integration test deletes so)
    record = facade.plan_snapshot_delete(UUID, "ext snap", metadata_only=True)
    assert record.refusal is None and record.metadata_only
    assert overlay.exists() and base.exists() and Path(new).exists()


def test_manual_revert_job_failure_leaves_nothing_behind(
    facade: HostFacade, host: ConnHost, tmp_path: Path
) -> None:
    base, overlay = tmp_path / "base.qcow2", tmp_path / "top.qcow2"
    base.write_bytes(b"not an image at all" * 100)  # qemu-img refuses it as a qcow2 backing
    _qcow2(overlay)
    _external_record(host, base, overlay)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ProcessFailed):
        facade.snapshot_manual_revert_job(JobContext(1, lambda _m: None), UUID, "ext snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert _disk(facade) == str(overlay)


def test_overlay_argv_stays_one_argument_per_path_over_ssh() -> None:
    hostile = "/var/lib/libvirt/images/a b'; touch /tmp/x.qcow2"
    disk = S.RevertDisk("vda", "/img/now", hostile, "qcow2", hostile + ".revert")
    argv, target = build_argv(S.overlay_argv(disk), "qemu+ssh://root@host.example/system")
    assert target is not None
    remote = argv[-1]
    command = remote.split("exec ", 1)[1]
    assert shlex.split(command) == S.overlay_argv(disk)


def test_internal_revert_refused_while_another_domain_uses_the_disk(
    facade: HostFacade, host: ConnHost
) -> None:
    facade.create_snapshot(UUID, S.CreateRequest("one"))
    xml = host.conn.lookupByUUIDString(UUID).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    other = re.sub(r"<uuid>[^<]*</uuid>", "", xml).replace("<name>test</name>", "<name>twin</name>")
    other = re.sub(r"<mac address='[^']*'/>", "", other)
    twin = host.conn.defineXML(other)
    with pytest.raises(S.SnapshotRefused) as refused:
        facade.revert_snapshot(UUID, "one")
    assert "still needed" in refused.value.reason and "twin" in refused.value.reason
    twin.undefine()
    facade.revert_snapshot(UUID, "one")
