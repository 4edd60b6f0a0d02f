"""pytest plugin for tests on the lab's sshd hosts (`lab/`): the `lab` marker and the lab fixtures.

Loaded by `from conftest_lab import *` in conftest.py. A test that uses `lab_hosts` or
`lab_inventory` is marked `lab` by itself (`-m "not lab"` leaves them out), and is skipped
only where the machine cannot run the lab: not root, no `unshare`, or `LAB_SKIP=1`.
Anywhere else a lab that fails to build or start fails the test.

The first lab test of a session runs `lab build` (a no-op when `make lab` built it) and
stops the hosts at the end of the session if none were running before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

import lab

__all__ = ["lab_hosts", "lab_inventory", "lab_session", "pytest_collection_modifyitems", "pytest_configure", "pytest_runtest_setup"]

LAB_FIXTURES = ("lab_hosts", "lab_inventory", "lab_session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lab: runs against the lab's sshd test hosts (lab/); skipped only where the lab cannot run")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in LAB_FIXTURES):
            item.add_marker(pytest.mark.lab)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("lab") is not None:
        reason = lab.cannot_run_reason()
        if reason is not None:
            pytest.skip(reason)


class LabSession:
    """The lab for one test session: built once, hosts started on demand."""

    def __init__(self) -> None:
        lab.build()
        self.started_here = not lab.running_hosts()

    def hosts(self, count: int, fresh: bool = False) -> list[lab.LabHost]:
        if fresh:
            lab.reset()
        return lab.up(count)


@pytest.fixture(scope="session")
def lab_session() -> Iterator[LabSession]:
    reason = lab.cannot_run_reason()
    if reason is not None:
        pytest.skip(reason)
    session = LabSession()
    yield session
    if session.started_here:
        lab.down()


@pytest.fixture
def lab_hosts(lab_session: LabSession) -> Callable[..., list[lab.LabHost]]:
    """`lab_hosts(n, fresh=False)`: host1..hostN running, as `LabHost`s (address, key, known_hosts, files).

    Hosts keep their changes between tests; `fresh=True` first wipes every host's changes
    (`lab reset`), for a test that needs hosts as `lab build` made them.
    """
    return lab_session.hosts


@pytest.fixture
def lab_inventory(lab_session: LabSession) -> Callable[..., Path]:
    """`lab_inventory(tmp_path, n, user="root")`: starts host1..hostN and writes a pyinfra inventory of them.

    `user` is `root`, `deploy` (passwordless sudo) or `deploy2` (the inventory carries its
    `_sudo_password`). Returns the inventory file's path (`DIRECTORY/inventory.py`).
    """

    def write(directory: Path, count: int, user: str = "root") -> Path:
        lab_session.hosts(count)
        return lab.write_inventory(directory, count, user)

    return write
