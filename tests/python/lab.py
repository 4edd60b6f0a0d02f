"""The project's lab (`lab/`) seen from the tests: start hosts, read their files from outside, write inventories.

Plain functions and classes with no pytest in them; `conftest_lab.py` turns them into
fixtures. Everything goes through the `lab/lab` script, which keeps the state in
`$LAB_STATE` (default `/var/lib/lab`) and serialises concurrent callers with a lock.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

LAB_SCRIPT = Path(__file__).resolve().parents[2] / "lab" / "lab"
DEPLOY2_PASSWORD_DEFAULT = "deploy2-sudo-pw"
USERS = ("root", "deploy", "deploy2")


def state_dir() -> Path:
    return Path(os.environ.get("LAB_STATE", "/var/lib/lab"))


def deploy2_password() -> str:
    """The sudo password of `deploy2`, as `lab build` set it."""
    return os.environ.get("LAB_DEPLOY2_PASSWORD", DEPLOY2_PASSWORD_DEFAULT)


def cannot_run_reason() -> str | None:
    """Why this machine cannot run the lab, or None when it can.

    Only these make lab tests skip; anything that goes wrong after this is a failure.
    """
    if os.environ.get("LAB_SKIP") == "1":
        return "lab tests skipped: LAB_SKIP=1"
    if os.geteuid() != 0:
        return "lab tests need root (the lab mounts overlays and makes namespaces)"
    if shutil.which("unshare") is None:
        return "lab tests need `unshare` (util-linux) to make the hosts' namespaces"
    return None


class LabError(Exception):
    """A `lab` command failed; carries its command line and output."""


def run_lab(*args: str, timeout: float = 600) -> str:
    """Runs `lab/lab ARGS` and returns its stderr (where it logs); raises `LabError` on failure."""
    command = [str(LAB_SCRIPT), *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise LabError(f"`{' '.join(command)}` did not finish in {timeout:.0f} s") from error
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise LabError(f"`{' '.join(command)}` exited with {result.returncode}:\n{tail}")
    return result.stderr


def running_hosts() -> list[int]:
    """Numbers of the hosts whose namespace init is alive, sorted."""
    run = state_dir() / "run"
    numbers = []
    for pid_file in run.glob("host*.pid") if run.is_dir() else []:
        name = pid_file.name[len("host") : -len(".pid")]
        if not name.isdigit():
            continue
        pid = pid_file.read_text().strip()
        if pid and Path(f"/proc/{pid}").is_dir():
            numbers.append(int(name))
    return sorted(numbers)


@dataclass(frozen=True)
class LabHost:
    """One lab host: `hostN`, an sshd on `127.0.1.N:22`."""

    number: int

    @property
    def name(self) -> str:
        return f"host{self.number}"

    @property
    def address(self) -> str:
        return f"127.0.1.{self.number}"

    port = 22

    @property
    def key(self) -> Path:
        """The client key accepted for `root`, `deploy` and `deploy2` on every host."""
        return state_dir() / "keys" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        """known_hosts listing every host's key under its address and its name."""
        return state_dir() / "known_hosts"

    @property
    def upper(self) -> Path:
        """The host's overlay upper dir: only what changed on it since the last reset."""
        return state_dir() / "hosts" / self.name / "upper"

    @property
    def pid(self) -> int:
        """Pid of the host's sshd, pid 1 of its namespaces; raises when the host is down."""
        pid_file = state_dir() / "run" / f"{self.name}.pid"
        pid = pid_file.read_text().strip() if pid_file.exists() else ""
        if not pid or not Path(f"/proc/{pid}").is_dir():
            raise LabError(f"{self.name} is not running")
        return int(pid)

    @property
    def root(self) -> Path:
        """The host's `/` as it sees it, through its sshd's `/proc/PID/root`."""
        return Path(f"/proc/{self.pid}/root")

    def path(self, path: str, follow: bool = False) -> Path:
        """Where `path` of this host is, seen from outside.

        Symlinks on the way are resolved inside the host (an absolute target means the
        host's `/`, not ours); the last component is followed only with `follow`, so
        `os.readlink` and `lstat` on the result see the link itself.
        """
        return _resolve_in_root(self.root, path, follow)

    def read_file(self, path: str) -> bytes:
        """The content of the host's file `path`, following symlinks inside the host."""
        return self.path(path, follow=True).read_bytes()

    def read_text(self, path: str) -> str:
        return self.read_file(path).decode()

    def ssh_command(self, user: str = "root", *command: str) -> list[str]:
        """An OpenSSH client command line for this host that fails rather than asks."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=10",
            "-p",
            str(self.port),
            f"{user}@{self.address}",
            *command,
        ]


def _resolve_in_root(root: Path, path: str, follow: bool) -> Path:
    parts = [part for part in PurePosixPath("/", path).parts[1:] if part not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        is_last = not parts
        try:
            is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except FileNotFoundError:
            is_link = False
        if is_link and (follow or not is_last):
            hops += 1
            if hops > 40:
                raise OSError(f"too many levels of symbolic links in {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in PurePosixPath(target).parts if p not in ("/", "", ".")] + parts
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def build() -> None:
    """`lab build`: a no-op when the cached build is current (CI runs `make lab` first)."""
    run_lab("build", timeout=1800)


def up(count: int) -> list[LabHost]:
    """Ensures host1..host`count` are running and returns them; hosts already up are left as they are."""
    run_lab("up", str(count), timeout=300)
    return [LabHost(number) for number in range(1, count + 1)]


def reset() -> None:
    """Wipes every host's changes (upper dirs) and restarts the hosts that were running."""
    run_lab("reset", timeout=300)


def down() -> None:
    run_lab("down", timeout=120)


def write_inventory(directory: Path, count: int, user: str = "root", name: str = "inventory.py") -> Path:
    """Writes a pyinfra inventory of host1..host`count` logging in as `user`, returns its path.

    Group `lab_hosts`; each host has `ssh_hostname`, `ssh_user`, `ssh_key`,
    `ssh_known_hosts_file`, `ssh_strict_host_key_checking="yes"`, and for `deploy2` the
    `_sudo_password` its sudo asks for.
    """
    if user not in USERS:
        raise ValueError(f"lab user must be one of {', '.join(USERS)}, not `{user}`")
    data = {
        "ssh_user": user,
        "ssh_key": str(state_dir() / "keys" / "id_ed25519"),
        "ssh_known_hosts_file": str(state_dir() / "known_hosts"),
        "ssh_strict_host_key_checking": "yes",
    }
    if user == "deploy2":
        data["_sudo_password"] = deploy2_password()
    lines = [f"# lab hosts 1..{count} as {user}, written by tests/python/lab.py", f"_data = {data!r}", "lab_hosts = ["]
    lines += [f"    ({f'host{n}'!r}, {{'ssh_hostname': {f'127.0.1.{n}'!r}, **_data}})," for n in range(1, count + 1)]
    lines.append("]")
    path = directory / name
    path.write_text("\n".join(lines) + "\n")
    return path
