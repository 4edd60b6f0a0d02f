"""The `oxinfra` command: pyinfra 3.10's CLI flow (load config, load inventory,
connect, prepare, detect changes, execute, results, disconnect) and its exit codes.
Options are parsed by the engine (clap); this module runs the Python parts and prints
errors that name the file and line, the argument or the host."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, NoReturn

from oxinfra import _alias, _core, context
from oxinfra.api.config import Config
from oxinfra.api.connect import connect_all, disconnect_all
from oxinfra.api.exceptions import PyinfraError
from oxinfra.api.operations import run_ops


class CliError(Exception):
    """An error the CLI reports in one line, then exits 1."""


def _parse_value(text: str) -> Any:
    """pyinfra's `parse_cli_arg`: booleans, then ints, then JSON, else the text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key_values(pairs: list[str], what: str) -> dict[str, Any]:
    values = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise CliError(f"Invalid {what} `{pair}`: use key=value")
        values[key] = _parse_value(value)
    return values


def _user_frame(error: BaseException) -> str | None:
    """`file line N` of the innermost frame of user code in a traceback."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{os.path.relpath(error.filename)} line {error.lineno}"
    package = os.path.dirname(os.path.abspath(__file__))
    location = None
    for frame in traceback.extract_tb(error.__traceback__):
        filename = os.path.abspath(frame.filename)
        if not filename.startswith(package) and "site-packages" not in filename and not frame.filename.startswith("<"):
            location = f"{os.path.relpath(filename)} line {frame.lineno}"
    return location


_last_error: list[str | None] = [None]


def _fail(message: str, hint: str | None = None) -> NoReturn:
    _last_error[0] = message
    _core.header(f"oxinfra error: {message}")
    if hint:
        _core.line(f"hint: {hint}")
    raise SystemExit(1)


def _load_config(path: str, config: Config) -> None:
    if not os.path.isfile(path):
        return
    with context.use(config=config):
        namespace = {"__file__": path, "__name__": "config"}
        with open(path) as file:
            source = file.read()
        exec(compile(source, path, "exec"), namespace)


def _apply_flags(options: dict[str, Any], config: Config) -> None:
    if options["sudo"]:
        config.SUDO = True
        if options["sudo_user"]:
            config.SUDO_USER = options["sudo_user"]
    if options["use_sudo_login"]:
        config.USE_SUDO_LOGIN = True
    if options["su_user"]:
        config.SU_USER = options["su_user"]
    if options["dzdo"]:
        config.DZDO = True
        if options["dzdo_user"]:
            config.DZDO_USER = options["dzdo_user"]
    if options["shell_executable"] is not None:
        config.SHELL = None if options["shell_executable"] in ("None", "null") else options["shell_executable"]
    if options["parallel"]:
        config.PARALLEL = options["parallel"]
    if options["retry"] is not None:
        config.RETRY = options["retry"]
    if options["retry_delay"] is not None:
        config.RETRY_DELAY = options["retry_delay"]
    if options["diff"]:
        config.DIFF = True
    if options["fail_percent"] is not None:
        config.FAIL_PERCENT = options["fail_percent"]
    if options["same_sudo_password"]:
        import getpass

        config.SUDO_PASSWORD = getpass.getpass("sudo password: ")


def _form(operations: list[str]) -> str:
    first = operations[0]
    if first == "debug-inventory":
        return "debug-inventory"
    if first == "fact":
        return "fact"
    if first == "exec":
        return "exec"
    if all(token.endswith(".py") for token in operations):
        return "deploy"
    if "." in first or ":" in first:
        return "operation"
    raise CliError(f"Invalid operations: {tuple(operations)}")


def _resolve(name: str, prefix: str) -> Any:
    """pyinfra's lookup: the bare `module.attr` (or `module:attr`) first, then `prefix.module.attr`."""
    import importlib

    module_name, _, attribute = name.replace(":", ".").rpartition(".")
    for candidate in (module_name, f"{prefix}.{module_name}"):
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        if hasattr(module, attribute):
            return getattr(module, attribute)
    return None


def _print_inventory(inventory: Any, as_json: bool) -> None:
    from oxinfra.api.util import to_plain

    if as_json:
        print(json.dumps([{"name": host.name, "groups": host.groups, "data": to_plain(host.data.dict())} for host in inventory], default=str))
        return
    for host in inventory:
        _core.line(f"[{host.name}]")
        _core.line(f"--> Groups: {', '.join(host.groups)}")
        _core.line("--> Data:")
        for data_line in json.dumps(to_plain(host.data.dict()), indent=4, default=str).splitlines():
            _core.line(data_line)


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
    """Python warnings as output lines (secrets masked), without the source line."""
    _core.line(f"{os.path.relpath(filename)}:{lineno}: {category.__name__}: {message}", "warning")


def run(argv: list[str]) -> int:
    if argv[1:2] == ["secret"]:
        from oxinfra import vault

        return vault.main(argv[2:])
    code, text, to_stdout = _core.parse_cli(argv)
    if code is not None:
        (sys.stdout if to_stdout else sys.stderr).write(text)
        return int(code)
    options = json.loads(text)
    sys.dont_write_bytecode = True
    import warnings

    warnings.showwarning = _show_warning
    if options["chdir"]:
        os.chdir(options["chdir"])
    sys.path.append(os.getcwd())
    _alias.install()
    import oxinfra

    oxinfra.is_cli = True
    form = _form(options["operations"])

    _core.header("Loading config...")
    config = Config()
    try:
        _load_config(options["config"], config)
    except Exception as error:
        _report_user_error(error, options["config"])
    _apply_flags(options, config)
    config.lock_current_state()

    _core.header("Loading inventory...")
    from oxinfra.api.inventory import make_inventory

    spec = options["inventory"]
    if spec.endswith(".py") and not os.path.isfile(spec):
        _fail(f"No inventory file: {spec}", "give an existing inventory file, a comma-separated list of hosts, or @local")
    override = _key_values(options["data"], "--data value")
    for flag in ("ssh_user", "ssh_port", "ssh_key", "ssh_key_password", "ssh_password"):
        if options[flag] is not None:
            override[flag] = options[flag]
    try:
        inventory = make_inventory(spec, override, options["group_data"], os.getcwd())
    except PyinfraError as error:
        _fail(str(error))
    except Exception as error:
        _report_user_error(error, spec)
    for pattern in inventory.limit(options["limit"], options["exclude"]):
        _core.line(f"No host matches found for --limit pattern: {pattern}", "warning")

    if form == "debug-inventory":
        _print_inventory(inventory, options["json"])
        return 0

    from oxinfra.api.state import State

    yes = options["yes"] or form == "exec"
    state = State(
        inventory,
        config,
        check_for_changes=not yes,
        settings={"verbosity": options["verbose"], "print_output": form == "exec", "debug": options["debug"] or options["debug_all"]},
    )
    state.is_cli = True
    # The event stream replaces pyinfra's one JSON document for runs; `fact` keeps it.
    json_events = options["json"] and form != "fact"
    # `--json` without -y plans only, as pyinfra's does.
    dry = options["dry"] or (options["json"] and not yes)
    state.engine.configure_output(dry, json_events)
    executed = False
    try:
        _core.header("Connecting to hosts...")
        connect_all(state)
        if form == "fact":
            return _run_facts(state, options)
        _prepare(state, form, options)
        if not yes:
            state.engine.detect_changes()
            if not options["json"]:
                state.engine.print_changes()
            if dry:
                return _finish(state, 0)
            _core.line("")
            _core.line("Detected changes displayed above, skip this step with -y")
            sys.stderr.write("    Press enter to execute...")
            sys.stderr.flush()
            answer = sys.stdin.readline()
            if not answer:
                _fail("No confirmation: standard input is closed", "pass -y to execute without asking")
            if answer.strip():
                _core.line(f"Unexpected user input: {answer}")
                return _finish(state, 0)
        else:
            _core.header("Skipping change detection")
            if dry:
                return _finish(state, 0)
        _core.header("Beginning operation run...")
        state.is_executing = True
        executed = True
        try:
            run_ops(state, serial=options["serial"], no_wait=options["no_wait"])
        except (_core.EngineError, PyinfraError):
            if not state.engine.interrupted():
                raise
        if state.engine.interrupted():
            raise KeyboardInterrupt
        state.engine.print_results()
        return _finish(state, 1 if state.engine.failed_hosts() else 0)
    except (_core.EngineError, PyinfraError) as error:
        _finish(state, 1, str(error), executed)
        _fail(str(error))
    except SystemExit as stop:
        # An error already printed (`_fail`, an exception in user code): end the stream.
        code = stop.code if isinstance(stop.code, int) else 1
        state.engine.finish_run(code, _last_error[0], executed and state.is_executing)
        disconnect_all(state)
        raise
    except KeyboardInterrupt:
        # Ctrl-C: the engine let running commands end (or cut them); show what ran.
        if executed:
            state.engine.print_results()
        _core.header("Interrupted by the user (Ctrl-C)")
        return _finish(state, 130, "interrupted by the user (Ctrl-C)", executed)


def _finish(state: Any, exit_code: int, error: str | None = None, executed: bool = True) -> int:
    """Ends a run: the `run_end` event, then the disconnect; returns `exit_code`."""
    state.engine.finish_run(exit_code, error, executed and state.is_executing)
    _core.header("Disconnecting from hosts...")
    disconnect_all(state)
    return exit_code


def _report_user_error(error: BaseException, default_file: str) -> NoReturn:
    """Reports an exception raised by user code: where, what, and the traceback tail."""
    location = _user_frame(error) or default_file
    kind = type(error).__name__
    if isinstance(error, SyntaxError):
        _core.header(f"Syntax error in {location}: {error.msg}")
        if error.text:
            _core.line(error.text.rstrip())
        raise SystemExit(1)
    if isinstance(error, PyinfraError):
        _core.header(f"{kind} in {location}: {error}")
        raise SystemExit(1)
    _core.header(f"An exception occurred in: {location}")
    for line in traceback.format_exception(type(error), error, error.__traceback__)[-3:]:
        for part in line.rstrip().splitlines():
            _core.line(part)
    raise SystemExit(1)


def _prepare(state: Any, form: str, options: dict[str, Any]) -> None:
    operations = options["operations"]
    hosts = [state.inventory.hosts_by_index[index] for index in state.engine.active_hosts()]
    if form == "exec":
        _core.header("Preparing exec operation...")
        command = " ".join(operations[2:] if operations[1:2] == ["--"] else operations[1:])
        from oxinfra.operations import server

        for host in hosts:
            with context.use(host=host, state=state, inventory=state.inventory, config=state.config.copy()):
                server.shell(command, _retries=state.config.RETRY, _retry_delay=state.config.RETRY_DELAY)
        return
    if form == "operation":
        _core.header("Preparing operation func...")
        function = _resolve(operations[0], "oxinfra.operations")
        if function is None:
            _fail(f"No such operation: {operations[0]}", "operations are named module.function, e.g. files.file or server.shell")
        args, kwargs = _operation_arguments(operations[1:])
        for host in hosts:
            with context.use(host=host, state=state, inventory=state.inventory, config=state.config.copy()):
                try:
                    function(*args, **kwargs)
                except PyinfraError as error:
                    _fail(f"{operations[0]}: {error}")
                except TypeError as error:
                    _fail(f"{operations[0]}: {error}")
        return
    _core.header("Preparing operation files...")
    for number, filename in enumerate(operations):
        if not os.path.isfile(filename):
            _fail(f"No deploy file: {filename}")
        path = os.path.abspath(filename)
        _core.line(f"Loading: {filename}")
        try:
            with open(path) as file:
                code = compile(file.read(), path, "exec")
        except SyntaxError as error:
            _report_user_error(error, filename)
        state.current_deploy_filename = path
        state.current_op_file_number = number
        for host in hosts:
            host_config = state.config.copy()
            with context.use(host=host, state=state, inventory=state.inventory, config=host_config):
                try:
                    exec(code, {"__file__": path, "__name__": "__main__"})
                except _core.EngineError as error:
                    _fail(str(error))
                except BaseException as error:
                    if isinstance(error, (SystemExit, KeyboardInterrupt)):
                        raise
                    _report_user_error(error, filename)
            state.engine.host_line(host.index, f"Ready: {filename}", "good")


def _operation_arguments(tokens: list[str]) -> tuple[list[Any], dict[str, Any]]:
    if len(tokens) == 1:
        try:
            parsed = json.loads(tokens[0])
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and len(parsed) == 2 and isinstance(parsed[0], list) and isinstance(parsed[1], dict):
            return parsed[0], parsed[1]
    args = [_parse_value(token) for token in tokens if "=" not in token]
    kwargs = {key: _parse_value(value) for key, _, value in (token.partition("=") for token in tokens if "=" in token)}
    return args, kwargs


def _run_facts(state: Any, options: dict[str, Any]) -> int:
    _core.header("Gathering facts...")
    tokens = options["operations"][1:]
    requests: list[tuple[str, dict[str, Any]]] = []
    for token in tokens:
        if "=" in token and requests:
            key, _, value = token.partition("=")
            requests[-1][1][key] = _parse_value(value)
        else:
            requests.append((token, {}))
    from oxinfra.api.facts import FactBase, ShortFactBase, read_fact

    results: dict[str, dict[str, Any]] = {}
    for name, kwargs in requests:
        fact = _resolve(name, "oxinfra.facts")
        if not (isinstance(fact, type) and issubclass(fact, (FactBase, ShortFactBase))):
            _fail(f"No such fact: {name}", "facts are named module.Class, e.g. server.Hostname or files.File")
        for index in state.engine.active_hosts():
            host = state.inventory.hosts_by_index[index]
            with context.use(host=host, state=state, inventory=state.inventory, config=state.config):
                try:
                    value = read_fact(host, fact, (), kwargs)
                except Exception as error:
                    _core.line(f"[{host.name}] could not load fact {name}: {error}", "bad")
                    value = None
            results.setdefault(name, {})[host.name] = value
    if options["json"]:
        print(json.dumps(results, default=str))
    else:
        for name, values in results.items():
            _core.header(f"Fact data for: {name}")
            print(json.dumps(values, indent=4, default=str), file=sys.stderr)
    _core.header("Disconnecting from hosts...")
    disconnect_all(state)
    return 0


def main() -> None:
    """The console script."""
    try:
        code = run(sys.argv)
    except CliError as error:
        _core.header(f"oxinfra error: {error}")
        code = 1
    except KeyboardInterrupt:
        _core.header("Exiting upon user request!")
        code = 130
    sys.exit(code)
