"""results.md (the tables and issue 5's targets) and wall.png (wall time against host
count) from a results folder. `python bench/report.py bench/results/<date>` redoes them
from its results.csv and raw.json.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

TOOL_ORDER = ("floor", "oxinfra", "pyinfra", "ansible")
TARGET_HOSTS, TARGET_RTT, LARGE_HOSTS = 50, 20, 250


def _number(value):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _index(rows: list[dict]) -> dict[tuple, dict]:
    return {(int(row["hosts"]), int(row["rtt_ms"]), row["tool"], row["phase"]): row for row in rows}


def _value(index, hosts, rtt, tool, phase, field):
    row = index.get((hosts, rtt, tool, phase))
    if row is None or row.get("status") != "ok":
        return None
    return _number(row.get(field))


def _fmt(value, digits=1) -> str:
    if value is None:
        return "-"
    if abs(value - round(value)) < 1e-9 and digits <= 1:
        return str(round(value))
    return f"{value:.{digits}f}"


def _ratio(top, bottom):
    return None if top is None or bottom in (None, 0) else top / bottom


def targets(index: dict) -> list[list[str]]:
    h, r = TARGET_HOSTS, TARGET_RTT
    wall = lambda tool, phase, hosts=h: _value(index, hosts, r, tool, phase, "wall_s")  # noqa: E731
    cpu = lambda tool, phase: _value(index, h, r, tool, phase, "cpu_s")  # noqa: E731
    lines = []

    def add(what, wanted, measured, ok):
        verdict = "-" if ok is None else ("met" if ok else "not met")
        lines.append([what, wanted, measured, verdict])

    ratio = _ratio(wall("pyinfra", "rerun"), wall("oxinfra", "rerun"))
    add("re-run: pyinfra wall / oxinfra wall", ">= 10", _fmt(ratio, 2), None if ratio is None else ratio >= 10)
    commands = _value(index, h, r, "oxinfra", "rerun", "sessions_per_host")
    add("re-run: oxinfra remote commands per host", "<= 3", _fmt(commands), None if commands is None else commands <= 3)
    ratio = _ratio(wall("pyinfra", "first"), wall("oxinfra", "first"))
    add("first run: pyinfra wall / oxinfra wall", ">= 1.5", _fmt(ratio, 2), None if ratio is None else ratio >= 1.5)
    ratio = _ratio(wall("oxinfra", "first"), wall("floor", "first"))
    add("first run: oxinfra wall / floor wall", "<= 1.3", _fmt(ratio, 2), None if ratio is None else ratio <= 1.3)
    for phase, label in (("first", "first run"), ("rerun", "re-run")):
        ratio = _ratio(cpu("pyinfra", phase), cpu("oxinfra", phase))
        add(f"controller CPU, {label}: pyinfra / oxinfra", ">= 5", _fmt(ratio, 2), None if ratio is None else ratio >= 5)
    large = _value(index, LARGE_HOSTS, r, "oxinfra", "rerun", "wall_s")
    add(
        f"{LARGE_HOSTS} hosts: oxinfra re-run completes",
        "yes",
        "yes" if large is not None else "no",
        large is not None if (LARGE_HOSTS, r, "oxinfra", "rerun") in index else None,
    )
    growth = _ratio(large, wall("oxinfra", "rerun"))
    add(
        f"oxinfra re-run wall, {LARGE_HOSTS} / {h} hosts",
        f"<= {LARGE_HOSTS / h:g} (linear)",
        _fmt(growth, 2),
        None if growth is None else growth <= LARGE_HOSTS / h,
    )
    for phase, label in (("first", "first run"), ("rerun", "re-run")):
        rss = _value(index, LARGE_HOSTS, r, "oxinfra", phase, "max_rss_mib")
        per = None if rss is None else rss / LARGE_HOSTS
        add(
            f"{LARGE_HOSTS} hosts, {label}: oxinfra peak RSS per host",
            "<= 1 MiB",
            "-" if per is None else f"{per:.2f} MiB ({rss:.0f} MiB)",
            None if per is None else per <= 1,
        )
    return lines


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def markdown(rows: list[dict], raw: dict) -> str:
    index = _index(rows)
    cells = sorted({(int(row["hosts"]), int(row["rtt_ms"])) for row in rows})
    out = [f"# Benchmark results, {raw.get('started', '')[:10]}", ""]
    out.append(f"Command: `{raw.get('command', 'bench/run')}`; oxinfra `{raw.get('oxinfra', '?')}`; ")
    machine = raw.get("machine", {})
    out.append(f"{machine.get('cpus', '?')} CPUs, kernel {machine.get('kernel', '?')}; {raw.get('started', '')} to {raw.get('finished', '')}.")
    for later in raw.get("later_runs", []):
        out.append(f"Rows of a later run replace the same rows of the first: `{later['command']}`, {later['started']} to {later['finished']}.")
    out += ["", "See `bench/README.md` for what each column measures and the caveats.", ""]
    out += [f"## Issue 5's targets ({TARGET_HOSTS} hosts, {TARGET_RTT} ms RTT unless said)", ""]
    out += _table(["target", "wanted", "measured", ""], targets(index))
    for hosts, rtt in cells:
        out += ["", f"## {hosts} hosts, {rtt} ms RTT", ""]
        header = ["tool", "first run s", "re-run s", "CPU first s", "CPU re-run s", "peak RSS MiB", "tree PSS MiB",
                  "conn/host", "remote cmds/host first", "remote cmds/host re-run", "changed re-run", "state"]  # fmt: skip
        body = []
        notes = []
        for tool in TOOL_ORDER:
            first, rerun = index.get((hosts, rtt, tool, "first")), index.get((hosts, rtt, tool, "rerun"))
            if first is None:
                continue

            def get(row, field, digits=1):
                if row is None or row.get("status") != "ok":
                    return row.get("status", "-") if row else "-"
                return _fmt(_number(row.get(field)), digits)

            peak = max((v for v in (_number(first.get("max_rss_mib")), _number(rerun.get("max_rss_mib") if rerun else None)) if v is not None), default=None)
            pss = max((v for v in (_number(first.get("tree_pss_mib")), _number(rerun.get("tree_pss_mib") if rerun else None)) if v is not None), default=None)
            sessions = lambda row: get(row, "sessions_per_host")  # noqa: E731
            body.append([tool, get(first, "wall_s"), get(rerun, "wall_s"), get(first, "cpu_s"), get(rerun, "cpu_s"),
                         _fmt(peak), _fmt(pss), get(first, "connections_per_host"), sessions(first), sessions(rerun),
                         get(rerun, "changed") if rerun and rerun.get("changed") not in (None, "") else "-", first.get("state", "")])  # fmt: skip
            for row in (first, rerun):
                if row and row.get("note"):
                    notes.append(f"- {tool} {row['phase']}: {row['note']}")
        out += _table(header, body)
        if notes:
            out += ["", *notes]
    return "\n".join(out) + "\n"


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    index = _index(rows)
    rtts = sorted({int(row["rtt_ms"]) for row in rows})
    hosts = sorted({int(row["hosts"]) for row in rows})
    figure, axes = plt.subplots(1, len(rtts), figsize=(6 * len(rtts), 4.5), squeeze=False)
    colours = {"floor": "#777777", "oxinfra": "#d9480f", "pyinfra": "#1971c2", "ansible": "#2b8a3e"}
    for axis, rtt in zip(axes[0], rtts):
        for tool in TOOL_ORDER:
            for phase, style in (("first", "-"), ("rerun", "--")):
                points = [(h, _value(index, h, rtt, tool, phase, "wall_s")) for h in hosts]
                points = [(h, w) for h, w in points if w is not None]
                if points:
                    label = f"{tool} {'first run' if phase == 'first' else 're-run'}"
                    axis.plot(*zip(*points), style, marker="o", color=colours[tool], label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(hosts, [str(h) for h in hosts])
        axis.set_xlabel("hosts")
        axis.set_ylabel("wall time (s)")
        axis.set_title(f"{rtt} ms round trip")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write(folder: Path, rows: list[dict], raw: dict) -> None:
    (folder / "results.md").write_text(markdown(rows, raw))
    chart(rows, folder / "wall.png")


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    with open(folder / "results.csv") as file:
        loaded = list(csv.DictReader(file))
    write(folder, loaded, json.loads((folder / "raw.json").read_text()))
