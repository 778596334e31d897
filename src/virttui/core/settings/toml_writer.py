"""A small TOML writer for what virttui stores: tables of strings, bools, ints, floats, arrays,
and arrays of tables. Its output reads back identically with `tomllib` (tested with hypothesis).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # fullmatch: "$" would accept a trailing newline
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def quote(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("lone surrogate characters cannot be written to TOML")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else quote(name)


def value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if math.isnan(item):
            return "nan"
        if math.isinf(item):
            return "inf" if item > 0 else "-inf"
        text = repr(item)
        return text if any(c in text for c in ".en") else f"{text}.0"
    if isinstance(item, str):
        return quote(item)
    if isinstance(item, Sequence):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + "}"
    raise TypeError(f"cannot write {type(item).__name__} to TOML")


def _is_table_array(item: Any) -> bool:
    return (
        isinstance(item, Sequence)
        and not isinstance(item, str)
        and bool(item)
        and all(isinstance(v, Mapping) for v in item)
    )


def _table(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    nested: list[tuple[str, Any]] = []
    for name, item in table.items():
        if isinstance(item, Mapping) or _is_table_array(item):
            nested.append((name, item))
        else:
            lines.append(f"{key(name)} = {value(item)}")
    for name, item in nested:
        sub = [*path, key(name)]
        if isinstance(item, Mapping):
            lines.extend(["", f"[{'.'.join(sub)}]"])
            _table(lines, sub, item)
        else:
            for entry in item:
                lines.extend(["", f"[[{'.'.join(sub)}]]"])
                _table(lines, sub, entry)


def dumps(document: Mapping[str, Any]) -> str:
    """Serialise a mapping to TOML text (UTF-8 safe, ends with a newline)."""
    lines: list[str] = []
    _table(lines, [], document)
    return "\n".join(lines).lstrip("\n") + "\n"
