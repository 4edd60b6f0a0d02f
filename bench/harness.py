"""The benchmark of issue 5: the same deploy with the floor, oxinfra, pyinfra and Ansible on
fresh lab hosts, first run and no-change re-run, for each host count and round-trip
time. Started by `bench/run` (which sets up the virtualenv and builds oxinfra);
bench/README.md says what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

import floor
import labhosts
import measure
import report

BENCH = Path(__file__).resolve().parent
WORKLOAD = BENCH / "workload"
VENV = BENCH / ".venv" / "bin"
TOOLS = ("floor", "oxinfra", "pyinfra", "ansible")
PHASES = ("first", "rerun")
FIELDS = [
    "hosts", "rtt_ms", "tool", "phase", "status", "wall_s", "cpu_s", "user_s", "sys_s", "max_rss_mib", "tree_pss_mib",
    "connections_per_host", "commands_per_host", "sftp_per_host", "sessions_per_host", "commands_per_host_max",
    "changed", "state", "reset", "load_before", "note",
]  # fmt: skip


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def given_arguments() -> list[str]:
    """The command line as the user gave it to bench/run (without what bench/run adds)."""
    argv = sys.argv[1:]
    if "--oxinfra-version" in argv:
        at = argv.index("--oxinfra-version")
        argv = argv[:at] + argv[at + 2 :]
    return argv


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", default="10,50,250", help="host counts, comma separated (default: 10,50,250)")
    parser.add_argument("--rtt", default="0,20", help="round-trip delays in ms, comma separated (default: 0,20)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"tools, comma separated (default: {','.join(TOOLS)})")
    parser.add_argument("--ansible-max-hosts", type=int, default=0, help="run Ansible only up to this many hosts (0: always)")
    parser.add_argument("--out", type=Path, help="results folder (default: bench/results/<date> for the whole matrix, else /tmp/oxinfra-bench/<time>)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one run of one tool may take")
    parser.add_argument("--merge", action="store_true", help="replace only the rows this run makes in an existing results folder")
    parser.add_argument("--oxinfra-version", default="unknown", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    arguments.hosts = [int(value) for value in arguments.hosts.split(",")]
    arguments.rtt = [int(value) for value in arguments.rtt.split(",")]
    arguments.tools = [value.strip() for value in arguments.tools.split(",")]
    unknown = set(arguments.tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))} (known: {', '.join(TOOLS)})")
    full = (arguments.hosts, arguments.rtt, arguments.tools) == ([10, 50, 250], [0, 20], list(TOOLS))
    if arguments.out is None:
        # Only the whole matrix (or a --merge into it) lands in bench/results/, to be committed.
        now = datetime.datetime.now()
        partial = not full and not arguments.merge
        arguments.out = Path(f"/tmp/oxinfra-bench/{now:%Y-%m-%dT%H%M%S}") if partial else BENCH / "results" / now.date().isoformat()
    # The tools run in their own folders: a relative --out must not depend on where.
    arguments.out = arguments.out.resolve()
    if (arguments.out / "results.csv").exists() and not arguments.merge:
        parser.error(f"{arguments.out} already holds results: --merge replaces only this run's rows, --out names another folder")
    return arguments


def tool_command(tool: str, phase: str, numbers: list[int], rundir: Path) -> tuple[list[str], dict[str, str] | None]:
    count = len(numbers)
    if tool == "oxinfra":
        return [str(VENV / "oxinfra"), "-y", "--parallel", str(count), str(rundir / "inventory.py"), "deploy.py"], None
    if tool == "pyinfra":
        return [str(VENV / "pyinfra"), "-y", "--parallel", str(count), str(rundir / "inventory.py"), "deploy.py"], None
    if tool == "ansible":
        env = {**os.environ, "ANSIBLE_CONFIG": str(rundir / "ansible.cfg"), "PATH": f"{VENV}:{os.environ['PATH']}"}
        return [str(VENV / "ansible-playbook"), "-i", str(rundir / "inventory.ini"), "playbook.yml"], env
    # The floor: one `ssh host sh -s < script` per host, all at once.
    kind = "first" if phase == "first" else "check"
    lines = ["pids=''"]
    for number in numbers:
        ssh = shlex.join(labhosts.ssh_command(number, "sh", "-s"))
        lines.append(f'{ssh} < {rundir}/floor-{kind}-host{number}.sh > {rundir}/floor-host{number}.out 2>&1 & pids="$pids $!"')
    lines.append('failed=0; for p in $pids; do wait "$p" || failed=$((failed + 1)); done')
    lines.append('[ "$failed" = 0 ] || { echo "floor: $failed hosts failed" >&2; exit 1; }')
    (rundir / f"floor-{kind}.sh").write_text("\n".join(lines) + "\n")
    return ["/bin/sh", str(rundir / f"floor-{kind}.sh")], None


def prepare(rundir: Path, numbers: list[int]) -> None:
    rundir.mkdir(parents=True, exist_ok=True)
    labhosts.write_pyinfra_inventory(rundir / "inventory.py", numbers)
    labhosts.write_ansible_inventory(rundir / "inventory.ini", numbers)
    (rundir / "cp").mkdir(exist_ok=True)
    # Ansible as its docs advise for speed: pipelining, ControlPersist (in a folder of
    # this run, so a run never reuses another's connections), one fork per host.
    (rundir / "ansible.cfg").write_text(
        "[defaults]\n"
        f"forks = {len(numbers)}\n"
        "host_key_checking = True\n"
        "retry_files_enabled = False\n"
        "interpreter_python = /usr/bin/python3\n"
        f"local_tmp = {rundir}/ansible-tmp\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        "ssh_args = -o ControlMaster=auto -o ControlPersist=60s\n"
        f"control_path_dir = {rundir}/cp\n"
    )
    for number in numbers:
        hostname = f"host{number}"
        (rundir / f"floor-first-host{number}.sh").write_text(floor.changes(hostname, labhosts.host_data(number)))
        (rundir / f"floor-check-host{number}.sh").write_text(floor.check())


def changed_operations(tool: str, out: Path, err: Path) -> int | None:
    """How many operation runs changed a host, as the tool reports it."""
    text = out.read_text(errors="replace") + err.read_text(errors="replace")
    if tool == "ansible":
        found = re.findall(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)", text, re.MULTILINE)
        return sum(int(value) for value in found) if found else None
    if tool in ("oxinfra", "pyinfra"):
        # the results table's last row: "Grand total  HOSTS  SUCCESS  ERROR  NO-CHANGE"
        found = re.findall(r"^\s*Grand total\s+\d+\s+(\d+|-)\s", text, re.MULTILINE)
        return (0 if found[-1] == "-" else int(found[-1])) if found else None
    return None


def per_host(counts: dict[int, dict[str, int]], name: str) -> float:
    return statistics.median(values[name] for values in counts.values())


def run_cell(arguments: argparse.Namespace, count: int, rtt: int, writer, rows: list[dict], raw: dict, earlier: dict | None = None) -> None:
    numbers = labhosts.host_numbers(count)
    rundir = arguments.out / "logs" / f"{count}-hosts-{rtt}ms"
    say(f"== {count} hosts (host{numbers[0]}..host{numbers[-1]}), {rtt} ms RTT")
    labhosts.up(numbers)
    labhosts.delay(rtt)
    prepare(rundir, numbers)
    states: dict[str, dict[int, labhosts.HostState]] = {}
    for tool in arguments.tools:
        if tool == "ansible" and arguments.ansible_max_hosts and count > arguments.ansible_max_hosts:
            say(f"ansible: skipped above {arguments.ansible_max_hosts} hosts (--ansible-max-hosts)")
            continue
        how = labhosts.reset(numbers, say)
        before = labhosts.pids(numbers)
        failed_first = False
        for phase in PHASES:
            row = {"hosts": count, "rtt_ms": rtt, "tool": tool, "phase": phase, "reset": how}
            if failed_first:
                row.update(status="skipped", note="first run failed")
                record(writer, rows, row)
                continue
            command, env = tool_command(tool, phase, numbers, rundir)
            mark = rundir / "mark"
            labhosts.logs_mark(mark)
            row["load_before"] = round(measure.load_average(), 2)
            out, err = rundir / f"{tool}-{phase}.out", rundir / f"{tool}-{phase}.err"
            say(f"{tool} {phase}: {shlex.join(command[:4])} ...")
            result = measure.run(command, cwd=WORKLOAD, out=out, err=err, env=env, timeout=arguments.timeout)
            counts = labhosts.logs_count(mark, numbers)
            after = labhosts.pids(numbers)
            status = "ok"
            notes = []
            if result.timed_out:
                status = "timeout"
            elif result.exit_code != 0:
                status = "failed"
                notes.append(f"exit {result.exit_code}: " + " | ".join(line.strip() for line in result.stderr_tail[-3:]))
            if after != before:
                status = "disturbed"
                notes.append("a lab host restarted during the run (someone ran lab reset/down?)")
            if result.leftovers:
                notes.append(f"{result.leftovers} leftover processes ended")
            usual = per_host(counts, "connections")
            crowded = sorted(n for n, c in counts.items() if c["connections"] > usual)
            if crowded:
                hosts = ", ".join(f"host{n}" for n in crowded[:5]) + (" ..." if len(crowded) > 5 else "")
                notes.append(f"more SSH connections than the other hosts on {hosts}: someone else used them during the run")
            row.update(
                status=status,
                wall_s=round(result.wall_s, 2),
                cpu_s=round(result.cpu_s, 2),
                user_s=round(result.user_s, 2),
                sys_s=round(result.sys_s, 2),
                max_rss_mib=round(result.max_rss_mib, 1),
                tree_pss_mib=round(result.tree_pss_mib, 1),
                connections_per_host=per_host(counts, "connections"),
                commands_per_host=per_host(counts, "commands"),
                sftp_per_host=per_host(counts, "sftp"),
                sessions_per_host=statistics.median(c["commands"] + c["sftp"] + c["shells"] for c in counts.values()),
                commands_per_host_max=max(c["commands"] for c in counts.values()),
                changed=changed_operations(tool, out, err),
                note="; ".join(notes),
            )
            if status != "ok":
                say(f"{tool} {phase}: {status.upper()} {row['note']}")
                if phase == "first":
                    failed_first = True
            host_states = {number: labhosts.host_state(number) for number in numbers}
            if phase == "first":
                states[tool] = host_states
            else:
                moved = [number for number in numbers if host_states[number].digest != states[tool][number].digest]
                if moved:
                    notes.append(f"re-run changed the state of {len(moved)} hosts")
                    row["note"] = "; ".join(notes)
            raw.setdefault("runs", []).append({**row, "per_host_counts": counts, "digests": {n: s.digest for n, s in host_states.items()}})
            say(f"{tool} {phase}: {row['status']} wall {row['wall_s']} s, cpu {row['cpu_s']} s, rss {row['max_rss_mib']} MiB, "
                f"{row['connections_per_host']} conn + {row['commands_per_host']} cmd + {row['sftp_per_host']} sftp per host")  # fmt: skip
            record(writer, rows, row)
    compare_states(count, rtt, states, rows, raw, earlier_floor(earlier, count, rtt))


def earlier_floor(earlier: dict | None, count: int, rtt: int) -> dict[int, str] | None:
    """The floor's per-host digests after its first run, from an earlier run into the same folder."""
    for run in (earlier or {}).get("runs", []):
        if (int(run["hosts"]), int(run["rtt_ms"]), run["tool"], run["phase"], run["status"]) == (count, rtt, "floor", "first", "ok"):
            return {int(number): digest for number, digest in run["digests"].items()}
    return None


def compare_states(count: int, rtt: int, states: dict, rows: list[dict], raw: dict, floor_digests: dict[int, str] | None = None) -> None:
    """Marks each tool's rows with whether it left every host as the reference did.

    The reference is the floor, or else the first tool whose first run succeeded; a tool
    whose first run failed is compared too (it shows how far it got) but is never the reference.
    """
    cell = [row for row in rows if (row["hosts"], row["rtt_ms"]) == (count, rtt)]
    succeeded = [tool for tool in states if any(r["tool"] == tool and r["phase"] == "first" and r["status"] == "ok" for r in cell)]
    if "floor" not in succeeded and floor_digests:
        states = {"floor": {n: labhosts.HostState({}, digest) for n, digest in floor_digests.items()}, **states}
        succeeded = ["floor", *succeeded]
    if not succeeded:
        return
    reference = "floor" if "floor" in succeeded else succeeded[0]
    for tool, host_states in states.items():
        if not any(row["tool"] == tool for row in cell):
            continue
        differing = [n for n, state in host_states.items() if state.digest != states[reference][n].digest]
        verdict = f"same as {reference}" if not differing else f"differs from {reference} on {len(differing)}/{len(host_states)}"
        if tool == reference:
            verdict = "reference"
        for row in cell:
            if row["tool"] == tool:
                row["state"] = verdict
        if differing:
            first = differing[0]
            raw.setdefault("state_differences", []).append(
                {
                    "hosts": count,
                    "rtt_ms": rtt,
                    "tool": tool,
                    "host": first,
                    "got": host_states[first].description,
                    "reference": states[reference][first].description,
                }
            )
            say(f"{tool}: state {verdict} (first: host{first}; see raw.json)")


def record(writer, rows: list[dict], row: dict) -> None:
    rows.append(row)
    writer.writerow({key: row.get(key, "") for key in FIELDS})


def merge(earlier_rows: list[dict], earlier: dict, rows: list[dict], raw: dict) -> tuple[list[dict], dict]:
    """The earlier results with this run's rows in place of the same tool, phase and setting."""
    key = lambda row: (int(row["hosts"]), int(row["rtt_ms"]), row["tool"], row["phase"])  # noqa: E731
    replaced = {key(row) for row in rows}
    merged = [row for row in earlier_rows if key(row) not in replaced] + rows
    merged.sort(key=lambda row: (int(row["hosts"]), int(row["rtt_ms"]), TOOLS.index(row["tool"]), PHASES.index(row["phase"])))
    runs = [run for run in earlier.get("runs", []) if key(run) not in replaced] + raw.get("runs", [])
    later = [*earlier.get("later_runs", []), {name: raw[name] for name in ("command", "oxinfra", "started", "finished")}]
    redone = {(hosts, rtt, tool) for hosts, rtt, tool, _ in replaced}
    kept = [entry for entry in earlier.get("state_differences", []) if (entry["hosts"], entry["rtt_ms"], entry["tool"]) not in redone]
    differences = kept + raw.get("state_differences", [])
    return merged, {**earlier, "runs": runs, "later_runs": later, "state_differences": differences}


def main() -> int:
    arguments = parse_arguments()
    arguments.out.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    raw = {
        "started": started,
        "command": "bench/run " + shlex.join(given_arguments()),
        "oxinfra": arguments.oxinfra_version,
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()},
    }
    original_delay = labhosts.current_delay()
    rows: list[dict] = []
    csv_path = arguments.out / "results.csv"
    earlier_rows: list[dict] = []
    earlier: dict | None = None
    if arguments.merge and csv_path.exists():
        with open(csv_path, newline="") as file:
            earlier_rows = list(csv.DictReader(file))
        earlier = json.loads((arguments.out / "raw.json").read_text())
    progress = arguments.out / ("results.new.csv" if earlier else "results.csv")
    try:
        with open(progress, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=FIELDS)
            writer.writeheader()
            for count in sorted(arguments.hosts):
                for rtt in arguments.rtt:
                    run_cell(arguments, count, rtt, writer, rows, raw, earlier)
                    file.flush()
    finally:
        labhosts.delay(int(float(original_delay)))
        raw["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
        if earlier:
            rows, raw = merge(earlier_rows, earlier, rows, raw)
            progress.unlink()
        # the state verdicts are known only once a cell ends: write the rows again with them
        with open(csv_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=FIELDS)
            writer.writeheader()
            for row in rows:
                writer.writerow({key: row.get(key, "") for key in FIELDS})
        (arguments.out / "raw.json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    report.write(arguments.out, rows, raw)
    say(f"results in {arguments.out}")
    failed = [row for row in rows if row.get("status") not in ("ok", None)]
    for row in failed:
        say(f"not ok: {row['tool']} {row['phase']} on {row['hosts']} hosts at {row['rtt_ms']} ms: {row['status']} {row.get('note', '')}")
    return 1 if failed else 0


if __name__ == "__main__":
    time.tzset()
    sys.exit(main())
