"""Helpers for the CLI tests: run `oxinfra` in a fresh folder and read what it printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        self.code = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@pytest.fixture
def oxinfra(tmp_path: Path) -> Callable[..., Run]:
    """Runs `oxinfra ARGS` in `tmp_path` and returns its exit code and output."""

    def run(*args: str) -> Run:
        env = {**os.environ, "NO_COLOR": "1", "PYINFRA_PROGRESS": "off"}
        env.pop("PYINFRA_YES", None)
        result = subprocess.run(
            [sys.executable, "-m", "oxinfra", *args], cwd=tmp_path, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120
        )
        return Run(result)

    return run


from conftest_lab import *  # noqa: E402, F403  the `lab` marker and the lab fixtures (lab_hosts, lab_inventory)
