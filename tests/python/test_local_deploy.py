"""A pyinfra-style deploy runs unchanged on @local: files, directories, links and
lines end up as asked, the second run changes nothing, and `--dry` changes nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEPLOY = """
from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, python, server

ROOT = "{root}"

@deploy("Layout")
def layout():
    files.directory(name="Dir", path=ROOT + "/app/conf", mode="750")

layout()
files.put(name="Put", src="motd", dest=ROOT + "/app/motd", mode="640")
files.template(name="Template", src="app.conf.j2", dest=ROOT + "/app/conf/app.conf", port=8080)
files.link(name="Link", path=ROOT + "/current", target=ROOT + "/app")
flag = files.file(name="Flag", path=ROOT + "/app/ready", mode="600")
files.line(name="Line", path="{settings}", line="debug=true")
files.replace(name="Replace", path="{settings}", text="^bind=127.*$", replace="bind=0.0.0.0")
files.block(name="Block", path=ROOT + "/app/extra.conf", content="workers=4")
server.shell(name="Guarded", commands=["touch " + ROOT + "/app/guarded"], _if=flag.did_change)

def record():
    with open(ROOT + "/called", "a") as file:
        file.write(host.name + "\\n")

python.call(name="Call", function=record, _if=flag.did_change)
"""


def write_project(folder: Path, root: Path) -> None:
    (folder / "deploy.py").write_text(DEPLOY.format(root=root, settings=folder / "settings.conf"))
    (folder / "settings.conf").write_text("bind=127.0.0.1\n")
    (folder / "motd").write_text("hello\n")
    (folder / "app.conf.j2").write_text("name={{ host.name }}\nport={{ port }}\nbind=127.0.0.1\n")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_deploy_runs_unchanged_then_changes_nothing(oxinfra, tmp_path: Path) -> None:
    root = tmp_path / "target"
    write_project(tmp_path, root)

    first = oxinfra("@local", "deploy.py", "-y")
    assert first.code == 0, first
    assert (root / "app/motd").read_text() == "hello\n"
    assert mode_of(root / "app/motd") == 0o640
    assert mode_of(root / "app/conf") == 0o750
    assert (root / "app/conf/app.conf").read_text() == "name=@local\nport=8080\nbind=127.0.0.1\n"
    assert (tmp_path / "settings.conf").read_text() == "bind=0.0.0.0\ndebug=true\n"
    assert os.readlink(root / "current") == str(root / "app")
    assert mode_of(root / "app/ready") == 0o600
    assert "workers=4" in (root / "app/extra.conf").read_text()
    assert (root / "app/guarded").exists()
    assert (root / "called").read_text() == "@local\n"
    assert "Grand total" in first.stderr

    second = oxinfra("@local", "deploy.py", "-y")
    assert second.code == 0, second
    assert "] Success" not in second.stderr, second
    assert second.stderr.count("] No changes") == 10, second
    assert (root / "called").read_text() == "@local\n"


def test_dry_run_changes_nothing(oxinfra, tmp_path: Path) -> None:
    root = tmp_path / "target"
    write_project(tmp_path, root)
    result = oxinfra("@local", "deploy.py", "--dry")
    assert result.code == 0, result
    assert "Detected changes" in result.stderr
    assert not root.exists()


def test_exec_streams_output(oxinfra) -> None:
    result = oxinfra("@local", "exec", "--", "echo", "hello-from-exec")
    assert result.code == 0, result
    assert "[@local] hello-from-exec" in result.stderr


def test_operation_on_the_command_line(oxinfra, tmp_path: Path) -> None:
    target = tmp_path / "made-by-cli"
    result = oxinfra("@local", "files.file", f"path={target}", "-y")
    assert result.code == 0, result
    assert target.exists()


def test_fact_on_the_command_line_as_json(oxinfra) -> None:
    import json

    result = oxinfra("@local", "fact", "server.Os", "--json")
    assert result.code == 0, result
    assert json.loads(result.stdout) == {"server.Os": {"@local": "Linux"}}


def test_inventory_file_with_groups_and_data(oxinfra, tmp_path: Path) -> None:
    import json

    (tmp_path / "inventory.py").write_text('local = (["@local"], {"role": "web"})\n')
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "all.py").write_text('role = "default"\nport = 80\n')
    result = oxinfra("inventory.py", "debug-inventory", "--json", "--data", "port=8080")
    assert result.code == 0, result
    hosts = json.loads(result.stdout)
    assert hosts[0]["name"] == "@local"
    assert hosts[0]["data"]["role"] == "web"
    assert hosts[0]["data"]["port"] == 8080


def test_failing_operation_fails_the_host(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import server\n"
        "server.shell(name='Ignored', commands=['exit 3'], _ignore_errors=True)\n"
        "server.shell(name='Hard', commands=['echo boom >&2; exit 4'])\n"
    )
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "Error (ignored): executed 0 commands" in result.stderr
    assert "boom" in result.stderr
    assert "No hosts remaining!" in result.stderr


def test_without_yes_asks_before_executing(oxinfra, tmp_path: Path) -> None:
    root = tmp_path / "target"
    write_project(tmp_path, root)
    result = oxinfra("@local", "deploy.py")
    assert result.code == 1, result
    assert "Press enter to execute" in result.stderr
    assert "hint: pass -y" in result.stderr
    assert not root.exists()
