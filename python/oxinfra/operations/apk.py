"""Packages with apk, on Alpine Linux (pyinfra's ``apk`` module).

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("apk.upgrade")
def upgrade(available: bool = False):
    """
    Upgrade every installed package with ``apk upgrade``, on every run.

    + available: replace every package with the version the repositories offer, even an
      older one (what a move to a new Alpine release needs)
    """
    return {"available": to_plain(available)}


@builtin_operation("apk.update")
def update():
    """
    Refresh the package indexes with ``apk update``, on every run.
    """
    return {}


@builtin_operation("apk.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    update=False,
    upgrade=False,
):
    """
    Install, remove or upgrade apk packages.

    + packages: one package name or a list of them
    + present: ``True`` to install the packages, ``False`` to remove them
    + latest: also upgrade installed packages that name no version
    + update: run ``apk update`` before anything else
    + upgrade: run ``apk upgrade`` before installing

    Versions:
        Pin a version as apk does: ``<package>=<version>``.

    **Examples:**

    .. code:: python

        # Refresh the indexes, then install two packages
        apk.packages(
            name="Install git and tmux",
            packages=["git", "tmux"],
            update=True,
        )

        # Keep a package at its newest version
        apk.packages(
            name="Keep openssl up to date",
            packages=["openssl"],
            latest=True,
        )
    """
    return {
        "packages": to_plain(packages),
        "present": to_plain(present),
        "latest": to_plain(latest),
        "update": to_plain(update),
        "upgrade": to_plain(upgrade),
    }
