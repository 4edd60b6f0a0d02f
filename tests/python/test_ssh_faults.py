"""Faults over SSH on lab hosts. In each test one host of four has the fault: a wrong
key, an unknown or changed host key, nothing at its address, a closed port, its sshd
killed in the middle of a run, a command past `_timeout`, sudo without its password.

Each asserts what a user would check: that host fails with one paragraph naming it and
what failed (the step of connecting, or the operation, the command with its secrets
masked and why); every other host finishes its operations (checked from outside);
the exit code is 1; and no file is half-written. Last, a sudo password never shows
in the output, even with `-vvv`.

The hosts are shared by the whole session: known_hosts files and keys are copies in
`tmp_path`, each test writes under its own `/opt/oxfault-*`, and a killed host is
started again.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from lab import LabHost, deploy2_password, state_dir

HOSTS = 4
FAULTY = 3  # host3 has the fault; host1, host2 and host4 must finish
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: a half-written copy would show

DEPLOY = """
from pyinfra import host
from pyinfra.api import HiddenValue, StringCommand
from pyinfra.operations import files, server

ROOT = {root!r}
SUDO = {sudo!r}

{before}
files.directory(name="Dir", path=ROOT, _sudo=SUDO)
files.put(name="Payload", src="payload.bin", dest=ROOT + "/payload.bin", mode="640", _sudo=SUDO)
{middle}
server.shell(name="Mark", commands=["echo " + host.name + " > " + ROOT + "/done"], _sudo=SUDO)
"""


def write_project(folder: Path, root: str, before: str = "", middle: str = "", sudo: bool = False) -> None:
    (folder / "deploy.py").write_text(DEPLOY.format(root=root, sudo=sudo, before=before, middle=middle))
    (folder / "payload.bin").write_bytes(PAYLOAD)


def host_data(host: LabHost, user: str = "root", **override: object) -> dict[str, object]:
    """The lab's pyinfra data for `host` (as `lab.write_inventory` writes it), with `override` on top."""
    data: dict[str, object] = {
        "ssh_hostname": host.address,
        "ssh_user": user,
        "ssh_key": str(host.key),
        "ssh_known_hosts_file": str(host.known_hosts),
        "ssh_strict_host_key_checking": "yes",
    }
    if user == "deploy2":
        data["_sudo_password"] = deploy2_password()
    data.update(override)
    return data


def write_inventory(folder: Path, hosts: list[LabHost], faulty: dict[str, object] | None = None, user: str = "root", drop: tuple[str, ...] = ()) -> None:
    """`inventory.py` of `hosts`; host`FAULTY` gets `faulty` on top of its data and loses the `drop` keys."""
    lines = ["lab_hosts = ["]
    for host in hosts:
        data = host_data(host, user)
        if host.number == FAULTY:
            data.update(faulty or {})
            for key in drop:
                data.pop(key)
        lines.append(f"    ({host.name!r}, {data!r}),")
    lines.append("]")
    (folder / "inventory.py").write_text("\n".join(lines) + "\n")


def start_clean(hosts: list[LabHost], root: str) -> None:
    """Removes what an earlier run of the test left on the hosts."""
    for host in hosts:
        target = host.path(root)
        if target.exists():
            shutil.rmtree(target)


def error_paragraph(stderr: str, host: str, start: str) -> str:
    """The message of `[host] START...`, with the lines that continue it (a `hint:`)."""
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        match = re.match(rf"\s*\[{host}\]\s+(.*)$", line)
        if match and match.group(1).startswith(start):
            paragraph = [match.group(1)]
            for following in lines[index + 1 :]:
                if not following.strip() or following.startswith("-->") or re.match(r"\s*\[[^\]]+\]", following):
                    break
                paragraph.append(following.strip())
            return "\n".join(paragraph)
    raise AssertionError(f"no `[{host}] {start}...` line in:\n{stderr}")


def assert_one_paragraph(paragraph: str) -> None:
    """One line, or one line and its `hint:`."""
    rest = paragraph.splitlines()[1:]
    assert len(rest) <= 1 and all(line.startswith("hint: ") for line in rest), paragraph


def leftovers(host: LabHost, root: str) -> list[str]:
    """Temporary files of an upload that did not finish: beside the targets, or a sudo
    upload's staged copy of the payload in /tmp (other sessions' uploads may be there)."""
    names = [path.name for path in host.path(root).glob("*oxinfra-tmp*")] if host.path(root).is_dir() else []
    for path in host.path("/tmp").glob("oxinfra-upload-*"):
        try:
            content = path.read_bytes()
        except FileNotFoundError:  # another session's upload, finished meanwhile
            continue
        if content and PAYLOAD.startswith(content):
            names.append(path.name)
    return names


def assert_finished(hosts: list[LabHost], root: str, files: tuple[str, ...] = ()) -> None:
    """Every host but the faulty one ran the whole deploy."""
    for host in hosts:
        if host.number == FAULTY:
            continue
        assert host.read_file(f"{root}/payload.bin") == PAYLOAD, host.name
        assert host.path(f"{root}/payload.bin").stat().st_mode & 0o777 == 0o640, host.name
        assert host.read_text(f"{root}/done") == f"{host.name}\n"
        for name in files:
            assert host.path(f"{root}/{name}").exists(), (host.name, name)
        assert leftovers(host, root) == [], host.name


def assert_untouched(host: LabHost, root: str) -> None:
    """The faulty host, never reached, has nothing of the deploy."""
    assert not host.path(root).exists(), f"{host.name} was changed"


def fingerprint(known_hosts_line: str) -> str:
    """OpenSSH's `SHA256:` fingerprint of the key on a known_hosts line."""
    blob = base64.b64decode(known_hosts_line.split()[2])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def lab_known_hosts_line(host: LabHost) -> str:
    lines = [line for line in host.known_hosts.read_text().splitlines() if host.address in line.split()[0].split(",")]
    assert len(lines) == 1, lines
    return lines[0]


def new_key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "not-the-lab", "-f", str(path)], check=True, timeout=60)
    return path


def assert_nothing_listens(address: str, port: int) -> None:
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex((address, port)) != 0, f"something listens on {address}:{port}: this test needs it closed"


# ---------------------------------------------------------------- connecting ----


def test_wrong_key_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-wrong-key"
    start_clean(hosts, root)
    other_key = new_key(tmp_path / "other_key")
    write_inventory(tmp_path, hosts, {"ssh_key": str(other_key)})
    write_project(tmp_path, root)

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "could not connect:")
    assert_one_paragraph(error)
    assert error.splitlines()[0] == (
        f"could not connect: `host3`: authentication as `root` at `127.0.1.3:22` failed: tried publickey with `{other_key}`; the server accepts publickey"
    )
    assert_finished(hosts, root)
    assert_untouched(hosts[FAULTY - 1], root)


def test_unknown_host_key_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    faulty = hosts[FAULTY - 1]
    root = "/opt/oxfault-unknown-host-key"
    start_clean(hosts, root)
    known_line = lab_known_hosts_line(faulty)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("".join(line + "\n" for line in faulty.known_hosts.read_text().splitlines() if line != known_line))
    before = known_hosts.read_text()
    write_inventory(tmp_path, hosts, {"ssh_known_hosts_file": str(known_hosts)})
    write_project(tmp_path, root)

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "could not connect:")
    assert_one_paragraph(error)
    assert error.startswith(f"could not connect: `host3`: unknown host key for `127.0.1.3`: the server offers ssh-ed25519 {fingerprint(known_line)}, "), error
    assert f"not in `{known_hosts}`" in error and "strict host key checking is `yes`" in error, error
    hint = f"hint: check the fingerprint with the host's owner, then add it (`ssh-keyscan 127.0.1.3 >> {known_hosts}`) or set "
    assert error.splitlines()[1] == hint + "`ssh_strict_host_key_checking` to `accept-new`", error
    assert known_hosts.read_text() == before, "strict checking must not add the key"
    assert_finished(hosts, root)
    assert_untouched(faulty, root)


def test_changed_host_key_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    faulty = hosts[FAULTY - 1]
    root = "/opt/oxfault-changed-host-key"
    start_clean(hosts, root)
    real_line = lab_known_hosts_line(faulty)
    impostor = new_key(tmp_path / "impostor_host_key").with_suffix(".pub").read_text().split()
    forged_line = f"{real_line.split()[0]} {impostor[0]} {impostor[1]}"
    lines = faulty.known_hosts.read_text().splitlines()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("".join((forged_line if line == real_line else line) + "\n" for line in lines))
    write_inventory(tmp_path, hosts, {"ssh_known_hosts_file": str(known_hosts)})
    write_project(tmp_path, root)

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "could not connect:")
    assert_one_paragraph(error)
    line_number = lines.index(real_line) + 1
    assert error.startswith(
        f"could not connect: `host3`: host key for `127.0.1.3` has changed: the server offers ssh-ed25519 {fingerprint(real_line)}, "
        f"but `{known_hosts}` line {line_number} has {fingerprint(forged_line)}"
    ), error
    assert error.splitlines()[1] == f"hint: if the change is expected, remove the old key with `ssh-keygen -R 127.0.1.3 -f {known_hosts}`"
    assert_finished(hosts, root)
    assert_untouched(faulty, root)


def test_host_down_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-host-down"
    start_clean(hosts, root)
    assert_nothing_listens("127.0.1.200", 22)
    write_inventory(tmp_path, hosts, {"ssh_hostname": "127.0.1.200"})
    write_project(tmp_path, root)

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "could not connect:")
    assert_one_paragraph(error)
    assert error.splitlines()[0] == "could not connect: `host3`: TCP connect to `127.0.1.200:22` refused"
    assert_finished(hosts, root)
    assert_untouched(hosts[FAULTY - 1], root)


def test_closed_port_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-port-closed"
    start_clean(hosts, root)
    assert_nothing_listens("127.0.1.3", 2222)
    write_inventory(tmp_path, hosts, {"ssh_port": 2222})
    write_project(tmp_path, root)

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "could not connect:")
    assert_one_paragraph(error)
    assert error.splitlines()[0] == "could not connect: `host3`: TCP connect to `127.0.1.3:2222` refused"
    assert_finished(hosts, root)
    assert_untouched(hosts[FAULTY - 1], root)


# ------------------------------------------------------------- during the run ----

SLEEP = """
server.shell(
    name="Sleep",
    commands=[StringCommand("touch " + ROOT + "/sleeping && sleep 6 && echo", HiddenValue("kill-secret"), "> /dev/null")],
    _sudo=SUDO,
)
files.put(name="After", src="payload.bin", dest=ROOT + "/after.bin", _sudo=SUDO)
"""


def test_sshd_killed_in_the_middle_of_a_run_fails_that_host_alone(lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    faulty = hosts[FAULTY - 1]
    root = "/opt/oxfault-sshd-killed"
    start_clean(hosts, root)
    write_inventory(tmp_path, hosts)
    write_project(tmp_path, root, middle=SLEEP)
    env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"}
    env.pop("PYINFRA_YES", None)

    deploy = subprocess.Popen(
        [sys.executable, "-m", "oxinfra", "inventory.py", "deploy.py", "-y"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    try:
        # Every host sleeps in the third operation: kill host3's sshd and every
        # process of the host (the pid namespace's init) while it does.
        deadline = time.monotonic() + 60
        while not faulty.path(f"{root}/sleeping").exists():
            if deploy.poll() is not None:
                raise AssertionError(f"the deploy ended before the sleep on host3:\n{deploy.communicate()}")
            assert time.monotonic() < deadline, "the deploy never reached the sleep on host3"
            time.sleep(0.05)
        killed = faulty.pid
        os.kill(killed, signal.SIGKILL)
        stdout, stderr = deploy.communicate(timeout=120)
    finally:
        if deploy.poll() is None:
            deploy.kill()
            deploy.communicate()
        for _ in range(200):
            if killed is None or not Path(f"/proc/{killed}").exists():
                break
            time.sleep(0.05)
        lab_hosts(HOSTS)  # start host3 again, on its changes so far, for the tests after this one
    run = f"exit {deploy.returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"

    assert deploy.returncode == 1, run
    error = error_paragraph(stderr, "host3", "Sleep:")
    assert_one_paragraph(error)
    command = f"touch {root}/sleeping && sleep 6 && echo *MASKED* > /dev/null"
    assert error.startswith(f"Sleep: command `{command}`: `host3`: the connection to `127.0.1.3:22` was lost while the command ran: "), error
    assert re.search(r"\[host3\]\s+Error: executed \d+ commands", stderr), run
    assert "kill-secret" not in stdout + stderr
    assert_finished(hosts, root, files=("after.bin",))
    # host3 kept what it finished and has nothing after the kill, not even a part.
    assert faulty.read_file(f"{root}/payload.bin") == PAYLOAD
    assert not faulty.path(f"{root}/after.bin").exists()
    assert leftovers(faulty, root) == []


def test_command_past_its_timeout_fails_that_host_alone(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    faulty = hosts[FAULTY - 1]
    root = "/opt/oxfault-timeout"
    start_clean(hosts, root)
    write_inventory(tmp_path, hosts)
    hang = """
server.shell(
    name="Maybe hang",
    commands=[StringCommand("sleep 347 && echo", HiddenValue("hang-secret")) if host.name == "host3" else "true"],
    _timeout=3,
)
"""
    write_project(tmp_path, root, middle=hang)

    started = time.monotonic()
    run = oxinfra("inventory.py", "deploy.py", "-y")
    took = time.monotonic() - started

    assert run.code == 1, run
    assert took < 60, f"the run waited for the hung command: {took:.1f}s"
    error = error_paragraph(run.stderr, "host3", "Maybe hang:")
    assert_one_paragraph(error)
    assert error == "Maybe hang: command `sleep 347 && echo *MASKED*`: command timed out after 3s"
    assert re.search(r"\[host3\]\s+Error: executed \d+ commands", run.stderr), run
    assert "hang-secret" not in run.stdout + run.stderr
    assert_finished(hosts, root)
    # The hung command is gone from host3 (its /proc shows only the host's processes).
    commands = [path.read_bytes() for path in faulty.path("/proc").glob("[0-9]*/cmdline")]
    assert not [command for command in commands if b"347" in command], commands
    # What host3 did before the timeout is whole; the operation after it did not run.
    assert faulty.read_file(f"{root}/payload.bin") == PAYLOAD
    assert not faulty.path(f"{root}/done").exists()


# ---------------------------------------------------------------------- sudo ----

SUDO_FIRST = 'server.shell(name="Who", commands=["mkdir -p " + ROOT + " && id -u > " + ROOT + "/uid"], _sudo=True)'


def test_sudo_without_its_password_fails_that_host_with_the_hint(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-sudo-password"
    start_clean(hosts, root)
    write_inventory(tmp_path, hosts, user="deploy2", drop=("_sudo_password",))
    write_project(tmp_path, root, before=SUDO_FIRST, sudo=True)

    run = oxinfra("inventory.py", "deploy.py", "-y")  # standard input is not a terminal

    assert run.code == 1, run
    error = error_paragraph(run.stderr, "host3", "Who:")
    assert_one_paragraph(error)
    assert error == (
        f"Who: command `mkdir -p {root} && id -u > {root}/uid`: sudo needs a password and none was given "
        "(hint: set `_sudo_password` in the host's data, or run with --same-sudo-password)"
    )
    assert_finished(hosts, root, files=("uid",))
    assert_untouched(hosts[FAULTY - 1], root)


def test_sudo_without_its_password_on_a_fact_gives_the_hint(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-sudo-password-fact"
    start_clean(hosts, root)
    write_inventory(tmp_path, hosts, user="deploy2", drop=("_sudo_password",))
    write_project(tmp_path, root, sudo=True)  # files.directory reads a fact first

    run = oxinfra("inventory.py", "deploy.py", "-y")

    assert run.code == 1, run
    assert "hint: set `_sudo_password`" in error_paragraph(run.stderr, "host3", "Dir:"), run
    assert_finished(hosts, root)


def test_the_sudo_password_never_shows_in_the_output(oxinfra, lab_hosts, tmp_path: Path) -> None:
    hosts = lab_hosts(HOSTS)
    root = "/opt/oxfault-sudo-secret"
    start_clean(hosts, root)
    write_inventory(tmp_path, hosts, user="deploy2")
    # Facts, an upload, command output and a failing command, all under sudo with the password.
    middle = """
server.shell(name="Talk", commands=["id -u; echo to stderr >&2"], _sudo=True)
server.shell(name="Fail on host3", commands=["echo failing >&2; exit 5" if host.name == "host3" else "true"], _sudo=True)
"""
    write_project(tmp_path, root, middle=middle, sudo=True)
    started = time.time()

    run = oxinfra("inventory.py", "deploy.py", "-y", "-vvv", "--debug")

    assert run.code == 1, run
    assert "failed with exit status 5: failing" in error_paragraph(run.stderr, "host3", "Fail on host3:")
    password = deploy2_password()
    assert password not in run.stdout
    assert password not in run.stderr
    assert_finished(hosts, root)
    # Nor on the hosts: not in their sshd logs, not in a file the run wrote.
    for host in hosts:
        assert password not in (state_dir() / "log" / f"{host.name}.log").read_text(errors="replace")
        for path in host.upper.rglob("*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= started - 1:
                assert password.encode() not in path.read_bytes(), path
