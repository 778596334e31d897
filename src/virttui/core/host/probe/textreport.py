"""Plain-text rendering of the report sections for `virttui check` (fits 80 columns)."""

from __future__ import annotations

import textwrap

from virttui.core.host.probe.present import Section

LABEL_WIDTH = 14


def render_text(sections: tuple[Section, ...], width: int = 80) -> str:
    lines: list[str] = []
    indent = " " * (LABEL_WIDTH + 1)
    for section in sections:
        if lines:
            lines.append("")
        lines.append(section.title)
        lines.append("=" * min(width, len(section.title)))
        for row in section.rows:
            first = f"{row.label:<{LABEL_WIDTH}} "
            lines += textwrap.wrap(
                row.value, width, initial_indent=first, subsequent_indent=indent
            ) or [first.rstrip()]
            if row.note:
                lines += textwrap.wrap(
                    "-> " + row.note, width, initial_indent=indent, subsequent_indent=indent + "   "
                )
    return "\n".join(lines) + "\n"
