"""The create wizard: seven steps from a name to a defined (and started) domain.

Steps (`fields.STEPS`): name + OS variant (osinfo search, defaults) and the domain type with the
host check's reason; install method; resources; disks; network; display and boot options;
summary (the exact XML from `build_domain_xmls`, the `virt_install_line`, the host's checks as a
job, each message a jump to its field). Keyboard: tab/shift+tab between fields, enter in a text
field = next step, escape = previous step (on the first step it asks before leaving), ctrl+s /
ctrl+o save / load a TOML preset, ctrl+y copies the summary's virt-install line.

Nothing here talks to libvirt: the host's facts come from `HostFacade.create_wizard_facts`, the
checks from `HostFacade.create_check`, both as jobs; Create runs the runner through ONE wiring
function, `_start_create`. The runner and the preset functions (createrun's) are looked up when
used; tests pass them with the `create=` / `presets=` keywords.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from pathlib import Path
from typing import Any, Protocol, cast

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Input,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from virttui.core.create import osinfo
from virttui.core.create.disk_formats import open_format_disks
from virttui.core.create.domain_xml import CreateCaps, build_domain_xmls
from virttui.core.create.seed import seed_problems
from virttui.core.create.spec import (
    CdromInstall,
    CloudImageInstall,
    CloudSeed,
    Cpu,
    CreateSpec,
    Disk,
    Firmware,
    Graphics,
    ImportInstall,
    Install,
    KernelBoot,
    LocalUpload,
    LocationInstall,
    Nic,
    PxeInstall,
    Topology,
    disk_upload_field,
    field_path,
    mac_problem,
    upload_disk_index,
)
from virttui.core.create.uploads import UploadPlan, UploadTarget, planned_spec, upload_targets
from virttui.core.create.virt_install import upload_notes, virt_install_line
from virttui.core.create.wizard_facts import WizardFacts
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobContext, JobDone, JobError, JobFailed, JobProgress
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import host_job, start_job, writable_host
from virttui.screens.common.services import services
from virttui.screens.create.fields import STEPS, SUMMARY_STEP, Place, locate
from virttui.screens.create.model import (
    GIB,
    DiskForm,
    disk_from_form,
    form_from_disk,
    memory_text,
    parse_memory,
    size_text,
)
from virttui.screens.create.presets_ui import PathPrompt, PresetIO, _ModulePresets
from virttui.screens.create.steps import compose_steps, opts
from virttui.widgets.common.plain import append_plain, plain
from virttui.widgets.common.ticks import TickBox

SEARCH_LIMIT = 8
_LINE_COLUMN = re.compile(r"\bat line (\d+), column (\d+)")
PATH_FIELDS = frozenset(
    {"f-iso_path", "f-kernel", "f-initrd", "f-base_image", "f-d-path", "f-driver_iso", "f-location"}
)

# a path field whose file can be on this machine (uploaded into a pool of a remote host):
# spec field -> (its Input, its "File is" Select, the install method it belongs to; "" = any)
# the disk editor's "File is" (an existing path: on the host, or a file here uploaded)
DISK_UPLOAD = "f-d-up"
UPLOAD_INPUTS: dict[str, tuple[str, str, str]] = {
    "install.iso_path": ("f-iso_path", "f-up-iso_path", "cdrom"),
    "install.kernel": ("f-kernel", "f-up-kernel", "kernel"),
    "install.initrd": ("f-initrd", "f-up-initrd", "kernel"),
    "install.base_image": ("f-base_image", "f-up-base_image", "cloud"),
    "driver_iso": ("f-driver_iso", "f-up-driver_iso", ""),
}


class CreateRunner(Protocol):
    """What Create runs: the createrun runner on this host (`HostFacade.create_domain`)."""

    def __call__(self, ctx: JobContext, facade: HostFacade, spec: CreateSpec) -> Any: ...


class LeaveScreen(ConfirmScreen):
    pass


class CreateWizardScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="create.back"),
        Binding("ctrl+n", "next", "Next", id="create.next", tooltip="Next step (enter in a field)"),
        Binding("ctrl+s", "save_preset", "Save", id="create.save", tooltip="Save answers as TOML"),
        Binding("ctrl+o", "load_preset", "Load", id="create.load", tooltip="Load a TOML preset"),
        Binding(
            "ctrl+y",
            "copy_line",
            "Copy",
            id="create.copy",
            tooltip="Copy the virt-install line to the clipboard",
            priority=True,  # over the summary TextArea's own ctrl+y (redo)
        ),
        Binding("ctrl+t", "check", "Check", show=False, id="create.check"),
        Binding(
            "ctrl+f",
            "browse",
            "Browse",
            show=False,
            id="create.browse",
            tooltip="Pick the file of this path field in the host's file browser",
        ),
        Binding("ctrl+r", "create", "Create", id="create.create", tooltip="Check, then create"),
    ]

    def __init__(
        self,
        uri: str,
        *,
        spec: CreateSpec | None = None,
        facts: WizardFacts | None = None,
        osdb: osinfo.OsDb | None = None,
        create: CreateRunner | None = None,
        presets: PresetIO | None = None,
        host_label: str = "",
        remote: bool | None = None,
    ) -> None:
        super().__init__()
        self.uri = uri
        # None: from the host (a qemu+ssh host elsewhere is remote); files picked on this
        # machine are then uploaded into a pool of the host (the "File is" choices)
        self._remote = remote
        self.facts = facts
        self.osdb = osdb
        self.create_runner = create
        self.presets: PresetIO = presets if presets is not None else _ModulePresets()
        self.host_label = host_label or uri
        self.step = 0
        self.base = spec or CreateSpec(name="", memory_bytes=2 * GIB, vcpus=2)
        self._initial = spec
        self.os_entry: osinfo.OsEntry | None = None
        self.os_note = ""
        self.disks: list[DiskForm] = []
        self.disk_index = 0
        self.errors: dict[str, str] = {}
        self.check_errors: dict[str, str] | None = None  # None: not checked yet
        self.caps: CreateCaps | None = None
        self.summary_text = ""
        self.install_line = ""
        self.preset_path = ""
        self.creating = False
        self.create_error: BaseException | None = None
        self.result: Any = None
        self._hashes: dict[str, str] = {}
        self._loading_editor = False
        self._last_name = ""
        self._browsing: tuple[Any, str] | None = None
        # where the uploads go (HostFacade.create_upload_plan), for the answers in `_plan_key`
        self.upload_plan: UploadPlan | None = None
        self._plan_key: tuple[object, ...] | None = None
        self._plan_reading: tuple[object, ...] | None = None

    # ------------------------------------------------------------------ compose
    def compose(self) -> ComposeResult:
        title = Text("New domain on ", style="bold")
        append_plain(title, self.host_label, "bold")
        yield Static(title, id="cw-title")
        yield Static(id="cw-steps")
        with ContentSwitcher(initial="step-0", id="cw-switcher"):
            yield from compose_steps()
        with Horizontal(id="cw-nav"):
            yield Button("Back", id="nav-back", compact=True)
            yield Button("Next", id="nav-next", variant="primary", compact=True)
            yield Button("Create", id="nav-create", variant="success", compact=True)
        yield Footer()

    # ------------------------------------------------------------------ set-up
    @property
    def remote(self) -> bool:
        if self._remote is None:
            facade = services(self).facade(self.uri)
            self._remote = facade is not None and not facade.is_local
        return self._remote

    def _upload_options(self, facts: WizardFacts) -> None:
        """The "File is" choices: the path on the host, or a file here uploaded into one of the
        host's running pools."""
        host = Text("path on ")
        append_plain(host, self.host_label)
        choices: list[tuple[Text, str]] = [(host, "")]
        for name, active in facts.pools:
            if active:
                label = Text("file on this machine, upload into pool ")
                append_plain(label, name)
                choices.append((label, name))
        for wid in (*(w for _i, w, _m in UPLOAD_INPUTS.values()), DISK_UPLOAD):
            sel = self.query_one(f"#{wid}", Select)
            keep = sel.value
            sel.set_options(choices)
            sel.value = keep if any(v == keep for _l, v in choices) else ""

    def _set_upload(self, wid: str, pool: str) -> None:
        sel = self.query_one(f"#{wid}", Select)
        options = [(lbl, v) for lbl, v in getattr(sel, "_options", []) if isinstance(v, str)]
        if not any(v == pool for _l, v in options):
            label = Text("file on this machine, upload into pool ")
            append_plain(label, pool)
            append_plain(label, " (not running on this host)")
            sel.set_options([*options, (label, pool)])
        sel.value = pool

    def on_mount(self) -> None:
        if self._initial is None:
            self.disks = [DiskForm(pool="", name="", size="20G")]
        self._show_step()
        if self.facts is None:
            host_job(
                self.app,
                self.uri,
                "Read host for a new domain",
                lambda facade: facade.create_wizard_facts(),
                self._facts_ready,
                mutating=False,
            )
        else:
            self._facts_ready(self.facts)
        if self.osdb is None:
            start_job(
                self,
                lambda _ctx: osinfo.load_db(),
                title="Read osinfo-db",
                on_done=lambda m: self._osdb_ready(m.result),
                cancel_on_close=True,
            )
        else:
            self._osdb_ready(self.osdb)
        self.query_one("#f-name", Input).focus()

    def _facts_ready(self, facts: WizardFacts) -> None:
        self.facts = facts
        dtype = Text("Domain type: ", style="bold")
        append_plain(dtype, facts.domain_type, "bold")
        if facts.domain_type_reason:
            dtype.append(" — ")
            append_plain(dtype, facts.domain_type_reason)
        self.query_one("#f-domain_type", Static).update(dtype)
        models = facts.cpu_models
        self._set_options("#f-cpu_model", opts(("", *models), "(choose)"), "")
        fw: list[tuple[str, str]] = [("BIOS", "bios")]
        if facts.uefi_offered:
            fw.append(("UEFI", "uefi"))
            note = ""
        else:
            note = "UEFI: not offered on this host (no OVMF firmware in its domain capabilities)"
        self._set_options("#f-firmware", fw, "bios")
        self.query_one("#firmware-note", Static).update(plain(note))
        machines = opts(("", *facts.machines), f"default ({facts.default_machine or '?'})")
        self._set_options("#f-machine", machines, "")
        pools = [(f"{n}" + ("" if active else " (inactive)"), n) for n, active in facts.pools]
        self._set_options("#f-d-pool", pools, pools[0][1] if pools else None)
        self._upload_options(facts)
        nets = [
            (f"{n}" + ("" if active else " (inactive: started on create)"), n)
            for n, active in facts.networks
        ]
        default_net = (
            "default" if any(n == "default" for _l, n in nets) else (nets[0][1] if nets else None)
        )
        self._set_options("#f-net", nets, default_net)
        self._set_options(
            "#f-bridge",
            [(b, b) for b in facts.bridges],
            facts.bridges[0] if facts.bridges else None,
        )
        why = facts.bridges_why or ("" if facts.bridges else "no bridges on this host")
        self.query_one("#bridge-note", Static).update(plain(why))
        for disk in self.disks:
            if disk.kind == "new" and not disk.pool and facts.pools:
                disk.pool = facts.pools[0][0]
        self.fill(self._initial or self.base, defaults_only=self._initial is None)

    def _osdb_ready(self, db: osinfo.OsDb) -> None:
        self.osdb = db
        if self._initial is not None:
            self._choose_os_text(self._initial.os_variant, apply_defaults=False)
        self._search(self.query_one("#f-os", Input).value)

    def _set_options(
        self, selector: str, options: list[tuple[str, str]], value: str | None
    ) -> None:
        sel = self.query_one(selector, Select)
        sel.set_options(options)
        if value is not None and any(v == value for _l, v in options):
            sel.value = value

    # ------------------------------------------------------------------ steps
    def _show_step(self) -> None:
        self.query_one(ContentSwitcher).current = f"step-{self.step}"
        line = Text()
        for i, name in enumerate(STEPS):
            style = "reverse bold" if i == self.step else ""
            if any(locate(p).step == i for p in self.errors):
                style += " red" if style else "red"
            line.append(f" {i + 1} {name} ", style=style)
        self.query_one("#cw-steps", Static).update(line)
        self.query_one("#nav-back", Button).disabled = self.step == 0
        self.query_one("#nav-next", Button).display = self.step < SUMMARY_STEP
        self.query_one("#nav-create", Button).display = self.step == SUMMARY_STEP
        self._update_visibility()
        if self.step == SUMMARY_STEP:
            self.refresh_summary()

    def go(self, step: int) -> None:
        self.step = max(0, min(step, SUMMARY_STEP))
        self._show_step()
        first = self.query_one(f"#step-{self.step}").query(
            "Input, Select, OptionList, TextArea, Checkbox"
        )
        for w in first:
            if w.display and w.focusable:
                w.focus()
                break

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "create":
            return self.step == SUMMARY_STEP  # only in the summary's footer (and key)
        if action == "next":
            return self.step < SUMMARY_STEP
        return True

    # ------------------------------------------------------------------ file browser
    def action_browse(self) -> None:
        """The host's file browser for the focused path field; the highlighted file fills it
        when the browser is closed (escape)."""
        from virttui.screens.storage.files import DEFAULT_DIR, FileBrowserScreen

        focused = self.app.focused
        if not isinstance(focused, Input) or focused.id not in PATH_FIELDS:
            self.app.notify(
                "ctrl+f picks a file for a path field (ISO, kernel, initrd, image, disk path)",
                markup=False,
            )
            return
        current = focused.value.strip()
        start = current.rsplit("/", 1)[0] if current.startswith("/") and "/" in current else ""
        here = next(
            (
                bool(self._value(f"#{wid}"))
                for inp, wid, _m in (*UPLOAD_INPUTS.values(), ("f-d-path", DISK_UPLOAD, ""))
                if inp == focused.id and self.remote
            ),
            False,
        )
        if here:  # a file on this machine, uploaded: browse this machine's files
            browser = FileBrowserScreen(self.uri, start or str(Path.home()), local_machine=True)
        else:
            browser = FileBrowserScreen(self.uri, start or DEFAULT_DIR)
        self._browsing = (browser, focused.id)
        self.app.push_screen(browser)

    def on_screen_resume(self) -> None:
        browsing, self._browsing = self._browsing, None
        if browsing is None:
            return
        from virttui.core.storage.files import join

        browser, field_id = browsing
        row = browser.current_row()
        if row is not None and row.entry.kind != "dir":
            field = self.query_one(f"#{field_id}", Input)
            field.value = join(browser.directory, row.name)
            field.focus()

    def action_next(self) -> None:
        if self.step < SUMMARY_STEP:
            self.go(self.step + 1)

    def unsaved_text(self) -> str:
        """Asked by the app's quit (q where no field takes it): the answers would be lost."""
        return "the new-domain wizard's answers are not saved"

    def action_back(self) -> None:
        if self.step > 0:
            self.go(self.step - 1)
            return

        def leave(ok: bool | None) -> None:
            if ok:
                self.dismiss(None)

        self.app.push_screen(
            LeaveScreen("Leave the new-domain wizard? Your answers are lost.", "Leave"), leave
        )

    @on(Button.Pressed, "#nav-back")
    def _nav_back(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#nav-next")
    def _nav_next(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#nav-create")
    def _nav_create(self) -> None:
        self.action_create()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "f-os":
            self._pick_highlighted_os()
        event.stop()
        self.action_next()

    def on_click(self, event: Any) -> None:
        widget = getattr(event, "widget", None)
        if widget is not None and widget.id == "cw-steps":
            x = event.x
            pos = 0
            for i, name in enumerate(STEPS):
                pos += len(name) + 3
                if x < pos:
                    self.go(i)
                    return

    # ------------------------------------------------------------------ OS search
    @on(Input.Changed, "#f-os")
    def _os_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, text: str) -> None:
        results = self.query_one("#os-results", OptionList)
        results.clear_options()
        if self.osdb is None:
            return
        if self.os_entry is not None and text.strip() == self.os_entry.short_id:
            results.display = False  # the chosen OS: nothing to pick
            return
        found = self.osdb.search(text, limit=SEARCH_LIMIT) if text.strip() else []
        for entry in found:
            label = Text()
            append_plain(label, entry.short_id, "bold")
            label.append("  ")
            append_plain(label, entry.name)
            results.add_option(Option(label, id=entry.short_id))
        results.display = bool(found)

    def _pick_highlighted_os(self) -> None:
        results = self.query_one("#os-results", OptionList)
        if results.option_count and results.display:
            index = results.highlighted if results.highlighted is not None else 0
            option = results.get_option_at_index(index)
            if option.id is not None:
                self._choose_os_text(option.id)
                return
        self._choose_os_text(self.query_one("#f-os", Input).value)

    @on(OptionList.OptionSelected, "#os-results")
    def _os_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self._choose_os_text(event.option.id)

    def _choose_os_text(self, text: str, *, apply_defaults: bool = True) -> None:
        if self.osdb is None:
            return
        text = text.strip() or "generic"
        choice = self.osdb.nearest(text)
        self.os_entry = choice.entry
        self.os_note = choice.fallback
        with self.prevent(Input.Changed):
            self.query_one("#f-os", Input).value = choice.entry.short_id
        self.query_one("#os-results", OptionList).display = False
        label = Text()
        append_plain(label, choice.entry.name, "bold")
        if choice.fallback:
            label.append("\n")
            append_plain(label, choice.fallback, "yellow")
        if apply_defaults:
            self.apply_os_defaults()
            d = osinfo.defaults(choice.entry, self._arch())
            label.append("\n")
            append_plain(label, "; ".join(d.notes))
        self.query_one("#os-label", Static).update(label)

    def _arch(self) -> str:
        return self.base.arch

    def apply_os_defaults(self) -> None:
        entry = self.os_entry
        arch = self._arch()
        d = osinfo.defaults(entry, arch)
        self._set_input("#f-memory", memory_text(d.memory))
        self._set_input("#f-vcpus", str(d.vcpus))
        machine = self.query_one("#f-machine", Select).value
        machine_name = str(machine) if isinstance(machine, str) and machine else ""
        if not machine_name and self.facts is not None:
            if osinfo.supports_q35(entry) and "q35" in self.facts.machines:
                machine_name = "q35"
                self.query_one("#f-machine", Select).value = "q35"
            else:
                machine_name = self.facts.default_machine
        dev = osinfo.device_defaults(entry, machine_name or "pc")
        self._save_editor()
        for i, disk in enumerate(self.disks):
            if disk.device == "disk":
                disk.bus = dev.disk_bus
                if disk.kind == "new" and i == 0:
                    disk.size = size_text(d.disk)
            else:
                disk.bus = dev.cdrom_bus
        self.query_one("#f-nic_model", Select).value = dev.net_model
        self.base = dataclasses.replace(
            self.base, virtio_extras=bool(osinfo.supports_virtio(entry))
        )
        needs = osinfo.firmware_needs(entry, arch)
        if needs.requires_efi and self.facts is not None and self.facts.uefi_offered:
            self.query_one("#f-firmware", Select).value = "uefi"
        self._load_editor()

    def _set_input(self, selector: str, value: str) -> None:
        self.query_one(selector, Input).value = value

    # ------------------------------------------------------------------ visibility
    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("f-d-"):
            self._save_editor()
            self._refresh_disk_list()
        self._update_visibility()

    @on(Input.Changed, "#f-name")
    def _name_changed(self, event: Input.Changed) -> None:
        """New volumes named after the domain follow the name until edited."""
        name = event.value.strip()
        changed = False
        for i, disk in enumerate(self.disks):
            if disk.kind == "new" and disk.name in ("", *self._auto_names(i)):
                disk.name = self._volume_name(name, i)
                changed = True
        self._last_name = name
        if changed:
            self._load_editor()

    def _volume_name(self, name: str, index: int) -> str:
        if not name:
            return ""
        return f"{name}.qcow2" if index == 0 else f"{name}-{index}.qcow2"

    def _auto_names(self, index: int) -> tuple[str, ...]:
        return (self._volume_name(self._last_name, index),)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("f-d-"):
            self._save_editor()
            self._refresh_disk_list()

    @on(TickBox.Changed)
    def _tick_changed(self, event: TickBox.Changed) -> None:
        if event.checkbox.id and event.checkbox.id.startswith("f-d-"):
            self._save_editor()
            self._refresh_disk_list()

    def _value(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else ""

    def _update_visibility(self) -> None:
        method = self._value("#f-install")
        for kind in ("cdrom", "location", "kernel", "cloud"):
            self.query_one(f"#grp-{kind}").display = method == kind
        notes = {
            "pxe": "The guest boots from the network first (the NIC's network needs a PXE server).",
            "import": "The first disk boots as it is: add it on the Disks step (existing path or volume).",
            "cloud": "",
        }
        self.query_one("#install-note", Static).update(plain(notes.get(method, "")))
        for _input, wid, _method in UPLOAD_INPUTS.values():
            self.query_one(f"#row-{wid}").display = self.remote
        cpu_mode = self._value("#f-cpu_mode")
        self.query_one("#row-f-cpu_model").display = cpu_mode == "custom"
        self.query_one("#row-f-secure_boot").display = self._value("#f-firmware") == "uefi"
        nic = self._value("#f-nic")
        self.query_one("#row-f-net").display = nic == "network"
        self.query_one("#net-note").display = nic == "network"
        self.query_one("#row-f-bridge").display = nic == "bridge"
        self.query_one("#bridge-note").display = nic == "bridge"
        self.query_one("#row-f-nic_model").display = nic != "none"
        self.query_one("#row-f-mac").display = nic != "none"
        if nic == "network" and self.facts is not None:
            net = self._value("#f-net")
            inactive = any(n == net and not a for n, a in self.facts.networks)
            note = (
                f"network {net!r} is not running: Create starts it (it stays running)"
                if inactive
                else ""
            )
            self.query_one("#net-note", Static).update(plain(note))
        graphics = self._value("#f-graphics")
        for f in ("listen", "port", "gpassword", "keymap"):
            self.query_one(f"#row-f-{f}").display = graphics != "none"
        kind = self._value("#f-d-kind")
        for wid, shown in (
            ("pool", kind in ("new", "volume")),
            ("vname", kind == "new"),
            ("size", kind == "new"),
            ("format", kind == "new"),
            ("prealloc", kind == "new"),
            ("path", kind == "path"),
            ("up", kind == "path" and self.remote),
            ("volume", kind == "volume"),
        ):
            self.query_one(f"#row-f-d-{wid}").display = shown
        self.query_one("#disk-editor").display = bool(self.disks)

    # ------------------------------------------------------------------ disks
    def _refresh_disk_list(self) -> None:
        lst = self.query_one("#disk-list", OptionList)
        lst.clear_options()
        for i, disk in enumerate(self.disks):
            label = plain(disk.label(i))
            if any(p.startswith(f"disks[{i}]") for p in self.errors):
                label.stylize("red")
            lst.add_option(Option(label, id=f"disk-{i}"))
        if self.disks:
            lst.highlighted = min(self.disk_index, len(self.disks) - 1)
        if not self.disks:
            lst.add_option(
                Option(Text("no disks (add one, or boot from the network)"), disabled=True)
            )

    def _save_editor(self) -> None:
        if self._loading_editor or not self.disks or not self.is_mounted:
            return
        d = self.disks[self.disk_index]
        d.kind = self._value("#f-d-kind") or "new"
        d.pool = self._value("#f-d-pool")
        d.name = self.query_one("#f-d-vname", Input).value
        d.size = self.query_one("#f-d-size", Input).value
        d.format = self._value("#f-d-format") or "qcow2"
        d.preallocation = self._value("#f-d-prealloc") or "off"
        d.path = self.query_one("#f-d-path", Input).value
        d.volume = self.query_one("#f-d-volume", Input).value
        d.device = self._value("#f-d-device") or "disk"
        d.bus = self._value("#f-d-bus") or "virtio"
        d.cache = self._value("#f-d-cache")
        d.io = self._value("#f-d-io")
        d.readonly = self.query_one("#f-d-readonly", TickBox).value
        d.shareable = self.query_one("#f-d-shareable", TickBox).value
        d.upload_pool = self._value(f"#{DISK_UPLOAD}") if self.remote else ""

    def _load_editor(self) -> None:
        if not self.disks:
            self._refresh_disk_list()
            self._update_visibility()
            return
        self.disk_index = max(0, min(self.disk_index, len(self.disks) - 1))
        d = self.disks[self.disk_index]
        self._loading_editor = True
        try:
            with self.prevent(Input.Changed, Select.Changed, TickBox.Changed):
                self.query_one("#f-d-kind", Select).value = d.kind
                pool_sel = self.query_one("#f-d-pool", Select)
                pools = [n for n, _a in (self.facts.pools if self.facts else ())]
                if d.pool and d.pool not in pools:
                    pool_sel.set_options([(p, p) for p in (*pools, d.pool)])
                if d.pool:
                    pool_sel.value = d.pool
                self.query_one("#f-d-vname", Input).value = d.name
                self.query_one("#f-d-size", Input).value = d.size
                self.query_one("#f-d-format", Select).value = d.format
                self.query_one("#f-d-prealloc", Select).value = d.preallocation
                self.query_one("#f-d-path", Input).value = d.path
                self.query_one("#f-d-volume", Input).value = d.volume
                self.query_one("#f-d-device", Select).value = d.device
                self.query_one("#f-d-bus", Select).value = d.bus
                self.query_one("#f-d-cache", Select).value = d.cache
                self.query_one("#f-d-io", Select).value = d.io
                self.query_one("#f-d-readonly", TickBox).value = d.readonly
                self.query_one("#f-d-shareable", TickBox).value = d.shareable
                if d.upload_pool:
                    self._set_upload(DISK_UPLOAD, d.upload_pool)
                else:
                    self.query_one(f"#{DISK_UPLOAD}", Select).value = ""
        finally:
            self._loading_editor = False
        self._refresh_disk_list()
        self._show_disk_errors()
        self._update_visibility()

    @on(OptionList.OptionHighlighted, "#disk-list")
    def _disk_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        oid = event.option.id or ""
        if oid.startswith("disk-"):
            index = int(oid[5:])
            if index != self.disk_index:
                self._save_editor()
                self.disk_index = index
                self._load_editor()

    def _default_volume_name(self) -> str:
        name = self.query_one("#f-name", Input).value.strip() or "disk"
        taken = {d.name for d in self.disks}
        for n in range(len(self.disks) + 1):
            candidate = f"{name}.qcow2" if n == 0 else f"{name}-{n}.qcow2"
            if candidate not in taken:
                return candidate
        return f"{name}-x.qcow2"

    @on(Button.Pressed, "#disk-add")
    def action_add_disk(self) -> None:
        self._save_editor()
        pool = self.facts.pools[0][0] if self.facts and self.facts.pools else ""
        bus = self.disks[0].bus if self.disks and self.disks[0].device == "disk" else "virtio"
        self.disks.append(
            DiskForm(pool=pool, name=self._default_volume_name(), size="10G", bus=bus)
        )
        self.disk_index = len(self.disks) - 1
        self._load_editor()

    @on(Button.Pressed, "#disk-add-cdrom")
    def action_add_cdrom(self) -> None:
        self._save_editor()
        bus = self._value("#f-cdrom_bus") or "sata"
        self.disks.append(DiskForm(kind="path", device="cdrom", bus=bus, readonly=True))
        self.disk_index = len(self.disks) - 1
        self._load_editor()

    @on(Button.Pressed, "#disk-remove")
    def action_remove_disk(self) -> None:
        if self.disks:
            del self.disks[self.disk_index]
            self.disk_index = max(0, self.disk_index - 1)
            self._load_editor()

    def _show_disk_errors(self) -> None:
        prefix = f"disks[{self.disk_index}]"
        shown: dict[str, str] = {}
        for path, msg in self.errors.items():
            if path == prefix or path.startswith(prefix + "."):
                place = locate(path)
                shown.setdefault(place.widget, msg)
        for err in self.query("#disk-editor .cw-error"):
            wid = (err.id or "")[4:]
            self._set_error(err, shown.get(wid, ""))

    # ------------------------------------------------------------------ form <-> spec
    def fill(self, spec: CreateSpec, *, defaults_only: bool = False) -> None:
        """Every step from a spec (a preset, or the initial answers)."""
        self.base = spec
        if defaults_only:
            self._set_input("#f-memory", memory_text(spec.memory_bytes))
            self._set_input("#f-vcpus", str(spec.vcpus))
            self._load_editor()
            self._update_visibility()
            return
        self._set_input("#f-name", spec.name)
        with self.prevent(Input.Changed):
            self._set_input("#f-os", spec.os_variant)
        if self.osdb is not None:
            self._choose_os_text(spec.os_variant, apply_defaults=False)
        inst = spec.install
        self.query_one("#f-install", Select).value = inst.kind
        for wid in (
            "f-iso_path",
            "f-iso_volume",
            "f-location",
            "f-loc_kernel",
            "f-loc_initrd",
            "f-extra_args",
            "f-kernel",
            "f-initrd",
            "f-cmdline",
            "f-base_image",
            "f-hostname",
            "f-user",
            "f-password",
            "f-packages",
        ):
            self._set_input(f"#{wid}", "")
        for area in ("f-ssh_keys", "f-extra_user_data", "f-network_config"):
            self.query_one(f"#{area}", TextArea).text = ""
        self.query_one("#f-sudo", TickBox).value = True
        self.query_one("#f-ssh_password_login", TickBox).value = False
        if isinstance(inst, CdromInstall):
            self._set_input("#f-iso_path", inst.iso_path or "")
            if inst.pool or inst.volume:
                self._set_input("#f-iso_volume", f"{inst.pool or ''}/{inst.volume or ''}")
        elif isinstance(inst, LocationInstall):
            self._set_input("#f-location", inst.location)
            self._set_input("#f-loc_kernel", inst.kernel)
            self._set_input("#f-loc_initrd", inst.initrd)
            self._set_input("#f-extra_args", inst.extra_args)
        elif isinstance(inst, KernelBoot):
            self._set_input("#f-kernel", inst.kernel)
            self._set_input("#f-initrd", inst.initrd)
            self._set_input("#f-cmdline", inst.cmdline)
        elif isinstance(inst, CloudImageInstall):
            self._set_input("#f-base_image", inst.base_image)
            self._set_input("#f-hostname", inst.seed.hostname)
            self._set_input("#f-user", inst.seed.user)
            self._set_input("#f-packages", " ".join(inst.seed.packages))
            self.query_one("#f-ssh_keys", TextArea).text = "\n".join(inst.seed.ssh_keys)
            self.query_one("#f-sudo", TickBox).value = inst.seed.sudo
            self.query_one("#f-ssh_password_login", TickBox).value = inst.seed.ssh_password_login
            self.query_one("#f-extra_user_data", TextArea).text = inst.seed.extra_user_data
            self.query_one("#f-network_config", TextArea).text = inst.seed.network_config
            if inst.seed.password_hash:
                self._hashes[""] = inst.seed.password_hash  # kept unless a password is typed
        self._set_input("#f-memory", memory_text(spec.memory_bytes))
        self._set_input(
            "#f-max_memory",
            "" if spec.max_memory_bytes is None else memory_text(spec.max_memory_bytes),
        )
        self._set_input("#f-vcpus", str(spec.vcpus))
        self._set_input("#f-max_vcpus", "" if spec.max_vcpus is None else str(spec.max_vcpus))
        t = spec.topology
        self._set_input("#f-sockets", "" if t is None else str(t.sockets))
        self._set_input("#f-cores", "" if t is None else str(t.cores))
        self._set_input("#f-threads", "" if t is None else str(t.threads))
        self.query_one("#f-cpu_mode", Select).value = spec.cpu.mode
        if spec.cpu.model:
            sel = self.query_one("#f-cpu_model", Select)
            models = self.facts.cpu_models if self.facts else ()
            if spec.cpu.model not in models:
                sel.set_options(opts(("", *models, spec.cpu.model), "(choose)"))
            sel.value = spec.cpu.model
        fw = self.query_one("#f-firmware", Select)
        if spec.firmware.kind == "uefi" and not (self.facts and self.facts.uefi_offered):
            fw.set_options([("BIOS", "bios"), ("UEFI (not offered on this host)", "uefi")])
        fw.value = spec.firmware.kind
        self.query_one("#f-secure_boot", TickBox).value = spec.firmware.secure_boot
        msel = self.query_one("#f-machine", Select)
        if spec.machine:
            machines = self.facts.machines if self.facts else ()
            if spec.machine not in machines:
                default = self.facts.default_machine if self.facts else "?"
                msel.set_options(opts(("", *machines, spec.machine), f"default ({default})"))
            msel.value = spec.machine
        else:
            msel.value = ""
        self.disks = [form_from_disk(d) for d in spec.disks]
        self.disk_index = 0
        for disk_up in spec.uploads:
            index = upload_disk_index(disk_up.field)
            if index is not None and index < len(self.disks) and self.remote:
                self.disks[index].upload_pool = disk_up.pool
        self._set_input("#f-driver_iso", spec.driver_iso or "")
        for key, (_input, wid, _method) in UPLOAD_INPUTS.items():
            up = next((u for u in spec.uploads if u.field == key), None)
            if up is None:
                self.query_one(f"#{wid}", Select).value = ""
            else:
                self._set_upload(wid, up.pool)
        self.query_one("#f-cdrom_bus", Select).value = spec.cdrom_bus or ""
        self.query_one("#f-tpm", TickBox).value = spec.tpm
        if spec.nics:
            nic = spec.nics[0]
            self.query_one("#f-nic", Select).value = nic.source_type
            target = "#f-net" if nic.source_type == "network" else "#f-bridge"
            sel = self.query_one(target, Select)
            known = [v for _l, v in getattr(sel, "_options", []) if isinstance(v, str)]
            if nic.source not in known:
                sel.set_options([(v, v) for v in (*known, nic.source)])
            sel.value = nic.source
            self.query_one("#f-nic_model", Select).value = nic.model
            self._set_input("#f-mac", nic.mac or "")
        else:
            self.query_one("#f-nic", Select).value = "none"
        g = spec.graphics
        self.query_one("#f-graphics", Select).value = g.type
        self._set_input("#f-listen", g.listen or "")
        self._set_input("#f-port", "" if g.port is None else str(g.port))
        self._set_input("#f-gpassword", g.password or "")
        self._set_input("#f-keymap", g.keymap or "")
        self.query_one("#f-autostart", TickBox).value = spec.autostart
        self.query_one("#f-start_after", TickBox).value = spec.start_after
        self._load_editor()
        self._update_visibility()

    def _password_hash(self, password: str) -> str:
        if not password:
            return self._hashes.get("", "")
        if password not in self._hashes:
            from virttui.core.create.cloudinit import hash_password

            self._hashes[password] = hash_password(password)
        return self._hashes[password]

    def collect(self) -> tuple[CreateSpec | None, dict[str, str]]:
        """The answers as a spec, and every message: what cannot be read, then `validate()`."""
        self._save_editor()
        errors: dict[str, str] = {}

        def text(wid: str) -> str:
            return self.query_one(f"#{wid}", Input).value

        def integer(wid: str, path: str, what: str, optional: bool = False) -> int | None:
            raw = text(wid).strip()
            if not raw and optional:
                return None
            try:
                return int(raw)
            except ValueError:
                errors[path] = f"{what}: a whole number" + (", or empty" if optional else "")
                return None

        def memory(wid: str, path: str, what: str, optional: bool = False) -> int | None:
            raw = text(wid).strip()
            if not raw and optional:
                return None
            try:
                return parse_memory(raw, what)
            except ValueError as e:
                errors[path] = str(e)
                return None

        mem = memory("f-memory", "memory_bytes", "memory")
        max_mem = memory("f-max_memory", "max_memory_bytes", "maximum memory", optional=True)
        vcpus = integer("f-vcpus", "vcpus", "vCPUs")
        max_vcpus = integer("f-max_vcpus", "max_vcpus", "maximum vCPUs", optional=True)
        topo_raw = [text(w).strip() for w in ("f-sockets", "f-cores", "f-threads")]
        topology: Topology | None = None
        if any(topo_raw):
            try:
                s, c, t = (int(v) for v in topo_raw)
                topology = Topology(s, c, t)
            except ValueError:
                errors["topology"] = "sockets, cores and threads: three whole numbers, or all empty"
        method = self._value("#f-install") or "cdrom"
        install: Install
        if method == "cdrom":
            iso = text("f-iso_path").strip()
            vol = text("f-iso_volume").strip()
            pool, _sep, volume = vol.partition("/")
            if vol and not volume:
                errors["install.volume"] = "a pool volume is written pool/volume"
            install = CdromInstall(iso_path=iso or None, pool=pool or None, volume=volume or None)
        elif method == "location":
            install = LocationInstall(
                location=text("f-location").strip(),
                kernel=text("f-loc_kernel").strip(),
                initrd=text("f-loc_initrd").strip(),
                extra_args=text("f-extra_args"),
            )
        elif method == "pxe":
            install = PxeInstall()
        elif method == "import":
            install = ImportInstall()
        elif method == "kernel":
            install = KernelBoot(
                kernel=text("f-kernel").strip(),
                initrd=text("f-initrd").strip(),
                cmdline=text("f-cmdline"),
            )
        else:
            keys = tuple(
                line.strip()
                for line in self.query_one("#f-ssh_keys", TextArea).text.splitlines()
                if line.strip()
            )
            seed = CloudSeed(
                hostname=text("f-hostname").strip(),
                user=text("f-user").strip(),
                password_hash=self._password_hash(text("f-password")),
                ssh_keys=keys,
                packages=tuple(text("f-packages").replace(",", " ").split()),
                sudo=self.query_one("#f-sudo", TickBox).value,
                ssh_password_login=self.query_one("#f-ssh_password_login", TickBox).value,
                extra_user_data=self._yaml_text("f-extra_user_data"),
                network_config=self._yaml_text("f-network_config"),
            )
            install = CloudImageInstall(base_image=text("f-base_image").strip(), seed=seed)
        disks: list[Disk] = []
        for i, form in enumerate(self.disks):
            if method == "cloud" and i == 0 and form.kind == "new":
                form.backing = text("f-base_image").strip() or None
            elif form.backing is not None and method != "cloud":
                form.backing = None
            disk, problems = disk_from_form(form, f"disks[{i}]")
            errors.update(problems)
            if disk is not None:
                disks.append(disk)
        nics: tuple[Nic, ...] = ()
        nic_kind = self._value("#f-nic")
        if nic_kind in ("network", "bridge"):
            source = self._value("#f-net" if nic_kind == "network" else "#f-bridge")
            mac = text("f-mac").strip()
            if mac and (msg := mac_problem(mac)) is not None:
                errors["nics[0].mac"] = msg
            nics = (
                Nic(
                    source_type=cast(Any, nic_kind),
                    source=source,
                    model=cast(Any, self._value("#f-nic_model") or "virtio"),
                    mac=mac or None,
                ),
            )
        gtype = self._value("#f-graphics") or "vnc"
        port = None
        if gtype != "none":
            port = integer("f-port", "graphics.port", "port", optional=True)
        graphics = Graphics(
            type=cast(Any, gtype),
            listen=(text("f-listen").strip() or None) if gtype != "none" else None,
            port=port,
            password=(text("f-gpassword") or None) if gtype != "none" else None,
            keymap=(text("f-keymap").strip() or None) if gtype != "none" else None,
        )
        cpu_mode = self._value("#f-cpu_mode") or "default"
        cpu_model = self._value("#f-cpu_model") if cpu_mode == "custom" else ""
        driver_iso = text("f-driver_iso").strip()
        uploads: list[LocalUpload] = []
        if self.remote:
            for key, (_input, wid, for_method) in UPLOAD_INPUTS.items():
                pool = self._value(f"#{wid}")
                if pool and (not for_method or for_method == method):
                    uploads.append(LocalUpload(cast(Any, key), pool))
            for i, form in enumerate(self.disks):
                if form.kind == "path" and form.upload_pool:
                    uploads.append(LocalUpload(disk_upload_field(i), form.upload_pool))
        facts = self.facts
        video = self.base.video  # not asked: the preset's, else the spec's default
        try:
            spec = dataclasses.replace(
                self.base,
                name=text("f-name"),
                memory_bytes=mem if mem is not None else 0,
                max_memory_bytes=max_mem,
                vcpus=vcpus if vcpus is not None else 0,
                max_vcpus=max_vcpus,
                topology=topology,
                domain_type=facts.domain_type if facts else self.base.domain_type,
                domain_type_reason=facts.domain_type_reason
                if facts
                else self.base.domain_type_reason,
                arch=self.base.arch,
                machine=self._value("#f-machine") or None,
                cpu=Cpu(mode=cast(Any, cpu_mode), model=cpu_model or None),
                firmware=Firmware(
                    kind=cast(Any, self._value("#f-firmware") or "bios"),
                    secure_boot=self.query_one("#f-secure_boot", TickBox).value
                    and self._value("#f-firmware") == "uefi",
                ),
                install=install,
                os_variant=self.os_entry.short_id
                if self.os_entry
                else (text("f-os").strip() or "generic"),
                disks=tuple(disks),
                nics=nics,
                graphics=graphics,
                video=video,
                tpm=self.query_one("#f-tpm", TickBox).value,
                driver_iso=driver_iso or None,
                cdrom_bus=cast(Any, self._value("#f-cdrom_bus") or None),
                autostart=self.query_one("#f-autostart", TickBox).value,
                start_after=self.query_one("#f-start_after", TickBox).value,
                uploads=tuple(uploads),
            )
        except (TypeError, ValueError) as e:  # pragma: no cover - defensive
            errors["xml"] = str(e)
            return None, errors
        for path, msg in spec.validate().items():
            errors.setdefault(path, msg)
        for path, msg in seed_problems(spec).items():  # what the host check refuses too
            errors.setdefault(path, msg)
        if spec.name in (facts.domain_names if facts else ()):
            errors.setdefault("name", f"a domain named {spec.name!r} already exists on this host")
        return spec, errors

    def _yaml_text(self, wid: str) -> str:
        """A YAML answer as typed ("" when it holds only blanks: no file, no merge)."""
        raw = self.query_one(f"#{wid}", TextArea).text
        return raw if raw.strip() else ""

    # ------------------------------------------------------------------ errors
    def _set_error(self, widget: Widget, message: str) -> None:
        if isinstance(widget, Static):
            widget.update(plain(message))
            widget.display = bool(message)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Every message next to its field (disk messages when that disk is in the editor)."""
        self._place_errors(dict(errors))
        self._refresh_disk_list()
        self._show_step()

    def place_of(self, path: str) -> Place:
        return locate(
            path, install_kind=self._value("#f-install"), nic_source_type=self._value("#f-nic")
        )

    def jump_to(self, path: str) -> Widget | None:
        """Go to the step and focus the widget of a field path; the widget (None: none)."""
        place = self.place_of(path)
        if place.disk is not None and place.disk < len(self.disks):
            self._save_editor()
            self.disk_index = place.disk
            self._load_editor()
        self.step = place.step
        self._show_step()
        found = self.query(f"#{place.widget}")
        if not found:
            return None
        widget = found.first()
        if widget.focusable:
            widget.focus()
        if isinstance(widget, TextArea) and not widget.read_only:
            # a YAML message names its line: put the cursor there
            at = _LINE_COLUMN.search(self.errors.get(path, ""))
            if at is not None:
                widget.move_cursor((int(at.group(1)) - 1, int(at.group(2)) - 1))
        # the field's row holds its note and its message below it: all of it in view. A step
        # just shown has no layout yet (its widgets are not placed before the screen's next
        # layout pass, which comes after the refresh callbacks): scroll again a moment later.
        row = self.query(f"#row-{place.widget}")
        target = row.first() if row else widget
        target.scroll_visible(animate=False)
        self.set_timer(0.02, lambda: target.scroll_visible(animate=False))
        return widget

    # ------------------------------------------------------------------ summary
    def refresh_summary(self) -> None:
        spec, errors = self.collect()
        for k, v in self._plan_problems(spec).items():
            errors.setdefault(k, v)
        self.show_errors_quiet(errors)
        status = self.query_one("#summary-status", Static)
        xml_view = self.query_one("#summary-xml", TextArea)
        checks = self.query_one("#summary-checks", OptionList)
        checks.clear_options()
        merged = dict(errors)
        if self.check_errors is not None:
            for k, v in self.check_errors.items():
                merged.setdefault(k, v)
        for path, msg in merged.items():
            place = self.place_of(path)
            label = Text(f"{STEPS[place.step]} · ", style="bold red")
            append_plain(label, f"{path}: {msg}")
            checks.add_option(Option(label, id=path))
        checks.display = bool(merged)
        if spec is None or self.facts is None:
            status.update(
                plain("Fix the fields above first." if spec is None else "Reading the host…")
            )
            return
        caps = self._caps_for(spec)
        shown, targets = self._planned(spec)
        try:
            xmls = build_domain_xmls(shown, caps)
        except ValueError as e:
            status.update(plain(f"cannot build the XML: {e}"))
            xml_view.text = ""
            return
        self.install_line = virt_install_line(shown, caps, uri=self.uri)
        parts = ["# virt-install equivalent (ctrl+y copies it)", self.install_line]
        parts += [f"# {note}" for note in upload_notes(spec, remote=self.remote, targets=targets)]
        parts += [f"# {note}" for note in self._format_notes(spec)]
        parts.append("")
        if xmls.install is not None:
            parts += ["<!-- first (install) boot, transient -->", xmls.install]
        parts += ["<!-- the definition -->", xmls.final]
        self.summary_text = "\n".join(parts)
        xml_view.text = self.summary_text
        if self.check_errors is None:
            msg = "Not checked against the host yet: ctrl+t checks (Create checks too)."
        elif merged:
            msg = f"{len(merged)} problem(s): enter on one jumps to its field."
        else:
            msg = "Host checks passed: Create makes the volumes, defines" + (
                " and starts the domain." if spec.start_after else " the domain."
            )
        status.update(plain(msg))

    # ------------------------------------------------------------------ uploads
    def _upload_key(self, spec: CreateSpec) -> tuple[object, ...]:
        uploads = tuple((u.field, u.pool, field_path(spec, u.field)) for u in spec.uploads)
        disks = tuple(
            (i, path, spec.disks[i].source) for i, path in open_format_disks(spec).items()
        )
        return uploads + disks

    def _planned(self, spec: CreateSpec) -> tuple[CreateSpec, tuple[UploadTarget, ...]]:
        """The spec as it will be defined: on a remote host each file uploaded first, its
        volume's path (and a disk image's format) in the XML and the line; on any host each
        existing disk whose format is left open in the format the host reads. Until the host
        said (`HostFacade.create_upload_plan`, a job started here), the paths come from the
        pools the wizard read at the start (and open formats stay open)."""
        uploading = self.remote and bool(spec.uploads)
        if not uploading and not open_format_disks(spec):
            return spec, ()
        key = self._upload_key(spec)
        if self.upload_plan is not None and self._plan_key == key:
            plan = self.upload_plan
            return planned_spec(spec, plan.targets, plan.disk_formats), plan.targets
        self._read_upload_plan(spec, key)
        facts = self.facts
        if not uploading or facts is None:  # existing disks only: their formats once read
            return spec, ()
        targets = upload_targets(spec, dict(facts.pool_targets), dict(facts.pool_types))
        return planned_spec(spec, targets), targets

    def _format_notes(self, spec: CreateSpec) -> tuple[str, ...]:
        """What the host's reading of the existing disks assumed (raw by default...)."""
        if self.upload_plan is None or self._plan_key != self._upload_key(spec):
            return ()
        return self.upload_plan.notes

    def _plan_problems(self, spec: CreateSpec | None) -> dict[str, str]:
        """What the host's plan found (a disk image that cannot be uploaded alone)."""
        if spec is None or self.upload_plan is None or self._plan_key != self._upload_key(spec):
            return {}
        return dict(self.upload_plan.problems)

    def _read_upload_plan(self, spec: CreateSpec, key: tuple[object, ...]) -> None:
        if self._plan_reading == key:
            return
        self._plan_reading = key
        remote = self.remote

        def done(plan: UploadPlan) -> None:
            self._plan_reading = None
            self.upload_plan, self._plan_key = plan, key
            if self.is_attached and self.step == SUMMARY_STEP:
                self.refresh_summary()

        def failed(_message: str) -> None:
            self._plan_reading = None

        started = host_job(
            self.app,
            self.uri,
            "Read where the files are uploaded",
            lambda facade: facade.create_upload_plan(spec, remote=remote),
            done,
            failed=failed,
            mutating=False,
        )
        if started is None:
            self._plan_reading = None

    def show_errors_quiet(self, errors: dict[str, str]) -> None:
        merged = dict(errors)
        if self.check_errors is not None:
            for k, v in self.check_errors.items():
                merged.setdefault(k, v)
        self._place_errors(merged)

    def _place_errors(self, errors: dict[str, str]) -> None:
        """`errors` become the wizard's: each message under its field (disks: in the editor)."""
        self.errors = errors
        for err in self.query(".cw-error"):
            self._set_error(err, "")
        kind = self._value("#f-install")
        nic = self._value("#f-nic")
        for path, msg in errors.items():
            place = locate(path, install_kind=kind, nic_source_type=nic)
            if place.disk is not None:
                continue
            target = self.query(f"#err-{place.widget}")
            if target:
                self._set_error(target.first(), msg)
        self._show_disk_errors()

    def _caps_for(self, spec: CreateSpec) -> CreateCaps:
        if self.caps is not None:
            return self.caps
        facts = self.facts
        domcaps = facts.domcaps if facts else None
        if domcaps is not None:
            return CreateCaps.from_domain_capabilities(
                domcaps,
                pool_targets=dict(facts.pool_targets) if facts else None,
                pool_types=dict(facts.pool_types) if facts else None,
            )
        return CreateCaps(emulator="/usr/bin/qemu-system-x86_64", machine="pc")

    @on(OptionList.OptionSelected, "#summary-checks")
    def _check_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.jump_to(event.option.id)

    def action_copy_line(self) -> None:
        if self.step != SUMMARY_STEP:
            self.refresh_summary()
        if self.install_line:
            self.app.copy_to_clipboard(self.install_line)
            self.app.notify("virt-install line copied to the clipboard", markup=False)

    def action_check(self, then_create: bool = False) -> None:
        spec, errors = self.collect()
        if spec is None or errors:
            self.creating = False
            self.check_errors = None
            self.go(SUMMARY_STEP)
            self.show_errors(errors)
            self.refresh_summary()
            return
        self.query_one("#summary-status", Static).update(plain("Checking against the host…"))
        remote = self.remote
        plans: list[UploadPlan] = []  # where the uploads go, read fresh with the check

        def done(result: tuple[dict[str, str], CreateCaps | None]) -> None:
            self.check_errors, caps = result
            if caps is not None:
                self.caps = caps
            if plans:
                self.upload_plan, self._plan_key = plans[0], self._upload_key(spec)
            if self.step != SUMMARY_STEP:
                self.go(SUMMARY_STEP)
            self.refresh_summary()
            if then_create and not self.check_errors:
                _start_create(self, self.uri, spec)
            elif then_create:
                self.creating = False

        def job(facade: HostFacade) -> tuple[dict[str, str], CreateCaps | None]:
            problems = facade.create_check(spec)
            caps: CreateCaps | None = None
            try:
                caps = facade.create_facts(spec).caps
            except Exception:  # noqa: BLE001 - the preview falls back to the domain caps
                caps = None
            if remote and spec.uploads:
                with contextlib.suppress(Exception):  # the preview keeps the paths it had
                    plans.append(facade.create_upload_plan(spec, remote=True))
            return problems, caps

        def failed(_message: str) -> None:
            self.creating = False

        started = host_job(
            self.app, self.uri, "Check the new domain", job, done, failed=failed, mutating=False
        )
        if started is None:
            self.creating = False

    def action_create(self) -> None:
        if self.creating:
            return  # a check or a create is under way: one at a time
        self.creating = True
        self.action_check(then_create=True)

    def action_save_preset(self) -> None:
        save_preset_flow(self)

    def action_load_preset(self) -> None:
        load_preset_flow(self)

    # ------------------------------------------------------------------ create results
    def create_progress(self, message: JobProgress) -> None:
        pct = "" if message.fraction is None else f"{message.fraction * 100:.0f}% "
        self.query_one("#create-progress", Static).update(plain(f"Creating: {pct}{message.text}"))

    def create_done(self, result: Any) -> None:
        self.creating = False
        self.result = result
        name = getattr(result, "name", "")
        uuid = getattr(result, "uuid", "")
        started = getattr(result, "started", False)
        notes = list(getattr(result, "notes", ()))
        text = f"Domain {name!r} created" + (" and started" if started else "")
        if notes:
            text += "; " + "; ".join(notes)
        self.app.notify(text, title="Create domain", markup=False)
        if self.is_attached:
            self.dismiss(None)
        select = getattr(services(self.app), "select_domain", None)
        if callable(select) and uuid:
            select(self.uri, uuid)

    def create_failed(self, message: str) -> None:
        self.creating = False
        exc = self.create_error
        field = getattr(exc, "field", None)
        removed = tuple(getattr(exc, "removed", ()) or ())
        left = tuple(getattr(exc, "left", ()) or ())
        lines = [f"Create failed: {message}"]
        if removed:
            lines.append("Removed again: " + ", ".join(map(str, removed)))
        if left:
            lines.append("Could not remove: " + ", ".join(map(str, left)))
        self.query_one("#create-progress", Static).update(plain("\n".join(lines), multiline=True))
        if field:
            self.check_errors = {field: message}
            self.show_errors({**self.errors, field: message})
            self.jump_to(field)


def _start_create(screen: CreateWizardScreen, uri: str, spec: CreateSpec) -> Any:
    """THE wiring of Create: run the runner (the `create=` keyword, else the host facade's
    `create_domain`) as a job with visible progress; success closes the wizard and selects the
    new domain; failure keeps every answer and shows the error (and what rollback removed)."""
    facade = writable_host(screen.app, uri)
    if facade is None:
        screen.creating = False
        return None
    runner = screen.create_runner
    screen.creating = True
    screen.create_error = None
    screen.query_one("#create-progress", Static).update(plain("Creating…"))

    def run(ctx: JobContext) -> Any:
        try:
            if runner is not None:
                return runner(ctx, facade, spec)
            return facade.create_domain(ctx, spec)
        except BaseException as e:
            screen.create_error = e
            raise
        finally:
            facade.refresh_now()

    def failed(message: JobFailed) -> None:
        screen.create_failed(message.message)

    def done(message: JobDone) -> None:
        screen.create_done(message.result)

    return start_job(
        screen,
        run,
        title="Create domain",
        on_progress=screen.create_progress,
        on_done=done,
        on_failed=failed,
    )


def open_create_wizard(app: App[Any], uri: str | None = None) -> None:
    """Push the wizard for host `uri` (None: the first open host); refused with the reason on a
    read-only host."""
    hosts = services(app).hosts
    if uri is None:
        uri = next(iter(hosts), None)
    if uri is None:
        app.notify("No host is open: add one with C first", severity="warning", markup=False)
        return
    facade = writable_host(app, uri)
    if facade is None:
        return
    host = hosts.get(uri)
    label = getattr(host, "label", "") or uri
    app.push_screen(CreateWizardScreen(uri, host_label=label))


def save_preset_flow(screen: CreateWizardScreen) -> None:
    spec, errors = screen.collect()
    if spec is None:
        screen.show_errors(errors)
        screen.app.notify("Some answers cannot be read: fix them first", severity="warning")
        return
    if isinstance(spec.install, CloudImageInstall) and spec.install.seed.password_hash:
        seed = dataclasses.replace(spec.install.seed, password_hash="")
        spec = dataclasses.replace(spec, install=dataclasses.replace(spec.install, seed=seed))
        note = " (the password is not saved in presets)"
    else:
        note = ""
    # the VNC password is not saved either
    if spec.graphics.password:
        spec = dataclasses.replace(spec, graphics=dataclasses.replace(spec.graphics, password=None))
        note += " (the VNC password is not saved)"

    def write(path: str, overwrite: bool) -> None:
        try:
            screen.presets.save(spec, path, overwrite)
        except FileExistsError:
            ask_overwrite(path)
            return
        except (OSError, ValueError, JobError) as e:
            screen.app.notify(str(e), title="Save preset failed", severity="error", markup=False)
            return
        screen.preset_path = path
        screen.app.notify(f"Saved {path}{note}", title="Preset", markup=False)

    def ask_overwrite(path: str) -> None:
        def answer(ok: bool | None) -> None:
            if ok:
                write(path, True)

        screen.app.push_screen(ConfirmScreen(f"{path} exists. Overwrite it?", "Overwrite"), answer)

    def chosen(path: str | None) -> None:
        if not path:
            return
        if Path(path).exists():
            ask_overwrite(path)
        else:
            write(path, False)

    screen.app.push_screen(
        PathPrompt("Save the answers as a TOML preset", screen.preset_path), chosen
    )


def load_preset_flow(screen: CreateWizardScreen) -> None:
    def chosen(path: str | None) -> None:
        if not path:
            return
        try:
            spec = screen.presets.load(path)
        except (OSError, ValueError, JobError) as e:
            screen.app.notify(str(e), title="Load preset failed", severity="error", markup=False)
            return
        screen.preset_path = path
        screen.check_errors = None
        screen.fill(spec)
        screen.go(0)
        screen.app.notify(f"Loaded {path}", title="Preset", markup=False)

    screen.app.push_screen(PathPrompt("Load a TOML preset", screen.preset_path), chosen)
