"""Which host to open: a libvirt URI, an optional label, and whether it is the bundled demo."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HostSpec:
    uri: str
    label: str | None = None
    demo: bool = False
