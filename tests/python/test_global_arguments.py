"""The global arguments that mean something on @local change how commands run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def run_deploy(oxinfra, tmp_path: Path, body: str):
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\n" + body)
    return oxinfra("@local", "deploy.py", "-y", "-vvv")


def test_chdir_env_stdin_and_shell(oxinfra, tmp_path: Path) -> None:
    result = run_deploy(
        oxinfra,
        tmp_path,
        "server.shell(name='Where', commands=['pwd'], _chdir='/tmp')\n"
        "server.shell(name='Env', commands=['echo $ONE-$TWO'], _env={'ONE': '1', 'TWO': 'two words'})\n"
        "server.shell(name='Stdin', commands=['cat'], _stdin=['line-a', 'line-b'])\n"
        "server.shell(name='Bash', commands=['echo $BASH_VERSION | cut -c1'], _shell_executable='bash')\n",
    )
    assert result.code == 0, result
    assert "[@local] /tmp" in result.stderr
    assert "[@local] 1-two words" in result.stderr
    assert "[@local] line-a" in result.stderr and "[@local] line-b" in result.stderr
    assert "[@local] 5" in result.stderr


def test_success_exit_codes_and_continue_on_error(oxinfra, tmp_path: Path) -> None:
    marker = tmp_path / "after-failure"
    result = run_deploy(
        oxinfra,
        tmp_path,
        "server.shell(name='Three is fine', commands=['exit 3'], _success_exit_codes=[0, 3])\n"
        f"server.shell(name='Go on', commands=['false', 'touch {marker}'], _continue_on_error=True, _ignore_errors=True)\n",
    )
    assert result.code == 0, result
    assert marker.exists()
    assert "Error (ignored, execution continued): executed 1 commands" in result.stderr


def test_retry_until_retries_a_success(oxinfra, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    result = run_deploy(
        oxinfra,
        tmp_path,
        f"server.shell(name='Count', commands=['echo x >> {counter}; wc -l < {counter}'], _retries=3, _retry_delay=0,\n"
        "    _retry_until=lambda output: output['stdout_lines'][-1].strip() != '3')\n",
    )
    assert result.code == 0, result
    assert counter.read_text().count("x") == 3


def test_parallel_batches_hosts(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(name='Batched', commands=['true'], _parallel=1)\n")
    result = oxinfra("@fake/a,@fake/b,@fake/c", "deploy.py", "-y")
    assert result.code == 0, result
    assert result.stderr.count("] Success") == 3


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")
def test_sudo_and_su_wrap_commands(oxinfra, tmp_path: Path) -> None:
    result = run_deploy(
        oxinfra,
        tmp_path,
        "server.shell(name='Sudo', commands=['id -un'], _sudo=True)\nserver.shell(name='Su', commands=['id -un'], _su_user='root')\n",
    )
    assert result.code == 0, result
    assert ">>> sudo -H -n sh -c 'id -un'" in result.stderr
    assert ">>> su root -c 'sh -c '\"'\"'id -un'\"'\"''" in result.stderr
