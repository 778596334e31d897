"""osinfo-db against the real /usr/share/osinfo (Debian package osinfo-db, 2022-12) and against a
"newer database" written to tmp dirs: search ranking, nearest-family fallback with its label,
defaults (recommended, twice the minimum, inherited), virtio support, and virt-install's own
answers for the same OS (memory, vCPUs, disk bus, NIC model, machine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from virttui.core.create import osinfo as O

GIB = 1 << 30
SYSTEM = Path(O.SYSTEM_DIR)
needs_db = pytest.mark.skipif(
    not (SYSTEM / "os").is_dir(), reason="osinfo-db is not installed (apt install osinfo-db)"
)


@pytest.fixture(scope="module")
def db() -> O.OsDb:
    if not (SYSTEM / "os").is_dir():
        pytest.skip("osinfo-db is not installed")
    return O.load_dirs([O.DbDir("system", str(SYSTEM))])


# ------------------------------------------------------------------------------------ loading
@needs_db
def test_load_time_is_measured_and_small() -> None:
    start = time.perf_counter()
    db = O.load_dirs([O.DbDir("system", str(SYSTEM))])
    cold = time.perf_counter() - start
    print(f"\nosinfo-db cold load: {cold:.3f} s for {len(db)} entries")
    assert len(db) > 700
    start = time.perf_counter()
    O.load_db([O.DbDir("system", str(SYSTEM))])
    O.load_db([O.DbDir("system", str(SYSTEM))])  # the second one comes from the cache
    assert O.load_db([O.DbDir("system", str(SYSTEM))]) is O.load_db(
        [O.DbDir("system", str(SYSTEM))]
    )


def test_db_dirs_follow_libosinfo() -> None:
    dirs = O.db_dirs({"HOME": "/home/a"})
    assert [(d.kind, d.path) for d in dirs] == [
        ("system", "/usr/share/osinfo"),
        ("local", "/etc/osinfo"),
        ("user", "/home/a/.config/osinfo"),
    ]
    env = {
        "XDG_CONFIG_HOME": "/x/cfg",
        "OSINFO_SYSTEM_DIR": "/s",
        "OSINFO_LOCAL_DIR": "/l",
    }
    assert [d.path for d in O.db_dirs(env)] == ["/s", "/l", "/x/cfg/osinfo"]
    assert O.db_dirs({"OSINFO_USER_DIR": "/u", "HOME": "/h"})[2].path == "/u"


def test_entry_fields(db: O.OsDb) -> None:
    deb = db.get("debian11")
    assert deb is not None
    assert deb.id == "http://debian.org/debian/11"
    assert deb.short_ids == ("debian11", "debianbullseye")
    assert deb.name == "Debian 11"  # not one of the localized names
    assert deb.vendor == "Debian Project"
    assert (deb.family, deb.distro, deb.version, deb.codename) == (
        "linux",
        "debian",
        "11",
        "bullseye",
    )
    assert deb.release_date == "2021-08-14"
    assert deb.derives_from == ("http://debian.org/debian/10",)
    assert deb.upgrades == ("http://debian.org/debian/10",)
    res = {r.arch: r for r in deb.resources}["all"]
    assert res.minimum == O.Resources(cpu_hz=1_000_000_000, n_cpus=1, ram=GIB, storage=10 * GIB)
    assert res.recommended.storage == 20 * GIB
    assert db.get("debianbullseye") is deb
    assert db.get("http://debian.org/debian/11") is deb
    assert db.get("DEBIAN11") is deb
    assert db.get("nonexistent-os") is None
    old = db.get("debian6")
    assert old is not None and old.is_eol()
    assert not deb.is_eol(today=__import__("datetime").date(2024, 1, 1))
    assert db.version == "20221203" and db.version_text == "2022-12-03"


# ------------------------------------------------------------------------------------ search
def test_search_ranks_exact_then_prefix_newest_first(db: O.OsDb) -> None:
    assert db.search("debian11")[0].short_id == "debian11"
    first = [e.short_id for e in db.search("debian", limit=3)]
    assert first == ["debian11", "debian10", "debian9"]
    assert db.search("ubuntu 22")[0].short_id.startswith("ubuntu22")
    assert db.search("bullseye")[0].short_id == "debian11"  # codename
    assert db.search("Microsoft", limit=1)[0].short_id == "win11"  # vendor, newest first
    assert db.search("deb 10")[0].short_id == "debian10"  # word prefixes
    assert db.search("generic")[0] is O.GENERIC
    assert db.search("zzzz-no-such-os") == []
    everything = db.search("")
    assert everything[0] is O.GENERIC and len(everything) == len(db)
    # an exact short-id beats a name that merely starts with it
    assert db.search("win10")[0].short_id == "win10"


def test_search_can_hide_eol(db: O.OsDb) -> None:
    shown = {e.short_id for e in db.search("debian", include_eol=False)}
    assert "debian11" in shown and "debian6" not in shown


# ------------------------------------------------------------------------------------ nearest
@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("debian12", "debian11"),
        ("Debian 12", "debian11"),
        ("debian-13", "debian11"),
        # the newest Ubuntu this database calls released (22.10 is marked prerelease in it)
        ("ubuntu24.04", "ubuntu22.04"),
        ("Ubuntu 24.04 LTS", "ubuntu22.04"),
        ("fedora40", "fedora37"),
        ("centos-stream10", "centos-stream9"),
        ("almalinux10", "almalinux9"),
        ("rhel9.4", "rhel9.0"),
    ],
)
def test_nearest_falls_back_to_the_family_with_a_label(
    db: O.OsDb, asked: str, expected: str
) -> None:
    choice = db.nearest(asked)
    assert choice.entry.short_id == expected
    assert not choice.exact
    assert choice.fallback == (
        f"{asked} is not in this osinfo-db (2022-12-03): using {choice.entry.name}'s defaults"
    )


def test_nearest_known_and_unknown(db: O.OsDb) -> None:
    known = db.nearest("debian11")
    assert known.exact and known.entry.short_id == "debian11" and known.fallback == ""
    assert db.nearest("Debian 10").entry.short_id == "debian10"
    assert db.nearest("Debian-10").exact and db.nearest("debian testing").exact
    assert db.nearest("generic").entry is O.GENERIC and db.nearest("generic").exact
    unknown = db.nearest("plan9-from-bell-labs")
    assert unknown.entry is O.GENERIC
    assert unknown.fallback == (
        "plan9-from-bell-labs is not in this osinfo-db (2022-12-03): using generic defaults"
    )
    # asked older than anything known: the oldest known release of the family
    assert db.nearest("debian0.5").entry.short_id == "debian1.1"


# ------------------------------------------------------------------------------------ defaults
def test_defaults_recommended_and_twice_the_minimum(db: O.OsDb) -> None:
    d = O.defaults(db.get("debian11"))
    assert (d.memory, d.vcpus, d.disk) == (GIB, 2, 20 * GIB)  # vCPUs: 2 x minimum 1
    assert d.min_memory == GIB and d.min_disk == 10 * GIB
    assert d.notes == ("memory: recommended", "vCPUs: twice the minimum", "disk: recommended")
    w = O.defaults(db.get("win11"))  # x86_64 minimum only
    assert (w.memory, w.vcpus, w.disk) == (8 * GIB, 4, 128 * GIB)
    assert O.defaults(db.get("win11"), "aarch64") == O.OsDefaults(
        memory=O.GENERIC_DEFAULTS.memory,
        vcpus=O.GENERIC_DEFAULTS.vcpus,
        disk=O.GENERIC_DEFAULTS.disk,
        notes=(
            "memory: not in osinfo-db, generic default",
            "vCPUs: not in osinfo-db, generic default",
            "disk: not in osinfo-db, generic default",
        ),
    )


def test_defaults_generic() -> None:
    assert O.defaults(O.GENERIC) is O.GENERIC_DEFAULTS
    assert O.defaults(None) is O.GENERIC_DEFAULTS
    g = O.GENERIC_DEFAULTS
    assert (g.memory, g.vcpus, g.disk) == (2 * GIB, 2, 20 * GIB)


def test_defaults_inherited_through_derives_from(db: O.OsDb) -> None:
    # every entry with `<resources inherit="true"/>` and no resources of its own gets its
    # parent's figures, named as such
    inheriting = [
        e for e in db.entries() if e.inherit_resources and not e.resources and e.derives_from
    ]
    assert inheriting, "the database has entries that inherit their resources"
    for entry in inheriting:
        parent = db.get(entry.derives_from[0])
        assert parent is not None
        mine, theirs = O.defaults(entry), O.defaults(parent)
        if parent.resources:
            assert (mine.memory, mine.vcpus, mine.disk) == (
                theirs.memory,
                theirs.vcpus,
                theirs.disk,
            )
            assert all(f", from {parent.name}" in note for note in mine.notes)


# ------------------------------------------------------------------------------------ virtio
def test_virtio_support(db: O.OsDb) -> None:
    # debian11 lists only virtio-gpu/fs itself: disk and net come through derives-from
    assert O.supports_virtio(db.get("debian11")) == O.VirtioSupport(disk=True, net=True)
    assert O.supports_virtio(db.get("win10")) == O.VirtioSupport(disk=False, net=False)
    assert not O.supports_virtio(db.get("freedos1.2"))
    assert not O.supports_virtio(O.GENERIC)
    assert O.device_defaults(db.get("debian11")) == O.DeviceDefaults("virtio", "sata", "virtio")
    assert O.device_defaults(db.get("win10")) == O.DeviceDefaults("sata", "sata", "e1000e")
    assert O.device_defaults(db.get("win10"), "pc-i440fx-7.2") == O.DeviceDefaults(
        "ide", "ide", "e1000"
    )
    assert O.firmware_needs(db.get("win11")).requires_efi
    assert not O.firmware_needs(db.get("debian11")).requires_efi


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory inside a transient pool of our own: virt-install creates (autostarted!) a
    storage pool for the directory of any disk path outside a pool, even with --dry-run."""
    import xml.etree.ElementTree as ET

    import libvirt

    from tests.guestlib import transient_dir_pool

    try:
        conn = libvirt.open("qemu:///system")
    except libvirt.libvirtError as exc:
        pytest.skip(f"no qemu:///system: {exc}")
    root = tmp_path_factory.mktemp("osinfo-vi")
    try:
        with transient_dir_pool(conn, "vt-osinfo-pool", root):
            yield root
    finally:
        for other in conn.listAllStoragePools(0):  # nothing virt-install made may stay
            target = ET.fromstring(other.XMLDesc(0)).findtext("target/path") or ""
            if target == str(root) or target.startswith(str(root) + "/"):
                if other.isActive():
                    other.destroy()
                if other.isPersistent():
                    other.undefine()
        conn.close()


def _virt_install(short_id: str, tmp_path: Path) -> str:
    argv = [
        "virt-install",
        "--connect",
        "qemu:///system",
        "--print-xml",
        "--dry-run",
        "--virt-type",
        "qemu",
        "--name",
        "virttui-osinfo-fidelity",
        "--osinfo",
        short_id,
        "--import",
        "--disk",
        f"path={tmp_path / 'none.qcow2'},size=1,format=qcow2",
        "--network",
        "user",
        "--graphics",
        "none",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:  # no libvirtd to ask (virt-install reads its capabilities)
        pytest.skip(f"virt-install failed: {out.stderr[-300:]}")
    return out.stdout


@pytest.mark.skipif(shutil.which("virt-install") is None, reason="virtinst not installed")
@pytest.mark.parametrize("short_id", ["debian11", "win11", "win10", "freedos1.2", "fedora36"])
def test_same_answers_as_virt_install(db: O.OsDb, short_id: str, pool_dir: Path) -> None:
    xml = _virt_install(short_id, pool_dir)
    entry = db.get(short_id)
    d = O.defaults(entry)
    memory_kib = int(re.search(r"<currentMemory>(\d+)</currentMemory>", xml).group(1))  # type: ignore[union-attr]
    assert memory_kib * 1024 == d.memory
    assert int(re.search(r"<vcpu>(\d+)</vcpu>", xml).group(1)) == d.vcpus  # type: ignore[union-attr]
    machine = re.search(r'machine="([^"]+)"', xml).group(1)  # type: ignore[union-attr]
    assert ("q35" in machine) == O.supports_q35(entry)
    dev = O.device_defaults(entry, machine)
    assert re.search(r'<target dev="[a-z]+" bus="([a-z]+)"/>', xml).group(1) == dev.disk_bus  # type: ignore[union-attr]
    assert re.search(r'<model type="([a-z0-9]+)"/>', xml).group(1) == dev.net_model  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------ newer DB
FAKE_DEBIAN12 = """<?xml version="1.0"?>
<libosinfo version="0.0.1">
  <os id="http://debian.org/debian/12">
    <short-id>debian12</short-id>
    <short-id>debianbookworm</short-id>
    <name>Debian 12</name>
    <name xml:lang="fr">Debian 12 (fr)</name>
    <version>12</version>
    <vendor>Debian Project</vendor>
    <family>linux</family>
    <distro>debian</distro>
    <codename>bookworm</codename>
    <upgrades id="http://debian.org/debian/11"/>
    <derives-from id="http://debian.org/debian/11"/>
    <release-date>2023-06-10</release-date>
    <resources arch="all">
      <minimum><n-cpus>1</n-cpus><ram>1073741824</ram><storage>10737418240</storage></minimum>
      <recommended><ram>2147483648</ram><storage>21474836480</storage></recommended>
    </resources>
  </os>
</libosinfo>
"""


def _newer_db(root: Path) -> Path:
    newer = root / "etc-osinfo"
    (newer / "os" / "debian.org").mkdir(parents=True)
    (newer / "VERSION").write_text("20240701\n")
    (newer / "os" / "debian.org" / "debian-12.xml").write_text(FAKE_DEBIAN12)
    # the same id as the system's debian11, renamed: the newer database must win
    system_11 = (SYSTEM / "os" / "debian.org" / "debian-11.xml").read_text()
    (newer / "os" / "debian.org" / "debian-11.xml").write_text(
        system_11.replace("<name>Debian 11</name>", "<name>Debian 11 (newer DB)</name>", 1)
    )
    return newer


@needs_db
def test_newer_database_wins(tmp_path: Path) -> None:
    newer = _newer_db(tmp_path)
    env = {"OSINFO_LOCAL_DIR": str(newer), "HOME": str(tmp_path / "home")}
    db = O.load_db(O.db_dirs(env))
    assert [(s.kind, s.version) for s in db.sources] == [
        ("system", "20221203"),
        ("local", "20240701"),
    ]
    assert db.version_text == "2024-07-01"
    d12 = db.get("debian12")
    assert d12 is not None and d12.name == "Debian 12" and d12.source == str(newer)
    choice = db.nearest("debian12")
    assert choice.exact and choice.entry is d12
    d11 = db.get("debian11")
    assert d11 is not None and d11.name == "Debian 11 (newer DB)"
    # what the fake entry lacks (devices) still comes from the system's debian11 lineage
    assert O.supports_virtio(d12)
    d = O.defaults(d12)
    assert (d.memory, d.vcpus, d.disk) == (2 * GIB, 2, 20 * GIB)
    assert db.search("bookworm")[0] is d12
    assert db.nearest("debian13").fallback == (
        "debian13 is not in this osinfo-db (2024-07-01): using Debian 12's defaults"
    )


@needs_db
def test_older_version_in_a_later_dir_does_not_win(tmp_path: Path) -> None:
    older = tmp_path / "user-osinfo"
    (older / "os" / "debian.org").mkdir(parents=True)
    (older / "VERSION").write_text("20200101\n")
    system_11 = (SYSTEM / "os" / "debian.org" / "debian-11.xml").read_text()
    (older / "os" / "debian.org" / "debian-11.xml").write_text(
        system_11.replace("<name>Debian 11</name>", "<name>stale</name>", 1)
    )
    db = O.load_dirs([O.DbDir("system", str(SYSTEM)), O.DbDir("user", str(older))])
    entry = db.get("debian11")
    assert entry is not None and entry.name == "Debian 11"


def test_broken_files_are_skipped_and_cache_notices_changes(tmp_path: Path) -> None:
    base = tmp_path / "db"
    (base / "os" / "example.org").mkdir(parents=True)
    (base / "os" / "example.org" / "broken.xml").write_text("<libosinfo><os id='x'>")
    (base / "os" / "example.org" / "ok.xml").write_text(
        "<libosinfo><os id='http://example.org/ok/1'><short-id>ok1</short-id>"
        "<name>OK &lt;1&gt;</name></os></libosinfo>"
    )
    dirs = [O.DbDir("custom", str(base))]
    db = O.load_db(dirs)
    assert db.get("ok1") is not None and db.get("ok1").name == "OK <1>"  # type: ignore[union-attr]
    assert db.version_text == "unknown version"
    (base / "VERSION").write_text("20991231")
    os.utime(base, (time.time() + 5, time.time() + 5))
    again = O.load_db(dirs)
    assert again is not db and again.version == "20991231"
