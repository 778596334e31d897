"""What the create wizard shows from the host before the admin answers anything (no UI).

`read_wizard_facts(conn, local=..., root=...)` reads, in one blocking call run as a job
(`HostFacade.create_wizard_facts`): the host check's verdict (the same `collect_host_report`
the host screen and `virttui check` use: domain type `kvm` only where hardware KVM is usable,
`qemu` otherwise, with the sentence saying why), the domain capabilities of that type (CPU
models, UEFI, buses, graphics), the machine types, the pools and networks with their state,
the host's bridges and the names already taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from virttui.core.create.spec import DomainType, domain_type_from_verdict
from virttui.core.host.probe.domcaps import DomainCapabilities

if TYPE_CHECKING:
    import libvirt


@dataclass(frozen=True)
class WizardFacts:
    domain_type: DomainType = "qemu"
    domain_type_reason: str = ""
    arch: str = "x86_64"
    domcaps: DomainCapabilities | None = None
    machines: tuple[str, ...] = ()
    pools: tuple[tuple[str, bool], ...] = ()  # (name, active), sorted
    pool_targets: tuple[tuple[str, str], ...] = ()  # (name, target path): the preview's paths
    pool_types: tuple[tuple[str, str], ...] = ()  # (name, type)
    networks: tuple[tuple[str, bool], ...] = ()  # (name, active), sorted
    bridges: tuple[str, ...] = ()
    bridges_why: str = ""  # "" when the bridge list is known
    domain_names: frozenset[str] = field(default_factory=frozenset)

    @property
    def uefi_offered(self) -> bool:
        caps = self.domcaps
        return caps is not None and ("efi" in caps.firmware or bool(caps.loaders))

    @property
    def cpu_models(self) -> tuple[str, ...]:
        caps = self.domcaps
        if caps is None:
            return ()
        return tuple(name for name, usable in caps.custom_models if usable != "no")

    @property
    def default_machine(self) -> str:
        return self.domcaps.machine if self.domcaps is not None else ""


def read_wizard_facts(
    conn: libvirt.virConnect,
    *,
    local: bool,
    root: Path = Path("/"),
    bridges: tuple[tuple[str, ...], str] = ((), ""),
) -> WizardFacts:
    from virttui.core.host.probe import collect_host_report
    from virttui.core.host.probe.capabilities import parse_capabilities
    from virttui.core.storage.pools import list_pools

    report = collect_host_report(conn, local=local, root=root)
    dtype, reason = domain_type_from_verdict(report.verdict)
    host = parse_capabilities(conn.getCapabilities())
    machines: list[str] = []
    for m in host.machines:
        machines.append(m.name)
        if m.canonical and m.canonical not in machines:
            machines.append(m.canonical)
    found = list_pools(conn)
    pools = tuple(sorted((p.name, p.active) for p in found))
    networks = tuple(sorted((n.name(), bool(n.isActive())) for n in conn.listAllNetworks(0)))
    names = frozenset(str(d.name()) for d in conn.listAllDomains(0))
    return WizardFacts(
        domain_type=dtype,
        domain_type_reason=reason,
        arch=host.arch or "x86_64",
        domcaps=report.domain_capabilities,
        machines=tuple(sorted(set(machines))),
        pools=pools,
        pool_targets=tuple(sorted((p.name, p.target_path) for p in found)),
        pool_types=tuple(sorted((p.name, p.type) for p in found)),
        networks=networks,
        bridges=bridges[0],
        bridges_why=bridges[1],
        domain_names=names,
    )
