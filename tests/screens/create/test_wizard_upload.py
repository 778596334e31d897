"""The create wizard on a remote host (issue 12 "Remote hosts"): next to the ISO / kernel /
initrd / cloud image / driver ISO paths a "File is" choice says whether the path is on the host
or a file on this machine uploaded into one of the host's running pools; the choice becomes
`spec.uploads`, presets load it back, the summary says the file is uploaded first, and ctrl+f on
such a field browses this machine's files. A local host shows no choice."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, TextArea

from tests.pilot_utils import wait_until
from tests.screens.create.conftest import make_app
from tests.screens.create.test_wizard import fill_kernel_boot, open_wizard, type_into
from virttui.core.create import osinfo
from virttui.core.create.spec import CreateSpec, KernelBoot, LocalUpload
from virttui.screens.storage.files import FileBrowserScreen

MIB = 1 << 20


async def test_local_host_has_no_upload_choice(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "loc")
        assert not wizard.query_one("#row-f-up-kernel").display
        spec, errors = wizard.collect()
        assert spec is not None and spec.uploads == () and errors == {}


async def test_remote_host_upload_choice(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, remote=True)
        await fill_kernel_boot(pilot, wizard, "rem")
        wizard.go(1)
        await pilot.pause(0.1)
        assert wizard.query_one("#row-f-up-kernel").display
        sel = wizard.query_one("#f-up-kernel", Select)
        values = [v for _l, v in sel._options]
        # the path on the host, or an upload into a running pool ("spare" is inactive)
        assert values == ["", "default"]
        assert [str(lbl) for lbl, _v in sel._options] == [
            "path on test node",
            "file on this machine, upload into pool default",
        ]
        spec, errors = wizard.collect()
        assert spec is not None and spec.uploads == ()
        sel.value = "default"
        await type_into(pilot, wizard, "f-kernel", str(tmp_path / "vmlinuz"))
        spec, errors = wizard.collect()
        assert spec is not None and errors == {}
        assert spec.uploads == (LocalUpload("install.kernel", "default"),)
        # a choice of another install method's field is not in the spec
        wizard.query_one("#f-up-iso_path", Select).value = "default"
        spec, _errors = wizard.collect()
        assert spec is not None and spec.uploads == (LocalUpload("install.kernel", "default"),)

        # the summary says the file is uploaded first
        wizard.go(6)
        await pilot.pause(0.2)
        shown = wizard.query_one("#summary-xml", TextArea).text
        assert f"# install.kernel: {tmp_path / 'vmlinuz'} (a file on this machine) is " in shown
        assert "uploaded first into pool 'default'" in shown

        # ctrl+f on that field browses this machine's files
        (tmp_path / "vmlinuz").write_bytes(b"k")
        wizard.go(1)
        await pilot.pause(0.1)
        field = wizard.query_one("#f-kernel", Input)
        field.focus()
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, FileBrowserScreen), 10)
        browser = app.screen
        assert isinstance(browser, FileBrowserScreen) and browser.local_machine
        assert browser.directory == str(tmp_path)
        await wait_until(pilot, lambda: not browser.loading and browser._listed, 30)
        assert not browser.check_action("image", ())
        assert not browser.check_action("make_pool", ())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is wizard, 10)


async def test_remote_preset_with_uploads_fills_the_choices(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    spec = CreateSpec(
        "pre",
        64 * MIB,
        vcpus=1,
        install=KernelBoot("/home/me/vmlinuz", "/home/me/initrd"),
        driver_iso="/home/me/virtio-win.iso",
        uploads=(
            LocalUpload("install.kernel", "default"),
            LocalUpload("install.initrd", "gone"),
            LocalUpload("driver_iso", "default"),
        ),
    )
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, spec=spec, remote=True)
        await pilot.pause(0.1)
        assert wizard.query_one("#f-up-kernel", Select).value == "default"
        assert wizard.query_one("#f-up-initrd", Select).value == "gone"
        assert wizard.query_one("#f-up-driver_iso", Select).value == "default"
        got, _errors = wizard.collect()
        assert got is not None and got.uploads == spec.uploads
