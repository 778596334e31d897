"""A private libvirt test-driver connection per test (test:///default is shared in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from virttui.core.host.libvirt_runtime import silence_errors

TEST_NODE = Path(__file__).parent / "data" / "test_node.xml"


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    silence_errors()
    c = libvirt.open(f"test://{TEST_NODE}")
    yield c
    c.close()


@pytest.fixture
def dom(conn: libvirt.virConnect) -> libvirt.virDomain:
    return conn.lookupByName("test")
