"""The `apt` operations over SSH on 3 lab hosts, as `root` and as `deploy` with `_sudo`:
a key, a one-line source and a deb822 source, packages installed (after an update
guarded by `cache_time`) and removed, and a `.deb` from the lab's repository. The first
run makes each host as asked (checked from outside the host), the second run changes
nothing; a clean-up deploy then removes it all, and its second run changes nothing.

A deb822 source cannot say `Trusted: yes` through `apt.sources_file`, and `apt-get
update` refuses an unsigned repository, so the test signs a copy of the lab's offline
repository (`/srv/oxlab-signed` on each host) with a key made for this module; the
deploy installs that key with `apt.key` and names it in `Signed-By`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lab import LabHost, state_dir

HOSTS = 3

INSTALL = ["jq", "tree"]
REMOVE = "htop"
DEB_PACKAGE = "sl"

KEY_FILE = "/root/oxlab.asc"
KEYRING = "/etc/apt/keyrings/oxlab.gpg"
LIST_FILE = "/etc/apt/sources.list.d/oxlab.list"
SOURCES_FILE = "/etc/apt/sources.list.d/oxlab.sources"
SIGNED_REPO = "/srv/oxlab-signed"
UPDATE_STAMP = "/var/lib/apt/periodic/update-success-stamp"
# The lab's own source is `file:/srv/lab-repo`; this spelling is the same repository
# as a second, distinct entry.
REPO_LINE = "deb [trusted=yes] file:///srv/lab-repo ./"

DEPLOY = """
from pyinfra.operations import apt, files

SUDO = {sudo}

files.put(name="Key file", src="oxlab.asc", dest="{key_file}", _sudo=SUDO)
apt.key(name="Key", src="{key_file}", dest="oxlab.gpg", _sudo=SUDO)
apt.repo(name="Repo", src="{repo_line}", filename="oxlab", _sudo=SUDO)
apt.sources_file(
    name="Sources",
    filename="oxlab",
    uris="file:{signed_repo}",
    suites="./",
    signed_by="{keyring}",
    _sudo=SUDO,
)
apt.packages(name="Install", packages={install!r}, update=True, cache_time=3600, _sudo=SUDO)
apt.packages(name="Remove", packages="{remove}", present=False, _sudo=SUDO)
apt.deb(name="Deb", src="{deb}", _sudo=SUDO)
"""

CLEANUP = """
from pyinfra.operations import apt

SUDO = {sudo}

apt.deb(name="Deb", src="{deb}", present=False, _sudo=SUDO)
apt.packages(name="Purge", packages={install!r}, present=False, purge=True, _sudo=SUDO)
apt.sources_file(name="Sources", filename="oxlab", present=False, _sudo=SUDO)
apt.repo(name="Repo", src="{repo_line}", filename="oxlab", present=False, _sudo=SUDO)
apt.key(name="Key", dest="oxlab.gpg", present=False, _sudo=SUDO)
"""


def ssh(host: LabHost, script: str) -> str:
    """Runs `script` as root on `host` with the system's OpenSSH client; its stdout."""
    result = subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{host.name}: `{script}` exited with {result.returncode}: {result.stderr}"
    return result.stdout


def changed_hosts(stderr: str) -> list[str]:
    """The hosts on which an operation reported a change."""
    return re.findall(r"\[(host\d+)\]\s+Success", stderr)


def installed_packages(host: LabHost) -> dict[str, str]:
    """Installed packages and their versions, from the host's dpkg status file."""
    packages = {}
    for stanza in host.read_text("/var/lib/dpkg/status").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" "))
        if fields.get("Status") == "install ok installed":
            packages[fields["Package"]] = fields["Version"]
    return packages


def gpg(home: Path, *arguments: str) -> bytes:
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", *arguments], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.fixture(scope="module")
def apt_hosts(lab_session) -> list[LabHost]:
    """The 3 hosts, reset once for this module (as `lab_hosts(3, fresh=True)`)."""
    return lab_session.hosts(HOSTS, fresh=True)


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A fresh signing key: its public half, armored, and the lab repository's
    `Release` signed with it (`InRelease`)."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    gpg(home, "--passphrase", "", "--quick-gen-key", "oxinfra lab <lab@oxinfra.invalid>", "ed25519", "sign", "never")
    public = gpg(home, "--armor", "--export").decode()
    release = state_dir() / "repo" / "Release"
    signed = gpg(home, "--clearsign", "--output", "-", str(release)).decode()
    return public, signed


def prepare(host: LabHost, in_release: str) -> None:
    """The signed copy of the lab repository, and the host as before the deploy: none of
    this test's files, `INSTALL` and the `.deb`'s package absent, `REMOVE` present."""
    repository = host.path(SIGNED_REPO)
    repository.mkdir(exist_ok=True)
    lab_repo = state_dir() / "repo"
    for index in ("Packages", "Packages.gz", "Release"):
        (repository / index).write_bytes((lab_repo / index).read_bytes())
    (repository / "InRelease").write_text(in_release)
    for deb in lab_repo.glob("*.deb"):
        link = repository / deb.name
        if not link.is_symlink():
            link.symlink_to(f"/srv/lab-repo/{deb.name}")
    ssh(
        host,
        f"rm -f {LIST_FILE} {SOURCES_FILE} {KEYRING} {KEY_FILE} {UPDATE_STAMP}"
        f" && DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove {' '.join(INSTALL)} {DEB_PACKAGE}"
        f" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q {REMOVE}",
    )


@pytest.mark.parametrize("user", ["root", "deploy"])
def test_apt_operations_over_ssh(oxinfra, apt_hosts: list[LabHost], signing_key, lab_inventory, tmp_path: Path, user: str) -> None:
    hosts = apt_hosts
    public_key, in_release = signing_key
    deb_file = sorted((state_dir() / "repo").glob(f"{DEB_PACKAGE}_*.deb"))[-1]
    deb_version = deb_file.name.split("_")[1]
    for host in hosts:
        prepare(host, in_release)
        assert REMOVE in installed_packages(host)
    lab_inventory(tmp_path, HOSTS, user)
    arguments = {
        "sudo": user != "root",
        "key_file": KEY_FILE,
        "keyring": KEYRING,
        "repo_line": REPO_LINE,
        "signed_repo": SIGNED_REPO,
        "install": INSTALL,
        "remove": REMOVE,
        "deb": f"/srv/lab-repo/{deb_file.name}",
    }
    (tmp_path / "deploy.py").write_text(DEPLOY.format(**arguments))
    (tmp_path / "cleanup.py").write_text(CLEANUP.format(**arguments))
    (tmp_path / "oxlab.asc").write_text(public_key)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    assert sorted(set(changed_hosts(first.stderr))) == [host.name for host in hosts], first
    for host in hosts:
        packages = installed_packages(host)
        assert all(name in packages for name in INSTALL), packages
        assert REMOVE not in packages
        assert packages.get(DEB_PACKAGE) == deb_version
        keyring = host.path(KEYRING)
        assert oct(keyring.stat().st_mode & 0o777) == "0o644"
        assert not keyring.read_bytes().startswith(b"-----BEGIN"), "the armored key is stored dearmored"
        assert REPO_LINE in host.read_text(LIST_FILE).splitlines()
        assert host.read_text(SOURCES_FILE) == f"Types: deb\nURIs: file:{SIGNED_REPO}\nSuites: ./\nSigned-By: {KEYRING}\n"
        assert host.path(UPDATE_STAMP).exists()
        # `apt-get update` read the signed repository with the installed key.
        assert any("oxlab-signed" in path.name for path in host.path("/var/lib/apt/lists").iterdir())

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert changed_hosts(second.stderr) == [], second

    removed = oxinfra("inventory.py", "cleanup.py", "-y")
    assert removed.code == 0, removed
    for host in hosts:
        packages = installed_packages(host)
        assert not any(name in packages for name in [*INSTALL, DEB_PACKAGE]), packages
        assert not host.path(SOURCES_FILE).exists()
        assert not host.path(KEYRING).exists()
        assert REPO_LINE not in host.read_text(LIST_FILE).splitlines()

    removed_again = oxinfra("inventory.py", "cleanup.py", "-y")
    assert removed_again.code == 0, removed_again
    assert changed_hosts(removed_again.stderr) == [], removed_again
