"""Faults a user causes: Ctrl-C stops new work, lets running commands end (or cuts them
after the grace period, or at a second Ctrl-C), prints the results and exits 130; a run
killed during an upload leaves no half-written target, and the next run completes it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "oxinfra", "@local", "deploy.py", "-y", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def _slow_deploy(tmp_path: Path, seconds: int) -> None:
    (tmp_path / "deploy.py").write_text(
        "from pyinfra.operations import server\n"
        f"server.shell(name='Slow', commands=['touch started && sleep {seconds} && touch finished'])\n"
        "server.shell(name='Next', commands=['touch next'])\n"
    )


def test_ctrl_c_lets_the_running_command_end_and_starts_nothing_new(tmp_path: Path) -> None:
    _slow_deploy(tmp_path, 2)
    process = _start(tmp_path, "--json")
    _wait_for(tmp_path / "started")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert (tmp_path / "finished").exists(), "the running command was cut"
    assert not (tmp_path / "next").exists(), "an operation started after Ctrl-C"
    assert "Interrupted: no new operation starts" in stderr
    assert "--> Results:" in stderr and "Interrupted by the user" in stderr
    assert '"event":"run_end"' in stdout.splitlines()[-1] and '"interrupted":true' in stdout.splitlines()[-1]


def _sleeping(marker: str) -> bool:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any(line.startswith(f"sleep {marker}") for line in listing.splitlines())


@pytest.mark.parametrize("how", ["grace period", "second ctrl-c"])
def test_running_commands_are_cut(tmp_path: Path, how: str) -> None:
    _slow_deploy(tmp_path, 47)
    process = _start(tmp_path, env={"OXINFRA_INTERRUPT_GRACE": "1" if how == "grace period" else "60"})
    _wait_for(tmp_path / "started")
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    if how == "second ctrl-c":
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 15
    assert "Stopping running commands" in stderr
    assert "stopped after Ctrl-C" in stderr
    assert not (tmp_path / "finished").exists() and not (tmp_path / "next").exists()
    time.sleep(0.2)
    assert not _sleeping("47"), "the cut command's processes were left running"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kill_copies_of(temporary: Path) -> None:
    """Kills what is still writing `temporary` (as losing power would)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(temporary).encode() in argument for argument in arguments):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def test_an_interrupted_upload_leaves_no_half_written_target(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    with source.open("wb") as file:
        for _ in range(64):
            file.write(os.urandom(4 * 1024 * 1024))
    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    temporary = target.with_name("big.bin.oxinfra-tmp")
    (tmp_path / "deploy.py").write_text(f"from pyinfra.operations import files\nfiles.put(name='Big', src='big.bin', dest='{target}')\n")
    process = _start(tmp_path)
    _wait_for(temporary)
    process.send_signal(signal.SIGKILL)
    _kill_copies_of(temporary)
    process.communicate(timeout=60)
    assert not target.exists(), "the target was written before the upload finished"
    # The next run completes it, whole.
    rerun = _start(tmp_path)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert _digest(target) == _digest(source)
    assert not temporary.exists()
