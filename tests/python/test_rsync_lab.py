"""`files.rsync`: a local folder copied by the controller's `rsync`, over SSH to 3 lab
hosts (as `root`, and as `deploy` with `_sudo` into a folder only root may write), and
on `@local`. `files.rsync` runs on every deploy, as in pyinfra, so the second run
reports changes too; what it must do is put back what changed on the host since the
first (a file edited, a stray file added, removed by the default `--delete`).

The lab inventory asks for strict host key checking against the lab's known hosts
file, and the controller has no `~/.ssh` of its own: the system `ssh` that rsync starts
(in batch mode) only gets in when the connector hands it the host's key, known hosts
file, port and user.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab import LabHost

HOSTS = 3

DEPLOY = """
from pyinfra.operations import files

files.rsync(name="Rsync", src="site/", dest="{dest}", _sudo={sudo})
"""

LOCAL_DEPLOY = """
from pyinfra.operations import files

files.rsync(name="Rsync", src="site/", dest="{dest}", flags=["-rt", "--delete", "--exclude '*.tmp'"])
"""


def ssh(host: LabHost, script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` as root on `host` with the system's ssh client (set-up, not under test)."""
    return subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def write_site(folder: Path) -> Path:
    site = folder / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>rsynced</h1>\n")
    (site / "css" / "main.css").write_text("body { margin: 0 }\n")
    (site / "notes.tmp").write_text("scratch\n")
    return site


def changed_hosts(stderr: str) -> list[str]:
    return re.findall(r"\[(host\d+)\]\s+Success", stderr)


@pytest.mark.parametrize("user", ["root", "deploy"])
def test_rsync_over_ssh(oxinfra, lab_hosts, lab_inventory, tmp_path: Path, user: str) -> None:
    hosts = lab_hosts(HOSTS)
    dest = f"/opt/oxrsync-{user}"
    for host in hosts:
        if ssh(host, "command -v rsync").returncode != 0:
            installed = ssh(host, "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y -q rsync")
            assert installed.returncode == 0, installed.stderr
        if host.path(dest).exists():
            shutil.rmtree(host.path(dest))
    lab_inventory(tmp_path, HOSTS, user)
    write_site(tmp_path)
    (tmp_path / "deploy.py").write_text(DEPLOY.format(dest=dest, sudo=user != "root"))

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    assert sorted(set(changed_hosts(first.stderr))) == [host.name for host in hosts], first
    for host in hosts:
        assert host.read_text(f"{dest}/index.html") == "<h1>rsynced</h1>\n"
        assert host.read_text(f"{dest}/css/main.css") == "body { margin: 0 }\n"
        assert host.read_text(f"{dest}/notes.tmp") == "scratch\n"
        # -a keeps the local owner: root here, whoever logged in.
        assert host.path(f"{dest}/index.html").stat().st_uid == 0
        host.path(f"{dest}/index.html").write_text("edited on the host\n")
        host.path(f"{dest}/stray.txt").write_text("not in the source\n")

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    for host in hosts:
        assert host.read_text(f"{dest}/index.html") == "<h1>rsynced</h1>\n"
        assert not host.path(f"{dest}/stray.txt").exists()


def test_rsync_on_local(oxinfra, tmp_path: Path) -> None:
    if shutil.which("rsync") is None:
        pytest.skip("the machine running the tests has no `rsync`")
    write_site(tmp_path)
    dest = tmp_path / "published"
    dest.mkdir()
    (dest / "stray.txt").write_text("not in the source\n")
    (tmp_path / "deploy.py").write_text(LOCAL_DEPLOY.format(dest=dest))

    for _ in range(2):
        run = oxinfra("@local", "deploy.py", "-y")
        assert run.code == 0, run
        assert (dest / "index.html").read_text() == "<h1>rsynced</h1>\n"
        assert (dest / "css" / "main.css").read_text() == "body { margin: 0 }\n"
        assert not (dest / "notes.tmp").exists()
        assert not (dest / "stray.txt").exists()
        (dest / "index.html").write_text("edited\n")
