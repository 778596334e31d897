"""The wizard's disk step on a remote host (issue 12 "Remote hosts"): an existing disk given by
path can be a file on this machine, uploaded into a running pool ("File is" under the path); the
choice becomes `spec.uploads` (`disks[N].source.path`), follows the disk, comes back from a
preset; the summary's XML and virt-install line name the volume the upload will be (pool target +
file name, read from the host through the facade) with the image's format read here, and a short
note says the file is uploaded first; an image on a backing file here is refused next to its
field. A local host shows no choice."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from textual.widgets import OptionList, Select, TextArea

from tests.pilot_utils import wait_until
from tests.screens.create.conftest import fixed_facts, make_app
from tests.screens.create.test_wizard import err, open_wizard, type_into
from virttui.core.create import osinfo
from virttui.core.create.spec import (
    CreateSpec,
    Disk,
    ExistingPath,
    Graphics,
    ImportInstall,
    LocalUpload,
    NewVolume,
)
from virttui.screens.create.wizard import CreateWizardScreen

MIB = 1 << 20
POOL = "default-pool"  # the test node's pool (tests/core/data/test_node.xml), over /default-pool


def facts():  # type: ignore[no-untyped-def]
    return fixed_facts(
        pools=((POOL, True), ("spare", False)),
        pool_targets=((POOL, "/default-pool"), ("spare", "/srv/spare")),
        pool_types=((POOL, "dir"), ("spare", "dir")),
    )


def qcow2(path: Path, *extra: str) -> Path:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", *extra, str(path), "16M"], check=True
    )  # a test fixture, not product code
    return path


async def existing_disk(pilot, wizard: CreateWizardScreen, path: Path) -> None:  # type: ignore[no-untyped-def]
    await type_into(pilot, wizard, "f-name", "imp")
    wizard.query_one("#f-install", Select).value = "import"
    wizard.go(3)
    await pilot.pause(0.1)
    wizard.query_one("#f-d-kind", Select).value = "path"
    await pilot.pause(0.05)
    await type_into(pilot, wizard, "f-d-path", str(path))
    wizard.query_one("#f-nic", Select).value = "none"
    wizard.query_one("#f-graphics", Select).value = "none"
    await pilot.pause(0.05)


async def test_local_host_has_no_disk_upload_choice(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, facts=facts())
        await existing_disk(pilot, wizard, tmp_path / "x.qcow2")
        assert wizard.query_one("#row-f-d-path").display
        assert not wizard.query_one("#row-f-d-up").display
        spec, _errors = wizard.collect()
        assert spec is not None and spec.uploads == ()


async def test_remote_disk_upload_in_the_summary(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    image = qcow2(tmp_path / "old disk.qcow2")
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, facts=facts(), remote=True)
        await existing_disk(pilot, wizard, image)
        row = wizard.query_one("#row-f-d-up")
        assert row.display
        sel = wizard.query_one("#f-d-up", Select)
        # the path on the host, or an upload into a running pool ("spare" is not running)
        assert [v for _l, v in sel._options] == ["", POOL]
        spec, errors = wizard.collect()
        assert spec is not None and spec.uploads == ()
        sel.value = POOL
        await pilot.pause(0.05)
        row.scroll_visible(animate=False)
        await pilot.pause(0.05)
        assert row.region.height > 0 and row.region.bottom <= 24  # reachable at 80×24
        spec, errors = wizard.collect()
        assert spec is not None and errors == {}, errors
        assert spec.uploads == (LocalUpload("disks[0].source.path", POOL),)
        label = str(wizard.query_one("#disk-list", OptionList).get_option_at_index(0).prompt)
        assert f"(upload into {POOL})" in label

        # the summary: the volume the upload will be, with the image's format read here
        wizard.go(6)
        await wait_until(pilot, lambda: wizard.upload_plan is not None, 30)
        await pilot.pause(0.2)
        shown = wizard.query_one("#summary-xml", TextArea).text
        volume = f"/default-pool/{image.name}"
        assert f'<source file="{volume}"' in shown
        assert '<driver name="qemu" type="qcow2"' in shown
        argv = shlex.split(wizard.install_line)
        disk_opt = argv[argv.index("--disk") + 1]
        assert disk_opt.startswith(f"path='{volume}',format=qcow2,")
        assert str(image) not in wizard.install_line
        assert (
            f"# disks[0].source.path: {image} (a file on this machine) is uploaded first into "
            f"pool '{POOL}' as {volume}, format qcow2"
        ) in shown
        assert wizard.errors == {}

        # another disk before it: the upload follows its disk
        wizard.go(3)
        await pilot.pause(0.05)
        wizard.action_add_disk()
        await pilot.pause(0.05)
        wizard.disks.insert(0, wizard.disks.pop())
        wizard.disk_index = 0  # the editor holds the new disk, now the first
        spec, _errors = wizard.collect()
        assert spec is not None
        assert spec.uploads == (LocalUpload("disks[1].source.path", POOL),)


async def test_an_image_on_a_backing_file_here_is_refused(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    base = qcow2(tmp_path / "base.qcow2")
    top = qcow2(tmp_path / "top.qcow2", "-b", str(base), "-F", "qcow2")
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, facts=facts(), remote=True)
        await existing_disk(pilot, wizard, top)
        wizard.query_one("#f-d-up", Select).value = POOL
        await pilot.pause(0.05)
        wizard.go(6)
        await wait_until(pilot, lambda: wizard.upload_plan is not None, 30)
        await pilot.pause(0.2)
        assert "backing file" in wizard.errors.get("disks[0].source.path", "")
        checks = wizard.query_one("#summary-checks", OptionList)
        assert checks.option_count == 1
        wizard.jump_to("disks[0].source.path")
        await pilot.pause(0.1)
        assert wizard.step == 3
        assert "the host does not have" in err(wizard, "f-d-path")


async def test_preset_with_a_disk_upload_fills_the_choice(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    spec = CreateSpec(
        "pre",
        64 * MIB,
        vcpus=1,
        install=ImportInstall(),
        disks=(
            Disk(NewVolume(POOL, "pre-0.qcow2", MIB)),
            Disk(ExistingPath("/home/me/old.qcow2")),
        ),
        graphics=Graphics("none"),
        uploads=(LocalUpload("disks[1].source.path", POOL),),
    )
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, facts=facts(), spec=spec, remote=True)
        await pilot.pause(0.1)
        assert [d.upload_pool for d in wizard.disks] == ["", POOL]
        wizard.go(3)
        wizard.disk_index = 1
        wizard._load_editor()
        await pilot.pause(0.05)
        assert wizard.query_one("#f-d-up", Select).value == POOL
        got, _errors = wizard.collect()
        assert got is not None and got.uploads == spec.uploads


async def test_local_existing_disk_shown_in_the_format_the_host_reads(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    """The summary's XML is the one Create defines: an imported qcow2 image whose format the
    answers leave open shows as qcow2 once the host read it (it showed raw, and the runner now
    attaches what the host reads)."""
    image = qcow2(tmp_path / "imported.qcow2")
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, facts=facts())
        await existing_disk(pilot, wizard, image)
        wizard.go(6)
        await wait_until(pilot, lambda: wizard.upload_plan is not None, 30)
        await pilot.pause(0.2)
        shown = wizard.query_one("#summary-xml", TextArea).text
        assert f'<source file="{image}"' in shown
        assert '<driver name="qemu" type="qcow2"' in shown
        assert wizard.upload_plan is not None
        assert dict(wizard.upload_plan.disk_formats) == {0: "qcow2"}
