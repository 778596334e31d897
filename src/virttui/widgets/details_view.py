"""Renderables for the details screen: overview and device tables built from frozen snapshots.

Every libvirt-provided string (name, title, description, paths, models) goes into a
`rich.text.Text` as plain text: nothing here is ever parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from virttui.core.domain_model import (
    CharDeviceDef,
    ControllerDef,
    DiskDef,
    DomainDetails,
    GraphicsDef,
    NicDef,
)
from virttui.core.domain_states import describe_state
from virttui.core.stats import DomainRow

LABEL_STYLE = "bold"
MUTED = "dim"


def _grid(label_width: int) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=label_width, no_wrap=True, style=LABEL_STYLE)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def _text(value: object, empty: str = "-") -> Text:
    if value is None or value == "":
        return Text(empty, style=MUTED)
    return Text(str(value))


def _yes_no(value: bool | None) -> Text:
    if value is None:
        return Text("unknown", style=MUTED)
    return Text("yes" if value else "no")


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
    text = Text(f"{cpu.vcpus_current} vCPU")
    if cpu.vcpus_max != cpu.vcpus_current:
        text.append(f" (max {cpu.vcpus_max})")
    text.append(", mode ")
    text.append(cpu.mode or "hypervisor default")
    if cpu.model:
        text.append(", model ")
        text.append(cpu.model)
    topo = [
        (cpu.sockets, "sockets"),
        (cpu.dies, "dies"),
        (cpu.cores, "cores"),
        (cpu.threads, "threads"),
    ]
    if any(v is not None for v, _ in topo):
        text.append("\n")
        text.append(" x ".join(f"{v} {n}" for v, n in topo if v is not None))
    return text


def _firmware_text(details: DomainDetails) -> Text:
    fw = details.definition.firmware
    text = Text(fw.kind.upper() if fw.kind else "BIOS")
    if fw.secure_boot:
        text.append(", secure boot")
    if fw.loader:
        text.append("\nloader ")
        text.append(fw.loader)
    if fw.nvram:
        text.append("\nnvram ")
        text.append(fw.nvram)
    return text


def state_text(details: DomainDetails | None, row: DomainRow | None) -> Text:
    """The live state: the list's latest poll when there is one, else what the details read."""
    if row is not None:
        return Text(describe_state(row.state, row.reason))
    if details is not None:
        return Text(describe_state(details.state, details.reason))
    return Text("unknown", style=MUTED)


def overview(details: DomainDetails, row: DomainRow | None) -> RenderableType:
    d = details.definition
    grid = _grid(13)
    mem_current = row.mem_kib if row is not None and row.mem_kib else d.memory_current_kib
    rows: list[tuple[str, Text]] = [
        ("Name", Text(d.name)),
        ("Title", _text(d.title)),
        ("Description", _text(d.description)),
        ("UUID", Text(d.uuid)),
        ("State", state_text(details, row)),
        ("OS type", _text(d.os_type)),
        ("Arch", _text(d.arch)),
        ("Machine", _text(d.machine)),
        ("Emulator", _text(d.emulator)),
        ("Hypervisor", _text(d.domain_type)),
        ("CPU", _cpu_text(details)),
        ("Memory", Text(f"{_kib(mem_current)} current, {_kib(d.memory_max_kib)} max")),
        ("Boot order", _text(", ".join(d.boot_order))),
        ("Firmware", _firmware_text(details)),
        ("Autostart", _yes_no(details.autostart)),
        ("Persistent", _yes_no(details.persistent)),
        ("Managed save", _yes_no(details.has_managed_save)),
        ("Snapshots", _text(details.snapshot_count, "unknown")),
    ]
    for label, value in rows:
        grid.add_row(label, value)
    if not details.problems:
        return grid
    notes = Text("\nSome values could not be read:\n", style="bold")
    for problem in details.problems:
        notes.append(f"  {problem}\n", style="")
    return Group(grid, notes)


def _section(title: str, count: int) -> Text:
    return Text(f"{title} ({count})", style="bold underline")


def _disk_text(disk: DiskDef, details: DomainDetails) -> Text:
    text = Text(f"{disk.bus or '?'} {disk.device}")
    for label, value in (("format", disk.format), ("cache", disk.cache), ("io", disk.io)):
        if value:
            text.append(f"  {label} ")
            text.append(value)
    if disk.readonly:
        text.append("  read-only")
    if disk.shareable:
        text.append("  shareable")
    text.append("\nsource ", style=MUTED)
    text.append(disk.source_label or "(empty)")
    usage = details.usage_for(disk.target)
    if usage is not None:
        text.append("\nsize ", style=MUTED)
        text.append(f"{iec(usage.capacity)}, allocated {iec(usage.allocation)}")
    return text


def _nic_text(nic: NicDef) -> Text:
    text = Text(nic.model or "default model")
    text.append("  ")
    text.append(nic.type)
    text.append(" ")
    text.append(nic.source_label or "-")
    text.append("\nMAC ", style=MUTED)
    text.append(nic.mac or "-")
    text.append("  link ", style=MUTED)
    text.append(nic.link_state or "up")
    if nic.target_dev:
        text.append("  host dev ", style=MUTED)
        text.append(nic.target_dev)
    return text


def _graphics_text(gfx: GraphicsDef) -> Text:
    # Never the password: the snapshot does not even hold it, only whether one is set.
    text = Text("listen ")
    text.append(gfx.listen or "-")
    text.append("  port ")
    if gfx.port is not None:
        text.append(str(gfx.port))
    else:
        text.append("auto" if gfx.autoport else "-")
    if gfx.tls_port is not None:
        text.append(f"  tls port {gfx.tls_port}")
    if gfx.password_set:
        text.append("  password set")
    return text


def _chardev_text(dev: CharDeviceDef) -> Text:
    text = Text(dev.type)
    if dev.target_type:
        text.append(" -> ")
        text.append(dev.target_type)
    if dev.target_port is not None:
        text.append(f" port {dev.target_port}")
    if dev.target_name:
        text.append(" ")
        text.append(dev.target_name)
    where = dev.path or ":".join(p for p in (dev.host, dev.service) if p)
    if where:
        text.append("  ")
        text.append(where)
    return text


def _add_rows(parts: list[RenderableType], title: str, rows: Sequence[tuple[str, Text]]) -> None:
    parts.append(_section(title, len(rows)))
    if not rows:
        parts.append(Text("  none", style=MUTED))
    else:
        grid = _grid(max(8, *(len(label) for label, _ in rows)))
        for label, value in rows:
            grid.add_row(Text(label), value)
        parts.append(grid)
    parts.append(Text(""))


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
