"""Packages with pacman, on Arch Linux (pyinfra's ``pacman`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("pacman.upgrade")
def upgrade():
    """
    Upgrade every installed package with ``pacman -Su``, on every run.
    """
    return {}


@builtin_operation("pacman.update")
def update():
    """
    Refresh the package databases with ``pacman -Sy``, on every run.
    """
    return {}


@builtin_operation("pacman.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    update=False,
    upgrade=False,
):
    """
    Install or remove pacman packages and groups.

    + packages: one package (or group) name or a list of them
    + present: ``True`` to install the packages, ``False`` to remove them
    + update: run ``pacman -Sy`` before anything else
    + upgrade: run ``pacman -Su`` before installing

    Versions:
        A pinned ``<package>=<version>`` goes to pacman as written; it never counts as
        installed, so it is installed on every run.

    Groups:
        A group counts as installed once all of its packages are, and is removed while
        any of them is still installed.

    **Example:**

    .. code:: python

        pacman.packages(
            name="Install git and the base-devel group",
            packages=["git", "base-devel"],
            update=True,
        )
    """
    return {
        "packages": to_plain(packages),
        "present": to_plain(present),
        "update": to_plain(update),
        "upgrade": to_plain(upgrade),
    }
