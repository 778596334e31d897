"""Print docs/keys.md: every remappable key binding (`python scripts/keys_doc.py > docs/keys.md`)."""

from __future__ import annotations

import sys

from virttui.app import VirtTUIApp
from virttui.screens.common.keymap import collect_bindings, keys_doc


def main() -> None:
    sys.stdout.write(keys_doc(collect_bindings(extra=[VirtTUIApp])))


if __name__ == "__main__":
    main()
