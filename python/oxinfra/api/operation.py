"""Operations: the `@operation()` decorator for generator functions (user operations,
`python.call`), `builtin_operation` for operations planned in Rust, what calling one
does during a run (resolve global arguments, name it, give it its identity from the
call site, register it with the engine), and `OperationMeta`, the result object."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import sys
from collections.abc import Generator, Iterator
from typing import Any, Callable

from oxinfra import context
from oxinfra.api.arguments import connector_data, pop_global_arguments
from oxinfra.api.command import PlannedCommand
from oxinfra.api.exceptions import OperationError, OperationTypeError, OperationValueError, PyinfraError
from oxinfra.api.util import to_plain

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ERRORS: dict[str, type[Exception]] = {
    "OperationError": OperationError,
    "OperationTypeError": OperationTypeError,
    "OperationValueError": OperationValueError,
    "ValueError": ValueError,
    "OSError": OSError,
}
# Arguments whose values are never shown in operation labels.
_SECRET_NAMES = ("password", "secret", "token", "passphrase")


class OperationMeta:
    """What calling an operation returns: its prepare-time change guess and, once it
    ran, its result on this host."""

    def __init__(self, state: Any, host: Any, op_hash: str | None, will_change: bool | None = None) -> None:
        self._state = state
        self._host = host
        self._hash = op_hash
        self._will_change = will_change

    def __repr__(self) -> str:
        return f"OperationMeta(executed={self.executed}, hash={self._hash})"

    def _result(self) -> dict[str, Any] | None:
        if self._hash is None:
            return None
        text = self._state.engine.result(self._host.index, self._hash)
        return json.loads(text) if text else None

    def _completed(self) -> dict[str, Any]:
        result = self._result()
        if result is None:
            raise RuntimeError("Cannot evaluate operation result before execution")
        return result

    @property
    def executed(self) -> bool:
        return self._result() is not None

    def is_complete(self) -> bool:
        return self.executed

    @property
    def will_change(self) -> bool:
        if self._will_change is None and self._hash is not None:
            self._will_change = self._state.engine.will_change(self._host.index, self._hash)
            if self._will_change is None and self._state.check_for_changes and not (self._state.is_executing or self._state.is_cli):
                self._state.detect_changes()
                self._will_change = self._state.engine.will_change(self._host.index, self._hash)
        return bool(self._will_change)

    def did_change(self) -> bool:
        result = self._completed()
        return bool(result["success"] and result["commands"] > 0)

    def did_not_change(self) -> bool:
        return not self.did_change()

    def did_succeed(self, _raise_if_not_complete: bool = True) -> bool:
        return bool(self._completed()["success"])

    def did_error(self) -> bool:
        return not self._completed()["success"]

    @property
    def changed(self) -> bool:
        return self.did_change() if self.executed else self.will_change

    @property
    def stdout_lines(self) -> list[str]:
        return list(self._completed()["stdout"])

    @property
    def stderr_lines(self) -> list[str]:
        return list(self._completed()["stderr"])

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    @property
    def retry_attempts(self) -> int:
        return int(self._completed()["retries"])

    @property
    def max_retries(self) -> int:
        return int(self._completed()["max_retries"])

    @property
    def was_retried(self) -> bool:
        return self.retry_attempts > 0

    @property
    def retry_succeeded(self) -> bool:
        return self.was_retried and self.did_succeed()

    def get_retry_info(self) -> dict[str, Any]:
        return {
            "retry_attempts": self.retry_attempts,
            "max_retries": self.max_retries,
            "was_retried": self.was_retried,
            "retry_succeeded": self.retry_succeeded,
        }


def _is_library_frame(filename: str) -> bool:
    return filename.startswith((_PACKAGE_DIR, "<")) or "site-packages" in filename or "dist-packages" in filename


def operation_order(state: Any, host: Any) -> list[int]:
    """pyinfra's `op_order`: the deploy file's number, the line numbers of the call
    stack from the deploy file inwards (library frames left out), and loop positions."""
    if state.current_deploy_filename is None:
        return [len(host.op_hash_order)]
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back  # type: ignore[assignment]
    lines: list[int] = []
    started = False
    for frame in reversed(frames):
        filename = os.path.abspath(frame.f_code.co_filename)
        if not started and filename != state.current_deploy_filename:
            continue
        started = True
        if not _is_library_frame(filename):
            lines.append(frame.f_lineno)
    return [state.current_op_file_number, *lines, *host.loop_positions]


def _operation_hash(host: Any, order: list[int]) -> tuple[str, list[int]]:
    op_hash = hashlib.sha1(json.dumps(order).encode()).hexdigest()
    if op_hash not in host.op_hash_order:
        return op_hash, order
    duplicate = 0
    while f"{op_hash}-{duplicate}" in host.op_hash_order:
        duplicate += 1
    return f"{op_hash}-{duplicate}", [*order, duplicate]


def _arguments_shown(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str]:
    """The arguments as shown after an automatic operation name; secrets are masked."""

    def shown(key: str, value: Any) -> str:
        return "*MASKED*" if any(name in key.lower() for name in _SECRET_NAMES) else str(value)

    return [str(arg) for arg in args] + [f"{key}={shown(key, value)}" for key, value in kwargs.items()]


def _plan_builtin(planner: str, arguments: dict[str, Any]) -> Iterator[Any]:
    """Plans a built-in operation on the current host against live facts and yields
    its commands (what `files.put._inner(...)` gives inside a user operation)."""
    from oxinfra.api.state import current_state

    state = current_state()
    host = context.current("host")
    global_arguments = host.current_op_global_arguments
    if global_arguments is None:
        global_arguments = connector_data(pop_global_arguments({}, host, state.config), state.config, state.register_callable)
    response = json.loads(state.engine.plan(host.index, planner, json.dumps(to_plain(arguments)), json.dumps(global_arguments)))
    if "error" in response:
        raise _ERRORS.get(response["error"], OperationError)(response["message"])
    if response.get("noop"):
        host.noop(response["noop"])
    for command in response["commands"]:
        yield PlannedCommand(command)


def _planner_call(planner: str, body: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = body(*args, **kwargs)
    if isinstance(result, tuple):
        return result[0], to_plain(result[1])
    return planner, to_plain(result)


def _wrap(function: Callable[..., Any], planner: str | None, is_deprecated: bool = False, deprecated_for: str | None = None) -> Callable[..., OperationMeta]:
    module = function.__module__.replace("oxinfra.operations.", "").replace("pyinfra.operations.", "")
    op_name = f"{module}.{function.__name__}"

    if planner is None:
        inner = function
    else:

        @functools.wraps(function)
        def inner(*args: Any, **kwargs: Any) -> Iterator[Any]:
            name, arguments = _planner_call(planner, function, args, kwargs)
            yield from _plan_builtin(name, arguments)

    @functools.wraps(function)
    def decorated(*args: Any, **kwargs: Any) -> OperationMeta:
        from oxinfra.api.state import current_state

        state = current_state()
        host = context.current("host")
        if host is None:
            raise PyinfraError(f"`{op_name}` was called outside a deploy: there is no current host")
        if host.in_op:
            raise PyinfraError(f"Operation `{op_name}` called inside another operation: use `{op_name}._inner(...)`")
        if is_deprecated:
            import warnings

            warnings.warn(
                f"The `{op_name}` operation is deprecated" + (f", use `{deprecated_for}`" if deprecated_for else ""), DeprecationWarning, stacklevel=2
            )
        config = context.current("config") or state.config
        shown_kwargs = {key: value for key, value in kwargs.items() if not (key.startswith("_") or key == "name")}
        global_arguments = pop_global_arguments(kwargs, host, config, host.context_arguments())
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as error:
            raise OperationTypeError(f"{op_name}: {error}") from None

        explicit_name = global_arguments.get("name")
        shown_arguments = [] if explicit_name else _arguments_shown(args, shown_kwargs)
        label = ", ".join(shown_arguments)
        name = host.name_prefix() + (explicit_name or op_name)
        order = operation_order(state, host)
        op_hash, order = _operation_hash(host, order)
        engine_arguments = connector_data(global_arguments, config, state.register_callable)

        call: dict[str, Any] = {
            "host": host.index,
            "hash": op_hash,
            "order": order,
            "name": name,
            "arguments_label": label,
            "global_arguments": engine_arguments,
            "nested": state.is_executing,
        }
        will_change = None
        if planner is not None:
            call["planner"], call["arguments"] = _planner_call(planner, function, args, kwargs)
        else:

            def factory() -> Generator[Any, None, None]:
                host.in_op = True
                try:
                    yield from function(*args, **kwargs)
                finally:
                    host.in_op = False

            call["generator"] = state.register_generator(factory, engine_arguments, config.copy(), op_hash)
            if state.check_for_changes and not state.is_executing:
                will_change = _first_command_exists(factory, host, engine_arguments)
        host.op_hash_order.append(op_hash)
        meta = OperationMeta(state, host, op_hash, will_change)
        if state.is_executing:
            state.record_operation(host, op_hash, order, name, shown_arguments, global_arguments, meta)
            state.engine.run_nested(json.dumps(call))
            return meta
        if not state.engine.register(json.dumps(call)):
            return OperationMeta(state, host, None, will_change=False)
        state.record_operation(host, op_hash, order, name, shown_arguments, global_arguments, meta)
        if will_change is not None:
            state.engine.set_will_change(host.index, op_hash, will_change)
        return meta

    decorated._inner = inner  # type: ignore[attr-defined]
    decorated._oxinfra_planner = planner  # type: ignore[attr-defined]
    decorated.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    return decorated


def _first_command_exists(factory: Callable[[], Generator[Any, None, None]], host: Any, engine_arguments: dict[str, Any]) -> bool:
    """Advances a fresh generator to its first command, as pyinfra's change detection."""
    previous = host.current_op_global_arguments
    host.current_op_global_arguments = engine_arguments
    generator = factory()
    try:
        next(generator)
        return True
    except StopIteration:
        return False
    finally:
        generator.close()
        host.current_op_global_arguments = previous


def operation(
    is_idempotent: bool = True, idempotent_notice: str | None = None, is_deprecated: bool = False, deprecated_for: str | None = None, _set_in_op: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., OperationMeta]]:
    """Turns a generator function that yields commands into an operation."""
    if callable(is_idempotent):
        raise PyinfraError("`@operation` must be called: use `@operation()`")

    def decorator(function: Callable[..., Any]) -> Callable[..., OperationMeta]:
        return _wrap(function, None, is_deprecated, deprecated_for)

    return decorator


def builtin_operation(planner: str) -> Callable[[Callable[..., Any]], Callable[..., OperationMeta]]:
    """An operation planned in Rust: the function converts its arguments to plain data
    (returning them, or `(other_planner, arguments)`)."""

    def decorator(function: Callable[..., Any]) -> Callable[..., OperationMeta]:
        return _wrap(function, planner)

    return decorator


def add_op(state: Any, op_func: Callable[..., OperationMeta], *args: Any, **kwargs: Any) -> dict[Any, OperationMeta]:
    """Prepares an operation on every active host (or on `host=`, one host or a list),
    as pyinfra's API; returns `{host: OperationMeta}`."""
    import oxinfra

    if oxinfra.is_cli:
        raise PyinfraError("`add_op` should not be called when oxinfra is executing in CLI mode")
    hosts = kwargs.pop("host", None)
    if hosts is None:
        hosts = state.inventory.get_active_hosts()
    elif not isinstance(hosts, (list, tuple, set)):
        hosts = [hosts]
    results = {}
    for target in hosts:
        with context.use(host=target, state=state, inventory=state.inventory, config=state.config):
            results[target] = op_func(*args, **kwargs)
    return results
