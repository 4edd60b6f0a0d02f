"""What people and programs read: the `--json` event stream against its schema, `--dry`
listing the commands a real run then sends, `--diff`, the per-host results table, the
progress line and colours on a terminal, and `NO_COLOR`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "json-events.schema.json").read_text())


def _deploy(tmp_path: Path) -> Path:
    """Three operations that do not depend on each other, on files under `tmp_path`."""
    target = tmp_path / "target"
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import files, server\n"
        f"files.directory(name='Make dir', path='{target}/sub', mode='750')\n"
        f"files.line(path='{target}-lines.txt', line='debug=true')\n"
        "server.shell(name='Say hi', commands=['echo hi', 'echo oops >&2'])\n"
    )
    return target


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_stream_follows_its_schema(oxinfra, tmp_path: Path) -> None:
    _deploy(tmp_path)
    (tmp_path / "deploy.py").write_text((tmp_path / "deploy.py").read_text() + "server.shell(name='Fails', commands=['exit 3'], _ignore_errors=True)\n")
    result = oxinfra("@local", "deploy.py", "-y", "--json")
    assert result.code == 0, result
    events = _events(result.stdout)
    for event in events:
        jsonschema.validate(event, SCHEMA)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "run_start" and kinds[1] == "host_connect" and kinds[-1] == "run_end", kinds
    assert kinds.count("operation_start") == 4 and kinds.count("host_result") == 4
    results = {event["name"]: event for event in events if event["event"] == "host_result"}
    hi = results["Say hi"]
    assert hi["status"] == "success" and hi["changed"] is True
    assert hi["commands"] == ["sh -c 'echo hi'", "sh -c 'echo oops >&2'"]
    assert hi["stdout"] == ["hi"] and hi["stderr"] == ["oops"]
    assert results["Fails"]["status"] == "ignored_error" and "exit status 3" in results["Fails"]["error"]
    end = events[-1]
    assert end["success"] is True and end["exit_code"] == 0
    assert end["hosts"] == [{"host": "@local", "connected": True, "operations": 4, "changed": 3, "no_change": 0, "errors": 1}]
    assert end["report"]["results"]["totals"]["success"] == 3
    times = [event["time"] for event in events]
    assert times == sorted(times)


def test_json_without_yes_plans_and_changes_nothing(oxinfra, tmp_path: Path) -> None:
    target = _deploy(tmp_path)
    result = oxinfra("@local", "deploy.py", "--json")
    assert result.code == 0, result
    events = _events(result.stdout)
    for event in events:
        jsonschema.validate(event, SCHEMA)
    assert events[0]["dry"] is True
    plans = [event for event in events if event["event"] == "operation_plan"]
    assert next(plan["name"] for plan in plans) == "Make dir"
    assert plans[0]["commands"] == [f"sh -c 'mkdir -p {target}/sub'", f"sh -c 'chmod 750 {target}/sub'"]
    assert plans[1]["files"] == [{"path": f"{target}-lines.txt", "change": "create"}] or plans[1]["files"] == []
    assert events[-1]["report"]["results"] is None
    assert not target.exists()


def _dry_listing(stderr: str) -> list[str]:
    return [line.strip()[len(">>> ") :] for line in stderr.splitlines() if line.startswith("        >>> ")]


def _echoed_commands(stderr: str) -> list[str]:
    return [line.split(">>> ", 1)[1] for line in stderr.splitlines() if line.startswith("[@local] >>> ")]


def test_dry_lists_the_commands_the_run_then_executes(oxinfra, tmp_path: Path) -> None:
    target = _deploy(tmp_path)
    dry = oxinfra("@local", "deploy.py", "--dry")
    assert dry.code == 0, dry
    planned = _dry_listing(dry.stderr)
    assert "[@local] Make dir: would run" in dry.stderr
    assert planned[:2] == [f"sh -c 'mkdir -p {target}/sub'", f"sh -c 'chmod 750 {target}/sub'"]
    assert not target.exists(), "--dry changed the host"
    run = oxinfra("@local", "deploy.py", "-y", "-vv", "--json")
    assert run.code == 0, run
    assert _echoed_commands(run.stderr) == planned
    sent = [command for event in _events(run.stdout) if event["event"] == "host_result" for command in event["commands"]]
    assert sent == planned
    assert (target / "sub").is_dir()


def test_dry_names_the_files_that_would_change(oxinfra, tmp_path: Path) -> None:
    existing = tmp_path / "app.conf"
    existing.write_text("name=demo\nport=8080\n")
    (tmp_path / "deploy.py").write_text(
        "from io import StringIO\nfrom pyinfra.operations import files\n"
        f"files.put(name='Conf', src=StringIO('name=demo\\nport=9090\\n'), dest='{existing}')\n"
        f"files.put(name='New', src=StringIO('x\\n'), dest='{tmp_path}/new.txt')\n"
    )
    result = oxinfra("@local", "deploy.py", "--dry")
    assert result.code == 0, result
    assert f"would modify {existing}" in result.stderr
    assert f"would create {tmp_path}/new.txt" in result.stderr
    assert existing.read_text() == "name=demo\nport=8080\n"


def test_diff_shows_content_changes(oxinfra, tmp_path: Path) -> None:
    conf = tmp_path / "app.conf"
    conf.write_text("name=demo\nport=8080\n")
    (tmp_path / "app.conf.j2").write_text("name={{ app }}\nport={{ port }}\n")
    lines = tmp_path / "lines.txt"
    lines.write_text("a=1\nb=2\n")
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import files\n"
        f"files.template(name='Conf', src='app.conf.j2', dest='{conf}', app='demo', port=9090)\n"
        f"files.line(name='Line', path='{lines}', line='^b=.*$', replace='b=3')\n"
    )
    result = oxinfra("@local", "deploy.py", "--dry", "--diff")
    assert result.code == 0, result
    assert f"[@local] Will modify {conf}" in result.stderr
    assert "      - port=8080" in result.stderr and "      + port=9090" in result.stderr
    assert f"[@local] Will modify {lines}" in result.stderr
    assert "      + b=3" in result.stderr
    assert conf.read_text() == "name=demo\nport=8080\n"


def test_results_table_has_a_row_per_host(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra import host\nfrom pyinfra.operations import server\n"
        "server.shell(name='Maybe fail', commands=['exit 1' if host.name == '@local' else 'true'])\n"
        "server.shell(name='After', commands=['true'])\n"
    )
    result = oxinfra("@local,@fake/ok", "deploy.py", "-y")
    assert result.code == 1, result
    rows = {line.split()[0]: line.split()[1:] for line in result.stderr.splitlines() if line.startswith("    @")}
    assert rows["@local"] == ["1", "-", "-", "1"], result.stderr
    assert rows["@fake/ok"] == ["2", "2", "-", "-"], result.stderr
    assert re.search(r"    Host +Operations +Changed +No Change +Error", result.stderr), result.stderr


def _run_on_terminal(tmp_path: Path, *args: str, env: dict[str, str]) -> str:
    """Runs oxinfra with stdout and stderr on a pseudo-terminal; returns what it showed."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "oxinfra", *args], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    shown = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=60)
    os.close(primary)
    return shown.decode(errors="replace")


def test_a_terminal_gets_colour_and_a_progress_line(tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Slow', commands=['sleep 1'])\n")
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "PYINFRA_PROGRESS")}
    env["TERM"] = "xterm"
    shown = _run_on_terminal(tmp_path, "@local", "deploy.py", "-y", env=env)
    assert "\x1b[32m" in shown, shown  # green `Success`
    assert re.search(r"[-/|\\] Slow  0/1 hosts  \d+\.\ds", shown), shown
    assert "\r\x1b[K" in shown


def test_no_color_and_progress_off_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Slow', commands=['sleep 0.5'])\n")
    env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off", "TERM": "xterm"}
    shown = _run_on_terminal(tmp_path, "@local", "deploy.py", "-y", env=env)
    assert "Success" in shown
    assert "\x1b[" not in shown, shown


def test_no_progress_line_off_a_terminal(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Slow', commands=['sleep 0.5'])\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 0, result
    assert "hosts  " not in result.stderr and "\r" not in result.stderr
