"""Facts: `FactBase` and `ShortFactBase` for facts written in Python, the classes of
the built-in facts (read by the engine, batched and cached), and `get_fact`. In an
embedding program a fact that cannot be read fails its host and gives the fact's
default, as pyinfra's API does; inside an `oxinfra` command run it raises."""

from __future__ import annotations

import inspect
import json
from typing import Any, Generic, TypeVar

from oxinfra import _core, context
from oxinfra.api.arguments import ARGUMENTS, connector_data, pop_global_arguments
from oxinfra.api.command import StringCommand
from oxinfra.api.exceptions import FactError, FactProcessError

T = TypeVar("T")


class FactBase(Generic[T]):
    """A fact written in Python: `command` (a string or a method taking the fact's
    arguments) and `process(output_lines)`."""

    name: str = ""
    abstract: bool = True
    shell_executable: str | None = None
    requires_command: Any = None
    command: Any = None
    _builtin: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = cls.__module__.replace("oxinfra.facts.", "").replace("pyinfra.facts.", "")
        if not cls.__dict__.get("_builtin"):
            cls.name = f"{module}.{cls.__name__}"
        cls.abstract = False
        command = cls.__dict__.get("command")
        if callable(command):
            clashes = [name for name in inspect.signature(command).parameters if name in ARGUMENTS]
            if clashes:
                raise TypeError(f"fact `{cls.__name__}` may not take global argument names: {clashes}")

    @staticmethod
    def default() -> Any:
        return None

    def process(self, output: list[str]) -> Any:
        return "\n".join(output)

    def check_preconditions(self, state: Any, host: Any) -> str | None:
        return None


class ShortFactBase(Generic[T]):
    """A fact derived from another one by `process_data`."""

    fact: type[FactBase[Any]]
    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = cls.__module__.replace("oxinfra.facts.", "").replace("pyinfra.facts.", "")
        cls.name = f"{module}.{cls.__name__}"

    def process_data(self, data: Any) -> Any:
        return data


def builtin_fact(name: str, doc: str = "") -> type[FactBase[Any]]:
    """The Python class of a fact the engine reads."""

    def command(self: Any, *args: Any, **kwargs: Any) -> str:
        raise FactError(f"`{name}` is read by the engine; use host.get_fact({name.split('.')[-1]}, ...)")

    namespace = {
        "_builtin": True,
        "name": name,
        "__doc__": doc or f"The `{name}` fact.",
        "command": command,
        "__module__": "oxinfra.facts." + name.rsplit(".", 1)[0],
    }
    return type(name.rsplit(".", 1)[1], (FactBase,), namespace)


def _global_arguments(host: Any, state: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    if host.current_op_global_arguments is not None and not overrides:
        return host.current_op_global_arguments  # type: ignore[no-any-return]
    config = context.current("config") or state.config
    return connector_data(pop_global_arguments(dict(overrides), host, config, host.context_arguments()), config, state.register_callable)


def read_fact(host: Any, fact: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, apply_failed_hosts: bool = True) -> Any:
    """Reads `fact` on `host` in the current run (or the run the host belongs to):
    built-in facts through the engine's cache, Python facts by running their command.
    `apply_failed_hosts=False` keeps the host in the run when the fact cannot be read."""
    from oxinfra.api.state import current_state

    state = context.current("state") or getattr(host, "state", None) or current_state()
    kwargs = dict(kwargs or {})
    overrides = {key: kwargs.pop(key) for key in list(kwargs) if key in ARGUMENTS}
    global_arguments = _global_arguments(host, state, overrides)
    if isinstance(fact, type) and issubclass(fact, ShortFactBase):
        short = fact()
        return short.process_data(read_fact(host, fact.fact, args, {**kwargs, **overrides}, apply_failed_hosts))
    if not (isinstance(fact, type) and issubclass(fact, FactBase)):
        raise FactError(f"{fact!r} is not a fact class")
    if fact._builtin:
        from oxinfra.api.util import to_plain

        try:
            text = state.engine.get_fact(host.index, fact.name, json.dumps(to_plain(list(args))), json.dumps(to_plain(kwargs)), json.dumps(global_arguments))
        except RuntimeError as error:
            if state.is_cli:
                raise
            failure = str(error)
        else:
            return json.loads(text)
        _unreadable(state, host, failure, global_arguments, apply_failed_hosts)
        return json.loads(state.engine.fact_default(fact.name))
    return _python_fact(host, state, fact, args, kwargs, global_arguments, apply_failed_hosts)


def _unreadable(state: Any, host: Any, message: str, global_arguments: dict[str, Any], apply_failed_hosts: bool) -> None:
    """What pyinfra's API does with a fact it cannot read: says so on the host's line
    and, unless errors are ignored, fails the host (`PyinfraError` when none is left)."""
    from oxinfra.api.exceptions import PyinfraError

    ignored = bool(global_arguments.get("_ignore_errors"))
    state.engine.host_line(host.index, f"Error: {message}", "warning" if ignored else "bad")
    if apply_failed_hosts and not ignored:
        try:
            state.engine.fail_host(host.index)
        except _core.EngineError as error:
            raise PyinfraError(str(error)) from error


def _python_fact(
    host: Any,
    state: Any,
    fact_class: type[FactBase[Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    global_arguments: dict[str, Any],
    apply_failed_hosts: bool = True,
) -> Any:
    fact = fact_class()
    reason = fact.check_preconditions(state, host)
    if reason:
        from oxinfra.api.exceptions import FactPreconditionError

        raise FactPreconditionError(reason)
    command = fact.command(*args, **kwargs) if callable(fact.command) else fact.command
    requires = fact.requires_command(*args, **kwargs) if callable(fact.requires_command) else fact.requires_command
    if not isinstance(command, StringCommand):
        command = StringCommand(command)
    if requires:
        command = StringCommand(f"if command -v {requires} >/dev/null 2>&1; then (", command, "); else echo '##PYINFRA_NOCMD##'; fi")
    arguments = dict(global_arguments)
    if fact.shell_executable:
        arguments["_shell_executable"] = fact.shell_executable
    success, output, errors = _run_fact_command(state, host, command, arguments)
    if not success and not state.is_cli and not _is_unknown_user(errors):
        _unreadable(state, host, f"could not load fact: {fact_class.name}", global_arguments, apply_failed_hosts)
    if output == ["##PYINFRA_NOCMD##"] or not success or not output:
        return fact.default()
    try:
        return fact.process(output)
    except Exception as error:
        raise FactProcessError(f"could not process fact {fact_class.name}: {error}") from error


def _run_fact_command(state: Any, host: Any, command: StringCommand, arguments: dict[str, Any]) -> tuple[bool, list[str], list[str]]:
    planned = json.loads(state.engine.run_command(host.index, json.dumps(command.to_data()["command"]), json.dumps(arguments)))
    return bool(planned["success"]), list(planned["stdout"]), list(planned["stderr"])


def _is_unknown_user(stderr: list[str]) -> bool:
    """Whether a failed fact says its `_sudo_user`/`_su_user` does not exist (yet): pyinfra
    gives the default then, without failing the host."""
    first = stderr[0] if stderr else ""
    return first.startswith(("sudo: unknown user", "su: unknown login")) or (first.startswith("su: user ") and first.endswith("does not exist"))


def get_fact(state: Any, host: Any, cls: Any, args: Any = None, kwargs: Any = None, ensure_hosts: Any = None, apply_failed_hosts: bool = True) -> Any:
    """Reads a fact on one host, as pyinfra's API. A fact that cannot be read gives its
    default and fails the host, unless `apply_failed_hosts` is false or the fact's
    `_ignore_errors` is set (`ensure_hosts` is accepted for compatibility and ignored)."""
    with context.use(host=host, state=state, inventory=state.inventory, config=state.config):
        return read_fact(host, cls, tuple(args or ()), dict(kwargs or {}), apply_failed_hosts)


def get_facts(state: Any, cls: Any, args: Any = None, kwargs: Any = None) -> dict[Any, Any]:
    """Reads a fact on every active host, the hosts in parallel; returns `{host: value}`."""
    from concurrent.futures import ThreadPoolExecutor

    hosts = [state.inventory.hosts_by_index[index] for index in state.engine.active_hosts()]
    if len(hosts) <= 1:
        return {host: get_fact(state, host, cls, args, kwargs) for host in hosts}
    # The engine releases the GIL while it waits on a host, so threads overlap the waits.
    with ThreadPoolExecutor(max_workers=min(len(hosts), 32)) as pool:
        futures = {host: pool.submit(get_fact, state, host, cls, args, kwargs) for host in hosts}
        return {host: future.result() for host, future in futures.items()}


_ = _core  # the extension is imported first so that errors name it
