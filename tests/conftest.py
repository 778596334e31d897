"""Shared fixtures: isolated config, the libvirt test driver, hostile node XML."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from virttui.core.host.libvirt_runtime import ensure_event_loop


@pytest.fixture(autouse=True)
def _isolate_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never read or write the user's real config, and draw the same glyphs everywhere."""
    cfg = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("VIRTTUI_CONFIG_FILE", str(cfg))
    monkeypatch.delenv("VIRTTUI_ASCII", raising=False)
    if os.environ.get("TERM") == "linux":
        monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(scope="session", autouse=True)
def _event_loop_started() -> None:
    ensure_event_loop()


HOSTILE_NAMES = (
    "[@click=app.quit]x",
    "[reverse]y",
    "$(touch virttui-pwned)",
    "数据库-测试",
    "emoji-🚀-vm",
    "`id`;rm -rf x",
)


@pytest.fixture
def hostile_node(tmp_path: Path) -> Iterator[Path]:
    """A test-driver host whose domains have names that are markup, shell and wide characters."""
    from xml.sax.saxutils import escape

    domains = []
    for i, name in enumerate(HOSTILE_NAMES):
        domains.append(
            f"""<domain type='test'><name>{escape(name)}</name>
  <uuid>00000000-0000-0000-0000-{i:012d}</uuid>
  <title>{escape("[bold red]title[/]")}</title>
  <memory>{(i + 1) * 262144}</memory><vcpu>{i + 1}</vcpu>
  <os><type arch='x86_64'>hvm</type></os></domain>"""
        )
    xml = "<node>\n" + "\n".join(domains) + "\n</node>\n"
    path = tmp_path / "hostile.xml"
    path.write_text(xml, encoding="utf-8")
    yield path
