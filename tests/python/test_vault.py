"""The vault through the CLI: `oxinfra secret init/encrypt/decrypt/edit/rekey`, and a
deploy that uses vault values from group data without any plaintext in its output."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from oxinfra import _core

PLAINTEXT = "hunter2-correct-horse"
TOKEN = "tok-9f8e7d6c5b4a"


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder of its own, so that no real key, agent or config is used."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def oxinfra(home: Path, project: Path) -> Callable[..., Run]:
    """Runs `oxinfra ARGS` in the project folder with the private home."""

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("OXINFRA_VAULT_", "SSH_AUTH_SOCK", "XDG_CONFIG_HOME"))}
        environment.update({"HOME": str(home), "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"})
        environment.pop("PYINFRA_YES", None)
        environment.update(env or {})
        result = subprocess.run(
            [sys.executable, "-m", "oxinfra", *args],
            cwd=project,
            capture_output=True,
            text=True,
            env=environment,
            input=stdin if stdin is not None else "",
            timeout=120,
        )
        return Run(result)

    return run


def _init(oxinfra: Callable[..., Run], *args: str) -> Run:
    result = oxinfra("secret", "init", *args)
    assert result.code == 0, result
    return result


def test_init_creates_a_private_key_and_the_recipients_file(oxinfra, home: Path, project: Path) -> None:
    result = _init(oxinfra)
    key_file = home / ".config" / "oxinfra" / "vault-key.txt"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = next(line.split()[-1] for line in key_file.read_text().splitlines() if line.startswith("# public key:"))
    recipients = (project / ".oxinfra-recipients").read_text()
    assert public in recipients
    assert "Created the key" in result.stderr

    again = _init(oxinfra)
    assert "already lists this key" in again.stderr
    assert (project / ".oxinfra-recipients").read_text() == recipients


def test_encrypt_and_decrypt_a_value(oxinfra) -> None:
    _init(oxinfra)
    encrypted = oxinfra("secret", "encrypt", PLAINTEXT)
    assert encrypted.code == 0, encrypted
    value = encrypted.stdout.strip()
    assert value.startswith("oxinfra-vault:v1:") and PLAINTEXT not in value

    decrypted = oxinfra("secret", "decrypt", value)
    assert decrypted.code == 0, decrypted
    assert decrypted.stdout == PLAINTEXT

    from_stdin = oxinfra("secret", "encrypt", "--name", "db_password", stdin=f"{PLAINTEXT}\n")
    assert from_stdin.stdout.startswith("db_password = vault('oxinfra-vault:v1:"), from_stdin
    assert oxinfra("secret", "decrypt", stdin=from_stdin.stdout).stdout == PLAINTEXT


def test_a_wrong_key_names_the_key_file(oxinfra, project: Path) -> None:
    _init(oxinfra)
    value = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    _init(oxinfra, "--new-key-file", str(project / "other-key.txt"), "--recipients-file", str(project / "other-recipients"))

    result = oxinfra("secret", "decrypt", value, "--key-file", str(project / "other-key.txt"))
    assert result.code == 1, result
    assert f"error: no key can decrypt this value; tried `{project / 'other-key.txt'}` (age1" in result.stderr
    assert "hint:" in result.stderr and "rekey" in result.stderr


def test_a_damaged_value_is_refused(oxinfra) -> None:
    _init(oxinfra)
    value = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    damaged = value[:-12] + ("A" if value[-12] != "A" else "B") + value[-11:]
    result = oxinfra("secret", "decrypt", damaged)
    assert result.code == 1, result
    assert "changed or damaged" in result.stderr or "damaged" in result.stderr
    assert PLAINTEXT not in result.stdout + result.stderr


def test_an_ssh_key_and_the_environment_variables(oxinfra, project: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    key = project / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    _init(oxinfra, "--ssh-key", f"{key}.pub")
    assert "ssh-ed25519 " in (project / ".oxinfra-recipients").read_text()
    value = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()

    assert oxinfra("secret", "decrypt", value).code == 1
    assert oxinfra("secret", "decrypt", value, env={"OXINFRA_VAULT_KEY_FILE": str(key)}).stdout == PLAINTEXT

    secret, public = _core.vault_generate_key()
    age_value = oxinfra("secret", "encrypt", "-r", public, "from-env").stdout.strip()
    assert oxinfra("secret", "decrypt", age_value, env={"OXINFRA_VAULT_KEY": secret}).stdout == "from-env"


def test_rekey_encrypts_every_value_for_the_current_recipients(oxinfra, project: Path) -> None:
    _init(oxinfra)
    first = oxinfra("secret", "encrypt", "one").stdout.strip()
    second = oxinfra("secret", "encrypt", "two").stdout.strip()
    data = project / "all.py"
    data.write_text(f'from oxinfra.vault import vault\n\nfirst = vault("{first}")\nsecond = "{second}"\nplain = 3\n')

    # A second person joins: their key is added to the recipients, then the values are rekeyed.
    _init(oxinfra, "--new-key-file", str(project / "bob.txt"))
    before = oxinfra("secret", "decrypt", first, "--key-file", str(project / "bob.txt"))
    assert before.code == 1

    rekeyed = oxinfra("secret", "rekey", str(data))
    assert rekeyed.code == 0, rekeyed
    assert "2 value(s) encrypted again" in rekeyed.stderr
    text = data.read_text()
    assert first not in text and second not in text and text.endswith('"\nplain = 3\n')

    values = _core.vault_find(text)
    assert [oxinfra("secret", "decrypt", value, "--key-file", str(project / "bob.txt")).stdout for value in values] == ["one", "two"]
    assert [oxinfra("secret", "decrypt", value).stdout for value in values] == ["one", "two"]


def test_edit_decrypts_into_the_editor_and_encrypts_again(oxinfra, project: Path) -> None:
    _init(oxinfra)
    editor = project / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "new content" > "$1"\n')
    editor.chmod(0o755)
    vault_file = project / "tls.key.vault"

    created = oxinfra("secret", "edit", str(vault_file), env={"EDITOR": str(editor), "VISUAL": ""})
    assert created.code == 0, created
    assert vault_file.read_text().startswith("oxinfra-vault:v1:")
    assert oxinfra("secret", "decrypt", "--file", str(vault_file)).stdout == "new content"

    editor.write_text('#!/bin/sh\nprintf "second" > "$1"\n')
    edited = oxinfra("secret", "edit", str(vault_file), env={"EDITOR": str(editor), "VISUAL": ""})
    assert edited.code == 0, edited
    assert oxinfra("secret", "decrypt", "--file", str(vault_file)).stdout == "second"
    leftovers = list(Path("/dev/shm").glob("oxinfra-secret-*")) if Path("/dev/shm").is_dir() else []
    assert not leftovers


def test_no_recipients_is_a_clear_error(oxinfra) -> None:
    result = oxinfra("secret", "encrypt", "x")
    assert result.code == 1
    assert "error: no recipients: `.oxinfra-recipients` was not found" in result.stderr
    assert "hint: run `oxinfra secret init`" in result.stderr


def test_a_deploy_uses_vault_values_and_never_shows_them(oxinfra, project: Path) -> None:
    """Vault values from group data reach a file's content and a shell command, and no
    plaintext appears in stdout or stderr of `--diff -vvv --json`, in the plan or the run."""
    _init(oxinfra)
    password = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    token = oxinfra("secret", "encrypt", TOKEN).stdout.strip()
    (project / "group_data").mkdir()
    (project / "group_data" / "all.py").write_text(f'from oxinfra.vault import vault\n\ndb_password = vault("{password}")\napi_token = "{token}"\n')
    out = project / "out"
    out.mkdir()
    (out / "app.conf").write_text("password=old\n")
    (project / "deploy.py").write_text(
        f"""
from io import StringIO

from oxinfra import host
from oxinfra.operations import files, server

files.put(
    name="Write the app config",
    src=StringIO(f"user=app\\npassword={{host.data.db_password}}\\n"),
    dest="{out}/app.conf",
)
server.shell(
    name="Use the token",
    commands=[f"echo token={{host.data.api_token}} > {out}/token.txt", f"echo using {{host.data.api_token}}"],
)
print("deploy sees", repr(host.data.db_password))
"""
    )
    plan = oxinfra("@local", "deploy.py", "--diff", "-vvv", "--json")
    assert plan.code == 0, plan
    run = oxinfra("@local", "deploy.py", "--diff", "-vvv", "--json", "-y")
    assert run.code == 0, run

    assert (out / "app.conf").read_text() == f"user=app\npassword={PLAINTEXT}\n"
    assert (out / "token.txt").read_text() == f"token={TOKEN}\n"
    for result in (plan, run):
        everything = result.stdout + result.stderr
        assert PLAINTEXT not in everything, result
        assert TOKEN not in everything, result
    assert "*MASKED*" in run.stdout + run.stderr


def test_debug_inventory_shows_no_plaintext(oxinfra, project: Path) -> None:
    _init(oxinfra)
    password = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    (project / "group_data").mkdir()
    (project / "group_data" / "all.py").write_text(f'from oxinfra.vault import vault\n\ndb_password = vault("{password}")\n')
    result = oxinfra("@local", "debug-inventory")
    assert result.code == 0, result
    assert PLAINTEXT not in result.stdout + result.stderr
    assert "db_password" in result.stdout + result.stderr


def _command_lines() -> list[str]:
    """The command lines of every process on this machine, as `ps` shows them."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return lines


def test_a_vault_value_never_appears_on_a_process_command_line(oxinfra, home: Path, project: Path) -> None:
    """With `@local` the host's process list is this machine's: it is read while the
    command that uses the secret runs."""
    _init(oxinfra)
    password = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    (project / "group_data").mkdir()
    (project / "group_data" / "all.py").write_text(f'db_password = "{password}"\n')
    (project / "deploy.py").write_text(
        f"from oxinfra import host\nfrom oxinfra.operations import server\n\n"
        f'server.shell(commands=[f"sleep 2; echo {{host.data.db_password}} > {project}/used.txt"])\n'
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("OXINFRA_VAULT_", "SSH_AUTH_SOCK"))}
    environment.update({"HOME": str(home), "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"})
    process = subprocess.Popen(
        [sys.executable, "-m", "oxinfra", "@local", "deploy.py", "-y"],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = []
    while process.poll() is None:
        seen.extend(line for line in _command_lines() if PLAINTEXT in line)
        time.sleep(0.02)
    process.communicate()
    assert (project / "used.txt").read_text() == f"{PLAINTEXT}\n"
    assert not seen, f"{len(seen)} command lines held the secret"


def test_keys_derived_through_the_ssh_agent(oxinfra, project: Path, tmp_path: Path) -> None:
    if shutil.which("ssh-agent") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-agent is not installed")
    key = tmp_path / "agent_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vault-agent-test", "-f", str(key)], check=True)
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket_path.exists():
                break
            time.sleep(0.02)
        subprocess.run(["ssh-add", "-q", str(key)], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(socket_path)})
        with_agent = {"SSH_AUTH_SOCK": str(socket_path)}
        init = oxinfra("secret", "init", "--ssh-agent", env=with_agent)
        assert init.code == 0, init
        assert "ssh-agent: ssh-ed25519 SHA256:" in (project / ".oxinfra-recipients").read_text()
        value = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
        assert oxinfra("secret", "decrypt", value, env=with_agent).stdout == PLAINTEXT
        without = oxinfra("secret", "decrypt", value, "--no-agent", env=with_agent)
        assert without.code == 1 and PLAINTEXT not in without.stdout
    finally:
        agent.kill()
        agent.wait()


def test_a_deploy_without_the_key_names_the_data_and_the_keys_tried(oxinfra, project: Path) -> None:
    _init(oxinfra)
    password = oxinfra("secret", "encrypt", PLAINTEXT).stdout.strip()
    (project / "group_data").mkdir()
    (project / "group_data" / "all.py").write_text(f'db_password = "{password}"\n')
    deploy = 'from oxinfra import host\nfrom oxinfra.operations import server\n\nserver.shell(commands=[f"echo {host.data.db_password}"])\n'
    (project / "deploy.py").write_text(deploy)
    secret, _ = _core.vault_generate_key()
    result = oxinfra("@local", "deploy.py", "-y", env={"OXINFRA_VAULT_KEY": secret, "XDG_CONFIG_HOME": str(project / "no-config")})
    assert result.code == 1, result
    assert "host data `db_password`: no key can decrypt this value; tried `OXINFRA_VAULT_KEY` (age1" in result.stderr
    assert "hint: the value was encrypted for other keys" in result.stderr
