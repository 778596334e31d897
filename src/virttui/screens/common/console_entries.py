"""What the app keeps about its open consoles (`AppServices.consoles`): plain data, apart from
`console_registry` (which shows, switches and closes them) so the typed app interface can name
the registry without importing the code that uses it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["serial", "graphics"]


@dataclass(frozen=True, slots=True)
class ConsoleEntry:
    kind: Kind
    uri: str
    uuid: str
    name: str

    @property
    def screen_name(self) -> str:
        return f"console:{self.kind}:{self.uri}:{self.uuid}"

    @property
    def title(self) -> str:
        return f"{'Serial' if self.kind == 'serial' else 'Graphics'}: {self.name}"


class ConsoleRegistry(dict[str, ConsoleEntry]):
    """screen name -> entry, in opening order: the app's `consoles` attribute."""
