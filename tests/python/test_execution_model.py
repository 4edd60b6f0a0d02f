"""pyinfra's execution model on @fake and @local hosts: operation order across hosts,
`Skipped`, `_run_once`, `_serial`, `--serial`, `--no-wait`, nested operations in
`python.call`, data precedence and config.py."""

from __future__ import annotations

import json
import re
from pathlib import Path


def headers(stderr: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in stderr.splitlines() if "Starting" in line and "operation:" in line and line.startswith("-->")]


def test_order_follows_call_sites_across_hosts(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra import host\n"
        "from pyinfra.operations import server\n"
        "server.shell(name='First', commands=['true'])\n"
        "if host.name == '@fake/db':\n"
        "    server.shell(name='DB only', commands=['true'])\n"
        "server.shell(name='Last', commands=['true'])\n"
    )
    result = oxinfra("@fake/web,@fake/db", "deploy.py", "-y")
    assert result.code == 0, result
    assert headers(result.stderr) == ["First", "DB only", "Last"]
    db_only = result.stderr.split("DB only")[1].split("-->")[0]
    assert re.search(r"\[@fake/web\]\s+Skipped", db_only)
    assert re.search(r"\[@fake/db\]\s+Success", db_only)


def test_host_loop_keeps_one_identity_per_iteration(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra import host\n"
        "from pyinfra.operations import server\n"
        "items = ['a', 'b'] if host.name == '@fake/one' else ['b']\n"
        "for item in host.loop(items):\n"
        "    server.shell(name='Item ' + item, commands=['true'])\n"
    )
    result = oxinfra("@fake/one,@fake/two", "deploy.py", "-y")
    assert result.code == 0, result
    assert headers(result.stderr) == ["Item a", "Item b"]


def test_run_once_runs_on_the_first_host_only(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Once', commands=['true'], _run_once=True)\n")
    result = oxinfra("@fake/a,@fake/b", "deploy.py", "-y")
    assert result.code == 0, result
    assert "Starting run once operation: Once" in result.stderr
    assert re.search(r"\[@fake/a\]\s+Success", result.stderr)
    assert re.search(r"\[@fake/b\]\s+Skipped", result.stderr)


def test_serial_operation_runs_host_by_host(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='One by one', commands=['true'], _serial=True)\n")
    result = oxinfra("@fake/a,@fake/b", "deploy.py", "-y")
    assert result.code == 0, result
    assert "Starting serial operation: One by one" in result.stderr


def test_serial_strategy_repeats_headers_per_host(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import server\nserver.shell(name='A', commands=['true'])\nserver.shell(name='B', commands=['true'])\n"
    )
    result = oxinfra("@fake/a,@fake/b", "deploy.py", "-y", "--serial")
    assert result.code == 0, result
    assert headers(result.stderr) == ["A", "B", "A", "B"]
    result = oxinfra("@fake/a,@fake/b", "deploy.py", "-y", "--no-wait")
    assert result.code == 0, result
    assert sorted(headers(result.stderr)) == ["A", "A", "B", "B"]


def test_nested_operations_run_inside_python_call(oxinfra, tmp_path: Path) -> None:
    target = tmp_path / "nested"
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import files, python\n"
        "def callback():\n"
        f"    files.file(name='Nested file', path='{target}')\n"
        "python.call(name='Callback', function=callback)\n"
    )
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 0, result
    assert target.exists()
    assert "Starting nested operation: Nested file" in result.stderr
    assert "[@local] nested Success" in result.stderr
    table = result.stderr.split("--> Results:")[1]
    assert table.index("Callback") < table.index("Nested file")


def test_data_precedence(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "inventory.py").write_text(
        "web = [('@fake/w1', {'level': 'host'}), '@fake/w2']\n"
        "extra = (['@fake/w2'], {'level': 'extra-group'})\n"
        "all = (['@fake/w1', '@fake/w2'], {'level': 'global', 'only_global': 1})\n"
    )
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "web.py").write_text("level = 'web-group'\n")
    result = oxinfra("inventory.py", "debug-inventory", "--json")
    assert result.code == 0, result
    hosts = {host["name"]: host for host in json.loads(result.stdout)}
    assert hosts["@fake/w1"]["data"]["level"] == "host"
    assert hosts["@fake/w2"]["data"]["level"] == "extra-group"
    assert hosts["@fake/w2"]["data"]["only_global"] == 1
    result = oxinfra("inventory.py", "debug-inventory", "--json", "--data", "level=cli")
    assert {host["data"]["level"] for host in json.loads(result.stdout)} == {"cli"}


def test_config_file_sets_defaults(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("from pyinfra import config\nconfig.ENV = {'GREETING': 'from-config'}\n")
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Env', commands=['echo $GREETING'])\n")
    result = oxinfra("@local", "deploy.py", "-y", "-vvv")
    assert result.code == 0, result
    assert "[@local] from-config" in result.stderr


def test_limit_selects_hosts(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "inventory.py").write_text("web = ['@fake/w1', '@fake/w2']\ndb = ['@fake/d1']\n")
    result = oxinfra("inventory.py", "debug-inventory", "--json", "--limit", "db")
    assert [host["name"] for host in json.loads(result.stdout)] == ["@fake/d1"]
    result = oxinfra("inventory.py", "debug-inventory", "--json", "--limit", "@fake/w*", "--exclude", "@fake/w2")
    assert [host["name"] for host in json.loads(result.stdout)] == ["@fake/w1"]


def test_json_output_has_plan_and_results(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Hi', commands=['true'])\n")
    result = oxinfra("@fake/a", "deploy.py", "-y", "--json")
    assert result.code == 0, result
    # The event stream's last line (`run_end`) carries pyinfra's --json document.
    document = json.loads(result.stdout.splitlines()[-1])["report"]
    assert document["plan"][0]["name"] == "Hi"
    assert document["results"]["totals"] == {"hosts": 1, "success": 1, "error": 0, "no_change": 0}


def test_fail_percent_stops_the_run(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra import host\nfrom pyinfra.operations import server\n"
        "server.shell(name='Maybe fail', commands=['exit 1' if host.name == '@local' else 'true'])\n"
        "server.shell(name='After', commands=['true'])\n"
    )
    result = oxinfra("@local,@fake/ok", "deploy.py", "-y", "--fail-percent", "10")
    assert result.code == 1, result
    assert "Over 10" in result.stderr


def test_retries_and_timeout(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import server\n"
        "server.shell(name='Slow', commands=['sleep 5'], _timeout=1, _ignore_errors=True)\n"
        "server.shell(name='Retry', commands=['exit 1'], _retries=1, _retry_delay=0, _ignore_errors=True)\n"
    )
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 0, result
    assert "timed out after 1" in result.stderr
    assert "Retrying Retry (attempt 1/1)" in result.stderr
    assert "(failed after 1/1 retries)" in result.stderr
