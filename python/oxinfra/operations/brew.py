"""Homebrew on macOS (pyinfra's ``brew`` module, https://brew.sh/): updates, formulae,
casks, taps and ``brew trust``.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain

if TYPE_CHECKING:
    from oxinfra.facts.brew import BrewItemKind


@builtin_operation("brew.update")
def update():
    """
    Fetch the newest Homebrew and formula definitions (``brew update``), on every deploy.
    """
    return {}


@builtin_operation("brew.upgrade")
def upgrade():
    """
    Upgrade every outdated formula (``brew upgrade``), on every deploy.
    """
    return {}


@builtin_operation("brew.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    update=False,
    upgrade=False,
):
    """
    Install or uninstall formulae, and optionally keep them upgraded.

    + packages: one formula or a list of them
    + present: whether the formulae should be installed
    + latest: also upgrade installed formulae that are not pinned to a version
    + update: run ``brew update`` first
    + upgrade: run ``brew upgrade`` first

    Versions:
        Pin a version the way Homebrew names versioned formulae: ``<name>@<version>``.

    **Examples:**

    .. code:: python

        brew.packages(
            name="Install the command-line tools",
            packages=["jq", "ripgrep"],
            update=True,
        )

        brew.packages(
            name="Keep Node.js 22 up to date",
            packages=["node@22"],
            latest=True,
        )
    """
    return {"packages": to_plain(packages), "present": present, "latest": latest, "update": update, "upgrade": upgrade}


@builtin_operation("brew.cask_upgrade")
def cask_upgrade():
    """
    Upgrade every outdated cask, on every deploy.
    """
    return {}


@builtin_operation("brew.casks")
def casks(
    casks: str | list[str] | None = None,
    present=True,
    latest=False,
    upgrade=False,
):
    """
    Install or uninstall casks, and optionally keep them upgraded.

    + casks: one cask or a list of them
    + present: whether the casks should be installed
    + latest: also upgrade installed casks that are not pinned to a version
    + upgrade: upgrade every outdated cask first

    Versions:
        Pin a version as for formulae: ``<name>@<version>``.

    Homebrew before 2.6 spells the commands ``brew cask install``; the installed
    version decides which form is used.

    **Example:**

    .. code:: python

        brew.casks(
            name="Install and keep Firefox current",
            casks=["firefox"],
            upgrade=True,
            latest=True,
        )
    """
    return {"casks": to_plain(casks), "present": present, "latest": latest, "upgrade": upgrade}


@builtin_operation("brew.tap")
def tap(
    src: str | None = None,
    present: bool = True,
    trusted: bool | None = False,
    url: str | None = None,
):
    """
    Add or remove a tap, and trust or distrust it.

    + src: the tap, as ``user/repository``
    + present: whether the tap should be there
    + trusted: whether the tap should be trusted (``brew trust``)
    + url: the Git URL to clone the tap from; see https://docs.brew.sh/Taps

    Without ``src`` the tap is named after the path of ``url``. A name that is not two
    parts separated by a slash, or a call with neither, changes nothing.

    **Examples:**

    .. code:: python

        brew.tap(
            name="Add the HashiCorp tap",
            src="hashicorp/tap",
            trusted=True,
        )

        # Named "acme/tools" after the URL's path.
        brew.tap(
            name="Add the company tap",
            url="https://git.example.com/acme/tools",
        )
    """
    return {"src": to_plain(src), "present": present, "trusted": trusted, "url": to_plain(url)}


@builtin_operation("brew.trust")
def trust(items: str | list[str], kind: BrewItemKind, trusted: bool):
    """
    Trust or untrust casks, external commands, formulae or taps (``brew trust``, see
    https://docs.brew.sh/Tap-Trust).

    + items: one name or a list of names, all of the same kind
    + kind: what the items are: ``BrewItemKind.CASK``, ``COMMAND``, ``FORMULA`` or ``TAP``
    + trusted: whether the items should be trusted; required

    **Example:**

    .. code:: python

        from pyinfra.facts.brew import BrewItemKind

        brew.trust(
            name="Trust the HashiCorp tap",
            items="hashicorp/tap",
            kind=BrewItemKind.TAP,
            trusted=True,
        )
    """
    kind_value = kind.value if isinstance(kind, Enum) else kind
    return {"items": to_plain(items), "kind": to_plain(kind_value), "trusted": trusted}
