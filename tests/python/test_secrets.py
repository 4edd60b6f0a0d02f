"""Secrets never leave the run in clear: a `MaskString` in a command, a sudo password
and a secret inside `--diff` content are absent from stdout (`--json`), stderr
(`-vvv --debug --diff`), error messages, and the process list while the command runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET = "oxinfra-S3cr3t-8d1f2c"
SUDO_PASSWORD = "oxinfra-sudo-Pw-4e7a91"


def _deploy(tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        f"""
from io import StringIO
from pyinfra.api import MaskString, StringCommand, operation
from pyinfra.api.command import HiddenValue
from pyinfra.operations import files, server

SECRET = {SECRET!r}


@operation()
def secret_sleep():
    # The secret is in the command; the sleep keeps it running while the test looks.
    yield StringCommand("echo", MaskString(SECRET), "> {tmp_path}/seen.txt && sleep 3 && echo", MaskString(SECRET))


@operation()
def secret_fails():
    yield StringCommand("echo", MaskString(SECRET), ">&2 && exit 4")


files.put(
    name="Config with the secret",
    src=StringIO("user=app\\npassword=" + SECRET + "\\n"),
    dest="{tmp_path}/app.conf",
    _sudo=True,
    _sudo_password={SUDO_PASSWORD!r},
    # A deploy marks a value secret with HiddenValue: masked everywhere from now on.
    _env={{"TOKEN": HiddenValue(SECRET)}},
)
secret_sleep()
secret_fails(_ignore_errors=True)
server.shell(name="Sudo with a password", commands=["true"], _sudo=True, _sudo_password={SUDO_PASSWORD!r})
"""
    )
    # An old version of the file, so that --diff has something to compare.
    (tmp_path / "app.conf").write_text(f"user=app\npassword=old-{SECRET}\n")


@pytest.mark.skipif(shutil.which("sudo") is None or os.geteuid() != 0, reason="needs sudo, run as root")
def test_secrets_never_appear_in_any_output(tmp_path: Path) -> None:
    _deploy(tmp_path)
    env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "oxinfra", "@local", "deploy.py", "-y", "-vvv", "--debug", "--json", "--diff"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    process_lists = []
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        process_lists.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
        time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    # The command really ran with the secret, and was seen running.
    assert (tmp_path / "seen.txt").read_text() == SECRET + "\n"
    assert (tmp_path / "app.conf").read_text() == f"user=app\npassword={SECRET}\n"
    assert any("sleep 3" in listing for listing in process_lists), "the command was never seen running"
    for channel, text in [("stdout", stdout), ("stderr", stderr), *[("ps", listing) for listing in process_lists]]:
        assert SECRET not in text, f"the secret leaked on {channel}"
        assert SUDO_PASSWORD not in text, f"the sudo password leaked on {channel}"
    assert "*MASKED*" in stderr and "*MASKED*" in stdout
    assert "Will modify" in stderr  # the diff was shown, masked


def test_error_messages_mask_secrets(oxinfra, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.api import MaskString, StringCommand, operation\n"
        f"SECRET = {SECRET!r}\n"
        "@operation()\n"
        "def fails():\n"
        "    yield StringCommand('echo', MaskString(SECRET), '>&2 && exit 3')\n"
        "fails()\n"
    )
    result = oxinfra("@local", "deploy.py", "-y", "-vvv", "--json")
    assert result.code == 1, result
    assert "failed with exit status 3" in result.stderr
    assert SECRET not in result.stderr and SECRET not in result.stdout


def test_shell_string_command_with_a_mask_string(tmp_path: Path) -> None:
    """`server.shell` given a `StringCommand` with a `MaskString` part, as pyinfra
    deploys write it: the host runs the secret, every output shows `*MASKED*`, and the
    process list never shows the secret while the command runs."""
    secret = "hunter2-xyz"
    seen = tmp_path / "seen.txt"
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.api import MaskString, StringCommand\n"
        "from pyinfra.operations import server\n"
        "server.shell(\n"
        f"    commands=['true', StringCommand('echo', MaskString({secret!r}), '>', {str(seen)!r}, '&& sleep 2')],\n"
        ")\n"
    )
    env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "oxinfra", "@local", "deploy.py", "-y", "-vvv", "--debug", "--json"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    process_lists = []
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        process_lists.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
        time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert seen.read_text() == secret + "\n"
    assert any("sleep 2" in listing for listing in process_lists), "the command was never seen running"
    for channel, text in [("stdout", stdout), ("stderr", stderr), *[("ps", listing) for listing in process_lists]]:
        assert secret not in text, f"the secret leaked on {channel}"
    assert f"echo *MASKED* > {seen} && sleep 2" in stderr, stderr
    assert "*MASKED*" in stdout
