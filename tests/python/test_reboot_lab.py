"""`server.reboot` over SSH on a lab host.

A lab host has no init system and shares the machine's kernel, so it cannot really
reboot. The test gives it a stand-in: a file bind-mounted over `/proc/uptime` (inside the
host's own mount namespace) and a `reboot` in `/usr/local/sbin` that sets that uptime back
to a few seconds and cuts every SSH session, as a reboot would. The operation must then
reconnect and see the smaller uptime; with a `reboot` that changes nothing (the real uptime
keeps growing) it must give up after `reboot_timeout`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import LabHost

FAKE_UPTIME = "/run/oxinfra-fake-uptime"

SETUP = f"""
set -e
echo '100000.00 1.00' > {FAKE_UPTIME}
mountpoint -q /proc/uptime || mount --bind {FAKE_UPTIME} /proc/uptime
cat > /usr/local/sbin/reboot <<'EOF'
#!/bin/sh
[ -e /run/oxinfra-reboot-does-nothing ] && exit 0
echo '3.00 1.00' > {FAKE_UPTIME}
pkill -KILL -f 'sshd: root' || true
EOF
chmod 755 /usr/local/sbin/reboot
"""

TEARDOWN = f"umount /proc/uptime 2>/dev/null; rm -f {FAKE_UPTIME} /usr/local/sbin/reboot /run/oxinfra-reboot-does-nothing; true"

DEPLOY = """
from pyinfra.operations import server

server.reboot(name="Reboot", delay=2, interval=1, reboot_timeout={timeout})
server.shell(name="After the reboot", commands=["cat /proc/uptime"])
"""


def ssh(host: LabHost, script: str) -> str:
    result = subprocess.run(host.ssh_command("root", script), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def rebootable_host(lab_hosts) -> Iterator[LabHost]:
    (host,) = lab_hosts(1)
    ssh(host, SETUP)
    yield host
    ssh(host, TEARDOWN)


@pytest.mark.lab
def test_reboot_waits_for_the_host_to_come_back(oxinfra, rebootable_host: LabHost, lab_inventory, tmp_path: Path) -> None:
    lab_inventory(tmp_path, 1, "root")
    (tmp_path / "deploy.py").write_text(DEPLOY.format(timeout=60))

    run = oxinfra("inventory.py", "deploy.py", "-y", "-v")
    output = run.stdout + run.stderr

    assert run.code == 0, run
    assert ssh(rebootable_host, "cat /proc/uptime").startswith("3.00"), "the stand-in reboot ran"
    # The reboot succeeded, and the operation after it ran on the new connection.
    assert output.count("[host1] Success") == 2, run


@pytest.mark.lab
def test_reboot_fails_when_the_host_does_not_come_back_in_time(oxinfra, rebootable_host: LabHost, lab_inventory, tmp_path: Path) -> None:
    # The host's real uptime, which keeps growing: it never looks rebooted.
    ssh(rebootable_host, "touch /run/oxinfra-reboot-does-nothing; umount /proc/uptime")
    lab_inventory(tmp_path, 1, "root")
    (tmp_path / "deploy.py").write_text(DEPLOY.format(timeout=3))

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code != 0, run
    assert "Server did not reboot in time (reboot_timeout=3s)" in run.stdout + run.stderr, run
