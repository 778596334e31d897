"""`read_wizard_facts`: what the wizard shows before any answer, on the test driver and (when
the daemon runs) on this TCG-only qemu:///system: domain type `qemu` with the host check's
reason, domain capabilities, machines, pools and networks with their state."""

from __future__ import annotations

import libvirt
import pytest

from virttui.core.create.wizard_facts import read_wizard_facts


def test_test_driver_facts() -> None:
    conn = libvirt.open("test:///default")
    try:
        facts = read_wizard_facts(conn, local=False)
    finally:
        conn.close()
    assert facts.domain_type in ("qemu", "kvm")
    assert facts.domain_type_reason
    assert ("default-pool", True) in facts.pools
    assert dict(facts.pool_targets)["default-pool"]
    assert ("default", True) in facts.networks
    assert "test" in facts.domain_names
    assert facts.domcaps is None and not facts.uefi_offered and facts.cpu_models == ()


def test_system_facts_on_this_tcg_host() -> None:
    try:
        conn = libvirt.open("qemu:///system")
    except libvirt.libvirtError as e:
        pytest.skip(f"qemu:///system not reachable: {e}")
    try:
        facts = read_wizard_facts(conn, local=True)
    finally:
        conn.close()
    assert facts.domcaps is not None
    assert facts.default_machine and facts.default_machine in facts.machines
    if facts.domain_type == "qemu":
        assert "TCG" in facts.domain_type_reason or "KVM" in facts.domain_type_reason
    assert facts.cpu_models  # named models of the custom mode
