"""Kept for old references: `python scripts/xterm_shot.py OUT.png [IMAGE.png] [--toast]
[--seconds N]` is `python scripts/terminal_shot.py xterm OUT.png ...`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from terminal_shot import ROOT, main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:] or [str(ROOT / "screenshots" / "graphical-console-xterm-sixel.png")]
    sys.exit(main(["xterm", *args]))
