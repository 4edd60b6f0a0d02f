"""A deploy over 10 lab hosts reached only through an OpenSSH configuration file (the
`ssh_config_file` host data, as `ssh -F`): `Host lab*` with `HostName`, `User`,
`IdentityFile`, `UserKnownHostsFile`, `StrictHostKeyChecking yes` and `ProxyJump`
through host11. The first run makes the hosts as asked (checked from outside each
host), the second changes nothing, and host11's sshd log shows the jumps."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from lab import LabHost, state_dir

TARGETS = 10
ROOT = "/opt/oxconfig"

DEPLOY = """
from pyinfra.operations import files

files.directory(name="Dir", path="/opt/oxconfig", mode="755")
files.put(name="Put", src="motd", dest="/opt/oxconfig/motd", mode="644")
files.template(name="Template", src="app.conf.j2", dest="/opt/oxconfig/app.conf")
files.line(name="Line", path="/opt/oxconfig/settings", line="reached=through-the-jump-host")
"""


def write_ssh_config(folder: Path, targets: list[LabHost], jump: LabHost, known_hosts: Path) -> Path:
    """`lab1`..`labN` for the targets and `labjump` for `jump`; the most specific blocks
    first, since OpenSSH keeps the first value it reads."""
    blocks = [f"Host lab{host.number}\n    HostName {host.address}\n" for host in targets]
    blocks.append(f"Host labjump\n    HostName {jump.address}\n    ProxyJump none\n")
    blocks.append(
        "Host lab*\n"
        "    User root\n"
        f"    IdentityFile {jump.key}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {known_hosts}\n"
        "    StrictHostKeyChecking yes\n"
        "    ProxyJump labjump\n"
    )
    path = folder / "ssh_config"
    path.write_text("\n".join(blocks))
    return path


class SshdLog:
    """What one host's sshd logged since this was made, counting only root's sessions
    (other test sessions may use the shared hosts as other users meanwhile)."""

    def __init__(self, host: LabHost) -> None:
        self.path = state_dir() / "log" / f"{host.name}.log"
        self.offset = self.path.stat().st_size

    def since(self) -> str:
        with self.path.open("rb") as file:
            file.seek(self.offset)
            return file.read().decode(errors="replace")

    def logins(self) -> int:
        return self.since().count("Accepted publickey for root")

    def commands(self) -> int:
        return self.since().count("Starting session: command for root")


def test_deploy_through_an_ssh_config_with_proxy_jump(oxinfra, lab_hosts, tmp_path: Path) -> None:
    *targets, jump = lab_hosts(TARGETS + 1)
    for host in [*targets, jump]:
        if host.path(ROOT).exists():
            shutil.rmtree(host.path(ROOT))
    known_hosts = tmp_path / "known_hosts"
    shutil.copyfile(jump.known_hosts, known_hosts)
    config = write_ssh_config(tmp_path, targets, jump, known_hosts)
    # No ssh_* data but the file: names, addresses, user, key and jump all come from it.
    hosts = ", ".join(f"('lab{host.number}', {{'ssh_config_file': {str(config)!r}}})" for host in targets)
    (tmp_path / "inventory.py").write_text(f"lab_hosts = [{hosts}]\n")
    (tmp_path / "deploy.py").write_text(DEPLOY)
    (tmp_path / "motd").write_text("configured by ssh_config\n")
    (tmp_path / "app.conf.j2").write_text("name={{ host.name }}\n")

    jump_log = SshdLog(jump)
    first = oxinfra("inventory.py", "deploy.py", "-y")

    assert first.code == 0, first
    assert sorted(re.findall(r"\[(lab\d+)\]\s+Connected", first.stderr)) == sorted(f"lab{host.number}" for host in targets), first
    for host in targets:
        assert host.read_text(f"{ROOT}/motd") == "configured by ssh_config\n"
        assert host.path(f"{ROOT}/motd").stat().st_mode & 0o777 == 0o644
        assert host.read_text(f"{ROOT}/app.conf") == f"name=lab{host.number}\n"
        assert host.read_text(f"{ROOT}/settings") == "reached=through-the-jump-host\n"
    assert not jump.path(ROOT).exists()
    # One login on host11 per target, carrying it; no command ran on host11 itself.
    assert jump_log.logins() == TARGETS, jump_log.since()
    assert jump_log.commands() == 0, jump_log.since()
    assert known_hosts.read_text() == jump.known_hosts.read_text()

    jump_log = SshdLog(jump)
    second = oxinfra("inventory.py", "deploy.py", "-y")

    assert second.code == 0, second
    assert re.findall(r"\[(lab\d+)\]\s+Success", second.stderr) == [], second
    assert jump_log.logins() == TARGETS, jump_log.since()


def test_proxy_jump_chain_through_two_lab_hosts(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(TARGETS + 2)
    target, first_hop, second_hop = hosts[TARGETS - 1], hosts[TARGETS], hosts[TARGETS + 1]
    (tmp_path / "ssh_config").write_text(
        f"Host chained\n    HostName {target.address}\n    ProxyJump hop11,hop12\n\n"
        f"Host hop11\n    HostName {first_hop.address}\n\n"
        f"Host hop12\n    HostName {second_hop.address}\n\n"
        "Host *\n"
        "    User root\n"
        f"    IdentityFile {target.key}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {target.known_hosts}\n"
        "    StrictHostKeyChecking yes\n"
    )
    (tmp_path / "inventory.py").write_text(f"hosts = [('chained', {{'ssh_config_file': {str(tmp_path / 'ssh_config')!r}}})]\n")
    marker = f"/tmp/oxconfig-chained-{uuid.uuid4().hex}"
    first_log, second_log = SshdLog(first_hop), SshdLog(second_hop)

    run = oxinfra("inventory.py", "exec", "--", "touch", marker)

    assert run.code == 0, run
    assert target.path(marker).exists()
    assert not first_hop.path(marker).exists() and not second_hop.path(marker).exists()
    # host11 carries the hop to host12, which carries the connection to host10.
    assert (first_log.logins(), first_log.commands()) == (1, 0), first_log.since()
    assert (second_log.logins(), second_log.commands()) == (1, 0), second_log.since()
