"""Copy the SVG snapshots the tests keep into screenshots/ under readable names (for the README)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    for svg in sorted((ROOT / "tests").glob("**/__snapshots__/*/*.svg")):
        stem = svg.stem.removeprefix("test_").replace("[", "-").replace("]", "")
        name = stem.replace("_", "-") + ".svg"
        shutil.copyfile(svg, out / name)
        print(f"screenshots/{name}")


if __name__ == "__main__":
    main()
