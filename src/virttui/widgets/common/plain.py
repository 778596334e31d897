"""Rich `Text` for untrusted strings: never parsed as markup, control characters made visible.

Every name, title, path, URI, error message or config value that reaches a widget goes through
:func:`plain` (a new `Text`) or :func:`append_plain` (onto an existing one). The escapes
(``\\e``, ``\\x9b``, see `virttui.core.common.safe_text`) are drawn in reverse video, so a literal
backslash in a name is told apart from a control character.
"""

from __future__ import annotations

from rich.style import Style, StyleType
from rich.text import Text

from virttui.core.common.safe_text import has_unsafe, split_visible

ESCAPE_STYLE = Style(reverse=True)


def append_plain(
    target: Text, value: object, style: StyleType = "", *, multiline: bool = False
) -> Text:
    """Append `value` (made a string) to `target` as literal text; returns `target`."""
    text = value if isinstance(value, str) else str(value)
    for piece, is_escape in split_visible(text, multiline=multiline):
        start = len(target)
        target.append(piece, style)
        if is_escape:
            target.stylize(ESCAPE_STYLE, start, len(target))
    return target


def plain(
    value: object,
    style: StyleType = "",
    *,
    multiline: bool = False,
    no_wrap: bool | None = None,
    overflow: str | None = None,
    justify: str | None = None,
) -> Text:
    """A `Text` holding `value` literally (no markup), control characters made visible."""
    string = value if isinstance(value, str) else str(value)
    if not has_unsafe(string) or (multiline and not has_unsafe(string.replace("\n", ""))):
        # Nothing to escape: a Text styled as a whole, exactly like `Text(value, style=...)`.
        return Text(string, style=style, no_wrap=no_wrap, overflow=overflow, justify=justify)  # type: ignore[arg-type]  # Rich's Literal types; callers pass its own values
    text = Text(no_wrap=no_wrap, overflow=overflow, justify=justify)  # type: ignore[arg-type]  # Rich's Literal types; callers pass its own values
    return append_plain(text, string, style, multiline=multiline)
