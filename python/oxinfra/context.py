"""The context deploy code runs in: the current host, config, state and inventory.
Each is a context variable, so that every host's run of a deploy file (and every
callback at execute time) sees its own `host` and `config`; `oxinfra.host` and friends
are proxies that resolve to the current value."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_host: contextvars.ContextVar[Any] = contextvars.ContextVar("oxinfra_host", default=None)
_config: contextvars.ContextVar[Any] = contextvars.ContextVar("oxinfra_config", default=None)
_state: contextvars.ContextVar[Any] = contextvars.ContextVar("oxinfra_state", default=None)
_inventory: contextvars.ContextVar[Any] = contextvars.ContextVar("oxinfra_inventory", default=None)

_VARIABLES = {"host": _host, "config": _config, "state": _state, "inventory": _inventory}


class ContextObject:
    """A proxy to the current value of one context variable."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _get(self) -> Any:
        value = _VARIABLES[object.__getattribute__(self, "_name")].get()
        if value is None:
            raise AttributeError(f"oxinfra.{object.__getattribute__(self, '_name')} is not set: use it inside a deploy run")
        return value

    def __getattr__(self, key: str) -> Any:
        return getattr(self._get(), key)

    def __setattr__(self, key: str, value: Any) -> None:
        setattr(self._get(), key, value)

    def __bool__(self) -> bool:
        return _VARIABLES[object.__getattribute__(self, "_name")].get() is not None

    def __eq__(self, other: object) -> bool:
        return self._get() == other

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        value = _VARIABLES[object.__getattribute__(self, "_name")].get()
        return f"ContextObject({value!r})"

    def __str__(self) -> str:
        return str(self._get())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


host: Any = ContextObject("host")
config: Any = ContextObject("config")
state: Any = ContextObject("state")
inventory: Any = ContextObject("inventory")


@contextlib.contextmanager
def use(**values: Any) -> Iterator[None]:
    """Sets context values for the duration of a `with` block."""
    tokens = [(_VARIABLES[name], _VARIABLES[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def current(name: str) -> Any:
    """The current value (not the proxy) of `host`, `config`, `state` or `inventory`."""
    return _VARIABLES[name].get()
