"""Every `type: ignore` in src names its error code (mypy's ignore-without-code enforces that)
and says why after it (`# type: ignore[code]  # reason`): a reader must not have to guess."""

from __future__ import annotations

import re

from tests import paths

IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    bare: list[str] = []
    for path in sorted((paths.REPO / "src").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = IGNORE.search(line)
            if match is None:
                continue
            reason = match["rest"].strip().removeprefix("#").strip()
            if not match["codes"] or not reason:
                bare.append(f"{path.relative_to(paths.REPO)}:{number}: {line.strip()}")
    assert bare == []
