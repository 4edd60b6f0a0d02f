"""`@chroot/DIR` on a copy of the lab's Debian root: an overlay over `/var/lib/lab/base`
(so nothing is copied and the base is never changed), with the lab's offline apt
repository mounted read-only where the base's sources point. The deploy runs twice,
the second run changes nothing, and the result is read from outside the root.

Skipped, with the reason, where not root (chroot and mounts need it) or where the lab
cannot run (it builds the base).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import lab

DEPLOY = """
from pyinfra.operations import apt, files, server

files.directory(name="Dir", path="/opt/oxchroot/conf", mode="750")
files.put(name="Put", src="motd", dest="/opt/oxchroot/motd", mode="640")
flag = files.file(name="Flag", path="/opt/oxchroot/ready", mode="600", user="nobody")
files.line(name="Line", path="/opt/oxchroot/settings", line="debug=true")
server.shell(
    name="Shell",
    commands=["pwd > /opt/oxchroot/where && echo $GREETING >> /opt/oxchroot/where"],
    _chdir="/opt/oxchroot/conf",
    _env={"GREETING": "hello there"},
    _if=flag.did_change,
)
server.shell(name="As deploy", commands=["id -un > /tmp/oxchroot-who"], _sudo=True, _sudo_user="deploy", _if=flag.did_change)
apt.packages(name="Tree", packages=["tree"])
files.get(name="Get", src="/opt/oxchroot/motd", dest="fetched.motd")
"""


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A writable root over the lab's base, unmounted at the end."""
    if shutil.which("chroot") is None:
        pytest.skip("`chroot` is not installed")
    reason = lab.cannot_run_reason()
    if reason is not None:
        pytest.skip(reason)
    lab.build()
    layers = tmp_path / "layers"
    merged = layers / "root"
    for folder in ("upper", "work", "root"):
        (layers / folder).mkdir(parents=True)
    state = lab.state_dir()
    mount("-t", "overlay", "overlay", "-o", f"lowerdir={state / 'base'},upperdir={layers / 'upper'},workdir={layers / 'work'}", str(merged))
    repo = merged / "srv" / "lab-repo"
    try:
        repo.mkdir(parents=True, exist_ok=True)
        mount("--bind", str(state / "repo"), str(repo))
        mount("-o", "remount,bind,ro", str(repo))
        yield merged
    finally:
        subprocess.run(["umount", str(repo)], capture_output=True)
        subprocess.run(["umount", str(merged)], check=True, capture_output=True)


def oxinfra(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NO_COLOR": "1", "HOME": str(folder)}
    return subprocess.run([sys.executable, "-m", "oxinfra", *args], cwd=folder, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=300)


def changed(stderr: str) -> list[str]:
    return re.findall(r"\[(@[^\]]+)\]\s+Success", stderr)


def test_deploy_twice_into_a_root_second_run_changes_nothing(root: Path, tmp_path: Path) -> None:
    (tmp_path / "deploy.py").write_text(DEPLOY)
    (tmp_path / "motd").write_text("hello from a chroot\n")
    name = f"@chroot{root}"

    first = oxinfra(tmp_path, name, "deploy.py", "-y")
    assert first.returncode == 0, first.stderr
    assert len(changed(first.stderr)) == 8, first.stderr
    assert (root / "opt/oxchroot/motd").read_text() == "hello from a chroot\n"
    assert oct((root / "opt/oxchroot/motd").stat().st_mode & 0o777) == "0o640"
    assert oct((root / "opt/oxchroot/conf").stat().st_mode & 0o777) == "0o750"
    nobody = subprocess.run(["chroot", str(root), "id", "-u", "nobody"], capture_output=True, text=True, check=True).stdout.strip()
    assert (root / "opt/oxchroot/ready").stat().st_uid == int(nobody)
    assert (root / "opt/oxchroot/settings").read_text() == "debug=true\n"
    assert (root / "opt/oxchroot/where").read_text() == "/opt/oxchroot/conf\nhello there\n"
    assert (root / "tmp/oxchroot-who").read_text() == "deploy\n"
    assert (root / "usr/bin/tree").exists()
    assert (tmp_path / "fetched.motd").read_text() == "hello from a chroot\n"
    assert not [path for path in (root / "opt/oxchroot").iterdir() if "oxinfra-tmp" in path.name]
    # Nothing of the deploy escaped the root.
    assert not Path("/opt/oxchroot").exists()

    second = oxinfra(tmp_path, name, "deploy.py", "-y")
    assert second.returncode == 0, second.stderr
    assert changed(second.stderr) == [], second.stderr


def test_missing_root_fails_naming_the_host(tmp_path: Path) -> None:
    if shutil.which("chroot") is None:
        pytest.skip("`chroot` is not installed")
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(commands=['true'])\n")
    result = oxinfra(tmp_path, "@chroot/nonexistent-oxinfra-root", "deploy.py", "-y")
    assert result.returncode != 0, result.stderr
    assert "could not connect: `@chroot/nonexistent-oxinfra-root`: chroot into `/nonexistent-oxinfra-root` failed: " in result.stderr, result.stderr
