"""The wizard's cloud-init step at 80×24 (Pilot, test-driver host, fixed host facts): the newer
answers (passwordless sudo, SSH password login, extra user-data, network-config) are filled with
the keyboard and reach the spec; a bad network-config is refused at the summary next to its
field, with its line, and nothing is created (volumes and domains the same before and after;
the runner never called); the check message jumps to the field with the cursor on the line; a
preset with the new answers fills the step again."""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static, TextArea

from tests.pilot_utils import wait_until
from tests.screens.create.conftest import fixed_facts, make_app, ready
from tests.textshot import screen_text
from virttui.app import VirtTUIApp
from virttui.core.create import osinfo
from virttui.core.create.spec import CloudImageInstall, CreateSpec
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext
from virttui.screens.create.fields import SUMMARY_STEP, locate
from virttui.screens.create.wizard import CreateWizardScreen, PathPrompt
from virttui.widgets.common.ticks import TickBox

BASE = "/var/lib/libvirt/images/debian-12-genericcloud-amd64.qcow2"
BAD_NET = "version: 2\nethernets:\n  eth0: {dhcp4: true\n"  # the '{' on line 3 never closed


def ssh_key() -> str:
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", 32) + bytes(range(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} admin@laptop"


async def open_wizard(
    pilot: Pilot[Any], app: VirtTUIApp, uri: str, osdb: osinfo.OsDb, **kw: Any
) -> CreateWizardScreen:
    await ready(pilot, app)
    wizard = CreateWizardScreen(uri, facts=fixed_facts(), osdb=osdb, host_label="test node", **kw)
    app.push_screen(wizard)
    await wait_until(pilot, lambda: app.screen is wizard and wizard.facts is not None, 10)
    await pilot.pause(0.1)
    return wizard


def err(wizard: CreateWizardScreen, wid: str) -> str:
    widget = wizard.query_one(f"#err-{wid}", Static)
    return str(widget.render()) if widget.display else ""


async def fill_cloud(pilot: Pilot[Any], wizard: CreateWizardScreen, name: str) -> None:
    wizard.query_one("#f-name", Input).value = name
    wizard.query_one("#f-install", Select).value = "cloud"
    await pilot.pause(0.05)
    wizard.query_one("#f-base_image", Input).value = BASE
    wizard.query_one("#f-user", Input).value = "admin"
    wizard.query_one("#f-password", Input).value = "pa:ss 'word'"
    wizard.query_one("#f-ssh_keys", TextArea).text = ssh_key()
    wizard.query_one("#f-memory", Input).value = "512M"
    await pilot.pause(0.05)


async def focus_and_type(pilot: Pilot[Any], app: VirtTUIApp, wid: str, keys: list[str]) -> None:
    """Tab to the field from the one before it (keyboard only), then type."""
    widget = app.screen.query_one(f"#{wid}")
    while app.focused is not widget:
        await pilot.press("tab")
    await pilot.press(*keys)
    await pilot.pause(0.05)


def all_volumes(app: VirtTUIApp, uri: str) -> set[str]:
    def read(conn: Any) -> set[str]:
        out = {f"domain {d.name()}" for d in conn.listAllDomains(0)}
        for pool in conn.listAllStoragePools(0):
            pool.refresh(0)
            out |= {f"{pool.name()}/{v.name()}" for v in pool.listAllVolumes(0)}
        return out

    return app.facade(uri).host.call(read)  # type: ignore[union-attr, no-any-return]


def keys_of(text: str) -> list[str]:
    names = {"\n": "enter", " ": "space", ":": "colon", "'": "apostrophe", "-": "minus"}
    return [names.get(c, c) for c in text]


async def test_new_cloud_init_answers_filled_with_the_keyboard_at_80x24(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_cloud(pilot, wizard, "cloudy")
        wizard.go(1)
        await pilot.pause(0.05)
        # the defaults: sudo on, SSH password login off, both YAML areas empty
        spec, errors = wizard.collect()
        assert spec is not None and errors == {}, errors
        assert isinstance(spec.install, CloudImageInstall)
        assert spec.install.seed.sudo and not spec.install.seed.ssh_password_login
        assert spec.install.seed.extra_user_data == spec.install.seed.network_config == ""
        # every new answer with the keyboard: tab to it, space ticks, the areas are typed into
        wizard.query_one("#f-packages", Input).focus()
        await focus_and_type(pilot, app, "f-sudo", ["space"])
        await focus_and_type(pilot, app, "f-ssh_password_login", ["space"])
        extra = "timezone: 'UTC'\nruncmd:\n- [ls, -l]\n"
        await focus_and_type(pilot, app, "f-extra_user_data", keys_of(extra))
        net = "version: 2\n"
        await focus_and_type(pilot, app, "f-network_config", keys_of(net))
        area = wizard.query_one("#f-network_config", TextArea)
        # usable at 80×24: the step scrolled the focused area into view
        assert area.region.height >= 3 and 0 <= area.region.y < 24 - 3, area.region
        assert wizard.query_one("#f-extra_user_data", TextArea).text.startswith(extra)
        assert "network-config v1/v2" in screen_text(app)  # its hint is on screen
        spec, errors = wizard.collect()
        assert spec is not None and errors == {}, errors
        assert isinstance(spec.install, CloudImageInstall)
        seed = spec.install.seed
        assert seed.sudo is False and seed.ssh_password_login is True
        assert seed.extra_user_data.startswith(extra)
        assert seed.network_config.startswith(net)
        # the older answers kept their order and ids
        ids = [w.id for w in wizard.query("#grp-cloud .cw-row")]
        assert ids[:7] == [
            "row-f-base_image",
            "row-f-up-base_image",
            "row-f-hostname",
            "row-f-user",
            "row-f-password",
            "row-f-ssh_keys",
            "row-f-packages",
        ]
        assert ids[7:] == [
            "row-f-sudo",
            "row-f-ssh_password_login",
            "row-f-extra_user_data",
            "row-f-network_config",
        ]


async def test_bad_network_config_refused_at_the_summary_next_to_its_field(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    calls: list[CreateSpec] = []

    def runner(ctx: JobContext, facade: HostFacade, spec: CreateSpec) -> Any:
        calls.append(spec)  # never reached: the check refuses first
        raise AssertionError("the runner must not run")

    app, uri = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb, create=runner)
        before = all_volumes(app, uri)
        await fill_cloud(pilot, wizard, "badnet")
        wizard.query_one("#f-network_config", TextArea).text = BAD_NET
        await pilot.pause(0.05)
        for _ in range(SUMMARY_STEP):  # to the summary with the keyboard
            await pilot.press("ctrl+n")
            await pilot.pause(0.05)
        assert wizard.step == SUMMARY_STEP
        await pilot.press("ctrl+r")  # Create: checks first
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        checks = wizard.query_one("#summary-checks", OptionList)
        ids = [checks.get_option_at_index(i).id for i in range(checks.option_count)]
        assert ids == ["install.seed.network_config"], ids
        label = str(checks.get_option_at_index(0).prompt)
        assert "line 3, column 9" in label and label.startswith("Install · ")
        text = err(wizard, "f-network_config")
        assert text.startswith("network-config is not valid YAML at line 3, column 9"), text
        assert not wizard.creating
        assert calls == []
        assert all_volumes(app, uri) == before  # nothing made
        # enter on the message: the field, with the cursor on the line
        checks.focus()
        checks.highlighted = 0
        await pilot.press("enter")
        await pilot.pause(0.1)
        area = wizard.query_one("#f-network_config", TextArea)
        assert wizard.step == 1 and app.focused is area
        assert area.cursor_location == (2, 8)
        # the field and its message below it, both in view at 80×24 (scrolled after a refresh)
        await wait_until(
            pilot,
            lambda: (
                "eth0: {dhcp4: true" in screen_text(app) and "line 3, column 9" in screen_text(app)
            ),
            5,
        )
        # every seed message lands on its own field
        for key, wid in (
            ("install.seed.extra_user_data", "f-extra_user_data"),
            ("install.seed.ssh_password_login", "f-ssh_password_login"),
            ("install.seed.sudo", "f-sudo"),
            ("install.seed.password_hash", "f-password"),
            ("install.seed.ssh_keys[1]", "f-ssh_keys"),
        ):
            assert locate(key).widget == wid and wizard.query(f"#err-{wid}"), key
        # network-config fixed, extra user-data broken: that message replaces the other one
        area.text = "version: 2\nethernets:\n  eth0: {dhcp4: true}\n"
        wizard.query_one("#f-extra_user_data", TextArea).text = "packages: [curl\n"
        await pilot.pause(0.05)
        wizard.go(SUMMARY_STEP)
        await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert err(wizard, "f-extra_user_data").startswith(
            "extra user-data is not valid YAML at line 1, column 11: "  # the '[' left open
        ), err(wizard, "f-extra_user_data")
        assert err(wizard, "f-network_config") == ""
        assert calls == [] and all_volumes(app, uri) == before


async def test_a_preset_with_the_new_answers_fills_the_step(
    tmp_path: Path, osdb: osinfo.OsDb
) -> None:
    from virttui.core.create import presets

    app, uri = make_app(tmp_path)
    path = tmp_path / "cloud.toml"
    async with app.run_test(size=(80, 24)) as pilot:
        wizard = await open_wizard(pilot, app, uri, osdb)
        await fill_cloud(pilot, wizard, "preset-cloud")
        wizard.query_one("#f-sudo", TickBox).value = False
        wizard.query_one("#f-ssh_password_login", TickBox).value = True
        wizard.query_one(
            "#f-extra_user_data", TextArea
        ).text = 'write_files:\n- path: /etc/x\n  content: "a: \\"b\\"\\nc # d"\n'
        wizard.query_one("#f-network_config", TextArea).text = "network:\n  config: disabled\n"
        await pilot.pause(0.05)
        before, errors = wizard.collect()
        assert before is not None and errors == {}, errors
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, path.exists, 5)
        saved = presets.load_preset(path)
        assert isinstance(saved.install, CloudImageInstall)
        assert saved.install.seed.password_hash == ""  # the password is never saved
        assert "pa:ss" not in path.read_text()
        assert isinstance(before.install, CloudImageInstall)
        assert saved.install.seed.extra_user_data == before.install.seed.extra_user_data
        # other answers, then load: the step is filled again
        wizard.query_one("#f-sudo", TickBox).value = True
        wizard.query_one("#f-network_config", TextArea).text = ""
        wizard.query_one("#f-extra_user_data", TextArea).text = ""
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathPrompt), 5)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is wizard, 5)
        await pilot.pause(0.1)
        assert wizard.query_one("#f-sudo", TickBox).value is False
        assert wizard.query_one("#f-ssh_password_login", TickBox).value is True
        assert wizard.query_one("#f-network_config", TextArea).text == (
            "network:\n  config: disabled\n"
        )
        after, _ = wizard.collect()
        assert after is not None and isinstance(after.install, CloudImageInstall)
        assert after.install.seed == saved.install.seed
