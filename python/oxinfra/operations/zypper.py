"""Packages, repositories and ``.rpm`` files with zypper, on openSUSE and SLES
(pyinfra's ``zypper`` module). Signing keys are imported with ``yum.key``, available
here as ``key`` and ``yum_key``, as in pyinfra.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain

from .yum import key as yum_key

key = yum_key


@builtin_operation("zypper.repo")
def repo(
    src,
    baseurl=None,
    present=True,
    description=None,
    enabled=True,
    gpgcheck=True,
    gpgkey=None,
    type="rpm-md",
):
    """
    Create, download or delete a ``.repo`` file in ``/etc/zypp/repos.d``.

    + src: the repository's name (the file is ``<src>.repo``), or the URL of a ``.repo`` file
    + baseurl: where the repository's packages are (when ``src`` is a name)
    + present: whether the ``.repo`` file should exist
    + description: a human-readable name for the repository (defaults to ``src``)
    + enabled: whether zypper should use the repository
    + gpgcheck: whether packages from it must carry valid signatures (``gpgcheck=1``)
    + gpgkey: URL(s) or absolute path(s) of the signing key, separated by spaces
    + type: the repository's metadata format, written as its ``type=`` line

    Names and URLs:
        Given a name, the file is written from ``baseurl``, ``description``, ``enabled``,
        ``gpgcheck``, ``gpgkey`` and ``type``. Given a URL, the file is downloaded once,
        named after the URL's last path segment, and those arguments are ignored.

    **Examples:**

    .. code:: python

        # Fetch a published repository file
        zypper.repo(
            name="Add the Kubernetes tools repository",
            src="https://download.opensuse.org/repositories/devel:kubic/openSUSE_Tumbleweed/devel:kubic.repo",
        )

        # Describe a repository directly
        zypper.repo(
            name="Add the internal mirror",
            src="internal",
            baseurl="https://mirror.example.com/leap/15.6/",
        )
    """
    return {
        "src": to_plain(src),
        "baseurl": to_plain(baseurl),
        "present": to_plain(present),
        "description": to_plain(description),
        "enabled": to_plain(enabled),
        "gpgcheck": to_plain(gpgcheck),
        "gpgkey": to_plain(gpgkey),
        "type": to_plain(type),
    }


@builtin_operation("zypper.rpm")
def rpm(src, present=True):
    """
    Install or remove the package contained in an ``.rpm`` file.

    + src: path on the host, or URL, of the ``.rpm`` file
    + present: whether the file's package should be installed

    URLs:
        A URL is downloaded to a temporary file first. Whether its package is installed
        can then only be checked while the deploy runs, and removing it (``present=False``)
        only works once an earlier run has downloaded the file.

    **Example:**

    .. code:: python

        zypper.rpm(
            name="Install a vendor's agent",
            src="https://downloads.example.com/agent-2.1.0.x86_64.rpm",
        )
    """
    return {"src": to_plain(src), "present": to_plain(present)}


@builtin_operation("zypper.update")
def update():
    """
    Upgrade every installed package with ``zypper update``, on every run, importing new
    repository keys without asking.
    """
    return {}


@builtin_operation("zypper.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    update=False,
    clean=False,
    extra_global_install_args: str | None = None,
    extra_install_args: str | None = None,
    extra_global_uninstall_args: str | None = None,
    extra_uninstall_args: str | None = None,
):
    """
    Install, remove or upgrade zypper packages.

    + packages: one package name or a list of them
    + present: ``True`` to install the packages, ``False`` to remove them
    + latest: also upgrade installed packages that name no version
    + update: run ``zypper update`` before anything else
    + clean: run ``zypper clean --all`` before anything else
    + extra_global_install_args: options for zypper itself when installing, as shell text
    + extra_install_args: further arguments for ``zypper install``, as shell text
    + extra_global_uninstall_args: options for zypper itself when removing, as shell text
    + extra_uninstall_args: further arguments for ``zypper remove``, as shell text

    Versions:
        Pin a version by writing ``<package>=<version>``.

    **Examples:**

    .. code:: python

        # Refresh everything, then install two packages
        zypper.packages(
            name="Install git and tmux",
            packages=["git", "tmux"],
            update=True,
        )

        # Keep a package at its newest version
        zypper.packages(
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
        "clean": to_plain(clean),
        "extra_global_install_args": to_plain(extra_global_install_args),
        "extra_install_args": to_plain(extra_install_args),
        "extra_global_uninstall_args": to_plain(extra_global_uninstall_args),
        "extra_uninstall_args": to_plain(extra_uninstall_args),
    }
