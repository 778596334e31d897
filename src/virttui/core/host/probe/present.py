"""The report as titled sections of labelled rows, shared by `virttui check` and the screen.

Values are plain strings (they contain untrusted text from libvirt: render them as text,
never as markup). `tone` tells a renderer how to colour a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from virttui.core.host.probe.checks import Status
from virttui.core.host.probe.report import HostReport
from virttui.core.host.probe.verdict import Acceleration


class Tone(StrEnum):
    PLAIN = "plain"
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


MARKERS = {
    Status.OK: "[ OK ]",
    Status.WARN: "[WARN]",
    Status.FAIL: "[FAIL]",
    Status.UNKNOWN_REMOTE: "[ ?? ]",
}
TONES = {
    Status.OK: Tone.OK,
    Status.WARN: Tone.WARN,
    Status.FAIL: Tone.FAIL,
    Status.UNKNOWN_REMOTE: Tone.UNKNOWN,
}


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    tone: Tone = Tone.PLAIN
    note: str = ""  # a second line: a check's consequence
    alarm: bool = False  # the value itself is bad (a ratio over 1.0): colour it too


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    rows: tuple[Row, ...]


def fmt_kib(kib: int | float | None) -> str:
    """1536 -> "1.5 MiB", 32768 -> "32 MiB"."""
    if kib is None:
        return "?"
    value = float(kib)
    unit = "KiB"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    if value == int(value) or value >= 100:
        return f"{value:.0f} {unit}"
    return f"{value:.1f} {unit}"


def fmt_count(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def ratio_row(label: str, used: float, capacity: float, ratio: float, unit: str = "") -> Row:
    if unit == "kib":
        text = f"{fmt_kib(used)} / {fmt_kib(capacity)}"
    else:
        text = f"{fmt_count(used)} / {fmt_count(capacity)}"
    over = ratio > 1.0
    value = f"{text} = {ratio:.2f}" + (" overcommitted" if over else "")
    return Row(label, value, Tone.FAIL if over else Tone.PLAIN, alarm=over)


def verdict_section(report: HostReport) -> Section:
    v = report.verdict
    tone = {
        Acceleration.KVM: Tone.OK if not v.failed else Tone.WARN,
        Acceleration.TCG: Tone.FAIL,
        Acceleration.UNKNOWN: Tone.UNKNOWN,
    }[v.acceleration]
    headline = {
        Acceleration.KVM: "KVM",
        Acceleration.TCG: "TCG emulation only",
        Acceleration.UNKNOWN: "unknown",
    }[v.acceleration]
    rows = [Row("Verdict", headline, tone, v.summary)]
    for check in report.checks:
        rows.append(
            Row(
                MARKERS[check.status],
                f"{check.name}: {check.detail}",
                TONES[check.status],
                check.consequence,
            )
        )
    if report.not_checked_remotely:
        rows.append(
            Row(
                "Remote",
                "not checked remotely: " + ", ".join(report.not_checked_remotely),
                Tone.UNKNOWN,
            )
        )
    return Section("verdict", "Virtualization", tuple(rows))


def _layout(report: HostReport) -> str:
    t = report.topology
    parts = []
    if t.sockets is not None:
        parts.append(f"{t.sockets} socket{'s' if t.sockets != 1 else ''}")
    if t.cores_per_socket is not None:
        parts.append(f"{t.cores_per_socket} cores")
    if t.threads_per_core is not None:
        parts.append(f"{t.threads_per_core} thread{'s' if t.threads_per_core != 1 else ''}")
    text = " x ".join(parts) + f" = {t.threads_total} threads"
    return text + (f", {t.mhz} MHz" if t.mhz else "")


def topology_section(report: HostReport) -> Section:
    t = report.topology
    cpu = t.cpu_model or t.libvirt_cpu_model or "?"
    if t.cpu_vendor:
        cpu += f" ({t.cpu_vendor})"
    rows = [Row("CPU", cpu)]
    if t.host_model:
        rows.append(Row("host-model", t.host_model))
    rows.append(Row("Layout", _layout(report)))
    for cell in t.cells:
        free = f", {fmt_kib(cell.free_kib)} free" if cell.free_kib is not None else ""
        rows.append(
            Row(
                f"NUMA {cell.id}",
                f"CPUs {cell.cpus} ({cell.threads}), {fmt_kib(cell.memory_kib)}{free}",
            )
        )
    if t.caches:
        rows.append(
            Row(
                "Caches",
                ", ".join(f"{c.name} {fmt_kib(c.size_kib)} x{c.instances}" for c in t.caches),
            )
        )
    for pool in t.hugepages:
        where = "all nodes" if pool.node is None else f"node {pool.node}"
        free = f", {pool.free} free" if pool.free is not None else ""
        rows.append(Row(f"Huge {fmt_kib(pool.size_kib)}", f"{where}: {pool.total} pages{free}"))
    k = t.ksm
    if k.available:
        shared = f", {k.pages_shared} pages shared, {k.pages_sharing} sharing"
        rows.append(Row("KSM", f"{k.run_label}{shared if k.pages_shared is not None else ''}"))
    else:
        rows.append(Row("KSM", "not available", Tone.UNKNOWN))
    m = t.memory
    if m is not None:
        swap = (
            "swap unknown"
            if m.swap_total_kib is None
            else (
                "no swap"
                if m.swap_total_kib == 0
                else f"swap {fmt_kib(m.swap_total_kib)}, {fmt_kib(m.swap_free_kib)} free"
            )
        )
        rows.append(
            Row("Memory", f"{fmt_kib(m.total_kib)}, {fmt_kib(m.available_kib)} available; {swap}")
        )
    return Section("topology", "Topology", tuple(rows))


def _machines(report: HostReport) -> str:
    machines = report.software.machine_types
    if not machines:
        return "?"
    aliases = [f"{m.name} -> {m.canonical}" for m in machines if m.canonical]
    others = [m.name for m in machines if not m.canonical and not m.name.startswith("pc-")]
    shown = aliases + others
    return ", ".join(shown) + f" ({len(machines)} in all)"


def software_section(report: HostReport) -> Section:
    s = report.software
    rows = [
        Row("URI", s.uri),
        Row("Host", s.hostname),
        Row("libvirt", f"{s.libvirt_version} (client {s.client_version})"),
        Row("Hypervisor", f"{s.driver} {s.hypervisor_version or '?'}"),
        Row("Kernel", s.kernel or "not known remotely", Tone.PLAIN if s.kernel else Tone.UNKNOWN),
        Row("Emulator", s.emulator or "?"),
        Row("Domain types", ", ".join(s.domain_types) or "?"),
        Row("Machines", _machines(report)),
    ]
    for key, value in s.sysinfo:
        if key.split(".")[-1] in ("manufacturer", "product", "vendor", "version"):
            rows.append(Row(key, value))
    return Section("software", "Software", tuple(rows))


def domcaps_section(report: HostReport) -> Section:
    d = report.domain_capabilities
    if d is None:
        # Say why: a read-only connection (virttui check, --readonly) is refused this call.
        why = next(
            (e.partition(": ")[2] for e in report.errors if e.startswith("getDomainCapabilities")),
            "",
        )
        text = f"not available: {why}" if why else "not available from this driver"
        return Section("domcaps", "Domain capabilities", (Row("-", text, Tone.UNKNOWN),))
    modes = []
    for mode in d.cpu_modes:
        if mode.supported:
            modes.append(f"{mode.name} ({mode.model})" if mode.model else mode.name)
    rows = (
        Row("Type", f"{d.virt_type} ({d.arch}, default machine {d.machine})"),
        Row("Max vCPUs", str(d.max_vcpus) if d.max_vcpus is not None else "?"),
        Row("Firmware", ", ".join(d.firmware) or "BIOS only"),
        Row("Loaders", ", ".join(d.loaders) or "-"),
        Row("CPU modes", ", ".join(modes) or "-"),
        Row("Disk buses", ", ".join(d.disk_buses) or "-"),
        Row("Graphics", ", ".join(d.graphics_types) or "-"),
        Row("Video", ", ".join(d.video_models) or "-"),
        Row("Host devices", ", ".join(d.hostdev_types) or "-"),
        Row("Features", ", ".join(d.features) or "-"),
    )
    return Section("domcaps", f"Domain capabilities ({d.virt_type})", rows)


def overcommit_section(report: HostReport) -> Section:
    o = report.overcommit
    rows = [
        Row("Domains", f"{o.running_domains} running, {o.defined_domains} defined"),
        ratio_row("vCPU running", o.running_vcpus, o.host_threads, o.running_vcpu_ratio),
        ratio_row("vCPU defined", o.defined_vcpus, o.host_threads, o.defined_vcpu_ratio),
        ratio_row(
            "RAM running", o.running_memory_kib, o.host_memory_kib, o.running_memory_ratio, "kib"
        ),
        ratio_row(
            "RAM defined", o.defined_memory_kib, o.host_memory_kib, o.defined_memory_ratio, "kib"
        ),
    ]
    for cell in o.cells:
        if cell.defined_vcpus or cell.defined_memory_kib:
            rows.append(
                ratio_row(
                    f"Cell {cell.cell} vCPU",
                    cell.running_vcpus,
                    cell.threads,
                    cell.running_vcpu_ratio,
                )
            )
            rows.append(
                ratio_row(
                    f"Cell {cell.cell} RAM",
                    cell.running_memory_kib,
                    cell.memory_kib,
                    cell.running_memory_ratio,
                    "kib",
                )
            )
    if not any(c.defined_vcpus or c.defined_memory_kib for c in o.cells):
        rows.append(Row("Pinning", "no guest is pinned to a NUMA cell"))
    for error in o.errors:
        rows.append(Row("Error", error, Tone.WARN))
    return Section("overcommit", "Overcommit (guests / host)", tuple(rows))


def build_sections(report: HostReport) -> tuple[Section, ...]:
    sections = [
        verdict_section(report),
        topology_section(report),
        software_section(report),
        domcaps_section(report),
        overcommit_section(report),
    ]
    if report.errors:
        sections.append(
            Section(
                "errors",
                "libvirt calls that failed",
                tuple(Row("Error", e, Tone.WARN) for e in report.errors),
            )
        )
    return tuple(sections)
