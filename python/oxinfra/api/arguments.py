"""The 32 global operation arguments: their types and defaults, and their resolution
in pyinfra's order (the call's keyword, then the enclosing `@deploy`/`host.when`/
`host.arguments` context, then host data, then the config default). A value that
differs from its default is type-checked and a wrong type raises `ArgumentTypeError`
naming the argument."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from oxinfra.api.command import HiddenValue
from oxinfra.api.exceptions import ArgumentTypeError


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_env(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(key, str) and isinstance(item, (str, HiddenValue)) for key, item in value.items())


def _is_exit_codes(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str) and all(_is_int(code) for code in value)


def _is_stdin(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, Iterable) and all(isinstance(line, str) for line in value))


def _is_callables(value: Any) -> bool:
    return callable(value) or (isinstance(value, (list, tuple)) and all(callable(item) for item in value))


def _is_shell(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_su_shell(value: Any) -> bool:
    return value is False or isinstance(value, str)


# name -> (check, type shown in errors, config key or a literal default)
ARGUMENTS: dict[str, tuple[Callable[[Any], bool], str, tuple[str, Any]]] = {
    "_sudo": (_is_bool, "bool", ("config", "SUDO")),
    "_sudo_user": (_is_str, "str", ("config", "SUDO_USER")),
    "_use_sudo_login": (_is_bool, "bool", ("config", "USE_SUDO_LOGIN")),
    "_sudo_password": (_is_str, "str", ("config", "SUDO_PASSWORD")),
    "_preserve_sudo_env": (_is_bool, "bool", ("config", "PRESERVE_SUDO_ENV")),
    "_su_user": (_is_str, "str", ("config", "SU_USER")),
    "_use_su_login": (_is_bool, "bool", ("config", "USE_SU_LOGIN")),
    "_preserve_su_env": (_is_bool, "bool", ("config", "PRESERVE_SU_ENV")),
    "_su_shell": (_is_su_shell, "str", ("config", "SU_SHELL")),
    "_su_password": (_is_str, "str", ("config", "SU_PASSWORD")),
    "_doas": (_is_bool, "bool", ("config", "DOAS")),
    "_doas_user": (_is_str, "str", ("config", "DOAS_USER")),
    "_dzdo": (_is_bool, "bool", ("config", "DZDO")),
    "_dzdo_user": (_is_str, "str", ("config", "DZDO_USER")),
    "_shell_executable": (_is_shell, "str", ("config", "SHELL")),
    "_chdir": (_is_str, "str", ("value", None)),
    "_env": (_is_env, "Mapping[str, str]", ("value", None)),
    "_success_exit_codes": (_is_exit_codes, "Iterable[int]", ("value", [0])),
    "_timeout": (_is_number, "int", ("value", None)),
    "_get_pty": (_is_bool, "bool", ("value", False)),
    "_stdin": (_is_stdin, "str | list[str]", ("value", None)),
    "_temp_dir": (_is_str, "str", ("config", "TEMP_DIR")),
    "name": (_is_str, "str", ("value", None)),
    "_ignore_errors": (_is_bool, "bool", ("config", "IGNORE_ERRORS")),
    "_continue_on_error": (_is_bool, "bool", ("value", False)),
    "_if": (_is_callables, "Callable | list[Callable]", ("value", None)),
    "_parallel": (_is_int, "int", ("config", "PARALLEL")),
    "_run_once": (_is_bool, "bool", ("value", False)),
    "_serial": (_is_bool, "bool", ("value", False)),
    "_retries": (_is_int, "int", ("config", "RETRY")),
    "_retry_delay": (_is_number, "int | float", ("config", "RETRY_DELAY")),
    "_retry_until": (callable, "Callable[[dict], bool]", ("value", None)),
}

EXECUTION_ARGUMENTS = ("_parallel", "_run_once", "_serial")


def default_of(name: str, config: Any) -> Any:
    source, key = ARGUMENTS[name][2]
    if source == "config":
        return getattr(config, key, None)
    return list(key) if isinstance(key, list) else key


def pop_global_arguments(kwargs: dict[str, Any], host: Any, config: Any, context_arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Removes the global arguments from `kwargs` and returns all 32, resolved."""
    context_arguments = context_arguments or {}
    resolved: dict[str, Any] = {}
    for name, (check, type_name, _) in ARGUMENTS.items():
        default = default_of(name, config)
        if name in kwargs:
            value = kwargs.pop(name)
        elif name in context_arguments:
            value = context_arguments[name]
        elif host is not None and name.startswith("_") and host.data.get(name) is not None:
            value = host.data.get(name)
        else:
            value = default
        if name == "_if":
            if value is None:
                value = []
            elif callable(value):
                value = [value]
            combined = list(context_arguments.get("_if") or []) if name not in kwargs else []
            value = [*combined, *[item for item in value if item not in combined]]
            if not all(callable(item) for item in value):
                raise ArgumentTypeError(f"Invalid argument `_if`: {type(value).__name__} is not callable")
            resolved[name] = value
            continue
        if value is not None and value != default and not check(value):
            raise ArgumentTypeError(f"Invalid argument `{name}`: {type(value).__name__} is not an instance of {type_name}")
        resolved[name] = value
    return resolved


def connector_data(arguments: dict[str, Any], config: Any, register_callable: Callable[[Callable[..., Any]], int]) -> dict[str, Any]:
    """The engine's form of resolved global arguments."""
    env: list[tuple[str, Any]] = []
    for key in config.INHERIT_ENV or ():
        if key in os.environ:
            env.append((key, os.environ[key]))
    merged = {**(config.ENV or {}), **(arguments.get("_env") or {})}
    for key, value in merged.items():
        env.append((key, {"secret": str(value.content)} if isinstance(value, HiddenValue) else str(value)))
    stdin = arguments.get("_stdin")
    if isinstance(stdin, str):
        stdin = [stdin]
    su_shell = arguments.get("_su_shell")
    data = {
        "_sudo": bool(arguments.get("_sudo")),
        "_sudo_user": arguments.get("_sudo_user"),
        "_use_sudo_login": bool(arguments.get("_use_sudo_login")),
        "_sudo_password": _reveal(arguments.get("_sudo_password")),
        "_preserve_sudo_env": bool(arguments.get("_preserve_sudo_env")),
        "_su_user": arguments.get("_su_user"),
        "_use_su_login": bool(arguments.get("_use_su_login")),
        "_preserve_su_env": bool(arguments.get("_preserve_su_env")),
        "_su_shell": su_shell if isinstance(su_shell, str) else None,
        "_su_password": _reveal(arguments.get("_su_password")),
        "_doas": bool(arguments.get("_doas")),
        "_doas_user": arguments.get("_doas_user"),
        "_dzdo": bool(arguments.get("_dzdo")),
        "_dzdo_user": arguments.get("_dzdo_user"),
        "_shell_executable": _shell(arguments.get("_shell_executable")),
        "_chdir": arguments.get("_chdir"),
        "_env": env,
        "_success_exit_codes": list(arguments.get("_success_exit_codes") or [0]),
        "_timeout": arguments.get("_timeout"),
        "_get_pty": bool(arguments.get("_get_pty")),
        "_stdin": [str(line) for line in (stdin or [])],
        "_temp_dir": arguments.get("_temp_dir"),
        "_ignore_errors": bool(arguments.get("_ignore_errors")),
        "_continue_on_error": bool(arguments.get("_continue_on_error")),
        "_if": [register_callable(condition) for condition in arguments.get("_if") or []],
        "_parallel": arguments.get("_parallel") or None,
        "_run_once": bool(arguments.get("_run_once")),
        "_serial": bool(arguments.get("_serial")),
        "_retries": int(arguments.get("_retries") or 0),
        "_retry_delay": float(arguments.get("_retry_delay") or 0),
        "_retry_until": register_callable(arguments["_retry_until"]) if arguments.get("_retry_until") else None,
    }
    return data


def _reveal(value: Any) -> Any:
    return str(value.content) if isinstance(value, HiddenValue) else value


def _shell(value: Any) -> Any:
    if value in (None, "None", "null"):
        return None
    return value
