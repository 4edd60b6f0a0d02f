"""`@docker`, `@podman`, `@dockerssh` and `@podmanssh` on the machine's real engines.

Nothing can be pulled here, so the base image `oxinfra-lab-base` is imported from the
lab's Debian root (`/var/lib/lab/base`, with the lab's offline apt repository copied to
`/srv/lab-repo`, where the base's sources point) and kept between runs; it is imported
again when the lab's base changes. Every other image and container a test makes is
removed at its end.

Skipped, with the reason, where the tool is missing or its engine does not answer, or
where the lab cannot run (it builds the base).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

import lab

BASE_IMAGE = "oxinfra-lab-base"
LABEL = "oxinfra.lab-base"

DEPLOY = """
from pyinfra import host
from pyinfra.operations import apt, files, server

files.directory(name="Dir", path="/opt/oxtest/conf", mode="750")
files.put(name="Put", src="motd", dest="/opt/oxtest/motd", mode="640")
flag = files.file(name="Flag", path="/opt/oxtest/ready", mode="600", user="nobody")
files.line(name="Line", path="/opt/oxtest/settings", line="debug=true")
server.shell(
    name="Shell",
    commands=["echo shell-ran > /opt/oxtest/shell", "pwd > /opt/oxtest/where && echo $GREETING >> /opt/oxtest/where"],
    _chdir="/opt/oxtest/conf",
    _env={"GREETING": "hello there"},
    _if=flag.did_change,
)
server.shell(name="As deploy", commands=["id -un > /tmp/oxtest-who"], _sudo=True, _sudo_user="deploy", _if=flag.did_change)
apt.packages(name="Tree", packages=["tree"])
files.get(name="Get", src="/opt/oxtest/motd", dest="fetched.motd")
"""


def tool_reason(tool: str) -> str | None:
    """Why `tool` cannot run containers here, or None."""
    if shutil.which(tool) is None:
        return f"`{tool}` is not installed"
    probe = subprocess.run([tool, "info"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    if probe.returncode != 0:
        return f"`{tool} info` failed: {probe.stderr.strip()[-300:]}"
    return lab.cannot_run_reason()


def tool_env(tool: str, tmp_path: Path) -> dict[str, str]:
    """The environment for `tool`. Podman sets a high open-files limit in every container
    by default, which a machine without CAP_SYS_RESOURCE (this one, itself a container)
    refuses; an empty `default_ulimits` keeps the machine's own."""
    env = {**os.environ, "NO_COLOR": "1"}
    if tool == "podman":
        conf = tmp_path / "containers.conf"
        conf.write_text("[containers]\ndefault_ulimits = []\n")
        env["CONTAINERS_CONF"] = str(conf)
    return env


def run(tool: str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([tool, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"`{tool} {' '.join(args)}` exited with {result.returncode}: {result.stderr}")
    return result


def lab_base_stamp() -> str:
    stamp = lab.state_dir() / "stamps" / "config"
    return stamp.read_text().strip() if stamp.exists() else "unknown"


def ensure_base_image(tool: str, env: dict[str, str]) -> None:
    """Imports the lab's base as `oxinfra-lab-base` unless the same base is there already."""
    lab.build()
    stamp = lab_base_stamp()
    with open(f"/tmp/oxinfra-{tool}-lab-base.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inspect = run(tool, "image", "inspect", "--format", "{{json .Config.Labels}}", BASE_IMAGE, env=env, check=False)
        if inspect.returncode == 0 and (json.loads(inspect.stdout or "null") or {}).get(LABEL) == stamp:
            return
        state = lab.state_dir()
        tar = subprocess.Popen(
            ["tar", "-C", str(state), "--transform", "s,^base/,,;s,^repo/,srv/lab-repo/,", "-cf", "-", "base/", "repo/"],
            stdout=subprocess.PIPE,
        )
        imported = subprocess.run(
            [tool, "import", "--change", f"LABEL {LABEL}={stamp}", "-", BASE_IMAGE], stdin=tar.stdout, capture_output=True, text=True, env=env, timeout=600
        )
        tar.wait()
        assert imported.returncode == 0, imported.stderr


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(tool, environment) with the base image in place; removes the images and
    containers the test made."""
    tool: str = request.param
    reason = tool_reason(tool)
    if reason is not None:
        pytest.skip(reason)
    env = tool_env(tool, tmp_path)
    ensure_base_image(tool, env)
    before = set(run(tool, "images", "-q", "--no-trunc", env=env).stdout.split())
    yield tool, env
    for container in run(tool, "ps", "-aq", "--filter", "name=oxinfra-", env=env).stdout.split():
        run(tool, "rm", "-f", container, env=env, check=False)
    for image in set(run(tool, "images", "-q", "--no-trunc", env=env).stdout.split()) - before:
        run(tool, "rmi", "-f", image, env=env, check=False)


def oxinfra_in(tmp_path: Path, env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    def call(*args: str) -> subprocess.CompletedProcess[str]:
        import sys

        return subprocess.run(
            [sys.executable, "-m", "oxinfra", *args], cwd=tmp_path, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=300
        )

    return call


def write_project(folder: Path) -> None:
    (folder / "deploy.py").write_text(DEPLOY)
    (folder / "motd").write_text("hello from a container\n")


def changed(stderr: str) -> list[str]:
    return re.findall(r"\[(@[^\]]+)\]\s+Success", stderr)


def built_image(stderr: str, tool: str) -> str:
    found = re.findall(rf"{tool} build complete, image ID: ([0-9a-f]{{12}})", stderr)
    assert len(found) == 1, stderr
    return found[0]


def check_files(reader: Callable[[str], str]) -> None:
    """What the deploy made, read with `reader(shell command)` from outside the deploy."""
    assert reader("cat /opt/oxtest/motd") == "hello from a container\n"
    assert reader("stat -c '%a %U' /opt/oxtest/motd /opt/oxtest/conf /opt/oxtest/ready") == "640 root\n750 root\n600 nobody\n"
    assert reader("cat /opt/oxtest/settings") == "debug=true\n"
    assert reader("cat /opt/oxtest/shell /opt/oxtest/where") == "shell-ran\n/opt/oxtest/conf\nhello there\n"
    assert reader("cat /tmp/oxtest-who") == "deploy\n"
    assert reader("tree --version").startswith("tree v2")
    assert reader("ls -a /opt/oxtest | grep -c oxinfra-tmp || true") == "0\n"


def test_image_deploy_twice_commits_images_and_second_run_changes_nothing(engine: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    tool, env = engine
    write_project(tmp_path)
    oxinfra = oxinfra_in(tmp_path, env)

    first = oxinfra(f"@{tool}/{BASE_IMAGE}", "deploy.py", "-y")
    assert first.returncode == 0, first.stderr
    assert len(changed(first.stderr)) == 8, first.stderr
    image = built_image(first.stderr, tool)
    check_files(lambda command: run(tool, "run", "--rm", image, "sh", "-c", command, env=env).stdout)
    assert (tmp_path / "fetched.motd").read_text() == "hello from a container\n"
    assert run(tool, "ps", "-aq", "--filter", "name=oxinfra-", env=env).stdout == ""

    second = oxinfra(f"@{tool}/{image}", "deploy.py", "-y")
    assert second.returncode == 0, second.stderr
    assert changed(second.stderr) == [], second.stderr
    assert built_image(second.stderr, tool) != image


def test_running_container_is_used_and_left_running(engine: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    tool, env = engine
    write_project(tmp_path)
    oxinfra = oxinfra_in(tmp_path, env)
    name = f"oxinfra-test-{uuid.uuid4().hex[:8]}"
    run(tool, "run", "-d", "--name", name, BASE_IMAGE, "tail", "-f", "/dev/null", env=env)
    images_before = run(tool, "images", "-q", env=env).stdout

    first = oxinfra(f"@{tool}/{name}", "deploy.py", "-y")
    assert first.returncode == 0, first.stderr
    assert f"{tool} build complete, container left running: {name}" in first.stderr
    second = oxinfra(f"@{tool}/{name}", "deploy.py", "-y")
    assert second.returncode == 0, second.stderr
    assert changed(second.stderr) == [], second.stderr

    assert run(tool, "inspect", "--format", "{{.State.Running}}", name, env=env).stdout.strip() == "true"
    check_files(lambda command: run(tool, "exec", name, "sh", "-c", command, env=env).stdout)
    assert run(tool, "images", "-q", env=env).stdout == images_before


def test_sudo_password_reaches_sudo_inside_the_container_and_its_helper_goes(engine: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    tool, env = engine
    oxinfra = oxinfra_in(tmp_path, env)
    name = f"oxinfra-test-{uuid.uuid4().hex[:8]}"
    # As `deploy2`, whose sudo asks for a password.
    run(tool, "run", "-d", "--user", "deploy2", "--name", name, BASE_IMAGE, "tail", "-f", "/dev/null", env=env)
    password = lab.deploy2_password()
    (tmp_path / "deploy.py").write_text(
        f"from pyinfra.operations import server\nserver.shell(name='Root', commands=['id -un > /tmp/oxtest-sudo'], _sudo=True, _sudo_password={password!r})\n"
    )
    result = oxinfra(f"@{tool}/{name}", "deploy.py", "-y")
    assert result.returncode == 0, result.stderr
    assert password not in result.stderr + result.stdout
    assert run(tool, "exec", name, "cat", "/tmp/oxtest-sudo", env=env).stdout == "root\n"
    assert run(tool, "exec", name, "sh", "-c", "ls /tmp | grep -c oxinfra-askpass || true", env=env).stdout == "0\n"


def test_missing_image_fails_naming_host_and_image(engine: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    tool, env = engine
    (tmp_path / "deploy.py").write_text("from pyinfra.operations import server\nserver.shell(commands=['true'])\n")
    result = oxinfra_in(tmp_path, env)(f"@{tool}/oxinfra-no-such-image", "deploy.py", "-y")
    assert result.returncode != 0, result.stderr
    expected = f"could not connect: `@{tool}/oxinfra-no-such-image`: {tool}: image `oxinfra-no-such-image` not found: "
    assert expected in result.stderr, result.stderr
    assert run(tool, "ps", "-aq", "--filter", "name=oxinfra-", env=env).stdout == ""


# Over SSH: a private sshd on 127.0.0.1, logged in as root, runs the tool on this machine.


@pytest.fixture
def sshd(engine: tuple[str, dict[str, str]], tmp_path: Path) -> Iterator[dict[str, object]]:
    """A private `sshd` on a free port of 127.0.0.1, and the host data to reach it. Its
    sessions get the engine's `CONTAINERS_CONF` (see `tool_env`)."""
    import socket
    import time

    if os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists():
        pytest.skip("the @dockerssh tests log in as root to a private /usr/sbin/sshd: need root and openssh-server")
    folder = tmp_path / "sshd"
    folder.mkdir()
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True)
    shutil.copy(folder / "client.pub", folder / "authorized_keys")
    (folder / "sshd_config").write_text(
        f"HostKey {folder / 'host'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile none\nStrictModes no\nUsePAM no\n"
        "PermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
        + (f"SetEnv CONTAINERS_CONF={engine[1]['CONTAINERS_CONF']}\n" if "CONTAINERS_CONF" in engine[1] else "")
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(folder / "sshd.log", "w") as log:
        server = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(folder / "sshd_config"), "-p", str(port), "-o", "ListenAddress=127.0.0.1"],
            stdin=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        host_key = (folder / "host.pub").read_text().split()[:2]
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
        yield {
            "ssh_port": port,
            "ssh_user": "root",
            "ssh_key": str(folder / "client"),
            "ssh_known_hosts_file": str(folder / "known_hosts"),
            "ssh_strict_host_key_checking": "yes",
        }
        server.kill()
        server.wait()


def test_image_deploy_over_ssh_commits_on_the_ssh_host(engine: tuple[str, dict[str, str]], sshd: dict[str, object], tmp_path: Path) -> None:
    tool, env = engine
    write_project(tmp_path)
    name = f"@{tool}ssh/127.0.0.1:{BASE_IMAGE}"
    (tmp_path / "inventory.py").write_text(f"hosts = [({name!r}, {sshd!r})]\n")
    result = oxinfra_in(tmp_path, env)("inventory.py", "deploy.py", "-y")
    assert result.returncode == 0, result.stderr
    assert len(changed(result.stderr)) == 8, result.stderr
    image = built_image(result.stderr, tool)
    check_files(lambda command: run(tool, "run", "--rm", image, "sh", "-c", command, env=env).stdout)
    assert (tmp_path / "fetched.motd").read_text() == "hello from a container\n"
