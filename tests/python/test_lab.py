"""The lab itself, checked with the system's OpenSSH client: what every SSH test builds on."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from lab import LabHost, deploy2_password

pytestmark = pytest.mark.lab


def ssh(host: LabHost, user: str, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(host.ssh_command(user, command), input=stdin, capture_output=True, text=True, timeout=60)


def test_root_and_deploy_log_in_with_the_lab_key_and_known_hosts(lab_hosts) -> None:
    hosts = lab_hosts(2)
    for host in hosts:
        as_root = ssh(host, "root", "id -un; hostname")
        assert (as_root.returncode, as_root.stdout.split()) == (0, ["root", host.name]), as_root.stderr
        as_deploy = ssh(host, "deploy", "id -un; sudo -n id -u")
        assert (as_deploy.returncode, as_deploy.stdout.split()) == (0, ["deploy", "0"]), as_deploy.stderr


def test_deploy2_sudo_needs_its_password(lab_hosts) -> None:
    host = lab_hosts(2)[1]
    without = ssh(host, "deploy2", "sudo -n true")
    assert without.returncode != 0
    assert "password is required" in without.stderr
    with_password = ssh(host, "deploy2", "sudo -S -p '' id -u", stdin=deploy2_password() + "\n")
    assert (with_password.returncode, with_password.stdout.strip()) == (0, "0"), with_password.stderr


def test_a_file_written_on_host1_is_seen_from_outside_and_only_there(lab_hosts) -> None:
    host1, host2 = lab_hosts(2)
    name = f"/tmp/lab-test-{uuid.uuid4().hex}"
    written = ssh(host1, "deploy", f"sudo -n sh -c 'echo hello from $(hostname) > {name} && chmod 640 {name} && ln -s {name} {name}.link'")
    assert written.returncode == 0, written.stderr

    assert host1.read_text(name) == "hello from host1\n"
    assert host1.path(name).stat().st_mode & 0o777 == 0o640
    assert host1.read_text(f"{name}.link") == "hello from host1\n"  # the absolute link target is host1's, not ours
    assert not Path(name).exists()
    assert (host1.upper / name.lstrip("/")).read_text() == "hello from host1\n"
    assert not host2.path(name).exists()


def test_an_unknown_host_key_is_refused(lab_hosts, tmp_path: Path) -> None:
    host = lab_hosts(1)[0]
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    command = [arg.replace(str(host.known_hosts), str(empty_known_hosts)) for arg in host.ssh_command("root", "true")]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 255
    assert "Host key verification failed" in refused.stderr


def test_lab_inventory_lists_the_hosts_with_their_ssh_data(lab_inventory, tmp_path: Path) -> None:
    inventory = lab_inventory(tmp_path, 3, "deploy2")
    namespace: dict = {}
    exec(inventory.read_text(), namespace)
    hosts = namespace["lab_hosts"]
    assert [name for name, _ in hosts] == ["host1", "host2", "host3"]
    data = hosts[2][1]
    assert data["ssh_hostname"] == "127.0.1.3"
    assert data["ssh_user"] == "deploy2"
    assert data["ssh_strict_host_key_checking"] == "yes"
    assert data["_sudo_password"] == deploy2_password()
    assert Path(data["ssh_key"]).is_file()
    assert "127.0.1.3,host3 ssh-ed25519 " in Path(data["ssh_known_hosts_file"]).read_text()
