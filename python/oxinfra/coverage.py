"""The coverage table: every operation and fact of pyinfra 3.10, and whether oxinfra has it.

``catalogue.json`` lists pyinfra's operations and facts by name, by module; what oxinfra
has comes from the engine's registries plus the operations written in Python only.

    python -m oxinfra.coverage                            # print the table
    python -m oxinfra.coverage --output docs/coverage.md  # write it
    python -m oxinfra.coverage --check docs/coverage.md   # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from oxinfra import _core

CATALOGUE = Path(__file__).with_name("catalogue.json")

# Operations that run or render in Python and so are not in the engine's registry.
PYTHON_OPERATIONS = frozenset({"python.call", "python.raise_exception", "files.template", "server.script_template"})

REGENERATE = "python -m oxinfra.coverage --output docs/coverage.md"


@dataclass(frozen=True)
class Module:
    """One pyinfra module's operations and facts, each with whether oxinfra has it."""

    name: str
    operations: list[tuple[str, bool]]
    facts: list[tuple[str, bool]]


def load_catalogue(path: Path = CATALOGUE) -> dict[str, object]:
    """pyinfra's operations and facts: ``{"pyinfra": version, "operations": {module:
    [names]}, "facts": {module: [names]}}``."""
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def implemented_operations() -> set[str]:
    """Every operation oxinfra has, as ``module.function``."""
    return set(json.loads(_core.operation_params())) | PYTHON_OPERATIONS


def implemented_facts() -> set[str]:
    """Every fact oxinfra has, as ``module.Class``."""
    return set(_core.fact_names())


def modules(catalogue: dict[str, object], operations: set[str], facts: set[str]) -> list[Module]:
    """The catalogue's modules, sorted by name, with what oxinfra has of each."""
    wanted_operations: dict[str, list[str]] = catalogue["operations"]  # type: ignore[assignment]
    wanted_facts: dict[str, list[str]] = catalogue["facts"]  # type: ignore[assignment]
    result = []
    for name in sorted(set(wanted_operations) | set(wanted_facts)):
        result.append(
            Module(
                name,
                [(operation, f"{name}.{operation}" in operations) for operation in wanted_operations.get(name, [])],
                [(fact, f"{name}.{fact}" in facts) for fact in wanted_facts.get(name, [])],
            )
        )
    return result


def _count(items: list[tuple[str, bool]]) -> str:
    if not items:
        return ""
    return f"{sum(have for _, have in items)} of {len(items)}"


def render(catalogue: dict[str, object] | None = None, operations: set[str] | None = None, facts: set[str] | None = None) -> str:
    """The coverage table as markdown."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    operations = implemented_operations() if operations is None else operations
    facts = implemented_facts() if facts is None else facts
    table = modules(catalogue, operations, facts)
    all_operations = [item for module in table for item in module.operations]
    all_facts = [item for module in table for item in module.facts]
    have_operations = sum(have for _, have in all_operations)
    have_facts = sum(have for _, have in all_facts)

    lines = [
        f"# Coverage of pyinfra {catalogue['pyinfra']}",
        "",
        "Which of pyinfra's operations and facts oxinfra has, generated from oxinfra's registries by",
        f"`{REGENERATE}`. A test fails when this file is out of date.",
        "",
        f"**{have_operations} of {len(all_operations)} operations, {have_facts} of {len(all_facts)} facts.**",
        "",
        "| module | operations | facts |",
        "| --- | --- | --- |",
    ]
    lines += [f"| [{module.name}](#{module.name.replace('.', '')}) | {_count(module.operations)} | {_count(module.facts)} |" for module in table]

    known = {f"{module.name}.{name}" for module in table for name, _ in module.operations}
    known_facts = {f"{module.name}.{name}" for module in table for name, _ in module.facts}
    extra = sorted((operations - known) | (facts - known_facts))
    if extra:
        lines += ["", "Not in pyinfra (check the name): " + ", ".join(f"`{name}`" for name in extra) + "."]

    for module in table:
        lines += ["", f"## {module.name}", "", "| kind | name | oxinfra |", "| --- | --- | --- |"]
        lines += [f"| operation | `{module.name}.{name}` | {'yes' if have else 'no'} |" for name, have in module.operations]
        lines += [f"| fact | `{module.name}.{name}` | {'yes' if have else 'no'} |" for name, have in module.facts]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oxinfra.coverage", description="Which of pyinfra's operations and facts oxinfra has.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--output", metavar="FILE", type=Path, help="write the table to FILE instead of printing it")
    group.add_argument("--check", metavar="FILE", type=Path, help="exit 1 when FILE is not what would be written")
    options = parser.parse_args(argv)

    text = render()
    if options.check is not None:
        current = options.check.read_text() if options.check.is_file() else None
        if current != text:
            state = "is missing" if current is None else "is out of date"
            print(f"error: `{options.check}` {state}\nhint: regenerate it with `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
