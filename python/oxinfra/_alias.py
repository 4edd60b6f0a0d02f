"""Inside an `oxinfra` run, `import pyinfra...` resolves to `oxinfra...`: a meta-path
finder aliases the modules, so existing pyinfra deploys run unchanged while nothing is
installed under the name `pyinfra`."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_RENAMES = {"pyinfra.api.connect": None, "pyinfra.api.operations": None}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The module is the oxinfra module itself, already executed."""


class PyinfraAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `pyinfra` and `pyinfra.*` as the matching `oxinfra` modules."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pyinfra" and not fullname.startswith("pyinfra."):
            return None
        name = "oxinfra" + fullname[len("pyinfra") :]
        try:
            importlib.util.find_spec(name)  # type: ignore[attr-defined]
        except ModuleNotFoundError:
            return None
        if importlib.util.find_spec(name) is None:  # type: ignore[attr-defined]
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(name), is_package=True)


def install() -> None:
    """Installs the alias (once)."""
    import importlib.util  # noqa: F401

    if not any(isinstance(finder, PyinfraAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, PyinfraAliasFinder())
