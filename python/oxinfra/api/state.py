"""The Python side of a run: the engine handle, the hosts, and the objects the engine
calls back by id (`_if` conditions, `python.call` functions, operation generators,
`_retry_until`). Implements the hooks the engine calls during execute."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any, Callable

from oxinfra import _core, context
from oxinfra.api.command import command_data
from oxinfra.api.config import Config


class State:
    """One run: its inventory, config and engine."""

    def __init__(self, inventory: Any, config: Config | None = None, check_for_changes: bool = True, *, settings: dict[str, Any] | None = None) -> None:
        self.inventory = inventory
        self.config = config or Config()
        self.check_for_changes = check_for_changes
        self.cwd = os.getcwd()
        self.is_executing = False
        self.is_cli = False
        self.current_deploy_filename: str | None = None
        self.current_include_dir: str | None = None
        self.current_op_file_number = 0
        self.noops: dict[tuple[int, str], str] = {}
        self._ids = itertools.count(1)
        self._callables: dict[int, Callable[..., Any]] = {}
        self._functions: dict[int, tuple[Callable[..., Any], Any, Any]] = {}
        self._generators: dict[int, tuple[Callable[[], Iterator[Any]], dict[str, Any], Any]] = {}
        self._running: dict[int, tuple[Iterator[Any], Any, Config]] = {}
        settings = settings or {}
        engine_settings = {
            "deploy_dir": self.cwd,
            "diff": bool(self.config.DIFF),
            "verbosity": settings.get("verbosity", 0),
            "parallel": int(self.config.PARALLEL or 0),
            "fail_percent": self.config.FAIL_PERCENT,
            "print_output": settings.get("print_output", False),
            "debug": settings.get("debug", False),
        }
        self.engine = _core.Engine(json.dumps(engine_settings), [(host.name, host.connector_data_json()) for host in inventory])
        self.engine.set_hooks(self)
        inventory.state = self

    # Registries of Python objects the engine refers to by id.

    def register_callable(self, function: Callable[..., Any]) -> int:
        identifier = next(self._ids)
        self._callables[identifier] = function
        return identifier

    def register_function(self, function: Callable[..., Any], args: Any, kwargs: Any) -> int:
        identifier = next(self._ids)
        self._functions[identifier] = (function, args, kwargs)
        return identifier

    def register_generator(self, factory: Callable[[], Iterator[Any]], global_arguments: dict[str, Any], host_config: Config) -> int:
        identifier = next(self._ids)
        self._generators[identifier] = (factory, global_arguments, host_config)
        return identifier

    def noop(self, host: Any, description: str) -> None:
        self.noops[(host.index, host.executing_op_hash or "")] = description

    def host(self, index: int) -> Any:
        return self.inventory.hosts_by_index[index]

    # Hooks called by the engine (from worker threads, with the GIL taken).

    def _context(self, index: int, config: Config | None = None) -> Any:
        return context.use(host=self.host(index), state=self, inventory=self.inventory, config=config or self.config.copy())

    def conditions_hold(self, host: int, conditions: list[int]) -> bool:
        with self._context(host):
            return all(bool(self._callables[condition]()) for condition in conditions)

    def start_generator(self, host: int, operation: int) -> int:
        factory, global_arguments, host_config = self._generators[operation]
        handle = next(self._ids)
        with self._context(host, host_config):
            self._running[handle] = (factory(), global_arguments, host_config)
        return handle

    def next_command(self, host: int, handle: int) -> str | None:
        generator, global_arguments, host_config = self._running[handle]
        target = self.host(host)
        previous = target.current_op_global_arguments
        target.current_op_global_arguments = global_arguments
        try:
            with self._context(host, host_config):
                command = next(generator)
        except StopIteration:
            return None
        finally:
            target.current_op_global_arguments = previous
        with self._context(host, host_config):
            return json.dumps(command_data(command))

    def finish_generator(self, handle: int) -> None:
        self._running.pop(handle, None)

    def call_function(self, host: int, function_id: int) -> bool:
        import inspect

        function, args, kwargs = self._functions[function_id]
        target = self.host(host)
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            parameters = {}  # type: ignore[assignment]
        # The function runs outside the operation that yielded it: operations it calls
        # are nested operations, not calls inside an operation.
        in_op, target.in_op = target.in_op, False
        try:
            with self._context(host):
                if "state" in parameters and "host" in parameters:
                    result = function(self, target, *args, **kwargs)
                else:
                    result = function(*args, **kwargs)
        finally:
            target.in_op = in_op
        return result is not False

    def ask_sudo_password(self, host: int) -> str | None:
        """Asks for the sudo password on the terminal, or returns None without one."""
        import getpass
        import sys

        if not sys.stdin.isatty():
            return None
        return getpass.getpass(f"[{self.host(host).name}] sudo password: ")

    def retry_until(self, host: int, callback: int, output: str) -> bool:
        with self._context(host):
            return bool(self._callables[callback](json.loads(output)))


def current_state() -> State:
    state = context.current("state")
    if state is None:
        from oxinfra.api.exceptions import PyinfraError

        raise PyinfraError("no oxinfra run is in progress")
    return state  # type: ignore[no-any-return]
