"""A host as deploy code sees it: its name, groups and data (with pyinfra's data
precedence), facts, and the context managers `when`, `arguments`, `deploy` and the
`loop` helper."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

from oxinfra.api.util import to_plain
from oxinfra.vault import reveal

_MISSING = object()


class HostData:
    """A host's data; the first layer that has a key wins: runtime assignment, override
    data (`--data`), host data, group data (later groups win), global data, the running
    deploy's `data_defaults`."""

    def __init__(
        self, host: Host, override: dict[str, Any], host_data: dict[str, Any], group_layers: list[dict[str, Any]], global_data: dict[str, Any]
    ) -> None:
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "_runtime", {})
        object.__setattr__(self, "_layers", [override, host_data, *reversed(group_layers), global_data])

    def _lookup(self, key: str) -> Any:
        runtime = object.__getattribute__(self, "_runtime")
        if key in runtime:
            return runtime[key]
        for layer in object.__getattribute__(self, "_layers"):
            if key in layer:
                return copy.copy(layer[key])
        for defaults in reversed(object.__getattribute__(self, "_host").deploy_data_stack):
            if key in defaults:
                return copy.copy(defaults[key])
        return _MISSING

    def __getattr__(self, key: str) -> Any:
        value = self._lookup(key)
        if value is _MISSING:
            raise AttributeError(f"Host `{object.__getattribute__(self, '_host').name}` has no data `{key}`")
        return reveal(value, key)

    def __setattr__(self, key: str, value: Any) -> None:
        object.__getattribute__(self, "_runtime")[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        value = self._lookup(key)
        return default if value is _MISSING else reveal(value, key)

    def dict(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for defaults in object.__getattribute__(self, "_host").deploy_data_stack:
            merged.update(defaults)
        for layer in reversed(object.__getattribute__(self, "_layers")):
            merged.update(layer)
        merged.update(object.__getattribute__(self, "_runtime"))
        return merged

    def __contains__(self, key: str) -> bool:
        return self._lookup(key) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        return iter(self.dict())


class Host:
    """One host of the inventory."""

    def __init__(self, name: str, index: int, groups: list[str], data: HostData | None = None) -> None:
        self.name = name
        self.index = index
        self.groups = groups
        self.deploy_data_stack: list[dict[str, Any]] = []
        self.deploy_names: list[str] = []
        self.deploy_arguments: list[dict[str, Any]] = []
        self.loop_positions: list[int] = []
        self.op_hash_order: list[str] = []
        self.data: HostData = data  # type: ignore[assignment]
        self.current_op_global_arguments: dict[str, Any] | None = None
        self.in_op = False
        self.executing_op_hash: str | None = None

    def __repr__(self) -> str:
        return f"Host({self.name})"

    def __str__(self) -> str:
        return self.name

    def print_prefix(self) -> str:
        return f"[{self.name}] "

    def style_print_prefix(self, *args: Any, **kwargs: Any) -> str:
        return self.print_prefix()

    @property
    def connected(self) -> bool:
        return True

    def get_fact(self, fact: Any, *args: Any, **kwargs: Any) -> Any:
        """Reads a fact on this host (from the run's cache when it is there)."""
        from oxinfra.api.facts import read_fact

        return read_fact(self, fact, args, kwargs)

    def noop(self, description: str) -> None:
        """Records why an operation needs to do nothing (shown with `-v`)."""
        from oxinfra.api.state import current_state

        current_state().noop(self, description)

    def run_shell_command(self, command: Any, **arguments: Any) -> tuple[bool, Any]:
        """Runs a command on this host now, as a nested `server.shell`."""
        from oxinfra.operations import server

        meta = server.shell(commands=[command], **arguments)
        return meta.did_succeed(), meta

    @contextlib.contextmanager
    def deploy(self, name: str, kwargs: dict[str, Any] | None, data: dict[str, Any] | None, in_deploy: bool = True) -> Iterator[None]:
        """Runs the body inside a deploy: op names get `name | `, `kwargs` become the
        default global arguments and `data` the lowest data layer."""
        self.deploy_names.append(name)
        self.deploy_arguments.append(dict(kwargs or {}))
        self.deploy_data_stack.append(dict(data or {}))
        try:
            yield
        finally:
            self.deploy_names.pop()
            self.deploy_arguments.pop()
            self.deploy_data_stack.pop()

    @contextlib.contextmanager
    def when(self, condition: Any) -> Iterator[None]:
        """Operations inside only run when `condition()` is true at execute time."""
        with self.deploy("", {"_if": [condition]}, {}, in_deploy=False):
            yield

    @contextlib.contextmanager
    def arguments(self, **arguments: Any) -> Iterator[None]:
        """Applies global arguments to every operation inside."""
        with self.deploy("", arguments, {}, in_deploy=False):
            yield

    def loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Iterates, recording the position so that operations in the loop keep one
        identity per iteration across hosts."""
        self.loop_positions.append(0)
        try:
            for position, item in enumerate(iterable):
                self.loop_positions[-1] = position
                yield item
        finally:
            self.loop_positions.pop()

    def context_arguments(self) -> dict[str, Any]:
        """The global arguments of the enclosing deploys, innermost last; `_if` lists add up."""
        merged: dict[str, Any] = {}
        conditions: list[Any] = []
        for arguments in self.deploy_arguments:
            for key, value in arguments.items():
                if key == "_if":
                    conditions.extend(value if isinstance(value, (list, tuple)) else [value])
                else:
                    merged[key] = value
        if conditions:
            merged["_if"] = conditions
        return merged

    def name_prefix(self) -> str:
        names = [name for name in self.deploy_names if name]
        return "".join(f"{name} | " for name in names)

    def connector_data_json(self) -> str:
        """The data connectors read (`ssh_*`, `docker_*`, `chroot_*`, ...), as JSON."""
        prefixes = ("ssh_", "docker_", "podman_", "chroot_", "fake_", "kubernetes_")
        data = {key: reveal(value, key) for key, value in self.data.dict().items() if key.startswith(prefixes)}
        return json.dumps(to_plain(data), default=str)
