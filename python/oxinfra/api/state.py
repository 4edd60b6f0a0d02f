"""The Python side of a run: the engine handle, the hosts, and the objects the engine
calls back by id (`_if` conditions, `python.call` functions, operation generators,
`_retry_until`). Implements the hooks the engine calls during execute, and pyinfra's
`State` surface for embedding programs: stages, callback handlers (called as the
engine's events arrive, see `oxinfra.api.callbacks`), the active and failed hosts, the
operation order and meta, and per-host results."""

from __future__ import annotations

import enum
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

from oxinfra import _core, context
from oxinfra.api.callbacks import Dispatcher
from oxinfra.api.command import command_data
from oxinfra.api.config import Config


class BaseStateCallback:
    """Subclass and pass to `State.add_callback_handler`; every method receives the state
    first. Callbacks are called as things happen, from the engine's threads (one at a
    time), with pyinfra's arguments and in pyinfra's order for each host."""

    @staticmethod
    def host_before_connect(state: State, host: Any) -> None:
        pass

    @staticmethod
    def host_connect(state: State, host: Any) -> None:
        pass

    @staticmethod
    def host_connect_error(state: State, host: Any, error: Any) -> None:
        pass

    @staticmethod
    def host_disconnect(state: State, host: Any) -> None:
        pass

    @staticmethod
    def operation_start(state: State, op_hash: str) -> None:
        pass

    @staticmethod
    def operation_host_start(state: State, host: Any, op_hash: str) -> None:
        pass

    @staticmethod
    def operation_host_success(state: State, host: Any, op_hash: str, retry_count: int = 0) -> None:
        pass

    @staticmethod
    def operation_host_error(state: State, host: Any, op_hash: str, retry_count: int = 0, max_retries: int = 0) -> None:
        pass

    @staticmethod
    def operation_host_retry(state: State, host: Any, op_hash: str, retry_num: int, max_retries: int) -> None:
        pass

    @staticmethod
    def operation_end(state: State, op_hash: str) -> None:
        pass


class StateStage(enum.IntEnum):
    """The stages of a run; a state only moves forward."""

    Setup = 1
    Connect = 2
    Prepare = 3
    Execute = 4
    Disconnect = 5


@dataclass
class StateOperationMeta:
    """What every host shares about one operation: its names, arguments and order."""

    op_order: tuple[int, ...]
    names: set[str] = field(default_factory=set)
    args: list[str] = field(default_factory=list)
    global_arguments: dict[str, Any] = field(default_factory=dict)
    nested: bool = False


@dataclass
class StateOperationHostData:
    """One host's registration of an operation."""

    global_arguments: dict[str, Any]
    operation_meta: Any
    parent_op_hash: str | None = None


@dataclass
class StateHostMeta:
    """A host's prepared operations: how many, and how many are expected to change."""

    ops: int = 0
    ops_change: int = 0
    ops_no_change: int = 0
    op_hashes: set[str] = field(default_factory=set)


@dataclass
class StateHostResults:
    """A host's executed operations by outcome (an ignored error counts in `ops` too)."""

    ops: int = 0
    success_ops: int = 0
    error_ops: int = 0
    ignored_error_ops: int = 0
    partial_ops: int = 0


class State:
    """One run: its inventory, config and engine. `State(inventory, config)` as in pyinfra.
    Quiet by default, as pyinfra's API: only warnings and errors reach stderr;
    `human_output=True` prints what the `oxinfra` command prints. `settings` are the
    CLI's output settings (verbosity, printing command output, debug)."""

    initialised = False
    current_stage = StateStage.Setup

    def __init__(
        self,
        inventory: Any = None,
        config: Config | None = None,
        check_for_changes: bool = True,
        initial_limit: list[Any] | None = None,
        *,
        human_output: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.check_for_changes = check_for_changes
        self._human_output = human_output or settings is not None
        self._dispatcher: Dispatcher | None = None
        self.cwd = os.getcwd()
        self.is_executing = False
        self.is_cli = False
        self.current_deploy_filename: str | None = None
        self.current_include_dir: str | None = None
        self.current_op_file_number = 0
        self.noops: dict[tuple[int, str], str] = {}
        self.callback_handlers: list[BaseStateCallback] = []
        self.op_meta: dict[str, StateOperationMeta] = {}
        self.ops: dict[Any, dict[str, StateOperationHostData]] = {}
        self._settings = settings or {}
        self._ids = itertools.count(1)
        self._callables: dict[int, Callable[..., Any]] = {}
        self._functions: dict[int, tuple[Callable[..., Any], Any, Any]] = {}
        self._generators: dict[int, tuple[Callable[[], Iterator[Any]], dict[str, Any], Config, str | None]] = {}
        self._running: dict[int, tuple[Iterator[Any], Any, Config]] = {}
        # Per host, the hashes of the Python operations running now (nested ones on top).
        self._executing: dict[int, list[str]] = {}
        self._running_host: dict[int, int] = {}
        self._activated: set[Any] = set()
        self._changes_detected = True
        if inventory is not None:
            self.init(inventory, config, initial_limit)

    def init(self, inventory: Any, config: Config | None, initial_limit: list[Any] | None = None) -> None:
        """Attaches the inventory and config and creates the engine for their hosts;
        `initial_limit` (hosts or names) leaves every other host out of the run."""
        if initial_limit is not None:
            inventory.limit([getattr(host, "name", host) for host in initial_limit], [])
        self.inventory = inventory
        self.config = config or Config()
        engine_settings = {
            "deploy_dir": self.cwd,
            "diff": bool(self.config.DIFF),
            "verbosity": self._settings.get("verbosity", 0),
            "parallel": int(self.config.PARALLEL or 0),
            "fail_percent": self.config.FAIL_PERCENT,
            "print_output": self._settings.get("print_output", False),
            "debug": self._settings.get("debug", False),
        }
        self.engine = _core.Engine(json.dumps(engine_settings), [(host.name, host.connector_data_json()) for host in inventory])
        self.engine.set_hooks(self)
        self.engine.set_quiet(not self._human_output)
        self.ops = {host: {} for host in inventory}
        inventory.state = self
        for host in inventory:
            host.state = self
        self.initialised = True
        self._listen()

    def set_stage(self, stage: StateStage) -> None:
        if stage < self.current_stage:
            raise ValueError("State stage cannot go backwards!")
        self.current_stage = stage

    def should_check_for_changes(self) -> bool:
        return self.check_for_changes

    # Callback handlers.

    def add_callback_handler(self, handler: BaseStateCallback) -> None:
        """Adds an object whose methods are called as hosts connect and operations run."""
        if not isinstance(handler, BaseStateCallback):
            raise TypeError(f"{handler} is not a valid callback handler (use `BaseStateCallback`)")
        self.callback_handlers.append(handler)
        self._listen()

    def _listen(self) -> None:
        """Has the engine report its events once there is someone to call back."""
        if self._dispatcher is None and self.callback_handlers and self.initialised:
            self._dispatcher = Dispatcher(self)
            self.engine.add_listener(self._dispatcher)

    @property
    def dispatcher(self) -> Dispatcher | None:
        """What turns the engine's events into callbacks, once a handler was added."""
        return self._dispatcher

    @property
    def human_output(self) -> bool:
        """Whether the engine prints the `oxinfra` command's lines on stderr (`[host]
        Connected`, `--> Starting operation: ...`, `[host] Success`); when false (the
        default in embedding programs) it prints only warnings and errors."""
        return self._human_output

    @human_output.setter
    def human_output(self, value: bool) -> None:
        self._human_output = bool(value)
        if self.initialised:
            self.engine.set_quiet(not self._human_output)

    def trigger_callbacks(self, method_name: str, *args: Any, **kwargs: Any) -> None:
        for handler in self.callback_handlers:
            getattr(handler, method_name)(self, *args, **kwargs)

    # Hosts, operations and results, read from the engine.

    def _hosts(self, indexes: list[int]) -> set[Any]:
        return {self.inventory.hosts_by_index[index] for index in indexes}

    @property
    def active_hosts(self) -> set[Any]:
        """Hosts that connected and have not failed."""
        return self._hosts(self.engine.active_hosts())

    @property
    def failed_hosts(self) -> set[Any]:
        return self._hosts(self.engine.failed_hosts())

    @property
    def activated_hosts(self) -> set[Any]:
        """Hosts that connected at some point (the failed ones included)."""
        return set(self._activated)

    def activate_host(self, host: Any) -> None:
        self._activated.add(host)

    def is_host_in_limit(self, host: Any) -> bool:
        return host in self.inventory

    def record_operation(self, host: Any, op_hash: str, order: list[int], name: str, args: list[str], global_arguments: dict[str, Any], meta: Any) -> None:
        """Remembers an operation registered on `host` (what pyinfra keeps in
        `op_meta` and `ops`); operations registered while executing are nested."""
        op_meta = self.op_meta.get(op_hash)
        if op_meta is None:
            op_meta = self.op_meta[op_hash] = StateOperationMeta(tuple(order), args=args, global_arguments=global_arguments, nested=self.is_executing)
        op_meta.names.add(name)
        running = self._executing.get(host.index)
        parent = running[-1] if self.is_executing and running else None
        self.ops.setdefault(host, {})[op_hash] = StateOperationHostData(global_arguments, meta, parent)
        self._changes_detected = False

    def get_op_order(self) -> list[str]:
        """The hashes of the operations in execution order (nested ones left out)."""
        plan = json.loads(self.engine.json_report(False))["plan"]
        return [entry["op_hash"] for entry in plan if not getattr(self.op_meta.get(entry["op_hash"]), "nested", False)]

    def get_op_meta(self, op_hash: str) -> StateOperationMeta:
        return self.op_meta[op_hash]

    def get_op_data_for_host(self, host: Any, op_hash: str) -> StateOperationHostData:
        return self.ops[host][op_hash]

    def detect_changes(self) -> None:
        """Plans every operation registered since the last detection against the hosts'
        state before the run, so that `OperationMeta.will_change` is known."""
        if not self._changes_detected and self.engine.active_hosts():
            self.engine.detect_changes()
        self._changes_detected = True

    def get_meta_for_host(self, host: Any) -> StateHostMeta:
        meta = StateHostMeta()
        for op_hash, data in self.ops.get(host, {}).items():
            meta.ops += 1
            meta.op_hashes.add(op_hash)
            if data.operation_meta.will_change:
                meta.ops_change += 1
            else:
                meta.ops_no_change += 1
        return meta

    @property
    def meta(self) -> dict[Any, StateHostMeta]:
        return {host: self.get_meta_for_host(host) for host in self.inventory}

    def result(self, host: Any, op_hash: str) -> dict[str, Any] | None:
        """The engine's result of an operation on a host, once it ran."""
        text = self.engine.result(host.index, op_hash)
        return json.loads(text) if text else None

    def get_results_for_host(self, host: Any) -> StateHostResults:
        results = StateHostResults()
        for op_hash in self.ops.get(host, {}):
            result = self.result(host, op_hash)
            if result is None:
                continue
            if result["success"]:
                results.ops += 1
                results.success_ops += 1
                continue
            if result["ignored_error"]:
                results.ops += 1
                results.ignored_error_ops += 1
            else:
                results.error_ops += 1
            if result["commands"]:
                results.partial_ops += 1
        return results

    @property
    def results(self) -> dict[Any, StateHostResults]:
        return {host: self.get_results_for_host(host) for host in self.inventory}

    # Registries of Python objects the engine refers to by id.

    def register_callable(self, function: Callable[..., Any]) -> int:
        identifier = next(self._ids)
        self._callables[identifier] = function
        return identifier

    def register_function(self, function: Callable[..., Any], args: Any, kwargs: Any) -> int:
        identifier = next(self._ids)
        self._functions[identifier] = (function, args, kwargs)
        return identifier

    def register_generator(
        self, factory: Callable[[], Iterator[Any]], global_arguments: dict[str, Any], host_config: Config, op_hash: str | None = None
    ) -> int:
        identifier = next(self._ids)
        self._generators[identifier] = (factory, global_arguments, host_config, op_hash)
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
        factory, global_arguments, host_config, op_hash = self._generators[operation]
        handle = next(self._ids)
        with self._context(host, host_config):
            self._running[handle] = (factory(), global_arguments, host_config)
        if op_hash is not None:
            self._executing.setdefault(host, []).append(op_hash)
            self._running_host[handle] = host
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
        host = self._running_host.pop(handle, None)
        if host is not None and self._executing.get(host):
            self._executing[host].pop()

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
                    # Only this pyinfra 2 form reports failure by returning False.
                    return function(self, target, *args, **kwargs) is not False
                function(*args, **kwargs)
                return True
        finally:
            target.in_op = in_op

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
