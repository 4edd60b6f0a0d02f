"""Packages, repositories and signing keys with yum (pyinfra's ``yum`` module). yum
matches package names case-sensitively.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("yum.key")
def key(src: str):
    """
    Import a GPG signing key into rpm's keyring with ``rpm --import``.

    + src: path on the host, or URL, of the key

    Note:
        rpm is asked to import the key on every run; the operation never reports
        "no change".

    **Example:**

    .. code:: python

        yum.key(
            name="Trust the signing key of the Grafana repository",
            src="https://rpm.grafana.com/gpg.key",
        )
    """
    return {"src": to_plain(src)}


@builtin_operation("yum.repo")
def repo(
    src: str,
    present=True,
    baseurl: str | None = None,
    description: str | None = None,
    enabled=True,
    gpgcheck=True,
    gpgkey: str | None = None,
):
    """
    Create, download or delete a ``.repo`` file in ``/etc/yum.repos.d``.

    + src: the repository's name (the file is ``<src>.repo``), or the URL of a ``.repo`` file
    + present: whether the ``.repo`` file should exist
    + baseurl: where the repository's packages are (when ``src`` is a name)
    + description: a human-readable name for the repository (defaults to ``src``)
    + enabled: whether yum should use the repository
    + gpgcheck: whether packages from it must carry valid signatures (``gpgcheck=1``)
    + gpgkey: URL(s) or absolute path(s) of the signing key, separated by spaces

    Names and URLs:
        Given a name, the file is written from ``baseurl``, ``description``, ``enabled``,
        ``gpgcheck`` and ``gpgkey``. Given a URL, the file is downloaded once, named after
        the URL's last path segment, and those arguments are ignored.

    **Examples:**

    .. code:: python

        # Fetch a published repository file
        yum.repo(
            name="Add the Grafana repository",
            src="https://rpm.grafana.com/grafana.repo",
        )

        # Describe a repository directly
        yum.repo(
            name="Add the internal mirror",
            src="internal",
            baseurl="https://mirror.example.com/el7/$basearch/",
        )
    """
    return {
        "src": to_plain(src),
        "present": to_plain(present),
        "baseurl": to_plain(baseurl),
        "description": to_plain(description),
        "enabled": to_plain(enabled),
        "gpgcheck": to_plain(gpgcheck),
        "gpgkey": to_plain(gpgkey),
    }


@builtin_operation("yum.rpm")
def rpm(src: str, present=True):
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

        yum.rpm(
            name="Install the EPEL release package",
            src="https://dl.fedoraproject.org/pub/epel/epel-release-latest-7.noarch.rpm",
        )
    """
    return {"src": to_plain(src), "present": to_plain(present)}


@builtin_operation("yum.update")
def update():
    """
    Upgrade every installed package with ``yum update``, on every run.
    """
    return {}


@builtin_operation("yum.packages")
def packages(
    packages: str | list[str] | None = None,
    present=True,
    latest=False,
    update=False,
    clean=False,
    nobest=False,
    extra_install_args: str | None = None,
    extra_uninstall_args: str | None = None,
):
    """
    Install, remove or upgrade yum packages.

    + packages: one package name or a list of them
    + present: ``True`` to install the packages, ``False`` to remove them
    + latest: also upgrade installed packages that name no version
    + update: run ``yum update`` before anything else
    + clean: run ``yum clean all`` before anything else
    + nobest: pass ``--nobest`` to the install, so yum may settle for an older version
    + extra_install_args: further arguments for ``yum install``, as shell text
    + extra_uninstall_args: further arguments for ``yum remove``, as shell text

    Versions:
        Pin a version by writing ``<package>=<version>``.

    A name counts as installed when every package that provides it is installed.

    **Examples:**

    .. code:: python

        # Refresh everything, then install two packages
        yum.packages(
            name="Install git and tmux",
            packages=["git", "tmux"],
            update=True,
        )

        # Keep a package at its newest version
        yum.packages(
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
        "nobest": to_plain(nobest),
        "extra_install_args": to_plain(extra_install_args),
        "extra_uninstall_args": to_plain(extra_uninstall_args),
    }
