"""Bad input gets a short error naming the file and line, the argument or the host,
and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


def test_syntax_error_names_file_and_line(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import files\n\nfiles.file(path='/tmp/x'\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "deploy.py line 3" in result.stderr


def test_exception_in_deploy_names_file_and_line(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("x = 1\nraise ValueError('broken deploy')\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "deploy.py line 2" in result.stderr
    assert "broken deploy" in result.stderr


def test_unknown_argument_names_it(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import files\nfiles.file(path='/tmp/x', colour='red')\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "colour" in result.stderr
    assert "deploy.py line 2" in result.stderr


def test_wrong_global_argument_type_names_it(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(commands=['true'], _sudo='yes')\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "Invalid argument `_sudo`" in result.stderr
    assert "deploy.py line 2" in result.stderr


def test_wrong_argument_type_names_it(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import files\nfiles.file(path='/tmp/x', present='maybe')\n")
    result = oxinfra("@local", "deploy.py", "-y")
    assert result.code == 1, result
    assert "present" in result.stderr


def test_unknown_operation_on_the_cli(oxinfra) -> None:
    result = oxinfra("@local", "files.nope", "path=/tmp/x")
    assert result.code == 1, result
    assert "No such operation: files.nope" in result.stderr


def test_unknown_fact_on_the_cli(oxinfra) -> None:
    result = oxinfra("@local", "fact", "server.Nope")
    assert result.code == 1, result
    assert "No such fact: server.Nope" in result.stderr


def test_missing_inventory_file(oxinfra) -> None:
    result = oxinfra("missing-inventory.py", "deploy.py")
    assert result.code == 1, result
    assert "No inventory file: missing-inventory.py" in result.stderr


def test_missing_deploy_file(oxinfra) -> None:
    result = oxinfra("@local", "nothere.py", "-y")
    assert result.code == 1, result
    assert "No deploy file: nothere.py" in result.stderr
