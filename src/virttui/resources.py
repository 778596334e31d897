"""Where the packaged files are: styles/*.tcss ships inside the wheel as virttui/styles."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The installed copy inside the package, else the repository's styles/ (editable installs)."""
    for candidate in (_PACKAGE / "styles", _PACKAGE.parent.parent / "styles"):
        if candidate.is_dir() and any(candidate.glob("*.tcss")):
            return candidate
    raise FileNotFoundError(
        "virttui styles (*.tcss) not found next to the package or in the source tree"
    )


def stylesheets() -> list[Path]:
    return sorted(styles_dir().glob("*.tcss"))
