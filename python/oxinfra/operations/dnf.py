"""Packages, repositories, signing keys and module streams with dnf (pyinfra's ``dnf``
module). dnf matches package names case-sensitively.

Each function has pyinfra 3.10's signature and hands its arguments, as plain data, to the
Rust planner of the same name.
"""

from __future__ import annotations

from oxinfra.api.operation import builtin_operation
from oxinfra.api.util import to_plain


@builtin_operation("dnf.key")
def key(src: str):
    """
    Import a GPG signing key into rpm's keyring with ``rpm --import``.

    + src: path on the host, or URL, of the key

    Note:
        rpm is asked to import the key on every run; the operation never reports
        "no change".

    **Example:**

    .. code:: python

        dnf.key(
            name="Trust the signing key of the Grafana repository",
            src="https://rpm.grafana.com/gpg.key",
        )
    """
    return {"src": to_plain(src)}


@builtin_operation("dnf.repo")
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
    + enabled: whether dnf should use the repository
    + gpgcheck: whether packages from it must carry valid signatures (``gpgcheck=1``)
    + gpgkey: URL(s) or absolute path(s) of the signing key, separated by spaces

    Names and URLs:
        Given a name, the file is written from ``baseurl``, ``description``, ``enabled``,
        ``gpgcheck`` and ``gpgkey``. Given a URL, the file is downloaded once, named after
        the URL's last path segment, and those arguments are ignored.

    **Examples:**

    .. code:: python

        # Fetch a published repository file
        dnf.repo(
            name="Add the Grafana repository",
            src="https://rpm.grafana.com/grafana.repo",
        )

        # Describe a repository directly
        dnf.repo(
            name="Add the internal mirror",
            src="internal",
            baseurl="https://mirror.example.com/el9/$basearch/",
            gpgkey="https://mirror.example.com/RPM-GPG-KEY-internal",
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


@builtin_operation("dnf.rpm")
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

        dnf.rpm(
            name="Install the EPEL release package",
            src="https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
        )
    """
    return {"src": to_plain(src), "present": to_plain(present)}


@builtin_operation("dnf.update")
def update():
    """
    Upgrade every installed package with ``dnf update``, on every run.
    """
    return {}


@builtin_operation("dnf.packages")
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
    Install, remove or upgrade dnf packages.

    + packages: one package name or a list of them
    + present: ``True`` to install the packages, ``False`` to remove them
    + latest: also upgrade installed packages that name no version
    + update: run ``dnf update`` before anything else
    + clean: run ``dnf clean all`` before anything else
    + nobest: pass ``--nobest`` to the install, so dnf may settle for an older version
    + extra_install_args: further arguments for ``dnf install``, as shell text
    + extra_uninstall_args: further arguments for ``dnf remove``, as shell text

    Versions:
        Pin a version by writing ``<package>=<version>``.

    A name counts as installed when any package that provides it is installed.

    **Examples:**

    .. code:: python

        # Refresh everything, then install two packages
        dnf.packages(
            name="Install git and tmux",
            packages=["git", "tmux"],
            update=True,
        )

        # Keep a package at its newest version
        dnf.packages(
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


@builtin_operation("dnf.module")
def module(module: str, stream: str | None = None, enabled: bool = True):
    """
    Enable one stream of a dnf module, or disable the module.

    + module: the module's name
    + stream: the stream to enable; needed when ``enabled=True``, unused otherwise
    + enabled: ``True`` to enable ``stream``, ``False`` to disable every stream of the module

    Changing streams:
        A module has at most one enabled stream. dnf will not move to another stream
        while packages of the current one are installed: remove them (or
        ``dnf module reset`` the module) first.

    **Examples:**

    .. code:: python

        dnf.module(
            name="Use Node.js 20",
            module="nodejs",
            stream="20",
        )

        dnf.module(
            name="Turn the php module off",
            module="php",
            enabled=False,
        )
    """
    return {"module": to_plain(module), "stream": to_plain(stream), "enabled": to_plain(enabled)}
