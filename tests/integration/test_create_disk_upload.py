"""An existing disk that is a file on this machine, uploaded into a pool of a remote host (issue
12 "Remote hosts"), on the runner: over `qemu+ssh` (the throwaway sshd of test_qemu_ssh) an
import-disk create uploads a local qcow2 image into a temp pool, keeps its format and defines
the domain on the volume's path; a name taken in the pool and a qcow2 on a backing file here are
refused before anything is made; a failure after the upload removes the uploaded volume. The
wizard (Pilot, 80×24) does the same on that host by the product's default path, its summary naming
the volume the upload will be.

`remote_uri` names the sshd by a host name that is not this machine's (ssh is told to connect to
127.0.0.1): virttui then treats the host as remote everywhere (a `qemu+ssh://…@127.0.0.1` URI is
this machine to virttui, whose files are used as they are)."""

from __future__ import annotations

import contextlib
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.guestlib import remove_domain, unique_name
from tests.integration.test_qemu_ssh import LocalSshd, local_sshd  # noqa: F401 - the fixture
from virttui.core.create.runner import CreateFailed, create_domain
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    ExistingPath,
    Graphics,
    ImportInstall,
    LocalUpload,
    disk_upload_field,
)
from virttui.core.host.connection import effective_uri, is_local_uri
from virttui.core.jobs import JobContext, JobMessage, JobProgress

MIB = 1 << 20
REMOTE_NAME = "vt-remote-host.invalid"


@pytest.fixture
def remote_uri(local_sshd: LocalSshd) -> str:  # noqa: F811
    """The local sshd under a host name virttui takes for another machine."""
    wrapper = local_sshd.ssh_wrapper.parent / "ssh-elsewhere"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'exec {local_sshd.ssh_wrapper} -o HostName=127.0.0.1 -o HostKeyAlias={REMOTE_NAME} "$@"\n'
    )
    wrapper.chmod(0o700)
    uri = local_sshd.uri(REMOTE_NAME).replace(str(local_sshd.ssh_wrapper), str(wrapper))
    assert not is_local_uri(uri)
    return uri


@pytest.fixture
def remote_conn(remote_uri: str) -> Iterator[libvirt.virConnect]:
    conn = libvirt.open(effective_uri(remote_uri))
    try:
        yield conn
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


def make_image(path: Path, fmt: str = "qcow2", *extra: str) -> Path:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", fmt, *extra, str(path), "32M"], check=True
    )  # a test fixture, not product code
    # some data, so that the copy can be compared (and is not all holes)
    subprocess.run(
        ["qemu-io", "-f", fmt, "-c", "write -P 0x5a 1M 64k", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def import_spec(name: str, pool: str, image: Path, **kw: object) -> CreateSpec:
    args: dict[str, object] = {
        "name": name,
        "memory_bytes": 128 * MIB,
        "domain_type": "qemu",
        "install": ImportInstall(),
        "disks": (Disk(ExistingPath(str(image))),),
        "graphics": Graphics("none"),
        "video": "none",
        "usb": "none",
        "start_after": False,
        "uploads": (LocalUpload(disk_upload_field(0), pool),),
    }
    args.update(kw)
    return CreateSpec(**args)  # type: ignore[arg-type]


def vol_names(pool: libvirt.virStoragePool) -> set[str]:
    pool.refresh(0)
    return {str(v.name()) for v in pool.listAllVolumes(0)}


def qemu_img_info(path: str) -> dict[str, object]:
    import json

    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", path], capture_output=True, check=True
    )
    data = json.loads(out.stdout)
    assert isinstance(data, dict)
    return data


def test_local_disk_uploaded_with_its_format(
    remote_uri: str,
    remote_conn: libvirt.virConnect,
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    pool = temp_pool.name()
    image = make_image(tmp_path / f"{unique_name('vt-dup')}.qcow2")
    name = unique_name("vt-dup")
    box: list[JobMessage] = []
    try:
        before = vol_names(temp_pool)
        result = create_domain(
            JobContext(1, box.append),
            remote_conn,
            import_spec(name, pool, image),
            uri=remote_uri,
            local_files_host=False,
        )
        assert result.name == name
        assert vol_names(temp_pool) == before | {image.name}
        vol = temp_pool.storageVolLookupByName(image.name)
        root = ET.fromstring(system_conn.lookupByName(name).XMLDesc(0))
        disk = root.find("devices/disk[@device='disk']")
        assert disk is not None
        assert disk.find("source").get("file") == vol.path()  # type: ignore[union-attr]
        assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
        assert vol.path() != str(image)
        # the volume is the image as it is: a qcow2 of the same size and data
        info = qemu_img_info(vol.path())
        assert info["format"] == "qcow2" and info["virtual-size"] == 32 * MIB
        cmp = subprocess.run(
            ["qemu-img", "compare", "-U", "-f", "qcow2", "-F", "qcow2", str(image), vol.path()],
            capture_output=True,
            text=True,
        )
        assert cmp.returncode == 0, cmp.stdout + cmp.stderr
        vxml = ET.fromstring(vol.XMLDesc(0))
        assert vxml.find("target/format").get("type") == "qcow2"  # type: ignore[union-attr]
        # progress in bytes while uploading
        texts = [m.text for m in box if isinstance(m, JobProgress)]
        assert any(t.startswith(f"uploading {image.name} into pool {pool}") for t in texts)
        assert any(t.startswith("Uploaded ") and " of " in t for t in texts), texts
        assert image.is_file()  # the admin's file stays
        assert f"uploaded {vol.path()}" in result.created

        # the same file again: its name is taken in the pool, refused, nothing made
        again = unique_name("vt-dup-again")
        with pytest.raises(CreateFailed) as info_:
            create_domain(
                JobContext(1, box.append),
                remote_conn,
                import_spec(again, pool, image),
                uri=remote_uri,
                local_files_host=False,
            )
        assert info_.value.field == "disks[0].source.path"
        assert "already has a volume named" in info_.value.errors["disks[0].source.path"]
        assert vol_names(temp_pool) == before | {image.name}
        with pytest.raises(libvirt.libvirtError):
            system_conn.lookupByName(again)
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


def test_backing_file_here_refused_and_failure_removes_the_upload(
    remote_uri: str,
    remote_conn: libvirt.virConnect,
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    pool = temp_pool.name()
    tag = unique_name("vt-dupf")
    base = make_image(tmp_path / f"{tag}-base.qcow2")
    top = tmp_path / f"{tag}-top.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)],
        check=True,
    )
    raw = make_image(tmp_path / f"{tag}.img", "raw")
    name = unique_name("vt-dupf")
    box: list[JobMessage] = []
    try:
        before = vol_names(temp_pool)
        with pytest.raises(CreateFailed) as info:
            create_domain(
                JobContext(1, box.append),
                remote_conn,
                import_spec(name, pool, top),
                uri=remote_uri,
                local_files_host=False,
            )
        message = info.value.errors["disks[0].source.path"]
        assert info.value.field == "disks[0].source.path"
        assert "backing file" in message and str(base) in message
        assert vol_names(temp_pool) == before

        # a failure after the upload (another domain took the name meanwhile: the define
        # fails): the rollback removes the uploaded volume, the other domain stays
        blocker: list[libvirt.virDomain] = []

        def progress(msg: JobMessage) -> None:
            box.append(msg)
            if isinstance(msg, JobProgress) and msg.text.startswith("Uploaded ") and not blocker:
                blocker.append(
                    system_conn.defineXML(
                        f"<domain type='qemu'><name>{name}</name><memory>65536</memory>"
                        "<os><type arch='x86_64'>hvm</type></os></domain>"
                    )
                )

        with pytest.raises(CreateFailed) as info:
            create_domain(
                JobContext(1, progress),
                remote_conn,
                import_spec(name, pool, raw),
                uri=remote_uri,
                local_files_host=False,
            )
        assert blocker, "the upload reported no progress"
        assert system_conn.lookupByName(name).UUIDString() == blocker[0].UUIDString()
        assert not info.value.cancelled, info.value.reason
        assert any(raw.name in r for r in info.value.removed), info.value
        assert vol_names(temp_pool) == before
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


async def test_wizard_creates_a_domain_on_an_uploaded_disk(
    remote_uri: str,
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    """Through the wizard (Pilot, 80×24) on the qemu+ssh host, by the product's default path
    (the facade's check, plan and create): an imported disk that is a local qcow2 file."""
    from textual.widgets import Input, Select, TextArea

    from tests.integration.test_create_wizard_ui import press_create
    from tests.pilot_utils import wait_until
    from virttui.app import HostSpec, VirtTUIApp
    from virttui.core.create import osinfo
    from virttui.screens.create.wizard import CreateWizardScreen

    pool = temp_pool.name()
    image = make_image(tmp_path / f"{unique_name('vt-wizup')}.qcow2")
    name = unique_name("vt-wizup")
    app = VirtTUIApp([HostSpec(remote_uri)], refresh=30.0)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(
                pilot,
                lambda: (
                    remote_uri in app.store.hosts
                    and app.store.hosts[remote_uri].state == "connected"
                ),
                60,
            )
            wizard = CreateWizardScreen(remote_uri, osdb=osinfo.load_db())
            app.push_screen(wizard)
            await wait_until(pilot, lambda: wizard.facts is not None, 60)
            await pilot.pause(0.1)
            assert wizard.remote
            wizard.query_one("#f-name", Input).value = name
            wizard._choose_os_text("generic")
            wizard.query_one("#f-install", Select).value = "import"
            wizard.query_one("#f-memory", Input).value = "128M"
            wizard.query_one("#f-vcpus", Input).value = "1"
            wizard.go(3)
            await pilot.pause(0.05)
            wizard.query_one("#f-d-kind", Select).value = "path"
            await pilot.pause(0.05)
            wizard.query_one("#f-d-path", Input).value = str(image)
            up = wizard.query_one("#f-d-up", Select)
            await wait_until(pilot, lambda: any(v == pool for _l, v in up._options), 10)
            # shown once the kind's Select.Changed has been handled (a busy machine: later)
            await wait_until(pilot, lambda: wizard.query_one("#row-f-d-up").display, 10)
            up.value = pool
            wizard.query_one("#f-nic", Select).value = "none"
            wizard.query_one("#f-graphics", Select).value = "none"
            wizard.query_one("#f-start_after").value = False  # type: ignore[attr-defined]
            await pilot.pause(0.05)
            # the summary names the volume the upload will be
            wizard.go(6)
            await wait_until(pilot, lambda: wizard.upload_plan is not None, 60)
            await pilot.pause(0.2)
            target = f"{pool_path(temp_pool)}/{image.name}"
            shown = wizard.query_one("#summary-xml", TextArea).text
            assert f'<source file="{target}"' in shown, shown
            assert f"is uploaded first into pool '{pool}' as {target}, format qcow2" in shown
            await press_create(pilot, app, wizard)
        dom = system_conn.lookupByName(name)
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        disk = root.find("devices/disk[@device='disk']")
        assert disk is not None
        vol = temp_pool.storageVolLookupByName(image.name)
        assert vol.path() == target
        assert disk.find("source").get("file") == target  # type: ignore[union-attr]
        assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
        assert qemu_img_info(target)["format"] == "qcow2"
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


def pool_path(pool: libvirt.virStoragePool) -> str:
    return ET.fromstring(pool.XMLDesc(0)).findtext("target/path") or ""


def test_cli_preset_with_a_disk_upload(
    remote_uri: str,
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    """`virttui create PRESET.toml --connect qemu+ssh://…` with `[[uploads]] field =
    "disks[0].source.path"`: --print-xml names the volume and uploads nothing; the create
    uploads the file and defines the domain on the volume."""
    import sys

    from virttui.core.create.presets import save_preset

    pool = temp_pool.name()
    image = make_image(tmp_path / f"{unique_name('vt-cliup')}.qcow2")
    name = unique_name("vt-cliup")
    preset = tmp_path / "import.toml"
    save_preset(import_spec(name, pool, image), preset)
    assert 'field = "disks[0].source.path"' in preset.read_text()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "virttui",
                "create",
                str(preset),
                "--connect",
                remote_uri,
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )

    target = f"{pool_path(temp_pool)}/{image.name}"
    try:
        before = vol_names(temp_pool)
        out = run("--print-xml")
        assert out.returncode == 0, out.stderr
        assert f'<source file="{target}"' in out.stdout and str(image) not in out.stdout
        assert f"uploaded first into pool '{pool}' as {target}, format qcow2" in out.stderr
        assert vol_names(temp_pool) == before
        out = run()
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == name
        assert "Uploaded " in out.stderr
        root = ET.fromstring(
            system_conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        )
        disk = root.find("devices/disk[@device='disk']")
        assert disk is not None
        assert disk.find("source").get("file") == target  # type: ignore[union-attr]
        assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
        assert vol_names(temp_pool) == before | {image.name}
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))


def test_cancel_during_the_disk_upload_removes_it(
    remote_uri: str,
    remote_conn: libvirt.virConnect,
    system_conn: libvirt.virConnect,
    temp_pool: libvirt.virStoragePool,
    tmp_path: Path,
) -> None:
    from virttui.core.jobs import Job, JobFailed

    pool = temp_pool.name()
    image = make_image(tmp_path / f"{unique_name('vt-dupc')}.qcow2")
    name = unique_name("vt-dupc")
    box: list[JobMessage] = []
    errors: list[BaseException] = []

    def body(ctx: JobContext) -> object:
        try:
            return create_domain(
                ctx, remote_conn, import_spec(name, pool, image), uri=remote_uri,
                local_files_host=False,
            )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)
            raise

    def sink(msg: JobMessage) -> None:
        box.append(msg)
        if isinstance(msg, JobProgress) and msg.text.startswith("Uploaded "):
            job.cancel(wait=False)

    job: Job[object] = Job(body, sink)
    try:
        before = vol_names(temp_pool)
        job.run()
        assert isinstance(box[-1], JobFailed) and box[-1].cancelled, box[-1]
        failure = errors[-1]
        assert isinstance(failure, CreateFailed) and failure.cancelled
        assert any(image.name in r for r in failure.removed), failure
        assert vol_names(temp_pool) == before
        with pytest.raises(libvirt.libvirtError):
            system_conn.lookupByName(name)
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            remove_domain(system_conn.lookupByName(name))
