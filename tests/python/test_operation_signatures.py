"""The Python wrapper of every built-in operation takes exactly the parameters, in the same
order, that its Rust planner reads: one source of truth for an operation's arguments."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

from oxinfra import _core

RUST_PARAMS: dict[str, list[str]] = json.loads(_core.operation_params())

# Rendered in Python, then planned by another Rust planner (`files.put`, `server.script`).
PYTHON_RENDERED = {"files.template", "server.script_template"}

CHECKED = sorted(set(RUST_PARAMS) - PYTHON_RENDERED)


def python_operation(name: str):
    """The wrapper `oxinfra.operations.<module>.<function>` for `module.function`."""
    module_name, function_name = name.split(".", 1)
    module = importlib.import_module(f"oxinfra.operations.{module_name}")
    return getattr(module, function_name)


def python_signature(name: str) -> inspect.Signature:
    operation = python_operation(name)
    return inspect.signature(getattr(operation, "_inner", operation))


def test_registry_lists_operations():
    assert CHECKED, "the Rust registry reports no operations"


@pytest.mark.parametrize("name", CHECKED)
def test_python_signature_matches_rust_params(name: str):
    assert list(python_signature(name).parameters) == RUST_PARAMS[name]


@pytest.mark.parametrize("name", sorted(PYTHON_RENDERED))
def test_python_rendered_operations_take_template_variables(name: str):
    parameters = list(python_signature(name).parameters.values())
    assert parameters[-1].kind is inspect.Parameter.VAR_KEYWORD
    assert parameters[-1].name == "data"


def real_pyinfra_operations():
    """pyinfra's own `operations` package, or None when pyinfra 3 is not installed
    beside oxinfra (or the name resolves to oxinfra's alias)."""
    try:
        pyinfra_operations = importlib.import_module("pyinfra.operations")
    except ImportError:
        return None
    origin = Path(getattr(pyinfra_operations, "__file__", "") or "")
    if "oxinfra" in origin.parts:
        return None
    return pyinfra_operations


@pytest.mark.parametrize("name", sorted(set(RUST_PARAMS) | PYTHON_RENDERED))
def test_python_signature_matches_pyinfra(name: str):
    if real_pyinfra_operations() is None:
        pytest.skip("pyinfra is not installed beside oxinfra")
    module_name, function_name = name.split(".", 1)
    module = importlib.import_module(f"pyinfra.operations.{module_name}")
    theirs = inspect.signature(getattr(module, function_name)._inner)
    ours = python_signature(name)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
