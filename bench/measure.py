"""Running one tool once and measuring the controller: wall time, CPU (user + sys) of the
whole process tree, the largest process's peak RSS and the tree's peak PSS.

While a tool runs the harness is a child subreaper, so processes a tool leaves behind (Ansible's
`ControlPersist` masters detach from it) become the harness's children instead of
init's: after the tool exits they are ended (by pid) and reaped, and their CPU counts
too. Every CPU second of the tree reaches the harness through `wait4`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def subreaper(on: bool) -> None:
    """Only while a tool runs: lab hosts started by `lab up` must go to init, not to us."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


@dataclass
class Measurement:
    """One run of one tool."""

    exit_code: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mib: float
    tree_pss_mib: float
    leftovers: int = 0
    timed_out: bool = False
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                text = file.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the ppid follows the last ')'
        after = text[text.rfind(b")") + 2 :].split()
        parents[int(entry.name)] = int(after[1])
    return parents


def descendants(root: int) -> list[int]:
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as file:
            for line in file:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _PssSampler(threading.Thread):
    """The peak, over samples, of the summed PSS of every process under the harness."""

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.is_set():
            total = sum(_pss_kib(pid) for pid in descendants(me))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(self.interval)


def run(command: list[str], cwd: Path, out: Path, err: Path, env: dict[str, str] | None = None, timeout: float = 3600, sample: float = 0.5) -> Measurement:
    """Runs `command` to its end and measures it (the harness must run nothing else meanwhile)."""
    sampler = _PssSampler(sample)
    before = set(descendants(os.getpid()))
    subreaper(True)
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        sampler.start()
        expired = threading.Event()
        timer = threading.Timer(timeout, lambda: (expired.set(), _kill_group(process.pid)))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    user, system, max_rss = usage.ru_utime, usage.ru_stime, usage.ru_maxrss
    leftovers = 0
    # What the tool left running (adopted by us as subreaper): end it, reap it, count it.
    for pid in set(descendants(os.getpid())) - before:
        try:
            os.kill(pid, signal.SIGTERM)
            leftovers += 1
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while leftovers and time.monotonic() < deadline:  # until no child is left
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)
            continue
        user, system, max_rss = user + usage.ru_utime, system + usage.ru_stime, max(max_rss, usage.ru_maxrss)
    subreaper(False)
    sampler.done.set()
    sampler.join()
    tail = err.read_text(errors="replace").splitlines()[-15:] if process.returncode else []
    return Measurement(
        exit_code=process.returncode,
        wall_s=wall,
        user_s=user,
        sys_s=system,
        max_rss_mib=max_rss / 1024,
        tree_pss_mib=sampler.peak_kib / 1024,
        leftovers=leftovers,
        timed_out=expired.is_set(),
        stderr_tail=tail,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def load_average() -> float:
    return os.getloadavg()[0]


def own_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
