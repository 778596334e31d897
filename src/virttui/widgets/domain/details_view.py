"""Renderables for the details screen: overview and device tables built from frozen snapshots.

Every libvirt-provided string (name, title, description, paths, models) goes into a
`rich.text.Text` as plain text (`widgets.plain`): nothing here is ever parsed as markup, and
control characters are shown as escapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from virttui.core.domain.model import (
    CharDeviceDef,
    ControllerDef,
    DiskDef,
    DomainDetails,
    GraphicsDef,
    NicDef,
)
from virttui.core.domain.states import describe_state
from virttui.core.host.stats import DomainRow
from virttui.widgets.common.plain import append_plain, plain

if TYPE_CHECKING:
    from virttui.core.domain.addresses import AddressReport

LABEL_STYLE = "bold"
MUTED = "dim"


def _grid(label_width: int) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=label_width, no_wrap=True, style=LABEL_STYLE)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def _text(value: object, empty: str = "-", *, multiline: bool = False) -> Text:
    if value is None or value == "":
        return plain(empty, style=MUTED)
    return plain(str(value), multiline=multiline)


def _yes_no(value: bool | None) -> Text:
    if value is None:
        return plain("unknown", style=MUTED)
    return plain("yes" if value else "no")


def iec(value: float | None) -> str:
    """1536 -> "1.5 KiB": the details screen has room for real unit names."""
    if value is None:
        return "-"
    v = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if round(abs(v), 1) < 1024 or unit == "TiB":
            return f"{int(v)} B" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    raise AssertionError("unreachable")


def _kib(kib: float | None) -> str:
    return "-" if kib is None else iec(kib * 1024)


def _cpu_text(details: DomainDetails) -> Text:
    cpu = details.definition.cpu
    text = plain(f"{cpu.vcpus_current} vCPU")
    if cpu.vcpus_max != cpu.vcpus_current:
        append_plain(text, f" (max {cpu.vcpus_max})")
    append_plain(text, ", mode ")
    append_plain(text, cpu.mode or "hypervisor default")
    if cpu.model:
        append_plain(text, ", model ")
        append_plain(text, cpu.model)
    topo = [
        (cpu.sockets, "sockets"),
        (cpu.dies, "dies"),
        (cpu.cores, "cores"),
        (cpu.threads, "threads"),
    ]
    if any(v is not None for v, _ in topo):
        text.append("\n")
        append_plain(text, " x ".join(f"{v} {n}" for v, n in topo if v is not None))
    return text


def _firmware_text(details: DomainDetails) -> Text:
    fw = details.definition.firmware
    text = plain(fw.kind.upper() if fw.kind else "BIOS")
    if fw.secure_boot:
        append_plain(text, ", secure boot")
    if fw.loader:
        text.append("\nloader ")
        append_plain(text, fw.loader)
    if fw.nvram:
        text.append("\nnvram ")
        append_plain(text, fw.nvram)
    return text


def state_text(details: DomainDetails | None, row: DomainRow | None) -> Text:
    """The live state: the list's latest poll when there is one, else what the details read."""
    if row is not None:
        return plain(describe_state(row.state, row.reason))
    if details is not None:
        return plain(describe_state(details.state, details.reason))
    return plain("unknown", style=MUTED)


def nic_addresses_text(nic: NicDef, report: AddressReport | None, active: bool) -> Text:
    """One NIC of the overview: model, network/bridge, MAC, then its addresses and sources."""
    text = plain(nic.model or "default model")
    append_plain(text, "  ")
    append_plain(text, nic.type)
    append_plain(text, " ")
    append_plain(text, nic.source_label or "-")
    text.append("  MAC ", style=MUTED)
    append_plain(text, nic.mac or "-")
    found = None
    if report is not None:
        found = next((n for n in report.nics if n.mac and n.mac == nic.mac.lower()), None)
    if not active:
        return text
    text.append("\n")
    if found is None:
        text.append("addresses not read yet" if report is None else "no address known", MUTED)
        return text
    if not found.addresses:
        text.append("no address known", style=MUTED)
        return text
    for index, addr in enumerate(found.addresses):
        if index:
            text.append("\n")
        append_plain(text, addr.label)
        append_plain(text, f" ({', '.join(addr.sources)})", style=MUTED)
    return text


def addresses_rows(
    details: DomainDetails, row: DomainRow | None, report: AddressReport | None
) -> list[tuple[str, Text]]:
    """The overview's NIC rows (every NIC, with addresses while the domain runs)."""
    active = row.active if row is not None else False
    rows = [
        (f"NIC {i}", nic_addresses_text(nic, report, active))
        for i, nic in enumerate(details.definition.nics)
    ]
    if active and report is not None and report.unavailable:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(report.unavailable.items()))
        rows.append(("Addr. sources", plain(why, style=MUTED)))
    return rows


def overview(
    details: DomainDetails, row: DomainRow | None, addresses: AddressReport | None = None
) -> RenderableType:
    d = details.definition
    grid = _grid(13)
    mem_current = row.mem_kib if row is not None and row.mem_kib else d.memory_current_kib
    rows: list[tuple[str, Text]] = [
        ("Name", plain(d.name)),
        ("Title", _text(d.title)),
        ("Description", _text(d.description, multiline=True)),
        ("UUID", plain(d.uuid)),
        ("State", state_text(details, row)),
        ("OS type", _text(d.os_type)),
        ("Arch", _text(d.arch)),
        ("Machine", _text(d.machine)),
        ("Emulator", _text(d.emulator)),
        ("Hypervisor", _text(d.domain_type)),
        ("CPU", _cpu_text(details)),
        ("Memory", plain(f"{_kib(mem_current)} current, {_kib(d.memory_max_kib)} max")),
        ("Boot order", _text(", ".join(d.boot_order))),
        ("Firmware", _firmware_text(details)),
        ("Autostart", _yes_no(details.autostart)),
        ("Persistent", _yes_no(details.persistent)),
        ("Managed save", _yes_no(details.has_managed_save)),
        ("Snapshots", _text(details.snapshot_count, "unknown")),
    ]
    rows += addresses_rows(details, row, addresses)
    for label, value in rows:
        grid.add_row(label, value)
    if not details.problems:
        return grid
    notes = Text("\nSome values could not be read:\n", style="bold")
    for problem in details.problems:
        append_plain(notes, f"  {problem}", style="")
        notes.append("\n")
    return Group(grid, notes)


def _section(title: str, count: int) -> Text:
    return plain(f"{title} ({count})", style="bold underline")


def _disk_text(disk: DiskDef, details: DomainDetails) -> Text:
    text = plain(f"{disk.bus or '?'} {disk.device}")
    for label, value in (("format", disk.format), ("cache", disk.cache), ("io", disk.io)):
        if value:
            append_plain(text, f"  {label} ")
            append_plain(text, value)
    if disk.readonly:
        append_plain(text, "  read-only")
    if disk.shareable:
        append_plain(text, "  shareable")
    text.append("\nsource ", style=MUTED)
    append_plain(text, disk.source_label or "(empty)")
    usage = details.usage_for(disk.target)
    if usage is not None:
        text.append("\nsize ", style=MUTED)
        append_plain(text, f"{iec(usage.capacity)}, allocated {iec(usage.allocation)}")
    return text


def _nic_text(nic: NicDef) -> Text:
    text = plain(nic.model or "default model")
    append_plain(text, "  ")
    append_plain(text, nic.type)
    append_plain(text, " ")
    append_plain(text, nic.source_label or "-")
    text.append("\nMAC ", style=MUTED)
    append_plain(text, nic.mac or "-")
    append_plain(text, "  link ", style=MUTED)
    append_plain(text, nic.link_state or "up")
    if nic.target_dev:
        append_plain(text, "  host dev ", style=MUTED)
        append_plain(text, nic.target_dev)
    return text


def _graphics_text(gfx: GraphicsDef) -> Text:
    # Never the password: the snapshot does not even hold it, only whether one is set.
    text = plain("listen ")
    append_plain(text, gfx.listen or "-")
    append_plain(text, "  port ")
    if gfx.port is not None:
        append_plain(text, str(gfx.port))
    else:
        append_plain(text, "auto" if gfx.autoport else "-")
    if gfx.tls_port is not None:
        append_plain(text, f"  tls port {gfx.tls_port}")
    if gfx.password_set:
        append_plain(text, "  password set")
    return text


def _chardev_text(dev: CharDeviceDef) -> Text:
    text = plain(dev.type)
    if dev.target_type:
        append_plain(text, " -> ")
        append_plain(text, dev.target_type)
    if dev.target_port is not None:
        append_plain(text, f" port {dev.target_port}")
    if dev.target_name:
        append_plain(text, " ")
        append_plain(text, dev.target_name)
    where = dev.path or ":".join(p for p in (dev.host, dev.service) if p)
    if where:
        append_plain(text, "  ")
        append_plain(text, where)
    return text


def _add_rows(parts: list[RenderableType], title: str, rows: Sequence[tuple[str, Text]]) -> None:
    parts.append(_section(title, len(rows)))
    if not rows:
        parts.append(plain("  none", style=MUTED))
    else:
        grid = _grid(max(8, *(len(label) for label, _ in rows)))
        for label, value in rows:
            grid.add_row(plain(label), value)
        parts.append(grid)
    parts.append(plain(""))


def devices(details: DomainDetails) -> RenderableType:
    d = details.definition
    parts: list[RenderableType] = []
    _add_rows(parts, "Disks", [(disk.target or "?", _disk_text(disk, details)) for disk in d.disks])
    _add_rows(
        parts, "Network interfaces", [(f"net{i}", _nic_text(n)) for i, n in enumerate(d.nics)]
    )
    _add_rows(parts, "Graphics", [(g.type, _graphics_text(g)) for g in d.graphics])
    _add_rows(parts, "Consoles and channels", [(c.kind, _chardev_text(c)) for c in d.chardevs])
    _add_rows(parts, "Controllers", list(_controller_rows(d.controllers)))
    return Group(*parts)


def _controller_rows(controllers: Iterable[ControllerDef]) -> Iterable[tuple[str, Text]]:
    for ctl in controllers:
        yield f"{ctl.type} {ctl.index}", _text(ctl.model, "default model")
