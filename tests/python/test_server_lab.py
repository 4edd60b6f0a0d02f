"""The `server` operations a Debian host without an init system can run, and
`crontab.crontab`, over SSH on 3 lab hosts as `root`: the first run makes each host as
asked (checked from outside the host), the second run changes nothing.

The hosts are shared with other tests, so each test first puts back what an earlier run
left and, where it changes something other tests read (the host name, the time zone),
puts it back afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import LabHost

HOSTS = 3

# The lab hosts' files hold no entry for these names before the test.
USER, UID = "oxsrv", 4701
GROUP, EXTRA_GROUP = "oxsrv-team", "oxsrv-extra"
SYSCTL_KEY = "vm.swappiness"

SYSTEM_DEPLOY = """
from pyinfra import host
from pyinfra.operations import server

server.group(name="Group", group="{group}", gid={uid})
server.group(name="Extra group", group="{extra_group}")
server.user(
    name="User",
    user="{user}",
    uid={uid},
    group="{group}",
    groups=["{extra_group}"],
    home="/home/{user}",
    shell="/bin/bash",
    comment="oxinfra server test",
)
server.hostname(name="Hostname", hostname="oxsrv-" + host.name)
server.timezone(name="Timezone", timezone="Europe/Amsterdam")
server.security_limit(name="Limit", domain="{user}", limit_type="hard", item="nofile", value=4096)
# /proc/sys is read-only in a lab host, as in most containers: the running value cannot
# change, so the deploy keeps the value the kernel has and persists it for the next boot.
server.sysctl(name="Sysctl", key="{sysctl_key}", value=host.data.swappiness, persist=True)
"""

CRONTAB_DEPLOY = """
from pyinfra.operations import crontab, server

crontab.crontab(
    name="Nightly report",
    command="/usr/local/bin/oxsrv-report --all",
    cron_name="oxsrv_report",
    minute=15,
    hour=[1, 13],
)
server.crontab(name="At boot", command="/usr/local/bin/oxsrv-warm", special_time="@reboot")
"""

LOCALE_DEPLOY = """
from pyinfra.operations import server

server.locale(name="Locale", locale="de_DE.UTF-8")
"""


def ssh(host: LabHost, script: str) -> str:
    """Runs `script` as root on `host` with the system's OpenSSH client; its stdout."""
    result = subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{host.name}: `{script}` exited with {result.returncode}: {result.stderr}"
    return result.stdout


def changed_hosts(stderr: str) -> list[str]:
    """The hosts on which an operation reported a change."""
    return re.findall(r"\[(host\d+)\]\s+Success", stderr)


def with_host_data(inventory: Path, name: str, value: str) -> None:
    """Adds `name` to every host's data in a lab inventory."""
    text = inventory.read_text()
    inventory.write_text(text.replace("**_data}", f"**_data, {name!r}: {value}}}"))


def restore_identity(host: LabHost) -> None:
    """The host's own name and the lab's UTC time zone, as `lab build` made them."""
    ssh(
        host,
        f"hostname {host.name} && echo {host.name} > /etc/hostname && ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime && echo Etc/UTC > /etc/timezone",
    )


@pytest.fixture
def system_hosts(lab_hosts) -> Iterator[list[LabHost]]:
    hosts = lab_hosts(HOSTS)
    for host in hosts:
        restore_identity(host)
        ssh(
            host,
            f"userdel {USER} 2>/dev/null; rm -rf /home/{USER};"
            f" groupdel {GROUP} 2>/dev/null; groupdel {EXTRA_GROUP} 2>/dev/null;"
            f" sed -i '/^{USER}[[:space:]]/d' /etc/security/limits.conf;"
            f" sed -i '/^{SYSCTL_KEY}[[:space:]]*=/d' /etc/sysctl.conf; true",
        )
    yield hosts
    for host in hosts:
        restore_identity(host)


def test_server_system_operations_over_ssh(oxinfra, system_hosts: list[LabHost], lab_inventory, tmp_path: Path) -> None:
    hosts = system_hosts
    # What the kernel has now, read inside a host (vm.* is the same in every namespace).
    swappiness = ssh(hosts[0], f"sysctl -n {SYSCTL_KEY}").strip()
    inventory = lab_inventory(tmp_path, HOSTS, "root")
    with_host_data(inventory, "swappiness", swappiness)
    deploy = SYSTEM_DEPLOY.format(user=USER, uid=UID, group=GROUP, extra_group=EXTRA_GROUP, sysctl_key=SYSCTL_KEY)
    (tmp_path / "deploy.py").write_text(deploy)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    assert sorted(set(changed_hosts(first.stderr))) == [host.name for host in hosts], first
    for host in hosts:
        groups = host.read_text("/etc/group").splitlines()
        assert f"{GROUP}:x:{UID}:" in groups
        assert any(re.fullmatch(rf"{EXTRA_GROUP}:x:\d+:{USER}", line) for line in groups), groups
        passwd = host.read_text("/etc/passwd").splitlines()
        assert f"{USER}:x:{UID}:{UID}:oxinfra server test:/home/{USER}:/bin/bash" in passwd
        home = host.path(f"/home/{USER}").stat()
        assert (home.st_uid, home.st_gid) == (UID, UID)

        assert host.read_text("/etc/hostname") == f"oxsrv-{host.name}\n"
        assert ssh(host, "uname -n").strip() == f"oxsrv-{host.name}"

        assert os.readlink(host.path("/etc/localtime")) == "/usr/share/zoneinfo/Europe/Amsterdam"
        assert host.read_text("/etc/timezone") == "Europe/Amsterdam\n"

        assert f"{USER}\thard\tnofile\t4096" in host.read_text("/etc/security/limits.conf").splitlines()
        assert f"{SYSCTL_KEY} = {swappiness}" in host.read_text("/etc/sysctl.conf").splitlines()

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert changed_hosts(second.stderr) == [], second


def install(hosts: list[LabHost], binary: str, package: str) -> None:
    """Makes sure every host has `binary`, installing Debian's `package` from the lab's
    offline repository (`REPO_PKGS` in lab/lab holds it)."""
    for host in hosts:
        if not host.path(binary, follow=True).exists():
            ssh(host, f"DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=240 install -y -q {package}")


def test_crontab_over_ssh(oxinfra, lab_hosts, lab_inventory, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    install(hosts, "/usr/bin/crontab", "cron")
    for host in hosts:
        ssh(host, "crontab -r 2>/dev/null; true")
    lab_inventory(tmp_path, HOSTS, "root")
    (tmp_path / "deploy.py").write_text(CRONTAB_DEPLOY)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        lines = host.read_text("/var/spool/cron/crontabs/root").splitlines()
        assert "# pyinfra-name=oxsrv_report" in lines
        assert "15 1,13 * * * /usr/local/bin/oxsrv-report --all" in lines
        assert "@reboot /usr/local/bin/oxsrv-warm" in lines

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert changed_hosts(second.stderr) == [], second


def test_locale_over_ssh(oxinfra, lab_hosts, lab_inventory, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    install(hosts, "/usr/sbin/locale-gen", "locales")
    for host in hosts:
        ssh(host, "sed -i 's/^de_DE.UTF-8 UTF-8/# de_DE.UTF-8 UTF-8/' /etc/locale.gen && locale-gen")
    lab_inventory(tmp_path, HOSTS, "root")
    (tmp_path / "deploy.py").write_text(LOCALE_DEPLOY)

    first = oxinfra("inventory.py", "deploy.py", "-y")
    assert first.code == 0, first
    for host in hosts:
        assert "de_DE.UTF-8 UTF-8" in host.read_text("/etc/locale.gen").splitlines()
        assert "de_DE.utf8" in ssh(host, "locale -a").split()

    second = oxinfra("inventory.py", "deploy.py", "-y")
    assert second.code == 0, second
    assert changed_hosts(second.stderr) == [], second
