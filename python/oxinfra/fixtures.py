"""Runs a folder of pyinfra-format fixtures through oxinfra's registries:
`python -m oxinfra.fixtures DIR [--min-rate 95]`.

DIR holds `operations/<mod>.<op>/*.json|yaml` and `facts/<mod>.<Fact>/*.json|yaml`.
Every case of an implemented operation or fact runs; failures print with a short diff;
cases of what oxinfra lacks count as "not implemented", not as failures. The last line
is `N passed, N failed`. With `--min-rate`, the exit code is 1 when an implemented group
passes fewer than that percentage of its cases."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from oxinfra import _core


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


if __name__ == "__main__":
    sys.exit(main())
