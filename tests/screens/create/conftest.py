"""Shared set-up of the wizard's Pilot tests: private test-driver hosts (a copy of
tests/core/data/test_node.xml, or the same node without domains), fixed host facts (the
domain capabilities of tests/core/data: qemu TCG x86_64) and the system osinfo-db."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.create import osinfo
from virttui.core.create.wizard_facts import WizardFacts
from virttui.core.host.nodexml import node_uri
from virttui.core.host.probe.domcaps import parse_domain_capabilities

DATA = Path(__file__).parents[2] / "core" / "data"
NODE = DATA / "test_node.xml"
DOMCAPS = DATA / "domcaps-qemu-tcg-x86_64.xml"
TCG_REASON = (
    "no hardware virtualization visible: guests will run under TCG emulation, 10–50× slower; "
    "use domain type 'qemu'"
)


def fixed_facts(**over: Any) -> WizardFacts:
    domcaps = parse_domain_capabilities(DOMCAPS.read_text())
    base: dict[str, Any] = dict(
        domain_type="qemu",
        domain_type_reason=TCG_REASON,
        arch="x86_64",
        domcaps=domcaps,
        machines=("pc", "pc-i440fx-7.2", "pc-q35-7.2", "q35"),
        pools=(("default", True), ("spare", False)),
        pool_targets=(("default", "/var/lib/libvirt/images"), ("spare", "/srv/spare")),
        pool_types=(("default", "dir"), ("spare", "dir")),
        networks=(("default", True), ("isolated", False)),
        bridges=("br0",),
        domain_names=frozenset({"test"}),
    )
    base.update(over)
    return WizardFacts(**base)


@pytest.fixture(scope="session")
def osdb() -> osinfo.OsDb:
    return osinfo.load_db()


def make_app(
    tmp_path: Path, *, empty: bool = False, readonly: bool = False
) -> tuple[VirtTUIApp, str]:
    node = tmp_path / "node.xml"
    text = NODE.read_text()
    if empty:
        text = re.sub(r"<domain type='test'>.*?</domain>\s*", "", text, flags=re.S)
    node.write_text(text)
    uri = node_uri(node)
    return VirtTUIApp([HostSpec(uri, label="test node")], refresh=3600.0, readonly=readonly), uri


def connected(app: VirtTUIApp) -> bool:
    return bool(app.store.hosts) and all(h.state == "connected" for h in app.store.hosts.values())


async def ready(pilot: Pilot[Any], app: VirtTUIApp) -> None:
    await wait_until(pilot, lambda: connected(app), 30)
    await pilot.pause(0.2)


_ = shutil
