"""The lab as the benchmark uses it: which hosts, fresh hosts for each tool, the delay,
inventories with host data, sshd log counts per host, and the state a deploy left on a
host, read from outside it.

Everything goes through `lab/lab` except one thing: resetting only the benchmark's own
hosts (`reset_hosts`), which `lab` cannot do, so that a benchmark on hosts 13..62 leaves
hosts 1..12 (where the project's tests run) alone. It does what `lab reset` does for
every host: kill the host's namespace init, wipe its upper dir, start it again with
`lab up`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "lab" / "lab"
STATE = Path(os.environ.get("LAB_STATE", "/var/lib/lab"))
KEY = STATE / "keys" / "id_ed25519"
KNOWN_HOSTS = STATE / "known_hosts"
# The project's tests use hosts 1..11 (tests/python: test_ssh_config takes 10 targets and
# a jump host); a benchmark that fits above them, with one spare, starts at host13.
TEST_HOSTS = 12
MAX_HOSTS = 254


class LabError(Exception):
    """A lab command failed or the lab changed under the benchmark."""


def lab(*args: str, timeout: float = 600) -> str:
    result = subprocess.run([str(LAB), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise LabError(f"`lab {' '.join(args)}` exited with {result.returncode}: {(result.stdout + result.stderr)[-2000:]}")
    return result.stdout


def host_numbers(count: int) -> list[int]:
    """The lab hosts a run on `count` hosts uses: above the test hosts when they fit."""
    first = TEST_HOSTS + 1 if count + TEST_HOSTS <= MAX_HOSTS else 1
    return list(range(first, first + count))


def host_pid(number: int) -> int | None:
    try:
        pid = int((STATE / "run" / f"host{number}.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").is_dir() else None


def pids(numbers: list[int]) -> dict[int, int | None]:
    """Each host's namespace init: a change between two looks means the host restarted."""
    return {number: host_pid(number) for number in numbers}


def up(numbers: list[int]) -> None:
    lab("up", str(max(numbers)))
    missing = [number for number in numbers if host_pid(number) is None]
    if missing:
        raise LabError(f"hosts {missing} are not running after `lab up {max(numbers)}`")


def delay(milliseconds: int) -> None:
    lab("delay", str(milliseconds))


def current_delay() -> str:
    try:
        return (STATE / "delay_ms").read_text().strip() or "0"
    except OSError:
        return "0"


def foreign_sessions() -> int:
    """Established SSH connections to lab hosts: someone else's, when the benchmark runs nothing."""
    out = subprocess.run(["ss", "-Htn", "state", "established"], capture_output=True, text=True, check=False).stdout
    return sum(1 for line in out.splitlines() if re.search(r"\s127\.0\.1\.\d+:22\s", line))


def wait_quiet(limit: float, say) -> bool:
    """Waits until no SSH session to a lab host has been seen for 5 s, at most `limit` seconds."""
    deadline = time.monotonic() + limit
    quiet_since = time.monotonic()
    announced = False
    while time.monotonic() < deadline:
        if foreign_sessions():
            quiet_since = time.monotonic()
            if not announced:
                say("waiting for other SSH sessions to lab hosts to end (the project's tests?)")
                announced = True
        elif time.monotonic() - quiet_since >= 5:
            return True
        time.sleep(0.5)
    return False


def reset(numbers: list[int], say) -> str:
    """Fresh hosts: `lab reset` when the test hosts are among them, else only these hosts."""
    if min(numbers) <= TEST_HOSTS:
        quiet = wait_quiet(180, say)
        if not quiet:
            say("warning: other SSH sessions to lab hosts still open after 3 min; resetting anyway")
        lab("reset")
        up(numbers)
        return "lab reset" if quiet else "lab reset (lab busy)"
    reset_hosts(numbers)
    return "own hosts"


def reset_hosts(numbers: list[int]) -> None:
    """`lab reset` for these hosts only, under the lab's lock."""
    with open(STATE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = {number: host_pid(number) for number in numbers}
        for pid in running.values():
            if pid is not None:
                # pid 1 of the host's pid namespace: its death ends every process in it.
                os.kill(pid, signal.SIGKILL)
        for number in numbers:
            unshare = STATE / "run" / f"host{number}.unshare-pid"
            try:
                parent = int(unshare.read_text().strip())
            except (OSError, ValueError):
                parent = None
            # The overlay is mounted in the host's mount namespace: wipe only once it is gone.
            for _ in range(500):
                if parent is None or not Path(f"/proc/{parent}").is_dir():
                    break
                time.sleep(0.01)
            for name in ("upper", "work"):
                subprocess.run(["rm", "-rf", "--one-file-system", str(STATE / "hosts" / f"host{number}" / name)], check=True)
            for suffix in (".pid", ".unshare-pid"):
                (STATE / "run" / f"host{number}{suffix}").unlink(missing_ok=True)
    up(numbers)


# -- inventories ---------------------------------------------------------------------


def host_data(number: int) -> dict[str, int]:
    """The per-host data the workload's template reads."""
    return {"app_port": 8000 + number, "workers": 1 + number % 8}


def write_pyinfra_inventory(path: Path, numbers: list[int]) -> None:
    common = {"ssh_user": "root", "ssh_key": str(KEY), "ssh_known_hosts_file": str(KNOWN_HOSTS), "ssh_strict_host_key_checking": "yes"}
    lines = ["# written by bench/labhosts.py", f"_common = {common!r}", "lab = ["]
    for number in numbers:
        data = {"ssh_hostname": f"127.0.1.{number}", **host_data(number)}
        lines.append(f"    ('host{number}', {{**_common, **{data!r}}}),")
    lines.append("]")
    path.write_text("\n".join(lines) + "\n")


def write_ansible_inventory(path: Path, numbers: list[int]) -> None:
    lines = ["# written by bench/labhosts.py", "[lab]"]
    for number in numbers:
        data = " ".join(f"{key}={value}" for key, value in host_data(number).items())
        lines.append(f"host{number} ansible_host=127.0.1.{number} {data}")
    lines += [
        "",
        "[lab:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={KEY}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={KNOWN_HOSTS} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    path.write_text("\n".join(lines) + "\n")


def ssh_command(number: int, *command: str, control_path: str | None = None) -> list[str]:
    """OpenSSH to a lab host as root, never asking."""
    options = ["-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={KNOWN_HOSTS}", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"]
    if control_path:
        options += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control_path}"]
    return ["ssh", "-F", "/dev/null", "-i", str(KEY), *options, f"root@127.0.1.{number}", *command]


# -- sshd log counts -------------------------------------------------------------------

PATTERNS = {
    "connections": re.compile(rb"Accepted publickey"),
    "commands": re.compile(rb"Starting session: command"),
    "sftp": re.compile(rb"Starting session: subsystem 'sftp'|subsystem request for sftp"),
    "shells": re.compile(rb"Starting session: shell"),
}


def logs_mark(path: Path) -> None:
    """`lab logs-mark`: the size of every host's sshd log now."""
    lab("logs-mark", str(path))


def logs_count(mark: Path, numbers: list[int]) -> dict[int, dict[str, int]]:
    """What `lab logs-count` counts since the mark, per host."""
    offsets = {}
    for line in mark.read_text().splitlines():
        name, _, offset = line.rpartition(" ")
        offsets[name] = int(offset)
    counts = {}
    for number in numbers:
        log = STATE / "log" / f"host{number}.log"
        with open(log, "rb") as file:
            file.seek(offsets.get(str(log), 0))
            text = file.read()
        counts[number] = {name: len(pattern.findall(text)) for name, pattern in PATTERNS.items()}
    return counts


# -- the state a deploy left -----------------------------------------------------------

PATHS = [
    "/srv/benchapp",
    "/srv/benchapp/conf",
    "/srv/benchapp/conf/app.ini",
    "/srv/benchapp/conf/host.conf",
    "/srv/benchapp/conf/server.conf",
    "/srv/benchapp/conf/limits.conf",
    "/srv/benchapp/run.sh",
    "/srv/benchapp/current",
    "/var/log/benchapp",
    "/var/log/benchapp/app.log",
    "/etc/default/benchapp",
    "/etc/motd",
    "/etc/hosts",
    "/home/benchapp",
]
PACKAGES = ("tree", "jq")


@dataclass
class HostState:
    """What the workload manages on one host, and its digest."""

    description: dict
    digest: str


def host_state(number: int) -> HostState:
    """Reads the managed files, the user, the group and the packages through /proc/PID/root."""
    pid = host_pid(number)
    if pid is None:
        raise LabError(f"host{number} is not running")
    root = Path(f"/proc/{pid}/root")
    files = {}
    for path in PATHS:
        target = root / path.lstrip("/")
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            files[path] = None
            continue
        entry = {"mode": oct(stat.S_IMODE(info.st_mode)), "uid": info.st_uid, "gid": info.st_gid}
        if stat.S_ISLNK(info.st_mode):
            entry["link"] = os.readlink(target)
        elif stat.S_ISDIR(info.st_mode):
            entry["entries"] = sorted(os.listdir(target))
        else:
            entry["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
        files[path] = entry
    accounts = {}
    for name, database in (("passwd", "etc/passwd"), ("group", "etc/group")):
        lines = (root / database).read_text().splitlines()
        accounts[name] = [line for line in lines if line.startswith("benchapp:")]
    description = {"files": files, "accounts": accounts, "packages": installed_packages(root)}
    text = json.dumps(description, sort_keys=True)
    return HostState(description, hashlib.sha256(text.encode()).hexdigest()[:16])


def installed_packages(root: Path) -> dict[str, str | None]:
    found: dict[str, str | None] = dict.fromkeys(PACKAGES)
    status = (root / "var/lib/dpkg/status").read_text()
    for paragraph in status.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", paragraph, re.MULTILINE))
        if fields.get("Package") in found and fields.get("Status") == "install ok installed":
            found[fields["Package"]] = fields.get("Version")
    return found
