"""`git` and `pip` operations over SSH on 3 lab hosts as `root`: the first run makes each
host as asked (checked from outside the host), the second run changes nothing.

git: a bare repository made by `git.bare_repo`, a first commit pushed into it with plain
shell commands, a working copy cloned from it by `git.repo`, and `git.config` at
repository, global and system level.

pip: a virtualenv made by `pip.venv` and a wheel installed into it offline by
`pip.packages`. The hosts need `python3 -m venv` with its bundled pip: the test installs
`python3-venv` from the lab's offline repository (`REPO_PKGS` in lab/lab; apt brings
`python3.11-venv`, `python3-pip-whl` and `python3-setuptools-whl` with it).
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

HOSTS = 3

GIT_BASE = "/srv/oxtest-git"
BARE = f"{GIT_BASE}/origin.git"
WORK = f"{GIT_BASE}/work"
SEED = "/tmp/oxtest-git-seed"

GIT_DEPLOY = f"""
from pyinfra.operations import git, server

bare = git.bare_repo(name="Bare repository", path="{BARE}")
server.shell(
    name="Push a first commit",
    commands=[
        "rm -rf {SEED} && git init -q {SEED}",
        "cd {SEED} && echo hello > README && git add README"
        " && git -c user.name=Lab -c user.email=lab@example.invalid commit -q -m first",
        "cd {SEED} && git push -q {BARE} HEAD:refs/heads/master && rm -rf {SEED}",
    ],
    _if=bare.did_change,
)
git.repo(name="Working copy", src="{BARE}", dest="{WORK}", branch="master")
git.config(name="Repository setting", key="oxtest.greeting", value="hello world", repo="{WORK}")
git.config(name="Global setting", key="oxtest.owner", value="root@lab")
git.config(name="System setting", key="safe.directory", value="{WORK}", multi_value=True, system=True)
"""

VENV = "/opt/oxtest-venv"
WHEELS = "/opt/oxtest-wheels"
WHEEL = "oxlabpkg-1.0-py3-none-any.whl"

PIP_DEPLOY = f"""
from pyinfra.operations import files, pip

files.directory(name="Wheel folder", path="{WHEELS}")
files.put(name="Wheel", src="{WHEEL}", dest="{WHEELS}/{WHEEL}")
pip.venv(name="Virtualenv", path="{VENV}", python="python3")
pip.packages(
    name="Package from the wheel",
    packages=["OxLabPkg==1.0"],
    virtualenv="{VENV}",
    virtualenv_kwargs={{"python": "python3", "venv": True}},
    extra_install_args="--no-index --find-links {WHEELS}",
)
"""


def ssh(host, script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` as root on `host` with the system's ssh client (set-up, not under test)."""
    return subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def apt_install(host, package: str) -> subprocess.CompletedProcess[str]:
    """Installs `package` from the lab's offline repository, waiting for another test's apt run to end."""
    return ssh(host, f"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y -q {package}")


def assert_second_run_changes_nothing(oxinfra, hosts) -> None:
    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert re.findall(r"\[(host\d+)\]\s+Success", second.stderr) == [], second
    for host in hosts:
        assert re.search(rf"\[{host.name}\]\s+No changes", second.stderr), second


def test_git_bare_repo_clone_and_config(oxinfra, lab_hosts, lab_inventory, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    lab_inventory(tmp_path, HOSTS, "root")
    for host in hosts:
        if ssh(host, "command -v git").returncode != 0:
            installed = apt_install(host, "git")
            assert installed.returncode == 0, installed.stderr
        # Earlier runs leave their repositories and settings: start from none.
        for path in (GIT_BASE, SEED):
            if host.path(path).exists():
                shutil.rmtree(host.path(path))
        ssh(host, "git config --global --unset-all oxtest.owner; git config --system --unset-all safe.directory; true")
    (tmp_path / "deploy.py").write_text(GIT_DEPLOY)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        assert host.read_text(f"{BARE}/HEAD") == "ref: refs/heads/master\n"
        assert "bare = true" in host.read_text(f"{BARE}/config")
        pushed = host.read_text(f"{BARE}/refs/heads/master").strip()
        assert re.fullmatch(r"[0-9a-f]{40}", pushed)
        assert host.read_text(f"{WORK}/README") == "hello\n"
        assert host.read_text(f"{WORK}/.git/HEAD") == "ref: refs/heads/master\n"
        assert host.read_text(f"{WORK}/.git/refs/heads/master").strip() == pushed
        assert f"url = {BARE}" in host.read_text(f"{WORK}/.git/config")
        assert re.search(r"\[oxtest\]\n\s+greeting = hello world\n", host.read_text(f"{WORK}/.git/config"))
        assert re.search(r"\[oxtest\]\n\s+owner = root@lab\n", host.read_text("/root/.gitconfig"))
        assert f"directory = {WORK}\n" in host.read_text("/etc/gitconfig")
        assert not host.path(SEED).exists()

    assert_second_run_changes_nothing(oxinfra, hosts)
    for host in hosts:
        assert host.read_text("/etc/gitconfig").count(f"directory = {WORK}\n") == 1


def build_wheel(folder: Path) -> Path:
    """A pure-Python wheel of `oxlabpkg` 1.0, written by hand (no build tools needed)."""
    files = {
        "oxlabpkg/__init__.py": b'VERSION = "1.0"\n',
        "oxlabpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: oxlabpkg\nVersion: 1.0\n",
        "oxlabpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: oxinfra-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(content)}")
    record.append("oxlabpkg-1.0.dist-info/RECORD,,")
    path = folder / WHEEL
    with zipfile.ZipFile(path, "w") as wheel:
        for name, content in files.items():
            wheel.writestr(name, content)
        wheel.writestr("oxlabpkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def test_pip_venv_and_offline_package(oxinfra, lab_hosts, lab_inventory, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    for host in hosts:
        if ssh(host, "python3 -c 'import ensurepip'").returncode == 0:
            continue
        installed = apt_install(host, "python3-venv")
        assert installed.returncode == 0, installed.stderr
    lab_inventory(tmp_path, HOSTS, "root")
    for host in hosts:
        for path in (VENV, WHEELS):
            if host.path(path).exists():
                shutil.rmtree(host.path(path))
    (tmp_path / "deploy.py").write_text(PIP_DEPLOY)
    build_wheel(tmp_path)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        assert host.path(f"{VENV}/bin/activate").is_file()
        assert host.path(f"{VENV}/bin/pip").exists()
        installed = list(host.path(f"{VENV}/lib").glob("python3*/site-packages/oxlabpkg/__init__.py"))
        assert [path.read_text() for path in installed] == ['VERSION = "1.0"\n']
        metadata = list(host.path(f"{VENV}/lib").glob("python3*/site-packages/oxlabpkg-1.0.dist-info/METADATA"))
        assert len(metadata) == 1

    assert_second_run_changes_nothing(oxinfra, hosts)
