"""The create wizard with Pilot at 80×24 on private test-driver hosts with fixed host facts
(qemu TCG x86_64 domain capabilities from tests/core/data): every step renders and is reached
with the keyboard; field errors land next to their field (a bad MAC, a CD-ROM on virtio, memory
above the maximum); the OS search fills the defaults; the summary shows exactly
`build_domain_xmls` and `virt_install_line` of the answers; a check message jumps to its
field; presets round trip (and ask before overwriting); Create runs the runner given with
`create=` (success closes the wizard and selects the domain; a failure keeps every answer and
highlights the field); the empty host says so in the list and `n` / the palette open the
wizard; a read-only host refuses with the reason."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static, TextArea

from tests.pilot_utils import click_on, wait_until
from tests.screens.create.conftest import fixed_facts, make_app, ready
from tests.textshot import screen_text
from virttui.app import VirtTUIApp
from virttui.core.create import osinfo
from virttui.core.create.domain_xml import CreateCaps, build_domain_xml, build_domain_xmls
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CloudSeed,
    CreateSpec,
    Disk,
    ExistingPath,
    Graphics,
    KernelBoot,
    NewVolume,
    Nic,
)
from virttui.core.create.virt_install import virt_install_line
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobError
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.create.fields import STEPS, locate
from virttui.screens.create.wizard import CreateWizardScreen, PathPrompt

MIB = 1 << 20
GIB = 1 << 30


class TomlPresets:
    """Presets as TOML through `spec.to_dict`/`from_dict` (createrun's presets module is not on
    this branch; the wizard takes its functions as a parameter)."""

    def save(self, spec: CreateSpec, path: str, overwrite: bool) -> None:
        p = Path(path)
        if p.exists() and not overwrite:
            raise FileExistsError(path)
        p.write_text(tomli_w.dumps(spec.to_dict()))

    def load(self, path: str) -> CreateSpec:
        return CreateSpec.from_dict(tomllib.loads(Path(path).read_text()))


async def open_wizard(
    pilot: Pilot[Any], app: VirtTUIApp, uri: str, osdb: osinfo.OsDb, **kw: Any
) -> CreateWizardScreen:
    await ready(pilot, app)
    kw.setdefault("facts", fixed_facts())
    wizard = CreateWizardScreen(uri, osdb=osdb, host_label="test node", **kw)
    app.push_screen(wizard)
    await wait_until(pilot, lambda: app.screen is wizard and wizard.facts is not None, 10)
    await pilot.pause(0.1)
    return wizard


def err(wizard: CreateWizardScreen, wid: str) -> str:
    widget = wizard.query_one(f"#err-{wid}", Static)
    return str(widget.render()) if widget.display else ""


async def type_into(pilot: Pilot[Any], wizard: CreateWizardScreen, wid: str, text: str) -> None:
    field = wizard.query_one(f"#{wid}", Input)
    field.value = text
    await pilot.pause(0.05)


async def fill_kernel_boot(pilot: Pilot[Any], wizard: CreateWizardScreen, name: str) -> None:
    await type_into(pilot, wizard, "f-name", name)
    wizard.query_one("#f-install", Select).value = "kernel"
    await type_into(pilot, wizard, "f-kernel", "/boot/vmlinuz")
    await type_into(pilot, wizard, "f-memory", "64M")
    await type_into(pilot, wizard, "f-vcpus", "1")
    await pilot.pause(0.05)


# ---------------------------------------------------------------------------------- steps
async def test_every_step_reached_with_the_keyboard_at_80x24(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        assert wizard.step == 0
        assert app.focused is wizard.query_one("#f-name", Input)
        await pilot.press(*"web1")
        await pilot.press("enter")  # enter in a field: next step
        assert wizard.step == 1
        for expected in range(2, len(STEPS)):
            await pilot.press("ctrl+n")
            await pilot.pause(0.05)
            assert wizard.step == expected
            text = screen_text(app)
            assert f"{expected + 1} {STEPS[expected]}" in text
        for expected in range(len(STEPS) - 2, -1, -1):
            await pilot.press("escape")
            await pilot.pause(0.05)
            assert wizard.step == expected
        await pilot.press("escape")  # on the first step: asks before leaving
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("escape")  # Cancel: the wizard stays with its answers
        await wait_until(pilot, lambda: app.screen is wizard, 5)
        assert wizard.query_one("#f-name", Input).value == "web1"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await click_on(pilot, "#confirm")
        await wait_until(
            pilot, lambda: app.screen is not wizard and not isinstance(app.screen, ConfirmScreen), 5
        )


async def test_domain_type_with_the_host_checks_reason(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        text = screen_text(app)
        assert "Domain type: qemu" in text
        assert "TCG emulation" in text
        spec, _errors = wizard.collect()
        assert spec is not None and spec.domain_type == "qemu"
        assert "TCG" in spec.domain_type_reason
        # UEFI: this host offers none, and says so
        wizard.go(2)
        await pilot.pause(0.05)
        assert "UEFI: not offered on this host" in screen_text(app)


async def test_os_search_fills_the_defaults(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await click_on(pilot, "#f-os")
        await pilot.press(*"win10")
        await pilot.pause(0.1)
        results = wizard.query_one("#os-results", OptionList)
        assert results.display and results.option_count >= 1
        await pilot.press("enter")
        await pilot.pause(0.1)
        entry = osdb.nearest("win10").entry
        d = osinfo.defaults(entry, "x86_64")
        spec, _ = wizard.collect()
        assert spec is not None
        assert spec.os_variant == entry.short_id
        assert spec.memory_bytes == d.memory
        assert spec.vcpus == d.vcpus
        assert spec.disks[0].source.size_bytes == d.disk  # type: ignore[union-attr]
        dev = osinfo.device_defaults(entry, spec.machine or "pc")
        assert spec.disks[0].bus == dev.disk_bus
        assert spec.nics[0].model == dev.net_model
        # an OS the database does not know: the nearest of its family, labelled
        wizard.query_one("#f-os", Input).value = "debian99"
        wizard._pick_highlighted_os()
        await pilot.pause(0.05)
        choice = osdb.nearest("debian99")
        assert choice.fallback
        assert choice.fallback[:30] in screen_text(app).replace("\n", " ") or (
            choice.fallback in str(wizard.query_one("#os-label", Static).render())
        )


async def test_field_errors_next_to_their_fields(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "errs")
        # memory above the maximum
        await type_into(pilot, wizard, "f-max_memory", "32M")
        # a bad MAC
        await type_into(pilot, wizard, "f-mac", "52:54:00:zz:00:01")
        # a CD-ROM on virtio
        wizard.go(3)
        await pilot.pause(0.05)
        await click_on(pilot, "#disk-add-cdrom")
        await pilot.pause(0.05)
        wizard.query_one("#f-d-path", Input).value = "/tmp/x.iso"
        wizard.query_one("#f-d-bus", Select).value = "virtio"
        await pilot.pause(0.05)
        await pilot.press("ctrl+t")  # check: spec errors without asking the host
        await pilot.pause(0.1)
        assert "at least the memory" in err(wizard, "f-max_memory")
        assert "MAC" in err(wizard, "f-mac")
        # the disk message shows when that disk is in the editor
        wizard.jump_to("disks[1].bus")
        await pilot.pause(0.05)
        assert wizard.step == 3
        assert "virtio" in err(wizard, "f-d-bus") and "CD-ROM" in err(wizard, "f-d-bus")
        assert app.focused is wizard.query_one("#f-d-bus", Select)
        # the step list marks the steps with problems
        assert set(locate(p).step for p in wizard.errors) >= {2, 3, 4}


async def test_summary_is_exactly_the_xml_and_the_virt_install_line(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "summ")
        await type_into(pilot, wizard, "f-cmdline", "console=ttyS0 root=/dev/vda")
        wizard.go(6)
        await pilot.pause(0.1)
        spec, errors = wizard.collect()
        assert spec is not None and errors == {}
        facts = fixed_facts()
        caps = CreateCaps.from_domain_capabilities(
            facts.domcaps,  # type: ignore[arg-type]
            pool_targets=dict(facts.pool_targets),
            pool_types=dict(facts.pool_types),
        )
        xmls = build_domain_xmls(spec, caps)
        line = virt_install_line(spec, caps, uri=uri)
        shown = wizard.query_one("#summary-xml", TextArea).text
        assert line in shown.splitlines()
        assert xmls.final in shown
        assert wizard.install_line == line
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("ctrl+y")
        assert copied == [line]


async def test_a_check_message_jumps_to_its_field(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "test")  # the name is taken on this host
        await type_into(pilot, wizard, "f-port", "80")
        wizard.go(6)
        await pilot.pause(0.1)
        checks = wizard.query_one("#summary-checks", OptionList)
        ids = [checks.get_option_at_index(i).id for i in range(checks.option_count)]
        assert "name" in ids and "graphics.port" in ids
        checks.focus()
        checks.highlighted = ids.index("graphics.port")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert wizard.step == 5
        assert app.focused is wizard.query_one("#f-port", Input)
        assert "port between" in err(wizard, "f-port")


async def test_host_check_runs_as_a_job(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    """ctrl+t asks the host (`HostFacade.create_check`): the test driver has no domain
    capabilities, and the message lands on the summary rather than being lost."""
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "chk")
        wizard.go(6)
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert wizard.step == 6


async def test_presets_round_trip_and_ask_before_overwriting(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    preset = tmp_path / "web.toml"
    async with app.run_test(size=(80, 24)) as pilot:
        original = CreateSpec(
            name="from-preset",
            memory_bytes=768 * MIB,
            max_memory_bytes=GIB,
            vcpus=2,
            max_vcpus=4,
            os_variant="debian11",
            machine="q35",
            install=CloudImageInstall(
                "/var/lib/libvirt/images/base.qcow2",
                seed=CloudSeed(hostname="web", user="admin", ssh_keys=(), packages=("curl",)),
            ),
            disks=(
                Disk(
                    NewVolume(
                        "default", "fp.qcow2", 8 * GIB, backing="/var/lib/libvirt/images/base.qcow2"
                    )
                ),
                Disk(ExistingPath("/srv/data.raw"), bus="sata", cache="none", io="native"),
            ),
            nics=(Nic("bridge", "br0", "e1000", "52:54:00:aa:bb:cc"),),
            graphics=Graphics("vnc", listen="0.0.0.0", port=5911, keymap="de"),
            tpm=True,
            autostart=True,
            start_after=False,
            domain_type_reason=fixed_facts().domain_type_reason,
            virtio_extras=True,
        )
        wizard = await open_wizard(pilot, app, uri, osdb, presets=TomlPresets(), spec=original)
        spec, errors = wizard.collect()
        assert spec == original, errors
        # save
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(preset)
        await pilot.press("enter")
        await wait_until(pilot, preset.exists, 5)
        assert CreateSpec.from_dict(tomllib.loads(preset.read_text())) == original
        # change answers, then load: every step is filled again
        await type_into(pilot, wizard, "f-name", "changed")
        await type_into(pilot, wizard, "f-mac", "")
        wizard.query_one("#f-graphics", Select).value = "none"
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(preset)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is wizard, 5)
        await pilot.pause(0.1)
        spec, errors = wizard.collect()
        assert spec == original, errors
        # saving over the file asks first
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(preset)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is wizard, 5)


async def test_a_password_is_hashed_and_never_saved_in_presets(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    preset = tmp_path / "pw.toml"
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, presets=TomlPresets())
        await type_into(pilot, wizard, "f-name", "pw")
        wizard.query_one("#f-install", Select).value = "cloud"
        await type_into(pilot, wizard, "f-base_image", "/var/lib/libvirt/images/base.qcow2")
        await type_into(pilot, wizard, "f-user", "admin")
        await type_into(pilot, wizard, "f-password", "s3cret: 'x'")
        spec, _ = wizard.collect()
        assert isinstance(spec.install, CloudImageInstall)  # type: ignore[union-attr]
        hashed = spec.install.seed.password_hash  # type: ignore[union-attr]
        assert hashed.startswith("$6$") and "s3cret" not in hashed
        assert wizard.query_one("#f-password", Input).password  # masked
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(preset)
        await pilot.press("enter")
        await wait_until(pilot, preset.exists, 5)
        text = preset.read_text()
        assert "s3cret" not in text and "$6$" not in text


# ---------------------------------------------------------------------------------- create
@dataclass(frozen=True)
class Result:
    name: str
    uuid: str
    started: bool
    created: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def define_on_test_driver(ctx: JobContext, facade: HostFacade, spec: CreateSpec) -> Result:
    """A runner for the test driver (tests only): the XML the wizard shows, defined."""
    facts = fixed_facts()
    caps = CreateCaps.from_domain_capabilities(facts.domcaps)  # type: ignore[arg-type]
    xml = build_domain_xml(spec, caps)
    ctx.progress(0.5, "define")
    uuid = facade._conn(lambda c: c.defineXML(xml).UUIDString())
    return Result(spec.name, uuid, False, (f"definition {spec.name}",))


class Failed(JobError):
    def __init__(self) -> None:
        super().__init__("MAC address already in use on the network")
        self.field = "nics[0].mac"
        self.removed = ("volume default/fail.qcow2",)
        self.left = ()


async def test_create_success_closes_and_selects_the_domain(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, create=define_on_test_driver)
        await fill_kernel_boot(pilot, wizard, "made-by-wizard")
        wizard.query_one("#f-start_after", Static)  # exists
        wizard.go(3)
        await pilot.pause(0.05)
        await click_on(pilot, "#disk-remove")  # no volume on the test driver
        wizard.go(6)
        await pilot.pause(0.05)
        # Create checks with the host first; the test driver has no domain capabilities, so
        # the wiring function is called directly (what Create calls once the checks pass)
        from virttui.screens.create.wizard import _start_create

        spec, errors = wizard.collect()
        assert spec is not None and errors == {}
        _start_create(wizard, uri, spec)
        await wait_until(pilot, lambda: app.screen is not wizard, 15)
        names = app.facade(uri).host.call(lambda c: [d.name() for d in c.listAllDomains(0)])  # type: ignore[union-attr]
        assert "made-by-wizard" in names
        await wait_until(
            pilot,
            lambda: (
                app.domains_screen() is not None
                and app.domains_screen().table.current is not None  # type: ignore[union-attr]
                and app.store.row(uri, app.domains_screen().table.current.uuid or "") is not None  # type: ignore[union-attr]
                and app.store.row(uri, app.domains_screen().table.current.uuid or "").name  # type: ignore[union-attr]
                == "made-by-wizard"
            ),
            15,
        )


async def test_create_failure_keeps_the_answers_and_highlights_the_field(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    def fail(ctx: JobContext, facade: HostFacade, spec: CreateSpec) -> Result:
        ctx.progress(0.3, "make volume")
        raise Failed()

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, create=fail)
        await fill_kernel_boot(pilot, wizard, "fail")
        await type_into(pilot, wizard, "f-mac", "52:54:00:12:34:56")
        before, _ = wizard.collect()
        from virttui.screens.create.wizard import _start_create

        _start_create(wizard, uri, before)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: not wizard.creating, 15)
        await pilot.pause(0.1)
        assert app.screen is wizard
        after, _ = wizard.collect()
        assert after == before
        assert wizard.step == 4
        assert app.focused is wizard.query_one("#f-mac", Input)
        assert "already in use" in err(wizard, "f-mac")
        wizard.go(6)
        await pilot.pause(0.05)
        progress = str(wizard.query_one("#create-progress", Static).render())
        assert "Removed again: volume default/fail.qcow2" in progress


async def test_without_a_runner_the_default_path_calls_the_facade(
    tmp_path: Path, osdb: osinfo.OsDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `create=`: Create runs this host's `HostFacade.create_domain` with the collected spec
    (the runner itself is tested on qemu:///system: tests/integration/test_create_*.py); its
    failure is shown and every answer kept."""
    from virttui.core.create.runner import CreateFailed

    calls: list[Any] = []

    def create_domain(self: HostFacade, ctx: Any, spec: Any) -> Any:
        calls.append((self.uri, spec))
        raise CreateFailed("the host said no", removed=("volume default/nofacade.qcow2",))

    monkeypatch.setattr(HostFacade, "create_domain", create_domain)
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "nofacade")
        spec, _ = wizard.collect()
        from virttui.screens.create.wizard import _start_create

        _start_create(wizard, uri, spec)  # type: ignore[arg-type]
        await wait_until(pilot, lambda: not wizard.creating, 15)
        await pilot.pause(0.1)
        assert calls == [(uri, spec)]
        assert app.screen is wizard and wizard.collect()[0] == spec
        wizard.go(6)
        await pilot.pause(0.05)
        progress = str(wizard.query_one("#create-progress", Static).render())
        assert "the host said no" in progress


# ---------------------------------------------------------------------------------- entry points
async def test_empty_host_says_so_and_n_opens_the_wizard(tmp_path: Path) -> None:
    app, uri = make_app(tmp_path, empty=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.pause(0.3)
        assert "No domains on test node: press n to create one" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateWizardScreen), 10)
        assert app.screen.uri == uri  # type: ignore[attr-defined]


async def test_a_host_with_domains_has_no_hint(tmp_path: Path) -> None:
    app, _uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.pause(0.3)
        assert "No domains on" not in screen_text(app)


async def test_palette_and_host_screen_open_the_wizard(tmp_path: Path) -> None:
    from virttui.screens.host.host import HostScreen

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Domain: create a new domain on test node…" in titles
        await pilot.press("H")
        await wait_until(pilot, lambda: isinstance(app.screen, HostScreen), 10)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, CreateWizardScreen), 10)


async def test_read_only_host_refuses_with_the_reason(tmp_path: Path) -> None:
    app, _uri = make_app(tmp_path, empty=True, readonly=True)
    seen: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.pause(0.3)
        assert "read-only connection: cannot create" in screen_text(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(t.startswith("Domain: create a new domain") for t in titles)
        original = app.notify

        def notify(message: str, **kw: Any) -> None:
            seen.append(str(message))
            original(message, **kw)

        app.notify = notify  # type: ignore[method-assign]
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, CreateWizardScreen)
        assert any("Read-only" in m for m in seen)


def test_every_field_path_has_a_widget() -> None:
    """Every path `validate_spec` can name maps to a widget the wizard composes."""
    import re

    import virttui.screens.create.steps as S
    import virttui.screens.create.wizard as W

    source = Path(W.__file__).read_text() + Path(S.__file__).read_text()
    ids = set(re.findall(r'id="([^"]+)"', source)) | set(re.findall(r'"(f-[a-z_-]+)"', source))
    for path in (
        "name",
        "os_variant",
        "memory_bytes",
        "max_memory_bytes",
        "vcpus",
        "max_vcpus",
        "topology",
        "cpu.model",
        "firmware.secure_boot",
        "machine",
        "install.iso_path",
        "install.location",
        "install.kernel",
        "install.initrd",
        "install.base_image",
        "disks",
        "disks[0].bus",
        "disks[2].source.size_bytes",
        "disks[0].source.path",
        "disks[0].source.volume",
        "disks[0].io",
        "disks[0].cache",
        "driver_iso",
        "cdrom_bus",
        "tpm_model",
        "nics[0].mac",
        "nics[0].source",
        "graphics.port",
        "graphics.password",
        "graphics.keymap",
        "graphics.listen",
        "video",
        "hostname",
        "ssh_keys",
        "password",
    ):
        place = locate(path)
        assert place.widget in ids, (path, place)
    assert locate("install.kernel", install_kind="location").widget == "f-loc_kernel"
    assert locate("nics[0].source", nic_source_type="bridge").widget == "f-bridge"
    assert locate("disks[3].bus").disk == 3
    assert locate("something.new").step == len(STEPS) - 1


_ = (CdromInstall, KernelBoot)


async def test_presets_through_the_presets_module(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    """The default path: createrun's `core/create/presets.save_preset/load_preset`."""
    from virttui.core.create import presets

    app, uri = make_app(tmp_path)
    path = tmp_path / "module.toml"
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "via-module")
        before, _ = wizard.collect()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, path.exists, 5)
        assert presets.load_preset(path) == before
        await type_into(pilot, wizard, "f-name", "other")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is wizard, 5)
        await pilot.pause(0.1)
        after, _ = wizard.collect()
        assert after == before


async def test_ctrl_f_picks_a_path_in_the_file_browser(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    from virttui.screens.storage.files import FileBrowserScreen

    isos = tmp_path / "isos"
    isos.mkdir()
    (isos / "boot.iso").write_bytes(b"\0" * 4096)
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        wizard.go(1)
        await pilot.pause(0.05)
        field = wizard.query_one("#f-iso_path", Input)
        field.value = str(isos / "x")
        field.focus()
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: isinstance(app.screen, FileBrowserScreen), 10)
        browser = app.screen
        assert isinstance(browser, FileBrowserScreen)
        await wait_until(pilot, lambda: not browser.loading and browser._listed, 30)
        await pilot.pause(0.1)
        table = browser.table
        index = next(
            i for i in range(table.row_count) if str(table.get_row_at(i)[0]).startswith("boot.iso")
        )
        table.move_cursor(row=index)
        await pilot.pause(0.05)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is wizard, 10)
        await pilot.pause(0.05)
        assert field.value == str(isos / "boot.iso")


async def test_palette_inside_the_wizard(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        commands = {c.title: c for c in app.get_system_commands(wizard)}
        assert "New domain: save preset" in commands
        commands["New domain: step 7, Summary"].callback()
        await pilot.pause(0.05)
        assert wizard.step == 6


async def test_create_checks_with_the_host_first(tmp_path: Path, osdb: osinfo.OsDb) -> None:
    """ctrl+r (Create) runs the host check first; a check that cannot run (the test driver has
    no domain capabilities) creates nothing and lets Create be pressed again."""
    calls: list[str] = []

    def runner(ctx: JobContext, facade: HostFacade, spec: CreateSpec) -> Result:
        calls.append(spec.name)
        return define_on_test_driver(ctx, facade, spec)

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, create=runner)
        await fill_kernel_boot(pilot, wizard, "checked-first")
        wizard.go(6)
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
        await wait_until(pilot, lambda: not wizard.creating, 15)
        assert calls == []
        assert app.screen is wizard


async def test_q_asks_before_quitting_and_losing_the_answers(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    """`q` is the app's quit wherever no field takes the letter (a select, a button): with the
    wizard open it asks first; No keeps the wizard and its answers."""
    from textual.widgets import Select

    from virttui.screens.common.confirm import ConfirmScreen

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_kernel_boot(pilot, wizard, "quitask")
        before, _ = wizard.collect()
        wizard.go(1)
        await pilot.pause(0.05)
        wizard.query(Select).first().focus()
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        assert "answers are not saved" in str(app.screen.question)  # type: ignore[attr-defined]
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is wizard, 5)
        assert app.is_running and wizard.collect()[0] == before
