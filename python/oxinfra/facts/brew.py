"""Facts of pyinfra's `brew` module. They are read by the engine (batched with the other
facts an operation needs, and cached until the host changes); these classes are what
`host.get_fact` takes. `BrewItemKind` names the kinds of item `brew.trust` takes."""

from __future__ import annotations

from enum import Enum, unique

from oxinfra import _core
from oxinfra.api.facts import builtin_fact

for _name in _core.fact_names():
    _module, _, _class = _name.rpartition(".")
    if _module == "brew":
        globals()[_class] = builtin_fact(_name)


@unique
class BrewItemKind(Enum):
    """What ``brew trust`` applies to; the values are the keys of ``BrewTrusted``."""

    CASK = "casks"
    COMMAND = "commands"
    FORMULA = "formulae"
    TAP = "taps"
