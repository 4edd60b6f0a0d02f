"""Runs a folder of pyinfra-format fixtures through oxinfra's registries:
`python -m oxinfra.fixtures DIR [--min-rate 95]`.

DIR holds `operations/<mod>.<op>/*.json|yaml` and `facts/<mod>.<Fact>/*.json|yaml`.
Every case of an implemented operation or fact runs; failures print with a short diff;
cases of what oxinfra lacks count as "not implemented", not as failures. The last line
is `N passed, N failed`. With `--min-rate`, the exit code is 1 when an implemented group
passes fewer than that percentage of its cases."""

from __future__ import annotations

import argparse
import datetime
import importlib
import io
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

from oxinfra import _core, context
from oxinfra.api import util
from oxinfra.api.command import FunctionCommand, PyinfraCommand

# Operations rendered or run by the Python front: their cases run through the wrapper.
PYTHON_GROUPS = ("files.template", "server.script_template", "python.call", "python.raise_exception")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oxinfra.fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder with operations/ and facts/")
    parser.add_argument("--min-rate", type=float, default=None, help="fail when an implemented group passes less than this percentage")
    parser.add_argument("--quiet", action="store_true", help="do not print each failure")
    options = parser.parse_args(argv)
    if not options.folder.is_dir():
        print(f"error: no fixtures folder at `{options.folder}`", file=sys.stderr)
        return 2

    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    not_implemented = skipped = 0
    for kind in ("operations", "facts"):
        root = options.folder / kind
        if not root.is_dir():
            continue
        for group in sorted(path for path in root.iterdir() if path.is_dir()):
            for case in sorted(path for path in group.iterdir() if path.suffix in (".json", ".yaml", ".yml")):
                if kind == "operations" and group.name in PYTHON_GROUPS:
                    outcome, message = run_python_case(group.name, case)
                else:
                    outcome, message = _core.run_fixture_case(kind, group.name, str(case))
                if outcome == "passed":
                    counts[group.name][0] += 1
                elif outcome == "failed":
                    counts[group.name][1] += 1
                    if not options.quiet:
                        print(f"FAIL {kind}/{group.name}/{case.name}")
                        for line in message.splitlines()[:20]:
                            print(f"    {line}")
                elif outcome == "not_implemented":
                    not_implemented += 1
                else:
                    skipped += 1

    below = []
    print()
    for group, (passed, failed) in sorted(counts.items()):
        rate = 100.0 * passed / (passed + failed)
        print(f"{group:45} {passed:4}/{passed + failed:<4} {rate:6.1f}%")
        if options.min_rate is not None and rate < options.min_rate:
            below.append(group)
    passed = sum(passed for passed, _ in counts.values())
    failed = sum(failed for _, failed in counts.values())
    print(f"\n{not_implemented} not implemented, {skipped} skipped (other platforms)")
    if below:
        print(f"below {options.min_rate}%: {', '.join(below)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if below else 0


def _decode(value: Any) -> Any:
    """pyinfra-testing's value markers, as Python objects."""
    if isinstance(value, str):
        if value.startswith("datetime:"):
            return datetime.datetime.fromisoformat(value[len("datetime:") :])
        if value.startswith("path:"):
            return Path(value[len("path:") :])
        if value.startswith("io:"):
            return io.StringIO(value[len("io:") :])
        return value
    if isinstance(value, list):
        if value[:1] == ["set:"]:
            return {_decode(item) for item in value[1:]}
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    return value


class _VirtualReader(util.LocalReader):
    """The case's local files, read as pyinfra-testing's patched `open` reads them."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.files: dict[str, str] = {}
        self._add("/", case.get("local_files") or {})

    def _add(self, base: str, tree: dict[str, Any]) -> None:
        for name, content in (tree.get("files") or {}).items():
            self.files[os.path.join(base, name)] = "_test_data_" if content is None else content
        for name, subtree in (tree.get("dirs") or {}).items():
            self._add(os.path.join(base, name), subtree)

    def read_text(self, path: str) -> str:
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def read_lines(self, path: str) -> list[str]:
        # pyinfra-testing's file objects iterate over words, not lines.
        return self.read_text(path).split()


class _FixtureEngine:
    def __init__(self, case: dict[str, Any]) -> None:
        self.case = case

    def plan(self, host: int, planner: str, arguments: str, global_arguments: str) -> str:
        return _core.plan_fixture(planner, arguments, json.dumps(self.case))


class _FixtureHost:
    name = "fixture-host"
    index = 0
    current_op_global_arguments: ClassVar[dict[str, Any]] = {}
    in_op = False
    executing_op_hash = None

    def noop(self, description: str) -> None:
        self.noop_description = description


class _FixtureState:
    cwd = "/"
    is_executing = False
    inventory: ClassVar[list[Any]] = []

    def __init__(self, case: dict[str, Any]) -> None:
        self.engine = _FixtureEngine(case)


def _encode(command: Any) -> Any:
    if isinstance(command, FunctionCommand):
        function = command.function if isinstance(command.function, str) else command.function.__name__
        return [function, list(command.args), dict(command.kwargs)]
    if isinstance(command, PyinfraCommand):
        data = command.to_data()
        return json.loads(_core.encode_command(json.dumps(data)))
    return str(command).strip()


def run_python_case(group: str, path: Path) -> tuple[str, str]:
    """Runs a case of an operation the Python front renders or runs."""
    case = json.loads(_core.load_fixture(str(path)))
    module_name, _, name = group.rpartition(".")
    operation = getattr(importlib.import_module(f"oxinfra.operations.{module_name}"), name)
    args = [_decode(value) for value in case.get("args", [])]
    kwargs = {key: _decode(value) for key, value in (case.get("kwargs") or {}).items()}
    reader, util.local_reader = util.local_reader, _VirtualReader(case)
    try:
        with context.use(state=_FixtureState(case), host=_FixtureHost(), inventory=[]):
            commands = [_encode(command) for command in operation._inner(*args, **kwargs)]
    except Exception as error:
        expected = case.get("exception")
        if not expected:
            return "failed", f"{type(error).__name__}: {error}"
        names = [expected["name"]] if "name" in expected else expected.get("names", [])
        if type(error).__name__ in names and expected.get("message", str(error)) == str(error):
            return "passed", ""
        return "failed", f"expected {names}: {expected.get('message')!r}\n     got {type(error).__name__}: {error!r}"
    finally:
        util.local_reader = reader
    if "exception" in case:
        return "failed", f"expected {case['exception']}, got commands {commands}"
    if commands != case.get("commands", []):
        return "failed", f"expected {case.get('commands')}\n     got {commands}"
    return "passed", ""


if __name__ == "__main__":
    sys.exit(main())
