"""core/storage/pools.py and volumes.py on private test-driver hosts (tests/core/conftest.py):
pools listed, started, stopped, made from a directory in one step, defined from XML, removed;
volumes created (names with spaces and non-ASCII), refused while used, cloned."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from virttui.core.storage import pools as P
from virttui.core.storage import volumes as V

POOL = "default-pool"


def _domain_on(conn: libvirt.virConnect, name: str, path: str) -> libvirt.virDomain:
    return conn.defineXML(
        f"""<domain type='test'><name>{name}</name><memory>1024</memory>
        <os><type>hvm</type></os><devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='{path}'/><target dev='vda' bus='virtio'/></disk>
        </devices></domain>"""
    )


def test_list_pools_reads_every_field(conn: libvirt.virConnect) -> None:
    (pool,) = P.list_pools(conn)
    assert pool.name == POOL and pool.type == "dir" and pool.state == "running"
    assert pool.active and pool.persistent
    assert pool.target_path == "/default-pool"
    assert pool.capacity == 107374182400 and pool.available == 107374182400
    assert pool.used_fraction == 0.0
    assert len(pool.uuid) == 36


def test_stop_start_autostart_refresh(conn: libvirt.virConnect) -> None:
    stopped = P.stop_pool(conn, POOL)
    assert stopped is not None and stopped.state == "inactive" and not stopped.active
    assert stopped.used_fraction is None or stopped.capacity > 0
    with pytest.raises(P.StorageError, match="not running"):
        P.refresh_pool(conn, POOL)
    assert V.list_volumes(conn, POOL) == []
    assert P.start_pool(conn, POOL).state == "running"
    assert P.set_pool_autostart(conn, POOL, True).autostart
    assert not P.set_pool_autostart(conn, POOL, False).autostart
    assert P.refresh_pool(conn, POOL).name == POOL


def test_unknown_pool_is_a_clear_error(conn: libvirt.virConnect) -> None:
    with pytest.raises(P.StorageError, match="no storage pool named 'nope'"):
        P.start_pool(conn, "nope")


def test_dir_pool_in_one_step_and_removed(conn: libvirt.virConnect) -> None:
    info = P.create_dir_pool(conn, "new pool é", "/srv/images/", create_dir=True)
    assert info.name == "new pool é" and info.state == "running" and info.autostart
    assert info.target_path == "/srv/images"
    names = [p.name for p in P.list_pools(conn)]
    assert names == sorted(names) and "new pool é" in names
    assert P.remove_pool(conn, "new pool é") == "stopped, undefined"
    assert "new pool é" not in [p.name for p in P.list_pools(conn)]


def test_dir_pool_refusals_name_the_problem(conn: libvirt.virConnect) -> None:
    before = [p.name for p in P.list_pools(conn)]
    with pytest.raises(P.StorageError, match="already the target of pool 'default-pool'"):
        P.create_dir_pool(conn, "again", "/default-pool/")
    with pytest.raises(P.StorageError, match="exists already"):
        P.create_dir_pool(conn, POOL, "/elsewhere")
    with pytest.raises(P.StorageError, match="absolute path"):
        P.create_dir_pool(conn, "rel", "images")
    with pytest.raises(P.StorageError, match="cannot be a pool name"):
        P.create_dir_pool(conn, "a/b", "/x")
    with pytest.raises(P.StorageError, match="needs a name"):
        P.create_dir_pool(conn, "  ", "/x")
    assert [p.name for p in P.list_pools(conn)] == before


def test_dir_pool_on_this_machine_checks_the_directory(tmp_path: Path) -> None:
    """On a host whose files are ours, a missing directory is made only when asked."""

    class Local:
        """The few calls create_dir_pool makes before defining, on a 'local' URI."""

        def getURI(self) -> str:  # noqa: N802 - libvirt's name
            return "qemu:///system"

    missing = tmp_path / "missing"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(P.StorageError, match="does not exist: tick 'create the directory'"):
        P.create_dir_pool(Local(), "p", str(missing))  # type: ignore[arg-type]
    with pytest.raises(P.StorageError, match="is not a directory"):
        P.create_dir_pool(Local(), "p", str(a_file), create_dir=True)  # type: ignore[arg-type]
    assert not missing.exists()


def test_define_pool_from_xml(conn: libvirt.virConnect) -> None:
    xml = "<pool type='dir'><name>from-xml</name><target><path>/xml-pool</path></target></pool>"
    info = P.define_pool_xml(conn, xml, start=False)
    assert info.name == "from-xml" and info.state == "inactive" and info.persistent
    with pytest.raises(P.StorageError, match="exists already"):
        P.define_pool_xml(conn, xml)
    with pytest.raises(P.StorageError, match="does not parse"):
        P.define_pool_xml(conn, "<pool")
    with pytest.raises(P.StorageError, match="must be a <pool> element"):
        P.define_pool_xml(conn, "<volume/>")
    same = "<pool type='dir'><name>x2</name><target><path>/default-pool</path></target></pool>"
    with pytest.raises(P.StorageError, match="target of pool 'default-pool'"):
        P.define_pool_xml(conn, same)
    assert P.remove_pool(conn, "from-xml") == "undefined"


def test_remove_pool_keeps_a_directory_with_volumes(conn: libvirt.virConnect) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("keep", capacity=1 << 20))
    with pytest.raises(P.StorageError, match="only when it is empty"):
        P.remove_pool(conn, POOL, delete_storage=True)
    assert P.list_pools(conn)[0].state == "running"  # nothing was done


def test_volume_names_with_spaces_and_non_ascii(conn: libvirt.virConnect) -> None:
    made = V.create_volume(conn, POOL, V.VolumeSpec("a b é 数据 <&'\">", capacity=1 << 30))
    assert made.name == "a b é 数据 <&'\">" and made.format == "qcow2"
    assert made.capacity == 1 << 30 and made.path == "/default-pool/a b é 数据 <&'\">"
    (listed,) = V.list_volumes(conn, POOL)
    assert listed.name == made.name and listed.used_by == () and listed.users_text() == "not used"
    V.delete_volume(conn, POOL, made.name)
    assert V.list_volumes(conn, POOL) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (V.VolumeSpec("", capacity=1), "needs a name"),
        (V.VolumeSpec("a/b", capacity=1), "cannot be a volume name"),
        (V.VolumeSpec("..", capacity=1), "cannot be a volume name"),
        (V.VolumeSpec("tab\there", capacity=1), "control characters"),
        (V.VolumeSpec("x", format="vmdk", capacity=1), "choose one of qcow2, raw"),
        (V.VolumeSpec("x", format="raw", capacity=1, preallocation="metadata"), "qcow2 only"),
        (V.VolumeSpec("x"), "capacity above zero"),
        (V.VolumeSpec("x", format="raw", backing_path="/default-pool/b"), "only a qcow2"),
        (V.VolumeSpec("x", backing_path="/not/a/volume"), "not a volume of any pool"),
    ],
)
def test_bad_volume_specs_create_nothing(
    conn: libvirt.virConnect, spec: V.VolumeSpec, message: str
) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("b", format="raw", capacity=1 << 20))
    with pytest.raises(P.StorageError, match=message):
        V.create_volume(conn, POOL, spec)
    assert [v.name for v in V.list_volumes(conn, POOL)] == ["b"]


def test_duplicate_volume_is_refused(conn: libvirt.virConnect) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("dup", capacity=1 << 20))
    with pytest.raises(P.StorageError, match="already has a volume named 'dup'"):
        V.create_volume(conn, POOL, V.VolumeSpec("dup", capacity=1 << 20))


def test_overlay_takes_the_backing_size_and_blocks_the_delete(conn: libvirt.virConnect) -> None:
    base = V.create_volume(conn, POOL, V.VolumeSpec("base", capacity=2 << 30))
    top = V.create_volume(conn, POOL, V.VolumeSpec("top", backing_path=base.path))
    assert top.capacity == 2 << 30
    assert (top.backing_path, top.backing_format) == (base.path, "qcow2")
    with pytest.raises(P.StorageError, match="cannot be smaller than its backing"):
        V.create_volume(conn, POOL, V.VolumeSpec("t2", capacity=1 << 30, backing_path=base.path))
    with pytest.raises(P.StorageError, match="the backing volume is qcow2, not raw"):
        V.create_volume(
            conn, POOL, V.VolumeSpec("t3", backing_path=base.path, backing_format="raw")
        )
    listed = {v.name: v for v in V.list_volumes(conn, POOL)}
    assert [(u.kind, u.name, u.how) for u in listed["base"].used_by] == [
        ("image", top.path, "backing file")
    ]
    with pytest.raises(V.VolumeInUse, match="cannot delete 'base': used by /default-pool/top"):
        V.delete_volume(conn, POOL, "base")
    assert "base" in {v.name for v in V.list_volumes(conn, POOL)}


def test_delete_refused_while_a_defined_domain_uses_it(conn: libvirt.virConnect) -> None:
    vol = V.create_volume(conn, POOL, V.VolumeSpec("disk one", capacity=1 << 30))
    dom = _domain_on(conn, "user-vm", vol.path)
    xml_before = dom.XMLDesc(0)
    with pytest.raises(V.VolumeInUse) as refused:
        V.delete_volume(conn, POOL, "disk one")
    assert "user-vm (disk, shut off)" in str(refused.value)
    assert [u.name for u in refused.value.users] == ["user-vm"]
    assert "disk one" in {v.name for v in V.list_volumes(conn, POOL)}
    assert dom.XMLDesc(0) == xml_before
    listed = {v.name: v for v in V.list_volumes(conn, POOL)}["disk one"]
    assert listed.in_use and listed.users_text() == "used by user-vm"
    assert listed.running_users == ()


def test_delete_refused_for_a_user_on_another_open_connection(
    conn: libvirt.virConnect, tmp_path: Path
) -> None:
    vol = V.create_volume(conn, POOL, V.VolumeSpec("shared", capacity=1 << 20))
    other = libvirt.open("test:///default")  # another host with its own domains
    name = "vt-other-user"
    dom = _domain_on(other, name, vol.path)
    try:
        with pytest.raises(V.VolumeInUse, match=name):
            V.delete_volume(conn, POOL, "shared", others=[other])
        V.delete_volume(conn, POOL, "shared")  # without it: nobody here uses it
    finally:
        dom.undefine()
        other.close()


def test_clone_reports_progress_and_copies(conn: libvirt.virConnect) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("src é", format="raw", capacity=1 << 30))
    seen: list[tuple[float | None, str]] = []
    copy = V.clone_volume(conn, POOL, "src é", "copy é", progress=lambda f, t: seen.append((f, t)))
    assert copy.name == "copy é" and copy.format == "raw" and copy.capacity == 1 << 30
    assert seen[0][0] is None and seen[-1] == (1.0, "copied")
    with pytest.raises(P.StorageError, match="already has a volume named 'copy é'"):
        V.clone_volume(conn, POOL, "src é", "copy é")


def test_cancelled_clone_is_removed(conn: libvirt.virConnect) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("src", capacity=1 << 20))
    with pytest.raises(P.StorageError, match="cancelled: the copy 'gone' was removed"):
        V.clone_volume(conn, POOL, "src", "gone", cancelled=lambda: True)
    assert [v.name for v in V.list_volumes(conn, POOL)] == ["src"]


def test_resize_checks_before_libvirt(conn: libvirt.virConnect) -> None:
    V.create_volume(conn, POOL, V.VolumeSpec("r", capacity=2 << 30))
    with pytest.raises(P.StorageError, match="already 2.0G"):
        V.resize_volume(conn, POOL, "r", 2 << 30)
    with pytest.raises(P.StorageError, match="shrinking loses the data"):
        V.resize_volume(conn, POOL, "r", 1 << 30)
    with pytest.raises(P.StorageError, match="above zero"):
        V.resize_volume(conn, POOL, "r", 0)
    with pytest.raises(P.StorageError, match="no volume named 'zz'"):
        V.resize_volume(conn, POOL, "zz", 1 << 30)


def test_volume_xml_escapes_everything() -> None:
    xml = V.volume_xml("a<b>&'\"", "qcow2", 10, 0, "/p/<x>", "raw")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.findtext("name") == "a<b>&'\""
    assert root.findtext("backingStore/path") == "/p/<x>"
