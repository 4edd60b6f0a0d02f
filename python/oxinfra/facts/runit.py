"""Facts of pyinfra's `runit` module. They are read by the engine (batched with the other
facts an operation needs, and cached until the host changes); these classes are what
`host.get_fact` takes."""

from __future__ import annotations

from oxinfra import _core
from oxinfra.api.facts import builtin_fact

for _name in _core.fact_names():
    _module, _, _class = _name.rpartition(".")
    if _module == "runit":
        globals()[_class] = builtin_fact(_name)
